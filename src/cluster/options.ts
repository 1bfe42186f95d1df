import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';

/** The `cluster` broker option: join other Heron nodes that meet in one Redis. */
export interface ClusterOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379` (cluster_redis_url); with Sentinel or Redis Cluster, only its credentials (and db, TLS) are used. */
  redisUrl: string;
  /** Redis Sentinel addresses `host:port` (cluster_redis_sentinel); Redis is then found through them. */
  redisSentinels?: string[];
  /** Seed nodes `host:port` of a Redis Cluster (cluster_redis_cluster); Heron then uses the Cluster client and keeps all its keys in one hash slot. */
  redisClusterNodes?: string[];
  /** Name of the Sentinel-monitored master (cluster_redis_sentinel_name). Default `mymaster`. */
  sentinelName?: string;
  /** This node's id, unique in the cluster (cluster_node_id). Default: generated at startup. */
  nodeId?: string;
  /** Prefix of every Redis key and channel, so several clusters can share a Redis (cluster_key_prefix). Default `heron:`; on a Redis Cluster wrapped in a hash tag (`{heron:}`) unless it has one. */
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

/** Whether Redis Cluster would hash keys with this prefix by a tag in it (`{...}`, not empty). */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}

/**
 * The prefix keys are built from. On a Redis Cluster every key a node touches
 * in one transaction or script must sit in one hash slot, so the prefix
 * becomes a hash tag; on one Redis it stays as given, so the keys of existing
 * deployments do not change.
 */
function effectivePrefix(prefix: string, redisCluster: boolean): string {
  return !redisCluster || hasHashTag(prefix) ? prefix : `{${prefix}}`;
}

/** The options with their defaults; throws a TypeError for options that contradict each other. */
export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  const clusterNodes = o.redisClusterNodes ?? [];
  if (clusterNodes.length > 0) {
    if ((o.redisSentinels ?? []).length > 0)
      throw new TypeError('cluster: redisClusterNodes and redisSentinels exclude each other');
    const db = new URL(o.redisUrl === '' ? 'redis://' : o.redisUrl).pathname.slice(1);
    if (db !== '' && db !== '0')
      throw new TypeError(`cluster: a Redis Cluster has only database 0, the URL names ${db}`);
  }
  return {
    redisUrl: o.redisUrl,
    redisSentinels: o.redisSentinels ?? [],
    redisClusterNodes: clusterNodes,
    sentinelName: o.sentinelName ?? 'mymaster',
    nodeId: o.nodeId ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
    keyPrefix: effectivePrefix(o.keyPrefix ?? 'heron:', clusterNodes.length > 0),
    nodeTtl: o.nodeTtl ?? 10_000,
    handoverTimeout: o.handoverTimeout ?? 2000,
    linkHost: o.linkHost ?? '0.0.0.0',
    linkPort: o.linkPort ?? 0,
    advertiseHost: advertisedHost(o),
    maxOutbox: o.maxOutbox ?? 100_000,
    claimTimeout: o.claimTimeout ?? 1000,
  };
}
