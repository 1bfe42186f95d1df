/** The `cluster` broker option: join other Heron nodes through one Redis server. */
export interface ClusterOptions {
  /** Redis URL, e.g. `redis://127.0.0.1:6379` (cluster_redis_url). */
  redisUrl: string;
  /** This node's id, unique in the cluster (cluster_node_id). Default: generated at startup. */
  nodeId?: string;
  /** Prefix of every Redis key and channel, so several clusters can share a Redis. Default `heron:`. */
  keyPrefix?: string;
  /** Milliseconds a node stays alive in Redis without a heartbeat (heartbeats every third of it). Default 10000. */
  nodeTtl?: number;
  /** Milliseconds a connecting client waits for its session from the node that held it. Default 2000. */
  handoverTimeout?: number;
}

/** ClusterOptions with defaults applied. */
export type ResolvedClusterOptions = Required<ClusterOptions>;
