import { getHeapStatistics } from 'node:v8';
import type { Broker } from '../broker/broker.js';

/** What an alarm is about. */
export type AlarmKind =
  | 'slow_consumer'
  | 'queue_drops'
  | 'auth_failures'
  | 'memory_high'
  | 'auth_backend'
  | 'cluster_redis';

/** One alarm, active (clearedAt null) or cleared. */
export interface Alarm {
  /** kind, or kind:subject for per-client alarms. */
  key: string;
  kind: AlarmKind;
  /** The client id of a per-client alarm, else null. */
  subject: string | null;
  message: string;
  raisedAt: string;
  clearedAt: string | null;
}

/** Thresholds of the alarms (all optional). */
export interface AlarmOptions {
  /** Milliseconds between checks; default 2000. */
  intervalMs?: number;
  /** A connected client with this many deliveries queued is slow; default half of max_queued_messages (or 500). */
  slowConsumerQueued?: number;
  /** Refused CONNECTs within `windowMs` that make a burst; default 20. */
  authFailureBurst?: number;
  /** Window of the authentication-failure burst, ms; default 60000. */
  windowMs?: number;
  /** Resident memory (bytes) that raises memory_high; default 85% of V8's heap limit, compared with the heap in use. */
  memoryHighWaterBytes?: number;
  /** Event alarms (drops, backend errors, bursts) clear after this long without new events, ms; default 60000. */
  quietMs?: number;
}

const CLEARED_KEPT = 100;

/** A health check of the cluster's Redis (the admin server's ClusterProbe). */
export interface RedisHealth {
  health(): Promise<{ ok: boolean; error: string | null }>;
}

/**
 * Raises and clears alarms from the broker's counters and sessions, checked on a
 * timer (never per message): slow consumers, dropped deliveries, bursts of refused
 * CONNECTs, memory over its high-water mark, and auth backend failures.
 */
