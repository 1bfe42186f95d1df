/**
 * The load generator: sets up subscribers, then publishers (or idle
 * connections), drives publishing from one loop for all clients, counts what
 * flows and measures latency from the send time carried in each payload.
 */
import { PacketType } from '../protocol/constants.js';
import { encodePublish } from '../protocol/encoder.js';
import type { Packet } from '../protocol/packets.js';
import { BenchClient, type ClientEvents, Role } from './client.js';
import { LatencyHistogram } from './latency.js';
import {
  type BenchPlan,
  type BenchResult,
  type ClientWrites,
  clientWrites,
  type PubPlan,
} from './plan.js';

/** Wall-clock milliseconds with sub-µs resolution, comparable between processes on one host. */
function clock(): number {
  return performance.timeOrigin + performance.now();
}

/** Bytes a publisher may have queued before it waits (QoS 0 flow control). */
const HIGH_WATER = 64 * 1024;
/** Most messages one publisher writes per loop turn. */
const MAX_BATCH = 256;
/**
 * Least QoS 0 messages all publishers together may write per pass when their
 * subscribers run in this process (see publishPass).
 */
const MIN_PASS_BUDGET = 512;
/** Concurrent unanswered CONNECTs when connecting as fast as possible. */
const MAX_PENDING_CONNECTS = 128;
const PING_EVERY_MS = 100;

/** Live counters, readable during a run (progress lines). */
export interface BenchProgress {
  elapsed: number;
  sent: number;
  received: number;
  connected: number;
  errors: number;
}

/** Runs one plan; resolves with the summary. `onProgress` is called every second. */
export function runBench(
  plan: BenchPlan,
  onProgress?: (p: BenchProgress, r: BenchRunner) => void,
  onEvent?: (event: string) => void,
): { done: Promise<BenchResult>; stop: () => void; runner: BenchRunner } {
  const runner = new BenchRunner(plan, onProgress, onEvent);
  return { done: runner.start(), stop: () => runner.stop(), runner };
}

/** The engine behind runBench (one per run). */
export class BenchRunner implements ClientEvents {
  readonly plan: BenchPlan;
  /** How this run's clients write (resolved from the plan). */
  readonly writes: ClientWrites;
  readonly latency = new LatencyHistogram();
  private readonly pingLatency = new LatencyHistogram();
  private readonly onProgress: ((p: BenchProgress, r: BenchRunner) => void) | undefined;
  private readonly onEvent: ((event: string) => void) | undefined;
  private readonly clients: BenchClient[] = [];
  private readonly pubs: BenchClient[] = [];
  private pingSentAt = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private sent = 0;
  private acked = 0;
  /** Since the start, warm-up included (never reset): for the settled loss count. */
  private ackedTotal = 0;
  private receivedTotal = 0;
  private received = 0;
  private lastSent = 0;
  private lastReceived = 0;
  readonly errors: Record<string, number> = {};
  private errorCount = 0;
  private attempted = 0;
  private connectedCount = 0;
  private failedCount = 0;
  private firstAttemptAt = 0;
  private lastConnackAt = 0;
  private pendingConnects = 0;
  /** Expected SUBACKs still missing. */
  private pendingSubacks = 0;
  private phaseResolve: (() => void) | undefined;
  private publishing = false;
  private loopScheduled = false;
  private pubStart = 0;
  /** `received` at the previous publishing pass. */
  private passReceived = 0;
  /** Publisher to start the next budgeted pass with (round robin). */
  private passFirst = 0;
  private measureStart = 0;
  private stopped = false;
  private stopResolve: (() => void) | undefined;
  private readonly startedAt = clock();

  constructor(
    plan: BenchPlan,
    onProgress?: (p: BenchProgress, r: BenchRunner) => void,
    onEvent?: (event: string) => void,
  ) {
    this.plan = plan;
    this.writes = clientWrites(plan);
    this.onProgress = onProgress;
    this.onEvent = onEvent;
  }

