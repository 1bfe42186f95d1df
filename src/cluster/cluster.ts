import type { Message } from '../broker/message.js';
import type { Session, SubscriptionRecord } from '../broker/session.js';
import { encodedPropertiesLength } from '../protocol/encoder.js';
import { ClusterError } from './cluster-error.js';
import { Failover } from './failover.js';
import {
  type ClusterFrame,
  decodeFrame,
  encodeMessage,
  frame0Room,
  frameHeader,
  messageOf,
  writeFrame0,
} from './frame.js';
import type { ClusterHost, LinkInput } from './host.js';
import { DataKind } from './link-wire.js';
import { Membership } from './membership.js';
import { Mesh } from './mesh.js';
import { Moves } from './moves.js';
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from './options.js';
import { Orphans } from './orphans.js';
import { controlChannel, Ownership } from './ownership.js';
import { type RedisClient, redisConnection, redisWhere } from './redis-conn.js';
import { type RemoteNode, RemoteRoutes } from './remote-routes.js';
import type { Replicas } from './replicas.js';
import { RetainedSync } from './retained-sync.js';
import { RouteAnnouncer } from './route-announcer.js';
import { type ClusterStats, metricsOf, newStats } from './stats.js';
import { Targeting } from './targeting.js';

export type { ClusterStats } from './stats.js';

/** Shared groups a forwarded message without assignments may use: none. */
const NO_SHARES: ReadonlySet<string> = new Set();

function ignore(): void {}

/**
 * This broker's membership in a cluster of Heron nodes: direct links carry
 * messages and route changes between nodes (acknowledged, re-sent, applied
 * once), Redis keeps membership, client-id ownership and retained messages.
 * See docs/cluster.md.
 */
export class Cluster {
  /** This node's id. */
  readonly nodeId: string;
  /** Options with defaults applied. */
  readonly options: ResolvedClusterOptions;
  /** Counters. */
  readonly stats: ClusterStats = newStats();
  /** What the other nodes subscribed to. */
  readonly remote = new RemoteRoutes();
  private readonly host: ClusterHost;
  private readonly ownership: Ownership;
  private readonly routes: RouteAnnouncer;
  private readonly mesh: Mesh;
  private readonly moves: Moves;
  private readonly retained: RetainedSync;
  private readonly failover: Failover;
  private readonly replicas: Replicas;
  private readonly orphans: Orphans;
  private cmd: RedisClient | undefined;
  private sub: RedisClient | undefined;
  private started = false;
  private readonly membership: Membership;
  private readonly targeting: Targeting;
  private readonly targets: RemoteNode[] = [];
  private readonly p: string;
  private readonly control: string;

