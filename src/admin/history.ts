import type { Broker } from '../broker/broker.js';

/** One point of the history: rates per second over the interval that ended at `t`. */
export interface HistorySample {
  /** End of the interval, ms since the epoch. */
  t: number;
  /** Messages received / sent per second. */
  in: number;
  out: number;
  /** Bytes received / sent per second. */
  bytesIn: number;
  bytesOut: number;
  /** Deliveries dropped per second. */
  dropped: number;
  /** Clients connected at `t`. */
  connections: number;
}

/** Counter values at the previous sample. */
interface Totals {
  at: number;
  in: number;
  out: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
}

/**
 * The last hour (by default) of broker rates, sampled on a timer into a ring
 * buffer, so a dashboard opened now can draw what happened before it was opened.
 */
export class History {
  /** Milliseconds between samples. */
  readonly intervalMs: number;
  /** Most samples kept. */
  readonly capacity: number;
  private readonly ring: HistorySample[] = [];
  private next = 0;
  private last: Totals;
  private readonly timer: NodeJS.Timeout;
  private readonly broker: Broker;

  constructor(broker: Broker, intervalMs = 2000, keepMs = 3600_000) {
    this.broker = broker;
    this.intervalMs = intervalMs;
    this.capacity = Math.max(1, Math.ceil(keepMs / intervalMs));
    this.last = this.totals();
    this.timer = setInterval(() => this.sample(), intervalMs);
    // The history must never keep a broker process alive.
    this.timer.unref();
  }

  private totals(): Totals {
    const s = this.broker.stats;
    return {
      at: Date.now(),
      in: s.publishReceived,
      out: s.publishSent,
      bytesIn: s.bytesReceived,
      bytesOut: s.bytesSent,
      dropped: s.publishDropped,
    };
  }

  /** Takes one sample now (the timer calls this). */
  sample(): void {
    const now = this.totals();
    const dt = Math.max(1, now.at - this.last.at) / 1000;
    const rate = (k: keyof Omit<Totals, 'at'>): number =>
      Math.max(0, Math.round(((now[k] - this.last[k]) / dt) * 100) / 100);
    const point: HistorySample = {
      t: now.at,
      in: rate('in'),
      out: rate('out'),
      bytesIn: rate('bytesIn'),
      bytesOut: rate('bytesOut'),
      dropped: rate('dropped'),
      connections: this.broker.stats.connected,
    };
    this.last = now;
    if (this.ring.length < this.capacity) this.ring.push(point);
    else this.ring[this.next] = point;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Samples taken after `since` (ms since the epoch), oldest first. */
  samples(since = 0): HistorySample[] {
    const ordered =
      this.ring.length < this.capacity
        ? this.ring
        : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return since > 0 ? ordered.filter((p) => p.t > since) : ordered.slice();
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }
}
