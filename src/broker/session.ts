import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import type { AccessControl } from './access-control.js';
import { DeliveryQueue } from './delivery-queue.js';
import { type DeliveryTarget, DropReason } from './delivery-target.js';
import type { FlowGate } from './flow-gate.js';
import { InflightTable } from './inflight-table.js';
import type { Message } from './message.js';
import type { ClientInfo } from './options.js';
import { RetainedFeed } from './retained-feed.js';
import { SessionFacts } from './session-facts.js';
import { joinSinks, secondSink } from './session-sinks.js';
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
  /** An incoming QoS 2 packet id was recorded (true, with its message when held) or released by PUBREL (false). */
  incoming(packetId: number, present: boolean, msg?: Message): void;
}

/** Limits a session applies, resolved from broker options and the client's CONNECT. */
export interface SessionLimits {
  maxInflight: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  dropOldest: boolean;
  queueQos0: boolean;
  /** Backpressure: full queues of online clients stop their publishers instead of dropping. */
  gate?: FlowGate | undefined;
}

/**
 * The queue of every session that never queued anything: most sessions of idle
 * or QoS 0 clients never do, and a queue of their own cost 64 bytes each. Only
 * push changes a queue that is empty, and pushes go through queueToFill().
 */
const EMPTY_QUEUE = new DeliveryQueue<Delivery>();

/** A delivery of `msg` not yet queued or sent (no packet id, not stored). */
function newDelivery(
  msg: Message,
  qos: QoS,
  retain: boolean,
  subIds: number[] | undefined,
  group: SharedGroup<SubscriptionRecord> | undefined,
): Delivery {
  return { msg, qos, retain, subIds, packetId: 0, released: false, group, seq: 0, held: false };
}

/** Session expiry value meaning "never expires" (v5 0xFFFFFFFF). */
export const SESSION_NEVER_EXPIRES = 0xffffffff;

/**
 * The state of one client id that outlives its network connection:
 * subscriptions, the outgoing inflight window, the offline queue, packet ids and
 * incoming QoS 2 state. It never touches a socket: while online it hands
 * packets to its DeliveryTarget, while offline it queues. Others change it
 * through its methods, never by writing its fields.
 */
export class Session extends SessionFacts {
  readonly clientId: string;
  private out: DeliveryTarget | undefined = undefined;
  // The three collections below are created on first use: an idle connection's
  // session never needs them, and three empty Maps/Sets cost ~0.5 KB each session.
  private subscriptionMap: Map<string, SubscriptionRecord> | undefined = undefined;
  private inflightMap: InflightTable<Delivery> | undefined = undefined;
  private incomingQos2Set: Set<number> | undefined = undefined;
  /** `pubrec-first` QoS 2: messages received and acknowledged with PUBREC, routed at PUBREL. */
  private heldIncoming: InflightTable<Message> | undefined = undefined;
  /** Deliveries waiting for the window or for the client to come back (EMPTY_QUEUE until the first). */
  private queue: DeliveryQueue<Delivery> = EMPTY_QUEUE;
  /** Retained messages of a SUBSCRIBE that did not fit the queue (retained-feed.ts); made when needed. */
  private feed: RetainedFeed | undefined = undefined;
  private dropCount = 0;
  private store: SessionPersistence | undefined = undefined;
  /**
   * Where delivery changes are reported: the store, a second observer (a
   * cluster replica, "tap"), or both; the tap is not kept in a field of its own.
   */
  private sink: SessionPersistence | undefined = undefined;
  /** Set on in-process sessions (bridges): deliveries go here, never to a queue. */
  private inProcess: DeliveryTarget | undefined = undefined;
  private nextPacketId = 1;
  /** Limits from the broker options (one object shared by every session, never changed here). */
  readonly limits: SessionLimits;

  // Routing scratch space: lets the router dedupe overlapping subscriptions
  // per session without allocating a set per message (see noteMatch).
  private stamp = 0;
  private matchQos: QoS = 0;
  private matchRetainAsPublished = false;
  private matchSubIds: number[] | undefined = undefined;

  constructor(
    clientId: string,
    protocolVersion: ProtocolVersion,
    expiryInterval: number,
    limits: SessionLimits,
  ) {
    super(protocolVersion, expiryInterval);
    this.clientId = clientId;
    this.limits = limits;
  }

  /** Where packets go while the client is online (its connection), else undefined. */
  get target(): DeliveryTarget | undefined {
    return this.out;
  }

  /** Subscriptions by filter as subscribed. */
  get subscriptions(): ReadonlyMap<string, SubscriptionRecord> {
    return (this.subscriptionMap ??= new Map());
  }

