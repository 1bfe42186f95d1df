/** A node's membership as Redis keeps it: liveness key, member set, route copy, heartbeat, join and leave notices. */
import type { ClusterHost } from './host.js';
import type { Mesh } from './mesh.js';
import type { RedisClient } from './redis-conn.js';
import type { RetainedSync } from './retained-sync.js';

/** Membership notices on the Redis `members` channel. */
interface MemberNotice {
  n: string;
  /** Link address of a node that (re)joined. */
  h?: string;
  p?: number;
  bye?: 1;
}

/** What membership needs of its cluster node. */
export interface MembershipLink {
  readonly host: ClusterHost;
  readonly nodeId: string;
  readonly keyPrefix: string;
  readonly nodeTtl: number;
  readonly mesh: Mesh;
  readonly retained: RetainedSync;
  /** The command connection, once opened. */
  redis(): RedisClient | undefined;
  /** Whether the node has joined (and not left). */
  started(): boolean;
  /** This node's route keys now. */
  routes(): string[];
  /** Counts a failed Redis command. */
  failed(): void;
  /** Redis took this node's membership again after an outage: claims made without it are reconciled. */
  resynced(): void;
}

function ignore(): void {}

/**
 * This node's record in Redis. Liveness between nodes is decided on the links
 * (see Mesh); Redis's copy serves claims (a dead owner's client id is taken at
 * once), discovery of the other nodes' link addresses, and operators.
 */
export class Membership {
  /** The pub/sub channel of join and leave notices. */
  readonly channel: string;
  private readonly link: MembershipLink;
  private heartbeat: NodeJS.Timeout | undefined;
  /** A heartbeat tried again soon after one that failed or could not be sent. */
  private retry: NodeJS.Timeout | undefined;
  /** The last heartbeat's write failed (Redis or its shard was away). */
  private beatFailed = false;

  constructor(link: MembershipLink) {
    this.link = link;
    this.channel = `${link.keyPrefix}members`;
  }

  /** Whether the last heartbeat reached Redis (a Redis Cluster client stays "ready" while a shard is away). */
  get beating(): boolean {
    return !this.beatFailed;
  }

  private nodeKey(id: string): string {
    return `${this.link.keyPrefix}node:${id}`;
  }

  private routesKey(id: string): string {
    return `${this.link.keyPrefix}routes:${id}`;
  }

  /** Starts the heartbeat (every third of the TTL). */
  startBeating(): void {
    this.heartbeat = setInterval(
      () => this.beat(),
      Math.max(50, Math.floor(this.link.nodeTtl / 3)),
    );
    this.heartbeat.unref();
  }

