// Backpressure instead of drops: a QoS 1 publisher faster than an online
// subscriber is stopped (not read) while the subscriber's queue is full, so
// everything acknowledged to it is delivered; a subscriber that stops making
// progress becomes a slow consumer and drops again; offline queues and
// `backpressure: false` keep Mosquitto's drop-when-full behaviour.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerOptions } from '../../src/broker/options.js';
import { PacketType } from '../../src/protocol/constants.js';
import type { ConnectPacket, PublishPacket } from '../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectRaw, delay, type RawClient } from '../helpers/raw-client.js';

const LIMITS: BrokerOptions = { maxInflightMessages: 5, maxQueuedMessages: 20 };

async function client(tb: TestBroker, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(tb.url, { reconnectPeriod: 0, ...opts });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

/** Publishes `n` QoS 1 messages at once (as fast as the client writes); resolves when all are acknowledged. */
function publishAll(c: MqttClient, topic: string, n: number): Promise<void> {
  const acks: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    acks.push(
      new Promise<void>((resolve, reject) =>
        c.publish(topic, String(i), { qos: 1 }, (err) => (err ? reject(err) : resolve())),
      ),
    );
  }
  return Promise.all(acks).then(() => undefined);
}

/** Polls `cond` until it holds (the broker changes state on socket events). */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** A raw subscriber that reads its QoS 1 deliveries but never acknowledges them. */
async function stuckSubscriber(
  tb: TestBroker,
  topic: string,
  fields: Partial<ConnectPacket> = {},
): Promise<RawClient> {
  const c = await connectRaw(tb.port, { clientId: `stuck-${Math.random()}`, ...fields });
  await c.subscribe(topic);
  return c;
}

/** Sends `n` QoS 1 PUBLISHes to `topic` from a raw client, packet ids 1..n, payloads "1".."n". */
function publishRaw(c: RawClient, topic: string, n: number): void {
  for (let i = 1; i <= n; i++)
    c.send({
      type: PacketType.PUBLISH,
      topic,
      payload: Buffer.from(String(i)),
      qos: 1,
      retain: false,
      dup: false,
      packetId: i,
    });
}

