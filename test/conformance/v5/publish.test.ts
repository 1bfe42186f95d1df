/**
 * MQTT 5.0 conformance, PUBLISH and its acknowledgements (spec 3.3-3.7, 4.3-4.6,
 * 4.9, 4.13) over real TCP with the raw-bytes client.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, ReasonCode } from '../../../src/protocol/constants.js';
import type { PubackPacket, PublishPacket } from '../../../src/protocol/packets.js';
import { startBroker, suiteBroker } from '../../helpers/broker.js';
import { delay, RawClient } from '../../helpers/raw-client.js';
import { nextPublish, publish, serverDisconnect, subscribe, uniq, v5 } from './support.js';

type Ack = PubackPacket;
const pub = (
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  packetId = 0,
  extra: Partial<PublishPacket> = {},
): PublishPacket => ({
  type: PacketType.PUBLISH,
  topic,
  payload: Buffer.from(payload),
  qos,
  retain: false,
  dup: false,
  packetId,
  ...extra,
});

describe('MQTT 5 PUBLISH', () => {
  const tb = suiteBroker({ receiveMaximum: 3, maxQueuedMessages: 2 });

  test('[MQTT-3.3.1-1] [MQTT-4.4.0-1] unacknowledged messages are re-sent on resume with DUP 1 and the same packet id', async () => {
    const t = uniq('dup');
    const a = await v5(tb.port, { clientId: 'dup1', properties: { sessionExpiryInterval: 30 } });
    await subscribe(a, [t]);
    const p = await v5(tb.port);
    await publish(p, t, 'm', 1);
    const first = await a.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(first.dup, false);
    a.destroy();
    await delay(50);
    const b = await v5(tb.port, {
      clientId: 'dup1',
      clean: false,
      properties: { sessionExpiryInterval: 30 },
    });
    const again = await b.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(again.dup, true);
    assert.equal(again.packetId, first.packetId);
    b.send({ type: PacketType.PUBACK, packetId: again.packetId, reasonCode: 0 });
    assert.equal((await b.quiet(300)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    b.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.1-2] DUP 1 on a QoS 0 PUBLISH is malformed', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0x38, 5, 0, 1, 0x74, 0, 0x78]);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.3.1-3] [MQTT-4.3.2-2] [MQTT-4.3.3-2] the DUP flag is not propagated to subscribers', async () => {
    const t = uniq('dupfwd');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const p = await v5(tb.port);
    await publish(p, t, 'x', 1, { dup: true });
    const m = await nextPublish(s);
    assert.equal(m.dup, false);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.1-4] QoS 3 is malformed: the connection is closed', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0x36, 7, 0, 1, 0x74, 0, 1, 0, 0x78]);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.3.1-5] [MQTT-3.3.1-8] a retained message replaces the previous one; RETAIN 0 leaves it', async () => {
    const t = uniq('ret');
    const p = await v5(tb.port);
    await publish(p, t, 'one', 1, { retain: true });
    await publish(p, t, 'two', 1, { retain: true });
    await publish(p, t, 'not retained', 1);
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const m = await nextPublish(s);
    assert.equal(m.payload.toString(), 'two');
    assert.equal(m.retain, true);
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.1-6] [MQTT-3.3.1-7] an empty retained payload removes the retained message and is not stored', async () => {
    const t = uniq('retdel');
    const p = await v5(tb.port);
    await publish(p, t, 'x', 1, { retain: true });
    await publish(p, t, '', 1, { retain: true });
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    assert.equal((await s.quiet(200)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11] Retain Handling 0 / 1 / 2', async () => {
    const t = uniq('rh');
    const p = await v5(tb.port);
    await publish(p, t, 'r', 1, { retain: true });
    const s = await v5(tb.port);
    await subscribe(s, [{ topic: t, retainHandling: 2 }]);
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    await subscribe(s, [{ topic: `${t}/#`, retainHandling: 1 }]);
    assert.equal((await nextPublish(s)).payload.toString(), 'r');
    await subscribe(s, [{ topic: `${t}/#`, retainHandling: 1 }]);
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    await subscribe(s, [{ topic: `${t}/#`, retainHandling: 0 }]);
    assert.equal((await nextPublish(s)).retain, true);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.1-12] [MQTT-3.3.1-13] Retain As Published 0 clears RETAIN on forwarding, 1 keeps it', async () => {
    const t = uniq('rap');
    const s0 = await v5(tb.port);
    const s1 = await v5(tb.port);
    await subscribe(s0, [{ topic: t, retainAsPublished: false }]);
    await subscribe(s1, [{ topic: t, retainAsPublished: true }]);
    const p = await v5(tb.port);
    await publish(p, t, 'x', 1, { retain: true });
    assert.equal((await nextPublish(s0)).retain, false);
    assert.equal((await nextPublish(s1)).retain, true);
    for (const c of [s0, s1, p]) c.destroy();
  });

  test('[MQTT-3.3.2-1] [MQTT-3.3.2-2] [MQTT-4.7.0-1] a topic name with a wildcard closes the connection', async () => {
    const c = await v5(tb.port);
    c.send(pub('a/+', 'x', 0));
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.3.2-3] the topic name sent matches the subscription filter', async () => {
    const t = uniq('match');
    const s = await v5(tb.port);
    await subscribe(s, [`${t}/+/c`]);
    const p = await v5(tb.port);
    await publish(p, `${t}/b/c`, 'x', 0);
    assert.equal((await nextPublish(s)).topic, `${t}/b/c`);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20] properties are forwarded unaltered and user properties in order', async () => {
    const t = uniq('props');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const p = await v5(tb.port);
    const props = {
      payloadFormatIndicator: 1,
      responseTopic: 'reply/to',
      correlationData: Buffer.from([0, 1, 2, 255]),
      contentType: 'application/json',
      userProperties: [
        ['z', '1'],
        ['a', '2'],
        ['z', '3'],
      ] as Array<[string, string]>,
    };
    await publish(p, t, '{"a":1}', 1, { properties: props });
    const m = await nextPublish(s);
    assert.equal(m.properties?.payloadFormatIndicator, 1);
    assert.equal(m.properties?.responseTopic, 'reply/to');
    assert.deepEqual(m.properties?.correlationData, props.correlationData);
    assert.equal(m.properties?.contentType, 'application/json');
    assert.deepEqual(m.properties?.userProperties, props.userProperties);
    s.destroy();
    p.destroy();
  });

  test('Payload Format Indicator 1 with a non-UTF-8 payload: PUBACK 0x99, not delivered', async () => {
    const t = uniq('pfi');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const p = await v5(tb.port);
    const code = await publish(p, t, Buffer.from([0xff, 0xfe]), 1, {
      properties: { payloadFormatIndicator: 1 },
    });
    assert.equal(code, ReasonCode.PayloadFormatInvalid);
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.2-5] [MQTT-3.3.2-6] an expired message is not delivered to a returning subscriber; a live one carries its remaining lifetime', async () => {
    const t = uniq('exp');
    const a = await v5(tb.port, { clientId: 'exp1', properties: { sessionExpiryInterval: 30 } });
    await subscribe(a, [t]);
    a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await a.waitClosed();
    const p = await v5(tb.port);
    await publish(p, t, 'short', 1, { properties: { messageExpiryInterval: 1 } });
    await publish(p, t, 'long', 1, { properties: { messageExpiryInterval: 60 } });
    await delay(1200);
    const b = await v5(tb.port, {
      clientId: 'exp1',
      clean: false,
      properties: { sessionExpiryInterval: 30 },
    });
    const m = await nextPublish(b);
    assert.equal(m.payload.toString(), 'long');
    assert.ok(
      m.properties!.messageExpiryInterval! <= 59 && m.properties!.messageExpiryInterval! >= 57,
    );
    assert.equal((await b.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    b.destroy();
    p.destroy();
  });

  test('expired retained messages are dropped from the retained store', async () => {
    const t = uniq('expret');
    const p = await v5(tb.port);
    await publish(p, t, 'soon gone', 1, { retain: true, properties: { messageExpiryInterval: 1 } });
    await delay(1100);
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.2-7] topic alias mappings do not carry over to a new connection', async () => {
    const a = await v5(tb.port, { clientId: 'alias7' });
    await publish(a, 'al/t', 'x', 1, { properties: { topicAlias: 1 } });
    await publish(a, '', 'y', 1, { properties: { topicAlias: 1 } });
    a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await a.waitClosed();
    const b = await v5(tb.port, { clientId: 'alias7' });
    b.send(pub('', 'z', 0, 0, { properties: { topicAlias: 1 } }));
    assert.equal(await serverDisconnect(b), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.3.2-8] topic alias 0: DISCONNECT 0x94', async () => {
    const c = await v5(tb.port);
    c.send(pub('t', 'x', 0, 0, { properties: { topicAlias: 0 } }));
    assert.equal(await serverDisconnect(c), ReasonCode.TopicAliasInvalid);
  });

  test('[MQTT-3.3.2-13] [MQTT-3.3.2-14] a Response Topic with a wildcard is a protocol error', async () => {
    const c = await v5(tb.port);
    c.send(pub('t', 'x', 0, 0, { properties: { responseTopic: 'reply/#' } }));
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.3.4-1] [MQTT-4.3.2-4] [MQTT-4.3.3-8] [MQTT-4.3.3-11] QoS 1 gets PUBACK, QoS 2 gets PUBREC then PUBCOMP, same packet ids', async () => {
    const t = uniq('acks');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const c = await v5(tb.port);
    c.send(pub(t, 'a', 1, 11));
    assert.equal((await c.nextOfType<Ack>(PacketType.PUBACK)).packetId, 11);
    c.send(pub(t, 'b', 2, 12));
    assert.equal((await c.nextOfType<Ack>(PacketType.PUBREC)).packetId, 12);
    c.send({ type: PacketType.PUBREL, packetId: 12, reasonCode: 0 });
    assert.equal((await c.nextOfType<Ack>(PacketType.PUBCOMP)).packetId, 12);
    s.destroy();
    c.destroy();
  });

  test('[MQTT-3.3.4-2] overlapping subscriptions: one copy per subscription at its own QoS, so one at the highest (as Mosquitto)', async () => {
    const t = uniq('overlap');
    const s = await v5(tb.port);
    await subscribe(s, [
      { topic: `${t}/#`, qos: 1 },
      { topic: `${t}/+`, qos: 2 },
      { topic: `${t}/x`, qos: 0 },
    ]);
    const p = await v5(tb.port);
    await publish(p, `${t}/x`, 'm', 2);
    const copies = [await nextPublish(s), await nextPublish(s), await nextPublish(s)];
    assert.deepEqual(copies.map((c) => c.qos).sort(), [0, 1, 2]);
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.4-3] [MQTT-3.3.4-5] each copy carries the Subscription Identifier of its own subscription', async () => {
    const t = uniq('subid');
    const s = await v5(tb.port);
    await subscribe(s, [`${t}/#`], { subscriptionIdentifiers: [7] });
    await subscribe(s, [`${t}/+`], { subscriptionIdentifiers: [42] });
    await subscribe(s, [`${t}/a`]);
    const p = await v5(tb.port);
    await publish(p, `${t}/a`, 'm', 0);
    const copies = [await nextPublish(s), await nextPublish(s), await nextPublish(s)];
    assert.deepEqual(
      copies.map((m) => JSON.stringify(m.properties?.subscriptionIdentifiers ?? [])).sort(),
      ['[42]', '[7]', '[]'],
    );
    await publish(p, `${t}/a`, 'again', 0);
    const second = [await nextPublish(s), await nextPublish(s), await nextPublish(s)];
    assert.deepEqual(
      second.map((m) => JSON.stringify(m.properties?.subscriptionIdentifiers ?? [])).sort(),
      ['[42]', '[7]', '[]'],
      'the same identifiers on every message',
    );
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.4-2] a 3.1.1 subscriber still gets one copy at the highest QoS of its overlapping subscriptions', async () => {
    const t = uniq('overlap3');
    const s = await RawClient.connect(tb.port, 4);
    await s.handshake({ clientId: uniq('o3').replace('/', '') });
    s.send({
      type: 8,
      packetId: 1,
      subscriptions: [`${t}/#`, `${t}/+`].map((topic, i) => ({
        topic,
        qos: (i + 1) as 1 | 2,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0 as const,
      })),
    });
    await s.nextOfType(9);
    const p = await v5(tb.port);
    await publish(p, `${t}/x`, 'm', 2);
    assert.equal((await s.nextOfType<PublishPacket>(3)).qos, 2);
    assert.equal((await s.quiet(150)).filter((x) => x.type === 3).length, 0);
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.3.4-6] a Subscription Identifier in a client PUBLISH is a protocol error', async () => {
    const c = await v5(tb.port);
    c.send(pub('t', 'x', 0, 0, { properties: { subscriptionIdentifiers: [1] } }));
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.3.4-7] more unacknowledged QoS 2 PUBLISHes than Receive Maximum: DISCONNECT 0x93', async () => {
    const c = await v5(tb.port);
    for (let i = 1; i <= 4; i++) c.send(pub('rm', 'x', 2, i));
    assert.equal(await serverDisconnect(c), ReasonCode.ReceiveMaximumExceeded);
  });

  test('[MQTT-3.3.4-9] [MQTT-4.9.0-2] [MQTT-3.3.4-10] [MQTT-4.9.0-3] the broker honours the client Receive Maximum and still answers other packets', async () => {
    const t = uniq('flow');
    const s = await v5(tb.port, { properties: { receiveMaximum: 2 } });
    await subscribe(s, [t]);
    const p = await v5(tb.port);
    for (let i = 0; i < 4; i++) await publish(p, t, `m${i}`, 1);
    const got = (await s.quiet(200)).filter(
      (x): x is PublishPacket => x.type === PacketType.PUBLISH,
    );
    assert.equal(got.length, 2);
    s.send({ type: PacketType.PINGREQ });
    await s.nextOfType(PacketType.PINGRESP);
    s.received.length = 0;
    s.send({ type: PacketType.PUBACK, packetId: got[0]!.packetId, reasonCode: 0 });
    const third = await s.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(third.payload.toString(), 'm2');
    s.destroy();
    p.destroy();
  });

  test('[MQTT-3.4.2-1] PUBACK 0x10 when nobody is subscribed; PUBREC 0 (0x10 on PUBACK only, as Mosquitto)', async () => {
    const c = await v5(tb.port);
    assert.equal(await publish(c, uniq('nobody'), 'x', 1), ReasonCode.NoMatchingSubscribers);
    assert.equal(await publish(c, uniq('nobody'), 'x', 2), ReasonCode.Success);
    c.destroy();
  });

  test('[MQTT-3.4.2-1] a No Local subscription of the publisher counts as a matching subscriber: PUBACK 0', async () => {
    const t = uniq('nolocal');
    const c = await v5(tb.port);
    await subscribe(c, [{ topic: t, qos: 1, noLocal: true }]);
    assert.equal(await publish(c, t, 'mine', 1), ReasonCode.Success);
    const other = await v5(tb.port);
    assert.equal(await publish(other, uniq('nolocal'), 'x', 1), ReasonCode.NoMatchingSubscribers);
    assert.deepEqual(
      c.received.filter((p) => p.type === 3),
      [],
      'No Local still holds the message back',
    );
    c.destroy();
    other.destroy();
  });

  test('[MQTT-3.4.2-1] PUBACK 0x87 when the publish is not authorized', async () => {
    const c = await v5(tb.port);
    assert.equal(await publish(c, '$SYS/x', 'x', 1), ReasonCode.NotAuthorized);
    c.destroy();
  });

  test('PUBACK 0x91 when a QoS 1 PUBLISH reuses the id of an unreleased QoS 2 exchange', async () => {
    const c = await v5(tb.port);
    c.send(pub(uniq('pid'), 'x', 2, 77));
    await c.nextOfType(PacketType.PUBREC);
    c.send(pub(uniq('pid'), 'y', 1, 77));
    assert.equal(
      (await c.nextOfType<Ack>(PacketType.PUBACK)).reasonCode,
      ReasonCode.PacketIdentifierInUse,
    );
    c.destroy();
  });

  test('PUBACK 0x97 when every subscriber queue is full', async () => {
    const t = uniq('quota');
    const a = await v5(tb.port, { clientId: 'quota1', properties: { sessionExpiryInterval: 30 } });
    await subscribe(a, [{ topic: t, qos: 1 }]);
    a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await a.waitClosed();
    const p = await v5(tb.port);
    assert.equal(await publish(p, t, '1', 1), 0);
    assert.equal(await publish(p, t, '2', 1), 0);
    assert.equal(await publish(p, t, '3', 1), ReasonCode.QuotaExceeded);
    p.destroy();
  });

  test('[MQTT-3.6.2-1] [MQTT-3.7.2-1] PUBREL for an unknown id gets PUBCOMP 0x92; PUBREC for an unknown id gets PUBREL 0x92', async () => {
    const c = await v5(tb.port);
    c.send({ type: PacketType.PUBREL, packetId: 999, reasonCode: 0 });
    assert.equal(
      (await c.nextOfType<Ack>(PacketType.PUBCOMP)).reasonCode,
      ReasonCode.PacketIdentifierNotFound,
    );
    c.send({ type: PacketType.PUBREC, packetId: 998, reasonCode: 0 });
    assert.equal(
      (await c.nextOfType<Ack>(PacketType.PUBREL)).reasonCode,
      ReasonCode.PacketIdentifierNotFound,
    );
    c.destroy();
  });

  test('[MQTT-4.3.3-10] [MQTT-4.3.3-12] a re-sent QoS 2 PUBLISH before PUBREL is not delivered twice; after PUBCOMP the id is new', async () => {
    const t = uniq('q2dup');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const c = await v5(tb.port);
    c.send(pub(t, 'once', 2, 5));
    await c.nextOfType(PacketType.PUBREC);
    c.send(pub(t, 'once', 2, 5, { dup: true }));
    await c.nextOfType(PacketType.PUBREC);
    c.send({ type: PacketType.PUBREL, packetId: 5, reasonCode: 0 });
    await c.nextOfType(PacketType.PUBCOMP);
    c.send(pub(t, 'again', 2, 5));
    await c.nextOfType(PacketType.PUBREC);
    c.send({ type: PacketType.PUBREL, packetId: 5, reasonCode: 0 });
    await c.nextOfType(PacketType.PUBCOMP);
    const got = (await s.quiet(200))
      .filter((x): x is PublishPacket => x.type === PacketType.PUBLISH)
      .map((x) => x.payload.toString());
    assert.deepEqual(got, ['once', 'again']);
    s.destroy();
    c.destroy();
  });

  test('[MQTT-4.3.2-5] after PUBACK the same packet id is a new message', async () => {
    const t = uniq('q1new');
    const s = await v5(tb.port);
    await subscribe(s, [{ topic: t, qos: 0 }]);
    const c = await v5(tb.port);
    c.send(pub(t, 'a', 1, 9));
    await c.nextOfType(PacketType.PUBACK);
    c.send(pub(t, 'b', 1, 9, { dup: true }));
    await c.nextOfType(PacketType.PUBACK);
    assert.equal((await nextPublish(s)).payload.toString(), 'a');
    assert.equal((await nextPublish(s)).payload.toString(), 'b');
    s.destroy();
    c.destroy();
  });

  test('[MQTT-4.4.0-2] [MQTT-4.8.2-6] a PUBACK with an error code ends the delivery: not re-sent on resume', async () => {
    const t = uniq('neg');
    const a = await v5(tb.port, { clientId: 'neg1', properties: { sessionExpiryInterval: 30 } });
    await subscribe(a, [t]);
    const p = await v5(tb.port);
    await publish(p, t, 'x', 1);
    const m = await a.nextOfType<PublishPacket>(PacketType.PUBLISH);
    a.send({ type: PacketType.PUBACK, packetId: m.packetId, reasonCode: 0x80 });
    await delay(50);
    a.destroy();
    const b = await v5(tb.port, {
      clientId: 'neg1',
      clean: false,
      properties: { sessionExpiryInterval: 30 },
    });
    assert.equal((await b.quiet(200)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    b.destroy();
    p.destroy();
  });

  test('[MQTT-4.5.0-1] [MQTT-4.6.0-5] [MQTT-4.6.0-6] messages for an offline session are kept and delivered in order', async () => {
    const t = uniq('order');
    const r = await startBroker({});
    const a = await v5(r.port, { clientId: 'ord', properties: { sessionExpiryInterval: 30 } });
    await subscribe(a, [t]);
    a.destroy();
    await delay(50);
    const p = await v5(r.port);
    for (let i = 0; i < 10; i++) await publish(p, t, String(i), (i % 3) as 0 | 1 | 2);
    const b = await v5(r.port, {
      clientId: 'ord',
      clean: false,
      properties: { sessionExpiryInterval: 30 },
    });
    try {
      // QoS 0 messages are not queued for offline sessions (queueQos0Messages off).
      const got: string[] = [];
      for (let i = 0; i < 6; i++) got.push((await nextPublish(b)).payload.toString());
      assert.deepEqual(got, ['1', '2', '4', '5', '7', '8']);
    } finally {
      b.destroy();
      p.destroy();
      await r.close();
    }
  });

  test('[MQTT-4.13.1-1] [MQTT-4.13.2-1] a malformed packet: DISCONNECT 0x81 and close', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0x30, 3, 0, 9, 0x61]);
    const d = await serverDisconnect(c).catch(() => ReasonCode.MalformedPacket);
    assert.equal(d, ReasonCode.MalformedPacket);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.12.4-1] PINGREQ gets PINGRESP', async () => {
    const c = await v5(tb.port);
    c.send({ type: PacketType.PINGREQ });
    assert.equal((await c.nextOfType(PacketType.PINGRESP)).type, 13);
    c.destroy();
  });
});

void RawClient;

describe('MQTT 5 overlapping subscriptions with overlapDelivery one-copy', () => {
  const tb = suiteBroker({ overlapDelivery: 'one-copy' });

  test('[MQTT-3.3.4-2] [MQTT-3.3.4-4] one copy at the highest QoS carrying every Subscription Identifier', async () => {
    const t = uniq('onecopy');
    const s = await v5(tb.port);
    await subscribe(s, [{ topic: `${t}/#`, qos: 1 }], { subscriptionIdentifiers: [7] });
    await subscribe(s, [{ topic: `${t}/+`, qos: 2 }], { subscriptionIdentifiers: [42] });
    const p = await v5(tb.port);
    await publish(p, `${t}/a`, 'm', 2);
    const m = await nextPublish(s);
    assert.equal(m.qos, 2);
    assert.deepEqual(
      [...m.properties!.subscriptionIdentifiers!].sort((x, y) => x - y),
      [7, 42],
    );
    assert.equal((await s.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    p.destroy();
  });
});
