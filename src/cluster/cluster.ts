import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Message } from '../broker/message.js';
import type { SubscriptionRecord } from '../broker/session.js';
import { ClusterError } from './cluster-error.js';
import { type ClusterFrame, decodeFrame, encodeMessage, frame } from './frame.js';
import type { ClusterHost } from './host.js';
import { LocalRoutes } from './local-routes.js';
import type { ClusterOptions, ResolvedClusterOptions } from './options.js';
import { controlChannel, Ownership } from './ownership.js';
import { type RemoteNode, type RemoteRoute, RemoteRoutes } from './remote-routes.js';

/** Shared groups a forwarded message without assignments may use: none. */
const NO_SHARES: ReadonlySet<string> = new Set();

/** Route announcement on the routes channel. */
interface RouteChange {
  n: string;
  /** Reset: forget the node's routes before applying `a`. */
  r?: 1;
  /** The node leaves the cluster. */
  bye?: 1;
  a?: string[];
  d?: string[];
}

/** Counters of a cluster node. */
export interface ClusterStats {
  /** Frames sent to other nodes (one per node and message). */
  forwarded: number;
  /** Frames received from other nodes and routed here. */
  received: number;
  /** Connections closed here because their client id moved to another node. */
  takenOver: number;
  /** Persistent sessions received from other nodes. */
  sessionsReceived: number;
}

function ignore(): void {}

function flushRoutes(c: Cluster): void {
  c.flushRoutes();
}

/**
 * This broker's membership in a Redis-backed cluster: announces its routes,
 * forwards local publishes once to each node that has a matching route, keeps
 * retained messages in sync, and moves client ids (and persistent sessions)
 * between nodes. See docs/cluster.md.
 */
export class Cluster {
  /** This node's id. */
  readonly nodeId: string;
  /** Options with defaults applied. */
  readonly options: ResolvedClusterOptions;
  /** Counters. */
  readonly stats: ClusterStats = { forwarded: 0, received: 0, takenOver: 0, sessionsReceived: 0 };
  /** What the other nodes subscribed to. */
  readonly remote: RemoteRoutes;
  private readonly host: ClusterHost;
  private readonly ownership: Ownership;
  private readonly local = new LocalRoutes();
  private cmd: Redis | undefined;
  private sub: Redis | undefined;
  private started = false;
  private flushScheduled = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private stamp = 0;
  private readonly scratch: RemoteRoute[] = [];
  private readonly targets: RemoteNode[] = [];
  private readonly shareCursor = new Map<string, number>();
  /**
   * The frame retainedChanged() built for `retainedMsg`, which forward() reuses for the
   * same message right after (publishMessage calls both): a retained update and a plain
   * forward carry the same header and packet, so they share the bytes.
   */
  private retainedMsg: Message | undefined;
  private retainedPacket: Buffer | undefined;
  private retainedFrame: Buffer | undefined;
  private readonly p: string;
  /** The channels this node listens on, named once rather than per received message. */
  private readonly inbox: string;
  private readonly control: string;
  private readonly routesChannel: string;
  private readonly retainedChannel: string;

  constructor(host: ClusterHost, o: ClusterOptions) {
    this.host = host;
    this.options = {
      redisUrl: o.redisUrl,
      nodeId: o.nodeId ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
      keyPrefix: o.keyPrefix ?? 'heron:',
      nodeTtl: o.nodeTtl ?? 10_000,
      handoverTimeout: o.handoverTimeout ?? 2000,
    };
    this.nodeId = this.options.nodeId;
    this.p = this.options.keyPrefix;
    this.remote = new RemoteRoutes((id) => `${this.p}msg:${id}`);
    this.inbox = `${this.p}msg:${this.nodeId}`;
    this.control = controlChannel(this.p, this.nodeId);
    const node = this;
    this.ownership = new Ownership({
      host,
      nodeId: this.nodeId,
      keyPrefix: this.p,
      handoverTimeout: this.options.handoverTimeout,
      get started() {
        return node.started;
      },
      redis: () => this.cmd,
      tookOver: () => this.stats.takenOver++,
      sessionReceived: () => this.stats.sessionsReceived++,
    });
    this.routesChannel = `${this.p}routes`;
    this.retainedChannel = `${this.p}retained`;
  }

