import { type AclChecker, AclFile } from '../auth/acl.js';
import { PasswordFile } from '../auth/password-file.js';
import type { QoS } from '../protocol/constants.js';
import { ReasonCode } from '../protocol/constants.js';
import type { Will } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type {
  AuthenticateRequest,
  ClientInfo,
  ListenerSecurityOptions,
  ResolvedBrokerOptions,
} from './options.js';

/**
 * What a read check needs of a subscriber's session: who it is, and the
 * compiled ACL it caches (set here for a restored session on first use).
 */
export interface ReadingSession {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly client: ClientInfo | undefined;
  readonly acl: AclChecker | undefined;
  /** Keeps an ACL compiled for a session that had none (restored, its client not back yet). */
  setAcl(acl: AclChecker | undefined): void;
}

/** What a publish authorization may answer: allow, refuse (false or a v5 reason code) or defer. */
export type PublishVerdict = boolean | number | undefined;

/**
 * The broker's authentication and authorization chain: embedding hooks and
 * Mosquitto's password and ACL files, asked in `authOrder`; the first
 * decisive answer wins (a hook answering `undefined` defers to the files, and
 * the files defer to the hooks only when absent). A broker has one for its
 * broker-level settings and one per listener with its own `security` block.
 */
export class AccessControl {
  /** The password file in effect, if any. */
  passwordFile: PasswordFile | undefined;
  /** The ACL file in effect, if any. */
  aclFile: AclFile | undefined;
  /** Whether any delivery needs a read check (false: the routing loop skips it entirely). */
  readsGuarded: boolean;
  private readonly o: ResolvedBrokerOptions;
  private readonly hooksFirst: boolean;

  /** `security` (a listener's own block) overrides the broker-level settings it names. */
  constructor(options: ResolvedBrokerOptions, security?: ListenerSecurityOptions) {
    this.o = security === undefined ? options : withListenerSecurity(options, security);
    options = this.o;
    this.hooksFirst = options.authOrder !== 'files_first';
    if (typeof options.passwordFile === 'object') this.passwordFile = options.passwordFile;
    if (typeof options.aclFile === 'object') this.aclFile = options.aclFile;
    this.readsGuarded = this.computeReadsGuarded();
  }

  /** Whether an empty client id is accepted (and an id assigned). */
  get allowZeroLengthClientId(): boolean {
    return this.o.allowZeroLengthClientId;
  }

  /** Prefix of assigned client ids. */
  get autoIdPrefix(): string {
    return this.o.autoIdPrefix;
  }

  /** Whether files named by path still have to be read. */
  get needsLoading(): boolean {
    return (
      (typeof this.o.passwordFile === 'string' && this.passwordFile === undefined) ||
      (typeof this.o.aclFile === 'string' && this.aclFile === undefined)
    );
  }

  /**
   * (Re)reads the files named by path. Both are read before either is swapped
   * in, so a broken file leaves the previous ones in effect (and rejects).
   */
  async load(): Promise<void> {
    const pw = this.o.passwordFile;
    const acl = this.o.aclFile;
    const [p, a] = await Promise.all([
      typeof pw === 'string' ? PasswordFile.load(pw) : Promise.resolve(pw),
      typeof acl === 'string'
        ? AclFile.load(acl, { subscribe: this.o.aclSubscribeMode })
        : Promise.resolve(acl),
    ]);
    this.passwordFile = p;
    this.aclFile = a;
    this.readsGuarded = this.computeReadsGuarded();
  }

  private computeReadsGuarded(): boolean {
    return this.aclFile !== undefined || this.o.hooks.authorizeRead !== undefined;
  }

  /** A compiled per-client ACL (kept on the session), or undefined when no ACL file is loaded. */
  checkerFor(client: ClientInfo): AclChecker | undefined {
    return this.aclFile?.forSubject({ username: client.username, clientId: client.clientId });
  }

  /**
   * Runs the authentication chain for a CONNECT; answers a v5 reason code
   * (0 = accepted). `byCertificate` is true when the listener takes the user
   * name from the TLS certificate (the certificate then replaces the password
   * file); `will` is checked for write access as Mosquitto does. Without an
   * authenticate hook or a password to verify the answer is synchronous: no
   * promise, request object or closure per CONNECT (connect storms make
   * garbage that would otherwise stay in the heap as RSS).
   */
  authenticate(
    client: ClientInfo,
    password: Buffer | undefined,
    properties: Properties | undefined,
    byCertificate: boolean,
    will: Will | undefined,
  ): number | Promise<number> {
    if (
      this.o.hooks.authenticate !== undefined ||
      (!byCertificate && this.passwordFile !== undefined && client.username !== undefined)
    ) {
      return this.authenticateAsync({ ...client, password, properties }, byCertificate, will);
    }
    const code = byCertificate ? certificateCode(client) : this.anonymousCode(client.username);
    if (code !== ReasonCode.Success || will === undefined) return code;
    const allowed = this.authorizePublish(
      client,
      this.checkerFor(client),
      will.topic,
      will.qos,
      will.retain,
    );
    return allowed instanceof Promise ? allowed.then(willCode) : willCode(allowed);
  }

