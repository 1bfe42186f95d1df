import type { AclChecker } from '../auth/acl.js';
import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import type { Will } from '../protocol/packets.js';
import type { AccessControl } from './access-control.js';
import type { Channel } from './channel.js';
import type { Message } from './message.js';
import type { ClientInfo } from './options.js';
import type { SharedGroup } from './shared-group.js';

/** One subscription of a session, as stored in the session and referenced by the router. */
export interface SubscriptionRecord {
  readonly session: Session;
  /** The filter exactly as subscribed, including any `$share/group/` prefix (the session's key). */
  readonly filter: string;
  /** The filter that matches topics (without `$share/group/`). */
  readonly topicFilter: string;
  /** Shared subscription group name, or undefined. */
  readonly shareGroup: string | undefined;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId: number | undefined;
}

/** A message on its way to one subscriber: queued, or in flight with a packet id. */
export interface Delivery {
  msg: Message;
  /** QoS of this delivery: min(published, granted). */
  qos: QoS;
  /** RETAIN flag to send. */
  retain: boolean;
  /** v5 subscription identifiers of the matching subscriptions. */
  subIds: number[] | undefined;
  /** Packet id once in flight; 0 while queued. */
  packetId: number;
  /** For QoS 2 in flight: false until PUBREC arrives, then true (PUBREL sent, waiting for PUBCOMP). */
  released: boolean;
  /** The shared subscription group that chose this session, so another member can take over. */
  group: SharedGroup<SubscriptionRecord> | undefined;
  /** Storage key within the session (0: not stored). Owned by the SessionPersistence. */
  seq: number;
  /** QoS 2 in flight but not yet sent: waiting for its record to be committed. */
  held: boolean;
}

/**
 * What a persisted session reports to durable storage. Set on sessions the
 * broker persists only, so the in-memory path pays one undefined check.
 */
export interface SessionPersistence {
  /** A delivery was queued, sent with a packet id, or PUBREC'd. */
  stored(d: Delivery): void;
  /** A delivery ended: acknowledged, dropped, expired or handed to another session. */
  removed(d: Delivery): void;
  /** Whether a new QoS 2 PUBLISH must wait for its record's commit (then `sendHeld` is called). */
  hold(d: Delivery): boolean;
  /** An incoming QoS 2 packet id was recorded (true) or released by PUBREL (false). */
  incoming(packetId: number, present: boolean): void;
}

/** Limits a session applies, resolved from broker options and the client's CONNECT. */
export interface SessionLimits {
  maxInflight: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  dropOldest: boolean;
  queueQos0: boolean;
}

/** Why a delivery did not reach the client or its queue, for counting. */
export const DropReason = {
  None: 0,
  QueueFull: 1,
  Offline: 2,
  SlowConsumer: 3,
  TooLarge: 4,
  Expired: 5,
} as const;

/** One of the DropReason values. */
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/**
 * Where an in-process session (a bridge) takes its deliveries instead of a Channel:
 * called synchronously from the routing loop, so it must not block.
 */
export interface DeliverySink {
  /** One routed message at QoS `qos` with the RETAIN flag to forward; returns a DropReason. */
  deliver(msg: Message, qos: QoS, retain: boolean): DropReason;
}

/** Session expiry value meaning "never expires" (v5 0xFFFFFFFF). */
export const SESSION_NEVER_EXPIRES = 0xffffffff;

/**
 * The state of one client id that outlives its network connection:
 * subscriptions, the outgoing inflight window, the offline queue, packet ids and
 * incoming QoS 2 state. It never touches a socket: while online it hands
 * packets to its Channel, while offline it queues.
 */
