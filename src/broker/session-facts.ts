import type { AclChecker } from '../auth/acl.js';
import type { ProtocolVersion } from '../protocol/constants.js';
import type { Will } from '../protocol/packets.js';
import type { AccessControl } from './access-control.js';
import type { ClientInfo } from './options.js';

/**
 * What a session knows of its client besides deliveries: protocol level, expiry,
 * identity and access rules (kept for delivery checks while offline) and a
 * delayed will. Session extends it, so the facts live on the session object
 * itself (no second object per session) while their code stays apart from the
 * delivery state in session.ts.
 */
export abstract class SessionFacts {
  protected version: ProtocolVersion;
  protected expiry: number;
  protected disconnectedTime = 0;
  /** A will waiting for its v5 delay, and when it is due (one field: most sessions never have one). */
  protected delayedWill: { readonly will: Will; readonly at: number } | undefined = undefined;
  protected clientInfo: ClientInfo | undefined = undefined;
  protected checker: AclChecker | undefined = undefined;
  protected accessControl: AccessControl | undefined = undefined;
  /**
   * User name and listener of a session restored (from storage or another node)
   * before any client attached; once one has, its ClientInfo says both.
   */
  protected restored:
    | { readonly username: string | undefined; readonly listener: string | undefined }
    | undefined = undefined;

  constructor(protocolVersion: ProtocolVersion, expiryInterval: number) {
    this.version = protocolVersion;
    this.expiry = expiryInterval;
  }

  /** Protocol level of the client's last CONNECT. */
  get protocolVersion(): ProtocolVersion {
    return this.version;
  }

  /** Session expiry in seconds after disconnect (v5 semantics; v3 persistent = never). */
  get expiryInterval(): number {
    return this.expiry;
  }

  /** When the client disconnected (ms since epoch), 0 while online. */
  get disconnectedAt(): number {
    return this.disconnectedTime;
  }

  /** A will waiting for its v5 delay to pass (published unless the client returns). */
  get pendingWill(): Will | undefined {
    return this.delayedWill?.will;
  }

  /** When the pending will is due (ms since epoch). */
  get pendingWillAt(): number {
    return this.delayedWill?.at ?? 0;
  }

  /** Who the client authenticated as (kept for delivery checks while offline). */
  get username(): string | undefined {
    const c = this.clientInfo;
    return c !== undefined ? c.username : this.restored?.username;
  }

  /** The last connection's client facts, for delivery checks (also while offline). */
  get client(): ClientInfo | undefined {
    return this.clientInfo;
  }

  /** The client's compiled ACL, when an ACL file is in effect. */
  get acl(): AclChecker | undefined {
    return this.checker;
  }

  /** Authentication and ACL of the listener the client last came in on (undefined: not known yet). */
  get access(): AccessControl | undefined {
    return this.accessControl;
  }

  /** Name of that listener (stored, so a restored session is judged by its listener's rules). */
  get listener(): string | undefined {
    const c = this.clientInfo;
    return c !== undefined ? c.listener : this.restored?.listener;
  }

  /**
   * A client resumed this session with a new CONNECT: its protocol level and
   * expiry apply from now, and a delayed will is cancelled (it came back in time).
   */
  resumed(protocolVersion: ProtocolVersion, expiryInterval: number): void {
    this.version = protocolVersion;
    this.expiry = expiryInterval;
    this.delayedWill = undefined;
  }

  /** Changes the session expiry (v5 DISCONNECT may). */
  setExpiry(seconds: number): void {
    this.expiry = seconds;
  }

  /** The client re-authenticated as someone else: later checks follow the new identity. */
  reidentify(client: ClientInfo, acl: AclChecker | undefined): void {
    this.clientInfo = client;
    this.checker = acl;
  }

  /** Replaces the compiled ACL (security files reloaded, or compiled lazily for a restored session). */
  setAcl(acl: AclChecker | undefined): void {
    this.checker = acl;
  }

  /** Sets the access control of a session that came back without one (restored: found by listener name). */
  setAccess(access: AccessControl | undefined): void {
    this.accessControl = access;
  }

  /** Facts of a session brought back from storage or from another cluster node. */
  restoreFacts(
    username: string | undefined,
    listener: string | undefined,
    disconnectedAt: number,
  ): void {
    this.restored = { username, listener };
    this.disconnectedTime = disconnectedAt;
  }

  /** Keeps a will until `at` (ms since epoch), when it is published unless the client returns. */
  delayWill(will: Will, at: number): void {
    this.delayedWill = { will, at };
  }

  /** Removes and returns the pending will if it is due at `now` (any time when `now` is omitted). */
  takeWill(now?: number): Will | undefined {
    const d = this.delayedWill;
    if (d === undefined || (now !== undefined && now < d.at)) return undefined;
    this.delayedWill = undefined;
    return d.will;
  }
}
