import type { Logger } from 'pino';
import type { Message } from '../broker/message.js';
import type {
  Delivery,
  Session,
  SessionPersistence,
  SubscriptionRecord,
} from '../broker/session.js';
import type { Will } from '../protocol/packets.js';
import { LinkJournal } from './link-journal.js';
import { LmdbStore } from './lmdb.js';
import { MemoryStore } from './memory.js';
import type {
  DeliveryRecord,
  MessageRecord,
  PersistenceOptions,
  SessionRecord,
  Store,
  SubscriptionData,
  SyncMode,
} from './store.js';
import { WriteBatch } from './write-batch.js';

/** Message ids reserved per meta write, so ids stay unique across restarts without a write per message. */
const MESSAGE_ID_BLOCK = 65536;

/** Builds the backend named by the options. */
function createStore(o: PersistenceOptions): Store {
  if (o.store !== undefined) return o.store;
  if (o.backend === 'lmdb') return new LmdbStore(o.location, { noSync: o.sync === 'none' });
  return MemoryStore.at(o.location);
}

/** The stored form of a message. */
export function messageRecord(m: Message): MessageRecord {
  return {
    id: m.id,
    topic: m.topic,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    properties: m.properties,
    expiresAt: m.expiresAt,
    origin: m.origin,
  };
}

/** The stored form of a delivery (its message is stored on its own, by id). */
export function deliveryRecord(d: Delivery): DeliveryRecord {
  return {
    messageId: d.msg.id,
    qos: d.qos,
    retain: d.retain,
    subIds: d.subIds,
    packetId: d.packetId,
    released: d.released,
  };
}

/** The stored form of a subscription. */
export function subscriptionData(r: SubscriptionRecord): SubscriptionData {
  return {
    filter: r.filter,
    topicFilter: r.topicFilter,
    shareGroup: r.shareGroup,
    qos: r.qos,
    noLocal: r.noLocal,
    retainAsPublished: r.retainAsPublished,
    retainHandling: r.retainHandling,
    subscriptionId: r.subscriptionId,
  };
}

/** The stored form of a session; `will` is the will of its live connection, if any. */
export function sessionRecord(s: Session, will: Will | undefined): SessionRecord {
  return {
    clientId: s.clientId,
    protocolVersion: s.protocolVersion,
    expiryInterval: s.expiryInterval,
    disconnectedAt: s.disconnectedAt,
    will,
    pendingWill: s.pendingWill,
    pendingWillAt: s.pendingWillAt,
    username: s.username,
    listener: s.listener,
  };
}

/**
 * Told when a commit window it waited for is durable, or that its commit
 * failed. The store knows nothing else about those waiting: a connection
 * holds its acknowledgements itself and sends them when told.
 */
export interface CommitWaiter {
  /** Every change made up to and including window `w` is durable. */
  durable(w: number): void;
  /** The commit of window `w` failed: what waited on it will never be durable. */
  commitFailed(w: number): void;
}

/** The storage side of one session: its delivery keys and whether it keeps messages. */
export class SessionStoreState implements SessionPersistence, CommitWaiter {
  private readonly p: Persistence;
  private readonly session: Session;
  /** Last delivery key used (keys order deliveries on reload). */
  nextSeq = 0;
  /** Whether deliveries, subscriptions and incoming ids are stored (session expiry > 0). */
  keepsMessages = false;
  /** Whether a session record is stored. */
  recorded = false;
  /** Session expiry in the last record written: what a restart would read back. */
  storedExpiry = 0;
  /** Whether the last record written holds a will waiting for its delay. */
  storedPendingWill = false;
  /** Commit window of the last change a CONNACK had to wait for (see Persistence.sessionAttached). */
  changedIn = 0;
  /** Packet ids of QoS 2 PUBLISH packets waiting for their record's commit, and that commit's window. */
  private readonly heldIds: number[] = [];
  private readonly heldWindows: number[] = [];
  /** The commit window last waited for (one request per window). */
  private waitingOn = 0;

  constructor(p: Persistence, session: Session) {
    this.p = p;
    this.session = session;
  }

  /** Writes the delivery (and, on its first reference, the message). */
  stored(d: Delivery): void {
    if (!this.keepsMessages) return;
    const b = this.p.batch;
    const fresh = d.seq === 0;
    if (fresh) {
      d.seq = ++this.nextSeq;
      if (d.msg.storeRefs++ === 0) b.putMessage(messageRecord(d.msg));
    }
    b.putDelivery(this.session.clientId, d.seq, deliveryRecord(d), fresh);
    this.p.touch();
  }

