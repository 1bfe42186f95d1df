import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';

/** The `cluster` broker option: join other Heron nodes that meet in one Redis. */
export interface ClusterOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379` (cluster_redis_url); with Sentinel, only its credentials/db are used. */
  redisUrl: string;
  /** Redis Sentinel addresses `host:port` (cluster_redis_sentinel); Redis is then found through them. */
  redisSentinels?: string[];
  /** Name of the Sentinel-monitored master (cluster_redis_sentinel_name). Default `mymaster`. */
  sentinelName?: string;
  /** This node's id, unique in the cluster (cluster_node_id). Default: generated at startup. */
  nodeId?: string;
  /** Prefix of every Redis key and channel, so several clusters can share a Redis (cluster_key_prefix). Default `heron:`. */
  keyPrefix?: string;
  /** Milliseconds a node stays alive without a heartbeat (heartbeats every third of it) (cluster_node_ttl). Default 10000. */
  nodeTtl?: number;
  /** Milliseconds a connecting client waits for its session from the node that held it (cluster_handover_timeout). Default 2000. */
  handoverTimeout?: number;
  /** Address the node-to-node link listens on (cluster_link_listener host:port). Default `0.0.0.0`. */
  linkHost?: string;
  /** Port of the node-to-node link; 0 picks a free one (cluster_link_listener). Default 0. */
  linkPort?: number;
  /** Address other nodes dial to reach this node's link (cluster_link_advertise). Default: linkHost, or the first non-internal IPv4 address. */
  advertiseHost?: string;
  /** Frames kept per other node until it acknowledges them; beyond, the oldest are dropped and counted (cluster_max_outbox). Default 100000. */
  maxOutbox?: number;
  /** Milliseconds a CONNECT waits for Redis to claim its client id before deciding locally. Default 1000. */
  claimTimeout?: number;
}

/** ClusterOptions with defaults applied. */
export type ResolvedClusterOptions = Required<ClusterOptions>;

// A wildcard bind address cannot be dialled: the others need a real address of this host.
function advertisedHost(o: ClusterOptions): string {
  if (o.advertiseHost !== undefined) return o.advertiseHost;
  const h = o.linkHost ?? '0.0.0.0';
  if (h !== '0.0.0.0' && h !== '::') return h;
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** The options with their defaults. */
export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  return {
    redisUrl: o.redisUrl,
    redisSentinels: o.redisSentinels ?? [],
    sentinelName: o.sentinelName ?? 'mymaster',
    nodeId: o.nodeId ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
    keyPrefix: o.keyPrefix ?? 'heron:',
    nodeTtl: o.nodeTtl ?? 10_000,
    handoverTimeout: o.handoverTimeout ?? 2000,
    linkHost: o.linkHost ?? '0.0.0.0',
    linkPort: o.linkPort ?? 0,
    advertiseHost: advertisedHost(o),
    maxOutbox: o.maxOutbox ?? 100_000,
    claimTimeout: o.claimTimeout ?? 1000,
  };
}