export class Session {
  readonly clientId: string;
  protocolVersion: ProtocolVersion;
  /** The live connection, if the client is online. */
  channel: Channel | undefined;
  // The three collections below are created on first use: an idle connection's
  // session never needs them, and three empty Maps/Sets cost ~0.5 KB each session.
  private subscriptionMap: Map<string, SubscriptionRecord> | undefined = undefined;
  private inflightMap: Map<number, Delivery> | undefined = undefined;
  private incomingQos2Set: Set<number> | undefined = undefined;
  /** Subscriptions by filter as subscribed. */
  get subscriptions(): Map<string, SubscriptionRecord> {
    return (this.subscriptionMap ??= new Map());
  }
  /** Outgoing QoS 1/2 deliveries awaiting acknowledgement, in send order. */
  get inflight(): Map<number, Delivery> {
    return (this.inflightMap ??= new Map());
  }
  /** Deliveries waiting for the window or for the client to come back. */
  private queue: Delivery[] = [];
  private queueHead = 0;
  /** Payload bytes in the queue. */
  queuedBytes = 0;
  /** Incoming QoS 2 packet ids received and not yet released by PUBREL. */
  get incomingQos2(): Set<number> {
    return (this.incomingQos2Set ??= new Set());
  }
  /** Session expiry in seconds after disconnect (v5 semantics; v3 persistent = never). */
  expiryInterval: number;
  /** When the client disconnected (ms since epoch), 0 while online. */
  disconnectedAt = 0;
  /** A will waiting for its v5 delay to pass (published unless the client returns). */
  pendingWill: Will | undefined;
  /** When the pending will is due (ms since epoch). */
  pendingWillAt = 0;
  /** Who the client authenticated as (kept for delivery checks while offline). */
  username: string | undefined;
  /** The last connection's client facts, for delivery checks (also while offline). */
  client: ClientInfo | undefined;
  /** The client's compiled ACL, when an ACL file is in effect. */
  acl: AclChecker | undefined;
  /** Authentication and ACL of the listener the client last came in on (undefined: not known yet). */
  access: AccessControl | undefined = undefined;
  /** Name of that listener (stored, so a restored session is judged by its listener's rules). */
  listener: string | undefined = undefined;
  limits: SessionLimits;
  /** Deliveries dropped because a bound was reached, by any reason. */
  dropped = 0;
  /** Durable storage of this session, when the broker persists it. */
  persist: SessionPersistence | undefined = undefined;
  /** Set on in-process sessions (bridges): deliveries go here, never to a channel or queue. */
  sink: DeliverySink | undefined = undefined;
  private nextPacketId = 1;

  // Routing scratch space: lets the router dedupe overlapping subscriptions
  // per session without allocating a set per message.
  /** Publish stamp of the last routing pass that reached this session. */
  routeStamp = 0;
  /** Highest granted QoS among matching subscriptions in that pass. */
  routeQos: QoS = 0;
  /** Whether any matching subscription had Retain As Published. */
  routeRetainAsPublished = false;
  /** Subscription identifiers collected in that pass. */
  routeSubIds: number[] | undefined = undefined;

  constructor(
    clientId: string,
    protocolVersion: ProtocolVersion,
    expiryInterval: number,
    limits: SessionLimits,
  ) {
    this.clientId = clientId;
    this.protocolVersion = protocolVersion;
    this.expiryInterval = expiryInterval;
    this.limits = limits;
  }

  /** Number of subscriptions, without creating the map of a session that has none. */
  get subscriptionCount(): number {
    return this.subscriptionMap?.size ?? 0;
  }

  /** Number of deliveries in flight, without creating the map of a session that has none. */
  get inflightCount(): number {
    return this.inflightMap?.size ?? 0;
  }

  /** Number of deliveries queued (not in flight). */
  get queuedCount(): number {
    return this.queue.length - this.queueHead;
  }

  /** Whether a client is attached. */
  get online(): boolean {
    return this.channel !== undefined;
  }

  /** Effective inflight window: the broker's limit, lowered by the v5 client's Receive Maximum. */
  private window(): number {
    const ch = this.channel;
    const max = this.limits.maxInflight;
    if (ch !== undefined && ch.clientReceiveMaximum < max) return ch.clientReceiveMaximum;
    return max;
  }

