import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ack,
  collect,
  delay,
  nextPublish,
  noPublish,
  publish,
  subscribe,
  suiteHarness,
  uid,
} from './support.js';

describe('MQTT 3.1.1 retained messages', () => {
  const h = suiteHarness();

  test('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] a retained message is stored with its QoS and sent with RETAIN 1 to new subscribers', async () => {
    const p = await h.connect();
    await publish(p, 'ret/store', 'kept', 1, true);
    const s = await h.connect();
    await subscribe(s, 'ret/store', 2);
    const got = await nextPublish(s, 'ret/store');
    assert.equal(got.retain, true);
    assert.equal(got.qos, 1);
    assert.equal(got.payload.toString(), 'kept');
    await ack(s, got);
    const s0 = await h.connect();
    await subscribe(s0, 'ret/store', 0);
    const got0 = await nextPublish(s0, 'ret/store');
    assert.equal(got0.qos, 0, 'min(stored QoS, granted QoS)');
  });

  test('[MQTT-3.3.1-6] a wildcard subscription receives the retained message of every matching topic', async () => {
    const p = await h.connect();
    await publish(p, 'retw/a', 'A', 0, true);
    await publish(p, 'retw/b/c', 'BC', 0, true);
    await publish(p, 'retw', 'root', 0, true);
    await publish(p, 'other/x', 'X', 0, true);
    const s = await h.connect();
    await subscribe(s, 'retw/#', 0);
    const got = await collect(s, 3);
    assert.deepEqual(got.map((x) => x.topic).sort(), ['retw', 'retw/a', 'retw/b/c']);
    assert.ok(got.every((x) => x.retain));
    const s2 = await h.connect();
    await subscribe(s2, '+/a', 0);
    assert.equal((await nextPublish(s2)).topic, 'retw/a');
    await noPublish(s2, 100);
  });

  test('[MQTT-3.3.1-7] a QoS 0 retained message replaces the retained message of the topic', async () => {
    const p = await h.connect();
    await publish(p, 'ret/replace', 'old', 2, true);
    await publish(p, 'ret/replace', 'new', 0, true);
    const s = await h.connect();
    await subscribe(s, 'ret/replace', 2);
    const got = await nextPublish(s, 'ret/replace');
    assert.equal(got.payload.toString(), 'new');
    assert.equal(got.qos, 0);
    await noPublish(s, 100);
  });

  test('[MQTT-3.3.1-9] messages matching an established subscription are forwarded with RETAIN 0', async () => {
    const s = await h.connect();
    await subscribe(s, 'ret/live', 1);
    const p = await h.connect();
    await publish(p, 'ret/live', 'now', 1, true);
    const got = await nextPublish(s, 'ret/live');
    assert.equal(got.retain, false);
    await ack(s, got);
  });

  test('[MQTT-3.3.1-10] [MQTT-3.3.1-11] an empty retained payload is delivered normally and deletes the retained message', async () => {
    const p = await h.connect();
    await publish(p, 'ret/del', 'something', 1, true);
    const s = await h.connect();
    await subscribe(s, 'ret/del', 1);
    await ack(s, await nextPublish(s, 'ret/del'));
    await publish(p, 'ret/del', '', 1, true);
    const got = await nextPublish(s, 'ret/del');
    assert.equal(got.payload.length, 0);
    await ack(s, got);
    const late = await h.connect();
    await subscribe(late, 'ret/del', 1);
    await noPublish(late, 150);
    assert.equal(h.tb.broker.retained.get('ret/del'), undefined);
  });

  test('[MQTT-3.3.1-12] a PUBLISH with RETAIN 0 neither stores nor replaces the retained message', async () => {
    const p = await h.connect();
    await publish(p, 'ret/keep', 'retained', 0, true);
    await publish(p, 'ret/keep', 'transient', 0, false);
    await publish(p, 'ret/none', 'transient', 0, false);
    const s = await h.connect();
    await subscribe(s, 'ret/keep', 0);
    await subscribe(s, 'ret/none', 0);
    assert.equal((await nextPublish(s)).payload.toString(), 'retained');
    await noPublish(s, 100);
  });

  test('[MQTT-3.1.2.7] retained messages outlive the session of the client that published them', async () => {
    const id = uid();
    const p = await h.connect({ clientId: id, clean: true });
    await publish(p, 'ret/session', 'still here', 0, true);
    p.destroy();
    await delay(50);
    await h.connect({ clientId: id, clean: true });
    const s = await h.connect();
    await subscribe(s, 'ret/session', 0);
    assert.equal((await nextPublish(s, 'ret/session')).payload.toString(), 'still here');
  });

  test('[MQTT-3.8.4-3] subscribing again to the same filter re-sends the retained messages', async () => {
    const p = await h.connect();
    await publish(p, 'ret/again', 'r', 0, true);
    const s = await h.connect();
    await subscribe(s, 'ret/again', 0);
    assert.equal((await nextPublish(s, 'ret/again')).retain, true);
    await subscribe(s, 'ret/again', 1);
    assert.equal((await nextPublish(s, 'ret/again')).retain, true);
  });
});
