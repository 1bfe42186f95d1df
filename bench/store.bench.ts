/**
 * Persistence benchmark: QoS 1 messages per second from publishers through the
 * broker to one persistent subscriber (clean session 0, acknowledging every
 * message), over loopback TCP, for the in-memory broker and for the LMDB store
 * in each sync mode. With `commit`, every PUBACK to a publisher waits for the
 * group commit (fsync) that made its message durable.
 *
 * Run: npm run bench:store   (BENCH_MS sets the measuring time per variant)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Broker, createBroker } from '../src/broker/broker.js';
import { PacketType } from '../src/protocol/constants.js';
import { Decoder, type PacketSink } from '../src/protocol/decoder.js';
import { encode } from '../src/protocol/encoder.js';
import type { Packet } from '../src/protocol/packets.js';
import type { PersistenceOptions } from '../src/store/store.js';

const MEASURE_MS = Number(process.env.BENCH_MS ?? 3000);
const WARMUP_MS = 500;
const PUBLISHERS = 2;
/** QoS 1 messages each publisher keeps unacknowledged. */
const WINDOW = 200;
const PAYLOAD = Buffer.alloc(64, 0x61);
/** Messages published and not yet at the subscriber, at most: keeps the queue from growing without bound. */
const MAX_OUTSTANDING = 2000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

class BenchClient implements PacketSink {
  readonly socket: net.Socket;
  private readonly decoder = new Decoder(this, { protocolVersion: 4 });
  onPacketCb: (p: Packet) => void = () => {};

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (c) => this.decoder.feed(c));
    socket.on('error', () => {});
  }

  static async open(port: number, clientId: string, clean: boolean): Promise<BenchClient> {
    const s = await new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect({ port, host: '127.0.0.1' }, () => resolve(sock));
      sock.once('error', reject);
    });
    const c = new BenchClient(s);
    const connack = new Promise<void>((r) => {
      c.onPacketCb = (p) => {
        if (p.type === PacketType.CONNACK) r();
      };
    });
    c.send({
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 4,
      clean,
      keepalive: 0,
      clientId,
    });
    await connack;
    return c;
  }

  onPacket(p: Packet): void {
    this.onPacketCb(p);
  }

  send(p: Packet): void {
    this.socket.write(encode(p, 4));
  }
}

interface Variant {
  name: string;
  persistence: PersistenceOptions | undefined;
}

async function run(v: Variant): Promise<number> {
  const broker: Broker = createBroker({
    sysInterval: 0,
    maxInflightMessages: 1000,
    maxQueuedMessages: 0,
    listeners: [{ port: 0, host: '127.0.0.1' }],
    persistence: v.persistence,
  });
  const [addr] = await broker.listen();
  const port = addr!.port;

  const sub = await BenchClient.open(port, 'bench-sub', false);
  await new Promise<void>((resolve) => {
    sub.onPacketCb = (p) => {
      if (p.type === PacketType.SUBACK) resolve();
    };
    sub.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: 'bench/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
  });
  let received = 0;
  let published = 0;
  /** Publishers whose PUBACK came while the subscriber was too far behind. */
  const stalled: Array<() => void> = [];
  sub.onPacketCb = (p) => {
    if (p.type === PacketType.PUBLISH) {
      received++;
      sub.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
      if (stalled.length > 0 && published - received < MAX_OUTSTANDING) stalled.pop()!();
    }
  };

  let running = true;
  const pubs: BenchClient[] = [];
  for (let i = 0; i < PUBLISHERS; i++) {
    const c = await BenchClient.open(port, `bench-pub-${i}`, true);
    pubs.push(c);
    let pid = 0;
    const publish = () => {
      if (published - received >= MAX_OUTSTANDING) {
        stalled.push(publish);
        return;
      }
      published++;
      pid = pid === 65535 ? 1 : pid + 1;
      c.send({
        type: PacketType.PUBLISH,
        topic: `bench/${i}`,
        payload: PAYLOAD,
        qos: 1,
        retain: false,
        dup: false,
        packetId: pid,
      });
    };
    c.onPacketCb = (p) => {
      if (p.type === PacketType.PUBACK && running) publish();
    };
    for (let k = 0; k < WINDOW; k++) publish();
  }

  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const start = received;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const rate = ((received - start) * 1000) / (performance.now() - t0);
  running = false;
  for (const c of [...pubs, sub]) c.socket.destroy();
  const commits = broker.persistence?.commits ?? 0;
  await broker.close();
  console.log(
    `${v.name.padEnd(22)} ${Math.round(rate).toString().padStart(8)} msg/s${v.persistence !== undefined ? `   (${commits} commits)` : ''}`,
  );
  return rate;
}

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'heron-bench-'));
  dirs.push(d);
  return d;
}

console.log(
  `QoS 1 publish -> persistent subscriber, ${PUBLISHERS} publishers x ${WINDOW} in flight, ${PAYLOAD.length} B payload`,
);
const variants: Array<() => Variant> = [
  () => ({ name: 'in-memory (no store)', persistence: undefined }),
  () => ({
    name: 'lmdb sync=commit',
    persistence: { backend: 'lmdb', location: dir(), sync: 'commit' },
  }),
  () => ({
    name: 'lmdb sync=interval',
    persistence: { backend: 'lmdb', location: dir(), sync: 'interval', syncInterval: 10 },
  }),
  () => ({
    name: 'lmdb sync=none',
    persistence: { backend: 'lmdb', location: dir(), sync: 'none' },
  }),
  () => ({
    name: 'memory store commit',
    persistence: { backend: 'memory', location: `bench-${Math.random()}`, sync: 'commit' },
  }),
];
// Rounds interleave the variants so a noisy neighbour hurts them alike; the best round counts.
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const make of variants) {
    const v = make();
    const rate = await run(v);
    best.set(v.name, Math.max(best.get(v.name) ?? 0, rate));
  }
}
console.log('best of rounds:');
for (const [name, rate] of best) console.log(`  ${name.padEnd(22)} ${Math.round(rate)} msg/s`);
const memory = best.get('in-memory (no store)')!;
const commit = best.get('lmdb sync=commit')!;
console.log(`commit / in-memory: ${((commit / memory) * 100).toFixed(0)} %`);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
