/**
 * What happens to a dead node's sessions and to the messages other nodes had
 * forwarded to it: its replicas take the sessions over (promotion), and the
 * messages still in the other nodes' outboxes for it ("orphans") are applied to
 * those sessions wherever they are now, once each (see docs/cluster.md, Node failure).
 */
import type { Message } from '../broker/message.js';
import type { Session } from '../broker/session.js';
import type { QoS } from '../protocol/constants.js';
import { topicMatches } from '../protocol/topic.js';
import { decodeFrame, messageOf } from './frame.js';
import { installSession } from './handover.js';
import type { ClusterHost } from './host.js';
import { DataKind } from './link-wire.js';
import type { PeerLink } from './peer-link.js';
import type { RedisClient } from './redis-conn.js';
import type { Replicas } from './replicas.js';
import type { ClusterStats } from './stats.js';

/**
 * Takes a client id over from a dead owner, only while Redis still names that
 * owner (a client that resumed elsewhere meanwhile keeps its new owner).
 * Returns the new epoch, or 0 when the id is not taken.
 */
const PROMOTE = `
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
local e = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'node', ARGV[2])
return e`;

/** Where a session that came from a dead node stands with that node's orphans. */
export interface Lineage {
  /** The dead node. */
  n: string;
  /** Per sender stream (to the dead node): the dead node's applied watermark, whose frames are in the session. */
  w: Record<string, number>;
  /**
   * Orphans above the watermark already considered for the session, as
   * `stream:seq` (they arrive out of order: a node's newest frames can come
   * before its answer to a request for the older ones).
   */
  s?: string[];
  /** Keys of messages that reached the session directly while orphans may still come (never applied twice). */
  k?: string[];
}

/** A session here that came from a dead node. */
interface Heir {
  session: Session;
  lin: Lineage;
  /** Keys of messages routed to it directly, kept while orphans of the same messages may come. */
  direct: Set<string> | undefined;
  /** Orphans considered for it above the watermark (see Lineage.s). */
  seen: Set<string>;
  /** Nodes that have not said they sent their last orphan of the dead node. */
  ends: Set<string>;
  timer: NodeJS.Timeout;
}

/** This node's work for one dead node. */
interface Wake {
  /** Nodes that have not said their copies of the dead node's sessions are promoted and routed. */
  waiting: Set<string>;
  /** Orphans that came while this node's own promotion was under way. */
  held: Buffer[];
  promoting: boolean;
  /** The dead node's routes were dropped here and the last orphans sent. */
  finished: boolean;
  timer: NodeJS.Timeout;
}

/** Control messages about a dead node, JSON after a 0 byte in a {@link DataKind.Orphans} frame. */
type Notice =
  /** Send me your outbox for node `n` as orphans (a session from it landed here). */
  | { t: 'want'; n: string }
  /** My copies of `n`'s sessions are promoted and their routes in force. */
  | { t: 'done'; n: string }
  /** I dropped `n`'s routes: no more orphans of `n` come from me. */
  | { t: 'end'; n: string };

/** What orphan hand-off needs of its cluster node. */
export interface OrphansLink {
  readonly host: ClusterHost;
  readonly nodeId: string;
  readonly keyPrefix: string;
  /** The hand-over timeout, ms: how long other nodes' promotions are waited for (×3). */
  readonly timeout: number;
  readonly nodeTtl: number;
  readonly replicas: Replicas;
  /** Outgoing links by node id. */
  links(): Map<string, PeerLink>;
  /** Other nodes reachable now. */
  liveNodes(): string[];
  /** Whether both links with a node are down. */
  unreachable(id: string): boolean;
  redis(): RedisClient | undefined;
  /** Drops a node's routes here (`onlyShared`: its shared groups only). */
  dropRoutes(id: string, onlyShared?: boolean): void;
  /** This node now owns a client id at `epoch`. */
  claimed(clientId: string, epoch: number): void;
  /** Tells node `old` (through Redis, in case it is alive) that the client id is taken at `epoch`. */
  letGo(old: string, clientId: string, epoch: number): void;
  routesSettled(): Promise<void> | undefined;
  /** The node's counters: `sessionsRestored`, `orphans`, and `dropped` for what cannot be handed on. */
  readonly stats: ClusterStats;
}