  /**
   * Delivers a routed message: sent at once when online and the window allows,
   * otherwise queued within the session's bounds. Returns a DropReason.
   */
  deliver(
    msg: Message,
    qos: QoS,
    retain: boolean,
    subIds: number[] | undefined,
    group?: SharedGroup<SubscriptionRecord>,
  ): DropReason {
    if (this.sink !== undefined) return this.sink.deliver(msg, qos, retain);
    const ch = this.channel;
    if (qos === 0) {
      if (ch !== undefined) return ch.sendPublish(msg, 0, retain, 0, false, subIds);
      if (!this.limits.queueQos0) return DropReason.Offline;
    }
    const d: Delivery = {
      msg,
      qos,
      retain,
      subIds,
      packetId: 0,
      released: false,
      group,
      seq: 0,
      held: false,
    };
    if (
      ch !== undefined &&
      this.queueHead === this.queue.length &&
      this.inflight.size < this.window()
    ) {
      return this.sendNew(d);
    }
    return this.enqueue(d);
  }

  private enqueue(d: Delivery): DropReason {
    const lim = this.limits;
    const size = d.msg.payload.length;
    const overCount = lim.maxQueuedMessages > 0 && this.queuedCount >= lim.maxQueuedMessages;
    const overBytes = lim.maxQueuedBytes > 0 && this.queuedBytes + size > lim.maxQueuedBytes;
    if (overCount || overBytes) {
      if (!lim.dropOldest || this.queuedCount === 0) {
        this.dropped++;
        return DropReason.QueueFull;
      }
      // Make room by dropping from the front until the new message fits.
      while (
        this.queuedCount > 0 &&
        ((lim.maxQueuedMessages > 0 && this.queuedCount >= lim.maxQueuedMessages) ||
          (lim.maxQueuedBytes > 0 && this.queuedBytes + size > lim.maxQueuedBytes))
      ) {
        const old = this.shift()!;
        this.queuedBytes -= old.msg.payload.length;
        this.dropped++;
        this.persist?.removed(old);
      }
    }
    this.queue.push(d);
    this.queuedBytes += size;
    this.persist?.stored(d);
    return DropReason.None;
  }

