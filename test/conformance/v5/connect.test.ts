/**
 * MQTT 5.0 conformance, CONNECT / CONNACK (spec 3.1, 3.2) over real TCP with
 * the raw-bytes client. Test names carry the normative statement id.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, ReasonCode } from '../../../src/protocol/constants.js';
import type { ConnackPacket, PubackPacket } from '../../../src/protocol/packets.js';
import { startBroker, suiteBroker } from '../../helpers/broker.js';
import { delay, RawClient } from '../../helpers/raw-client.js';
import {
  nextPublish,
  publish,
  serverDisconnect,
  subscribe,
  uniq,
  v5,
  v5Connack,
} from './support.js';

type Connack = ConnackPacket;

/** A minimal v5 CONNECT as raw bytes, with the flags byte and payload given. */
function rawConnect(flags: number, payload: number[], level = 5): number[] {
  const body = [
    0,
    4,
    0x4d,
    0x51,
    0x54,
    0x54,
    level,
    flags,
    0,
    60,
    ...(level === 5 ? [0] : []),
    ...payload,
  ];
  return [0x10, body.length, ...body];
}
const id = (s: string): number[] => [0, s.length, ...Buffer.from(s)];

describe('MQTT 5 CONNECT and CONNACK', () => {
  const tb = suiteBroker({
    responseInformation: 'reply/here',
    hooks: {
      authenticate: (req) =>
        req.username === 'bad' ? ReasonCode.BadUserNameOrPassword : undefined,
    },
  });

  test('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection', async () => {
    const c = await RawClient.connect(tb.port, 5);
    c.send({ type: PacketType.PINGREQ });
    assert.equal(await c.waitClosed(), true);
    assert.equal(c.received.length, 0);
  });

  test('[MQTT-3.1.0-2] a second CONNECT is a protocol error (DISCONNECT 0x82)', async () => {
    const c = await v5(tb.port);
    c.send({
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 0,
      clientId: 'x',
    });
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.1.2-1] a protocol name other than MQTT closes the connection', async () => {
    const c = await RawClient.connect(tb.port, 5);
    c.sendRaw([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x58, 5, 2, 0, 60, 0, 0, 0]);
    assert.equal(await c.waitClosed(), true);
    assert.ok(!c.received.some((p) => p.type === PacketType.CONNACK && p.reasonCode === 0));
  });

  test('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK "unacceptable protocol" and close', async () => {
    const c = await RawClient.connect(tb.port, 4);
    c.sendRaw(rawConnect(2, id('lvl'), 6).map((b, i) => (i === 8 ? 6 : b)));
    const ack = await c.nextOfType<Connack>(PacketType.CONNACK);
    assert.ok(ack.reasonCode === 0x01 || ack.reasonCode === ReasonCode.UnsupportedProtocolVersion);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.1.2-3] the reserved CONNECT flag set is malformed: connection closed', async () => {
    const c = await RawClient.connect(tb.port, 5);
    c.sendRaw(rawConnect(0x03, id('res')));
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.1.2-4] [MQTT-3.2.2-2] Clean Start 1 discards the session: Session Present 0, old subscriptions gone', async () => {
    const t = uniq('cs1');
    const a = await v5(tb.port, { clientId: 'cs1', properties: { sessionExpiryInterval: 60 } });
    await subscribe(a, [t]);
    a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await a.waitClosed();
    const { c, ack } = await v5Connack(tb.port, { clientId: 'cs1', clean: true });
    assert.equal(ack.reasonCode, 0);
    assert.equal(ack.sessionPresent, false);
    const p = await v5(tb.port);
    await publish(p, t, 'x', 1);
    assert.equal((await c.quiet(200)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    c.destroy();
    p.destroy();
  });

  test('[MQTT-3.1.2-5] [MQTT-3.2.2-3] [MQTT-3.1.2-23] Clean Start 0 resumes a stored session: Session Present 1, subscriptions kept', async () => {
    const t = uniq('cs0');
    const a = await v5(tb.port, { clientId: 'cs0', properties: { sessionExpiryInterval: 60 } });
    await subscribe(a, [t]);
    a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await a.waitClosed();
    const p = await v5(tb.port);
    await publish(p, t, 'while away', 1);
    const { c, ack } = await v5Connack(tb.port, {
      clientId: 'cs0',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    assert.equal(ack.sessionPresent, true);
    assert.equal((await nextPublish(c)).payload.toString(), 'while away');
    c.destroy();
    p.destroy();
  });

  test('[MQTT-3.1.2-6] Clean Start 0 without a stored session creates one: Session Present 0', async () => {
    const { c, ack } = await v5Connack(tb.port, {
      clientId: uniq('new').replace('/', ''),
      clean: false,
    });
    assert.equal(ack.reasonCode, 0);
    assert.equal(ack.sessionPresent, false);
    c.destroy();
  });

  test('[MQTT-3.1.2-7] [MQTT-3.1.2-8] [MQTT-3.1.2-14] a will is published, not retained, when the connection drops', async () => {
    const t = uniq('will');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const a = await v5(tb.port, {
      will: { topic: t, payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    a.destroy();
    const m = await nextPublish(s);
    assert.equal(m.payload.toString(), 'gone');
    const late = await v5(tb.port);
    await subscribe(late, [t]);
    assert.equal((await late.quiet(200)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
    late.destroy();
  });

  test('[MQTT-3.1.2-15] a will with Will Retain 1 is published as a retained message', async () => {
    const t = uniq('willr');
    const a = await v5(tb.port, {
      will: { topic: t, payload: Buffer.from('kept'), qos: 0, retain: true },
    });
    a.destroy();
    await delay(100);
    const late = await v5(tb.port);
    await subscribe(late, [t]);
    const m = await nextPublish(late);
    assert.equal(m.retain, true);
    assert.equal(m.payload.toString(), 'kept');
    late.destroy();
  });

  test('[MQTT-3.1.2-10] [MQTT-3.14.4-3] DISCONNECT 0x00 discards the will', async () => {
    const t = uniq('nowill');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const a = await v5(tb.port, {
      will: { topic: t, payload: Buffer.from('x'), qos: 0, retain: false },
    });
    a.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await a.waitClosed();
    assert.equal((await s.quiet(300)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
  });

  test('DISCONNECT 0x04 (Disconnect with Will Message) publishes the will', async () => {
    const t = uniq('will04');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const a = await v5(tb.port, {
      will: { topic: t, payload: Buffer.from('asked'), qos: 0, retain: false },
    });
    a.send({ type: PacketType.DISCONNECT, reasonCode: ReasonCode.DisconnectWithWillMessage });
    assert.equal((await nextPublish(s)).payload.toString(), 'asked');
    s.destroy();
  });

  test('[MQTT-3.1.2-11] [MQTT-3.1.2-13] will QoS or Will Retain without the Will Flag is malformed', async () => {
    for (const flags of [0x02 | 0x08, 0x02 | 0x20]) {
      const c = await RawClient.connect(tb.port, 5);
      c.sendRaw(rawConnect(flags, id('wf')));
      assert.equal(await c.waitClosed(), true);
    }
  });

  test('[MQTT-3.1.2-12] will QoS 3 is malformed', async () => {
    const c = await RawClient.connect(tb.port, 5);
    // will flag + QoS 3, then client id, will props (0), topic, payload.
    c.sendRaw(rawConnect(0x02 | 0x04 | 0x18, [...id('wq'), 0, ...id('t'), ...id('p')]));
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.1.2-16] [MQTT-3.1.2-17] [MQTT-3.1.2-18] [MQTT-3.1.2-19] flags and fields must agree: a missing user name or password is malformed', async () => {
    for (const flags of [0x02 | 0x80, 0x02 | 0x40]) {
      const c = await RawClient.connect(tb.port, 5);
      c.sendRaw(rawConnect(flags, id('uf')));
      assert.equal(await c.waitClosed(), true);
    }
  });

  test('[MQTT-3.1.2-22] no packet within 1.5 x Keep Alive: DISCONNECT 0x8D and close', async () => {
    const c = await v5(tb.port, { keepalive: 1 });
    const start = Date.now();
    assert.equal(await serverDisconnect(c, 4000), ReasonCode.KeepAliveTimeout);
    assert.ok(Date.now() - start >= 1400);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.1.2-24] [MQTT-3.1.2-25] a message larger than the client Maximum Packet Size is dropped for that client only', async () => {
    const t = uniq('mps');
    const small = await v5(tb.port, { properties: { maximumPacketSize: 64 } });
    const big = await v5(tb.port);
    await subscribe(small, [t]);
    await subscribe(big, [t]);
    const p = await v5(tb.port);
    await publish(p, t, Buffer.alloc(100, 0x61), 1);
    await publish(p, t, 'ok', 1);
    assert.equal((await nextPublish(big)).payload.length, 100);
    assert.equal((await nextPublish(small)).payload.toString(), 'ok');
    small.destroy();
    big.destroy();
    p.destroy();
  });

  test('[MQTT-3.1.2-26] [MQTT-3.3.2-11] the broker assigns topic aliases up to the client Topic Alias Maximum', async () => {
    const t = uniq('alias');
    const c = await v5(tb.port, { properties: { topicAliasMaximum: 1 } });
    await subscribe(c, [`${t}/+`]);
    const p = await v5(tb.port);
    await publish(p, `${t}/a`, '1', 0);
    await publish(p, `${t}/a`, '2', 0);
    await publish(p, `${t}/b`, '3', 0);
    const m1 = await nextPublish(c);
    const m2 = await nextPublish(c);
    const m3 = await nextPublish(c);
    assert.equal(m1.topic, `${t}/a`);
    assert.equal(m1.properties?.topicAlias, 1);
    assert.equal(m2.topic, '');
    assert.equal(m2.properties?.topicAlias, 1);
    assert.equal(m3.topic, `${t}/b`);
    assert.equal(m3.properties?.topicAlias, undefined);
    c.destroy();
    p.destroy();
  });

  test('[MQTT-3.1.2-27] without Topic Alias Maximum the broker sends no topic aliases', async () => {
    const t = uniq('noalias');
    const c = await v5(tb.port);
    await subscribe(c, [t]);
    const p = await v5(tb.port);
    await publish(p, t, '1', 0);
    await publish(p, t, '2', 0);
    for (let i = 0; i < 2; i++) {
      const m = await nextPublish(c);
      assert.equal(m.topic, t);
      assert.equal(m.properties?.topicAlias, undefined);
    }
    c.destroy();
    p.destroy();
  });

  test('[MQTT-3.1.2-28] Response Information only when requested', async () => {
    const a = await v5Connack(tb.port, { properties: { requestResponseInformation: 0 } });
    assert.equal(a.ack.properties?.responseInformation, undefined);
    const b = await v5Connack(tb.port, { properties: { requestResponseInformation: 1 } });
    assert.equal(b.ack.properties?.responseInformation, 'reply/here');
    a.c.destroy();
    b.c.destroy();
  });

  test('[MQTT-3.1.2-29] Request Problem Information 0: no Reason String on a PUBACK', async () => {
    const quiet = await v5(tb.port, { properties: { requestProblemInformation: 0 } });
    quiet.send({
      type: PacketType.PUBLISH,
      topic: '$SYS/x',
      payload: Buffer.alloc(0),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 7,
    });
    const a1 = await quiet.nextOfType<PubackPacket>(PacketType.PUBACK);
    assert.equal(a1.reasonCode, ReasonCode.NotAuthorized);
    assert.equal(a1.properties?.reasonString, undefined);
    const chatty = await v5(tb.port);
    chatty.send({
      type: PacketType.PUBLISH,
      topic: '$SYS/x',
      payload: Buffer.alloc(0),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 7,
    });
    const a2 = await chatty.nextOfType<PubackPacket>(PacketType.PUBACK);
    assert.equal(a2.reasonCode, ReasonCode.NotAuthorized);
    assert.equal(typeof a2.properties?.reasonString, 'string');
    quiet.destroy();
    chatty.destroy();
  });

  test('[MQTT-3.1.3-5] client ids of 1-23 alphanumerics are accepted', async () => {
    const c = await v5(tb.port, { clientId: 'Abc0123456789xyzXYZ0123' });
    c.destroy();
  });

  test('[MQTT-3.1.3-6] [MQTT-3.1.3-7] [MQTT-3.2.2-16] an empty client id gets a unique Assigned Client Identifier', async () => {
    const a = await v5Connack(tb.port, { clientId: '' });
    const b = await v5Connack(tb.port, { clientId: '' });
    const ida = a.ack.properties?.assignedClientIdentifier;
    const idb = b.ack.properties?.assignedClientIdentifier;
    assert.equal(typeof ida, 'string');
    assert.ok(ida!.length > 0);
    assert.notEqual(ida, idb);
    a.c.destroy();
    b.c.destroy();
  });

  test('[MQTT-3.1.3-10] will user properties keep their order', async () => {
    const t = uniq('willup');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const ups: Array<[string, string]> = [
      ['b', '1'],
      ['a', '2'],
      ['b', '3'],
    ];
    const a = await v5(tb.port, {
      will: {
        topic: t,
        payload: Buffer.from('w'),
        qos: 0,
        retain: false,
        properties: { userProperties: ups, contentType: 'text/plain' },
      },
    });
    a.destroy();
    const m = await nextPublish(s);
    assert.deepEqual(m.properties?.userProperties, ups);
    assert.equal(m.properties?.contentType, 'text/plain');
    s.destroy();
  });

  test('[MQTT-3.1.4-2] [MQTT-3.2.2-6] [MQTT-3.2.2-7] refused authentication: CONNACK >= 0x80 with Session Present 0, then close', async () => {
    const { c, ack } = await v5Connack(tb.port, { username: 'bad', password: Buffer.from('x') });
    assert.equal(ack.reasonCode, ReasonCode.BadUserNameOrPassword);
    assert.equal(ack.sessionPresent, false);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.1.4-6] packets after a refused CONNECT are not processed', async () => {
    const t = uniq('refused');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const c = await RawClient.connect(tb.port, 5);
    c.send({
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 0,
      clientId: 'r',
      username: 'bad',
      password: Buffer.from('x'),
    });
    c.send({
      type: PacketType.PUBLISH,
      topic: t,
      payload: Buffer.from('sneaky'),
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
    });
    await c.waitClosed();
    assert.equal((await s.quiet(200)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    s.destroy();
  });

  test('[MQTT-3.1.4-3] a second connection with the same client id takes over: DISCONNECT 0x8E to the old one', async () => {
    const a = await v5(tb.port, { clientId: 'takeover' });
    const b = await v5(tb.port, { clientId: 'takeover' });
    assert.equal(await serverDisconnect(a), ReasonCode.SessionTakenOver);
    assert.equal(await a.waitClosed(), true);
    b.destroy();
  });

  test('[MQTT-3.1.4-5] [MQTT-3.2.0-1] [MQTT-3.2.0-2] CONNACK 0x00 is the first and only CONNACK', async () => {
    const c = await RawClient.connect(tb.port, 5);
    const ack = await c.handshake({});
    assert.equal(ack.reasonCode, 0);
    c.send({ type: PacketType.PINGREQ });
    await c.nextOfType(PacketType.PINGRESP);
    assert.equal(c.received.filter((p) => p.type === PacketType.CONNACK).length, 0);
    c.destroy();
  });

  test('[MQTT-3.2.2-1] CONNACK reserved flag bits are zero', async () => {
    const c = await RawClient.connect(tb.port, 5);
    const raw: Buffer[] = [];
    c.socket.on('data', (b: Buffer) => raw.push(b));
    await c.handshake({});
    const bytes = Buffer.concat(raw);
    assert.equal(bytes[0], 0x20);
    assert.equal(bytes[2]! & 0xfe, 0);
    c.destroy();
  });

  test('[MQTT-3.2.2-21] [MQTT-3.2.2-22] Server Keep Alive only when the broker overrides the client keep alive', async () => {
    const tb2 = await startBroker({ maxKeepalive: 30 });
    const a = await v5Connack(tb2.port, { keepalive: 120 });
    assert.equal(a.ack.properties?.serverKeepAlive, 30);
    const b = await v5Connack(tb2.port, { keepalive: 20 });
    assert.equal(b.ack.properties?.serverKeepAlive, undefined);
    a.c.destroy();
    b.c.destroy();
    await tb2.close();
  });

  test('[MQTT-3.1.2-21] a Server Keep Alive is enforced instead of the client value', async () => {
    const tb2 = await startBroker({ maxKeepalive: 1 });
    const { c, ack } = await v5Connack(tb2.port, { keepalive: 0 });
    assert.equal(ack.properties?.serverKeepAlive, 1);
    assert.equal(await serverDisconnect(c, 4000), ReasonCode.KeepAliveTimeout);
    await tb2.close();
  });

  describe('limits advertised in CONNACK', () => {
    const lim = suiteBroker({
      maxQos: 1,
      retainAvailable: false,
      maxPacketSize: 200,
      maxTopicAlias: 2,
      receiveMaximum: 5,
      wildcardSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionAvailable: false,
    });

    test('[MQTT-3.2.2-9] Maximum QoS, Retain Available, Maximum Packet Size, Topic Alias Maximum, Receive Maximum and feature flags are sent', async () => {
      const { c, ack } = await v5Connack(lim.port);
      const p = ack.properties!;
      assert.equal(p.maximumQoS, 1);
      assert.equal(p.retainAvailable, 0);
      assert.equal(p.maximumPacketSize, 200);
      assert.equal(p.topicAliasMaximum, 2);
      assert.equal(p.receiveMaximum, 5);
      assert.equal(p.wildcardSubscriptionAvailable, 0);
      assert.equal(p.subscriptionIdentifiersAvailable, 0);
      assert.equal(p.sharedSubscriptionAvailable, 0);
      c.destroy();
    });

    test('[MQTT-3.2.2-10] with Maximum QoS 1 a SUBSCRIBE asking QoS 2 is accepted (granted 1)', async () => {
      const c = await v5(lim.port);
      assert.deepEqual(await subscribe(c, ['q/2']), [1]);
      c.destroy();
    });

    test('[MQTT-3.2.2-11] a PUBLISH above Maximum QoS: DISCONNECT 0x9B', async () => {
      const c = await v5(lim.port);
      c.send({
        type: PacketType.PUBLISH,
        topic: 'q',
        payload: Buffer.alloc(0),
        qos: 2,
        retain: false,
        dup: false,
        packetId: 1,
      });
      assert.equal(await serverDisconnect(c), ReasonCode.QoSNotSupported);
    });

    test('[MQTT-3.2.2-12] a will QoS above Maximum QoS: CONNACK 0x9B and close', async () => {
      const { c, ack } = await v5Connack(lim.port, {
        will: { topic: 'w', payload: Buffer.alloc(0), qos: 2, retain: false },
      });
      assert.equal(ack.reasonCode, ReasonCode.QoSNotSupported);
      assert.equal(await c.waitClosed(), true);
    });

    test('[MQTT-3.2.2-13] a retained will without retain support: CONNACK 0x9A and close', async () => {
      const { c, ack } = await v5Connack(lim.port, {
        will: { topic: 'w', payload: Buffer.alloc(0), qos: 0, retain: true },
      });
      assert.equal(ack.reasonCode, ReasonCode.RetainNotSupported);
      assert.equal(await c.waitClosed(), true);
    });

    test('[MQTT-3.2.2-14] a retained PUBLISH without retain support: DISCONNECT 0x9A', async () => {
      const c = await v5(lim.port);
      c.send({
        type: PacketType.PUBLISH,
        topic: 'r',
        payload: Buffer.from('x'),
        qos: 0,
        retain: true,
        dup: false,
        packetId: 0,
      });
      assert.equal(await serverDisconnect(c), ReasonCode.RetainNotSupported);
    });

    test('[MQTT-3.2.2-15] a packet above the broker Maximum Packet Size: DISCONNECT 0x95', async () => {
      const c = await v5(lim.port);
      c.send({
        type: PacketType.PUBLISH,
        topic: 'big',
        payload: Buffer.alloc(300),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      });
      assert.equal(await serverDisconnect(c), ReasonCode.PacketTooLarge);
      assert.equal(await c.waitClosed(), true);
    });

    test('[MQTT-3.2.2-17] [MQTT-3.2.2-18] [MQTT-3.3.2-12] a Topic Alias above the broker maximum: DISCONNECT 0x94; within it, accepted', async () => {
      const c = await v5(lim.port);
      await publish(c, 'ta', 'ok', 1, { properties: { topicAlias: 2 } });
      c.send({
        type: PacketType.PUBLISH,
        topic: 'ta',
        payload: Buffer.alloc(0),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
        properties: { topicAlias: 3 },
      });
      assert.equal(await serverDisconnect(c), ReasonCode.TopicAliasInvalid);
    });
  });

  test('server redirection: CONNACK 0x9C (temporary) or 0x9D (permanent) with Server Reference', async () => {
    for (const permanent of [false, true]) {
      const r = await startBroker({
        redirect: { serverReference: 'other.example:1883', permanent },
      });
      const { c, ack } = await v5Connack(r.port);
      assert.equal(
        ack.reasonCode,
        permanent ? ReasonCode.ServerMoved : ReasonCode.UseAnotherServer,
      );
      assert.equal(ack.properties?.serverReference, 'other.example:1883');
      assert.equal(await c.waitClosed(), true);
      await r.close();
    }
  });

  test('[MQTT-3.1.3-8] a refused client id: CONNACK 0x85 and close', async () => {
    const r = await startBroker({ allowZeroLengthClientId: false });
    const { c, ack } = await v5Connack(r.port, { clientId: '' });
    assert.equal(ack.reasonCode, ReasonCode.ClientIdentifierNotValid);
    assert.equal(await c.waitClosed(), true);
    await r.close();
  });
});
