import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { ResolvedClusterOptions } from './options.js';

/** A Redis connection of a cluster node: one server (by URL or Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/** Username and password of the URL, when it carries them. */
function credentials(url: URL): { username?: string; password?: string } {
  return {
    ...(url.username !== '' ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
  };
}

/**
 * A Redis connection of a cluster node, from the URL, through Sentinel or to
 * a Redis Cluster. The command connection never queues while Redis is away
 * (`bounded`): a command then fails at once and the caller decides locally, so
 * an outage cannot grow memory or replay stale writes later.
 */
export async function redisConnection(
  o: ResolvedClusterOptions,
  bounded: boolean,
): Promise<RedisClient> {
  const { Cluster, Redis } = await import('ioredis');
  const common: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: bounded ? 0 : 2,
    enableOfflineQueue: !bounded,
    // Commands of one event-loop turn go out as one write.
    enableAutoPipelining: bounded,
    retryStrategy: (times) => Math.min(50 * times, 500),
  };
  if (o.redisSentinels.length === 0 && o.redisClusterNodes.length === 0)
    return new Redis(o.redisUrl, common);
  // With Sentinels or seed nodes the URL only carries credentials (and db or TLS).
  const url = new URL(o.redisUrl === '' ? 'redis://' : o.redisUrl);
  if (o.redisClusterNodes.length > 0) {
    return new Cluster(o.redisClusterNodes.map(hostPort), {
      lazyConnect: true,
      // The ready check sends CLUSTER INFO to any server; when that one is
      // down, ioredis reconnects and the promise of connect() never settles.
      // A cluster that cannot serve fails the first real command instead.
      enableReadyCheck: false,
      enableOfflineQueue: !bounded,
      enableAutoPipelining: bounded,
      // Bounded: a command whose shard is away fails now instead of waiting
      // in the client's retry queue for a fail-over that may take seconds.
      retryDelayOnFailover: bounded ? 0 : 100,
      retryDelayOnClusterDown: bounded ? 0 : 100,
      clusterRetryStrategy: (times) => Math.min(50 * times, 500),
      // A failed-over shard's new master is learnt within a second (ioredis: 5 s),
      // since bounded commands do not retry into a refresh of their own.
      slotsRefreshInterval: 1000,
      redisOptions: {
        maxRetriesPerRequest: bounded ? 0 : 2,
        ...credentials(url),
        ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    });
  }
  return new Redis({
    ...common,
    sentinels: o.redisSentinels.map(hostPort),
    name: o.sentinelName,
    ...credentials(url),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
  });
}

/** Where the options say Redis is, for messages: the URL, the Sentinels or the Redis Cluster's seeds. */
export function redisWhere(o: ResolvedClusterOptions): string {
  if (o.redisClusterNodes.length > 0)
    return `the Redis Cluster at ${o.redisClusterNodes.join(', ')}`;
  if (o.redisSentinels.length > 0)
    return `master ${o.sentinelName} of the Sentinels at ${o.redisSentinels.join(', ')}`;
  return o.redisUrl;
}

/**
 * Calls `each` with every batch of keys matching `pattern` (SCAN, never
 * KEYS). A Redis Cluster is scanned master by master, since SCAN sees one
 * server; a master that cannot be reached is passed over: Heron's keys share
 * one slot, and the caller has just read a key of that slot.
 */
export async function scanKeys(
  r: RedisClient,
  pattern: string,
  each: (keys: string[]) => void | Promise<void>,
): Promise<void> {
  const cluster = 'nodes' in r;
  for (const s of cluster ? r.nodes('master') : [r]) {
    let cursor = '0';
    do {
      let next: string;
      let keys: string[];
      try {
        [next, keys] = await s.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      } catch (err) {
        if (cluster) break;
        throw err;
      }
      cursor = next;
      if (keys.length > 0) await each(keys);
    } while (cursor !== '0');
  }
}

/**
 * A round trip to the server holding the keys under `prefix`: a PING on one
 * Redis; on a Redis Cluster, where a PING goes to any server, an EXISTS of
 * the `nodes` key, answered by the shard holding Heron's keys.
 */
export function pingKeys(r: RedisClient, prefix: string): Promise<unknown> {
  return 'nodes' in r ? r.exists(`${prefix}nodes`) : r.ping();
}

/** PUBLISH from a script, so that the client routes it by the script's key. */
const PUBLISH = `return redis.call('PUBLISH', ARGV[1], ARGV[2])`;

/**
 * Publishes `message` on `channel`. A Redis Cluster takes a PUBLISH on any
 * server and the client picks one at random, possibly one that is down; sent
 * as a script declaring `anchor` (a key under the node's prefix) it goes to
 * the shard holding the node's keys, so it fails only when they are away too.
 */
export function publishVia(
  r: RedisClient,
  anchor: string,
  channel: string,
  message: string,
): Promise<unknown> {
  return 'nodes' in r ? r.eval(PUBLISH, 1, anchor, channel, message) : r.publish(channel, message);
}