  constructor(host: ClusterHost, o: ClusterOptions) {
    this.host = host;
    this.options = resolveClusterOptions(o);
    this.nodeId = this.options.nodeId;
    this.p = this.options.keyPrefix;
    this.control = controlChannel(this.p, this.nodeId);
    this.retained = new RetainedSync(host, this.nodeId, this.p);
    this.targeting = new Targeting(this.remote, host);
    this.routes = new RouteAnnouncer({
      started: () => this.started,
      links: () => this.mesh.links.values(),
      handoverTimeout: this.options.handoverTimeout,
      writeRedis: (add, remove) => this.membership.writeRoutes(add, remove),
    });
    const node = this;
    const stats = this.stats;
    this.membership = new Membership({
      host,
      nodeId: this.nodeId,
      keyPrefix: this.p,
      nodeTtl: this.options.nodeTtl,
      get mesh() {
        return node.mesh;
      },
      retained: this.retained,
      redis: () => this.cmd,
      started: () => this.started,
      routes: () => this.routes.current(),
      failed: this.failed,
      resynced: () => this.ownership.reconcile(),
    });
    this.mesh = new Mesh(
      {
        counters: stats,
        maxOutbox: this.options.maxOutbox,
        nodeTtl: this.options.nodeTtl,
        data: (from, kind, body, input) => this.onData(from, kind, body, input),
        linkUp: (l) => {
          this.orphans.back(l.id);
          this.routes.sendSnapshot(l);
          this.replicas.linkUp(l.id);
          this.replicas.membershipChanged();
        },
        drained: (l) => {
          host.linkDrained(l);
          if (l.unacked <= host.queueBound >> 1) l.pressured = false;
        },
        nodeGone: (id) => {
          this.orphans.gone(id); // its routes stay until its sessions are taken over (orphans.ts)
          this.replicas.membershipChanged();
        },
        handedOff: (id) => this.orphans.handedOff(id),
        whenDurable: (done) => this.failover.linkFrameDurable(done),
        duplicate: () => stats.duplicates++,
        warn: (text, err) => host.log?.warn({ err }, text),
        journal: host.linkJournal,
      },
      this.nodeId,
    );
    this.moves = new Moves({
      host,
      nodeId: this.nodeId,
      timeout: this.options.handoverTimeout,
      linkTo: (id) => this.mesh.links.get(id),
      keyOf: (msg) => this.keyOf(msg),
      routesSettled: () => this.routesSettled(),
    });
    this.failover = new Failover({
      host,
      mesh: this.mesh,
      timeout: this.options.handoverTimeout,
      restored: () => stats.sessionsRestored++,
      epochOf: (id) => this.ownership.epochOf(id),
      adopted: (s, old, w) => this.orphans.restoredCopy(s, old, w),
    });
    this.replicas = this.failover.replicas;
    this.orphans = new Orphans({
      host,
      nodeId: this.nodeId,
      keyPrefix: this.p,
      timeout: this.options.handoverTimeout,
      nodeTtl: this.options.nodeTtl,
      replicas: this.replicas,
      links: () => this.mesh.links,
      liveNodes: () => this.failover.liveNodes(),
      unreachable: (id) => this.failover.unreachable(id),
      redis: () => this.cmd,
      dropRoutes: (id, onlyShared) => this.remote.drop(id, onlyShared),
      claimed: (id, e) => this.ownership.claimed(id, e),
      letGo: (old, id, e) => this.ownership.letGo(old, id, e),
      routesSettled: () => this.routesSettled(),
      stats,
    });
    this.ownership = new Ownership({
      moves: this.moves,
      linkTo: (id) => this.mesh.links.get(id),
      keyOf: (msg) => this.keyOf(msg),
      host,
      nodeId: this.nodeId,
      keyPrefix: this.p,
      handoverTimeout: this.options.handoverTimeout,
      claimTimeout: this.options.claimTimeout,
      get started() {
        return node.started;
      },
      redis: () => this.cmd,
      tookOver: () => stats.takenOver++,
      sessionReceived: () => stats.sessionsReceived++,
      claimedLocally: () => stats.claimsLocal++,
      restore: (id, old) => this.failover.restore(id, old),
      unreachable: (id) => this.failover.unreachable(id),
      handedOver: (id) => this.replicas.ended(id),
      lineageOf: (id) => this.orphans.lineageOf(id),
      adopted: (s, lin) => this.orphans.adopt(s, lin),
    });
  }

  /** The identity of a message wherever it travels: `{node}:{id}` where it was first published. */
  keyOf(msg: Message): string {
    return msg.clusterKey ?? `${this.nodeId}:${msg.id}`;
  }

  /**
   * Whether this node's command connection to Redis is usable now. A Redis
   * Cluster client is "ready" while the shard holding Heron's keys is away:
   * a failed heartbeat says so.
   */
  get redisReady(): boolean {
    return this.cmd?.status === 'ready' && this.membership.beating;
  }

  /** Other nodes this node has a link to, with their state. */
  links(): { id: string; connected: boolean; unacked: number }[] {
    return [...this.mesh.links.values()].map((l) => ({
      id: l.id,
      connected: l.connected,
      unacked: l.unacked,
    }));
  }

  /**
   * Counters and gauges for `$SYS/broker/cluster/...` and `/metrics`: the
   * ClusterStats counters, plus `routes` (routes of other nodes known here),
   * `nodes` (other nodes linked), `links/connected`, `outbox` (frames waiting
   * for an acknowledgement) and `redis` (`up` or `down`).
   */
  metrics(): Record<string, number | string> {
    return metricsOf(this.stats, this.remote, this.mesh.links, this.replicas, this.redisReady);
  }

