import type { Logger } from 'pino';
import type {
  AuthenticateRequest,
  AuthResult,
  BrokerHooks,
  ClientInfo,
} from '../broker/options.js';
import { ReasonCode } from '../protocol/constants.js';
import type { Subscription } from '../protocol/packets.js';
import { parseSharedSubscription } from '../protocol/topic.js';
import { ClientAclStore } from './database-acl.js';
import { dollarTopicAllowed } from './dollar-topics.js';
import { HttpClientAcl, type HttpVerdict, rememberFilter, verdictFor } from './http-acl.js';
import type { HttpAccess, HttpAuthBackend } from './http-auth-backend.js';
import type { PluginAuth } from './plugin-auth.js';
import { PluginAuthCounters } from './plugin-auth-counters.js';
import type { HttpAuthSettings } from './plugin-options.js';
import { hasSpecialChars } from './special-chars.js';

/** After a failed question, wait this long before asking the service again about the same thing. */
const RETRY_MS = 1000;

/**
 * Background read questions (deliveries on topics not yet answered) in flight
 * across all clients. A `#` subscriber on a busy broker meets a new topic on
 * almost every delivery; beyond this the question is skipped and asked on a
 * later delivery, so the service sees a bounded load.
 */
export const MAX_BACKGROUND_READS = 8;

/**
 * Hooks answering CONNECT, PUBLISH, SUBSCRIBE and deliveries from a
 * mosquitto-go-auth HTTP service. CONNECT asks getuser (and superuser);
 * PUBLISH asks aclcheck with acc 2 and SUBSCRIBE with acc 4, as go-auth under
 * Mosquitto 2 does, waiting for the answer. A delivery cannot wait, so its
 * acc 1 answer is kept per client and topic: the first delivery on a topic
 * starts the question and is judged meanwhile by the acc 1 answer the
 * service gave for the subscribed filter at SUBSCRIBE (asked then for that
 * purpose). Answers are reused for `aclCacheSeconds`, then asked again in the
 * background while the old answer stands; at most MAX_BACKGROUND_READS
 * delivery questions are in flight at once across all clients. A service that cannot answer a
 * CONNECT refuses it with "server unavailable"; nothing here throws into the
 * broker.
 */