  /** Deletes the delivery (and the message with its last reference). */
  removed(d: Delivery): void {
    if (d.seq === 0) return;
    const b = this.p.batch;
    b.deleteDelivery(this.session.clientId, d.seq);
    d.seq = 0;
    if (--d.msg.storeRefs === 0) b.deleteMessage(d.msg.id);
    this.p.touch();
  }

  /** In `commit` mode a QoS 2 PUBLISH goes out only once its record is durable. */
  hold(d: Delivery): boolean {
    if (!this.p.defersAcks || !this.keepsMessages) return false;
    this.stored(d);
    const w = this.p.openWindow;
    this.heldIds.push(d.packetId);
    this.heldWindows.push(w);
    if (this.waitingOn !== w) this.waitingOn = this.p.waitDurable(this);
    return true;
  }

  /** The held QoS 2 PUBLISH packets whose records are durable go out now. */
  durable(w: number): void {
    const n = this.heldUpTo(w);
    for (let i = 0; i < n; i++) this.session.sendHeld(this.heldIds[i]!);
    this.heldIds.splice(0, n);
    this.heldWindows.splice(0, n);
  }

  /** Those whose commit failed stay held in flight (their record may be missing). */
  commitFailed(w: number): void {
    const n = this.heldUpTo(w);
    this.heldIds.splice(0, n);
    this.heldWindows.splice(0, n);
  }

  private heldUpTo(w: number): number {
    let n = 0;
    while (n < this.heldWindows.length && this.heldWindows[n]! <= w) n++;
    return n;
  }

  /** Writes the session record (`will`: that of its live connection) and notes what it says. */
  putRecord(will: Will | undefined): void {
    const s = this.session;
    this.p.batch.putSession(sessionRecord(s, will));
    this.storedExpiry = s.expiryInterval;
    this.storedPendingWill = s.pendingWill !== undefined;
    this.p.touch();
  }

  /** Records (with its held message, if any) or releases an incoming QoS 2 packet id. */
  incoming(packetId: number, present: boolean, msg?: Message): void {
    if (!this.keepsMessages && present) return;
    const held = msg === undefined ? undefined : messageRecord(msg);
    this.p.batch.setIncoming(this.session.clientId, packetId, present, held);
    this.p.touch();
  }
}

/**
 * The broker's side of durable storage: turns session and broker events into
 * writes of the current window's {@link WriteBatch} and commits one batch at a
 * time (group commit: every write of a window shares one transaction and one
 * fsync). Whoever must not answer before a change is durable (in `commit`
 * mode: acknowledgements, CONNACK, SUBACK, outgoing QoS 2 PUBLISH) waits for
 * its window with {@link waitDurable}: one request per waiter and window, not
 * a closure or promise per message.
 */
export class Persistence {
  readonly store: Store;
  readonly mode: SyncMode;
  /** Whether acknowledgements wait for the commit (`commit` mode). */
  readonly defersAcks: boolean;
  /** The open window's writes. */
  batch = new WriteBatch();
  /**
   * What replies to clients wait for besides the commit, when set (a cluster
   * node: replicas of its sessions and the nodes it forwarded to confirming
   * what was sent so far); it calls `done` once that is confirmed.
   */
  replyGate: ((done: () => void) => void) | undefined;
  /** Commits completed (for tests and stats). */
  commits = 0;
  /** What the cluster's links keep in the store (unacknowledged forwarded frames, watermarks). */
  readonly links: LinkJournal = new LinkJournal(this);
  /** Number of the open window (its batch); the commit of window w makes w durable. */
  private window = 1;
  /** The last window whose commit succeeded. */
  private durableWindow = 0;
  private readonly interval: number;
  private readonly log: Logger | undefined;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Those waiting for a window's commit, in the order they asked, and that window. */
  private readonly waiters: CommitWaiter[] = [];
  private readonly waiterWindows: number[] = [];
  /** Replies to clients waiting for a window and the reply gate (see waitReplies), in order. */
  private readonly replyWaiters: CommitWaiter[] = [];
  /** How many of the reply waiters a started commit covers already. */
  private repliesClaimed = 0;
  /** The last release of reply waiters: releases happen in commit order. */
  private replyChain: Promise<unknown> = Promise.resolve();

  constructor(options: PersistenceOptions, log: Logger | undefined) {
    this.store = createStore(options);
    this.mode = options.sync ?? 'commit';
    this.defersAcks = this.mode === 'commit';
    this.interval = options.syncInterval ?? 10;
    this.log = log;
  }