  /** A Redis command failed: counted, never queued for later. */
  private readonly failed = (): void => {
    this.stats.redisErrors++;
  };

  // ---------------------------------------------------------------- lifecycle

  /** Connects to Redis, opens the link listener, announces this node and links to the others. */
  async start(): Promise<void> {
    const o = this.options;
    // Loaded here, not at start: brokers without a cluster never load the Redis client.
    const cmd = await redisConnection(o, true);
    const sub = await redisConnection(o, false);
    this.cmd = cmd;
    this.sub = sub;
    const onError = (err: Error) => this.host.log?.debug?.({ err }, 'cluster: redis error');
    cmd.on('error', onError);
    sub.on('error', onError);
    try {
      const disk = this.host.replicaDisk;
      if (disk !== undefined) await this.replicas.useDisk(disk.dir, disk.sync);
      await Promise.all([cmd.connect(), sub.connect()]);
      sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => this.onMessage(ch.toString(), msg));
      await sub.subscribe(this.control, this.membership.channel, this.retained.channel);
      await this.mesh.listen(o.linkHost, o.linkPort, o.advertiseHost);
      this.started = true;
      await this.awaitSnapshots(await this.membership.sync());
    } catch (err) {
      this.started = false;
      cmd.disconnect();
      sub.disconnect();
      await this.mesh.close();
      await this.replicas.store.close();
      throw new ClusterError(
        `cannot join the cluster at ${redisWhere(o)}: ${(err as Error).message}`,
        err,
      );
    }
    this.stats.sessionsDropped += await this.ownership.checkRestored();
    // Sessions brought back from the store are replicated like new ones.
    for (const id of [...this.host.sessionIds()]) {
      const s = this.host.session(id);
      if (s !== undefined && s.expiryInterval > 0) this.replicas.saved(s);
    }
    this.host.setReplyGate((done) => this.failover.replyGate(done));
    // After an outage (or a Redis restarted empty) announce again, reload, reconcile claims.
    const again = () => {
      if (this.started && cmd.status === 'ready' && sub.status === 'ready')
        this.membership.resync();
    };
    cmd.on('ready', again);
    sub.on('ready', again);
    this.membership.startBeating();
    this.host.log?.info(
      `Joined cluster as node ${this.nodeId} (link ${o.advertiseHost}:${this.mesh.address.p}).`,
    );
  }

  /** Leaves the cluster: says bye on every link and in Redis, then closes everything. */
  async stop(): Promise<void> {
    const cmd = this.cmd;
    const sub = this.sub;
    if (cmd === undefined || sub === undefined) return;
    const wasStarted = this.started;
    this.started = false;
    this.ownership.stop();
    this.replicas.stop();
    this.orphans.stop();
    this.host.setReplyGate(undefined);
    if (wasStarted) {
      for (const l of this.mesh.links.values()) l.send(DataKind.Bye, Buffer.alloc(0));
      await this.mesh.drain(500);
    }
    await this.membership.leave(wasStarted);
    await this.mesh.close();
    await this.replicas.store.close();
    await Promise.all([sub.quit().catch(ignore), cmd.quit().catch(ignore)]);
    cmd.disconnect();
    sub.disconnect();
  }

  /**
   * Waits (up to the hand-over timeout) until each of these nodes sent its
   * route snapshot, so a node that starts forwards at once for what the
   * others subscribed to.
   */
  private async awaitSnapshots(ids: string[]): Promise<void> {
    const end = Date.now() + this.options.handoverTimeout;
    while (ids.some((id) => !this.remote.nodes.has(id)) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
  }

  // ---------------------------------------------------------------- routes

  /** A local subscription joined the router. */
  routeAdded(rec: SubscriptionRecord): void {
    this.routes.added(rec);
    this.replicas.subscriptionsChanged(rec.session);
  }

  /** A local subscription left the router. */
  routeRemoved(rec: SubscriptionRecord): void {
    this.routes.removed(rec);
    this.replicas.subscriptionsChanged(rec.session);
  }

  /**
   * Resolves once the routes changed so far are in force on every linked node,
   * or after the hand-over timeout (route-announcer.ts). A SUBACK waits for it:
   * a subscription the client was told about is one every node forwards for.
   */
  routesSettled(): Promise<void> | undefined {
    return this.routes.settled();
  }

  private onData(from: string, kind: DataKind, body: Buffer, input: LinkInput): void {
    if (kind === DataKind.Message) this.onForwarded(body, input);
    else if (kind === DataKind.Routes) RouteAnnouncer.apply(this.remote, from, body);
    else if (kind === DataKind.Deliver) this.moves.onDeliver(body);
    else if (kind === DataKind.Handover) this.ownership.onLinkReply(from, body.toString());
    else if (kind === DataKind.Release) this.moves.letGo(body.toString());
    else if (kind === DataKind.Released) this.moves.closed(body.toString());
    else if (kind === DataKind.Replica) this.replicas.onData(from, body);
    else if (kind === DataKind.Orphans) this.orphans.onData(from, body);
    else if (kind === DataKind.Bye) {
      this.remote.drop(from);
      // The leaving node closes its own links once this bye is acknowledged.
      this.mesh.closeLink(from);
    }
  }

  // ---------------------------------------------------------------- messages

  /**
   * Sends a locally published message once to every node with a matching
   * route, on that node's link (kept until acknowledged). Shared groups with a
   * member here were served locally; any other matching group goes to one of
   * the nodes that have members (round robin). Costs one trie lookup when no
   * other node matches.
   */
  forward(msg: Message): void {
    let packet: Buffer | undefined;
    let plain: Buffer | undefined;
    let plainHead: Buffer | undefined;
    const rs = this.retained;
    if (rs.lastMsg !== undefined) {
      if (rs.lastMsg === msg) {
        packet = rs.lastPacket;
        plain = rs.lastFrame;
      }
      // Held for this one call only, so a large payload is not kept alive.
      rs.lastMsg = rs.lastPacket = rs.lastFrame = undefined;
    }
    if (!this.started) return;
    // A local publish reached moving sessions directly (routed before this call).
    if (this.moves.active) this.moves.routing(msg.topic, this.keyOf(msg));
    if (this.orphans.recording) this.orphans.routing(msg.topic, this.keyOf(msg));
    if (this.remote.trie.size === 0) return;
    const topic = msg.topic;
    if (topic.charCodeAt(0) === 36 && topic.startsWith('$SYS/')) return; // $SYS is per node.
    const targets = this.targets;
    const nt = this.targeting.select(topic, targets);
    if (nt === 0) return;
    if (msg.qos === 0) {
      this.forward0(msg, nt, plain);
      return;
    }
    packet ??= encodeMessage(msg);
    const key = this.keyOf(msg);
    const links = this.mesh.links;
    for (let i = 0; i < nt; i++) {
      const node = targets[i]!;
      const link = links.get(node.id);
      if (link === undefined) {
        this.stats.dropped++;
        continue;
      }
      const durable = msg.qos > 0;
      // QoS 1/2 stay in the store until acknowledged: the publisher's ack may already rest on them.
      let seq: number;
      let head: Buffer | undefined;
      if (plain !== undefined && node.shares === undefined)
        seq = link.send(DataKind.Message, plain, durable);
      else {
        head =
          node.shares === undefined
            ? (plainHead ??= frameHeader(this.nodeId, msg.origin, msg.expiresAt, undefined, key))
            : frameHeader(this.nodeId, msg.origin, msg.expiresAt, node.shares, key);
        seq = link.send(DataKind.Message, head, durable, packet);
      }
      // A node declared gone whose routes are still kept: its sessions are being taken over elsewhere.
      if (this.orphans.active && durable)
        this.orphans.forwarded(link, seq, head ?? plain!, head && packet);
      this.stats.forwarded++;
      // A backlog past a session queue's bound holds the publisher, as a full subscriber queue would.
      if (msg.qos > 0 && link.connected) {
        const bound = this.host.queueBound;
        if (bound > 0 && link.unacked >= bound && this.host.linkFull(link)) link.pressured = true;
      }
    }
  }

  /**
   * A QoS 0 message to the `nt` target nodes: each frame is written straight
   * into its link's batch and not kept (at most once, so no outbox entry, no
   * store, no acknowledgement to wait for). `plain`: the frame, already made.
   */
  private forward0(msg: Message, nt: number, plain: Buffer | undefined): void {
    const targets = this.targets;
    const links = this.mesh.links;
    const key = msg.clusterKey;
    const props = msg.properties;
    const propsLen = props === undefined ? 0 : encodedPropertiesLength(props);
    let room = -1;
    for (let i = 0; i < nt; i++) {
      const node = targets[i]!;
      const link = links.get(node.id);
      if (link === undefined) {
        this.stats.dropped++;
        continue;
      }
      const shares = node.shares;
      if (plain !== undefined && shares === undefined) {
        const buf = link.beginLoose(plain.length);
        if (buf === undefined) continue;
        const at = link.looseAt;
        plain.copy(buf, at);
        link.endLoose(DataKind.Message, at + plain.length);
      } else {
        if (room < 0 || shares !== undefined)
          room = frame0Room(this.nodeId, msg, key, shares, propsLen);
        const buf = link.beginLoose(room);
        if (buf === undefined) continue;
        const at = link.looseAt;
        const end = writeFrame0(buf, at, this.nodeId, msg, msg.id, key, shares, propsLen);
        link.endLoose(DataKind.Message, end);
      }
      this.stats.forwarded++;
    }
  }

  /** A local publish changed a retained message: store it in Redis and tell every node. */
  retainedChanged(msg: Message): void {
    const cmd = this.cmd;
    if (!this.started || cmd === undefined) return;
    if (msg.topic.startsWith('$SYS/')) return;
    if (cmd.status !== 'ready') {
      // Uploaded again (if still only here) when Redis is back: see RetainedSync.load.
      this.failed();
      return;
    }
    this.retained.changed(cmd, msg, this.keyOf(msg), this.failed);
  }

  private onForwarded(buf: Buffer, input: LinkInput): void {
    let f: ClusterFrame;
    try {
      f = decodeFrame(buf);
    } catch (err) {
      this.host.log?.warn({ err }, 'cluster: undecodable forwarded message');
      return;
    }
    this.stats.received++;
    const host = this.host;
    const msg = messageOf(host, f);
    if (msg.expiresAt !== 0 && msg.isExpired(host.now)) return;
    const key = f.key === '' ? `${f.node}:${msg.id}` : f.key;
    msg.clusterKey = key;
    const skip = this.moves.active ? this.moves.routing(msg.topic, key) : undefined;
    if (this.orphans.recording) this.orphans.routing(msg.topic, key);
    host.deliverFrom(input, msg, f.shares.length === 0 ? NO_SHARES : new Set(f.shares), skip);
  }

  private onMessage(channel: string, buf: Buffer): void {
    try {
      if (channel === this.retained.channel) this.retained.apply(decodeFrame(buf));
      else if (channel === this.control) this.ownership.onControl(buf.toString());
      else if (channel === this.membership.channel) this.membership.onNotice(buf);
    } catch (err) {
      this.host.log?.warn({ err, channel }, 'cluster: bad message');
    }
  }

  // ---------------------------------------------------------------- sessions

  /**
   * Makes this node the owner of a client id before its CONNECT is accepted.
   * If another live node held it, that node closes its connection (0x8E) and,
   * unless the client starts clean, hands the session over; it is installed
   * here so the client resumes it. Never rejects, and never waits on a Redis
   * that is away: the client is then accepted here and the claim is made when
   * Redis is back (see Ownership.reconcile).
   */
  claim(clientId: string, clean: boolean): Promise<void> {
    return this.ownership.claim(clientId, clean);
  }

  /** A session ended here: give up its client id unless a new connection took it meanwhile. */
  sessionEnded(clientId: string): void {
    this.replicas.ended(clientId);
    this.ownership.sessionEnded(clientId);
  }

  /** A session here was attached or went offline: a persistent one is replicated to another node. */
  sessionSaved(session: Session): void {
    if (this.started) this.replicas.saved(session);
  }

  /** Releases ownership of a client id that has no session here any more. */
  releaseOwnership(clientId: string): void {
    this.ownership.release(clientId);
  }
}
