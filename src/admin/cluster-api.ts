import type { ApiContext } from './api-context.js';
import type { NodeView } from './cluster-probe.js';
import { HttpError } from './http-error.js';

/** GET /cluster: this node, the others, Redis health and the forwarding counters. */
export async function getCluster({ broker, cluster }: ApiContext): Promise<unknown> {
  const c = broker.cluster;
  if (c === undefined) return { enabled: false };
  const redis = await cluster.health();
  let alive = new Set<string>();
  if (redis.ok) alive = await cluster.aliveNodes().catch(() => new Set<string>());
  const ids = new Set<string>([c.nodeId, ...c.remote.nodes.keys(), ...alive]);
  const nodes: NodeView[] = [...ids].sort().map((id) => ({
    id,
    self: id === c.nodeId,
    alive: id === c.nodeId ? redis.ok : alive.has(id),
    routes: c.remote.nodes.get(id)?.keys.size ?? 0,
  }));
  return { enabled: true, nodeId: c.nodeId, redis, nodes, stats: { ...c.stats } };
}

/** GET /owners/:id: which node owns a client id's session. */
export async function getOwner({ broker, cluster, id }: ApiContext): Promise<unknown> {
  if (broker.cluster === undefined) throw new HttpError(404, 'this broker is not in a cluster');
  try {
    const o = await cluster.owner(id);
    return { clientId: id, owner: o.node, epoch: o.epoch, here: broker.sessions.has(id) };
  } catch (e) {
    throw new HttpError(503, `cannot ask Redis: ${(e as Error).message}`);
  }
}
