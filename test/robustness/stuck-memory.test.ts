// Issue 17 item 3: what a stuck consumer has not read costs the broker process
// little memory with default settings (queue entries referring to shared
// messages, not encoded copies in its socket), and no acknowledged QoS 1
// message is lost by keeping it that way.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PacketType, type QoS } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { Peer } from './support/peer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIN = fileURLToPath(new URL('../../../bin/heron.js', import.meta.url));
const STUCK = 20;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Memory the broker process keeps after a full collection: heap plus buffers. */
async function kept(p: ChildProcess): Promise<{ kept: number; rss: number }> {
  const line = new Promise<string>((resolve) => {
    let buf = '';
    const on = (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!l.includes('"heapUsed"')) continue;
        p.stdout!.off('data', on);
        resolve(l);
        return;
      }
    };
    p.stdout!.on('data', on);
  });
  p.kill('SIGUSR2');
  const m = JSON.parse(await line) as NodeJS.MemoryUsage;
  console.log(
    `# probe heap ${(m.heapUsed / 2 ** 20).toFixed(1)} external ${(m.external / 2 ** 20).toFixed(1)} arrayBuffers ${(m.arrayBuffers / 2 ** 20).toFixed(1)}`,
  );
  return { kept: m.heapUsed + m.external, rss: m.rss };
}

async function startHeron(port: number): Promise<ChildProcess> {
  // On SIGUSR2 the broker process collects garbage (twice: buffers' memory is
  // released in the background after the first) and prints its memory use:
  // what it keeps, not how much garbage the flood left for the next collection.
  const probe =
    'data:text/javascript,process.on("SIGUSR2",()=>{globalThis.gc();setTimeout(()=>{globalThis.gc();process.stdout.write(JSON.stringify(process.memoryUsage())+"\\n")},300)})';
  const p = spawn(process.execPath, ['--expose-gc', '--import', probe, BIN, '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  p.stdout!.setEncoding('utf8');
  // Keep the pipe flowing between probes (the broker may log to stdout).
  p.stdout!.resume();
  for (let i = 0; i < 400; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return p;
    await sleep(25);
  }
  p.kill('SIGKILL');
  throw new Error('heron did not start');
}

function pub(topic: string, qos: QoS, packetId: number, payload: Buffer): Packet {
  return { type: PacketType.PUBLISH, topic, payload, qos, retain: false, dup: false, packetId };
}

/** Publishes for `ms`: QoS 0 on feed/q0, and the QoS 1 messages `q1` on feed/q1 spread over it. */
async function flood(p: Peer, ms: number, q1: Buffer[]): Promise<void> {
  const q0 = encode(pub('feed/q0', 0, 0, Buffer.alloc(100, 0x61)), 4);
  const batch = Buffer.concat(Array(64).fill(q0));
  const end = Date.now() + ms;
  let next = 0;
  while (Date.now() < end) {
    p.raw(batch);
    if (next < q1.length) p.raw(q1[next++]!);
    if (p.socket.writableLength > 256 * 1024)
      await new Promise((r) => {
        p.socket.once('drain', r);
        setTimeout(r, 50);
      });
    else await new Promise((r) => setImmediate(r));
  }
  while (next < q1.length) p.raw(q1[next++]!);
}

test(`${STUCK} stuck consumers cost the broker under 1 MB each (default settings), and get every acknowledged QoS 1 message once they read`, async () => {
  const port = await freePort();
  const heron = await startHeron(port);
  const peers: Peer[] = [];
  try {
    const stuck: Peer[] = [];
    for (let i = 0; i < STUCK; i++) {
      const s = await Peer.tcp(port, 4);
      assert.equal(await s.connect({ clientId: `mem-${i}` }), 0);
      s.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: ['feed/q0', 'feed/q1'].map((topic, q) => ({
          topic,
          qos: q as QoS,
          noLocal: false,
          retainAsPublished: false,
          retainHandling: 0 as const,
        })),
      });
      assert.ok(await s.waitFor((x) => x.type === PacketType.SUBACK));
      stuck.push(s);
    }
    peers.push(...stuck);
    const publisher = await Peer.tcp(port, 4);
    peers.push(publisher);
    assert.equal(await publisher.connect({ clientId: 'publisher' }), 0);
    let acked = 0;
    const onPacket = publisher.onPacket.bind(publisher);
    publisher.onPacket = (x: Packet) => {
      if (x.type === PacketType.PUBACK) acked++;
      else onPacket(x);
      publisher.packets.length = 0;
    };
    // While everyone reads, the same traffic: the broker's own working set.
    for (const s of stuck)
      s.onPacket = function (this: Peer) {
        this.packets.length = 0;
      };
    await flood(publisher, 2000, []);
    await sleep(500);
    const reading = await kept(heron);

    // Now they stop reading. 300 QoS 1 messages (within the default queue of
    // 1000) are acknowledged to the publisher among ~100k QoS 0 ones.
    for (const s of stuck) s.socket.pause();
    const q1 = Array.from({ length: 300 }, (_, i) =>
      encode(pub('feed/q1', 1, i + 1, Buffer.from(`q1-${i}`)), 4),
    );
    await flood(publisher, 3000, q1);
    for (let i = 0; i < 200 && acked < q1.length; i++) await sleep(25);
    assert.equal(acked, q1.length);
    await sleep(500);
    const stuckNow = await kept(heron);
    const perStuck = (stuckNow.kept - reading.kept) / STUCK;
    const mb = (n: number) => (n / 2 ** 20).toFixed(2);
    console.log(
      `# stuck consumers: broker keeps ${mb(reading.kept)} MB (RSS ${mb(reading.rss)}) with ${STUCK} reading, +${mb(perStuck)} MB per stuck consumer (RSS +${mb((stuckNow.rss - reading.rss) / STUCK)})`,
    );
    // Before the change: ~8 MB of encoded writes and write requests per consumer.
    assert.ok(perStuck < 1024 * 1024, `${mb(perStuck)} MB per stuck consumer`);

    // They read again: each gets all 300 acknowledged QoS 1 messages, in order.
    const results = stuck.slice(0, 4).map((s) => {
      const got: string[] = [];
      s.onPacket = (x: Packet) => {
        if (x.type === PacketType.PUBLISH && x.qos === 1) {
          got.push(x.payload.toString());
          s.send({ type: PacketType.PUBACK, packetId: x.packetId, reasonCode: 0 });
        }
      };
      s.socket.resume();
      return got;
    });
    for (const s of stuck.slice(4)) s.destroy();
    for (let i = 0; i < 600 && results.some((g) => g.length < q1.length); i++) await sleep(25);
    for (const got of results)
      assert.deepEqual(
        got,
        q1.map((_, i) => `q1-${i}`),
      );
  } finally {
    for (const p of peers) p.destroy();
    heron.kill('SIGTERM');
    await new Promise((r) => heron.once('exit', r));
  }
});