function u16str(b: Buffer, pos: number): [string, number] {
  const n = b.readUInt16BE(pos);
  return [b.toString('utf8', pos + 2, pos + 2 + n), pos + 2 + n];
}

/**
 * Orphan hand-off. A node that declares another node gone keeps routing to it
 * for a short while, but every frame it puts in that node's outbox — and every
 * frame already there — goes as an orphan to every live node; each node applies
 * an orphan only to the sessions that came from the dead node (promoted here,
 * restored from its replica, or handed over since), only if its sequence number
 * is above the dead node's applied watermark replicated with the session, once
 * (by stream and sequence number), and never a message that already reached
 * the session directly. Once every live
 * node said its copies are promoted and routed, the dead node's routes go.
 */
export class Orphans {
  private readonly link: OrphansLink;
  private readonly wakes = new Map<string, Wake>();
  private readonly heirs = new Map<string, Heir>();
  /** Gone nodes whose outbox here was handed on as orphans. */
  private readonly handed = new Set<string>();
  /** Heirs still noting the messages routed to them directly. */
  private recordingCount = 0;
  /** Wakes whose dead node's routes are still kept (frames forwarded to it are orphans too). */
  private echoing = 0;

  constructor(link: OrphansLink) {
    this.link = link;
  }

  /** Whether frames forwarded to node `id` are orphans too (it is gone, its routes not yet dropped). */
  private echoes(id: string): boolean {
    const w = this.wakes.get(id);
    return w !== undefined && !w.finished;
  }

  /** Whether any dead node's routes are still kept (the forwarding path checks this first). */
  get active(): boolean {
    return this.echoing > 0;
  }

  /** Whether any heir notes direct messages (the routing paths check this first). */
  get recording(): boolean {
    return this.recordingCount > 0;
  }

  /** Stops every timer (the node leaves). */
  stop(): void {
    for (const w of this.wakes.values()) clearTimeout(w.timer);
    for (const h of this.heirs.values()) clearTimeout(h.timer);
  }

  // ---------------------------------------------------------------- the dead node

  /**
   * Node `id` was declared gone here. Its outbox goes out as orphans, copies
   * of its sessions held here are promoted, and its routes stay (every frame
   * forwarded to it becomes an orphan too) until every live node said its
   * copies are promoted and routed, or three hand-over timeouts passed.
   */
  gone(id: string): void {
    if (this.wakes.has(id)) return;
    const l = this.link;
    const w: Wake = {
      waiting: new Set([...l.liveNodes(), l.nodeId]),
      held: [],
      promoting: true,
      finished: false,
      timer: setTimeout(() => this.finish(id), 3 * l.timeout),
    };
    w.timer.unref();
    this.wakes.set(id, w);
    this.echoing++;
    // Its shared groups go at once: the other members take their messages (orphans serve plain subscriptions only).
    l.dropRoutes(id, true);
    this.handed.add(id);
    this.sendOutbox(id, undefined, true);
    this.promote(id).then(
      () => this.promoted(id, w),
      (err: unknown) => {
        l.host.log?.warn({ err }, `cluster: promoting node ${id}'s sessions failed`);
        this.promoted(id, w);
      },
    );
  }

  /**
   * A QoS 1/2 frame was forwarded on `link` (sequence `seq`; `head` then
   * `packet` when the frame was sent in two parts): if that node is gone, it is an orphan too.
   */
  forwarded(link: PeerLink, seq: number, head: Buffer, packet: Buffer | undefined): void {
    const id = link.id;
    if (!this.echoes(id)) return;
    const frame = packet === undefined ? head : Buffer.concat([head, packet]);
    this.countUnhanded(frame);
    const body = this.orphanBody(id, link.stream, seq, frame);
    // After the message's direct copies (sent later in the same forwarding loop): on every
    // link a direct copy then comes first, so the heir it reached notes it and skips the orphan.
    queueMicrotask(() => {
      this.apply(body);
      for (const x of this.link.links().values()) if (x.id !== id) x.send(DataKind.Orphans, body);
    });
  }

