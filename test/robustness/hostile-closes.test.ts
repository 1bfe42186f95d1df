// Issue 17: connections the broker closes to protect itself (slow consumers,
// incomplete-packet hoarders, silent or slowloris sockets) are closed for the
// right reason, counted in $SYS and /metrics, and logged with who they were.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { PacketType, ReasonCode } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import { startAdminFixture } from '../admin/admin-fixture.js';
import { startBroker } from '../helpers/broker.js';
import { Peer } from './support/peer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** A pino logger writing into `lines`. */
function captureLog(lines: string[]) {
  return pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
}

/** The fixed header of a PUBLISH announcing `remaining` bytes, then its topic "t": its first 8 bytes. */
function publishStart(remaining: number): Buffer {
  const head = [0x30];
  let n = remaining;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    head.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from(head), Buffer.from([0, 1, 0x74])]);
}

/** Prometheus text: the value of one sample. */
async function metric(http: (p: string) => Promise<Response>, name: string): Promise<number> {
  const text = await (await http('metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} missing from /metrics`);
  return Number(line.slice(name.length + 1));
}

/** Reads one retained $SYS topic over MQTT. */
async function sysValue(url: string, topic: string, want: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    let last: string | undefined;
    c.on('message', (_t, payload) => {
      last = payload.toString();
    });
    await c.subscribeAsync(topic);
    // $SYS is republished every sys_interval (1 s here).
    await until(`${topic} is ${want} (is ${last})`, () => last === want);
  } finally {
    await c.endAsync();
  }
}

test('a stuck client that still sends PINGREQ is disconnected as a slow consumer (v5 0x97), counted and logged as one', async () => {
  const lines: string[] = [];
  const tb = await startBroker({ logger: captureLog(lines) });
  const peers: Peer[] = [];
  try {
    const stuck = await Peer.tcp(tb.port, 5);
    peers.push(stuck);
    assert.equal(await stuck.connect({ clientId: 'stuck-pinger', keepalive: 1 }), 0);
    stuck.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: 'feed', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    assert.ok(await stuck.waitFor((p) => p.type === PacketType.SUBACK));
    stuck.socket.pause();
    // It keeps pinging on time, but reads nothing.
    const pings = setInterval(() => stuck.send({ type: PacketType.PINGREQ }), 200);
    const pub = await Peer.tcp(tb.port, 4);
    peers.push(pub);
    assert.equal(await pub.connect({ clientId: 'feeder' }), 0);
    const msg = encode(
      {
        type: PacketType.PUBLISH,
        topic: 'feed',
        payload: Buffer.alloc(1024),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      },
      4,
    );
    const batch = Buffer.concat(Array(64).fill(msg));
    const feed = setInterval(() => pub.raw(batch), 10);
    try {
      await until('the stuck client is cut off', () => tb.broker.stats.slowConsumers > 0);
    } finally {
      clearInterval(feed);
      clearInterval(pings);
    }
    // Reading again it finds, behind what it was owed, the reason it was cut off.
    stuck.socket.resume();
    assert.ok(await stuck.waitFor((p) => p.type === PacketType.DISCONNECT, 5000), 'no DISCONNECT');
    assert.equal(stuck.disconnectCode, ReasonCode.QuotaExceeded);
    assert.equal(tb.broker.stats.slowConsumers, 1);
    assert.equal(tb.broker.stats.keepaliveTimeouts, 0, 'not a keep alive timeout');
    const logged = lines.find((l) => l.includes('slow consumer'));
    assert.ok(logged?.includes('stuck-pinger') && logged.includes('127.0.0.1'), String(logged));
    // The feeder was never held up by it.
    assert.equal(pub.closed, false);
  } finally {
    for (const p of peers) p.destroy();
    await tb.close();
  }
});

test('bytes held in incomplete packets stay within max_incomplete_packet_bytes: the largest holder is closed first, counted and logged', async () => {
  const lines: string[] = [];
  const budget = 1024 * 1024;
  const f = await startAdminFixture(
    { maxIncompletePacketBytes: budget, logger: captureLog(lines) },
    {},
  );
  const tb = f.tb;
  const peers: Peer[] = [];
  const open = async (id: string) => {
    const p = await Peer.tcp(tb.port, 4);
    peers.push(p);
    assert.equal(await p.connect({ clientId: id }), 0);
    return p;
  };
  try {
    const sub = await open('sub');
    sub.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: 'big', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    assert.ok(await sub.waitFor((p) => p.type === PacketType.SUBACK));
    // Three clients announce the largest PUBLISH there is and send part of it.
    const huge = 268_435_455;
    const held = [200, 300, 400].map((k) => k * 1024);
    const tricklers = [];
    for (const [i, n] of held.entries()) {
      const t = await open(`trickle-${i}`);
      t.raw(Buffer.concat([publishStart(huge), Buffer.alloc(n - 8)]));
      tricklers.push(t);
    }
    await until(
      'the broker holds their bytes',
      () => tb.broker.partialPackets.bytes === 900 * 1024,
    );
    // A fourth pushes the total past the budget: the largest holder goes, not the newest.
    const fourth = await open('trickle-3');
    fourth.raw(Buffer.concat([publishStart(huge), Buffer.alloc(300 * 1024 - 8)]));
    await until('one was closed', () => tb.broker.stats.incompletePacketCloses === 1);
    assert.ok(await tricklers[2]!.waitClosed(5000), 'the largest holder is closed');
    // The fourth's bytes may still be arriving: the others are all held once they have.
    await until('the rest is held', () => tb.broker.partialPackets.bytes === 800 * 1024);
    assert.equal(tricklers[0]!.closed || tricklers[1]!.closed || fourth.closed, false);
    assert.equal(tb.broker.stats.incompletePacketCloses, 1);
    const logged = lines.find((l) => l.includes('incomplete packet budget'));
    assert.ok(logged?.includes('trickle-2') && logged.includes('127.0.0.1'), String(logged));
    // Large legitimate payloads still go through while the budget has room.
    for (const t of [...tricklers.slice(0, 2), fourth]) t.destroy();
    await until('the others let go', () => tb.broker.partialPackets.bytes === 0);
    const big = Buffer.alloc(900 * 1024, 0x62);
    const sender = await open('sender');
    sender.send({
      type: PacketType.PUBLISH,
      topic: 'big',
      payload: big,
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
    });
    const got = await sub.waitFor((p) => p.type === PacketType.PUBLISH, 10_000);
    assert.equal(got?.type === PacketType.PUBLISH && got.payload.length, big.length);
    assert.equal(await metric(f.http, 'heron_incomplete_packet_closes_total'), 1);
  } finally {
    for (const p of peers) p.destroy();
    await f.close();
  }
});

test('connections closed for sending no CONNECT (silent or slowloris) are logged with their address and counted in $SYS and /metrics', async () => {
  const lines: string[] = [];
  const f = await startAdminFixture({
    connectTimeout: 1,
    sysInterval: 1,
    logger: captureLog(lines),
  });
  const peers: Peer[] = [];
  try {
    const silent = await Peer.tcp(f.tb.port, 4);
    const slow = await Peer.tcp(f.tb.port, 4);
    peers.push(silent, slow);
    const ports = [silent, slow].map(
      (p) => (p.socket as unknown as { localPort: number }).localPort,
    );
    // Slowloris: a CONNECT sent a byte at a time, too slowly to ever finish.
    const connect = encode(
      {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        clientId: 'loris',
      },
      4,
    );
    let i = 0;
    const drip = setInterval(() => slow.raw(connect.subarray(i, ++i)), 150);
    try {
      assert.ok(await silent.waitClosed(5000), 'silent socket not closed');
      assert.ok(await slow.waitClosed(5000), 'slowloris socket not closed');
    } finally {
      clearInterval(drip);
    }
    assert.equal(f.tb.broker.stats.connectTimeouts, 2);
    const closes = lines.filter((l) => l.includes('no CONNECT within connect timeout'));
    assert.equal(closes.length, 2, closes.join(''));
    for (const port of ports) {
      const line = closes.find((l) => l.includes(`"port":${port}`));
      assert.ok(line?.includes('"remote":"127.0.0.1"'), `no log line for port ${port}`);
    }
    assert.ok(closes.some((l) => l.includes('nothing received')));
    assert.ok(closes.some((l) => /\d+ bytes of it received/.test(l)));
    assert.equal(await metric(f.http, 'heron_connect_timeouts_total'), 2);
    await sysValue(f.tb.url, '$SYS/broker/clients/closed/connect timeout', '2');
  } finally {
    for (const p of peers) p.destroy();
    await f.close();
  }
});