  /** Outgoing QoS 1/2 deliveries awaiting acknowledgement, in send order. */
  get inflight(): ReadonlyMap<number, Delivery> {
    return (this.inflightMap ??= new InflightTable());
  }

  private inflightWritable(): InflightTable<Delivery> {
    return (this.inflightMap ??= new InflightTable());
  }

  /** The session's own queue, made on the first delivery it queues. */
  private queueToFill(): DeliveryQueue<Delivery> {
    if (this.queue === EMPTY_QUEUE) this.queue = new DeliveryQueue<Delivery>();
    return this.queue;
  }

  /** Payload bytes in the queue. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Deliveries dropped because a bound was reached, by any reason. */
  get dropped(): number {
    return this.dropCount;
  }

  /** Durable storage of this session, when the broker persists it. */
  get persist(): SessionPersistence | undefined {
    return this.store;
  }

  /**
   * Whether each matching subscription gets its own copy of a message (a v5
   * network client, as Mosquitto does) rather than one copy per session at the
   * highest QoS (3.1/3.1.1; in-process sessions such as bridges).
   */
  get copyPerSubscription(): boolean {
    return this.version === 5 && this.inProcess === undefined;
  }

  /** Highest granted QoS among matching subscriptions in that pass. */
  get routeQos(): QoS {
    return this.matchQos;
  }

  /** Whether any matching subscription in that pass had Retain As Published. */
  get routeRetainAsPublished(): boolean {
    return this.matchRetainAsPublished;
  }

  /** Subscription identifiers collected in that pass. */
  get routeSubIds(): number[] | undefined {
    return this.matchSubIds;
  }

  // ---------------------------------------------------------------- life cycle

  /**
   * A client connected to this session through `target`: it is online, and
   * deliveries (also later, while offline) are checked as `client` by the
   * rules of `access`, the listener it came in on.
   */
  attach(target: DeliveryTarget, client: ClientInfo, access: AccessControl): void {
    this.clientInfo = client;
    this.restored = undefined;
    this.accessControl = access;
    this.checker = access.checkerFor(client);
    this.out = target;
    this.disconnectedTime = 0;
  }

  /** The client's connection ended at `now`: the session goes offline and queues. */
  detach(now: number): void {
    this.out = undefined;
    this.disconnectedTime = now;
    // Offline queues drop when full: nobody waits for this one any more.
    const g = this.limits.gate;
    if (g?.watching === true) g.gone(this);
    if (!this.limits.queueQos0 && this.queue.qos0 > 0) {
      // QoS 0 that waited for a congested client is not kept for an offline one.
      const gone: Delivery[] = [];
      this.queue.takeQos0(gone);
      this.dropCount += gone.length;
    }
  }

  /** Connects (or with undefined, disconnects) the session's durable storage. */
  setPersistence(p: SessionPersistence | undefined): void {
    const tap = secondSink(this.sink, this.store);
    this.store = p;
    this.sink = joinSinks(p, tap);
  }

  /** Also reports delivery changes to `t` (a cluster node's replica of this session); undefined stops it. */
  setTap(t: SessionPersistence | undefined): void {
    this.sink = joinSinks(this.store, t);
  }

  /** Makes this an in-process session: every delivery goes straight to `sink`, never to a queue. */
  deliverTo(sink: DeliveryTarget, access: AccessControl): void {
    this.inProcess = sink;
    this.accessControl = access;
  }

  /** Counts a delivery its in-process sink dropped after accepting it. */
  countDrop(): void {
    this.dropCount++;
  }

  /**
   * Notes one subscription matching the message of routing pass `stamp`:
   * keeps the highest QoS, any Retain As Published and every subscription id.
   * Returns true for the pass's first match (the caller collects the session once).
   */
  noteMatch(
    stamp: number,
    qos: QoS,
    retainAsPublished: boolean,
    subscriptionId: number | undefined,
  ): boolean {
    if (this.stamp !== stamp) {
      this.stamp = stamp;
      this.matchQos = qos;
      this.matchRetainAsPublished = retainAsPublished;
      this.matchSubIds = subscriptionId !== undefined ? [subscriptionId] : undefined;
      return true;
    }
    if (qos > this.matchQos) this.matchQos = qos;
    if (retainAsPublished) this.matchRetainAsPublished = true;
    if (subscriptionId !== undefined) (this.matchSubIds ??= []).push(subscriptionId);
    return false;
  }

  // ---------------------------------------------------------------- subscriptions

