/** Replicating this node's persistent sessions to another node, and restoring them when their owner died. */
import { randomBytes } from 'node:crypto';
import type { Delivery, Session, SessionPersistence } from '../broker/session.js';
import {
  deliveryRecord,
  messageRecord,
  sessionRecord,
  subscriptionData,
} from '../store/persistence.js';
import { fromJson, type SessionHandover, toJson } from './handover.js';
import type { ClusterHost } from './host.js';
import { DataKind } from './link-wire.js';
import type { PeerLink } from './peer-link.js';
import { ReplicaDisk } from './replica-disk.js';
import { type ReplicaOp, ReplicaStore } from './replica-store.js';

/** What replication needs of its cluster node. */
export interface ReplicasLink {
  readonly host: ClusterHost;
  /** How long a restore waits for the other nodes' copies, ms. */
  readonly timeout: number;
  /** Ids of the other nodes linked and alive now. */
  liveNodes(): string[];
  /** This node's link to another node. */
  linkTo(id: string): PeerLink | undefined;
  /** Every link of this node. */
  links(): Iterable<PeerLink>;
  /** This node's claim epoch of a client id (0 when unknown). */
  epochOf(clientId: string): number;
  /** The highest sequence number applied here per incoming stream (replicated with every batch). */
  applied(): Record<string, number>;
}

/** Replication messages between nodes, JSON in a {@link DataKind.Replica} frame. */
type ReplicaMessage =
  /** Owner → replica: changes of its sessions, batch `n` of that link. */
  | { t: 'ops'; n: number; b: string; ops: ReplicaOp[]; w?: Record<string, number> }
  /** Replica → owner: batches up to `n` are applied (and durable, with a store). */
  | { t: 'ack'; n: number; b: string }
  /** New owner → any node: your copy of `c`'s session, if node `o` owned it. */
  | { t: 'fetch'; id: number; c: string; o: string }
  /** Answer to a fetch. */
  | { t: 'copy'; id: number; e?: number; s?: SessionHandover; w?: Record<string, number> }
  /** Drop your copy of `c` if node `o` owned it: the session was restored elsewhere. */
  | { t: 'forget'; c: string; o: string };

/** A session replicated from here. */
interface Tracked {
  session: Session;
  /** The node holding its copy (undefined: no other node alive). */
  node: string | undefined;
  tap: Tap;
  /** Record or subscriptions changed since the last flush. */
  dirty: boolean;
}

/** Replica ids of deliveries (one id space per node; the copy orders deliveries by it). */
const rids = new WeakMap<Delivery, number>();
let nextRid = 0;

function ridOf(d: Delivery): [number, boolean] {
  let r = rids.get(d);
  if (r !== undefined) return [r, false];
  r = ++nextRid;
  rids.set(d, r);
  return [r, true];
}

/** Streams one session's delivery changes to its replica (beside the store: see Session.setTap). */
class Tap implements SessionPersistence {
  private readonly r: Replicas;
  private readonly t: Tracked;

  constructor(r: Replicas, t: Tracked) {
    this.r = r;
    this.t = t;
  }

  stored(d: Delivery): void {
    const [r, fresh] = ridOf(d);
    const c = this.t.session.clientId;
    const op: ReplicaOp = { k: 'put', c, r, d: deliveryRecord(d) };
    if (fresh) op.m = messageRecord(d.msg);
    this.r.queue(this.t, op);
  }

  removed(d: Delivery): void {
    const r = rids.get(d);
    if (r === undefined) return;
    rids.delete(d);
    this.r.queue(this.t, { k: 'del', c: this.t.session.clientId, r });
  }

  /**
   * A QoS 2 PUBLISH goes out only once its packet id is on the replica (and
   * in the store): a session restored elsewhere re-sends it with the same id,
   * which the client recognises, never as a new message.
   */
  hold(d: Delivery): boolean {
    if (this.t.node === undefined) return false;
    this.stored(d);
    const s = this.t.session;
    const pid = d.packetId;
    const r = this.r;
    // Never synchronously: the session marks the delivery held after this returns.
    const send = () => queueMicrotask(() => s.sendHeld(pid));
    r.whenReplicated(() => r.host.whenDurable(send));
    return true;
  }

  incoming(packetId: number, present: boolean): void {
    this.r.queue(this.t, { k: 'in', c: this.t.session.clientId, p: packetId, on: present });
  }
}

