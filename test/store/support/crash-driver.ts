/**
 * The kill -9 test: starts Heron (crash-broker.js) as a child process with an
 * LMDB store, drives persistent QoS 1 and QoS 2 publishers and persistent
 * subscribers (some online, some offline in each cycle), SIGKILLs the broker
 * at a random moment, restarts it on the same directory, and in the end checks
 * that every message the broker acknowledged (PUBACK / PUBREC) reached every
 * subscriber: QoS 1 at least once, QoS 2 exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketType, type QoS } from '../../../src/protocol/constants.js';
import { Decoder, type PacketSink } from '../../../src/protocol/decoder.js';
import { encode } from '../../../src/protocol/encoder.js';
import type { Packet } from '../../../src/protocol/packets.js';
import { delay, freePort } from '../../helpers/process.js';

/** What a crash run found. */
export interface CrashReport {
  cycles: number;
  /** Messages the broker acknowledged, per QoS. */
  acked: { 1: number; 2: number };
  /** Acknowledged messages missing at some subscriber. */
  losses: string[];
  /** QoS 2 messages a subscriber got more than once. */
  duplicates: string[];
  /** Other broken promises (a persistent session that came back absent). */
  errors: string[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** A persistent MQTT 3.1.1 client that keeps its session state across broker crashes. */
abstract class Client implements PacketSink {
  socket: net.Socket | undefined;
  connected = false;
  everConnected = false;
  private decoder: Decoder | undefined;
  private barrierResolve: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly report: CrashReport,
  ) {}

  connect(port: number): Promise<void> {
    return new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      this.socket = s;
      this.decoder = new Decoder(this, { protocolVersion: 4 });
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      s.on('data', (chunk) => {
        try {
          this.decoder!.feed(chunk);
        } catch {
          s.destroy();
        }
        if (this.connected) finish();
      });
      s.on('error', () => {});
      s.on('close', () => {
        if (this.socket === s) this.connected = false;
        finish();
      });
      s.on('connect', () => {
        this.send({
          type: PacketType.CONNECT,
          protocolName: 'MQTT',
          protocolVersion: 4,
          clean: false,
          keepalive: 0,
          clientId: this.id,
        });
      });
    });
  }

  send(p: Packet): void {
    if (this.socket !== undefined && !this.socket.destroyed) this.socket.write(encode(p, 4));
  }

  drop(): void {
    this.connected = false;
    this.socket?.destroy();
  }

  onPacket(p: Packet): void {
    if (p.type === PacketType.CONNACK) {
      if (p.reasonCode !== 0) {
        this.socket?.destroy();
        return;
      }
      if (this.everConnected && !p.sessionPresent)
        this.report.errors.push(`${this.id}: session not present after a restart`);
      this.connected = true;
      this.onConnected(this.everConnected);
      this.everConnected = true;
      return;
    }
    if (p.type === PacketType.PUBACK && p.packetId === 65535) {
      this.barrierResolve?.();
      return;
    }
    this.onMessage(p);
  }

  /** Publishes a QoS 1 message nobody reads and waits for its PUBACK: everything before is durable. */
  barrier(): Promise<void> {
    return new Promise((resolve) => {
      this.barrierResolve = resolve;
      this.send({
        type: PacketType.PUBLISH,
        topic: 'barrier',
        payload: Buffer.alloc(0),
        qos: 1,
        retain: false,
        dup: false,
        packetId: 65535,
      });
    });
  }

  abstract onConnected(resumed: boolean): void;
  abstract onMessage(p: Packet): void;
}

class Publisher extends Client {
  readonly qos: QoS;
  /** In flight by packet id: message number and whether PUBREC came. */
  readonly pending = new Map<number, { n: number; rec: boolean }>();
  readonly acked = new Set<number>();
  running = false;
  private next = 1;
  private nextPid = 1;
  private readonly window = 10;

  constructor(id: string, qos: QoS, report: CrashReport) {
    super(id, report);
    this.qos = qos;
  }

  onConnected(resumed: boolean): void {
    if (resumed) {
      // Re-send what the broker did not acknowledge, as the protocol requires.
      for (const [pid, st] of this.pending) {
        if (st.rec) this.send({ type: PacketType.PUBREL, packetId: pid, reasonCode: 0 });
        else this.sendPublish(pid, st.n, true);
      }
    }
    this.fill();
  }

  private sendPublish(pid: number, n: number, dup: boolean): void {
    this.send({
      type: PacketType.PUBLISH,
      topic: `crash/q${this.qos}`,
      payload: Buffer.from(`${this.qos}:${n}`),
      qos: this.qos,
      retain: false,
      dup,
      packetId: pid,
    });
  }

  fill(): void {
    while (this.running && this.connected && this.pending.size < this.window) {
      let pid = this.nextPid;
      while (this.pending.has(pid)) pid = pid >= 60000 ? 1 : pid + 1;
      this.nextPid = pid >= 60000 ? 1 : pid + 1;
      const n = this.next++;
      this.pending.set(pid, { n, rec: false });
      this.sendPublish(pid, n, false);
    }
  }