  private nodeKey(id: string): string {
    return `${this.p}node:${id}`;
  }
  private routesKey(id: string): string {
    return `${this.p}routes:${id}`;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Connects to Redis, announces this node and loads routes and retained messages. */
  async start(): Promise<void> {
    const o = this.options;
    const common = { lazyConnect: true, maxRetriesPerRequest: 2 };
    // Loaded here, not at start: brokers without a cluster never load the Redis client.
    const { Redis } = await import('ioredis');
    const cmd = new Redis(o.redisUrl, { ...common, enableAutoPipelining: true });
    const sub = new Redis(o.redisUrl, common);
    this.cmd = cmd;
    this.sub = sub;
    const onError = (err: Error) => this.host.log?.warn({ err }, 'cluster: redis error');
    cmd.on('error', onError);
    sub.on('error', onError);
    try {
      await Promise.all([cmd.connect(), sub.connect()]);
      sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => this.onMessage(ch.toString(), msg));
      await sub.subscribe(this.inbox, this.control, this.routesChannel, this.retainedChannel);
      await this.sync();
    } catch (err) {
      cmd.disconnect();
      sub.disconnect();
      throw new ClusterError(
        `cannot join the cluster at ${o.redisUrl}: ${(err as Error).message}`,
        err,
      );
    }
    this.started = true;
    // After a Redis outage the tables may have missed changes: announce and load again.
    sub.on('ready', () => {
      if (this.started) this.sync().catch(onError);
    });
    this.heartbeat = setInterval(() => this.beat(), Math.max(50, Math.floor(o.nodeTtl / 3)));
    this.heartbeat.unref();
    this.host.log?.info(`Joined cluster at ${o.redisUrl} as node ${this.nodeId}.`);
  }

  /** Leaves the cluster: withdraws this node's routes and closes the Redis connections. */
  async stop(): Promise<void> {
    const cmd = this.cmd;
    const sub = this.sub;
    if (cmd === undefined || sub === undefined) return;
    const wasStarted = this.started;
    this.started = false;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.ownership.stop();
    if (wasStarted) {
      const me = this.nodeId;
      await cmd
        .multi()
        .del(this.nodeKey(me), this.routesKey(me))
        .srem(`${this.p}nodes`, me)
        .publish(`${this.p}routes`, JSON.stringify({ n: me, bye: 1 } satisfies RouteChange))
        .exec()
        .catch(ignore);
    }
    await Promise.all([sub.quit().catch(ignore), cmd.quit().catch(ignore)]);
  }