  private shift(): Delivery | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const d = this.queue[this.queueHead]!;
    (this.queue as Array<Delivery | undefined>)[this.queueHead] = undefined;
    this.queueHead++;
    // Compact occasionally so the array does not grow without bound.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    } else if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
    return d;
  }

  /** Sends a delivery for the first time: QoS 0 straight out, QoS 1/2 with a new packet id. */
  private sendNew(d: Delivery): DropReason {
    const ch = this.channel!;
    if (d.qos === 0) return ch.sendPublish(d.msg, 0, d.retain, 0, false, d.subIds);
    const pid = this.allocatePacketId();
    d.packetId = pid;
    const p = this.persist;
    if (p !== undefined && d.qos === 2 && p.hold(d)) {
      d.held = true;
      this.inflight.set(pid, d);
      return DropReason.None;
    }
    const r = ch.sendPublish(d.msg, d.qos, d.retain, pid, false, d.subIds);
    // A message the client declared too large is dropped as if delivered (v5 4.13).
    if (r === DropReason.None) {
      this.inflight.set(pid, d);
      p?.stored(d);
    } else p?.removed(d);
    return r;
  }

  /** Allocates a packet id that is not in flight (1..65535, wrapping). */
  allocatePacketId(): number {
    let id = this.nextPacketId;
    for (let tries = 0; tries < 65535; tries++) {
      if (!this.inflight.has(id)) {
        this.nextPacketId = id === 65535 ? 1 : id + 1;
        return id;
      }
      id = id === 65535 ? 1 : id + 1;
    }
    throw new Error('no free packet identifier');
  }

  /** Moves queued deliveries into the window while there is room and a client. */
  drain(now: number): void {
    while (this.channel !== undefined && this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead]!;
      if (next.qos > 0 && this.inflight.size >= this.window()) return;
      this.shift();
      this.queuedBytes -= next.msg.payload.length;
      if (next.msg.isExpired(now)) {
        this.dropped++;
        this.persist?.removed(next);
        continue;
      }
      this.sendNew(next);
    }
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) received: the delivery is complete. Returns false if unknown. */
  complete(packetId: number, now: number): boolean {
    const p = this.persist;
    if (p !== undefined) {
      const d = this.inflight.get(packetId);
      if (d !== undefined) p.removed(d);
    }
    if (!this.inflight.delete(packetId)) return false;
    if (this.queueHead < this.queue.length) this.drain(now);
    return true;
  }

  /** PUBREC received for an outgoing QoS 2 message. Returns false if the id is unknown. */
  received(packetId: number): boolean {
    const d = this.inflight.get(packetId);
    if (d === undefined || d.qos !== 2) return false;
    d.released = true;
    this.persist?.stored(d);
    return true;
  }

  /**
   * Called after CONNACK on a resumed session: re-sends every unacknowledged
   * message with DUP=1 and its original packet id, in the original order
   * (PUBREL for those already received), then drains the queue.
   */
  resume(now: number): void {
    const ch = this.channel;
    if (ch === undefined) return;
    // A new session has nothing in flight: don't create its map just to find that out.
    if (this.inflightMap !== undefined)
      for (const [pid, d] of this.inflightMap) {
        // A held QoS 2 PUBLISH goes out when its record is committed (sendHeld).
        if (d.held) continue;
        if (d.released) ch.sendPubrel(pid);
        else ch.sendPublish(d.msg, d.qos, d.retain, pid, true, d.subIds);
      }
    this.drain(now);
  }

  /** Drops everything queued and in flight (session discarded or expired). */
  clearMessages(): void {
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    this.inflightMap?.clear();
    this.incomingQos2Set?.clear();
  }

  /** Iterates the queued deliveries, oldest first (for persistence and shared-subscription handover). */
  *queued(): IterableIterator<Delivery> {
    for (let i = this.queueHead; i < this.queue.length; i++) yield this.queue[i]!;
  }

  /**
   * Removes and returns the deliveries that a shared subscription group chose
   * this session for and that the client has not completed, so the broker can
   * hand them to another member when this one leaves. QoS 2 deliveries already
   * sent stay: they are completed with this client or not at all [MQTT-4.8.2-4]
   * [MQTT-4.8.2-5].
   */
  takeShared(): Delivery[] {
    const out: Delivery[] = [];
    for (const [pid, d] of this.inflight) {
      if (d.group !== undefined && d.qos === 1) {
        this.inflight.delete(pid);
        this.persist?.removed(d);
        d.packetId = 0;
        d.held = false;
        out.push(d);
      }
    }
    if (this.queueHead < this.queue.length) {
      const keep: Delivery[] = [];
      for (let i = this.queueHead; i < this.queue.length; i++) {
        const d = this.queue[i]!;
        if (d.group !== undefined) {
          this.queuedBytes -= d.msg.payload.length;
          this.persist?.removed(d);
          out.push(d);
        } else keep.push(d);
      }
      this.queue = keep;
      this.queueHead = 0;
    }
    return out;
  }

  /**
   * Sends a QoS 2 PUBLISH that waited for its record to be committed, unless it
   * was completed meanwhile; with no client attached it stays in flight and
   * `resume` sends it.
   */
  sendHeld(packetId: number): void {
    const d = this.inflight.get(packetId);
    if (d === undefined || !d.held) return;
    d.held = false;
    const ch = this.channel;
    if (ch === undefined) return;
    if (ch.sendPublish(d.msg, d.qos, d.retain, packetId, false, d.subIds) !== DropReason.None) {
      this.complete(packetId, Date.now());
    }
  }

  /** Puts back a delivery loaded from storage: in flight when it has a packet id, else queued. */
  restore(d: Delivery): void {
    if (d.packetId !== 0) this.inflight.set(d.packetId, d);
    else {
      this.queue.push(d);
      this.queuedBytes += d.msg.payload.length;
    }
  }

  /** Queues or sends an existing delivery (a shared-group handover). */
  redeliver(d: Delivery): DropReason {
    d.packetId = 0;
    d.released = false;
    if (
      this.channel !== undefined &&
      this.queueHead === this.queue.length &&
      this.inflight.size < this.window()
    ) {
      return this.sendNew(d);
    }
    return this.enqueue(d);
  }
}
