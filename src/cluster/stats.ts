import type { PeerLink } from './peer-link.js';
import type { RemoteRoutes } from './remote-routes.js';
import type { Replicas } from './replicas.js';

/** Counters of a cluster node. */
export interface ClusterStats {
  /** Messages sent to other nodes (one per node and message). */
  forwarded: number;
  /** Messages received from other nodes and routed here. */
  received: number;
  /** Link frames (messages and route changes) the receiving node acknowledged. */
  acked: number;
  /** Link frames sent again after a broken link. */
  resent: number;
  /** Link frames given up: outbox full, or the receiving node gone for good. */
  dropped: number;
  /** Frames received again after a fault and discarded (already applied). */
  duplicates: number;
  /** Connections closed here because their client id moved to another node. */
  takenOver: number;
  /** Persistent sessions received from other nodes. */
  sessionsReceived: number;
  /** CONNECTs decided without Redis (outage or slow claim), reconciled when it is back. */
  claimsLocal: number;
  /** Redis commands that failed (not queued: nothing waits for Redis to come back). */
  redisErrors: number;
  /** Restored sessions dropped at start because another node owns their client id now. */
  sessionsDropped: number;
  /** Persistent sessions restored from a replica because their owner died (on a reconnect, or taken over when it was declared gone). */
  sessionsRestored: number;
  /** Messages forwarded to a node that died, applied here to its sessions (orphans, see Orphans). */
  orphans: number;
}

/** Counters of a node that just started: all zero. */
export function newStats(): ClusterStats {
  return {
    forwarded: 0,
    received: 0,
    acked: 0,
    resent: 0,
    dropped: 0,
    duplicates: 0,
    takenOver: 0,
    sessionsReceived: 0,
    claimsLocal: 0,
    redisErrors: 0,
    sessionsDropped: 0,
    sessionsRestored: 0,
    orphans: 0,
  };
}

/**
 * Counters and gauges of a node for `$SYS/broker/cluster/...` and `/metrics`
 * (see Cluster.metrics).
 */
export function metricsOf(
  stats: ClusterStats,
  remote: RemoteRoutes,
  links: ReadonlyMap<string, PeerLink>,
  replicas: Replicas,
  redisUp: boolean,
): Record<string, number | string> {
  let connected = 0;
  let outbox = 0;
  for (const l of links.values()) {
    if (l.connected) connected++;
    outbox += l.unacked;
  }
  return {
    ...stats,
    routes: remote.size,
    nodes: links.size,
    'links/connected': connected,
    outbox,
    'replicas/sent': replicas.replicated,
    'replicas/held': replicas.store.size,
    redis: redisUp ? 'up' : 'down',
  };
}
