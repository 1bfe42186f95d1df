import type { Logger } from 'pino';
import type {
  AuthenticateRequest,
  AuthResult,
  BrokerHooks,
  ClientInfo,
} from '../broker/options.js';
import { ReasonCode } from '../protocol/constants.js';
import type { Subscription } from '../protocol/packets.js';
import { verifyBcrypt } from './bcrypt-hash.js';
import { ClientAcl, type ClientAclRows, ClientAclStore } from './database-acl.js';
import { type HashLimiter, HashQueueFullError, sharedHashLimiter } from './hash-limiter.js';
import type { MysqlAuthBackend } from './mysql-backend.js';
import { verifyPbkdf2 } from './pbkdf2-hash.js';
import type { PluginAuth } from './plugin-auth.js';
import { PluginAuthCounters } from './plugin-auth-counters.js';
import type { MysqlAuthSettings } from './plugin-options.js';

/** Access numbers of the plugin API (MOSQ_ACL_READ / WRITE / SUBSCRIBE). */
const READ = 1;
const WRITE = 2;

/**
 * Hooks answering CONNECT, PUBLISH, SUBSCRIBE and deliveries from a MySQL
 * backend, with the plugins' semantics: a user is authenticated when the user
 * query's hash matches the password; superusers bypass the ACL; otherwise a
 * topic is allowed when one of the ACL query's filters (after `%c`/`%u`
 * substitution) matches it. The ACL rows are read at CONNECT (deliveries must
 * be judged synchronously) and re-read in the background once older than
 * `aclCacheSeconds`. A database that cannot answer refuses the CONNECT with
 * "server unavailable" and never throws into the broker. Hash checks go
 * through `hashLimiter` (process-wide by default): beyond its queue a CONNECT
 * is refused with "server unavailable" too.
 */
export function createDatabaseAuth(
  settings: MysqlAuthSettings,
  backend: MysqlAuthBackend,
  logger?: Logger,
  hashLimiter: HashLimiter = sharedHashLimiter,
): PluginAuth {
  let log = logger;
  const stats = new PluginAuthCounters();
  const store = new ClientAclStore();
  const ttl = Math.max(1, settings.aclCacheSeconds) * 1000;
  const sweep = setInterval(() => store.sweep(Date.now() - 60_000), 60_000);
  sweep.unref();

  const failed = (err: unknown, what: string, username: string | undefined): void => {
    stats.error();
    log?.warn(
      { err, username },
      `database authentication: ${what} failed: ${(err as Error).message}`,
    );
  };

  const queryName = (username: string | undefined) => username ?? settings.anonymousUsername;

  const readRows = async (username: string): Promise<ClientAclRows> => {
    const static_ = settings.superusers?.test(username) === true;
    const sub = settings.subscribeAccess;
    const [superuser, read, write, subscribe] = await Promise.all([
      static_ ? true : backend.isSuperuser(username),
      backend.aclFilters(username, READ),
      backend.aclFilters(username, WRITE),
      sub === READ ? undefined : backend.aclFilters(username, sub),
    ]);
    return { superuser, read, write, subscribe: subscribe ?? read };
  };

  const load = async (clientId: string, username: string | undefined): Promise<ClientAcl> => {
    const acl = new ClientAcl(
      username,
      settings.aclQuery === undefined && settings.allowWithoutAclQuery,
      settings.denySpecialChars,
    );
    const name = queryName(username);
    acl.set(await readRows(name), clientId, name, Date.now());
    return acl;
  };

  /** Re-reads stale rows in the background; the old rows answer meanwhile. */
  const freshen = (acl: ClientAcl, client: ClientInfo): void => {
    if (acl.refreshing || Date.now() - acl.loadedAt < ttl) return;
    acl.refreshing = true;
    const name = queryName(client.username);
    readRows(name).then(
      (rows) => {
        acl.refreshing = false;
        acl.set(rows, client.clientId, name, Date.now());
      },
      (err) => {
        acl.refreshing = false;
        acl.loadedAt = Date.now(); // retry after another period, not on every message
        failed(err, 'ACL refresh', client.username);
      },
    );
  };

  /** The client's ACL, loading it when the CONNECT did not (e.g. the password file authenticated it). */
  const aclOf = (client: ClientInfo): ClientAcl | Promise<ClientAcl | undefined> => {
    const have = store.get(client);
    if (have !== undefined) {
      freshen(have, client);
      return have;
    }
    return store.getOrLoad(
      client,
      () => load(client.clientId, client.username),
      (err) => failed(err, 'ACL lookup', client.username),
    );
  };

  const h = settings.hasher;
  const check = (password: Buffer, stored: string) => (): Promise<boolean> =>
    h.kind === 'bcrypt'
      ? verifyBcrypt(password, stored)
      : verifyPbkdf2(password, stored, h.saltEncoding, h.dialect);
  const verify = (password: Buffer, stored: string): Promise<boolean> =>
    hashLimiter.run(check(password, stored));

  const hooks: BrokerHooks = {
    async authenticate(req: AuthenticateRequest): Promise<AuthResult> {
      const username = req.username;
      // No user name: nothing to look up; allow_anonymous decides (as with the plugins).
      if (username === undefined) return undefined;
      const password = req.password;
      // auth-plug refuses empty names and passwords before asking any backend.
      if (username.length === 0 || password === undefined || password.length === 0)
        return ReasonCode.NotAuthorized;
      let acl: ClientAcl;
      try {
        const stored = await backend.passwordHash(username, req.clientId);
        if (stored === undefined || !(await verify(password, stored))) {
          log?.info(
            { username, clientId: req.clientId },
            'database authentication: bad user name or password',
          );
          return ReasonCode.NotAuthorized;
        }
        acl = await load(req.clientId, username);
      } catch (err) {
        failed(err, err instanceof HashQueueFullError ? 'password check' : 'user lookup', username);
        stats.refused();
        return ReasonCode.ServerUnavailable;
      }
      store.put(req.clientId, acl, Date.now());
      return true;
    },

    authorizePublish(client: ClientInfo, topic: string) {
      const a = aclOf(client);
      if (a instanceof ClientAcl) return a.mayWrite(topic);
      return a.then((x) => x?.mayWrite(topic) === true);
    },

    authorizeSubscribe(client: ClientInfo, sub: Subscription) {
      const a = aclOf(client);
      if (a instanceof ClientAcl) return a.maySubscribe(sub.topic);
      return a.then((x) => x?.maySubscribe(sub.topic) === true);
    },

    authorizeRead(client: ClientInfo, topic: string): boolean {
      const a = aclOf(client);
      // Not loaded yet (only for clients the database did not authenticate): withhold until it is.
      return a instanceof ClientAcl ? a.mayRead(topic) : false;
    },
  };

  return {
    hooks,
    settings,
    stats,
    target: `database ${settings.database} at ${settings.socketPath ?? `${settings.host}:${settings.port}`}`,
    setLogger(l) {
      log = l;
    },
    countInto(target) {
      stats.countInto(target);
    },
    async close() {
      clearInterval(sweep);
      await backend.close();
    },
  };
}
