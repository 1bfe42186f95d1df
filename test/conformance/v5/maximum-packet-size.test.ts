/**
 * MQTT 5.0: the client's Maximum Packet Size binds every packet the broker
 * sends, not only PUBLISH (3.1.2.6 and the Reason String / User Property rules
 * of each acknowledgement).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReasonCode } from '../../../src/protocol/constants.js';
import type { Packet } from '../../../src/protocol/packets.js';
import { suiteBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { nextPublish, publish, uniq, v5 } from './support.js';

type Ack = Extract<Packet, { type: 4 }>;

describe('MQTT 5 client Maximum Packet Size on every packet', () => {
  const tb = suiteBroker();

  test('[MQTT-3.1.2-24] a CONNACK larger than the client accepts is not sent: the connection closes without it', async () => {
    const c = await RawClient.connect(tb.port, 5);
    // An empty client id makes the CONNACK carry an Assigned Client Identifier.
    c.send({
      type: 1,
      protocolName: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 60,
      clientId: '',
      properties: { maximumPacketSize: 12 },
    });
    assert.equal(await c.waitClosed(), true, 'the broker closes the connection');
    assert.deepEqual(
      c.received.map((p) => p.type),
      [],
      'nothing, not even the CONNACK, was sent',
    );
    assert.equal(tb.broker.stats.connected, 0);
  });

  test('[MQTT-3.1.2-24] [MQTT-3.9.2-1] a SUBACK larger than the client accepts is not sent; the subscriptions hold', async () => {
    const t = uniq('suback');
    const c = await v5(tb.port, { properties: { maximumPacketSize: 40 } });
    const filters = Array.from({ length: 60 }, (_, i) => `${t}/${i}`);
    c.send({
      type: 8,
      packetId: 9,
      subscriptions: filters.map((topic) => ({
        topic,
        qos: 0,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0,
      })),
    });
    const p = await v5(tb.port);
    await publish(p, `${t}/59`, 'reached', 1);
    assert.equal((await nextPublish(c)).payload.toString(), 'reached');
    assert.deepEqual(
      c.received.filter((x) => x.type === 9),
      [],
      'no SUBACK of 65 bytes to a client that accepts 40',
    );
    c.send({ type: 12 });
    await c.nextOfType(13);
    c.destroy();
    p.destroy();
  });

  test('[MQTT-3.4.2-2] a PUBACK drops its Reason String rather than exceed the Maximum Packet Size', async () => {
    const t = uniq('why');
    const roomy = await v5(tb.port);
    const tight = await v5(tb.port, { properties: { maximumPacketSize: 12 } });
    const bad = Buffer.from([0xff, 0xfe]);
    const extra = { properties: { payloadFormatIndicator: 1 as const } };
    roomy.send({
      type: 3,
      topic: t,
      payload: bad,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 3,
      ...extra,
    });
    tight.send({
      type: 3,
      topic: t,
      payload: bad,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 3,
      ...extra,
    });
    const full = await roomy.nextOfType<Ack>(4);
    const trimmed = await tight.nextOfType<Ack>(4);
    assert.equal(full.reasonCode, ReasonCode.PayloadFormatInvalid);
    assert.equal(
      typeof full.properties?.reasonString,
      'string',
      'a roomy client gets the reason string',
    );
    assert.equal(trimmed.reasonCode, ReasonCode.PayloadFormatInvalid);
    assert.equal(trimmed.properties?.reasonString, undefined);
    roomy.destroy();
    tight.destroy();
  });
});
