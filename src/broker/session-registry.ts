/** The session registry: sessions by client id, online and offline, from CONNECT to expiry. */
import type { ConnectPacket, Will } from '../protocol/packets.js';
import type { Persistence } from '../store/persistence.js';
import { type Channel, channelOf } from './channel.js';
import type { FlowGate } from './flow-gate.js';
import type { ClientInfo, ResolvedBrokerOptions } from './options.js';
import type { Router } from './router.js';
import { SESSION_NEVER_EXPIRES, Session, type SessionLimits } from './session.js';

/** Told when a session ends here (the cluster then gives up the client id). */
export interface SessionObserver {
  /** The session of this client id was destroyed. */
  sessionEnded(clientId: string): void;
  /** A client attached to this session, or it went offline (the cluster replicates persistent ones). */
  sessionSaved(session: Session): void;
}

/** What the registry needs of the broker around it. */
export interface SessionRegistryDeps {
  readonly options: ResolvedBrokerOptions;
  readonly router: Router;
  readonly persistence: Persistence | undefined;
  /** Backpressure from full queues to publishers (undefined: full queues drop at once). */
  readonly gate: FlowGate | undefined;
  /** Publishes a will now (`client` is undefined for a delayed or restored will). */
  publishWill(session: Session | undefined, client: ClientInfo | undefined, will: Will): void;
}

/** Which session a CONNECT got, and whether its CONNACK waits for the store's commit. */
export interface Attachment {
  session: Session;
  /** The Session Present flag of the CONNACK. */
  present: boolean;
  /** The CONNACK must wait for the commit of the stored session change. */
  waitsForCommit: boolean;
}

/**
 * Sessions by client id. A session is created or resumed on CONNECT, outlives
 * its connection until it expires, and on its end leaves the router and the store.
 */
export class SessionRegistry {
  /** Sessions by client id, online and offline. */
  readonly sessions = new Map<string, Session>();
  /** Told when a session ends (set by the cluster wiring). */
  observer: SessionObserver | undefined;
  private readonly deps: SessionRegistryDeps;
  /** One limits object shared by every session (read-only for them): none per connection. */
  private sharedLimits: SessionLimits | undefined;

  constructor(deps: SessionRegistryDeps) {
    this.deps = deps;
  }

  /** Limits of a new session, from the broker options (one shared, read-only object). */
  limits(): SessionLimits {
    const o = this.deps.options;
    return (this.sharedLimits ??= {
      maxInflight: o.maxInflightMessages === 0 ? 65535 : o.maxInflightMessages,
      maxQueuedMessages: o.maxQueuedMessages,
      maxQueuedBytes: o.maxQueuedBytes,
      dropOldest: o.maxQueuedDrop === 'oldest',
      queueQos0: o.queueQos0Messages,
      gate: this.deps.gate,
    });
  }

  /**
   * Binds an accepted connection to its session: takes over a live one,
   * discards or resumes an old one per Clean Session / Clean Start.
   */
  attach(ch: Channel, p: ConnectPacket): Attachment {
    const id = ch.clientId;
    let existing = this.sessions.get(id);
    const old = existing === undefined ? undefined : channelOf(existing);
    if (old !== undefined) {
      // Client take-over: the old connection is closed (its will is published).
      old.takenOver();
      existing = this.sessions.get(id);
    }
    let expiry: number;
    if (p.protocolVersion === 5) {
      expiry = p.properties?.sessionExpiryInterval ?? 0;
    } else if (p.clean) {
      expiry = 0;
    } else {
      const pce = this.deps.options.persistentClientExpiration;
      expiry = pce > 0 ? pce : SESSION_NEVER_EXPIRES;
    }
    const persistence = this.deps.persistence;
    let discarded = false;
    if (existing !== undefined && p.clean) {
      discarded = persistence?.isStored(existing) === true;
      this.destroy(existing);
      existing = undefined;
    }
    let session: Session;
    let present = false;
    if (existing !== undefined) {
      session = existing;
      present = true;
      // The client came back in time: a delayed will is cancelled.
      session.resumed(p.protocolVersion, expiry);
    } else {
      session = new Session(id, p.protocolVersion, expiry, this.limits());
      this.sessions.set(id, session);
    }
    session.attach(ch, ch.client!, ch.access);
    // In `commit` mode a CONNECT that changed the stored session gets its CONNACK after the commit.
    const waitsForCommit = persistence?.sessionAttached(session, p.will, discarded) === true;
    this.observer?.sessionSaved(session);
    return { session, present, waitsForCommit };
  }

  /**
   * A session's connection ended: shared deliveries it had not completed move
   * on, the will (unless the client disconnected normally) is published or
   * delayed, and the session ends now or waits for its expiry.
   */
  detach(session: Session, client: ClientInfo, will: Will | undefined, now: number): void {
    session.detach(now);
    // Shared-subscription messages this member had not completed go to another member.
    if (session.inflightCount > 0 || session.queuedCount > 0)
      this.deps.router.handOverShared(session, session.expiryInterval !== 0);
    if (will !== undefined) {
      const delay = will.properties?.willDelayInterval ?? 0;
      if (delay > 0 && session.expiryInterval > 0) {
        session.delayWill(will, now + Math.min(delay, session.expiryInterval) * 1000);
      } else {
        this.deps.publishWill(session, client, will);
      }
    }
    if (session.expiryInterval === 0) this.destroy(session);
    else {
      this.deps.persistence?.sessionSaved(session);
      this.observer?.sessionSaved(session);
    }
  }

  /** Removes a session with its subscriptions and messages; a delayed will is published now. */
  destroy(session: Session): void {
    this.deps.persistence?.sessionDestroyed(session);
    this.observer?.sessionEnded(session.clientId);
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    const router = this.deps.router;
    for (const sub of session.subscriptions.values()) router.remove(sub);
    session.clearSubscriptions();
    router.handOverShared(session, false);
    session.clearMessages();
    const will = session.takeWill();
    if (will !== undefined) this.deps.publishWill(session, undefined, will);
  }

  /**
   * Publishes the delayed wills that are due and ends the offline sessions
   * that expired; `onExpired` is told of each before it ends.
   */
  sweep(now: number, onExpired: (s: Session) => void): void {
    for (const s of this.sessions.values()) {
      if (s.online) continue;
      const will = s.takeWill(now);
      if (will !== undefined) {
        this.deps.publishWill(s, undefined, will);
        this.deps.persistence?.sessionSaved(s);
      }
      if (
        s.expiryInterval !== SESSION_NEVER_EXPIRES &&
        s.disconnectedAt > 0 &&
        now - s.disconnectedAt >= s.expiryInterval * 1000
      ) {
        onExpired(s);
        this.destroy(s);
      }
    }
  }
}