  // ---------------------------------------------------------------- commit loop

  /** Notes that the batch has writes: schedules a commit unless one is scheduled or running. */
  touch(): void {
    if (!this.scheduled && this.running === undefined && !this.closed) this.schedule();
  }

  private schedule(): void {
    this.scheduled = true;
    if (this.mode === 'interval') setTimeout(runCommit, this.interval, this).unref();
    else setImmediate(runCommit, this);
  }

  /** The open commit window: a change made now is durable once this window is. */
  get openWindow(): number {
    return this.window;
  }

  /**
   * Asks to be told once the open window (everything written so far) is
   * durable, or that its commit failed; schedules that commit. Returns the window.
   */
  waitDurable(waiter: CommitWaiter): number {
    this.waiters.push(waiter);
    this.waiterWindows.push(this.window);
    this.touch();
    return this.window;
  }

  /**
   * {@link waitDurable} for replies to clients: with a reply gate, the waiter
   * is told once the window is durable and the gate passed. The gate is asked
   * when the window's commit starts (so it covers everything routed in the
   * window) and runs alongside the write; gates pass in order, so windows do too.
   */
  waitReplies(waiter: CommitWaiter): number {
    if (this.replyGate === undefined) return this.waitDurable(waiter);
    this.replyWaiters.push(waiter);
    this.touch();
    return this.window;
  }

  /**
   * Asks the reply gate for the reply waiters not yet covered by a commit;
   * returns how many it covers and a promise for the gate (undefined: none).
   */
  private claimReplies(): [number, Promise<void> | undefined] {
    const nr = this.replyWaiters.length - this.repliesClaimed;
    const gate = this.replyGate;
    if (nr === 0) return [0, undefined];
    this.repliesClaimed += nr;
    if (gate === undefined) return [nr, undefined];
    return [nr, new Promise<void>((resolve) => gate(resolve))];
  }

  /** Tells the first `nr` reply waiters about window `w` once `write` and `gate` are done, in commit order. */
  private releaseReplies(
    nr: number,
    w: number,
    write: Promise<boolean>,
    gate: Promise<void> | undefined,
  ): void {
    if (nr === 0) return;
    this.replyChain = Promise.all([this.replyChain, write, gate]).then(([, ok]) => {
      const told = this.replyWaiters.splice(0, nr);
      this.repliesClaimed -= nr;
      for (const waiter of told) {
        if (ok) waiter.durable(w);
        else waiter.commitFailed(w);
      }
    });
  }

  /** Commits the open window; those waiting on it so far are told when it is durable. */
  commitNow(): void {
    this.scheduled = false;
    if (this.running !== undefined) return;
    const n = this.waiters.length;
    const [nr, gate] = this.claimReplies();
    const batch = this.batch;
    if (batch.empty) {
      // Nothing to write: what was asked for so far is as durable as it gets.
      if (n > 0 || nr > 0) {
        const w = this.window++;
        if (n > 0) this.notify(n, w, true);
        this.releaseReplies(nr, w, Promise.resolve(true), gate);
      }
      return;
    }
    this.batch = new WriteBatch();
    const w = this.window++;
    const running = this.store.write(batch, this.mode !== 'none').then(
      () => this.committed(n, w),
      (err: unknown) => this.failed(err, n, w),
    );
    this.running = running.then(ignoreResult);
    this.releaseReplies(nr, w, running, gate);
  }

  private committed(n: number, w: number): boolean {
    this.running = undefined;
    this.commits++;
    this.durableWindow = w;
    if (n > 0) this.notify(n, w, true);
    this.again();
    return true;
  }

  private failed(err: unknown, n: number, w: number): boolean {
    this.running = undefined;
    this.log?.error({ err }, 'store commit failed; acknowledgements withheld');
    if (n > 0) this.notify(n, w, false);
    this.again();
    return false;
  }

  /** Another commit when writes or waiters came in while this one ran. */
  private again(): void {
    if (
      !this.batch.empty ||
      this.waiters.length > 0 ||
      this.replyWaiters.length > this.repliesClaimed
    )
      this.touch();
  }

  /** Tells the first `n` waiters (all waiting on window `w` or before) how its commit went. */
  private notify(n: number, w: number, ok: boolean): void {
    // Taken off the list first: a waiter told may ask again (for a later window).
    const told = this.waiters.splice(0, n);
    this.waiterWindows.splice(0, n);
    for (let i = 0; i < n; i++) {
      if (ok) told[i]!.durable(w);
      else told[i]!.commitFailed(w);
    }
  }