export function createHttpAuth(
  settings: HttpAuthSettings,
  backend: HttpAuthBackend,
  logger?: Logger,
): PluginAuth {
  let log = logger;
  const stats = new PluginAuthCounters();
  const store = new ClientAclStore<HttpClientAcl>();
  const ttl = Math.max(1, settings.aclCacheSeconds) * 1000;
  const sweep = setInterval(() => store.sweep(Date.now() - 60_000), 60_000);
  sweep.unref();
  /** Background read questions in flight, all clients together (at most MAX_BACKGROUND_READS). */
  let backgroundReads = 0;

  const failed = (err: unknown, what: string, username: string | undefined): void => {
    stats.error();
    log?.warn({ err, username }, `http authentication: ${what} failed: ${(err as Error).message}`);
  };

  /**
   * The verdict for one question, asking the service when there is no fresh
   * answer (one question at a time per verdict). A failed question keeps the
   * old answer, or none, and is retried after RETRY_MS.
   */
  const question = (
    acl: HttpClientAcl,
    client: ClientInfo,
    map: Map<string, HttpVerdict>,
    topic: string,
    acc: HttpAccess,
    background = false,
  ): HttpVerdict => {
    const v = verdictFor(map, topic);
    if (v.pending !== undefined || Date.now() - v.at < ttl) return v;
    // Skipped, not queued: the current answer stands and a later delivery asks again.
    if (background && backgroundReads >= MAX_BACKGROUND_READS) return v;
    if (background) backgroundReads++;
    v.pending = backend.checkAcl(acl.username!, client.clientId, topic, acc).then(
      (ok) => {
        if (background) backgroundReads--;
        v.allowed = ok;
        v.answered = true;
        v.at = Date.now();
        v.pending = undefined;
        return ok;
      },
      (err) => {
        if (background) backgroundReads--;
        v.pending = undefined;
        v.at = Date.now() - ttl + RETRY_MS;
        failed(err, `ACL check (acc ${acc}, ${topic})`, acl.username);
        return v.answered && v.allowed;
      },
    );
    return v;
  };

  /** The answer now when there is one, else the promise of it (false when the service fails). */
  const answer = (v: HttpVerdict): boolean | Promise<boolean> =>
    v.answered ? v.allowed : (v.pending ?? false);

  /** Asks the superuser question again in the background once its answer is old. */
  const freshenSuperuser = (acl: HttpClientAcl): void => {
    if (acl.askingSuperuser || Date.now() - acl.superuserAt < ttl) return;
    acl.askingSuperuser = true;
    backend.isSuperuser(acl.username!).then(
      (yes) => {
        acl.askingSuperuser = false;
        acl.superuser = yes;
        acl.superuserAt = Date.now();
      },
      (err) => {
        acl.askingSuperuser = false;
        acl.superuserAt = Date.now() - ttl + RETRY_MS;
        failed(err, 'superuser check', acl.username);
      },
    );
  };

  const load = async (username: string | undefined): Promise<HttpClientAcl> => {
    const acl = new HttpClientAcl(username);
    if (username !== undefined) {
      acl.superuser = await backend.isSuperuser(username);
      acl.superuserAt = Date.now();
    }
    return acl;
  };

  /** The client's answers, starting them when the CONNECT did not (e.g. the password file authenticated it). */
  const aclOf = (client: ClientInfo): HttpClientAcl | Promise<HttpClientAcl | undefined> =>
    store.getOrLoad(
      client,
      () => load(client.username),
      (err) => failed(err, 'superuser check', client.username),
    );

  /** Mosquitto denies these clients before asking go-auth; the service never sees their ids. */
  const denied = (client: ClientInfo): boolean =>
    settings.denySpecialChars && hasSpecialChars(client.clientId, client.username);

  /** A PUBLISH (acc 2) or SUBSCRIBE (acc 4) decision for a loaded client. */
  const decide = (
    acl: HttpClientAcl | undefined,
    client: ClientInfo,
    topic: string,
    acc: 2 | 4,
  ): boolean | Promise<boolean> => {
    // go-auth refuses every ACL check of a client without a user name.
    if (acl?.username === undefined) return false;
    freshenSuperuser(acl);
    if (acl.superuser) return true;
    if (acc === 2) return answer(question(acl, client, acl.write, topic, 2));
    const sub = answer(question(acl, client, acl.subscribe, topic, 4));
    // What the service says about reading the filter judges deliveries under it until each topic is answered.
    const read = answer(question(acl, client, acl.read, topic, 1));
    return Promise.all([sub, read]).then(([s, r]) => {
      rememberFilter(acl.readFilters, topic, r);
      return s;
    });
  };

  const hooks: BrokerHooks = {
    async authenticate(req: AuthenticateRequest): Promise<AuthResult> {
      const username = req.username;
      // No user name: nothing to ask; allow_anonymous decides.
      if (username === undefined) return undefined;
      // go-auth refuses a missing password before asking the service.
      if (req.password === undefined) return ReasonCode.NotAuthorized;
      let acl: HttpClientAcl;
      try {
        const ok = await backend.getUser(username, req.password.toString('utf8'), req.clientId);
        if (!ok) {
          log?.info(
            { username, clientId: req.clientId },
            'http authentication: the service refused the user name or password',
          );
          return ReasonCode.NotAuthorized;
        }
        acl = await load(username);
      } catch (err) {
        failed(err, 'user check', username);
        stats.refused();
        return ReasonCode.ServerUnavailable;
      }
      store.put(req.clientId, acl, Date.now());
      return true;
    },

    authorizePublish(client: ClientInfo, topic: string) {
      if (denied(client) || !dollarTopicAllowed(topic, 'write')) return false;
      const a = aclOf(client);
      if (a instanceof HttpClientAcl) return decide(a, client, topic, 2);
      return a.then((x) => decide(x, client, topic, 2));
    },

    authorizeSubscribe(client: ClientInfo, sub: Subscription) {
      if (denied(client) || !dollarTopicAllowed(sub.topic, 'subscribe')) return false;
      const shared = parseSharedSubscription(sub.topic);
      // The service is asked about the filter a shared subscription receives, without `$share/group/`.
      const filter = typeof shared === 'object' ? shared.filter : sub.topic;
      const a = aclOf(client);
      if (a instanceof HttpClientAcl) return decide(a, client, filter, 4);
      return a.then((x) => decide(x, client, filter, 4));
    },

    authorizeRead(client: ClientInfo, topic: string): boolean {
      if (denied(client)) return false;
      const acl = store.get(client);
      if (acl === undefined) {
        aclOf(client); // withheld until the client's answers exist
        return false;
      }
      if (acl.username === undefined || !dollarTopicAllowed(topic, 'read')) return false;
      freshenSuperuser(acl);
      if (acl.superuser) return true;
      const v = question(acl, client, acl.read, topic, 1, true);
      return v.answered ? v.allowed : acl.provisionalRead(topic);
    },
  };

  return {
    hooks,
    settings,
    stats,
    target: `service ${settings.tls ? 'https' : 'http'}://${settings.host}:${settings.port}`,
    setLogger(l) {
      log = l;
    },
    countInto(target) {
      stats.countInto(target);
    },
    async close() {
      clearInterval(sweep);
      backend.close();
    },
  };
}
