/** MQTT.js (protocolVersion 5) against Heron: the v5 features a real client library uses. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mqtt from 'mqtt';
import { suiteBroker } from '../helpers/broker.js';
import { connect, nextMessage } from './mqttjs-helpers.js';

describe('MQTT.js v5 interop', () => {
  const tb = suiteBroker({ responseInformation: 'resp/' });

  test('request/response with properties, subscription identifiers and user properties', async () => {
    const a = await connect(tb.url);
    const b = await connect(tb.url);
    await a.subscribeAsync('req/+', { qos: 1, properties: { subscriptionIdentifier: 5 } });
    const got = nextMessage(a);
    await b.publishAsync('req/1', 'ping', {
      qos: 1,
      properties: {
        responseTopic: 'resp/1',
        correlationData: Buffer.from('c1'),
        userProperties: { k: 'v' },
        contentType: 'text/plain',
      },
    });
    const m = await got;
    assert.equal(m.payload.toString(), 'ping');
    assert.equal(m.packet.properties?.responseTopic, 'resp/1');
    assert.equal(m.packet.properties?.correlationData?.toString(), 'c1');
    assert.equal(m.packet.properties?.contentType, 'text/plain');
    assert.deepEqual({ ...m.packet.properties?.userProperties }, { k: 'v' });
    assert.equal(m.packet.properties?.subscriptionIdentifier, 5);
    await a.endAsync();
    await b.endAsync();
  });

  test('topic aliases in both directions and Assigned Client Identifier', async () => {
    const a = await connect(tb.url, { clientId: '', properties: { topicAliasMaximum: 5 } });
    const b = await connect(tb.url, { autoUseTopicAlias: true });
    await a.subscribeAsync('alias/t', { qos: 0 });
    const msgs: string[] = [];
    a.on('message', (t, p) => msgs.push(`${t}:${p}`));
    for (let i = 0; i < 3; i++) await b.publishAsync('alias/t', String(i), { qos: 1 });
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(msgs, ['alias/t:0', 'alias/t:1', 'alias/t:2']);
    await a.endAsync();
    await b.endAsync();
  });

  test('shared subscription over MQTT.js clients', async () => {
    const a = await connect(tb.url);
    const b = await connect(tb.url);
    const p = await connect(tb.url);
    let na = 0;
    let nb = 0;
    a.on('message', () => na++);
    b.on('message', () => nb++);
    await a.subscribeAsync('$share/w/jobs', { qos: 1 });
    await b.subscribeAsync('$share/w/jobs', { qos: 1 });
    for (let i = 0; i < 10; i++) await p.publishAsync('jobs', String(i), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(na + nb, 10);
    assert.equal(na, 5);
    for (const c of [a, b, p]) await c.endAsync();
  });

  test('session expiry and Session Present with MQTT.js', async () => {
    const opts = { clientId: 'js-sess', clean: false, properties: { sessionExpiryInterval: 30 } };
    const a = await connect(tb.url, opts);
    await a.subscribeAsync('sess/t', { qos: 1 });
    await a.endAsync();
    const p = await connect(tb.url);
    await p.publishAsync('sess/t', 'offline', { qos: 1 });
    const b = mqtt.connect(tb.url, { protocolVersion: 5, reconnectPeriod: 0, ...opts });
    // The queued message can arrive in the same chunk as CONNACK: listen first.
    const got = nextMessage(b);
    const [ack] = (await new Promise((r) => b.once('connect', (x) => r([x])))) as [
      mqtt.IConnackPacket,
    ];
    assert.equal(ack.sessionPresent, true);
    const m = await got;
    assert.equal(m.payload.toString(), 'offline');
    await b.endAsync();
    await p.endAsync();
  });
});
