/**
 * The broker's own cost per QoS 1 message with clients that write one packet per
 * segment, without the kernel: a publisher and a subscriber talk to a real Broker
 * through in-memory streams (Broker.handleConnection), each of their packets is
 * its own chunk (one read event in the broker), and each broker flush arrives as
 * one chunk (one writev). Syscall costs and the machine's other load are left
 * out, so a change to the read → decode → route → ack path shows as ns per
 * message here even when the socket benchmarks are too noisy to show it.
 *
 * Run: npm run build && node dist/bench/packet-path.bench.js [messages] [publishers]
 */
import { Duplex } from 'node:stream';
import { createBroker } from '../src/broker/broker.js';
import { PacketType } from '../src/protocol/constants.js';
import { encode } from '../src/protocol/encoder.js';

const total = Number(process.argv[2] ?? 300_000);
const publishers = Number(process.argv[3] ?? 1);
const WINDOW = 100;

/** One end of an in-memory connection: what is written to it is read at the other end on a later turn. */
class End extends Duplex {
  peer!: End;
  private readonly out: Buffer[] = [];
  private scheduled = false;
  onChunk: ((b: Buffer) => void) | undefined;

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.send(chunk);
    cb();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    // A corked flush is one writev: one segment for the reader.
    this.send(Buffer.concat(chunks.map((c) => c.chunk)));
    cb();
  }

  private send(b: Buffer): void {
    this.out.push(b);
    if (this.scheduled) return;
    this.scheduled = true;
    // Delivered on the next turn, each chunk as its own read event, as a socket does.
    setImmediate(() => {
      this.scheduled = false;
      const list = this.out.splice(0);
      const peer = this.peer;
      for (const c of list) {
        if (peer.onChunk !== undefined) peer.onChunk(c);
        else peer.push(c);
      }
    });
  }
}

function pair(): [End, End] {
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Splits a chunk into packets (fixed header + remaining length). */
function* packets(b: Buffer): Generator<[number, number]> {
  let i = 0;
  while (i < b.length) {
    const first = b[i]!;
    let len = 0;
    let mul = 1;
    let j = i + 1;
    for (;;) {
      const d = b[j++]!;
      len += (d & 0x7f) * mul;
      if ((d & 0x80) === 0) break;
      mul *= 128;
    }
    yield [first, j];
    i = j + len;
  }
}

const broker = createBroker({ listeners: [], sysInterval: 0, maxInflightMessages: 100 });
const info = { remoteAddress: '127.0.0.1', remotePort: 1, listener: 'bench' };

function connect(id: string): End {
  const [client, server] = pair();
  broker.handleConnection(server, info);
  client.write(
    encode(
      {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 0,
        clientId: id,
      },
      4,
    ),
  );
  return client;
}

let received = 0;
let acked = 0;
let start = 0;
let cpuStart = process.cpuUsage();

const sub = connect('sub');
sub.onChunk = (b) => {
  for (const [first, body] of packets(b)) {
    if (first >> 4 === PacketType.PUBLISH) {
      received++;
      // Packet id right after the topic: 2-byte length + topic.
      const tlen = b.readUInt16BE(body);
      const at = body + 2 + tlen;
      const ack = Buffer.allocUnsafe(4);
      ack[0] = 0x40;
      ack[1] = 2;
      ack[2] = b[at]!;
      ack[3] = b[at + 1]!;
      sub.write(ack);
    }
  }
  if (received >= total) finish();
};
sub.write(
  encode(
    {
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: 'bench/+', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    },
    4,
  ),
);

const payload = Buffer.alloc(64, 0x61);
const pubs: Array<{ end: End; next: number; inflight: number; sent: number; tpl: Buffer }> = [];
for (let i = 0; i < publishers; i++) {
  const end = connect(`pub${i}`);
  const tpl = encode(
    {
      type: PacketType.PUBLISH,
      topic: `bench/${i}`,
      payload,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    },
    4,
  );
  const p = { end, next: 1, inflight: 0, sent: 0, tpl };
  pubs.push(p);
  end.onChunk = (b) => {
    for (const [first] of packets(b)) {
      if (first >> 4 === PacketType.PUBACK) {
        acked++;
        p.inflight--;
      } else if (first >> 4 === PacketType.CONNACK && start === 0) {
        setTimeout(begin, 50);
      }
    }
    fill(p);
  };
}

function fill(p: (typeof pubs)[number]): void {
  if (start === 0) return;
  const quota = Math.ceil(total / publishers);
  while (p.inflight < WINDOW && p.sent < quota) {
    const b = Buffer.from(p.tpl);
    const id = p.next;
    p.next = id === 65535 ? 1 : id + 1;
    b.writeUInt16BE(id, b.length - payload.length - 2);
    p.end.write(b);
    p.inflight++;
    p.sent++;
  }
}

function begin(): void {
  if (start !== 0) return;
  start = performance.now();
  cpuStart = process.cpuUsage();
  for (const p of pubs) fill(p);
}

let done = false;
function finish(): void {
  if (done) return;
  done = true;
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const cpuNs = ((cpu.user + cpu.system) * 1000) / total;
  process.stdout.write(
    `${total} QoS 1 messages, ${publishers} → 1, one packet per chunk: ${cpuNs.toFixed(0)} ns CPU per message, ${Math.round((total / ms) * 1000)} msg/s in-process (${acked} acked)\n`,
  );
  process.exit(0);
}
