import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import type { SubackPacket } from '../../../src/protocol/packets.js';
import {
  ack,
  assertClosed,
  assertOpen,
  collect,
  frame,
  nextPublish,
  noPublish,
  publish,
  str,
  subscribe,
  suiteHarness,
} from './support.js';

function subBytes(flags: number, id: number, entries: Array<[string | Buffer, number]>): Buffer {
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff])];
  for (const [t, o] of entries) parts.push(str(t), Buffer.from([o]));
  return frame(0x80 | flags, Buffer.concat(parts));
}

describe('MQTT 3.1.1 SUBSCRIBE / SUBACK', () => {
  const h = suiteHarness({
    maxTopicLevels: 8,
    hooks: {
      authorizeSubscribe: (_c, sub) => {
        if (sub.topic === 'test/nosubscribe') return false;
        if (sub.topic.startsWith('capped/')) return 1;
        if (sub.topic === 'throw/please') throw new Error('hook failure');
        return true;
      },
    },
  });

  test('[MQTT-3.8.1-1] [MQTT-2.2.2-2] SUBSCRIBE with fixed header flags other than 0010: closed', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x00, 1, [['a/b', 0]]));
    await assertClosed(c);
  });

  test('[MQTT-3.8.3-1] a topic filter that is not UTF-8: closed', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x02, 1, [[Buffer.from([0x61, 0xff]), 0]]));
    await assertClosed(c);
  });

  test('[MQTT-3.8.3-3] a SUBSCRIBE with no topic filter: closed', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x02, 1, []));
    await assertClosed(c);
  });

  test('[MQTT-3-8.3-4] reserved bits in the requested QoS byte: closed', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x02, 1, [['a/b', 0x04]]));
    await assertClosed(c);
  });

  test('[MQTT-3-8.3-4] requested QoS 3: closed', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x02, 1, [['a/b', 3]]));
    await assertClosed(c);
  });

  test('[MQTT-2.3.1-1] SUBSCRIBE with packet identifier 0: closed', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x02, 0, [['a/b', 0]]));
    await assertClosed(c);
  });

  test('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.3.1-7] SUBACK answers with the SUBSCRIBE packet id', async () => {
    const c = await h.connect();
    c.sendRaw(subBytes(0x02, 0xbeef, [['sid/x', 1]]));
    const ack = await c.nextOfType<SubackPacket>(PacketType.SUBACK);
    assert.equal(ack.packetId, 0xbeef);
    assert.deepEqual(ack.reasonCodes, [1]);
  });

  test('[MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] several filters: one SUBACK, one code per filter, in order', async () => {
    const c = await h.connect();
    const codes = await subscribe(c, [
      ['multi/2', 2],
      ['multi/0', 0],
      ['test/nosubscribe', 1],
      ['multi/1', 1],
      ['capped/x', 2],
    ]);
    assert.deepEqual(codes, [2, 0, 0x80, 1, 1]);
    const p = await h.connect();
    await publish(p, 'multi/2', 'a', 2);
    await publish(p, 'multi/0', 'b', 2);
    await publish(p, 'multi/1', 'c', 2);
    await publish(p, 'test/nosubscribe', 'x', 2);
    await publish(p, 'capped/x', 'd', 2);
    const got = await collect(c, 4);
    assert.deepEqual(
      got.map((x) => [x.topic, x.qos]),
      [
        ['multi/2', 2],
        ['multi/0', 0],
        ['multi/1', 1],
        ['capped/x', 1],
      ],
    );
  });

  test('[MQTT-3.9.3-2] SUBACK codes are only 0x00, 0x01, 0x02 or 0x80', async () => {
    const c = await h.connect();
    const codes = await subscribe(c, [
      ['codes/a', 0],
      ['codes/b', 1],
      ['codes/c', 2],
      ['test/nosubscribe', 2],
    ]);
    for (const code of codes) assert.ok([0, 1, 2, 0x80].includes(code), `code ${code}`);
  });

  for (const filter of ['a/#/b', 'a#', 'a/b+', '+a/b', '']) {
    test(`[MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1] [MQTT-4.8.0-1] invalid filter ${JSON.stringify(filter)} closes the connection`, async () => {
      const c = await h.connect();
      c.sendRaw(
        subBytes(0x02, 1, [
          ['ok/+', 0],
          [filter, 0],
        ]),
      );
      await assertClosed(c);
      assert.equal(c.received.filter((x) => x.type === PacketType.SUBACK).length, 0);
    });
  }

  test('[MQTT-3.8.4-4] filters the broker refuses get 0x80 while the others in the SUBSCRIBE succeed', async () => {
    const c = await h.connect();
    const deep = Array.from({ length: 9 }, (_, i) => `l${i}`).join('/');
    const codes = await subscribe(c, [
      [deep, 0],
      ['test/nosubscribe', 2],
      ['ok/+/#', 1],
    ]);
    assert.deepEqual(codes, [0x80, 0x80, 1]);
    await assertOpen(c);
  });

  test('subscriptions refused by the authorizeSubscribe hook get 0x80 and receive nothing', async () => {
    const c = await h.connect();
    assert.deepEqual(await subscribe(c, 'test/nosubscribe', 2), [0x80]);
    const p = await h.connect();
    await publish(p, 'test/nosubscribe', 'nope', 1);
    await noPublish(c, 150);
  });

  test('[MQTT-4.8.0-2] an authorizeSubscribe hook that throws closes only that client', async () => {
    const other = await h.connect();
    const c = await h.connect();
    c.send({
      type: PacketType.SUBSCRIBE,
      packetId: 5,
      subscriptions: [
        {
          topic: 'throw/please',
          qos: 0,
          noLocal: false,
          retainAsPublished: false,
          retainHandling: 0,
        },
      ],
    });
    await assertClosed(c);
    await assertOpen(other);
  });

  test('filters deeper than maxTopicLevels fail with 0x80', async () => {
    const c = await h.connect();
    const deep = Array.from({ length: 9 }, (_, i) => `l${i}`).join('/');
    assert.deepEqual(await subscribe(c, [[deep, 0]]), [0x80]);
    assert.deepEqual(await subscribe(c, [['l0/l1/l2/l3/l4/l5/l6/l7', 0]]), [0]);
  });

  test('[MQTT-3.8.4-3] an identical filter replaces the subscription (new QoS), no duplicate delivery', async () => {
    const c = await h.connect();
    await subscribe(c, 'replace/t', 0);
    await subscribe(c, 'replace/t', 2);
    const p = await h.connect();
    await publish(p, 'replace/t', 'x', 2);
    const got = await nextPublish(c, 'replace/t');
    assert.equal(got.qos, 2);
    await ack(c, got);
    await noPublish(c, 150);
  });

  test('[MQTT-3.8.4-3] replacing a subscription does not interrupt the flow of publications', async () => {
    const c = await h.connect();
    await subscribe(c, 'flow/t', 1);
    const p = await h.connect();
    const n = 30;
    for (let i = 0; i < n; i++) {
      p.send({
        type: PacketType.PUBLISH,
        topic: 'flow/t',
        payload: Buffer.from(String(i)),
        qos: 1,
        retain: false,
        dup: false,
        packetId: i + 1,
      });
      if (i === n / 2) {
        c.send({
          type: PacketType.SUBSCRIBE,
          packetId: 77,
          subscriptions: [
            {
              topic: 'flow/t',
              qos: 1,
              noLocal: false,
              retainAsPublished: false,
              retainHandling: 0,
            },
          ],
        });
      }
    }
    const got = await collect(c, n);
    assert.deepEqual(
      got.map((x) => Number(x.payload.toString())),
      Array.from({ length: n }, (_, i) => i),
    );
  });

  test('[MQTT-3.3.5-1] overlapping subscriptions: one copy at the highest granted QoS', async () => {
    const c = await h.connect();
    await subscribe(c, [
      ['over/+', 1],
      ['over/#', 2],
      ['over/a', 0],
      ['#', 0],
    ]);
    const p = await h.connect();
    await publish(p, 'over/a', 'once', 2);
    const got = await nextPublish(c, 'over/a');
    assert.equal(got.qos, 2);
    await ack(c, got);
    await noPublish(c, 150, 'over/a');
  });
});