  /** The chain with a hook or a password check in it. */
  private async authenticateAsync(
    req: AuthenticateRequest,
    byCertificate: boolean,
    will: Will | undefined,
  ): Promise<number> {
    const hook = this.o.hooks.authenticate;
    let code: number | undefined;
    if (this.hooksFirst && hook !== undefined) code = hookCode(await hook(req));
    if (code === undefined) code = await this.fileCode(req, byCertificate);
    if (code === undefined && !this.hooksFirst && hook !== undefined)
      code = hookCode(await hook(req));
    if (code === undefined) code = this.anonymousCode(req.username);
    if (code !== ReasonCode.Success || will === undefined) return code;
    return willCode(
      await this.authorizePublish(req, this.checkerFor(req), will.topic, will.qos, will.retain),
    );
  }

  /** Nobody decided: anonymous clients per allow_anonymous, named ones accepted. */
  private anonymousCode(username: string | undefined): number {
    return username === undefined && !this.o.allowAnonymous
      ? ReasonCode.NotAuthorized
      : ReasonCode.Success;
  }

  private async fileCode(
    req: AuthenticateRequest,
    byCertificate: boolean,
  ): Promise<number | undefined> {
    if (byCertificate) return certificateCode(req);
    const pw = this.passwordFile;
    if (pw === undefined || req.username === undefined) return undefined;
    const ok = await pw.verify(req.username, req.password ?? Buffer.alloc(0));
    // Mosquitto answers a bad login with "not authorised" (v3 5, v5 0x87).
    return ok ? ReasonCode.Success : ReasonCode.NotAuthorized;
  }

  /**
   * Whether a client may publish to `topic` (already mount-pointed). Returns
   * synchronously unless an asynchronous hook is asked.
   */
  authorizePublish(
    client: ClientInfo,
    acl: AclChecker | undefined,
    topic: string,
    qos: QoS,
    retain: boolean,
  ): PublishVerdict | Promise<PublishVerdict> {
    const hook = this.o.hooks.authorizePublish;
    if (hook === undefined || (!this.hooksFirst && acl !== undefined)) {
      return acl === undefined ? true : acl.check(topic, 'write');
    }
    const r = hook(client, topic, qos, retain);
    if (r instanceof Promise) {
      return r.then((v) => (v === undefined && acl !== undefined ? acl.check(topic, 'write') : v));
    }
    return r === undefined && acl !== undefined ? acl.check(topic, 'write') : r;
  }

  /** Whether the hooks should be asked about a SUBSCRIBE at all (files first with an ACL: no). */
  asksSubscribeHook(acl: AclChecker | undefined): boolean {
    return this.o.hooks.authorizeSubscribe !== undefined && (this.hooksFirst || acl === undefined);
  }

  /** The ACL file's say on a subscription filter (with any `$share/group/` prefix). */
  maySubscribe(acl: AclChecker | undefined, filter: string): boolean {
    return acl === undefined || acl.check(filter, 'subscribe');
  }

  /**
   * Whether a session may receive a message on `topic`; called per delivery
   * only when `readsGuarded`. The session keeps its client's compiled ACL and
   * last ClientInfo, so queued deliveries to offline sessions are checked too.
   */
  mayRead(session: ReadingSession, topic: string): boolean {
    const client = session.client;
    if (client === undefined) {
      // A session restored from the store whose client has not come back yet:
      // no ClientInfo for the hook, but the ACL file can judge by user name and id.
      const file = this.aclFile;
      if (file === undefined) return true;
      let acl = session.acl;
      if (acl === undefined) {
        acl = file.forSubject({ username: session.username, clientId: session.clientId });
        session.setAcl(acl);
      }
      return acl.check(topic, 'read');
    }
    const hook = this.o.hooks.authorizeRead;
    const acl = session.acl;
    if (hook !== undefined && (this.hooksFirst || acl === undefined)) {
      const r = hook(client, topic);
      if (r !== undefined) return r;
    }
    return acl === undefined || acl.check(topic, 'read');
  }
}

/** Broker options with a listener's security block laid over them (fields it leaves out are kept). */
function withListenerSecurity(
  o: ResolvedBrokerOptions,
  s: ListenerSecurityOptions,
): ResolvedBrokerOptions {
  return {
    ...o,
    allowAnonymous: s.allowAnonymous ?? o.allowAnonymous,
    passwordFile: s.passwordFile === undefined ? o.passwordFile : (s.passwordFile ?? undefined),
    aclFile: s.aclFile === undefined ? o.aclFile : (s.aclFile ?? undefined),
    allowZeroLengthClientId: s.allowZeroLengthClientId ?? o.allowZeroLengthClientId,
    autoIdPrefix: s.autoIdPrefix ?? o.autoIdPrefix,
  };
}

/** use_identity_as_username: the certificate is the credential; no certificate, no entry. */
function certificateCode(client: ClientInfo): number {
  return client.certificateSubject !== undefined ? ReasonCode.Success : ReasonCode.NotAuthorized;
}

/** A will the client may not publish refuses the connection (as Mosquitto does). */
function willCode(allowed: PublishVerdict): number {
  return publishAllowed(allowed) ? ReasonCode.Success : ReasonCode.NotAuthorized;
}

/** Maps an authenticate hook result to a reason code, or undefined to defer. */
function hookCode(r: boolean | number | undefined): number | undefined {
  if (r === undefined) return undefined;
  if (r === true) return ReasonCode.Success;
  if (r === false) return ReasonCode.BadUserNameOrPassword;
  return r;
}

/** Whether a publish verdict allows the message. */
export function publishAllowed(r: PublishVerdict): boolean {
  return !(r === false || (typeof r === 'number' && r >= 0x80));
}
