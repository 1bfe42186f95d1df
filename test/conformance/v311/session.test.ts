import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import type { PublishPacket } from '../../../src/protocol/packets.js';
import {
  ack,
  collect,
  delay,
  type Harness,
  nextPublish,
  noPublish,
  publish,
  type RawClient,
  subscribe,
  suiteHarness,
  uid,
} from './support.js';

/** Reconnects `id` with clean session 0 on a fresh socket. */
async function resume(h: Harness, id: string): Promise<RawClient> {
  const { c, ack: a } = await h.connack({ clientId: id, clean: false });
  assert.equal(a.reasonCode, 0);
  assert.equal(a.sessionPresent, true);
  return c;
}

async function goOffline(c: RawClient): Promise<void> {
  c.destroy();
  await delay(30);
}

describe('MQTT 3.1.1 sessions (clean session 0)', () => {
  const h = suiteHarness({ maxInflightMessages: 2, maxQueuedMessages: 5 });

  test('[MQTT-3.1.2-4] [MQTT-3.1.3-2] [MQTT-4.1.0-1] subscriptions survive a disconnect with clean session 0', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/keep', 1);
    await goOffline(a);
    const b = await resume(h, id);
    const p = await h.connect();
    await publish(p, 'sess/keep', 'after reconnect', 1);
    assert.equal((await nextPublish(b, 'sess/keep')).payload.toString(), 'after reconnect');
  });

  test('[MQTT-3.1.2-5] [MQTT-4.5.0-1] QoS 1 and 2 messages are stored while offline; QoS 0 is not', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/offline', 2);
    await goOffline(a);
    const p = await h.connect();
    await publish(p, 'sess/offline', 'q0', 0);
    await publish(p, 'sess/offline', 'q1', 1);
    await publish(p, 'sess/offline', 'q2', 2);
    const b = await resume(h, id);
    const got = await collect(b, 2);
    assert.deepEqual(
      got.map((x) => [x.payload.toString(), x.qos]),
      [
        ['q1', 1],
        ['q2', 2],
      ],
    );
    await noPublish(b, 150);
  });

  test('[MQTT-3.1.2-6] clean session 1 discards the stored session and its messages', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/discard', 1);
    await goOffline(a);
    const p = await h.connect();
    await publish(p, 'sess/discard', 'dropped', 1);
    const b = await h.connect({ clientId: id, clean: true });
    await noPublish(b, 150);
    await publish(p, 'sess/discard', 'no subscription', 1);
    await noPublish(b, 150);
  });

  test('[MQTT-3.1.2-6] [MQTT-4.1.0-2] a clean session is not reused after its connection ends', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: true });
    await subscribe(a, 'sess/clean', 1);
    await goOffline(a);
    const { c, ack: a2 } = await h.connack({ clientId: id, clean: false });
    assert.equal(a2.sessionPresent, false);
    const p = await h.connect();
    await publish(p, 'sess/clean', 'x', 1);
    await noPublish(c, 150);
  });

  test('[MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.6.0-1] unacknowledged PUBLISH re-sent on reconnect with DUP 1, original ids, original order', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/redeliver', 2);
    const p = await h.connect();
    await publish(p, 'sess/redeliver', 'first', 1);
    await publish(p, 'sess/redeliver', 'second', 2);
    const original = [await nextPublish(a), await nextPublish(a)];
    await goOffline(a);
    const b = await resume(h, id);
    const again = [await nextPublish(b), await nextPublish(b)];
    assert.deepEqual(
      again.map((x) => [x.payload.toString(), x.packetId, x.dup, x.qos]),
      original.map((x) => [x.payload.toString(), x.packetId, true, x.qos]),
    );
    for (const x of again) await ack(b, x);
    await goOffline(b);
    const c = await resume(h, id);
    await noPublish(c, 150);
  });

  test('[MQTT-4.4.0-1] [MQTT-4.3.3-1] after PUBREC the broker re-sends PUBREL, not the PUBLISH', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/pubrel', 2);
    const p = await h.connect();
    await publish(p, 'sess/pubrel', 'q2', 2);
    const m = await nextPublish(a, 'sess/pubrel');
    a.send({ type: PacketType.PUBREC, packetId: m.packetId, reasonCode: 0 });
    await a.nextOfType(PacketType.PUBREL);
    await goOffline(a);
    const b = await resume(h, id);
    const rel = await b.nextOfType(PacketType.PUBREL);
    assert.equal((rel as { packetId: number }).packetId, m.packetId);
    await noPublish(b, 150);
    b.send({ type: PacketType.PUBCOMP, packetId: m.packetId, reasonCode: 0 });
    await delay(30);
    assert.equal(h.tb.broker.sessions.get(id)!.inflight.size, 0);
  });

  test('[MQTT-4.3.3-2] incoming QoS 2 state survives a reconnect: a re-sent PUBLISH is not delivered twice', async () => {
    const s = await h.connect();
    await subscribe(s, 'sess/in2', 2);
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    a.send({
      type: PacketType.PUBLISH,
      topic: 'sess/in2',
      payload: Buffer.from('once'),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 300,
    });
    await a.nextOfType(PacketType.PUBREC);
    await goOffline(a);
    const b = await resume(h, id);
    b.send({
      type: PacketType.PUBLISH,
      topic: 'sess/in2',
      payload: Buffer.from('once'),
      qos: 2,
      retain: false,
      dup: true,
      packetId: 300,
    });
    await b.nextOfType(PacketType.PUBREC);
    b.send({ type: PacketType.PUBREL, packetId: 300, reasonCode: 0 });
    await b.nextOfType(PacketType.PUBCOMP);
    await ack(s, await nextPublish(s, 'sess/in2'));
    await noPublish(s, 150);
  });

  test('queued messages beyond the inflight window are delivered in order after reconnect', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/window', 1);
    await goOffline(a);
    const p = await h.connect();
    for (let i = 0; i < 5; i++) await publish(p, 'sess/window', `m${i}`, 1);
    const b = await resume(h, id);
    await delay(80);
    assert.equal(b.received.filter((x) => x.type === PacketType.PUBLISH).length, 2, 'window of 2');
    const got = await collect(b, 5);
    assert.deepEqual(
      got.map((x) => x.payload.toString()),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
  });

  test('max_queued_messages: the newest messages are dropped and counted', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sess/full', 1);
    await goOffline(a);
    const p = await h.connect();
    const before = h.tb.broker.stats.publishDropped;
    for (let i = 0; i < 8; i++) await publish(p, 'sess/full', `m${i}`, 1);
    assert.equal(h.tb.broker.sessions.get(id)!.dropped, 3);
    assert.equal(h.tb.broker.stats.publishDropped - before, 3);
    const b = await resume(h, id);
    const got = await collect(b, 5);
    assert.deepEqual(
      got.map((x) => x.payload.toString()),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
    await noPublish(b, 100);
  });
});

