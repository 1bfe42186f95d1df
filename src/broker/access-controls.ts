import { type ConnectionInfo, listenerName } from '../transport/connection-info.js';
import { AccessControl } from './access-control.js';
import type { ListenerSecurityOptions, ResolvedBrokerOptions } from './options.js';

/**
 * Every AccessControl of a broker (Mosquitto's per_listener_settings): the
 * broker-level one, plus one per listener `security` block. A connection's is
 * chosen once, when it is accepted, and its session keeps it.
 */
export class AccessControls {
  /** The broker-level settings, used by listeners without a security block. */
  readonly global: AccessControl;
  /**
   * Whether any delivery on any listener needs a read check; false lets the
   * routing loop skip read checks entirely, as with a single AccessControl.
   */
  readsGuarded: boolean;
  private readonly o: ResolvedBrokerOptions;
  private readonly byBlock = new Map<ListenerSecurityOptions, AccessControl>();
  /** By listener name, for sessions restored from the store; null when two listeners share a name. */
  private readonly byName = new Map<string, AccessControl | null>();

  constructor(options: ResolvedBrokerOptions) {
    this.o = options;
    this.global = new AccessControl(options);
    for (const l of options.listeners) {
      const access = l.security === undefined ? this.global : this.ownAccess(l.security);
      const name = listenerName(l);
      const known = this.byName.get(name);
      this.byName.set(name, known === undefined || known === access ? access : null);
    }
    this.readsGuarded = this.anyReadsGuarded();
  }

  /** Whether some listener has security of its own. */
  get perListener(): boolean {
    return this.byBlock.size > 0;
  }

  private ownAccess(block: ListenerSecurityOptions): AccessControl {
    let a = this.byBlock.get(block);
    if (a === undefined) {
      a = new AccessControl(this.o, block);
      this.byBlock.set(block, a);
    }
    return a;
  }

  private all(): AccessControl[] {
    return [this.global, ...this.byBlock.values()];
  }

  private anyReadsGuarded(): boolean {
    for (const a of this.all()) if (a.readsGuarded) return true;
    return false;
  }

  /**
   * The AccessControl for a connection, by its listener's security block. A
   * block of no configured listener (a connection handed in by the
   * application) is accepted when it needs no file read.
   */
  forConnection(info: ConnectionInfo): AccessControl {
    // Transports carry the block from ListenerOptions (or the application from
    // BrokerConnectionInfo) without reading it, so it is the broker's kind.
    const block = info.security as ListenerSecurityOptions | undefined;
    if (block === undefined) return this.global;
    const known = this.byBlock.get(block);
    if (known !== undefined) return known;
    const a = new AccessControl(this.o, block);
    if (a.needsLoading) {
      throw new TypeError(
        'ConnectionInfo.security names files by path but is not the security block of one of the broker listeners; pass loaded PasswordFile/AclFile objects',
      );
    }
    this.byBlock.set(block, a);
    this.readsGuarded ||= a.readsGuarded;
    return a;
  }

  /**
   * The AccessControl of a session that has no connection yet (restored from
   * the store or handed over), by the name of the listener it last came in on.
   * Undefined when listeners have their own security and that listener is
   * unknown or ambiguous: like Mosquitto, its deliveries are then refused
   * until the client reconnects, rather than judged by another listener's rules.
   */
  forListenerName(name: string | undefined): AccessControl | undefined {
    if (this.byBlock.size === 0) return this.global;
    if (name === undefined) return undefined;
    return this.byName.get(name) ?? undefined;
  }

  /** Whether files named by path still have to be read. */
  get needsLoading(): boolean {
    return this.all().some((a) => a.needsLoading);
  }

  /**
   * Re-reads every password and ACL file given by path. Each AccessControl
   * swaps in its new files only when they all read; one with a broken file
   * keeps its previous ones, and the first failure is thrown once the others
   * are in effect.
   */
  async load(): Promise<void> {
    const results = await Promise.allSettled(this.all().map((a) => a.load()));
    this.readsGuarded = this.anyReadsGuarded();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }
}
