import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import {
  assertClosed,
  assertOpen,
  frame,
  nextPublish,
  noPublish,
  publish,
  str,
  subscribe,
  suiteHarness,
} from './support.js';

describe('MQTT 3.1.1 topic names, filters and $ topics', () => {
  const h = suiteHarness({ sysInterval: 1, maxTopicLevels: 10 });

  test('[MQTT-4.7.2-1] filters starting with a wildcard do not match $ topics', async () => {
    const c = await h.connect();
    await subscribe(c, [
      ['#', 0],
      ['+/broker/uptime', 0],
      ['+/+/+', 0],
    ]);
    await noPublish(c, 1300);
  });

  test('$SYS topics are published every sys_interval and matched by $SYS filters', async () => {
    const c = await h.connect();
    await subscribe(c, '$SYS/broker/clients/connected', 0);
    const first = await nextPublish(c, '$SYS/broker/clients/connected');
    assert.equal(first.retain, true);
    await h.connect();
    const next = await nextPublish(c, '$SYS/broker/clients/connected', 2500);
    assert.equal(next.retain, false);
    assert.ok(Number(next.payload.toString()) > Number(first.payload.toString()));
    const all = await h.connect();
    await subscribe(all, '$SYS/#', 0);
    assert.ok((await nextPublish(all)).topic.startsWith('$SYS/'));
  });

  test('clients cannot publish to $SYS topics (acknowledged, not delivered, not retained)', async () => {
    const c = await h.connect();
    await subscribe(c, '$SYS/fake/#', 0);
    const p = await h.connect();
    await publish(p, '$SYS/fake/x', 'spoof', 1, true);
    await noPublish(c, 150);
    assert.equal(h.tb.broker.retained.get('$SYS/fake/x'), undefined);
    await assertOpen(p);
  });

  test('[MQTT-4.7.1-2] "#" matches the parent level and every level below', async () => {
    const c = await h.connect();
    await subscribe(c, 'sport/tennis/#', 0);
    const p = await h.connect();
    for (const t of [
      'sport/tennis',
      'sport/tennis/p1',
      'sport/tennis/p1/r',
      'sport/tennisx',
      'sport',
    ])
      await publish(p, t, t, 0);
    const got = [await nextPublish(c), await nextPublish(c), await nextPublish(c)];
    assert.deepEqual(
      got.map((x) => x.topic),
      ['sport/tennis', 'sport/tennis/p1', 'sport/tennis/p1/r'],
    );
    await noPublish(c, 100);
  });

  test('[MQTT-4.7.1-3] [MQTT-3.8.3-2] "+" (wildcards are supported) matches exactly one level, including an empty one', async () => {
    const c = await h.connect();
    await subscribe(c, 'plus/+', 0);
    await subscribe(c, '+/x', 0);
    const p = await h.connect();
    for (const t of ['plus/a', 'plus/', 'plus', 'plus/a/b', '/x', 'q/x']) await publish(p, t, t, 0);
    const got = [
      await nextPublish(c),
      await nextPublish(c),
      await nextPublish(c),
      await nextPublish(c),
    ];
    assert.deepEqual(
      got.map((x) => x.topic),
      ['plus/a', 'plus/', '/x', 'q/x'],
    );
    await noPublish(c, 100);
  });

  test('[MQTT-4.7.3-1] a PUBLISH with an empty topic name closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(frame(0x30, Buffer.concat([str(''), Buffer.from('x')])));
    await assertClosed(p);
  });

  test('[MQTT-4.7.3-2] [MQTT-1.5.3-2] a topic name containing U+0000 closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(frame(0x30, Buffer.concat([str(Buffer.from([0x61, 0x00, 0x62])), Buffer.from('x')])));
    await assertClosed(p);
  });

  test('[MQTT-1.5.3-1] a topic name with an encoded surrogate (ill-formed UTF-8) closes the connection', async () => {
    const p = await h.connect();
    p.sendRaw(
      frame(0x30, Buffer.concat([str(Buffer.from([0x61, 0xed, 0xa0, 0x80])), Buffer.from('x')])),
    );
    await assertClosed(p);
  });

  test('[MQTT-1.5.3-3] a leading U+FEFF is part of the topic, not stripped', async () => {
    const c = await h.connect();
    await subscribe(c, 'bom', 0);
    await subscribe(c, '\uFEFFbom', 0);
    const p = await h.connect();
    await publish(p, '\uFEFFbom', 'with bom', 0);
    const got = await nextPublish(c);
    assert.equal(got.topic, '\uFEFFbom');
    await noPublish(c, 100);
  });

  test('[MQTT-4.7.3-3] [MQTT-4.7.3-4] long and non-ASCII topics match byte for byte, without normalization', async () => {
    const c = await h.connect();
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    await subscribe(c, composed, 0);
    await subscribe(c, 'Case/Topic', 0);
    const long = `long/${'x'.repeat(60000)}`;
    await subscribe(c, long, 0);
    const p = await h.connect();
    await publish(p, decomposed, 'nfd', 0);
    await publish(p, 'case/topic', 'lower', 0);
    await publish(p, 'Case//Topic', 'double slash', 0);
    await publish(p, composed, 'nfc', 0);
    await publish(p, long, 'long', 0);
    assert.equal((await nextPublish(c)).payload.toString(), 'nfc');
    assert.equal((await nextPublish(c)).topic, long);
    await noPublish(c, 100);
  });

  test('maxTopicLevels: a QoS 0 PUBLISH too deep is dropped and counted; the connection stays', async () => {
    const c = await h.connect();
    await subscribe(c, 'd/#', 0);
    const p = await h.connect();
    const before = h.tb.broker.stats.topicLevelsExceeded;
    const deep = `d/${Array.from({ length: 12 }, (_, i) => i).join('/')}`;
    await publish(p, deep, 'too deep', 0);
    await publish(p, 'd/ok', 'fine', 1);
    assert.equal((await nextPublish(c)).topic, 'd/ok');
    assert.equal(h.tb.broker.stats.topicLevelsExceeded, before + 1);
    await assertOpen(p);
  });

  for (const qos of [1, 2] as const) {
    test(`maxTopicLevels: a QoS ${qos} PUBLISH too deep closes the connection, unacknowledged, and is counted`, async () => {
      const c = await h.connect();
      await subscribe(c, 'd/#', 0);
      const p = await h.connect();
      const before = h.tb.broker.stats.topicLevelsExceeded;
      const errors = h.tb.broker.stats.protocolErrors;
      const deep = `d/${Array.from({ length: 12 }, (_, i) => i).join('/')}`;
      p.send({
        type: PacketType.PUBLISH,
        topic: deep,
        payload: Buffer.from('too deep'),
        qos,
        retain: false,
        dup: false,
        packetId: 5,
      });
      await assertClosed(p);
      assert.deepEqual(
        p.received.map((x) => x.type),
        [],
        'no PUBACK/PUBREC for a message the broker drops',
      );
      assert.equal(h.tb.broker.stats.topicLevelsExceeded, before + 1);
      assert.equal(h.tb.broker.stats.protocolErrors, errors + 1);
      await noPublish(c, 100);
    });
  }
});