  private promoted(id: string, w: Wake): void {
    w.promoting = false;
    const held = w.held.splice(0);
    for (const b of held) this.apply(b);
    const tell = () => {
      this.notify({ t: 'done', n: id }, undefined);
      this.doneFrom(id, this.link.nodeId);
    };
    const settling = this.link.routesSettled();
    if (settling === undefined) tell();
    else settling.then(tell);
  }

  private doneFrom(id: string, from: string): void {
    const w = this.wakes.get(id);
    if (w === undefined) return;
    w.waiting.delete(from);
    for (const n of [...w.waiting])
      if (n !== this.link.nodeId && this.link.unreachable(n)) w.waiting.delete(n);
    if (w.waiting.size === 0) this.finish(id);
  }

  /** The dead node's routes go here; nothing more of it is forwarded, so no more orphans come from here. */
  private finish(id: string): void {
    const w = this.wakes.get(id);
    if (w === undefined || w.finished) return;
    w.finished = true;
    this.echoing--;
    clearTimeout(w.timer);
    this.link.dropRoutes(id);
    this.notify({ t: 'end', n: id }, undefined);
    this.endFrom(id, this.link.nodeId);
  }

  /** Node `id` is back (it was only slow): its wake ends; what moved stays moved (Redis epochs). */
  back(id: string): void {
    this.handed.delete(id);
    const w = this.wakes.get(id);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.wakes.delete(id);
    if (!w.finished) this.echoing--;
  }

  /** Whether this node's outbox for gone node `id` was handed on as orphans (closing it loses nothing). */
  handedOff(id: string): boolean {
    return this.handed.has(id);
  }

  /**
   * Takes over the copies of `id`'s sessions held here as owned offline
   * sessions: claimed in Redis only while Redis still names `id` (a client
   * that resumed elsewhere meanwhile keeps its new owner), routed, replicated.
   * With Redis away nothing is promoted: the copies wait for their clients.
   */
  private async promote(id: string): Promise<void> {
    const l = this.link;
    const store = l.replicas.store;
    const cmd = l.redis();
    const ids = store.ownedBy(id);
    if (ids.length === 0) return;
    if (cmd === undefined || cmd.status !== 'ready') {
      l.host.log?.warn(`cluster: redis is away; ${ids.length} sessions of node ${id} not promoted`);
      return;
    }
    for (const c of ids) {
      const epoch = Number(await cmd.eval(PROMOTE, 1, `${l.keyPrefix}session:${c}`, id, l.nodeId));
      const copy = store.get(c, id);
      if (epoch === 0 || copy === undefined || l.host.session(c) !== undefined) continue;
      store.forget(c, id);
      l.claimed(c, epoch);
      // As for a client that resumes elsewhere: a node only cut off (links down, alive) must let the client id go.
      l.letGo(id, c, epoch);
      const s = installSession(l.host, copy.session);
      l.replicas.saved(s);
      l.stats.sessionsRestored++;
      // A copy loaded from disk has no watermark: it gets no orphans (one of them could be in it already).
      if (copy.marks !== undefined) this.adopt(s, { n: id, w: copy.marks });
      l.host.log?.info(`cluster: took over ${c}'s session from its replica (node ${id} is gone)`);
    }
  }

  // ---------------------------------------------------------------- sessions from a dead node

