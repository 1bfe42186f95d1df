import type { ClientInfo } from '../broker/options.js';
import { parseSharedSubscription } from '../protocol/topic.js';
import { aclCoversFilter, aclMatchesTopic, aclTopicProblem } from './acl-topic.js';
import { dollarTopicAllowed } from './dollar-topics.js';
import { hasSpecialChars } from './special-chars.js';

/** What a database ACL query answered for one client, ready for per-message checks. */
export interface ClientAclRows {
  superuser: boolean;
  read: string[];
  write: string[];
  subscribe: string[];
}

/**
 * One client's database ACL: the rows its queries answered with `%c`/`%u`
 * substituted once, so a per-delivery read check allocates nothing. Rows using `%c`/`%u` are dropped for ids or names containing `+`
 * or `#`, which would otherwise widen them to other clients' topics, and
 * with `denySpecialChars` (Mosquitto's default) such a client gets nothing at
 * all, superuser or not. Rows using `%u` are dropped for an empty name.
 */
export class ClientAcl {
  /** The user name the rows were read for (the client's, or the anonymous name). */
  readonly username: string | undefined;
  /** When the rows were read (ms since the epoch). */
  loadedAt = 0;
  /** A background refresh is running. */
  refreshing = false;
  private superuser = false;
  private read: string[] = [];
  private write: string[] = [];
  private subscribe: string[] = [];
  /** Without an ACL query: allow everything (go-auth) or nothing (auth-plug). */
  private readonly allowAll: boolean;
  private readonly denySpecialChars: boolean;
  /** Denied everything: a `+`/`#` in the client id or user name with denySpecialChars. */
  private deniedAll = false;

  constructor(username: string | undefined, allowAll: boolean, denySpecialChars = true) {
    this.username = username;
    this.allowAll = allowAll;
    this.denySpecialChars = denySpecialChars;
  }

  /** Replaces the rows (after a load or refresh). */
  set(rows: ClientAclRows, clientId: string, username: string, now: number): void {
    this.superuser = rows.superuser;
    const dangerous = hasSpecialChars(clientId, username);
    this.deniedAll = this.denySpecialChars && hasSpecialChars(clientId, this.username);
    const compile = (filters: string[]) => {
      const out: string[] = [];
      for (const f of filters) {
        const uses = f.includes('%c') || f.includes('%u');
        if (uses && dangerous) continue;
        if (username.length === 0 && f.includes('%u')) continue;
        const t = uses ? f.replaceAll('%c', clientId).replaceAll('%u', username) : f;
        if (t.length === 0 || aclTopicProblem(t) !== undefined) continue;
        out.push(t);
      }
      return out;
    };
    this.read = compile(rows.read);
    this.write = compile(rows.write);
    this.subscribe = compile(rows.subscribe);
    this.loadedAt = now;
  }

  /** Whether a message on `topic` may be delivered to this client. */
  mayRead(topic: string): boolean {
    if (this.deniedAll || !dollarTopicAllowed(topic, 'read')) return false;
    return this.superuser || this.allowAll || anyMatch(this.read, topic);
  }

  /** Whether this client may publish to `topic`. */
  mayWrite(topic: string): boolean {
    if (this.deniedAll || !dollarTopicAllowed(topic, 'write')) return false;
    return this.superuser || this.allowAll || anyMatch(this.write, topic);
  }

  /** Whether this client may subscribe with `filter` (a `$share/group/` prefix is judged by its filter). */
  maySubscribe(filter: string): boolean {
    if (this.deniedAll || !dollarTopicAllowed(filter, 'subscribe')) return false;
    if (this.superuser || this.allowAll) return true;
    const shared = parseSharedSubscription(filter);
    const f = typeof shared === 'object' ? shared.filter : filter;
    for (const acl of this.subscribe) if (aclCoversFilter(acl, f)) return true;
    return false;
  }
}

function anyMatch(rules: string[], topic: string): boolean {
  for (let i = 0; i < rules.length; i++) if (aclMatchesTopic(rules[i]!, topic)) return true;
  return false;
}

/**
 * Per-client ACL state (a database's rows, an HTTP service's answers). What a
 * CONNECT loaded is filed by client id for a minute; the connection's checks
 * claim it for its ClientInfo object (the one the broker keeps on the
 * session), where it then lives exactly as long as the session. It stays
 * filed after a claim because the will check at CONNECT asks with a
 * short-lived copy of the ClientInfo.
 */
export class ClientAclStore<T extends { readonly username: string | undefined } = ClientAcl> {
  private readonly byClient = new WeakMap<ClientInfo, T>();
  private readonly pending = new Map<string, { acl: T; at: number }>();

  /** Files the rows a CONNECT loaded. */
  put(clientId: string, acl: T, now: number): void {
    this.pending.delete(clientId); // re-insert: the Map stays ordered by age
    this.pending.set(clientId, { acl, at: now });
  }

  /** The client's ACL, or undefined when it has to be loaded. */
  get(client: ClientInfo): T | undefined {
    const own = this.byClient.get(client);
    if (own !== undefined) return own;
    const p = this.pending.get(client.clientId);
    if (p === undefined || p.acl.username !== client.username) return undefined;
    this.byClient.set(client, p.acl);
    return p.acl;
  }

  /** Attaches an ACL loaded later to a client. */
  attach(client: ClientInfo, acl: T): void {
    this.byClient.set(client, acl);
  }

  private readonly loading = new WeakMap<ClientInfo, Promise<T | undefined>>();

  /**
   * The client's ACL, or the one load of it in flight (started here when none
   * is: the CONNECT did not load it, e.g. the password file authenticated the
   * client). A failed load is reported to `failed` and resolves undefined.
   */
  getOrLoad(
    client: ClientInfo,
    load: () => Promise<T>,
    failed: (err: unknown) => void,
  ): T | Promise<T | undefined> {
    const have = this.get(client);
    if (have !== undefined) return have;
    let p = this.loading.get(client);
    if (p === undefined) {
      p = load().then(
        (acl) => {
          this.attach(client, acl);
          this.loading.delete(client);
          return acl;
        },
        (err: unknown) => {
          this.loading.delete(client);
          failed(err);
          return undefined;
        },
      );
      this.loading.set(client, p);
    }
    return p;
  }

  /** Forgets rows filed before `before` (ms since the epoch); claimed ones live on with their client. */
  sweep(before: number): void {
    for (const [id, p] of this.pending) {
      if (p.at >= before) break;
      this.pending.delete(id);
    }
  }
}
