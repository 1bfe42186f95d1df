// Limits that stop abusive clients: each refuses or disconnects the offender with
// the right code, counts it in broker.stats, and leaves other clients alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrokerOptions } from '../../src/broker/options.js';
import { PacketType } from '../../src/protocol/constants.js';
import type {
  ConnackPacket,
  DisconnectPacket,
  Packet,
  PubackPacket,
  PublishPacket,
  PubrecPacket,
  SubackPacket,
} from '../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectRaw, delay, RawClient } from '../helpers/raw-client.js';

function pub(topic: string, payload: Buffer | string, qos: 0 | 1 | 2, packetId = 0): Packet {
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    qos,
    retain: false,
    dup: false,
    packetId,
  };
}

function subscribePacket(packetId: number, ...filters: string[]): Packet {
  return {
    type: PacketType.SUBSCRIBE,
    packetId,
    subscriptions: filters.map((topic) => ({
      topic,
      qos: 0 as const,
      noLocal: false,
      retainAsPublished: false,
      retainHandling: 0 as const,
    })),
  };
}

/** Waits until early in a wall-clock second, so that a short burst falls in one rate window. */
async function freshWindow(): Promise<void> {
  const ms = Date.now() % 1000;
  if (ms > 400) await delay(1000 - ms + 10);
}

/** A connected client subscribed to `bystander/#` that must keep working throughout a test. */
async function bystander(port: number): Promise<RawClient> {
  const c = await connectRaw(port, { clientId: `bystander-${Math.random()}` });
  c.send(subscribePacket(1, 'bystander/#'));
  await c.nextOfType(PacketType.SUBACK);
  return c;
}

/** Asserts the bystander is still connected and still receives messages. */
async function assertUnaffected(tb: TestBroker, c: RawClient): Promise<void> {
  assert.equal(c.closed, false, 'bystander was disconnected');
  tb.broker.publish({ topic: 'bystander/ok', payload: Buffer.from('ok'), qos: 0, retain: false });
  const p = await c.nextOfType<PublishPacket>(PacketType.PUBLISH);
  assert.equal(p.topic, 'bystander/ok');
  c.send({ type: PacketType.PINGREQ });
  await c.nextOfType(PacketType.PINGRESP);
}

async function withBroker(
  options: BrokerOptions,
  fn: (tb: TestBroker, by: RawClient) => Promise<void>,
): Promise<void> {
  const tb = await startBroker(options);
  const by = await bystander(tb.port);
  try {
    await fn(tb, by);
    await assertUnaffected(tb, by);
  } finally {
    by.destroy();
    await tb.close();
  }
}