/** FNV-1a: a stable score for rendezvous hashing (every node computes the same replica). */
function score(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Someone waiting until the replicas confirmed what was sent to them so far. */
interface Waiter {
  targets: Map<string, number>;
  done: () => void;
}

/** A restore waiting for the other nodes' copies. */
interface Fetch {
  asked: number;
  best: Restored | undefined;
  finish: () => void;
}

function ignore(): void {}

/** A copy found for a restore: the session, its epoch, and its owner's watermark when known. */
interface Restored {
  epoch: number;
  session: SessionHandover;
  marks: Record<string, number> | undefined;
}

/** How often a wait for replicas checks that they are still reachable, ms. */
const WATCH_MS = 50;

/**
 * Session replication. Each persistent session owned here has one replica
 * node, chosen by rendezvous hashing over the live nodes (re-chosen when they
 * change; the new replica gets a snapshot, the old one a drop). Its changes go
 * to that node in batches on the link; the replica applies them to its
 * {@link ReplicaStore} and confirms each batch once durable. Anything that must
 * not be acknowledged before the replica has it (a link ACK of a forwarded
 * message, a client's PUBACK in `commit` mode) waits for {@link whenReplicated}.
 */
export class Replicas {
  /** The copies this node keeps for others. */
  readonly store = new ReplicaStore();
  /** This process's id in batches and their acks. */
  private readonly boot = randomBytes(6).toString('hex');
  private readonly link: ReplicasLink;
  private readonly tracked = new Map<string, Tracked>();
  private readonly outgoing = new Map<string, ReplicaOp[]>();
  private readonly sent = new Map<string, number>();
  private readonly confirmed = new Map<string, number>();
  private waiters: Waiter[] = [];
  private readonly fetches = new Map<number, Fetch>();
  private nextFetch = 1;
  private flushScheduled = false;
  /** Checks the replicas waited for, while anyone waits. */
  private watch: NodeJS.Timeout | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(link: ReplicasLink) {
    this.link = link;
    this.sweeper = setInterval(() => this.store.sweep(Date.now()), 5000);
    this.sweeper.unref();
  }

  /** The broker of this node. */
  get host(): ClusterHost {
    return this.link.host;
  }

  /** Sessions replicated from here (for metrics). */
  get replicated(): number {
    return this.tracked.size;
  }

  /** Keeps the copies in an LMDB environment in `dir` (loading those a previous run kept). */
  async useDisk(dir: string, sync: boolean): Promise<void> {
    this.store.useDisk(await ReplicaDisk.open(dir, sync));
  }

  /** Stops sweeping and answers everyone still waiting. */
  stop(): void {
    clearInterval(this.sweeper);
    clearInterval(this.watch);
    for (const w of this.waiters) w.done();
    this.waiters = [];
    for (const f of this.fetches.values()) f.finish();
  }

  // ---------------------------------------------------------------- owner side

  /** A session changed here (attached, offline, restored): replicate it if it outlives its connection. */
  saved(s: Session): void {
    const t = this.tracked.get(s.clientId);
    if (s.expiryInterval === 0) {
      if (t !== undefined) this.untrack(t);
      return;
    }
    if (t !== undefined && t.session === s) {
      t.dirty = true;
      this.schedule();
      return;
    }
    if (t !== undefined) this.untrack(t);
    const fresh: Tracked = { session: s, node: undefined, tap: undefined!, dirty: false };
    fresh.tap = new Tap(this, fresh);
    this.tracked.set(s.clientId, fresh);
    s.setTap(fresh.tap);
    fresh.node = this.choose(s.clientId);
    if (fresh.node !== undefined) this.snapshot(fresh);
  }

  /** A subscription of a session changed. */
  subscriptionsChanged(s: Session): void {
    const t = this.tracked.get(s.clientId);
    if (t === undefined || t.session !== s) return;
    t.dirty = true;
    this.schedule();
  }

  /** A session ended here: its replica drops its copy. */
  ended(clientId: string): void {
    const t = this.tracked.get(clientId);
    if (t !== undefined) this.untrack(t);
  }

  /**
   * The live nodes changed: sessions whose replica changed get a snapshot
   * there (the old one a drop, delivered if it comes back), and whoever waited
   * for a node that is not live any more waits for the new replicas instead.
   */
  membershipChanged(live = this.link.liveNodes()): void {
    for (const t of this.tracked.values()) {
      const node = this.choose(t.session.clientId, live);
      if (node === t.node) continue;
      if (t.node !== undefined) this.push(t.node, { k: 'drop', c: t.session.clientId });
      t.node = node;
      if (node !== undefined) this.snapshot(t);
    }
    // What went to a node that is not live is not waited for any more: the snapshots above replace it.
    for (const [id, n] of this.sent) if (!live.includes(id)) this.confirmed.set(id, n);
    const affected = this.waiters.filter((w) =>
      [...w.targets.keys()].some((id) => !live.includes(id)),
    );
    if (affected.length === 0) return;
    this.waiters = this.waiters.filter((w) => !affected.includes(w));
    for (const w of affected) this.whenReplicated(w.done, live);
  }

  /** A node's link came up again (it may have restarted): it gets snapshots of what it replicates. */
  linkUp(id: string): void {
    for (const t of this.tracked.values()) if (t.node === id) this.snapshot(t);
  }

  /** Queues a change for the replica of a tracked session. */
  queue(t: Tracked, op: ReplicaOp): void {
    if (t.node === undefined) return;
    this.push(t.node, op);
  }

  /**
   * Calls `done` once every replica confirmed what was queued for it so far
   * (pending changes go out as one batch at the end of this event-loop turn).
   * A replica that dies meanwhile is replaced, and the wait moves to the new
   * one's snapshot.
   */
  whenReplicated(done: () => void, live = this.link.liveNodes()): void {
    this.collectHeaders();
    // Changes for a replica that is not reachable any more (queued, or sent and not
    // confirmed): its sessions are re-chosen first, and their snapshots waited for.
    for (const [id, ops] of this.outgoing)
      if (ops.length > 0 && !live.includes(id)) {
        this.membershipChanged(live);
        break;
      }
    for (const [id, n] of this.sent)
      if (!live.includes(id) && (this.confirmed.get(id) ?? 0) < n) {
        this.membershipChanged(live);
        break;
      }
    const targets = new Map<string, number>();
    for (const [id, ops] of this.outgoing)
      if (ops.length > 0 && live.includes(id)) targets.set(id, (this.sent.get(id) ?? 0) + 1);
    for (const [id, n] of this.sent)
      if (!targets.has(id) && live.includes(id) && (this.confirmed.get(id) ?? 0) < n)
        targets.set(id, n);
    if (targets.size === 0) {
      done();
      return;
    }
    this.waiters.push({ targets, done });
    if (this.watch === undefined) {
      this.watch = setInterval(() => this.check(), WATCH_MS);
      this.watch.unref();
    }
  }

  /** While anyone waits: a replica whose links went down (a node killed) is replaced at once. */
  private check(): void {
    if (this.waiters.length === 0) {
      clearInterval(this.watch);
      this.watch = undefined;
      return;
    }
    const live = this.link.liveNodes();
    if (this.waiters.some((w) => [...w.targets.keys()].some((id) => !live.includes(id))))
      this.membershipChanged();
  }

  private choose(clientId: string, live = this.link.liveNodes()): string | undefined {
    let best: string | undefined;
    let top = -1;
    for (const id of live) {
      const v = score(`${clientId}\u0000${id}`);
      if (v > top || (v === top && id < best!)) {
        top = v;
        best = id;
      }
    }
    return best;
  }

  private untrack(t: Tracked): void {
    const c = t.session.clientId;
    this.tracked.delete(c);
    t.session.setTap(undefined);
    if (t.node !== undefined) this.push(t.node, { k: 'drop', c });
  }

  private snapshot(t: Tracked): void {
    const s = t.session;
    const ds: [number, ReturnType<typeof deliveryRecord>, ReturnType<typeof messageRecord>][] = [];
    for (const d of s.inflight.values())
      ds.push([ridOf(d)[0], deliveryRecord(d), messageRecord(d.msg)]);
    for (const d of s.queued()) ds.push([ridOf(d)[0], deliveryRecord(d), messageRecord(d.msg)]);
    t.dirty = false;
    this.push(t.node!, {
      k: 'snap',
      c: s.clientId,
      e: this.link.epochOf(s.clientId),
      rec: sessionRecord(s, undefined),
      subs: [...s.subscriptions.values()].map(subscriptionData),
      ds,
      inc: [...s.incomingIds()],
    });
  }

  private push(node: string, op: ReplicaOp): void {
    let ops = this.outgoing.get(node);
    if (ops === undefined) this.outgoing.set(node, (ops = []));
    ops.push(op);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Turns changed session records and subscriptions into changes for their replicas. */
  private collectHeaders(): void {
    for (const t of this.tracked.values()) {
      if (!t.dirty || t.node === undefined) continue;
      t.dirty = false;
      const s = t.session;
      this.push(t.node, {
        k: 'hdr',
        c: s.clientId,
        rec: sessionRecord(s, undefined),
        subs: [...s.subscriptions.values()].map(subscriptionData),
      });
    }
  }

  /** Sends each replica its pending changes as one batch. */
  private flush(): void {
    this.collectHeaders();
    this.flushScheduled = false;
    for (const [node, ops] of this.outgoing) {
      if (ops.length === 0) continue;
      this.outgoing.set(node, []);
      const n = (this.sent.get(node) ?? 0) + 1;
      this.sent.set(node, n);
      const l = this.link.linkTo(node);
      // The watermark as of this batch: every frame applied up to it has its changes in this batch or before.
      if (l !== undefined) this.send(l, { t: 'ops', n, b: this.boot, ops, w: this.link.applied() });
      // No link to it any more: nothing to wait for; the next membership change re-chooses.
      else this.confirm(node, n);
    }
  }

  private send(l: PeerLink, m: ReplicaMessage): void {
    l.send(DataKind.Replica, Buffer.from(toJson(m)));
  }

  private confirm(from: string, n: number): void {
    if ((this.confirmed.get(from) ?? 0) >= n) return;
    this.confirmed.set(from, n);
    const still: Waiter[] = [];
    const ready: Waiter[] = [];
    for (const w of this.waiters) {
      const want = w.targets.get(from);
      if (want !== undefined && want <= n) w.targets.delete(from);
      (w.targets.size === 0 ? ready : still).push(w);
    }
    this.waiters = still;
    for (const w of ready) w.done();
  }

  // ---------------------------------------------------------------- both sides

  /** A replication message from node `from`. */
  onData(from: string, body: Buffer): void {
    const m = fromJson(body.toString()) as ReplicaMessage;
    const l = this.link;
    switch (m.t) {
      case 'ops': {
        for (const op of m.ops) this.store.apply(from, op);
        if (m.w !== undefined) this.store.mark(from, m.w);
        // Confirmed once what was applied is durable here (the owner's acknowledgements wait for it).
        this.store.durable().then(
          () => {
            const back = l.linkTo(from);
            if (back !== undefined) this.send(back, { t: 'ack', n: m.n, b: m.b });
          },
          (err: unknown) => l.host.log?.error({ err }, 'cluster: replica copies not written'),
        );
        break;
      }
      case 'ack':
        // Batch numbers restart with each process: an ack for a predecessor's batch confirms nothing.
        if (m.b === this.boot) this.confirm(from, m.n);
        break;
      case 'fetch': {
        const copy = this.store.get(m.c, m.o);
        const back = l.linkTo(from);
        if (back !== undefined)
          this.send(
            back,
            copy === undefined
              ? { t: 'copy', id: m.id }
              : { t: 'copy', id: m.id, e: copy.epoch, s: copy.session, w: copy.marks },
          );
        break;
      }
      case 'copy': {
        const f = this.fetches.get(m.id);
        if (f === undefined) break;
        if (m.s !== undefined && (f.best === undefined || (m.e ?? 0) > f.best.epoch))
          f.best = { epoch: m.e ?? 0, session: m.s, marks: m.w };
        if (--f.asked === 0) f.finish();
        break;
      }
      case 'forget':
        this.store.forget(m.c, m.o);
        break;
    }
  }

  // ---------------------------------------------------------------- fail-over

  /**
   * The copy of a session whose owner `old` died: this node's own, else the
   * newest one another live node holds (asked on every connected link, waiting
   * at most the hand-over timeout). Every other copy of it is then forgotten.
   */
  async fetch(clientId: string, old: string): Promise<Restored | undefined> {
    const l = this.link;
    let found = this.store.get(clientId, old);
    if (found === undefined) {
      const asked = [...l.links()].filter((x) => x.connected && x.id !== old);
      if (asked.length > 0) {
        const id = this.nextFetch++;
        const f: Fetch = { asked: asked.length, best: undefined, finish: ignore };
        const done = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, l.timeout);
          f.finish = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.fetches.set(id, f);
        for (const x of asked) this.send(x, { t: 'fetch', id, c: clientId, o: old });
        await done;
        this.fetches.delete(id);
        found = f.best;
      }
    }
    this.store.forget(clientId, old);
    for (const x of l.links()) this.send(x, { t: 'forget', c: clientId, o: old });
    return found;
  }
}
