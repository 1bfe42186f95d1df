import { pingKeys, type RedisClient, scanKeys } from './redis-conn.js';

/** One node as `heron cluster status` reports it. */
export interface NodeStatus {
  id: string;
  /** Whether its liveness key is in Redis. */
  alive: boolean;
  /** Its link address (host:port), when alive. */
  link: string | undefined;
  /** Ms since its last heartbeat, when alive. */
  lastBeatMs: number | undefined;
  /** Routes in its Redis copy. */
  routes: number;
  /** Client ids Redis records it as owner of. */
  owns: number;
}

/** What `heron cluster status` reports. */
export interface ClusterStatus {
  /** Redis round trip of a PING (on a Redis Cluster, of an EXISTS on the shard holding Heron's keys), ms. */
  redisLatencyMs: number;
  nodes: NodeStatus[];
  /** Client ids with an ownership record. */
  sessions: number;
}

/** Reads the cluster's membership, routes and ownership from Redis (SCAN, never KEYS). */
export async function readClusterStatus(r: RedisClient, prefix: string): Promise<ClusterStatus> {
  const t0 = performance.now();
  await pingKeys(r, prefix);
  const redisLatencyMs = Math.round((performance.now() - t0) * 100) / 100;
  const ids = new Set(await r.smembers(`${prefix}nodes`));
  const owns = new Map<string, number>();
  let sessions = 0;
  await scanKeys(r, `${prefix}session:*`, async (keys) => {
    const pl = r.pipeline();
    for (const k of keys) pl.hget(k, 'node');
    for (const [, owner] of (await pl.exec()) ?? []) {
      if (typeof owner !== 'string') continue;
      sessions++;
      owns.set(owner, (owns.get(owner) ?? 0) + 1);
      ids.add(owner);
    }
  });
  const list = [...ids].sort();
  const pl = r.pipeline();
  for (const id of list) {
    pl.get(`${prefix}node:${id}`);
    pl.hlen(`${prefix}routes:${id}`);
  }
  const res = (await pl.exec()) ?? [];
  const now = Date.now();
  const nodes = list.map((id, i): NodeStatus => {
    const rec = res[2 * i]?.[1] as string | null;
    let link: string | undefined;
    let lastBeatMs: number | undefined;
    if (rec != null) {
      try {
        const j = JSON.parse(rec) as { h?: string; p?: number; t?: number };
        if (j.h !== undefined) link = `${j.h}:${j.p}`;
        if (j.t !== undefined) lastBeatMs = now - j.t;
      } catch {
        // A record of another version: alive, no details.
      }
    }
    return {
      id,
      alive: rec != null,
      link,
      lastBeatMs,
      routes: Number(res[2 * i + 1]?.[1] ?? 0),
      owns: owns.get(id) ?? 0,
    };
  });
  return { redisLatencyMs, nodes, sessions };
}

/** The status as a text table. */
export function formatClusterStatus(s: ClusterStatus): string {
  const rows = [['node', 'state', 'link', 'last beat', 'routes', 'sessions']];
  for (const n of s.nodes)
    rows.push([
      n.id,
      n.alive ? 'alive' : 'gone',
      n.link ?? '-',
      n.lastBeatMs === undefined ? '-' : `${n.lastBeatMs} ms`,
      String(n.routes),
      String(n.owns),
    ]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((v, c) => v.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  const alive = s.nodes.filter((n) => n.alive).length;
  return `redis: up (${s.redisLatencyMs} ms)\nnodes: ${alive} alive of ${s.nodes.length}; sessions owned: ${s.sessions}\n${lines.join('\n')}\n`;
}