  /** Ends the run early (Ctrl-C); start() then resolves with what was measured. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopResolve?.();
    this.phaseResolve?.();
  }

  /** Runs the plan to the end. */
  async start(): Promise<BenchResult> {
    const plan = this.plan;
    this.progressTimer = setInterval(() => this.tickProgress(), 1000);
    const ka = plan.target.keepalive;
    if (ka > 0) this.keepaliveTimer = setInterval(() => this.keepAlive(), (ka * 1000) / 2);
    if (plan.pinger) this.startPinger();
    if (plan.sub !== undefined && !this.stopped) {
      this.pendingSubacks = plan.sub.count;
      await this.connectMany(Role.Sub, plan.sub.count, plan.connectRate);
      await this.until(() => this.pendingSubacks <= 0 || this.stopped);
    }
    if (plan.pub !== undefined && !this.stopped) {
      await this.connectMany(Role.Pub, plan.pub.count, plan.connectRate);
      this.onEvent?.('publishing');
      this.startPublishing();
    }
    if (plan.conn !== undefined && !this.stopped) {
      await this.connectMany(Role.Conn, plan.conn.count, plan.conn.rate);
      this.onEvent?.(`held ${this.connectedCount}`);
    }
    this.measureStart = clock();
    if (plan.warmup > 0 && !this.stopped) {
      await this.sleep(plan.warmup * 1000);
      this.resetCounters();
    }
    if (plan.duration > 0) await this.sleep(plan.duration * 1000);
    else await new Promise<void>((r) => (this.stopResolve = r));
    const seconds = (clock() - this.measureStart) / 1000;
    this.publishing = false;
    const result = this.result(seconds);
    if (plan.pub !== undefined && plan.pub.qos > 0 && plan.sub !== undefined && !this.stopped)
      result.settled = await this.settle(plan.sub.count);
    this.shutdown();
    return result;
  }

  /**
   * After publishing stopped: waits until every publish is answered and the
   * subscribers have everything that was acknowledged (each subscriber matching
   * every message), or nothing arrived for a second, so that messages still queued in the broker at the end of the window
   * are not mistaken for losses.
   */
  private async settle(subscribers: number): Promise<{ acked: number; received: number }> {
    const deadline = clock() + 10_000;
    let last = -1;
    let quietSince = clock();
    while (clock() < deadline) {
      const want = this.ackedTotal * subscribers;
      // Done when every publish is answered and everything answered has arrived.
      if (this.receivedTotal >= want && this.pubs.every((c) => c.inflight <= 0 || c.closed)) break;
      if (this.receivedTotal !== last) {
        last = this.receivedTotal;
        quietSince = clock();
      } else if (clock() - quietSince > 1000) break;
      await this.sleep(20);
    }
    return { acked: this.ackedTotal * subscribers, received: this.receivedTotal };
  }

  private resetCounters(): void {
    this.measureStart = clock();
    this.sent = this.acked = this.received = 0;
    this.lastSent = this.lastReceived = 0;
    this.latency.reset();
  }

  private result(seconds: number): BenchResult {
    const lat = this.latency;
    const held = this.clients.filter((c) => c.connected && c.role !== Role.Pinger).length;
    const setup = this.lastConnackAt > 0 ? (this.lastConnackAt - this.firstAttemptAt) / 1000 : 0;
    let pingMax = this.pingLatency.max;
    if (this.pingSentAt > 0) pingMax = Math.max(pingMax, clock() - this.pingSentAt);
    const s = seconds > 0 ? seconds : 1;
    return {
      seconds,
      writes: this.writes,
      sent: this.sent,
      acked: this.acked,
      received: this.received,
      sentPerSecond: this.sent / s,
      receivedPerSecond: this.received / s,
      latency: {
        count: lat.count,
        mean: lat.mean,
        p50: lat.percentile(50),
        p90: lat.percentile(90),
        p99: lat.percentile(99),
        max: lat.max,
      },
      connections: {
        attempted: this.attempted,
        connected: this.connectedCount,
        failed: this.failedCount,
        held,
        perSecond: setup > 0 ? this.connectedCount / setup : 0,
        setupSeconds: setup,
      },
      ping: {
        count: this.pingLatency.count,
        p99: this.pingLatency.percentile(99),
        max: pingMax,
      },
      errors: { ...this.errors },
    };
  }

