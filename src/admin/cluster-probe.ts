import type { Broker } from '../broker/broker.js';
import { pingKeys, type RedisClient, redisConnection, scanKeys } from '../cluster/redis-conn.js';

/** A cluster node as the API shows it. */
export interface NodeView {
  id: string;
  /** This node. */
  self: boolean;
  /** Alive in Redis (its heartbeat key exists). */
  alive: boolean;
  /** Subscription routes it announced (0 for this node: see /filters). */
  routes: number;
}

/**
 * The admin server's own view of the cluster's Redis: a separate connection, so
 * a health check measures what the broker's connections would see and never
 * waits behind their traffic. Connects on first use.
 */
export class ClusterProbe {
  constructor(private readonly broker: Broker) {}

  private redis: Promise<RedisClient> | undefined;

  /** The probe's connection, made like the node's own (URL, Sentinel or Redis Cluster); ioredis loads on first use. */
  private client(): Promise<RedisClient> {
    if (this.redis === undefined) {
      this.redis = redisConnection(this.broker.cluster!.options, false).then((r) => {
        // Errors surface in the health answer; without a listener ioredis would print them.
        r.on('error', () => {});
        return r;
      });
    }
    return this.redis;
  }

  /** Round trip to the server holding the cluster's keys (see pingKeys), or the error. */
  async health(): Promise<{ ok: boolean; latencyMs: number | null; error: string | null }> {
    const start = performance.now();
    try {
      const r = await this.client();
      await withTimeout(pingKeys(r, this.broker.cluster!.options.keyPrefix), 2000);
      return {
        ok: true,
        latencyMs: Math.round((performance.now() - start) * 100) / 100,
        error: null,
      };
    } catch (e) {
      return { ok: false, latencyMs: null, error: (e as Error).message };
    }
  }

  /** Node ids with a live heartbeat key. */
  async aliveNodes(): Promise<Set<string>> {
    const prefix = `${this.broker.cluster!.options.keyPrefix}node:`;
    const found = new Set<string>();
    const r = await this.client();
    await withTimeout(
      scanKeys(r, `${prefix}*`, (keys) => {
        for (const k of keys) found.add(k.slice(prefix.length));
      }),
      2000,
    );
    return found;
  }

  /** The node that owns a client id's session, with its fencing epoch. */
  async owner(clientId: string): Promise<{ node: string | null; epoch: number | null }> {
    const key = `${this.broker.cluster!.options.keyPrefix}session:${clientId}`;
    const [node, epoch] = await withTimeout(
      (await this.client()).hmget(key, 'node', 'epoch'),
      2000,
    );
    return {
      node: node ?? null,
      epoch: epoch !== null && epoch !== undefined ? Number(epoch) : null,
    };
  }

  /** Closes the connection. */
  close(): void {
    void this.redis?.then((r) => r.disconnect());
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
