import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { PacketType } from '../../src/protocol/constants.js';
import type { ConnectPacket, PublishPacket } from '../../src/protocol/packets.js';
import { scratchDir, startMosquitto } from '../auth/mosquitto-helpers.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectRaw, delay, type RawClient } from '../helpers/raw-client.js';

const RETAINED = 1500;

/** Retains RETAINED QoS 1 messages `keep/<i>` = `v<i>` through a real MQTT.js client. */
async function retainMany(port: number): Promise<void> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'retainer' });
  const sent: Promise<unknown>[] = [];
  for (let i = 0; i < RETAINED; i++)
    sent.push(c.publishAsync(`keep/${i}`, `v${i}`, { qos: 1, retain: true }));
  await Promise.all(sent);
  await c.endAsync();
}

/**
 * Subscribes mosquitto_sub to `keep/#` at QoS 1 and returns the lines it printed
 * (`<retain flag> <topic> <payload>`) once it has RETAINED or nothing came for `idleSec`.
 */
function subscribeAll(port: number, idleSec: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(port), '-t', 'keep/#', '-q', '1'],
      ...['-C', String(RETAINED), '-W', String(idleSec), '-F', '%r %t %p'],
    ]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    // -W ends it with a non-zero status when fewer than RETAINED came: that count is the result.
    p.on('close', () => resolve(out.split('\n').filter((l) => l !== '')));
  });
}

/** Retains `count` QoS 1 messages `keep/<i>` = `old<i>`, then connects a raw client subscribed to `keep/#` at QoS 1. */
async function retainThenSubscribe(
  tb: TestBroker,
  count: number,
  fields: Partial<ConnectPacket>,
): Promise<RawClient> {
  for (let i = 0; i < count; i++)
    tb.broker.publish({
      topic: `keep/${i}`,
      payload: Buffer.from(`old${i}`),
      qos: 1,
      retain: true,
    });
  const c = await connectRaw(tb.port, fields);
  await c.subscribe('keep/#');
  return c;
}

/** Takes `n` PUBLISHes as they come, acknowledging each, and returns them as `show` describes them. */
async function receiveAndAck(
  c: RawClient,
  n: number,
  show: (p: PublishPacket) => string,
): Promise<string[]> {
  const got: string[] = [];
  while (got.length < n) {
    const p = await c.nextOfType<PublishPacket>(PacketType.PUBLISH);
    got.push(show(p));
    c.send({ type: PacketType.PUBACK, packetId: p.packetId!, reasonCode: 0 });
  }
  return got;
}

test('a QoS 1 subscriber gets every retained message however small its queue (mosquitto_sub)', async () => {
  const tb = await startBroker({ maxInflightMessages: 20, maxQueuedMessages: 100 });
  try {
    await retainMany(tb.port);
    const lines = await subscribeAll(tb.port, 10);
    assert.equal(lines.length, RETAINED);
    const expected = new Set<string>();
    for (let i = 0; i < RETAINED; i++) expected.add(`1 keep/${i} v${i}`);
    assert.deepEqual(new Set(lines), expected);
    assert.equal(tb.broker.stats.publishDropped, 0);
  } finally {
    await tb.close();
  }
});

test('with backpressure false retained messages over the queue bound drop as in the real mosquitto', async () => {
  const limits = { maxInflightMessages: 20, maxQueuedMessages: 100 };
  const tb = await startBroker({ ...limits, backpressure: false });
  const { dir, cleanup } = await scratchDir();
  const mosq = await startMosquitto(dir, [
    'allow_anonymous true',
    'max_inflight_messages 20',
    'max_queued_messages 100',
  ]);
  try {
    await retainMany(tb.port);
    await retainMany(mosq.port);
    const [heron, mosquitto] = await Promise.all([
      subscribeAll(tb.port, 2),
      subscribeAll(mosq.port, 2),
    ]);
    // 20 in flight + 100 queued; the rest is refused at once.
    assert.equal(mosquitto.length, 120);
    assert.equal(heron.length, mosquitto.length);
    assert.equal(tb.broker.stats.publishDropped, RETAINED - heron.length);
  } finally {
    await mosq.stop();
    await cleanup();
    await tb.close();
  }
});

test('a newer message on a topic still waiting in the retained feed replaces the retained one', async () => {
  const tb = await startBroker({ maxInflightMessages: 2, maxQueuedMessages: 3 });
  let pub: mqtt.MqttClient | undefined;
  try {
    const sub = await retainThenSubscribe(tb, 12, { clientId: 'feed-sub' });
    // Not acknowledged yet: two in flight, three queued, seven waiting.
    const first = await sub.quiet(100);
    assert.equal(first.filter((p) => p.type === PacketType.PUBLISH).length, 2);
    const session = tb.broker.sessions.get('feed-sub')!;
    assert.equal(session.queuedCount, 3);
    assert.equal(session.retainedWaiting, 7);

    // keep/9 is still waiting: a live message on it arrives first.
    pub = await mqtt.connectAsync(tb.url, { clientId: 'live-pub', reconnectPeriod: 0 });
    await pub.publishAsync('keep/9', 'new9', { qos: 1 });

    const got = await receiveAndAck(sub, 12, (p) => `${p.retain ? 1 : 0} ${p.topic} ${p.payload}`);
    const extra = await sub.quiet(100);
    assert.equal(extra.filter((p) => p.type === PacketType.PUBLISH).length, 0);
    const expected = new Set<string>(['0 keep/9 new9']);
    for (let i = 0; i < 12; i++) if (i !== 9) expected.add(`1 keep/${i} old${i}`);
    assert.deepEqual(new Set(got), expected);
    assert.equal(session.retainedWaiting, 0);
    assert.equal(tb.broker.stats.publishDropped, 0);
    sub.destroy();
  } finally {
    pub?.end(true);
    await tb.close();
  }
});

test('retained messages still waiting when the client goes away are sent when its session resumes', async () => {
  const tb = await startBroker({ maxInflightMessages: 1, maxQueuedMessages: 2 });
  try {
    const sub = await retainThenSubscribe(tb, 6, { clientId: 'feed-resume', clean: false });
    await sub.nextOfType(PacketType.PUBLISH);
    // The client goes away with one in flight, two queued and three waiting.
    sub.destroy();
    const session = tb.broker.sessions.get('feed-resume')!;
    // The broker sees the connection end on a later socket event.
    for (let waited = 0; session.online && waited < 3000; waited += 5) await delay(5);
    assert.equal(session.online, false);
    assert.equal(session.retainedWaiting, 3);

    const back = await connectRaw(tb.port, { clientId: 'feed-resume', clean: false });
    const got = await receiveAndAck(back, 6, (p) => (p.dup ? `dup ${p.topic}` : p.topic));
    // keep/0 again (DUP, it was in flight), then the queue and the feed.
    const extra = await back.quiet(100);
    assert.equal(extra.filter((p) => p.type === PacketType.PUBLISH).length, 0);
    assert.deepEqual(
      new Set(got),
      new Set(['dup keep/0', 'keep/1', 'keep/2', 'keep/3', 'keep/4', 'keep/5']),
    );
    assert.equal(tb.broker.stats.publishDropped, 0);
    back.destroy();
  } finally {
    await tb.close();
  }
});