  onMessage(p: Packet): void {
    if (p.type === PacketType.PUBACK) {
      const st = this.pending.get(p.packetId);
      if (st === undefined) return;
      this.pending.delete(p.packetId);
      this.acked.add(st.n);
      this.fill();
    } else if (p.type === PacketType.PUBREC) {
      const st = this.pending.get(p.packetId);
      if (st === undefined) return;
      st.rec = true;
      this.acked.add(st.n);
      this.send({ type: PacketType.PUBREL, packetId: p.packetId, reasonCode: 0 });
    } else if (p.type === PacketType.PUBCOMP) {
      if (this.pending.delete(p.packetId)) this.fill();
    }
  }
}

class Subscriber extends Client {
  /** Deliveries per message key ("qos:n"). */
  readonly got = new Map<string, number>();
  /** QoS 2 received and not yet released (the receiver's half of exactly once). */
  private readonly pendingQ2 = new Map<number, string>();
  lastActivity = 0;

  onConnected(): void {}

  onMessage(p: Packet): void {
    this.lastActivity = Date.now();
    if (p.type === PacketType.PUBLISH) {
      const key = p.payload.toString();
      if (p.qos === 1) {
        this.got.set(key, (this.got.get(key) ?? 0) + 1);
        this.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
      } else if (p.qos === 2) {
        // Deliver on PUBREL; until then the packet id names this message.
        if (!this.pendingQ2.has(p.packetId)) this.pendingQ2.set(p.packetId, key);
        this.send({ type: PacketType.PUBREC, packetId: p.packetId, reasonCode: 0 });
      }
    } else if (p.type === PacketType.PUBREL) {
      const key = this.pendingQ2.get(p.packetId);
      if (key !== undefined) {
        this.pendingQ2.delete(p.packetId);
        this.got.set(key, (this.got.get(key) ?? 0) + 1);
      }
      this.send({ type: PacketType.PUBCOMP, packetId: p.packetId, reasonCode: 0 });
    }
  }

  subscribe(): Promise<void> {
    return new Promise((resolve) => {
      const orig = this.onMessage.bind(this);
      this.onMessage = (p: Packet) => {
        if (p.type === PacketType.SUBACK) {
          this.onMessage = orig;
          resolve();
        } else orig(p);
      };
      this.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          {
            topic: 'crash/#',
            qos: 2,
            noLocal: false,
            retainAsPublished: false,
            retainHandling: 0,
          },
        ],
      });
    });
  }
}

/** Runs `cycles` kill -9 cycles and the final check. */
export async function runCrashTest(
  cycles: number,
  log: (line: string) => void = () => {},
  sync: 'commit' | 'interval' | 'none' = 'commit',
): Promise<CrashReport> {
  const dir = mkdtempSync(join(tmpdir(), 'heron-crash-'));
  const port = await freePort();
  const runner = join(here, 'crash-broker.js');
  const report: CrashReport = {
    cycles,
    acked: { 1: 0, 2: 0 },
    losses: [],
    duplicates: [],
    errors: [],
  };
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const c = spawn(process.execPath, [runner, dir, String(port), sync], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = c;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`broker exited with ${code} before ready`)));
    });
  };
  const kill9 = async (): Promise<void> => {
    const c = child!;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  };

  const pubs = [new Publisher('crash-pub-1', 1, report), new Publisher('crash-pub-2', 2, report)];
  const subs = [0, 1, 2, 3].map((i) => new Subscriber(`crash-sub-${i}`, report));
  const all: Client[] = [...pubs, ...subs];
  try {
    // Setup: persistent sessions and subscriptions, made durable by a barrier.
    await start();
    for (const c of all) {
      await c.connect(port);
      if (c instanceof Subscriber) await c.subscribe();
      await c.barrier();
    }
    for (const c of all) c.drop();

    for (let cycle = 1; cycle <= cycles; cycle++) {
      const online = subs.filter((_, i) => i < 2 || Math.random() < 0.5);
      for (const s of online) await s.connect(port);
      for (const p of pubs) {
        p.running = true;
        await p.connect(port);
      }
      await delay(100 + Math.random() * 500);
      await kill9();
      for (const c of all) c.drop();
      log(
        `cycle ${cycle}: killed; acked so far q1=${pubs[0]!.acked.size} q2=${pubs[1]!.acked.size}`,
      );
      await start();
    }

    // Final: everyone back, publishers finish what is in flight, deliveries drain.
    for (const p of pubs) p.running = false;
    for (const c of all) await c.connect(port);
    const deadline = Date.now() + 15000;
    for (;;) {
      await delay(200);
      const busy = pubs.some((p) => p.pending.size > 0);
      const quiet = subs.every((s) => Date.now() - s.lastActivity > 700);
      if ((!busy && quiet) || Date.now() > deadline) break;
    }
  } finally {
    for (const c of all) c.drop();
    if (child !== undefined && child.exitCode === null) await kill9();
    rmSync(dir, { recursive: true, force: true });
  }

  for (const p of pubs) {
    report.acked[p.qos as 1 | 2] = p.acked.size;
    for (const n of p.acked) {
      const key = `${p.qos}:${n}`;
      for (const s of subs) {
        const count = s.got.get(key) ?? 0;
        if (count === 0) report.losses.push(`${key} missing at ${s.id}`);
      }
    }
  }
  for (const s of subs) {
    for (const [key, count] of s.got) {
      if (key.startsWith('2:') && count > 1) report.duplicates.push(`${key} x${count} at ${s.id}`);
    }
  }
  return report;
}
