import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Broker, PublishedMessage } from '../broker/broker.js';
import type { ClientInfo } from '../broker/options.js';
import type { Subscription } from '../protocol/packets.js';
import { topicMatches } from '../protocol/topic.js';

/** What a trace follows. */
export type TraceKind = 'client' | 'topic';

/** One traced event. */
export interface TraceLine {
  seq: number;
  /** ms since the epoch. */
  t: number;
  text: string;
}

/** Limits that keep a trace from costing the broker or the page much. */
export interface TraceLimits {
  /** Lines recorded per second per trace; the rest are counted as skipped. Default 50. */
  linesPerSecond?: number;
  /** Lines kept per trace for the page to fetch. Default 500. */
  keep?: number;
  /** A trace nobody polls for this long ends, ms. Default 30000. */
  idleMs?: number;
  /** Traces at once. Default 4. */
  maxTraces?: number;
}

/** A running trace. */
export class Trace {
  readonly id = randomBytes(6).toString('hex');
  readonly lines: TraceLine[] = [];
  /** Lines not recorded because of the rate bound. */
  skipped = 0;
  polledAt = Date.now();
  private seq = 0;
  private windowStart = 0;
  private inWindow = 0;

  constructor(
    readonly kind: TraceKind,
    readonly value: string,
    private readonly perSecond: number,
    private readonly keep: number,
  ) {}

  /** Records a line unless this second's budget is spent. */
  add(text: string, now = Date.now()): void {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.skipped++;
      return;
    }
    this.inWindow++;
    this.lines.push({ seq: ++this.seq, t: now, text });
    if (this.lines.length > this.keep) this.lines.shift();
  }

  /** Lines after `seq`. */
  since(seq: number): TraceLine[] {
    return this.lines.filter((l) => l.seq > seq);
  }
}

function preview(payload: Buffer): string {
  const text = payload.subarray(0, 80).toString('utf8');
  return payload.length > 80 ? `${text}…` : text;
}

function publishLine(m: PublishedMessage, c: ClientInfo | undefined): string {
  return `PUBLISH from ${c?.clientId ?? '(broker)'} q${m.qos} r${m.retain ? 1 : 0} '${m.topic}' (${m.payload.length} bytes) ${preview(m.payload)}`;
}

/**
 * Live traces of a client id or a topic filter. Topic traces follow the broker's
 * publish event; client traces also turn on the broker's packet descriptions (its
 * `-v` log lines) and pick that client's out of them, so every packet in or out is
 * seen. Both cost only while a trace runs, and each trace is bounded in rate.
 */
export class TraceHub {
  private readonly traces = new Map<string, Trace>();
  private readonly limits: Required<TraceLimits>;
  private readonly sweeper: NodeJS.Timeout;
  private installed = false;
  private saved: { log: Logger | undefined; packetLog: boolean } | undefined;

