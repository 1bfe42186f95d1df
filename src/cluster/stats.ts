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
  /** Persistent sessions restored from a replica because their owner died. */
  sessionsRestored: number;
}