  private shutdown(): void {
    clearInterval(this.progressTimer);
    clearInterval(this.keepaliveTimer);
    clearInterval(this.pingTimer);
    for (const c of this.clients) c.close(this.clients.length < 1000);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopResolve = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Resolves once `done()` holds; re-checked whenever a phase event happens. */
  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.phaseResolve = () => {
        if (!done()) return;
        this.phaseResolve = undefined;
        resolve();
      };
    });
  }

  private phaseEvent(): void {
    this.phaseResolve?.();
  }

  /** Opens `count` clients, at most `rate` per second, and waits for their CONNACKs (or failures). */
  private async connectMany(role: Role, count: number, rate: number): Promise<void> {
    if (this.firstAttemptAt === 0) this.firstAttemptAt = clock();
    const target = this.attempted + count;
    const t0 = clock();
    let opened = 0;
    while (opened < count && !this.stopped) {
      let allowed = count - opened;
      if (rate > 0)
        allowed = Math.min(allowed, Math.floor(((clock() - t0) / 1000) * rate) + 1 - opened);
      else allowed = Math.min(allowed, MAX_PENDING_CONNECTS - this.pendingConnects);
      for (let k = 0; k < allowed; k++) this.open(role, opened++);
      if (opened < count) {
        if (rate > 0) await this.sleep(Math.max(1, 1000 / rate));
        else
          await this.until(() => this.pendingConnects < MAX_PENDING_CONNECTS / 2 || this.stopped);
      }
    }
    await this.until(() => this.connectedCount + this.failedCount >= target || this.stopped);
  }

  private open(role: Role, index: number): BenchClient {
    this.attempted++;
    this.pendingConnects++;
    const perPacket = this.writes === 'packet' && role !== Role.Conn;
    const t = this.plan.target;
    const pubPort = role === Role.Pub ? this.plan.pub?.port : undefined;
    const target = pubPort === undefined ? t : { ...t, port: pubPort };
    const c = new BenchClient(role, index, target, this, perPacket);
    this.clients.push(c);
    if (role === Role.Pub) this.pubs.push(c);
    return c;
  }

  private countError(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.errorCount++;
  }

  // ------------------------------------------------------------ client events

  /** Every packet from every client. */
  packet(c: BenchClient, p: Packet): void {
    switch (p.type) {
      case PacketType.PUBLISH: {
        this.received++;
        this.receivedTotal++;
        const pl = p.payload;
        if (pl.length >= 8) {
          const d = clock() - pl.readDoubleLE(0);
          if (d >= 0 && d < 3_600_000) this.latency.record(d);
        }
        if (p.qos === 1) c.queueAck(0x40, p.packetId);
        else if (p.qos === 2) c.queueAck(0x50, p.packetId);
        return;
      }
      case PacketType.PUBACK:
      case PacketType.PUBCOMP:
        this.acked++;
        this.ackedTotal++;
        c.inflight--;
        this.kick();
        return;
      case PacketType.PUBREC:
        if (p.reasonCode >= 0x80) {
          c.inflight--;
          this.kick();
          return;
        }
        c.queueAck(0x62, p.packetId);
        return;
      case PacketType.PUBREL:
        c.queueAck(0x70, p.packetId);
        return;
      case PacketType.PINGRESP:
        if (c.role === Role.Pinger && this.pingSentAt > 0) {
          this.pingLatency.record(clock() - this.pingSentAt);
          this.pingSentAt = 0;
        }
        return;
      case PacketType.CONNACK:
        this.onConnack(c, p.reasonCode);
        return;
      case PacketType.SUBACK:
        if (p.reasonCodes.some((code) => code >= 0x80)) this.countError('subscribe refused');
        this.pendingSubacks--;
        this.phaseEvent();
        return;
      case PacketType.DISCONNECT:
        this.countError(`disconnected by broker (0x${p.reasonCode.toString(16)})`);
        return;
      default:
        return;
    }
  }

  private onConnack(c: BenchClient, code: number): void {
    c.answered = true;
    if (c.role === Role.Pinger) {
      c.connected = code === 0;
      return;
    }
    this.pendingConnects--;
    if (code !== 0) {
      this.failedCount++;
      this.countError(`connect refused (${code})`);
      c.close(false);
      this.phaseEvent();
      return;
    }
    c.connected = true;
    this.connectedCount++;
    this.lastConnackAt = clock();
    if (c.role === Role.Sub) {
      const sub = this.plan.sub!;
      c.sendPacket({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          {
            topic: expand(sub.topic, c.index),
            qos: sub.qos,
            noLocal: false,
            retainAsPublished: false,
            retainHandling: 0,
          },
        ],
      });
    } else if (c.role === Role.Pub) {
      prepareTemplate(c, this.plan.pub!, this.plan.target.version);
    }
    this.phaseEvent();
  }

  /** A publisher's stream drained: it may write again. */
  drained(_c: BenchClient): void {
    this.kick();
  }

  /** A connection ended without us closing it. */
  closed(c: BenchClient, why: string): void {
    if (this.stopped || !this.running()) return;
    if (c.role !== Role.Pinger && !c.answered) {
      this.pendingConnects--;
      this.failedCount++;
    }
    this.countError(why.startsWith('socket') ? 'socket error' : `connection ${why}`);
    this.phaseEvent();
  }

  private running(): boolean {
    return this.progressTimer !== undefined && !this.stopped;
  }

  // ------------------------------------------------------------ publishing

  private startPublishing(): void {
    this.pubStart = clock();
    this.publishing = true;
    this.kick();
  }

  /** Schedules a publishing pass (once). */
  private kick(): void {
    if (!this.publishing || this.loopScheduled) return;
    this.loopScheduled = true;
    setImmediate(publishLoop, this);
  }

  /** One pass over the publishers: each writes what its rate, window and backlog allow. */
  publishPass(): void {
    this.loopScheduled = false;
    if (!this.publishing) return;
    const pub = this.plan.pub!;
    const now = clock();
    const elapsed = (now - this.pubStart) / 1000;
    let wrote = false;
    let waitingForRate = false;
    // QoS 0 at max rate with the subscribers in this process: publish at most twice
    // what they received since the last pass. Otherwise, once a broker drops for the
    // slow subscriber (cheap), it reads the publishers faster, they write more, the
    // subscriber gets less of this loop, and delivery collapses: a measure of this
    // process, not of the broker (seen as a bimodal fan-in result).
    const subs = this.plan.sub?.count ?? 0;
    let budget = Number.POSITIVE_INFINITY;
    if (pub.qos === 0 && pub.rate === 0 && subs > 0) {
      const delivered = (this.received - this.passReceived) / subs;
      budget = Math.max(MIN_PASS_BUDGET, 2 * delivered);
    }
    this.passReceived = this.received;
    const count = this.pubs.length;
    const first = this.passFirst;
    this.passFirst = count > 0 ? (first + 1) % count : 0;
    for (let j = 0; j < count && budget > 0; j++) {
      const c = this.pubs[(first + j) % count]!;
      if (!c.connected || c.template === undefined) continue;
      let n = budget < MAX_BATCH ? Math.floor(budget) : MAX_BATCH;
      if (pub.rate > 0) {
        const due = Math.floor(elapsed * pub.rate) + 1 - c.sent;
        if (due < n) n = due;
        if (n < MAX_BATCH) waitingForRate = true;
      }
      if (pub.qos > 0 && pub.inflight - c.inflight < n) n = pub.inflight - c.inflight;
      if (n <= 0) continue;
      const tpl = c.template;
      const len = tpl.length;
      const room = Math.floor((HIGH_WATER - c.backlog) / len);
      if (room < n) n = room;
      if (n <= 0) continue;
      if (c.perPacket) {
        for (let k = 0; k < n; k++) c.writeNow(stamped(c, tpl, now));
        c.sent += n;
        if (pub.qos > 0) c.inflight += n;
        this.sent += n;
        budget -= n;
        wrote = true;
        continue;
      }
      const out = c.reserve(n * len);
      let at = c.reserveAt;
      const tOff = c.timeOffset;
      const idOff = c.idOffset;
      for (let k = 0; k < n; k++) {
        tpl.copy(out, at);
        if (tOff >= 0) out.writeDoubleLE(now, at + tOff);
        if (idOff >= 0) {
          const id = c.nextPacketId;
          c.nextPacketId = id === 65535 ? 1 : id + 1;
          out[at + idOff] = id >> 8;
          out[at + idOff + 1] = id & 0xff;
        }
        at += len;
      }
      c.sent += n;
      if (pub.qos > 0) c.inflight += n;
      this.sent += n;
      budget -= n;
      wrote = true;
    }
    if (pub.rate > 0 && (waitingForRate || !wrote)) {
      // Paced publishing: come back in a millisecond.
      this.loopScheduled = true;
      setTimeout(publishLoop, 1, this);
    } else if (wrote) this.kick();
    // Otherwise every publisher waits for a drain or an acknowledgement, which kicks the loop.
  }

  // ------------------------------------------------------------ keep alive, pinger, progress

  private keepAlive(): void {
    for (const c of this.clients) if (c.connected && c.role !== Role.Pinger) c.queue(PINGREQ);
  }

  private startPinger(): void {
    const p = new BenchClient(Role.Pinger, 0, this.plan.target, this);
    this.clients.push(p);
    this.pingTimer = setInterval(() => {
      if (!p.connected || this.pingSentAt > 0) return;
      this.pingSentAt = clock();
      p.queue(PINGREQ);
    }, PING_EVERY_MS);
  }

  private tickProgress(): void {
    const p: BenchProgress = {
      elapsed: (clock() - this.startedAt) / 1000,
      sent: this.sent - this.lastSent,
      received: this.received - this.lastReceived,
      connected: this.connectedCount,
      errors: this.errorCount,
    };
    this.lastSent = this.sent;
    this.lastReceived = this.received;
    this.onProgress?.(p, this);
  }
}