  constructor(
    private readonly broker: Broker,
    limits: TraceLimits = {},
  ) {
    this.limits = {
      linesPerSecond: limits.linesPerSecond ?? 50,
      keep: limits.keep ?? 500,
      idleMs: limits.idleMs ?? 30_000,
      maxTraces: limits.maxTraces ?? 4,
    };
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** Starts a trace; throws RangeError when too many run. */
  start(kind: TraceKind, value: string): Trace {
    if (this.traces.size >= this.limits.maxTraces) {
      throw new RangeError(`at most ${this.limits.maxTraces} traces run at once`);
    }
    const t = new Trace(kind, value, this.limits.linesPerSecond, this.limits.keep);
    this.traces.set(t.id, t);
    this.update();
    return t;
  }

  /** A trace by id (marks it polled). */
  get(id: string): Trace | undefined {
    const t = this.traces.get(id);
    if (t !== undefined) t.polledAt = Date.now();
    return t;
  }

  /** Running traces. */
  list(): Trace[] {
    return [...this.traces.values()];
  }

  /** Ends a trace; false when there was none. */
  stop(id: string): boolean {
    const had = this.traces.delete(id);
    this.update();
    return had;
  }

  /** Ends every trace and restores the broker's logger. */
  close(): void {
    clearInterval(this.sweeper);
    this.traces.clear();
    this.update();
  }

  private sweep(): void {
    const now = Date.now();
    for (const t of this.traces.values()) {
      if (now - t.polledAt > this.limits.idleMs) this.traces.delete(t.id);
    }
    this.update();
  }

  private readonly onPublish = (m: PublishedMessage, c: ClientInfo | undefined): void => {
    for (const t of this.traces.values()) {
      if (t.kind === 'topic' && topicMatches(t.value, m.topic)) t.add(publishLine(m, c));
    }
  };

  private readonly onConnected = (c: ClientInfo, present: boolean): void => {
    this.forClient(
      c.clientId,
      `CONNECTED from ${c.remoteAddress}:${c.remotePort} on ${c.listener} (MQTT level ${c.protocolVersion}${c.username !== undefined ? `, user '${c.username}'` : ''}, session present ${present ? 1 : 0})`,
    );
  };

  private readonly onDisconnected = (c: ClientInfo, reason: string): void => {
    this.forClient(c.clientId, `DISCONNECTED: ${reason}`);
  };

  private readonly onSubscribe = (c: ClientInfo, subs: Subscription[], granted: number[]): void => {
    this.forClient(
      c.clientId,
      `SUBSCRIBED ${subs.map((s, i) => `${s.topic} (granted ${granted[i]})`).join(', ')}`,
    );
  };

  private forClient(clientId: string, text: string): void {
    for (const t of this.traces.values())
      if (t.kind === 'client' && t.value === clientId) t.add(text);
  }

  /** A packet description from the broker's debug log: "Received PUBLISH from id (...)" / "Sending X to id". */
  private packetLine(msg: string): void {
    const m = /^(?:Received|Sending) \S+ (?:from|to) (.+?)(?: \(|\n|$)/.exec(msg);
    if (m !== null) this.forClient(m[1]!, msg.replace(/\n\t/g, ' · '));
  }

  /** Installs or removes the broker hooks to match the traces running. */
  private update(): void {
    const any = this.traces.size > 0;
    const clients = [...this.traces.values()].some((t) => t.kind === 'client');
    const b = this.broker;
    if (any && !this.installed) {
      b.on('publish', this.onPublish);
      b.on('clientConnected', this.onConnected);
      b.on('clientDisconnected', this.onDisconnected);
      b.on('subscribe', this.onSubscribe);
      this.installed = true;
    } else if (!any && this.installed) {
      b.off('publish', this.onPublish);
      b.off('clientConnected', this.onConnected);
      b.off('clientDisconnected', this.onDisconnected);
      b.off('subscribe', this.onSubscribe);
      this.installed = false;
    }
    if (clients && this.saved === undefined) {
      this.saved = { log: b.log, packetLog: b.packetLog };
      b.log = this.teeLogger(b.log);
      b.packetLog = true;
    } else if (!clients && this.saved !== undefined) {
      b.log = this.saved.log;
      b.packetLog = this.saved.packetLog;
      this.saved = undefined;
    }
  }

  /**
   * The broker's logger, with debug lines also read for traces; debug lines go on
   * to the real logger only when it logs debug itself (it did not ask for them).
   */
  private teeLogger(original: Logger | undefined): Logger {
    const passDebug = original?.isLevelEnabled('debug') === true;
    const debug = (...args: unknown[]): void => {
      const msg = args.find((a) => typeof a === 'string');
      if (typeof msg === 'string') this.packetLine(msg);
      if (passDebug) (original!.debug as (...a: unknown[]) => void)(...args);
    };
    const noop = (): undefined => undefined;
    return new Proxy((original ?? {}) as Logger, {
      get(target, prop) {
        if (prop === 'debug') return debug;
        if (original === undefined) return prop === 'level' ? 'info' : noop;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}
