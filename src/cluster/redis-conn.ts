import type { Redis, RedisOptions } from 'ioredis';
import type { ResolvedClusterOptions } from './options.js';

/**
 * A Redis connection of a cluster node, from the URL or through Sentinel. The
 * command connection never queues while Redis is away (`bounded`): a command
 * then fails at once and the caller decides locally, so an outage cannot grow
 * memory or replay stale writes later.
 */
export async function redisConnection(o: ResolvedClusterOptions, bounded: boolean): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const common: RedisOptions = {
    lazyConnect: true,
    maxRetriesPerRequest: bounded ? 0 : 2,
    enableOfflineQueue: !bounded,
    // Commands of one event-loop turn go out as one write.
    enableAutoPipelining: bounded,
    retryStrategy: (times) => Math.min(50 * times, 500),
  };
  if (o.redisSentinels.length === 0) return new Redis(o.redisUrl, common);
  const url = new URL(o.redisUrl === '' ? 'redis://' : o.redisUrl);
  const sentinels = o.redisSentinels.map((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  });
  return new Redis({
    ...common,
    sentinels,
    name: o.sentinelName,
    ...(url.username !== '' ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
  });
}
