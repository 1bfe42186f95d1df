import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import type { PublishPacket } from '../../../src/protocol/packets.js';
import {
  ack,
  assertClosed,
  assertOpen,
  collect,
  delay,
  frame,
  nextPublish,
  noPublish,
  publish,
  str,
  subscribe,
  suiteHarness,
} from './support.js';

function pubBytes(flags: number, topic: string, id: number | undefined, payload: string): Buffer {
  const parts = [str(topic)];
  if (id !== undefined) parts.push(Buffer.from([id >> 8, id & 0xff]));
  parts.push(Buffer.from(payload));
  return frame(0x30 | flags, Buffer.concat(parts));
}

describe('MQTT 3.1.1 PUBLISH and QoS flows', () => {
  const h = suiteHarness({
    maxInflightMessages: 3,
    hooks: {
      authorizePublish: (_c, topic) => {
        if (topic === 'forbidden/topic') return false;
        if (topic === 'explode/now') throw new Error('hook failure');
        return true;
      },
    },
  });

  test('[MQTT-3.3.4-1] [MQTT-4.3.1-1] QoS 0: no acknowledgement, delivered with QoS 0 and DUP 0', async () => {
    const s = await h.connect();
    await subscribe(s, 'q0/t', 2);
    const p = await h.connect();
    p.sendRaw(pubBytes(0x00, 'q0/t', undefined, 'zero'));
    const got = await nextPublish(s, 'q0/t');
    assert.equal(got.qos, 0);
    assert.equal(got.dup, false);
    assert.equal(got.payload.toString(), 'zero');
    assert.deepEqual(
      (await p.quiet(100)).map((x) => x.type),
      [],
    );
  });

  test('[MQTT-2.3.1-5] a QoS 0 PUBLISH from the broker carries no packet identifier', async () => {
    const s = await h.connect();
    await subscribe(s, 'noid/t', 0);
    const p = await h.connect();
    await publish(p, 'noid/t', 'exact', 1);
    const got = await nextPublish(s, 'noid/t');
    // Had a packet id been written, it would show up as two extra payload bytes.
    assert.equal(got.payload.toString(), 'exact');
    assert.equal(got.packetId, 0);
  });

  test('[MQTT-3.3.4-1] [MQTT-4.3.2-2] [MQTT-2.3.1-6] QoS 1: PUBACK carries the PUBLISH packet id', async () => {
    const p = await h.connect();
    p.sendRaw(pubBytes(0x02, 'q1/t', 0x1234, 'one'));
    const a = await p.nextOfType(PacketType.PUBACK);
    assert.equal((a as { packetId: number }).packetId, 0x1234);
  });

  test('[MQTT-4.3.2-2] after PUBACK, a PUBLISH reusing the packet id is a new message (even with DUP)', async () => {
    const s = await h.connect();
    await subscribe(s, 'q1/reuse', 1);
    const p = await h.connect();
    p.sendRaw(pubBytes(0x02, 'q1/reuse', 7, 'first'));
    await p.nextOfType(PacketType.PUBACK);
    p.sendRaw(pubBytes(0x0a, 'q1/reuse', 7, 'second'));
    await p.nextOfType(PacketType.PUBACK);
    const got = await collect(s, 2);
    assert.deepEqual(
      got.map((x) => x.payload.toString()),
      ['first', 'second'],
    );
  });

  test('[MQTT-3.3.4-1] [MQTT-4.3.3-2] [MQTT-2.3.1-6] QoS 2: PUBREC, then PUBCOMP for PUBREL, same packet id', async () => {
    const p = await h.connect();
    p.sendRaw(pubBytes(0x04, 'q2/t', 0x0102, 'two'));
    const rec = await p.nextOfType(PacketType.PUBREC);
    assert.equal((rec as { packetId: number }).packetId, 0x0102);
    p.send({ type: PacketType.PUBREL, packetId: 0x0102, reasonCode: 0 });
    const comp = await p.nextOfType(PacketType.PUBCOMP);
    assert.equal((comp as { packetId: number }).packetId, 0x0102);
  });

  test('[MQTT-4.3.3-2] a QoS 2 PUBLISH re-sent before PUBREL is acknowledged again but delivered once', async () => {
    const s = await h.connect();
    await subscribe(s, 'q2/once', 2);
    const p = await h.connect();
    p.sendRaw(pubBytes(0x04, 'q2/once', 42, 'exactly once'));
    await p.nextOfType(PacketType.PUBREC);
    p.sendRaw(pubBytes(0x0c, 'q2/once', 42, 'exactly once'));
    await p.nextOfType(PacketType.PUBREC);
    p.sendRaw(pubBytes(0x0c, 'q2/once', 42, 'exactly once'));
    await p.nextOfType(PacketType.PUBREC);
    p.send({ type: PacketType.PUBREL, packetId: 42, reasonCode: 0 });
    await p.nextOfType(PacketType.PUBCOMP);
    const got = await nextPublish(s, 'q2/once');
    await ack(s, got);
    await noPublish(s, 200, 'q2/once');
    // After PUBCOMP the same id starts a new message.
    p.sendRaw(pubBytes(0x04, 'q2/once', 42, 'new one'));
    await p.nextOfType(PacketType.PUBREC);
    p.send({ type: PacketType.PUBREL, packetId: 42, reasonCode: 0 });
    await p.nextOfType(PacketType.PUBCOMP);
    assert.equal((await nextPublish(s, 'q2/once')).payload.toString(), 'new one');
  });

  test('[MQTT-3.3.1-3] the DUP flag of an incoming PUBLISH is not propagated', async () => {
    const s = await h.connect();
    await subscribe(s, 'dup/t', 1);
    const p = await h.connect();
    p.sendRaw(pubBytes(0x0a, 'dup/t', 9, 'was dup'));
    await p.nextOfType(PacketType.PUBACK);
    const got = await nextPublish(s, 'dup/t');
    assert.equal(got.dup, false);
    await ack(s, got);
  });

  test('[MQTT-3.3.1-2] [MQTT-4.3.1-1] a QoS 0 PUBLISH with DUP set closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(pubBytes(0x08, 'bad/dup', undefined, 'x'));
    await assertClosed(p);
  });

  test('[MQTT-3.3.1-4] a PUBLISH with QoS 3 closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(pubBytes(0x06, 'bad/qos', 1, 'x'));
    await assertClosed(p);
  });

  test('[MQTT-2.3.1-1] a QoS 1 PUBLISH with packet identifier 0 closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(pubBytes(0x02, 'bad/id', 0, 'x'));
    await assertClosed(p);
  });

  test('[MQTT-3.3.2-1] a PUBLISH topic name that is not UTF-8 closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(frame(0x30, Buffer.concat([str(Buffer.from([0x61, 0xc3])), Buffer.from('x')])));
    await assertClosed(p);
  });

  test('[MQTT-3.3.2-1] a PUBLISH too short to hold its topic name closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(frame(0x30, [0x00]));
    await assertClosed(p);
  });

  test('[MQTT-3.3.2-2] [MQTT-4.7.1-1] a topic name with a wildcard closes the connection', async () => {
    for (const topic of ['a/+', 'a/#', '+', 'a+b']) {
      const p = await h.connect();
      p.sendRaw(pubBytes(0x00, topic, undefined, 'x'));
      await assertClosed(p);
    }
  });

  test('[MQTT-3.3.2-3] [MQTT-4.5.0-1] the topic name sent matches the subscription filter', async () => {
    const s = await h.connect();
    await subscribe(s, 'match/+/leaf', 1);
    const p = await h.connect();
    await publish(p, 'match/other/branch', 'no', 1);
    await publish(p, 'match/x/leaf', 'yes', 1);
    const got = await nextPublish(s);
    assert.equal(got.topic, 'match/x/leaf');
    await ack(s, got);
    await noPublish(s, 100);
  });

  test('[MQTT-3.8.4-6] delivered QoS is the minimum of published and granted QoS', async () => {
    const s0 = await h.connect();
    const s1 = await h.connect();
    const s2 = await h.connect();
    await subscribe(s0, 'min/t', 0);
    await subscribe(s1, 'min/t', 1);
    await subscribe(s2, 'min/t', 2);
    const p = await h.connect();
    for (const q of [0, 1, 2] as const) {
      await publish(p, 'min/t', `q${q}`, q);
      for (const [s, granted] of [
        [s0, 0],
        [s1, 1],
        [s2, 2],
      ] as const) {
        const got = await nextPublish(s, 'min/t');
        assert.equal(got.qos, Math.min(q, granted), `published ${q}, granted ${granted}`);
        await ack(s, got);
      }
    }
  });

  test('[MQTT-4.3.2-1] [MQTT-4.3.3-1] [MQTT-2.3.1-4] broker-sent QoS 1/2 PUBLISH have distinct non-zero ids, DUP 0', async () => {
    const s = await h.connect();
    await subscribe(s, 'ids/+', 2);
    const p = await h.connect();
    await publish(p, 'ids/a', '1', 1);
    await publish(p, 'ids/b', '2', 2);
    await publish(p, 'ids/c', '3', 1);
    const got = [await nextPublish(s), await nextPublish(s), await nextPublish(s)];
    const ids = got.map((x) => x.packetId);
    assert.ok(ids.every((id) => id > 0));
    assert.equal(new Set(ids).size, 3);
    assert.ok(got.every((x) => !x.dup));
    // QoS 2: PUBREC is answered with PUBREL carrying the same id.
    s.send({ type: PacketType.PUBREC, packetId: got[1]!.packetId, reasonCode: 0 });
    const rel = await s.nextOfType(PacketType.PUBREL);
    assert.equal((rel as { packetId: number }).packetId, got[1]!.packetId);
    s.send({ type: PacketType.PUBCOMP, packetId: got[1]!.packetId, reasonCode: 0 });
    s.send({ type: PacketType.PUBACK, packetId: got[0]!.packetId, reasonCode: 0 });
    s.send({ type: PacketType.PUBACK, packetId: got[2]!.packetId, reasonCode: 0 });
    await assertOpen(s);
  });

  test('inflight window: at most maxInflightMessages unacknowledged, the rest queued in order; ids never reused while in flight', async () => {
    const s = await h.connect();
    await subscribe(s, 'window/t', 1);
    const p = await h.connect();
    for (let i = 0; i < 8; i++) await publish(p, 'window/t', `m${i}`, 1);
    await delay(100);
    const first = s.received.filter((x) => x.type === PacketType.PUBLISH) as PublishPacket[];
    assert.equal(first.length, 3, 'window of 3');
    const inflight = new Set<number>();
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      const m = await nextPublish(s, 'window/t');
      assert.ok(!inflight.has(m.packetId), `packet id ${m.packetId} reused while in flight`);
      inflight.add(m.packetId);
      order.push(m.payload.toString());
      if (inflight.size === 3 || i === 7) {
        // Acknowledge the oldest to open the window by one.
        const oldest = [...inflight][0]!;
        inflight.delete(oldest);
        s.send({ type: PacketType.PUBACK, packetId: oldest, reasonCode: 0 });
      }
    }
    assert.deepEqual(order, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  test('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages on a topic reach subscribers in the order published', async () => {
    const s = await h.connect();
    await subscribe(s, 'order/t', 2);
    const s0 = await h.connect();
    await subscribe(s0, 'order/t', 0);
    const p = await h.connect();
    const n = 40;
    for (let i = 0; i < n; i++) {
      p.send({
        type: PacketType.PUBLISH,
        topic: 'order/t',
        payload: Buffer.from(String(i)),
        qos: 1,
        retain: false,
        dup: false,
        packetId: i + 1,
      });
    }
    const got = await collect(s, n);
    assert.deepEqual(
      got.map((x) => Number(x.payload.toString())),
      Array.from({ length: n }, (_, i) => i),
    );
    const got0 = await collect(s0, n);
    assert.deepEqual(
      got0.map((x) => Number(x.payload.toString())),
      Array.from({ length: n }, (_, i) => i),
    );
  });

  test('[MQTT-3.3.5-2] an unauthorized PUBLISH is acknowledged normally and not delivered', async () => {
    const s = await h.connect();
    await subscribe(s, 'forbidden/#', 2);
    const p = await h.connect();
    await publish(p, 'forbidden/topic', 'q1', 1);
    await publish(p, 'forbidden/topic', 'q2', 2);
    await noPublish(s, 150);
    await assertOpen(p);
  });

  test('[MQTT-4.8.0-2] an authorizePublish hook that throws closes only that client', async () => {
    const other = await h.connect();
    const p = await h.connect();
    p.sendRaw(pubBytes(0x02, 'explode/now', 3, 'x'));
    await assertClosed(p);
    await assertOpen(other);
  });

  test('PUBACK/PUBREC/PUBCOMP for unknown packet ids are ignored', async () => {
    const s = await h.connect();
    s.send({ type: PacketType.PUBACK, packetId: 999, reasonCode: 0 });
    s.send({ type: PacketType.PUBCOMP, packetId: 998, reasonCode: 0 });
    s.send({ type: PacketType.PUBREC, packetId: 997, reasonCode: 0 });
    await s.nextOfType(PacketType.PUBREL);
    await assertOpen(s);
  });
});