describe('backpressure for online subscribers', () => {
  test('a QoS 1 publisher at max rate into a slower subscriber is paused, and every acknowledged message is delivered', async () => {
    const tb = await startBroker(LIMITS);
    try {
      const seen = new Set<string>();
      // The subscriber acknowledges each message 2 ms after it arrives: far slower than the publisher.
      const sub = await client(tb, { clientId: 'slow-sub' });
      sub.handleMessage = (packet, callback) => {
        seen.add(packet.payload.toString());
        setTimeout(callback, 2);
      };
      await sub.subscribeAsync('bp/t', { qos: 1 });
      const pub = await client(tb, { clientId: 'fast-pub' });
      const n = 1000;
      await publishAll(pub, 'bp/t', n);
      await until(() => seen.size === n, `${n} deliveries (have ${seen.size})`);
      const s = tb.broker.stats;
      assert.equal(s.publishDropped, 0, 'nothing acknowledged was dropped');
      assert.ok(s.publishersPaused >= 1, 'the publisher was paused while the queue was full');
      assert.equal(s.stalledConsumers, 0);
      pub.end(true);
      sub.end(true);
    } finally {
      await tb.close();
    }
  });

  test('a subscriber that makes no progress for slowConsumerTimeout falls back to dropping; its publisher resumes', async () => {
    const tb = await startBroker({ ...LIMITS, slowConsumerTimeout: 0.3 });
    try {
      const stuck = await stuckSubscriber(tb, 'bp/stuck');
      const pub = await client(tb, { clientId: 'pub-to-stuck' });
      const n = 200;
      // Resolves only once the publisher is read again: after the subscriber is declared slow.
      await publishAll(pub, 'bp/stuck', n);
      const s = tb.broker.stats;
      assert.ok(s.publishersPaused >= 1, 'the publisher was paused first');
      assert.equal(s.stalledConsumers, 1, 'then the subscriber was declared a slow consumer');
      assert.ok(s.publishDropped > 0, 'and its full queue dropped (counted)');
      const session = tb.broker.sessions.get(findStuck(tb))!;
      assert.ok(session.queuedCount <= 20 + 1, `queue stays bounded (${session.queuedCount})`);
      pub.end(true);
      stuck.destroy();
    } finally {
      await tb.close();
    }
  });

  test('offline sessions still drop at maxQueuedMessages, without pausing publishers', async () => {
    const tb = await startBroker(LIMITS);
    try {
      const away = await client(tb, { clientId: 'away', clean: false });
      await away.subscribeAsync('bp/away', { qos: 1 });
      await away.endAsync();
      const pub = await client(tb, { clientId: 'pub-to-away' });
      await publishAll(pub, 'bp/away', 50);
      const s = tb.broker.stats;
      assert.equal(s.publishersPaused, 0);
      assert.equal(s.publishDropped, 50 - 20);
      const got: string[] = [];
      const back = mqtt.connect(tb.url, { clientId: 'away', clean: false, reconnectPeriod: 0 });
      back.on('message', (_t, payload) => got.push(payload.toString()));
      await until(() => got.length === 20, `20 queued messages (have ${got.length})`);
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, i) => String(i)),
      );
      pub.end(true);
      back.end(true);
    } finally {
      await tb.close();
    }
  });

  test("two clients publishing into each other's full queues go on: their acknowledgements are still read", async () => {
    // Held publishers used to be read no more at all, acknowledgements included: A,
    // held for B's full queue, could not drain its own queue, which held B. Both
    // waited for the slow-consumer time, then dropped what they had acknowledged.
    const tb = await startBroker({ ...LIMITS, slowConsumerTimeout: 60 });
    try {
      const a = await client(tb, { clientId: 'mutual-a' });
      const b = await client(tb, { clientId: 'mutual-b' });
      await a.subscribeAsync('bp/to-a', { qos: 1 });
      await b.subscribeAsync('bp/to-b', { qos: 1 });
      let toA = 0;
      let toB = 0;
      a.on('message', () => toA++);
      b.on('message', () => toB++);
      const n = 2000;
      await Promise.all([publishAll(a, 'bp/to-b', n), publishAll(b, 'bp/to-a', n)]);
      await until(() => toA === n && toB === n, `all delivered (A ${toA}, B ${toB} of ${n})`);
      const s = tb.broker.stats;
      assert.ok(s.publishersPaused > 0, 'the queues did fill');
      assert.equal(s.publishDropped, 0);
      assert.equal(s.stalledConsumers, 0);
      a.end(true);
      b.end(true);
    } finally {
      await tb.close();
    }
  });

  test('a held publisher that owes nothing is not read; once it is sent a QoS 1 message it is read again', async () => {
    const tb = await startBroker({ ...LIMITS, slowConsumerTimeout: 60 });
    try {
      const stuck = await stuckSubscriber(tb, 'bp/full');
      // A subscribes too, but has nothing in flight when it is held.
      const a = await stuckSubscriber(tb, 'bp/a');
      // Five in flight, twenty queued, one past the bound: A is held.
      publishRaw(a, 'bp/full', 26);
      await until(() => tb.broker.stats.publishersPaused === 1, 'A held');
      a.send({ type: PacketType.PINGREQ });
      const quiet = await a.quiet(200);
      assert.equal(quiet.filter((p) => p.type === PacketType.PINGRESP).length, 0, 'not read');
      const other = await client(tb, { clientId: 'to-a' });
      await other.publishAsync('bp/a', 'hello', { qos: 1 });
      const delivered = await a.nextOfType<PublishPacket>(PacketType.PUBLISH);
      assert.equal(delivered.topic, 'bp/a');
      // It owes a PUBACK now: it is read again, and its PINGREQ is answered while still held.
      await a.nextOfType(PacketType.PINGRESP);
      a.send({ type: PacketType.PUBACK, packetId: delivered.packetId!, reasonCode: 0 });
      assert.ok(
        [...tb.broker.channels].some((c) => c.heldByBackpressure),
        'A is still held',
      );
      assert.equal(tb.broker.stats.publishDropped, 0);
      other.end(true);
      a.destroy();
      stuck.destroy();
    } finally {
      await tb.close();
    }
  });

  test('a held client that publishes, disconnects and closes: its last messages are handled and its will is not sent', async () => {
    const tb = await startBroker({ ...LIMITS, slowConsumerTimeout: 60 });
    try {
      const stuck = await stuckSubscriber(tb, 'bp/full');
      const watcher = await client(tb, { clientId: 'will-watcher' });
      await watcher.subscribeAsync('bp/will', { qos: 1 });
      const wills: string[] = [];
      watcher.on('message', (_t, payload) => wills.push(payload.toString()));
      // A subscribes and owes an acknowledgement, so it is read on while held.
      const a = await stuckSubscriber(tb, 'bp/a', {
        clientId: 'leaving',
        will: { topic: 'bp/will', payload: Buffer.from('lost'), qos: 1, retain: false },
      });
      await watcher.publishAsync('bp/a', 'owed', { qos: 1 });
      await a.nextOfType(PacketType.PUBLISH);
      publishRaw(a, 'bp/full', 26);
      a.send({
        type: PacketType.PUBLISH,
        topic: 'bp/full',
        payload: Buffer.from('last'),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      });
      a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
      a.socket.end();
      await until(() => tb.broker.stats.publishersPaused === 1, 'A held');
      await delay(200);
      // The subscriber catches up: A's kept packets are handled (QoS 0 goes out unqueued), its DISCONNECT last.
      const got: string[] = [];
      while (got.length < 27) {
        const p = await stuck.nextOfType<PublishPacket>(PacketType.PUBLISH);
        got.push(p.payload.toString());
        if (p.qos > 0)
          stuck.send({ type: PacketType.PUBACK, packetId: p.packetId!, reasonCode: 0 });
      }
      const sent = Array.from({ length: 26 }, (_, i) => String(i + 1));
      assert.deepEqual(new Set(got), new Set([...sent, 'last']));
      await until(() => !tb.broker.sessions.has('leaving'), 'A gone');
      await delay(100);
      assert.deepEqual(wills, [], 'a client that sent DISCONNECT has no will published');
      assert.equal(tb.broker.stats.publishDropped, 0);
      watcher.end(true);
      stuck.destroy();
    } finally {
      await tb.close();
    }
  });

  test("a client's will reaches a connected subscriber whose queue is full", async () => {
    const tb = await startBroker(LIMITS);
    try {
      const stuck = await stuckSubscriber(tb, 'bp/dev/#');
      // Five in flight and twenty queued: the subscriber's queue is full.
      for (let i = 0; i < 25; i++)
        tb.broker.publish({
          topic: 'bp/dev/data',
          payload: Buffer.from(String(i)),
          qos: 1,
          retain: false,
        });
      await until(() => tb.broker.sessions.get(findStuck(tb))?.queuedCount === 20, 'a full queue');
      const device = await connectRaw(tb.port, {
        clientId: 'device',
        will: { topic: 'bp/dev/status', payload: Buffer.from('offline'), qos: 1, retain: false },
      });
      device.destroy();
      // The will is published when the broker sees the connection end; only then acknowledge.
      await until(() => !tb.broker.sessions.has('device'), 'the device session to end');
      const got: string[] = [];
      while (got.length < 26) {
        const p = await stuck.nextOfType<PublishPacket>(PacketType.PUBLISH);
        got.push(p.payload.toString());
        stuck.send({ type: PacketType.PUBACK, packetId: p.packetId!, reasonCode: 0 });
      }
      assert.equal(got[25], 'offline');
      assert.equal(tb.broker.stats.publishDropped, 0);
      stuck.destroy();
    } finally {
      await tb.close();
    }
  });

  test('backpressure: false drops at once for a full online queue (Mosquitto behaviour)', async () => {
    const tb = await startBroker({ ...LIMITS, backpressure: false });
    try {
      const stuck = await stuckSubscriber(tb, 'bp/drop');
      const pub = await client(tb, { clientId: 'pub-drop' });
      await publishAll(pub, 'bp/drop', 200);
      const s = tb.broker.stats;
      assert.equal(s.publishersPaused, 0);
      assert.equal(s.publishDropped, 200 - 5 - 20, 'all but the inflight window and the queue');
      pub.end(true);
      stuck.destroy();
    } finally {
      await tb.close();
    }
  });
});

function findStuck(tb: TestBroker): string {
  for (const id of tb.broker.sessions.keys()) if (id.startsWith('stuck-')) return id;
  return '';
}
