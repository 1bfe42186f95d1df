import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import {
  assertClosed,
  delay,
  frame,
  nextPublish,
  noPublish,
  publish,
  str,
  subscribe,
  suiteHarness,
  uid,
  unsubscribe,
} from './support.js';

function unsubBytes(flags: number, id: number, topics: Array<string | Buffer>): Buffer {
  return frame(
    0xa0 | flags,
    Buffer.concat([Buffer.from([id >> 8, id & 0xff]), ...topics.map((t) => str(t))]),
  );
}

describe('MQTT 3.1.1 UNSUBSCRIBE / UNSUBACK', () => {
  const h = suiteHarness();

  test('[MQTT-3.10.1-1] UNSUBSCRIBE with fixed header flags other than 0010: closed', async () => {
    const c = await h.connect();
    c.sendRaw(unsubBytes(0x00, 1, ['a']));
    await assertClosed(c);
  });

  test('[MQTT-3.10.3-1] a topic filter that is not UTF-8: closed', async () => {
    const c = await h.connect();
    c.sendRaw(unsubBytes(0x02, 1, [Buffer.from([0xfe])]));
    await assertClosed(c);
  });

  test('[MQTT-3.10.3-2] an UNSUBSCRIBE with no topic filter: closed', async () => {
    const c = await h.connect();
    c.sendRaw(unsubBytes(0x02, 1, []));
    await assertClosed(c);
  });

  test('[MQTT-3.10.4-4] [MQTT-2.3.1-7] UNSUBACK carries the UNSUBSCRIBE packet id', async () => {
    const c = await h.connect();
    await subscribe(c, 'u/id', 0);
    c.sendRaw(unsubBytes(0x02, 0x4321, ['u/id']));
    const ack = await c.nextOfType(PacketType.UNSUBACK);
    assert.equal((ack as { packetId: number }).packetId, 0x4321);
  });

  test('[MQTT-3.10.4-5] UNSUBACK is sent even when no subscription was deleted', async () => {
    const c = await h.connect();
    c.sendRaw(unsubBytes(0x02, 9, ['never/subscribed']));
    const ack = await c.nextOfType(PacketType.UNSUBACK);
    assert.equal((ack as { packetId: number }).packetId, 9);
  });

  test('[MQTT-3.10.4-1] filters are compared character by character, wildcards included', async () => {
    const c = await h.connect();
    await subscribe(c, [
      ['cmp/a', 0],
      ['cmp/+', 0],
    ]);
    await unsubscribe(c, ['cmp/#', 'cmp/A']);
    const p = await h.connect();
    await publish(p, 'cmp/a', 'still', 0);
    assert.equal((await nextPublish(c, 'cmp/a')).payload.toString(), 'still');
    await unsubscribe(c, ['cmp/+']);
    await publish(p, 'cmp/a', 'exact only', 0);
    assert.equal((await nextPublish(c, 'cmp/a')).payload.toString(), 'exact only');
    await unsubscribe(c, ['cmp/a']);
    await publish(p, 'cmp/a', 'none', 0);
    await noPublish(c, 150);
  });

  test('[MQTT-3.10.4-2] [MQTT-3.10.4-6] after UNSUBACK no new messages are added; several filters, one UNSUBACK', async () => {
    const c = await h.connect();
    await subscribe(c, [
      ['stop/a', 1],
      ['stop/b', 1],
      ['stop/c', 1],
    ]);
    c.send({ type: PacketType.UNSUBSCRIBE, packetId: 11, topics: ['stop/a', 'stop/b'] });
    await c.nextOfType(PacketType.UNSUBACK);
    await delay(50);
    assert.equal(c.received.filter((x) => x.type === PacketType.UNSUBACK).length, 0);
    const p = await h.connect();
    await publish(p, 'stop/a', 'x', 1);
    await publish(p, 'stop/b', 'x', 1);
    await publish(p, 'stop/c', 'kept', 1);
    const got = await nextPublish(c);
    assert.equal(got.topic, 'stop/c');
    await noPublish(c, 150);
  });

  test('[MQTT-3.10.4-3] QoS 1 and 2 deliveries already started complete after unsubscribing', async () => {
    const id = uid();
    const c = await h.connect({ clientId: id });
    await subscribe(c, 'inflight/+', 2);
    const p = await h.connect();
    await publish(p, 'inflight/q1', 'one', 1);
    await publish(p, 'inflight/q2', 'two', 2);
    const m1 = await nextPublish(c, 'inflight/q1');
    const m2 = await nextPublish(c, 'inflight/q2');
    await unsubscribe(c, ['inflight/+']);
    c.send({ type: PacketType.PUBREC, packetId: m2.packetId, reasonCode: 0 });
    const rel = await c.nextOfType(PacketType.PUBREL);
    assert.equal((rel as { packetId: number }).packetId, m2.packetId);
    c.send({ type: PacketType.PUBCOMP, packetId: m2.packetId, reasonCode: 0 });
    c.send({ type: PacketType.PUBACK, packetId: m1.packetId, reasonCode: 0 });
    await delay(50);
    assert.equal(h.tb.broker.sessions.get(id)!.inflight.size, 0);
  });
});