  /**
   * A session that came from dead node `lin.n` is installed here: orphans of
   * that node are applied to it from now on, and every node is asked for its
   * outbox to that node (the watermark drops what the session already has).
   */
  adopt(s: Session, lin: Lineage): void {
    const l = this.link;
    const old = this.heirs.get(s.clientId);
    if (old !== undefined) this.drop(old);
    const ends = new Set([...l.liveNodes(), l.nodeId]);
    // Every node hands its outbox to the dead node on when it declares that node gone,
    // about two TTLs after the death: ten TTLs after the session landed, nothing comes any more.
    const timer = setTimeout(() => this.drop(h), 10 * l.nodeTtl);
    timer.unref();
    const h: Heir = {
      session: s,
      lin,
      direct: new Set(lin.k ?? []),
      seen: new Set(lin.s ?? []),
      ends,
      timer,
    };
    lin.k = lin.s = undefined;
    this.heirs.set(s.clientId, h);
    this.recordingCount++;
    for (const [n, w] of this.wakes) if (w.finished) this.endFrom(n, l.nodeId);
    this.notify({ t: 'want', n: lin.n }, undefined);
    this.sendOutbox(lin.n, undefined);
  }

  /**
   * A session of dead node `old` was restored here from its replica copy; a
   * copy without a watermark (loaded from disk) gets no orphans, since any of
   * them could be in it already.
   */
  restoredCopy(s: Session, old: string, w: Record<string, number> | undefined): void {
    if (w !== undefined) this.adopt(s, { n: old, w });
  }

  /**
   * The lineage of a session being handed to another node, which applies the
   * orphans from now on (here the session becomes a relay: it gets none).
   */
  lineageOf(clientId: string): Lineage | undefined {
    const h = this.heirs.get(clientId);
    if (h === undefined) return undefined;
    const k = h.direct === undefined ? [] : [...h.direct];
    this.drop(h);
    if (this.link.host.session(clientId) !== h.session) return undefined;
    return { n: h.lin.n, w: { ...h.lin.w }, k, s: [...h.seen] };
  }

  /** Notes a message routed here (directly) for the heirs it matches. */
  routing(topic: string, key: string): void {
    for (const h of this.heirs.values())
      if (h.direct !== undefined && matchesAny(h.session, topic)) h.direct.add(key);
  }

  private endFrom(id: string, from: string): void {
    for (const h of [...this.heirs.values()]) {
      if (h.lin.n !== id || h.direct === undefined) continue;
      h.ends.delete(from);
      for (const n of [...h.ends])
        if (n !== this.link.nodeId && this.link.unreachable(n)) h.ends.delete(n);
      if (h.ends.size === 0) this.stopRecording(h);
    }
  }

  private stopRecording(h: Heir): void {
    if (h.direct === undefined) return;
    h.direct = undefined;
    this.recordingCount--;
  }

  private drop(h: Heir): void {
    clearTimeout(h.timer);
    this.stopRecording(h);
    if (this.heirs.get(h.session.clientId) === h) this.heirs.delete(h.session.clientId);
  }

  // ---------------------------------------------------------------- the wire

  /** An Orphans frame from node `from`. */
  onData(from: string, body: Buffer): void {
    if (body[0] === 1) {
      const [dead] = u16str(body, 1);
      if (!this.wakes.has(dead) && this.link.unreachable(dead)) this.gone(dead);
      const w = this.wakes.get(dead);
      if (w?.promoting === true) w.held.push(body);
      else this.apply(body);
      return;
    }
    const m = JSON.parse(body.toString('utf8', 1)) as Notice;
    if (m.t === 'want') this.sendOutbox(m.n, from);
    else if (m.t === 'done') {
      if (!this.wakes.has(m.n) && this.link.unreachable(m.n)) this.gone(m.n);
      this.doneFrom(m.n, from);
    } else this.endFrom(m.n, from);
  }

  private notify(m: Notice, to: string | undefined): void {
    const body = Buffer.concat([Buffer.from([0]), Buffer.from(JSON.stringify(m))]);
    for (const x of this.link.links().values())
      if (to === undefined ? x.id !== m.n : x.id === to) x.send(DataKind.Orphans, body);
  }