describe('limits', () => {
  test('connectTimeout: a socket that sends no CONNECT is closed', async () => {
    await withBroker({ connectTimeout: 0.2 }, async (tb) => {
      const idle = await RawClient.connect(tb.port);
      assert.equal(await idle.waitClosed(2500), true);
      assert.equal(idle.received.length, 0);
      assert.equal(tb.broker.stats.connectTimeouts, 1);
    });
  });

  test('messageSizeLimit: v5 PUBACK 0x95, v3 acknowledged and dropped; the connection stays', async () => {
    await withBroker({ messageSizeLimit: 100 }, async (tb, by) => {
      const v5 = await connectRaw(tb.port, { clientId: 'big5' }, 5);
      v5.send(pub('bystander/big', Buffer.alloc(101), 1, 1));
      assert.equal((await v5.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x95);
      const v3 = await connectRaw(tb.port, { clientId: 'big3' });
      v3.send(pub('bystander/big', Buffer.alloc(101), 1, 2));
      assert.equal((await v3.nextOfType<PubackPacket>(PacketType.PUBACK)).packetId, 2);
      v3.send(pub('bystander/small', Buffer.alloc(100), 1, 3));
      await v3.nextOfType(PacketType.PUBACK);
      const got = await by.nextOfType<PublishPacket>(PacketType.PUBLISH);
      assert.equal(got.topic, 'bystander/small');
      assert.equal(tb.broker.stats.messagesTooLarge, 2);
      assert.equal(v5.closed || v3.closed, false);
      v5.destroy();
      v3.destroy();
    });
  });

  test('maxPacketSize: advertised to v5 clients; a larger packet gets DISCONNECT 0x95 and is closed', async () => {
    await withBroker({ maxPacketSize: 200 }, async (tb) => {
      const v5 = await RawClient.connect(tb.port, 5);
      const ack = (await v5.handshake({ clientId: 'huge5' })) as ConnackPacket;
      assert.equal(ack.properties?.maximumPacketSize, 200);
      v5.send(pub('t', Buffer.alloc(300), 0));
      const d = await v5.nextOfType<DisconnectPacket>(PacketType.DISCONNECT);
      assert.equal(d.reasonCode, 0x95);
      assert.equal(await v5.waitClosed(), true);
      const v3 = await connectRaw(tb.port, { clientId: 'huge3' });
      v3.send(pub('t', Buffer.alloc(300), 0));
      assert.equal(await v3.waitClosed(), true);
      assert.equal(tb.broker.stats.packetsTooLarge, 2);
    });
  });

  test('publishRateLimit (v5 QoS 1/2): PUBACK/PUBREC 0x96 past the limit, the connection stays', async () => {
    await withBroker({ publishRateLimit: 5 }, async (tb) => {
      const c = await connectRaw(tb.port, { clientId: 'fast5' }, 5);
      const codes: number[] = [];
      await freshWindow();
      for (let i = 1; i <= 8; i++) c.send(pub('x', 'm', 1, i));
      for (let i = 1; i <= 8; i++)
        codes.push((await c.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode);
      c.send(pub('x', 'm', 2, 100));
      const rec = await c.nextOfType<PubrecPacket>(PacketType.PUBREC);
      assert.deepEqual(codes, [0x10, 0x10, 0x10, 0x10, 0x10, 0x96, 0x96, 0x96]);
      assert.equal(rec.reasonCode, 0x96);
      assert.equal(tb.broker.stats.publishRateLimited, 4);
      assert.equal(c.closed, false);
      c.destroy();
    });
  });

  test('publishRateLimit: v5 QoS 0 flood gets DISCONNECT 0x96; v3 is disconnected', async () => {
    await withBroker({ publishRateLimit: 3 }, async (tb) => {
      const v5 = await connectRaw(tb.port, { clientId: 'flood5' }, 5);
      for (let i = 0; i < 10; i++) v5.send(pub('x', 'm', 0));
      const d = await v5.nextOfType<DisconnectPacket>(PacketType.DISCONNECT);
      assert.equal(d.reasonCode, 0x96);
      assert.equal(await v5.waitClosed(), true);
      const v3 = await connectRaw(tb.port, { clientId: 'flood3' });
      for (let i = 1; i <= 10; i++) v3.send(pub('x', 'm', 1, i));
      assert.equal(await v3.waitClosed(), true);
      assert.ok(tb.broker.stats.publishRateLimited >= 2);
    });
  });

  test('publishByteRateLimit: v5 QoS 1 PUBACK 0x97 (quota exceeded), QoS 0 DISCONNECT 0x97', async () => {
    await withBroker({ publishByteRateLimit: 1000 }, async (tb) => {
      const c = await connectRaw(tb.port, { clientId: 'bytes5' }, 5);
      await freshWindow();
      c.send(pub('x', Buffer.alloc(600), 1, 1));
      c.send(pub('x', Buffer.alloc(600), 1, 2));
      const a1 = await c.nextOfType<PubackPacket>(PacketType.PUBACK);
      const a2 = await c.nextOfType<PubackPacket>(PacketType.PUBACK);
      assert.equal(a1.reasonCode, 0x10);
      assert.equal(a2.reasonCode, 0x97);
      const q0 = await connectRaw(tb.port, { clientId: 'bytes5-q0' }, 5);
      for (let i = 0; i < 5; i++) q0.send(pub('x', Buffer.alloc(600), 0));
      const d = await q0.nextOfType<DisconnectPacket>(PacketType.DISCONNECT);
      assert.equal(d.reasonCode, 0x97);
      assert.ok(tb.broker.stats.publishQuotaExceeded >= 1);
      c.destroy();
    });
  });

  test('maxSubscriptionsPerClient: v5 SUBACK 0x97, v3 0x80 past the limit', async () => {
    await withBroker({ maxSubscriptionsPerClient: 2 }, async (tb) => {
      const v5 = await connectRaw(tb.port, { clientId: 'subs5' }, 5);
      v5.send(subscribePacket(1, 'a', 'b', 'c'));
      assert.deepEqual(
        (await v5.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes,
        [0, 0, 0x97],
      );
      // Re-subscribing to a held filter is not a new subscription.
      v5.send(subscribePacket(2, 'a'));
      assert.deepEqual((await v5.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes, [0]);
      const v3 = await connectRaw(tb.port, { clientId: 'subs3' });
      v3.send(subscribePacket(1, 'a', 'b', 'c'));
      assert.deepEqual(
        (await v3.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes,
        [0, 0, 0x80],
      );
      assert.equal(tb.broker.stats.subscriptionsRefused, 2);
      v5.destroy();
      v3.destroy();
    });
  });

  test('maxTopicLevels: deeper topics and filters are refused (PUBACK 0x90, SUBACK 0x8F / 0x80)', async () => {
    await withBroker({ maxTopicLevels: 3 }, async (tb) => {
      const v5 = await connectRaw(tb.port, { clientId: 'deep5' }, 5);
      v5.send(pub('a/b/c/d', 'x', 1, 1));
      assert.equal((await v5.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x90);
      v5.send(pub('a/b/c', 'x', 1, 2));
      assert.equal((await v5.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x10);
      v5.send(subscribePacket(3, 'a/b/c/#', 'a/+/c'));
      assert.deepEqual(
        (await v5.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes,
        [0x8f, 0],
      );
      const v3 = await connectRaw(tb.port, { clientId: 'deep3' });
      v3.send(subscribePacket(1, 'a/b/c/d'));
      assert.deepEqual((await v3.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes, [0x80]);
      assert.equal(tb.broker.stats.topicLevelsExceeded, 3);
      v5.destroy();
      v3.destroy();
    });
  });

  test("maxTopicLevels defaults to Mosquitto's limit: 201 levels pass, 202 are refused", async () => {
    // mosquitto 2.0.11 accepts up to 200 '/' separators and closes the connection beyond.
    await withBroker({}, async (tb) => {
      const levels = (n: number): string => Array.from({ length: n }, () => 'l').join('/');
      const v5 = await connectRaw(tb.port, { clientId: 'deepdefault' }, 5);
      v5.send(subscribePacket(1, levels(201), levels(202)));
      assert.deepEqual(
        (await v5.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes,
        [0, 0x8f],
      );
      v5.send(pub(levels(201), 'x', 1, 2));
      assert.equal((await v5.nextOfType<PublishPacket>(PacketType.PUBLISH)).topic, levels(201));
      assert.equal((await v5.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0);
      v5.send(pub(levels(202), 'x', 1, 3));
      assert.equal((await v5.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x90);
      v5.destroy();
    });
  });

  test('connectionRateLimit: connections past the per-address rate are closed before CONNACK', async () => {
    await withBroker({ connectionRateLimit: 3 }, async (tb) => {
      // A new wall-clock second (the bystander's connection counted in the previous one).
      await delay(1010 - (Date.now() % 1000));
      const before = tb.broker.stats.connectionsRefused;
      const sockets = await Promise.all([1, 2, 3, 4, 5].map(() => RawClient.connect(tb.port)));
      const closed = await Promise.all(sockets.map((s) => s.waitClosed(300)));
      assert.equal(closed.filter(Boolean).length, 2, closed.join(','));
      assert.equal(tb.broker.stats.connectionsRefused - before, 2);
      for (const s of sockets) s.destroy();
      // A second later the address may connect again.
      await delay(1000);
      const again = await connectRaw(tb.port, { clientId: 'later' });
      again.destroy();
    });
  });

  test('maxConnections per listener: the next socket is refused until one leaves', async () => {
    const tb = await startBroker({
      listeners: [
        { port: 0, host: '127.0.0.1', maxConnections: 2 },
        { port: 0, host: '127.0.0.1' },
      ],
    });
    try {
      const other = tb.broker.addresses()[1]!.port;
      const a = await connectRaw(tb.port, { clientId: 'mc-a' });
      const b = await connectRaw(tb.port, { clientId: 'mc-b' });
      const c = await RawClient.connect(tb.port);
      assert.equal(await c.waitClosed(1000), true);
      assert.equal(tb.broker.stats.connectionsRefused, 1);
      // Another listener is not limited by this one's count.
      const elsewhere = await connectRaw(other, { clientId: 'mc-other' });
      // The two admitted clients still work.
      a.send({ type: PacketType.PINGREQ });
      await a.nextOfType(PacketType.PINGRESP);
      b.destroy();
      await b.waitClosed();
      await delay(50);
      const d = await connectRaw(tb.port, { clientId: 'mc-d' });
      for (const x of [a, d, elsewhere]) x.destroy();
    } finally {
      await tb.close();
    }
  });
});
