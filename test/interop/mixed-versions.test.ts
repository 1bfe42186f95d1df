/** v3.1.1 and v5 clients side by side on one broker (MQTT.js for both). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteBroker } from '../helpers/broker.js';
import { connect, nextMessage } from './mqttjs-helpers.js';

describe('mixed MQTT versions', () => {
  const tb = suiteBroker();

  test('v3.1.1 publisher to v5 subscriber', async () => {
    const sub = await connect(tb.url, { protocolVersion: 5 });
    const pub = await connect(tb.url, { protocolVersion: 4 });
    await sub.subscribeAsync('mix/a', { qos: 2, properties: { subscriptionIdentifier: 9 } });
    const got = nextMessage(sub);
    await pub.publishAsync('mix/a', 'from v3', { qos: 1 });
    const m = await got;
    assert.equal(m.payload.toString(), 'from v3');
    assert.equal(m.packet.qos, 1);
    assert.equal(m.packet.properties?.subscriptionIdentifier, 9);
    await sub.endAsync();
    await pub.endAsync();
  });

  test('v5 publisher (with properties) to v3.1.1 subscriber: payload arrives, properties dropped', async () => {
    const sub = await connect(tb.url, { protocolVersion: 4 });
    const pub = await connect(tb.url, { protocolVersion: 5 });
    await sub.subscribeAsync('mix/b', { qos: 1 });
    const got = nextMessage(sub);
    await pub.publishAsync('mix/b', 'from v5', {
      qos: 2,
      properties: { userProperties: { a: 'b' }, messageExpiryInterval: 60 },
    });
    const m = await got;
    assert.equal(m.payload.toString(), 'from v5');
    assert.equal(m.packet.qos, 1);
    assert.equal(m.packet.properties, undefined);
    await sub.endAsync();
    await pub.endAsync();
  });

  test('a shared subscription spanning a v3.1.1 and a v5 member', async () => {
    const a = await connect(tb.url, { protocolVersion: 4 });
    const b = await connect(tb.url, { protocolVersion: 5 });
    const p = await connect(tb.url, { protocolVersion: 5 });
    let na = 0;
    let nb = 0;
    a.on('message', () => na++);
    b.on('message', () => nb++);
    await a.subscribeAsync('$share/mix/jobs', { qos: 1 });
    await b.subscribeAsync('$share/mix/jobs', { qos: 1 });
    for (let i = 0; i < 8; i++) await p.publishAsync('jobs', String(i), { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(na, 4);
    assert.equal(nb, 4);
    for (const c of [a, b, p]) await c.endAsync();
  });
});