  /**
   * Announces every local route from scratch (the reset tells the others to
   * drop what they knew of this node), then loads every live node's routes and
   * the retained messages.
   */
  private async sync(): Promise<void> {
    const cmd = this.cmd!;
    const me = this.nodeId;
    const ttl = this.options.nodeTtl;
    const keys = this.local.keys();
    const m = cmd.multi();
    m.set(this.nodeKey(me), String(Date.now()), 'PX', ttl);
    m.sadd(`${this.p}nodes`, me);
    m.del(this.routesKey(me));
    if (keys.length > 0) m.hset(this.routesKey(me), Object.fromEntries(keys.map((k) => [k, '1'])));
    m.pexpire(this.routesKey(me), ttl);
    m.publish(`${this.p}routes`, JSON.stringify({ n: me, r: 1, a: keys } satisfies RouteChange));
    await m.exec();

    const ids = (await cmd.smembers(`${this.p}nodes`)).filter((id) => id !== me);
    const pl = cmd.pipeline();
    for (const id of ids) {
      pl.exists(this.nodeKey(id));
      pl.hkeys(this.routesKey(id));
    }
    const res = (await pl.exec()) ?? [];
    for (const id of [...this.remote.nodes.keys()]) if (!ids.includes(id)) this.remote.drop(id);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const alive = res[2 * i]?.[1] === 1;
      const routeKeys = (res[2 * i + 1]?.[1] ?? []) as string[];
      this.remote.drop(id);
      if (!alive) {
        cmd.srem(`${this.p}nodes`, id, ignore);
        continue;
      }
      this.remote.node(id);
      for (const k of routeKeys) this.remote.add(id, k);
    }
    await this.loadRetained();
  }

  private async loadRetained(): Promise<void> {
    const cmd = this.cmd!;
    const host = this.host;
    const key = `${this.p}retained`;
    const all = await cmd.hgetallBuffer(key);
    const now = Date.now();
    const seen = new Set<string>();
    for (const [topic, buf] of Object.entries(all)) {
      seen.add(topic);
      let f: ClusterFrame;
      try {
        f = decodeFrame(buf);
      } catch (err) {
        host.log?.warn({ err, topic }, 'cluster: undecodable retained message in redis');
        continue;
      }
      if (f.expiresAt !== 0 && now >= f.expiresAt) {
        cmd.hdel(key, topic, ignore);
        continue;
      }
      this.applyRetained(f);
    }
    // Retained messages only this node knows (e.g. from its own store) join the shared set.
    const local: Message[] = [];
    host.matchRetained('#', local);
    for (const msg of local) {
      if (seen.has(msg.topic) || msg.isExpired(now)) continue;
      const f = frame(this.nodeId, msg.origin, msg.expiresAt, undefined, encodeMessage(msg));
      cmd.hsetnx(key, msg.topic, f, ignore);
    }
  }

  /** Refreshes this node's TTLs and forgets nodes whose TTL ran out. */
  private beat(): void {
    const cmd = this.cmd;
    if (cmd === undefined || !this.started) return;
    const me = this.nodeId;
    const ttl = this.options.nodeTtl;
    const ids = [...this.remote.nodes.keys()];
    const pl = cmd.pipeline();
    pl.exists(this.nodeKey(me));
    pl.set(this.nodeKey(me), String(Date.now()), 'PX', ttl);
    pl.pexpire(this.routesKey(me), ttl);
    for (const id of ids) pl.exists(this.nodeKey(id));
    pl.exec((err, res) => {
      if (err || res == null || !this.started) return;
      if (res[0]?.[1] === 0) {
        // This node had been given up for dead (a long pause or an outage): announce again.
        this.host.log?.warn('cluster: this node had expired in redis; announcing again');
        this.sync().catch((e: Error) => this.host.log?.warn({ err: e }, 'cluster: resync failed'));
        return;
      }
      for (let i = 0; i < ids.length; i++) {
        if (res[3 + i]?.[1] === 0) {
          const id = ids[i]!;
          this.host.log?.warn(`cluster: node ${id} stopped heartbeating; dropping its routes`);
          this.remote.drop(id);
          cmd.srem(`${this.p}nodes`, id, ignore);
        }
      }
    });
  }

  // ---------------------------------------------------------------- routes

  /** A local subscription joined the router. */
  routeAdded(rec: SubscriptionRecord): void {
    if (this.local.add(rec)) this.scheduleFlush();
  }

  /** A local subscription left the router. */
  routeRemoved(rec: SubscriptionRecord): void {
    if (this.local.remove(rec)) this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.started) return;
    this.flushScheduled = true;
    setImmediate(flushRoutes, this);
  }

  /** Writes the route changes of this event-loop turn in one transaction and announces them. */
  flushRoutes(): void {
    this.flushScheduled = false;
    const cmd = this.cmd;
    if (cmd === undefined || !this.started || !this.local.dirty) return;
    const { add, remove } = this.local.takeChanges();
    const me = this.nodeId;
    const m = cmd.multi();
    if (add.length > 0) m.hset(this.routesKey(me), Object.fromEntries(add.map((k) => [k, '1'])));
    if (remove.length > 0) m.hdel(this.routesKey(me), ...remove);
    m.pexpire(this.routesKey(me), this.options.nodeTtl);
    m.publish(
      `${this.p}routes`,
      JSON.stringify({ n: me, a: add, d: remove } satisfies RouteChange),
    );
    m.exec(ignore);
  }

  private onRouteChange(c: RouteChange): void {
    if (c.n === this.nodeId) return;
    if (c.bye === 1) {
      this.remote.drop(c.n);
      return;
    }
    if (c.r === 1) this.remote.drop(c.n);
    this.remote.node(c.n);
    if (c.a !== undefined) for (const k of c.a) this.remote.add(c.n, k);
    if (c.d !== undefined) for (const k of c.d) this.remote.remove(c.n, k);
  }

  // ---------------------------------------------------------------- messages

  /**
   * Sends a locally published message once to every node with a matching
   * route. Shared groups with a member here were served locally; any other
   * matching group goes to one of the nodes that have members (round robin).
   * Costs one trie lookup and no Redis traffic when no other node matches.
   */
  forward(msg: Message): void {
    let packet: Buffer | undefined;
    let plain: Buffer | undefined;
    if (this.retainedMsg !== undefined) {
      if (this.retainedMsg === msg) {
        packet = this.retainedPacket;
        plain = this.retainedFrame;
      }
      // Held for this one call only, so a large payload is not kept alive.
      this.retainedMsg = this.retainedPacket = this.retainedFrame = undefined;
    }
    const cmd = this.cmd;
    if (!this.started || cmd === undefined || this.remote.trie.size === 0) return;
    const topic = msg.topic;
    if (topic.charCodeAt(0) === 36 && topic.startsWith('$SYS/')) return; // $SYS is per node.
    const out = this.scratch;
    const n = this.remote.trie.matchInto(topic, out);
    if (n === 0) return;
    const stamp = ++this.stamp;
    const targets = this.targets;
    let nt = 0;
    let groups: Map<string, RemoteRoute[]> | undefined;
    const host = this.host;
    for (let i = 0; i < n; i++) {
      const r = out[i]!;
      const node = r.node;
      if (r.group === undefined) {
        if (node.stamp !== stamp) {
          node.stamp = stamp;
          node.shares = undefined;
          targets[nt++] = node;
        }
        continue;
      }
      if (host.hasLocalRoute(r.topicFilter, r.localKey)) continue;
      groups ??= new Map();
      const list = groups.get(r.shareKey);
      if (list === undefined) groups.set(r.shareKey, [r]);
      else list.push(r);
    }
    if (groups !== undefined) {
      for (const [key, list] of groups) {
        const c = this.shareCursor.get(key) ?? 0;
        const r = list[c % list.length]!;
        this.shareCursor.set(key, (c + 1) % list.length);
        const node = r.node;
        if (node.stamp !== stamp) {
          node.stamp = stamp;
          node.shares = undefined;
          targets[nt++] = node;
        }
        (node.shares ??= []).push(key);
      }
    }
    if (nt === 0) return;
    packet ??= encodeMessage(msg);
    for (let i = 0; i < nt; i++) {
      const node = targets[i]!;
      const f =
        node.shares === undefined
          ? (plain ??= frame(this.nodeId, msg.origin, msg.expiresAt, undefined, packet))
          : frame(this.nodeId, msg.origin, msg.expiresAt, node.shares, packet);
      cmd.publish(node.channel, f, ignore);
      this.stats.forwarded++;
    }
  }

  /** A local publish changed a retained message: store it in Redis and tell every node. */
  retainedChanged(msg: Message): void {
    const cmd = this.cmd;
    if (!this.started || cmd === undefined) return;
    if (msg.topic.startsWith('$SYS/')) return;
    const packet = encodeMessage(msg);
    const f = frame(this.nodeId, msg.origin, msg.expiresAt, undefined, packet);
    this.retainedMsg = msg;
    this.retainedPacket = packet;
    this.retainedFrame = f;
    const key = `${this.p}retained`;
    // One transaction, so the hash and the notifications agree on who wrote last.
    const m = cmd.multi();
    if (msg.payload.length === 0) m.hdel(key, msg.topic);
    else m.hset(key, msg.topic, f);
    m.publish(`${this.p}retained`, f);
    m.exec(ignore);
  }

  /**
   * Applies a retained update in Redis order. Own updates are applied too:
   * when two nodes write one topic at once, every node ends with the value
   * Redis kept (last writer wins).
   */
  private applyRetained(f: ClusterFrame): void {
    const host = this.host;
    const cur = host.retainedMessage(f.topic);
    if (f.payload.length === 0) {
      if (cur === undefined) return;
    } else if (
      cur !== undefined &&
      cur.origin === f.origin &&
      cur.qos === f.qos &&
      cur.expiresAt === f.expiresAt &&
      cur.payload.equals(f.payload)
    ) {
      return;
    }
    host.setRetained(
      host.makeMessage(f.topic, f.payload, f.qos, true, f.properties, f.origin, f.expiresAt),
    );
  }

  private onForwarded(buf: Buffer): void {
    let f: ClusterFrame;
    try {
      f = decodeFrame(buf);
    } catch (err) {
      this.host.log?.warn({ err }, 'cluster: undecodable forwarded message');
      return;
    }
    this.stats.received++;
    const host = this.host;
    const msg = host.makeMessage(
      f.topic,
      f.payload,
      f.qos,
      f.retain,
      f.properties,
      f.origin,
      f.expiresAt,
    );
    if (msg.isExpired(host.now)) return;
    host.deliver(msg, f.shares.length === 0 ? NO_SHARES : new Set(f.shares));
  }

  private onMessage(channel: string, buf: Buffer): void {
    try {
      if (channel === this.inbox) this.onForwarded(buf);
      else if (channel === this.retainedChannel) this.applyRetained(decodeFrame(buf));
      else if (channel === this.routesChannel) this.onRouteChange(JSON.parse(buf.toString()));
      else if (channel === this.control) this.ownership.onControl(buf.toString());
    } catch (err) {
      this.host.log?.warn({ err, channel }, 'cluster: bad message');
    }
  }

  // ---------------------------------------------------------------- sessions

  /**
   * Makes this node the owner of a client id before its CONNECT is accepted.
   * If another live node held it, that node closes its connection (0x8E) and,
   * unless the client starts clean, hands the session over; it is installed
   * here so the client resumes it. Never rejects: when Redis is unreachable the
   * client is served as by a single node.
   */
  claim(clientId: string, clean: boolean): Promise<void> {
    return this.ownership.claim(clientId, clean);
  }

  /** A session ended here: give up its client id unless a new connection took it meanwhile. */
  sessionEnded(clientId: string): void {
    this.ownership.sessionEnded(clientId);
  }

  /** Releases ownership of a client id that has no session here any more. */
  releaseOwnership(clientId: string): void {
    this.ownership.release(clientId);
  }
}