  /** Adds a subscription (keyed by its filter as subscribed); returns the one it replaced. */
  addSubscription(rec: SubscriptionRecord): SubscriptionRecord | undefined {
    const map = (this.subscriptionMap ??= new Map());
    const old = map.get(rec.filter);
    map.set(rec.filter, rec);
    return old;
  }

  /** Removes the subscription of this filter; returns it, or undefined if there was none. */
  removeSubscription(filter: string): SubscriptionRecord | undefined {
    const rec = this.subscriptionMap?.get(filter);
    if (rec !== undefined) this.subscriptionMap!.delete(filter);
    return rec;
  }

  /** Removes every subscription (the caller has taken them out of the router). */
  clearSubscriptions(): void {
    this.subscriptionMap?.clear();
  }

  // ---------------------------------------------------------------- incoming QoS 2

  /** Number of incoming QoS 2 packet ids received and not yet released by PUBREL. */
  get incomingCount(): number {
    return this.incomingQos2Set?.size ?? 0;
  }

  /** Whether an incoming QoS 2 exchange holds this packet id (PUBREC sent, PUBREL not yet received). */
  hasIncoming(packetId: number): boolean {
    return this.incomingQos2Set?.has(packetId) === true;
  }

  /**
   * An incoming QoS 2 PUBLISH was accepted: its id is held (and stored) until
   * PUBREL, with its message when that is routed only then (`pubrec-first`).
   */
  recordIncoming(packetId: number, msg?: Message): void {
    (this.incomingQos2Set ??= new Set()).add(packetId);
    if (msg !== undefined) (this.heldIncoming ??= new InflightTable()).set(packetId, msg);
    this.sink?.incoming(packetId, true, msg);
  }

  /** The message held for an incoming QoS 2 packet id until its PUBREL (`pubrec-first`), if any. */
  incomingMessage(packetId: number): Message | undefined {
    return this.heldIncoming?.get(packetId);
  }

  /** PUBREL received: releases the id (and its held message); returns false if it was not held. */
  releaseIncoming(packetId: number): boolean {
    if (this.incomingQos2Set?.delete(packetId) !== true) return false;
    this.heldIncoming?.delete(packetId);
    this.sink?.incoming(packetId, false);
    return true;
  }

  /** Puts back an incoming id (and its held message) loaded from storage (already stored). */
  restoreIncoming(packetId: number, msg?: Message): void {
    (this.incomingQos2Set ??= new Set()).add(packetId);
    if (msg !== undefined) (this.heldIncoming ??= new InflightTable()).set(packetId, msg);
  }

  /** The incoming QoS 2 ids held, for storage and hand-over. */
  incomingIds(): IterableIterator<number> {
    return (this.incomingQos2Set ??= new Set()).values();
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
    return this.queue.length;
  }

  /** Number of retained messages from a SUBSCRIBE waiting for room (not counted in `queuedCount`). */
  get retainedWaiting(): number {
    return this.feed === undefined ? 0 : this.feed.size;
  }

  /** Whether a client is attached. */
  get online(): boolean {
    return this.out !== undefined;
  }

  /** Effective inflight window: the broker's limit, lowered by the v5 client's Receive Maximum. */
  private window(): number {
    const t = this.out;
    const max = this.limits.maxInflight;
    if (t !== undefined && t.receiveMaximum < max) return t.receiveMaximum;
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
    if (this.inProcess !== undefined)
      return this.inProcess.sendPublish(msg, qos, retain, 0, false, subIds);
    if (this.feed !== undefined) this.feed.supersede(msg.topic);
    const t = this.out;
    if (qos === 0) {
      if (t !== undefined) {
        // A congested client's QoS 0 waits as a queue entry (a shared message), not
        // as encoded bytes in its socket; later ones queue behind it [MQTT-4.6.0-6].
        if (this.queue.qos0 === 0 && t.congested !== true)
          return t.sendPublish(msg, 0, retain, 0, false, subIds);
        // A full queue drops it (it would give way to QoS 1/2 anyway): no entry to make.
        const max = this.limits.maxQueuedMessages;
        if (max > 0 && this.queue.length >= max && !this.limits.dropOldest) {
          this.dropCount++;
          return DropReason.SlowConsumer;
        }
      } else if (!this.limits.queueQos0) return DropReason.Offline;
    }
    const d = newDelivery(msg, qos, retain, subIds, group);
    if (
      t !== undefined &&
      qos > 0 &&
      this.queue.length === 0 &&
      this.inflight.size < this.window()
    ) {
      return this.sendNew(d);
    }
    return this.enqueue(d);
  }