const PINGREQ = Buffer.from([0xc0, 0]);

function publishLoop(r: BenchRunner): void {
  r.publishPass();
}

/** A fresh copy of a publisher's PUBLISH with its send time and next packet id (per-packet mode). */
function stamped(c: BenchClient, tpl: Buffer, now: number): Buffer {
  const b = Buffer.allocUnsafe(tpl.length);
  tpl.copy(b, 0);
  if (c.timeOffset >= 0) b.writeDoubleLE(now, c.timeOffset);
  const idOff = c.idOffset;
  if (idOff >= 0) {
    const id = c.nextPacketId;
    c.nextPacketId = id === 65535 ? 1 : id + 1;
    b[idOff] = id >> 8;
    b[idOff + 1] = id & 0xff;
  }
  return b;
}

/** Replaces %i in a topic with the client number. */
function expand(topic: string, index: number): string {
  return topic.includes('%i') ? topic.replaceAll('%i', String(index)) : topic;
}

/** Encodes the PUBLISH a publisher repeats, noting where its send time and packet id go. */
function prepareTemplate(c: BenchClient, pub: PubPlan, version: 3 | 4 | 5): void {
  const payload = Buffer.alloc(pub.size, 0x61);
  const enc = encodePublish(
    {
      type: PacketType.PUBLISH,
      topic: expand(pub.topic, c.index),
      payload,
      qos: pub.qos,
      retain: pub.retain,
      dup: false,
      packetId: pub.qos > 0 ? 1 : 0,
    },
    version,
  );
  c.template = enc.buffer;
  c.idOffset = enc.packetIdOffset;
  c.timeOffset = pub.size >= 8 ? enc.buffer.length - pub.size : -1;
}
