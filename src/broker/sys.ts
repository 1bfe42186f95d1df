import type { PublishedMessage } from './events.js';
import type { Session } from './session.js';
import type { BrokerStats } from './stats.js';

/** What $SYS reads, and publishes through: the broker. */
export interface SysSource {
  readonly options: { readonly sysInterval: number; readonly version: string };
  readonly stats: BrokerStats;
  readonly sessions: ReadonlyMap<string, Session>;
  readonly retained: { readonly size: number };
  /** The broker's cluster node, when it has one: its counters go under `$SYS/broker/cluster/`. */
  readonly cluster?: { metrics(): Record<string, number | string> } | undefined;
  publish(message: PublishedMessage): number;
}

/** Exponentially-decaying averages over 1, 5 and 15 minutes, like Mosquitto's load figures. */
class LoadAverage {
  readonly values = [0, 0, 0];
  private last = 0;
  private primed = false;

  /** Feeds the counter's current total; `dt` is seconds since the last sample. */
  sample(total: number, dt: number): void {
    if (!this.primed) {
      this.primed = true;
      this.last = total;
      return;
    }
    const rate = ((total - this.last) / dt) * 60; // per minute
    this.last = total;
    const windows = [60, 300, 900];
    for (let i = 0; i < 3; i++) {
      const k = Math.exp(-dt / windows[i]!);
      this.values[i] = this.values[i]! * k + rate * (1 - k);
    }
  }
}

/**
 * Publishes the $SYS topics Mosquitto publishes, retained, every sys_interval
 * seconds; only values that changed are re-published.
 */
export class SysTopics {
  private readonly broker: SysSource;
  private timer: NodeJS.Timeout | undefined;
  private readonly last = new Map<string, string>();
  private readonly loads = new Map<string, LoadAverage>();
  private lastSample = 0;

  constructor(broker: SysSource) {
    this.broker = broker;
  }

  /** Starts periodic publishing (no-op when sys_interval is 0). */
  start(): void {
    const interval = this.broker.options.sysInterval;
    if (interval <= 0 || this.timer !== undefined) return;
    this.publishAll();
    this.timer = setInterval(() => this.publishAll(), interval * 1000);
    this.timer.unref();
  }

  /** Stops publishing. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private put(topic: string, value: string | number): void {
    const text = String(value);
    if (this.last.get(topic) === text) return;
    this.last.set(topic, text);
    this.broker.publish({ topic, payload: Buffer.from(text), qos: 0, retain: true });
  }

  private load(name: string, total: number, dt: number): void {
    let l = this.loads.get(name);
    if (l === undefined) {
      l = new LoadAverage();
      this.loads.set(name, l);
    }
    l.sample(total, dt);
    this.put(`$SYS/broker/load/${name}/1min`, l.values[0]!.toFixed(2));
    this.put(`$SYS/broker/load/${name}/5min`, l.values[1]!.toFixed(2));
    this.put(`$SYS/broker/load/${name}/15min`, l.values[2]!.toFixed(2));
  }

  /** Computes and publishes every $SYS value now. */
  publishAll(): void {
    const b = this.broker;
    const s = b.stats;
    const now = Date.now();
    const dt = this.lastSample === 0 ? 0 : (now - this.lastSample) / 1000;
    this.lastSample = now;
    let subscriptions = 0;
    let stored = 0;
    for (const session of b.sessions.values()) {
      subscriptions += session.subscriptionCount;
      stored += session.queuedCount + session.inflightCount;
    }
    const total = b.sessions.size;
    this.put('$SYS/broker/version', `heron version ${b.options.version}`);
    this.put('$SYS/broker/uptime', `${Math.floor((now - s.startedAt) / 1000)} seconds`);
    this.put('$SYS/broker/clients/connected', s.connected);
    this.put('$SYS/broker/clients/disconnected', total - s.connected);
    this.put('$SYS/broker/clients/total', total);
    this.put('$SYS/broker/clients/maximum', s.maximumConnected);
    this.put('$SYS/broker/messages/received', s.packetsReceived);
    this.put('$SYS/broker/messages/sent', s.packetsSent);
    this.put('$SYS/broker/messages/stored', stored + b.retained.size);
    this.put('$SYS/broker/store/messages/count', stored + b.retained.size);
    this.put('$SYS/broker/publish/messages/received', s.publishReceived);
    this.put('$SYS/broker/publish/messages/sent', s.publishSent);
    this.put('$SYS/broker/publish/messages/dropped', s.publishDropped);
    this.put('$SYS/broker/bytes/received', s.bytesReceived);
    this.put('$SYS/broker/bytes/sent', s.bytesSent);
    this.put('$SYS/broker/subscriptions/count', subscriptions);
    this.put('$SYS/broker/retained messages/count', b.retained.size);
    // Connections the broker closed, by reason (Heron).
    this.put('$SYS/broker/clients/closed/connect timeout', s.connectTimeouts);
    this.put('$SYS/broker/clients/closed/keep alive timeout', s.keepaliveTimeouts);
    this.put('$SYS/broker/clients/closed/slow consumer', s.slowConsumers);
    this.put('$SYS/broker/clients/closed/incomplete packets', s.incompletePacketCloses);
    this.put('$SYS/broker/heap/current', process.memoryUsage().heapUsed);
    const cluster = b.cluster?.metrics();
    if (cluster !== undefined)
      for (const [k, v] of Object.entries(cluster)) this.put(`$SYS/broker/cluster/${k}`, v);
    if (dt > 0) {
      this.load('messages/received', s.packetsReceived, dt);
      this.load('messages/sent', s.packetsSent, dt);
      this.load('publish/received', s.publishReceived, dt);
      this.load('publish/sent', s.publishSent, dt);
      this.load('publish/dropped', s.publishDropped, dt);
      this.load('bytes/received', s.bytesReceived, dt);
      this.load('bytes/sent', s.bytesSent, dt);
      this.load('connections', s.connectionsTotal, dt);
    }
  }
}