  /**
   * Delivers a retained message matched by a new subscription. With
   * backpressure on, one that would not fit a connected client's queue waits
   * in the session's retained feed instead of being dropped, and goes out as
   * the window frees (retained-feed.ts); so do the rest of that SUBSCRIBE's.
   */
  deliverRetained(msg: Message, qos: QoS, subIds: number[] | undefined): DropReason {
    const f = this.feed;
    if (
      this.out === undefined ||
      this.inProcess !== undefined ||
      this.limits.gate === undefined ||
      ((f === undefined || f.size === 0) && this.fits(msg, qos))
    )
      return this.deliver(msg, qos, true, subIds);
    (this.feed ??= new RetainedFeed()).add(msg, qos, subIds);
    return DropReason.None;
  }

  /** Whether a delivery to the connected client would be sent or queued within the bounds now. */
  private fits(msg: Message, qos: QoS): boolean {
    const q = this.queue;
    // Sent at once: nothing of its kind waits ahead of it and there is room.
    if ((qos === 0 ? q.qos0 === 0 : q.length === 0) && this.hasRoom(qos)) return true;
    const lim = this.limits;
    return (
      (lim.maxQueuedMessages <= 0 || q.length < lim.maxQueuedMessages) &&
      (lim.maxQueuedBytes <= 0 || q.bytes + msg.payload.length <= lim.maxQueuedBytes)
    );
  }

  private enqueue(d: Delivery): DropReason {
    const lim = this.limits;
    const size = d.msg.payload.length;
    const overCount = lim.maxQueuedMessages > 0 && this.queuedCount >= lim.maxQueuedMessages;
    const overBytes = lim.maxQueuedBytes > 0 && this.queue.bytes + size > lim.maxQueuedBytes;
    if ((overCount || overBytes) && d.qos > 0 && this.queue.qos0 > 0) {
      // QoS 0 waiting for a congested client gives way to QoS 1/2: the queue
      // bounds keep the room they had before QoS 0 could queue while online.
      this.queue.takeOldestQos0();
      this.dropCount++;
      return this.enqueue(d);
    }
    if (overCount || overBytes) {
      // Online: the message is taken past the bound and its publisher stops instead (flow-gate.ts).
      // QoS 0 never holds a publisher back: it is dropped (a slow consumer's).
      if (this.out !== undefined && d.qos > 0 && lim.gate?.absorb(this) === true) {
        this.queueToFill().push(d);
        this.sink?.stored(d);
        return DropReason.None;
      }
      if (!lim.dropOldest || this.queuedCount === 0) {
        this.dropCount++;
        // QoS 0 for an online client only queues while it is congested: a slow consumer.
        return d.qos === 0 && this.out !== undefined
          ? DropReason.SlowConsumer
          : DropReason.QueueFull;
      }
      // Make room by dropping from the front until the new message fits.
      while (
        this.queuedCount > 0 &&
        ((lim.maxQueuedMessages > 0 && this.queuedCount >= lim.maxQueuedMessages) ||
          (lim.maxQueuedBytes > 0 && this.queue.bytes + size > lim.maxQueuedBytes))
      ) {
        const old = this.queue.shift()!;
        this.dropCount++;
        this.sink?.removed(old);
      }
    }
    d.msg.leaveReadChunk();
    this.queueToFill().push(d);
    // QoS 0 queued for a congested online client is not stored (it would not be for an offline one).
    if (d.qos > 0 || this.out === undefined) this.sink?.stored(d);
    return DropReason.None;
  }

