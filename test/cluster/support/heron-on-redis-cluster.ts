import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { KEEP_ROOT } from '../../helpers/keep-root.js';
import { freePort, type ListeningProcess, startHeron } from '../../helpers/process.js';
import { connectRecorder, type Recorder } from './clients.js';
import type { ClusterServer, TestRedisCluster } from './redis-cluster.js';

/** A heron process on a Redis Cluster, with its configuration file. */
export interface HeronNode {
  id: string;
  url: string;
  conf: string;
  proc: ListeningProcess;
}

/**
 * Starts one heron process per id, configured from a heron.conf in `dir` with
 * `cluster_redis_cluster` lines naming every server of `redis` (default key
 * prefix, so keys are `{heron:}…`); the first one also gets an admin listener
 * on `adminPort` when given.
 */
export function startHeronNodes(
  redis: TestRedisCluster,
  dir: string,
  ids: string[],
  adminPort?: number,
): Promise<HeronNode[]> {
  return Promise.all(
    ids.map(async (id, i) => {
      const port = await freePort();
      const conf = join(dir, `${id}.conf`);
      const admin = i === 0 && adminPort !== undefined;
      await writeFile(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          ...KEEP_ROOT,
          // With seed nodes, the URL gives only credentials: its host is not dialled.
          `cluster_redis_url redis://${redis.seeds[0]}`,
          ...redis.seeds.map((s) => `cluster_redis_cluster ${s}`),
          `cluster_node_id ${id}`,
          'cluster_link_listener 0 127.0.0.1',
          'cluster_node_ttl 3000',
          'cluster_handover_timeout 1000',
          ...(admin ? [`admin_listener ${adminPort} 127.0.0.1`] : []),
          '',
        ].join('\n'),
      );
      const proc = await startHeron(['-c', conf], ...(admin ? [port, adminPort] : [port]));
      return { id, url: `mqtt://127.0.0.1:${port}`, conf, proc };
    }),
  );
}

/** The test's own Cluster client, to look at Heron's keys. */
export function lookInto(redis: TestRedisCluster): Cluster {
  return new Cluster(
    redis.seeds.map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })),
  );
}

/** The master serving Heron's keys (all in the slot of the tag `heron:`), and its first replica's port. */
export async function keysShard(
  look: Cluster,
  redis: TestRedisCluster,
): Promise<{ master: ClusterServer; replicaPort: number | undefined }> {
  const slot = Number(await look.cluster('KEYSLOT', 'heron:'));
  const range = (await look.cluster('SLOTS')).find(([a, b]) => slot >= a && slot <= b)!;
  const port = range[2]![1];
  return {
    master: redis.servers.find((s) => s.port === port)!,
    replicaPort: range[3]?.[1],
  };
}

/** The retained message a fresh subscriber to `topic` on `url` gets, if any within 300 ms. */
export async function retainedOn(url: string, topic: string): Promise<string | undefined> {
  const r = await connectRecorder(url, { protocolVersion: 5 });
  try {
    await r.client.subscribeAsync(topic, { qos: 1 });
    const end = Date.now() + 300;
    while (r.got.length === 0 && Date.now() < end) await new Promise((ok) => setTimeout(ok, 10));
    return r.got.find((m) => m.retain)?.payload;
  } finally {
    r.client.end(true);
  }
}

/** Payloads of `sent` that none of `subs` received. */
export function missing(sent: string[], ...subs: Recorder[]): string[] {
  const seen = new Set(subs.flatMap((s) => s.got.map((m) => m.payload)));
  return sent.filter((p) => !seen.has(p));
}