  /** Says in Redis that this node leaves (when it can), and stops the heartbeat. */
  async leave(announce: boolean): Promise<void> {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.retry !== undefined) clearTimeout(this.retry);
    const cmd = this.link.redis();
    if (!announce || cmd === undefined || cmd.status !== 'ready') return;
    const me = this.link.nodeId;
    await cmd
      .multi()
      .del(this.nodeKey(me), this.routesKey(me))
      .srem(`${this.link.keyPrefix}nodes`, me)
      .publish(this.channel, JSON.stringify({ n: me, bye: 1 } satisfies MemberNotice))
      .exec()
      .catch(ignore);
  }

  /** A notice on the members channel: a node that (re)joined is linked to. */
  onNotice(buf: Buffer): void {
    const m = JSON.parse(buf.toString()) as MemberNotice;
    if (m.n !== this.link.nodeId && m.h !== undefined && m.p !== undefined)
      this.link.mesh.ensure(m.n, m.h, m.p);
  }

  /** This node's liveness record: where its link listens and which process it is. */
  private record(): string {
    const mesh = this.link.mesh;
    const a = mesh.address;
    return JSON.stringify({ h: a.h, p: a.p, b: mesh.boot, t: Date.now() });
  }

  /**
   * Writes this node's membership and routes into Redis, announces it, and
   * links to every live node listed there; returns the ids linked. Routes
   * themselves travel on the links (a snapshot on every link that comes up),
   * so a Redis that lost its memory costs no route: this only repairs Redis's copy.
   */
  async sync(): Promise<string[]> {
    const l = this.link;
    const cmd = l.redis()!;
    const me = l.nodeId;
    const ttl = l.nodeTtl;
    const keys = l.routes();
    const a = l.mesh.address;
    const m = cmd.multi();
    m.set(this.nodeKey(me), this.record(), 'PX', ttl);
    m.sadd(`${l.keyPrefix}nodes`, me);
    m.del(this.routesKey(me));
    if (keys.length > 0) m.hset(this.routesKey(me), Object.fromEntries(keys.map((k) => [k, '1'])));
    m.pexpire(this.routesKey(me), ttl);
    m.publish(this.channel, JSON.stringify({ n: me, h: a.h, p: a.p } satisfies MemberNotice));
    await m.exec();
    const ids = (await cmd.smembers(`${l.keyPrefix}nodes`)).filter((id) => id !== me);
    const linked: string[] = [];
    if (ids.length > 0) {
      const recs = await cmd.mget(...ids.map((id) => this.nodeKey(id)));
      for (let i = 0; i < ids.length; i++) {
        const r = recs[i];
        if (r == null) continue;
        try {
          const { h, p } = JSON.parse(r) as { h: string; p: number };
          l.mesh.ensure(ids[i]!, h, p);
          linked.push(ids[i]!);
        } catch {
          // A node of an older version: it has no link to dial.
        }
      }
    }
    await l.retained.load(cmd);
    return linked;
  }

  /** Announces again and reconciles claims (after an outage, or a Redis restarted empty). */
  resync(): void {
    this.sync().then(
      () => this.link.resynced(),
      (e: Error) => this.link.host.log?.warn({ err: e }, 'cluster: resync failed'),
    );
  }

  /** Refreshes this node's liveness in Redis; announces again if Redis forgot it. */
  private beat(): void {
    const l = this.link;
    const cmd = l.redis();
    if (cmd === undefined || !l.started()) return;
    if (cmd.status !== 'ready') {
      this.beatSoon();
      return;
    }
    const me = l.nodeId;
    const ttl = l.nodeTtl;
    const pl = cmd.pipeline();
    pl.exists(this.nodeKey(me));
    pl.set(this.nodeKey(me), this.record(), 'PX', ttl);
    pl.pexpire(this.routesKey(me), ttl);
    pl.exec((err, res) => {
      if (err || res == null || res.some(([e]) => e !== null)) {
        l.failed();
        this.beatFailed = true;
        this.beatSoon();
        return;
      }
      // A Redis Cluster stays "ready" while the shard holding Heron's keys is
      // away, so no 'ready' event follows its return: the first good beat
      // after failed ones stands for it.
      const back = this.beatFailed;
      this.beatFailed = false;
      if (!l.started() || (res[0]?.[1] !== 0 && !back)) return;
      // Redis restarted empty, or this node was paused past its TTL: announce again.
      if (!back) l.host.log?.warn('cluster: this node was missing in redis; announcing again');
      this.resync();
    });
  }

  /**
   * One missed beat must not cost this node its liveness key: with beats a
   * third of the TTL apart, two failures in a row (a Redis Cluster client
   * re-learning its slots after another server died, a reconnect) left the
   * key to expire while the node was alive, and another node could then take
   * its clients without a hand-over. So a failed or unsent beat is tried
   * again after a tenth of the TTL, until one gets through.
   */
  private beatSoon(): void {
    if (this.retry !== undefined || this.heartbeat === undefined) return;
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        this.beat();
      },
      Math.max(20, Math.floor(this.link.nodeTtl / 10)),
    );
    this.retry.unref();
  }

  /** Redis's copy of this node's routes follows each flushed change. */
  writeRoutes(add: string[], remove: string[]): void {
    const l = this.link;
    const cmd = l.redis();
    if (cmd === undefined || cmd.status !== 'ready') return;
    const key = this.routesKey(l.nodeId);
    const m = cmd.multi();
    if (add.length > 0) m.hset(key, Object.fromEntries(add.map((k) => [k, '1'])));
    if (remove.length > 0) m.hdel(key, ...remove);
    m.pexpire(key, l.nodeTtl);
    m.exec().catch(() => l.failed());
  }
}
