/**
 * MQTT 5.0 conformance, SUBSCRIBE / UNSUBSCRIBE, topic filters and shared
 * subscriptions (spec 3.8-3.11, 4.7, 4.8) over real TCP.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, ReasonCode } from '../../../src/protocol/constants.js';
import type { PublishPacket } from '../../../src/protocol/packets.js';
import { startBroker, suiteBroker } from '../../helpers/broker.js';
import { delay } from '../../helpers/raw-client.js';
import {
  nextPublish,
  publish,
  serverDisconnect,
  subscribe,
  uniq,
  unsubscribe,
  v5,
} from './support.js';

const count = (ps: Array<{ type: number }>): number =>
  ps.filter((p) => p.type === PacketType.PUBLISH).length;

describe('MQTT 5 SUBSCRIBE and UNSUBSCRIBE', () => {
  const tb = suiteBroker({
    maxSubscriptionsPerClient: 3,
    hooks: { authorizeSubscribe: (_c, s) => !s.topic.startsWith('secret/') },
  });

  test('[MQTT-3.8.1-1] SUBSCRIBE with reserved header bits other than 0010 is malformed', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0x80, 6, 0, 1, 0, 0, 1, 0x61]);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.8.3-2] SUBSCRIBE without topic filters is a protocol error', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0x82, 3, 0, 1, 0]);
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.8.3-5] reserved subscription option bits set is malformed', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0x82, 7, 0, 1, 0, 0, 1, 0x61, 0xc1]);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.8.3-3] No Local: own messages are not delivered back', async () => {
    const t = uniq('nl');
    const c = await v5(tb.port);
    await subscribe(c, [{ topic: t, noLocal: true }]);
    await publish(c, t, 'mine', 1);
    assert.equal(count(await c.quiet(200)), 0);
    const other = await v5(tb.port);
    await publish(other, t, 'theirs', 1);
    assert.equal((await nextPublish(c)).payload.toString(), 'theirs');
    c.destroy();
    other.destroy();
  });

  test('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error', async () => {
    const c = await v5(tb.port);
    c.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: '$share/g/x', qos: 0, noLocal: true, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-3.8.4-5] [MQTT-3.8.4-6] [MQTT-3.8.4-7] [MQTT-3.9.3-1] [MQTT-3.9.3-2] one SUBACK, same packet id, one code per filter in order', async () => {
    const c = await v5(tb.port);
    const codes = await subscribe(c, [
      { topic: 'a/b', qos: 0 },
      { topic: 'secret/x', qos: 1 },
      { topic: 'c/d', qos: 2 },
    ]);
    assert.deepEqual(codes, [0, ReasonCode.NotAuthorized, 2]);
    c.destroy();
  });

  test('[MQTT-3.8.4-3] [MQTT-3.8.4-4] re-subscribing replaces the subscription (new QoS, one copy) and re-sends retained', async () => {
    const t = uniq('replace');
    const p = await v5(tb.port);
    await publish(p, t, 'r', 2, { retain: true });
    const c = await v5(tb.port);
    await subscribe(c, [{ topic: t, qos: 0 }]);
    assert.equal((await nextPublish(c)).qos, 0);
    await subscribe(c, [{ topic: t, qos: 2 }]);
    assert.equal((await nextPublish(c)).qos, 2);
    await publish(p, t, 'live', 2);
    const m = await nextPublish(c);
    assert.equal(m.qos, 2);
    assert.equal(count(await c.quiet(150)), 0);
    c.destroy();
    p.destroy();
  });

  test('[MQTT-3.8.4-8] delivered QoS is the minimum of published and granted QoS', async () => {
    const t = uniq('minqos');
    const c = await v5(tb.port);
    await subscribe(c, [{ topic: t, qos: 1 }]);
    const p = await v5(tb.port);
    await publish(p, t, 'x', 2);
    await publish(p, t, 'y', 0);
    assert.equal((await nextPublish(c)).qos, 1);
    assert.equal((await nextPublish(c)).qos, 0);
    c.destroy();
    p.destroy();
  });

  test('SUBACK 0x97 when the subscription quota is exhausted; 0x8F for a malformed shared filter', async () => {
    const c = await v5(tb.port);
    const codes = await subscribe(c, ['q/1', 'q/2', '$share//x', 'q/3', 'q/4']);
    assert.deepEqual(codes, [0 + 2, 2, ReasonCode.TopicFilterInvalid, 2, ReasonCode.QuotaExceeded]);
    c.destroy();
  });

  test('SUBACK 0xA2 / 0xA1 / 0x9E when wildcards, subscription identifiers or shared subscriptions are switched off', async () => {
    const r = await startBroker({
      wildcardSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionAvailable: false,
    });
    const c = await v5(r.port);
    assert.deepEqual(await subscribe(c, ['a/+', 'a/#', 'a/b']), [
      ReasonCode.WildcardSubscriptionsNotSupported,
      ReasonCode.WildcardSubscriptionsNotSupported,
      2,
    ]);
    assert.deepEqual(await subscribe(c, ['$share/g/a']), [
      ReasonCode.SharedSubscriptionsNotSupported,
    ]);
    assert.deepEqual(await subscribe(c, ['a/c'], { subscriptionIdentifiers: [3] }), [
      ReasonCode.SubscriptionIdentifiersNotSupported,
    ]);
    c.destroy();
    await r.close();
  });

  test('[MQTT-3.10.1-1] UNSUBSCRIBE with reserved header bits other than 0010 is malformed', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0xa0, 6, 0, 1, 0, 0, 1, 0x61]);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.10.3-2] UNSUBSCRIBE without topic filters is a protocol error', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0xa2, 3, 0, 1, 0]);
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] [MQTT-3.11.3-1] [MQTT-3.11.3-2] UNSUBSCRIBE matches exactly, stops delivery and answers one code per filter', async () => {
    const t = uniq('unsub');
    const c = await v5(tb.port);
    await subscribe(c, [`${t}/+`]);
    const codes = await unsubscribe(c, [`${t}/#`, `${t}/+`, '$share//bad']);
    assert.deepEqual(codes, [ReasonCode.NoSubscriptionExisted, 0, ReasonCode.TopicFilterInvalid]);
    const p = await v5(tb.port);
    await publish(p, `${t}/a`, 'x', 1);
    assert.equal(count(await c.quiet(200)), 0);
    c.destroy();
    p.destroy();
  });

  test('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', async () => {
    const c = await v5(tb.port);
    await subscribe(c, [
      { topic: '#', retainHandling: 2 },
      { topic: '+/x', retainHandling: 2 },
    ]);
    tb.broker.publish({ topic: '$internal/x', payload: Buffer.from('s'), qos: 0, retain: false });
    assert.equal(count(await c.quiet(150)), 0);
    c.destroy();
  });

  test('[MQTT-4.7.1-1] [MQTT-4.7.1-2] a misplaced wildcard in a filter closes the connection', async () => {
    for (const f of ['a/#/b', 'a+/b']) {
      const c = await v5(tb.port);
      c.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          { topic: f, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      });
      assert.equal(await c.waitClosed(), true);
    }
  });

  test('[MQTT-4.7.3-1] an empty topic filter closes the connection', async () => {
    const c = await v5(tb.port);
    c.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: '', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-4.7.3-4] matching does not normalise topics (case, trailing slash)', async () => {
    const t = uniq('norm');
    const c = await v5(tb.port);
    await subscribe(c, [`${t}/Abc`]);
    const p = await v5(tb.port);
    await publish(p, `${t}/abc`, 'x', 0);
    await publish(p, `${t}/Abc/`, 'x', 0);
    assert.equal(count(await c.quiet(150)), 0);
    c.destroy();
    p.destroy();
  });
});

describe('MQTT 5 shared subscriptions', () => {
  test('[MQTT-4.8.2-1] [MQTT-4.8.2-2] malformed $share filters get SUBACK 0x8F', async () => {
    const r = await startBroker();
    const c = await v5(r.port);
    assert.deepEqual(await subscribe(c, ['$share/', '$share/g', '$share/g/']), [0x8f, 0x8f, 0x8f]);
    c.destroy();
    await r.close();
  });

  test('[MQTT-4.8.2-3] each message goes to exactly one member (round robin), at that member granted QoS, no retained on subscribe', async () => {
    const r = await startBroker();
    const t = uniq('sh');
    const p = await v5(r.port);
    await publish(p, t, 'retained', 1, { retain: true });
    const a = await v5(r.port);
    const b = await v5(r.port);
    await subscribe(a, [{ topic: `$share/g/${t}`, qos: 0 }]);
    await subscribe(b, [{ topic: `$share/g/${t}`, qos: 2 }]);
    assert.equal(count(await a.quiet(100)) + count(await b.quiet(0)), 0);
    for (let i = 0; i < 6; i++) await publish(p, t, String(i), 2);
    await delay(150);
    const ga = a.received.filter((x): x is PublishPacket => x.type === PacketType.PUBLISH);
    const gb = b.received.filter((x): x is PublishPacket => x.type === PacketType.PUBLISH);
    assert.equal(ga.length, 3);
    assert.equal(gb.length, 3);
    assert.ok(ga.every((m) => m.qos === 0));
    assert.ok(gb.every((m) => m.qos === 2));
    for (const c of [a, b, p]) c.destroy();
    await r.close();
  });

  test('hash_topic strategy keeps a topic on one member', async () => {
    const r = await startBroker({ sharedSubscriptionStrategy: 'hash_topic' });
    const t = uniq('ht');
    const a = await v5(r.port);
    const b = await v5(r.port);
    await subscribe(a, [`$share/g/${t}/+`]);
    await subscribe(b, [`$share/g/${t}/+`]);
    const p = await v5(r.port);
    for (let i = 0; i < 4; i++) await publish(p, `${t}/same`, String(i), 0);
    await delay(150);
    const na = count(a.received);
    const nb = count(b.received);
    assert.ok((na === 4 && nb === 0) || (na === 0 && nb === 4));
    for (const c of [a, b, p]) c.destroy();
    await r.close();
  });

  test('a member leaving with unacknowledged QoS 1 messages: they are redelivered to another member', async () => {
    const r = await startBroker();
    const t = uniq('handover');
    const a = await v5(r.port);
    const b = await v5(r.port);
    await subscribe(a, [{ topic: `$share/g/${t}`, qos: 1 }]);
    await subscribe(b, [{ topic: `$share/g/${t}`, qos: 1 }]);
    const p = await v5(r.port);
    await publish(p, t, 'to-a', 1);
    const first = await a.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(first.payload.toString(), 'to-a');
    a.destroy();
    const m = await nextPublish(b);
    assert.equal(m.payload.toString(), 'to-a');
    b.destroy();
    p.destroy();
    await r.close();
  });
});