  /**
   * Sends this node's outbox for dead node `id` as orphans: to node `to`, or to
   * every node (and applied here); `count`: the first hand-off, where what cannot be handed on is counted.
   */
  private sendOutbox(id: string, to: string | undefined, count = false): void {
    const l = this.link;
    const out = l.links().get(id);
    if (out === undefined) return;
    const bodies: Buffer[] = [];
    for (const f of out.pending()) {
      if (f.kind !== DataKind.Message) continue;
      const frame = f.tail === undefined ? f.body : Buffer.concat([f.body, f.tail]);
      if (count) this.countUnhanded(frame);
      bodies.push(this.orphanBody(id, out.stream, f.seq, frame));
    }
    if (bodies.length === 0) return;
    if (to === undefined) for (const b of bodies) this.apply(b);
    for (const x of l.links().values()) {
      if (x.id === id || (to !== undefined && x.id !== to)) continue;
      for (const b of bodies) x.send(DataKind.Orphans, b);
    }
  }

  /**
   * A frame for a dead node goes on as an orphan, but QoS 0 and shared-group
   * assignments are not applied anywhere else: counted in `dropped`, as the
   * closed outbox would have counted them.
   */
  private countUnhanded(frame: Buffer): void {
    try {
      const f = decodeFrame(frame);
      if (f.qos === 0 || f.shares.length > 0) this.link.stats.dropped++;
    } catch {
      this.link.stats.dropped++;
    }
  }

  private orphanBody(id: string, stream: string, seq: number, frame: Buffer): Buffer {
    const a = Buffer.from(id);
    const s = Buffer.from(stream);
    const head = Buffer.allocUnsafe(1 + 2 + a.length + 2 + s.length + 8);
    head[0] = 1;
    head.writeUInt16BE(a.length, 1);
    a.copy(head, 3);
    let pos = 3 + a.length;
    head.writeUInt16BE(s.length, pos);
    s.copy(head, pos + 2);
    pos += 2 + s.length;
    head.writeDoubleBE(seq, pos);
    return Buffer.concat([head, frame]);
  }

  /** Applies an orphan to the sessions here that came from its dead node, once each. */
  private apply(body: Buffer): void {
    const [dead, p1] = u16str(body, 1);
    const [stream, p2] = u16str(body, p1);
    const seq = body.readDoubleBE(p2);
    let msg: Message | undefined;
    let key = '';
    const host = this.link.host;
    for (const h of [...this.heirs.values()]) {
      if (h.lin.n !== dead) continue;
      if (host.session(h.session.clientId) !== h.session) {
        this.drop(h);
        continue;
      }
      if ((h.lin.w[stream] ?? 0) >= seq) continue;
      const id = `${stream}:${seq}`;
      if (h.seen.has(id)) continue;
      h.seen.add(id);
      if (msg === undefined) {
        const f = decodeFrame(body.subarray(p2 + 8));
        msg = messageOf(host, f);
        key = f.key === '' ? `${f.node}:${msg.id}` : f.key;
        msg.clusterKey = key;
      }
      // QoS 0 is at most once: the dead node may have sent it already.
      if (msg.qos === 0 || msg.isExpired(host.now)) continue;
      if (h.direct?.has(key) === true) continue;
      if (deliverTo(h.session, msg)) this.link.stats.orphans++;
    }
  }
}

function matchesAny(s: Session, topic: string): boolean {
  for (const rec of s.subscriptions.values())
    if (rec.shareGroup === undefined && topicMatches(rec.topicFilter, topic)) return true;
  return false;
}

/**
 * Delivers a message to one session by its own (non-shared) subscriptions, as
 * the router would: the highest granted QoS, Retain As Published, No Local,
 * every subscription identifier.
 */
function deliverTo(s: Session, msg: Message): boolean {
  let qos = -1;
  let retain = false;
  let subIds: number[] | undefined;
  for (const rec of s.subscriptions.values()) {
    if (rec.shareGroup !== undefined || !topicMatches(rec.topicFilter, msg.topic)) continue;
    if (rec.noLocal && s.clientId === msg.origin) continue;
    const q = msg.qos < rec.qos ? msg.qos : rec.qos;
    if (q > qos) qos = q;
    if (rec.retainAsPublished && msg.retain) retain = true;
    if (rec.subscriptionId !== undefined) (subIds ??= []).push(rec.subscriptionId);
  }
  if (qos < 0) return false;
  s.deliver(msg, qos as QoS, retain, subIds);
  return true;
}
