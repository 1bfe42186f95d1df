/** Which node owns a client id: claims with fencing epochs, take-over requests, session hand-over replies. */
import type { Message } from '../broker/message.js';
import type { Session } from '../broker/session.js';
import {
  captureSession,
  fromJson,
  installSession,
  type SessionHandover,
  toJson,
} from './handover.js';
import type { ClusterHost } from './host.js';
import { DataKind } from './link-wire.js';
import type { Moves } from './moves.js';
import type { Lineage } from './orphans.js';
import type { PeerLink } from './peer-link.js';
import { publishVia, type RedisClient } from './redis-conn.js';

/**
 * Claims a client id for this node: bumps the id's fencing epoch, records the
 * new owner and reports the previous one and whether it is still alive, all in
 * one atomic step so two nodes racing for a client id get distinct epochs.
 */
const CLAIM = `
local e = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local old = redis.call('HGET', KEYS[1], 'node') or ''
redis.call('HSET', KEYS[1], 'node', ARGV[1])
local alive = 0
if old ~= '' and old ~= ARGV[1] then alive = redis.call('EXISTS', ARGV[2] .. old) end
return {old, e, alive}`;

/** Drops the ownership record only if this node still holds it at the same epoch. */
const RELEASE = `
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] and redis.call('HGET', KEYS[1], 'epoch') == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** Control messages on a node's control channel (a hand-over reply may come on the link instead). */
type Control =
  | { t: 'takeover'; id: number; c: string; e: number; clean: boolean; from: string }
  | { t: 'handover'; id: number; s?: SessionHandover; keys?: string[]; o?: Lineage };

/** A claim waiting for the old node's reply. */
interface Waiting {
  clientId: string;
  clean: boolean;
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/** What ownership needs of its cluster node. */
export interface OwnershipLink {
  readonly host: ClusterHost;
  readonly nodeId: string;
  /** Prefix of every Redis key and channel of the cluster. */
  readonly keyPrefix: string;
  /** How long a take-over waits for the old node's session, ms. */
  readonly handoverTimeout: number;
  /** How long a claim waits for Redis before the node decides locally, ms. */
  readonly claimTimeout: number;
  /** Whether the node has joined the cluster (and not left it). */
  readonly started: boolean;
  /** The command connection, once opened. */
  redis(): RedisClient | undefined;
  /** Counts a connection closed here because its client id moved to another node. */
  tookOver(): void;
  /** Counts a persistent session received from another node. */
  sessionReceived(): void;
  /** Counts a CONNECT accepted without Redis's verdict. */
  claimedLocally(): void;
  /** Gapless session moves over the links. */
  readonly moves: Moves;
  /** This node's link to another node. */
  linkTo(id: string): PeerLink | undefined;
  /** The identity of a message wherever it travels. */
  keyOf(msg: Message): string;
  /** Restores the session of a client id whose owner `old` died from a replica; resolves when done. */
  restore(clientId: string, old: string): Promise<void>;
  /** A session was handed to another node: its replica here lets go (the new owner replicates it). */
  handedOver(clientId: string): void;
  /** Whether node `id` looks dead from here (its links are down): its hand-over is not waited for. */
  unreachable(id: string): boolean;
  /** Where a session that came from a dead node stands with that node's orphans (travels with a hand-over). */
  lineageOf(clientId: string): Lineage | undefined;
  /** A session handed over here came from a dead node. */
  adopted(s: Session, lin: Lineage): void;
}

/** Rejects after `ms` unless `p` settles first. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from redis within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function ignore(): void {}

function release(o: Ownership, clientId: string): void {
  o.release(clientId);
}

/** The control channel of a node. */
export function controlChannel(keyPrefix: string, nodeId: string): string {
  return `${keyPrefix}ctl:${nodeId}`;
}

/** Client-id ownership of one node, and the hand-over of sessions when an id moves. */
export class Ownership {
  private readonly link: OwnershipLink;
  /** Fencing epochs of the client ids this node claimed. */
  private readonly epochs = new Map<string, number>();
  private readonly waiting = new Map<number, Waiting>();
  private nextRequest = 1;
  /** Client ids accepted here while Redis could not be asked: claimed when it is back. */
  private readonly unclaimed = new Set<string>();

  constructor(link: OwnershipLink) {
    this.link = link;
  }

  /**
   * Makes this node the owner of a client id before its CONNECT is accepted.
   * If another live node held it, that node closes its connection (0x8E) and,
   * unless the client starts clean, hands the session over; it is installed
   * here so the client resumes it. Never rejects: when Redis is unreachable the
   * client is served as by a single node.
   */
  async claim(clientId: string, clean: boolean): Promise<void> {
    const l = this.link;
    const cmd = l.redis();
    if (!l.started || cmd === undefined) return;
    if (cmd.status !== 'ready') {
      this.decideLocally(clientId);
      return;
    }
    let claimed: [string, number, number];
    try {
      claimed = (await within(
        cmd.eval(CLAIM, 1, `${l.keyPrefix}session:${clientId}`, l.nodeId, `${l.keyPrefix}node:`),
        l.claimTimeout,
      )) as [string, number, number];
    } catch {
      this.decideLocally(clientId);
      return;
    }
    try {
      const [old, epoch, alive] = claimed;
      this.unclaimed.delete(clientId);
      this.epochs.set(clientId, epoch);
      if (old === '' || old === l.nodeId) return;
      // The owner died: its session comes from a replica (a clean start wants none).
      if (alive !== 1 || l.unreachable(old)) {
        // Told anyway: a node only cut off from here must still let the client id go.
        if (alive === 1) this.letGo(old, clientId, epoch);
        if (!clean) await l.restore(clientId, old);
        return;
      }
      const id = this.nextRequest++;
      const reply = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(id);
          l.host.log?.warn(
            `cluster: node ${old} did not hand over ${clientId} in time; restoring it from a replica`,
          );
          if (clean) resolve();
          else l.restore(clientId, old).then(resolve, resolve);
        }, l.handoverTimeout);
        this.waiting.set(id, { clientId, clean, resolve, timer });
      });
      const req: Control = { t: 'takeover', id, c: clientId, e: epoch, clean, from: l.nodeId };
      await publishVia(cmd, `${l.keyPrefix}nodes`, controlChannel(l.keyPrefix, old), toJson(req));
      await reply;
    } catch (err) {
      l.host.log?.warn({ err, clientId }, 'cluster: could not claim client id');
    }
  }

  /**
   * Accepts a client without Redis (it is away or slow): CONNACK stays within
   * the claim timeout. The claim is made when Redis is back; if another node
   * accepted the same client id meanwhile, the later claim wins and the other
   * node closes its connection (split-brain rule, docs/cluster.md).
   */
  private decideLocally(clientId: string): void {
    this.unclaimed.add(clientId);
    this.link.claimedLocally();
  }

  /** Redis is back: claims the client ids accepted without it that still have a session here. */
  reconcile(): void {
    const ids = [...this.unclaimed];
    this.unclaimed.clear();
    for (const id of ids) {
      const s = this.link.host.session(id);
      // Our client is connected here: the other node's copy is discarded, not merged.
      if (s !== undefined) void this.claim(id, true);
    }
  }

  /**
   * The old node's reply: installs the session (synchronously, so that
   * messages relayed after it on the same link find it) and ends the wait.
   * `from`: the node that replied on its link (the move then stays gapless).
   */
  private replied(c: Extract<Control, { t: 'handover' }>, from: string | undefined): void {
    const w = this.waiting.get(c.id);
    if (w === undefined) return;
    this.waiting.delete(c.id);
    clearTimeout(w.timer);
    const l = this.link;
    const host = l.host;
    const s = c.s;
    try {
      // Whatever this node still has for the id predates the other node's copy.
      const stale = host.session(w.clientId);
      if (stale !== undefined && !stale.online && s !== undefined) {
        stale.takeWill();
        host.destroySession(stale);
      }
      if (s !== undefined && !w.clean) {
        const installed = installSession(host, s);
        l.sessionReceived();
        if (c.o !== undefined) l.adopted(installed, c.o);
        if (from !== undefined) l.moves.opened(installed, from, c.keys ?? []);
      }
    } catch (err) {
      host.log?.warn({ err, clientId: w.clientId }, 'cluster: could not install a session');
    }
    w.resolve();
  }

  /** A hand-over reply that came on the link from node `from`. */
  onLinkReply(from: string, text: string): void {
    this.replied(fromJson(text) as Extract<Control, { t: 'handover' }>, from);
  }

  /** Handles a message of this node's control channel: a take-over request or a hand-over reply. */
  onControl(text: string): void {
    const c = fromJson(text) as Control;
    if (c.t === 'handover') {
      this.replied(c, undefined);
      return;
    }
    const l = this.link;
    const host = l.host;
    const mine = this.epochs.get(c.c);
    let state: SessionHandover | undefined;
    // A claim older than ours is stale: our client keeps its connection.
    if (mine === undefined || mine <= c.e) {
      this.epochs.delete(c.c);
      let s = host.session(c.c);
      if (s !== undefined && host.closeTakenOver(s)) {
        l.tookOver();
        s = host.session(c.c);
      }
      if (s !== undefined) {
        if (!c.clean) {
          state = captureSession(s);
          l.handedOver(c.c);
          // The client resumed elsewhere: a delayed will is cancelled, and
          // shared deliveries travel with the session instead of moving locally.
          s.takeWill();
          for (const d of s.inflight.values()) d.group = undefined;
          for (const d of s.queued()) d.group = undefined;
          const link = l.linkTo(c.from);
          if (link !== undefined) {
            // On the link, so messages still reaching the session here follow the hand-over in order.
            const keys: string[] = [];
            for (const d of s.inflight.values()) keys.push(l.keyOf(d.msg));
            for (const d of s.queued()) keys.push(l.keyOf(d.msg));
            const o = l.lineageOf(c.c);
            const reply: Control = { t: 'handover', id: c.id, s: state, keys, ...(o ? { o } : {}) };
            link.send(DataKind.Handover, Buffer.from(toJson(reply)));
            l.moves.relay(s, c.from);
            return;
          }
        }
        host.destroySession(s);
      }
    }
    const reply: Control = {
      t: 'handover',
      id: c.id,
      ...(state !== undefined ? { s: state } : {}),
    };
    const r = l.redis();
    if (r !== undefined)
      publishVia(
        r,
        `${l.keyPrefix}nodes`,
        controlChannel(l.keyPrefix, c.from),
        toJson(reply),
      ).catch(ignore);
  }

  /** Tells node `old`, through Redis, that this node took the client id at `epoch`: it drops its copy. */
  letGo(old: string, clientId: string, epoch: number): void {
    const l = this.link;
    const req: Control = {
      t: 'takeover',
      id: 0,
      c: clientId,
      e: epoch,
      clean: true,
      from: l.nodeId,
    };
    l.redis()?.publish(controlChannel(l.keyPrefix, old), toJson(req), ignore);
  }

  /** This node took a client id over at `epoch` (a dead node's session promoted here). */
  claimed(clientId: string, epoch: number): void {
    this.epochs.set(clientId, epoch);
  }

  /** This node's claim epoch of a client id (0 when it has none). */
  epochOf(clientId: string): number {
    return this.epochs.get(clientId) ?? 0;
  }

  /** A session ended here: give up its client id unless a new connection took it meanwhile. */
  sessionEnded(clientId: string): void {
    if (this.epochs.has(clientId)) setImmediate(release, this, clientId);
  }

  /** Releases ownership of a client id that has no session here any more. */
  release(clientId: string): void {
    const l = this.link;
    if (l.host.session(clientId) !== undefined) return;
    const e = this.epochs.get(clientId);
    const cmd = l.redis();
    if (e === undefined || cmd === undefined || !l.started) return;
    this.epochs.delete(clientId);
    cmd.eval(RELEASE, 1, `${l.keyPrefix}session:${clientId}`, l.nodeId, String(e), ignore);
  }

  /**
   * A restarted node's store brought back sessions; any whose client id
   * another node claimed meanwhile moved there, and is dropped here. Returns
   * how many were dropped.
   */
  async checkRestored(): Promise<number> {
    const l = this.link;
    const cmd = l.redis();
    if (cmd === undefined) return 0;
    const ids = [...l.host.sessionIds()];
    let dropped = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const pl = cmd.pipeline();
      for (const id of batch) pl.hget(`${l.keyPrefix}session:${id}`, 'node');
      const res = (await pl.exec()) ?? [];
      for (let j = 0; j < batch.length; j++) {
        const owner = res[j]?.[1] as string | null | undefined;
        const s = l.host.session(batch[j]!);
        if (owner == null || owner === l.nodeId || s === undefined || s.online) continue;
        l.host.log?.info(`cluster: session ${s.clientId} moved to node ${owner}; dropping it`);
        s.takeWill();
        l.host.destroySession(s);
        dropped++;
      }
    }
    return dropped;
  }

  /** Answers every waiting claim with "no session" (the node is leaving). */
  stop(): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waiting.clear();
  }
}