export class Alarms {
  private readonly active = new Map<string, Alarm>();
  private readonly cleared: Alarm[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly lastEvent = new Map<string, number>();
  /** (time, authFailures total) samples covering the burst window. */
  private readonly authSamples: [number, number][] = [];
  private redisChecking = false;
  private prevDropped: number;
  private prevBackend: number;
  private readonly o: Required<Omit<AlarmOptions, 'memoryHighWaterBytes'>> & {
    memoryHighWaterBytes: number | undefined;
  };

  constructor(
    private readonly broker: Broker,
    options: AlarmOptions = {},
    private readonly redis?: RedisHealth,
  ) {
    const maxQueued = broker.options.maxQueuedMessages;
    this.o = {
      intervalMs: options.intervalMs ?? 2000,
      slowConsumerQueued:
        options.slowConsumerQueued ?? (maxQueued > 0 ? Math.ceil(maxQueued / 2) : 500),
      authFailureBurst: options.authFailureBurst ?? 20,
      windowMs: options.windowMs ?? 60_000,
      memoryHighWaterBytes: options.memoryHighWaterBytes,
      quietMs: options.quietMs ?? 60_000,
    };
    this.prevDropped = broker.stats.publishDropped;
    this.prevBackend = this.backendErrors();
    this.timer = setInterval(() => this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  private backendErrors(): number {
    const s = this.broker.stats;
    return s.authBackendErrors + s.authBackendUnavailable;
  }

  private raise(key: string, kind: AlarmKind, subject: string | null, message: string): void {
    const a = this.active.get(key);
    if (a !== undefined) {
      a.message = message;
      return;
    }
    this.active.set(key, {
      key,
      kind,
      subject,
      message,
      raisedAt: new Date().toISOString(),
      clearedAt: null,
    });
    this.broker.log?.warn(`Alarm raised: ${message}`);
  }

  private clear(key: string): void {
    const a = this.active.get(key);
    if (a === undefined) return;
    this.active.delete(key);
    a.clearedAt = new Date().toISOString();
    this.cleared.unshift(a);
    if (this.cleared.length > CLEARED_KEPT) this.cleared.pop();
    this.broker.log?.info(`Alarm cleared: ${a.message}`);
  }

  /** An event alarm: raised when `events` > 0, cleared after quietMs without events. */
  private eventAlarm(kind: AlarmKind, events: number, now: number, message: string): void {
    if (events > 0) {
      this.lastEvent.set(kind, now);
      this.raise(kind, kind, null, message);
    } else if (now - (this.lastEvent.get(kind) ?? 0) >= this.o.quietMs) {
      this.clear(kind);
    }
  }

  /** Runs every check once (the timer calls this). */
  check(now = Date.now()): void {
    const s = this.broker.stats;
    const slow = new Set<string>();
    for (const session of this.broker.sessions.values()) {
      if (!session.online || session.queuedCount < this.o.slowConsumerQueued) continue;
      const key = `slow_consumer:${session.clientId}`;
      slow.add(key);
      this.raise(
        key,
        'slow_consumer',
        session.clientId,
        `Slow consumer ${session.clientId}: ${session.queuedCount} deliveries queued (alarm at ${this.o.slowConsumerQueued})`,
      );
    }
    for (const key of [...this.active.keys()]) {
      if (key.startsWith('slow_consumer:') && !slow.has(key)) this.clear(key);
    }

    const dropped = s.publishDropped - this.prevDropped;
    this.prevDropped = s.publishDropped;
    this.eventAlarm(
      'queue_drops',
      dropped,
      now,
      `Deliveries dropped: ${dropped} in the last check (queue full, slow consumer or expired)`,
    );

    const backend = this.backendErrors() - this.prevBackend;
    this.prevBackend = this.backendErrors();
    this.eventAlarm(
      'auth_backend',
      backend,
      now,
      `Authentication backend failing: ${backend} failed lookups in the last check`,
    );

    this.authSamples.push([now, s.authFailures]);
    while (this.authSamples.length > 1 && now - this.authSamples[0]![0] > this.o.windowMs) {
      this.authSamples.shift();
    }
    const burst = s.authFailures - this.authSamples[0]![1];
    if (burst >= this.o.authFailureBurst) {
      this.lastEvent.set('auth_failures', now);
      this.raise(
        'auth_failures',
        'auth_failures',
        null,
        `Authentication failures: ${burst} refused CONNECTs within ${Math.round(this.o.windowMs / 1000)} s`,
      );
    } else if (now - (this.lastEvent.get('auth_failures') ?? 0) >= this.o.quietMs) {
      this.clear('auth_failures');
    }

    const mem = process.memoryUsage();
    let high: string | undefined;
    if (this.o.memoryHighWaterBytes !== undefined) {
      if (mem.rss >= this.o.memoryHighWaterBytes) {
        high = `Memory high: ${mb(mem.rss)} resident (alarm at ${mb(this.o.memoryHighWaterBytes)})`;
      }
    } else {
      const limit = getHeapStatistics().heap_size_limit;
      if (mem.heapUsed >= limit * 0.85) {
        high = `Memory high: ${mb(mem.heapUsed)} of the ${mb(limit)} heap limit in use`;
      }
    }
    if (high !== undefined) this.raise('memory_high', 'memory_high', null, high);
    else this.clear('memory_high');

    if (this.broker.cluster !== undefined && this.redis !== undefined && !this.redisChecking) {
      this.redisChecking = true;
      this.redis
        .health()
        .then((h) => {
          if (h.ok) this.clear('cluster_redis');
          else
            this.raise(
              'cluster_redis',
              'cluster_redis',
              null,
              `Cluster Redis unreachable: ${h.error}`,
            );
        })
        .finally(() => {
          this.redisChecking = false;
        });
    }
  }

  /** Active alarms, oldest first. */
  list(): Alarm[] {
    return [...this.active.values()];
  }

  /** Recently cleared alarms, newest first. */
  history(): Alarm[] {
    return this.cleared.slice();
  }

  /** Number of active alarms. */
  get count(): number {
    return this.active.size;
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.timer);
  }
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1048576)} MB`;
}
