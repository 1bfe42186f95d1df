import { type ResolvedClusterOptions, resolveClusterOptions } from '../cluster/options.js';
import { redisConnection } from '../cluster/redis-conn.js';
import { formatClusterStatus, readClusterStatus } from '../cluster/status.js';
import { loadConfigFile } from '../config/index.js';

const USAGE = `Usage: heron cluster status [-c heron.conf] [--url redis://host:port] [--redis-cluster host:port]... [--prefix heron:] [--json]
Shows the cluster's nodes (alive, link address, last heartbeat, routes, sessions owned) from Redis.
The Redis address and key prefix come from the configuration file (cluster_* options) or the flags;
--redis-cluster (repeatable) names seed nodes of a Redis Cluster, as cluster_redis_cluster does.
`;

/** `heron cluster status`: nodes, ownership and health, read from the cluster's Redis. */
export async function clusterMain(argv: string[]): Promise<number> {
  if (argv[0] !== 'status') {
    process.stderr.write(USAGE);
    return 1;
  }
  let url: string | undefined;
  let prefix: string | undefined;
  let sentinels: string[] = [];
  let clusterNodes: string[] = [];
  let sentinelName = 'mymaster';
  let json = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const c = (await loadConfigFile(argv[++i] ?? '')).cluster;
      if (c === undefined) {
        process.stderr.write('Error: the configuration has no cluster_redis_url\n');
        return 1;
      }
      url ??= c.redisUrl;
      prefix ??= c.keyPrefix;
      sentinels = c.redisSentinels ?? [];
      clusterNodes = c.redisClusterNodes ?? [];
      sentinelName = c.sentinelName ?? sentinelName;
    } else if (a === '--url') url = argv[++i];
    else if (a === '--redis-cluster') clusterNodes = [...clusterNodes, argv[++i] ?? ''];
    else if (a === '--prefix') prefix = argv[++i];
    else if (a === '--json') json = true;
    else {
      process.stderr.write(USAGE);
      return 1;
    }
  }
  // Seed nodes alone suffice: the URL would only add credentials.
  if (url === undefined && clusterNodes.length > 0) url = 'redis://';
  if (url === undefined) {
    process.stderr.write(USAGE);
    return 1;
  }
  // Resolved as a node would, so a Redis Cluster's hash-tagged prefix is the same.
  let o: ResolvedClusterOptions;
  try {
    o = resolveClusterOptions({
      redisUrl: url,
      redisSentinels: sentinels,
      redisClusterNodes: clusterNodes,
      sentinelName,
      nodeId: '-',
      ...(prefix !== undefined ? { keyPrefix: prefix } : {}),
    });
  } catch (err) {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    return 1;
  }
  const r = await redisConnection(o, false);
  r.on('error', () => {});
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      r.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no connection within 3 s')), 3000);
      }),
    ]).finally(() => clearTimeout(timer));
    const s = await readClusterStatus(r, o.keyPrefix);
    process.stdout.write(json ? `${JSON.stringify(s, null, 2)}\n` : formatClusterStatus(s));
    return 0;
  } catch (err) {
    process.stderr.write(`Error: cannot read the cluster from Redis: ${(err as Error).message}\n`);
    return 1;
  } finally {
    r.disconnect();
  }
}