  /** Resolves once everything written so far is committed (durably, unless mode `none`). */
  async flush(): Promise<void> {
    while (this.running !== undefined || !this.batch.empty) {
      if (this.running !== undefined) await this.running;
      else this.commitNow();
    }
  }

  /** Commits what is pending and closes the store. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.waiters.length = 0;
    this.waiterWindows.length = 0;
    this.replyWaiters.length = 0;
    this.repliesClaimed = 0;
    await this.store.close();
  }

  // ---------------------------------------------------------------- sessions

  /** Whether the session outlives its connection in the store (a restart would bring it back). */
  isStored(session: Session): boolean {
    const st = session.persist as SessionStoreState | undefined;
    return st?.keepsMessages === true;
  }

  /**
   * A client attached to a session (new or resumed): store it if it outlives
   * its connection or has a will. Returns whether its CONNACK must wait for the
   * commit (`commit` mode only): when this CONNECT changed what a restart would
   * tell the client about its session. That is, it discarded a stored session
   * (`discarded`: a clean start), created a stored one, or changed a stored
   * one's expiry or cancelled its delayed will; or resumed a stored session
   * whose last such change is not durable yet (a CONNACK still waiting on a
   * connection that dropped or was taken over, a cluster handover). A plain
   * reconnect (only `disconnectedAt` and the live will change) and a clean
   * session that touches nothing stored do not wait.
   */
  sessionAttached(session: Session, will: Will | undefined, discarded: boolean): boolean {
    const keeps = session.expiryInterval > 0;
    let st = session.persist as SessionStoreState | undefined;
    let changed = discarded;
    if (st === undefined) {
      if (!keeps && will === undefined) return discarded && this.defersAcks;
      st = new SessionStoreState(this, session);
      session.setPersistence(st);
      changed ||= keeps;
    } else if (st.keepsMessages) {
      changed ||=
        st.storedExpiry !== session.expiryInterval ||
        st.storedPendingWill ||
        st.changedIn > this.durableWindow;
    } else changed ||= keeps;
    st.keepsMessages = keeps;
    st.recorded = true;
    st.putRecord(will);
    if (changed) st.changedIn = this.window;
    return changed && this.defersAcks;
  }

  /** A stored session changed while offline (disconnected, will published). */
  sessionSaved(session: Session): void {
    const st = session.persist as SessionStoreState | undefined;
    if (st === undefined || !st.recorded) return;
    st.putRecord(undefined);
  }

  /** A session is being discarded: everything stored for it goes. */
  sessionDestroyed(session: Session): void {
    const st = session.persist as SessionStoreState | undefined;
    if (st === undefined) return;
    for (const d of session.inflight.values()) st.removed(d);
    for (const d of session.queued()) st.removed(d);
    const b = this.batch;
    const id = session.clientId;
    for (const filter of session.subscriptions.keys()) b.deleteSubscription(id, filter);
    for (const pid of session.incomingIds()) b.setIncoming(id, pid, false);
    if (st.recorded) b.deleteSession(id);
    session.setPersistence(undefined);
    this.touch();
  }

  /** A subscription was added or replaced. */
  subscribed(rec: SubscriptionRecord): void {
    const st = rec.session.persist as SessionStoreState | undefined;
    if (st === undefined || !st.keepsMessages) return;
    this.batch.putSubscription(rec.session.clientId, subscriptionData(rec));
    this.touch();
  }

  /** A subscription was removed. */
  unsubscribed(session: Session, filter: string): void {
    if (session.persist === undefined) return;
    this.batch.deleteSubscription(session.clientId, filter);
    this.touch();
  }

  /** A retained message was set (or cleared by an empty payload). */
  retainedChanged(msg: Message): void {
    // $SYS is the broker's live state: restoring yesterday's values would report them as today's.
    if (msg.topic.startsWith('$SYS/')) return;
    if (msg.payload.length === 0) this.batch.deleteRetained(msg.topic);
    else this.batch.putRetained(messageRecord(msg));
    this.touch();
  }

  /** Reserves the next block of message ids; returns the new limit. */
  reserveMessageIds(next: number): number {
    const limit = next + MESSAGE_ID_BLOCK;
    this.batch.setMeta('nextMessageId', limit);
    this.touch();
    return limit;
  }
}

function ignoreResult(): void {}

function runCommit(p: Persistence): void {
  p.commitNow();
}