  /** Sends a delivery for the first time: QoS 0 straight out, QoS 1/2 with a new packet id. */
  private sendNew(d: Delivery): DropReason {
    const t = this.out!;
    if (d.qos === 0) return t.sendPublish(d.msg, 0, d.retain, 0, false, d.subIds);
    const pid = this.allocatePacketId();
    d.packetId = pid;
    d.msg.leaveReadChunk();
    const p = this.sink;
    if (p !== undefined && d.qos === 2 && p.hold(d)) {
      d.held = true;
      this.inflightWritable().set(pid, d);
      return DropReason.None;
    }
    const r = t.sendPublish(d.msg, d.qos, d.retain, pid, false, d.subIds);
    // A message the client declared too large is dropped as if delivered (v5 4.13).
    if (r === DropReason.None) {
      this.inflightWritable().set(pid, d);
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

  /**
   * Moves queued deliveries into the window while there is room and a client,
   * taking turns with the retained feed when it has messages waiting.
   */
  drain(now: number): void {
    const f = this.feed;
    while (this.out !== undefined) {
      if (f !== undefined && f.size > 0 && (this.queue.length === 0 || (f.turn = !f.turn))) {
        if (!this.sendFed(f, now)) return;
      } else if (this.queue.length === 0 || !this.sendQueued(now)) return;
    }
  }

  /** Whether the connected client can take a delivery at `qos` now: window room (QoS 1/2), socket room (QoS 0). */
  private hasRoom(qos: QoS): boolean {
    return qos > 0 ? this.inflightCount < this.window() : this.out!.congested !== true;
  }

  /** Sends the oldest queued delivery unless the window or the socket is full; false if it did not. */
  private sendQueued(now: number): boolean {
    const next = this.queue.peek()!;
    if (!this.hasRoom(next.qos)) return false;
    this.queue.shift();
    if (next.msg.isExpired(now)) {
      this.dropCount++;
      this.sink?.removed(next);
      return true;
    }
    this.sendNew(next);
    return true;
  }

  /** Sends the oldest retained message of the feed unless the window or the socket is full; false if it did not. */
  private sendFed(f: RetainedFeed, now: number): boolean {
    const e = f.peek()!;
    if (!this.hasRoom(e.qos)) return false;
    f.shift();
    if (f.size === 0) this.feed = undefined;
    // An expired retained message is not sent on subscribe either (router.sendRetained).
    if (e.msg.isExpired(now)) return true;
    this.sendNew(newDelivery(e.msg, e.qos, true, e.subIds, undefined));
    return true;
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) received: the delivery is complete. Returns false if unknown. */
  complete(packetId: number, now: number): boolean {
    const p = this.sink;
    if (p !== undefined) {
      const d = this.inflight.get(packetId);
      if (d !== undefined) p.removed(d);
    }
    if (!this.inflightWritable().delete(packetId)) return false;
    if (this.queue.length > 0 || this.feed !== undefined) this.drain(now);
    const g = this.limits.gate;
    if (g?.watching === true) g.progress(this);
    return true;
  }

  /** PUBREC received for an outgoing QoS 2 message. Returns false if the id is unknown. */
  received(packetId: number): boolean {
    const d = this.inflight.get(packetId);
    if (d === undefined || d.qos !== 2) return false;
    d.released = true;
    this.sink?.stored(d);
    return true;
  }

  /**
   * Called after CONNACK on a resumed session: re-sends every unacknowledged
   * message with DUP=1 and its original packet id, in the original order
   * (PUBREL for those already received), then drains the queue.
   */
  resume(now: number): void {
    const t = this.out;
    if (t === undefined) return;
    // A new session has nothing in flight: don't create its map just to find that out.
    if (this.inflightMap !== undefined)
      for (const [pid, d] of this.inflightMap) {
        // A held QoS 2 PUBLISH goes out when its record is committed (sendHeld).
        if (d.held) continue;
        if (d.released) t.sendPubrel(pid);
        else t.sendPublish(d.msg, d.qos, d.retain, pid, true, d.subIds);
      }
    this.drain(now);
  }

  /** Drops everything queued and in flight (session discarded or expired). */
  clearMessages(): void {
    this.queue.clear();
    this.feed = undefined;
    this.inflightMap?.clear();
    this.incomingQos2Set?.clear();
    this.heldIncoming?.clear();
  }

  /** Iterates the queued deliveries, oldest first (for persistence and shared-subscription handover). */
  *queued(): IterableIterator<Delivery> {
    yield* this.queue.values();
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
        this.inflightWritable().delete(pid);
        this.sink?.removed(d);
        d.packetId = 0;
        d.held = false;
        out.push(d);
      }
    }
    const fromQueue = out.length;
    this.queue.takeShared(out);
    const p = this.sink;
    if (p !== undefined) for (let i = fromQueue; i < out.length; i++) p.removed(out[i]!);
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
    const t = this.out;
    if (t === undefined) return;
    if (t.sendPublish(d.msg, d.qos, d.retain, packetId, false, d.subIds) !== DropReason.None) {
      this.complete(packetId, Date.now());
    }
  }

  /** Puts back a delivery loaded from storage: in flight when it has a packet id, else queued. */
  restore(d: Delivery): void {
    if (d.packetId !== 0) this.inflightWritable().set(d.packetId, d);
    else {
      this.queueToFill().push(d);
    }
  }

  /** Queues or sends an existing delivery (a shared-group handover). */
  redeliver(d: Delivery): DropReason {
    d.packetId = 0;
    d.released = false;
    if (this.out !== undefined && this.queue.length === 0 && this.inflight.size < this.window()) {
      return this.sendNew(d);
    }
    return this.enqueue(d);
  }
}