describe('MQTT 3.1.1 sessions: queue bounds (oldest dropped, bytes)', () => {
  const h = suiteHarness({
    maxInflightMessages: 10,
    maxQueuedMessages: 3,
    maxQueuedBytes: 10,
    maxQueuedDrop: 'oldest',
  });

  test('max_queued_messages with maxQueuedDrop oldest: the oldest are dropped and counted', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'old/t', 1);
    await goOffline(a);
    const p = await h.connect();
    const before = h.tb.broker.stats.publishDropped;
    for (let i = 0; i < 6; i++) await publish(p, 'old/t', `${i}`, 1);
    assert.equal(h.tb.broker.sessions.get(id)!.dropped, 3);
    assert.equal(h.tb.broker.stats.publishDropped - before, 3);
    const b = await resume(h, id);
    const got: PublishPacket[] = await collect(b, 3);
    assert.deepEqual(
      got.map((x) => x.payload.toString()),
      ['3', '4', '5'],
    );
  });

  test('max_queued_bytes bounds the offline queue by payload bytes', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'bytes/t', 1);
    await goOffline(a);
    const p = await h.connect();
    await publish(p, 'bytes/t', 'aaaa', 1);
    await publish(p, 'bytes/t', 'bbbb', 1);
    await publish(p, 'bytes/t', 'cccc', 1);
    const b = await resume(h, id);
    const got = await collect(b, 2);
    assert.deepEqual(
      got.map((x) => x.payload.toString()),
      ['bbbb', 'cccc'],
    );
    await noPublish(b, 100);
  });
});
