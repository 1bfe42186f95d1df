import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, type QoS } from '../../../src/protocol/constants.js';
import type { ConnectPacket } from '../../../src/protocol/packets.js';
import {
  ack,
  assertClosed,
  delay,
  frame,
  nextPublish,
  noPublish,
  subscribe,
  suiteHarness,
  uid,
} from './support.js';

function will(
  topic: string,
  payload = 'gone',
  qos: QoS = 0,
  retain = false,
): Partial<ConnectPacket> {
  return { will: { topic, payload: Buffer.from(payload), qos, retain } };
}

describe('MQTT 3.1.1 will messages', () => {
  const h = suiteHarness({ hooks: { authenticate: (r) => r.username !== 'bad' } });

  test('[MQTT-3.1.2-8] the will is published when the network connection closes without DISCONNECT', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/close', 0);
    const c = await h.connect(will('will/close', 'socket closed'));
    c.destroy();
    const got = await nextPublish(s, 'will/close');
    assert.equal(got.payload.toString(), 'socket closed');
  });

  test('[MQTT-3.1.2-8] [MQTT-3.1.2-24] the will is published when keep alive expires', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/keepalive', 0);
    const c = await h.connect({ keepalive: 1, ...will('will/keepalive', 'timed out') });
    const t0 = Date.now();
    const got = await nextPublish(s, 'will/keepalive', 4000);
    assert.equal(got.payload.toString(), 'timed out');
    assert.ok(Date.now() - t0 >= 1400, 'not before 1.5 x keep alive');
    await assertClosed(c);
  });

  test('[MQTT-3.1.2-8] [MQTT-4.8.0-1] the will is published when the broker closes the connection for a protocol violation', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/violation', 0);
    const c = await h.connect(will('will/violation', 'violated'));
    c.sendRaw(frame(0x36, Buffer.from([0, 1, 0x61, 0, 1]))); // PUBLISH QoS 3
    await assertClosed(c);
    assert.equal((await nextPublish(s, 'will/violation')).payload.toString(), 'violated');
  });

  test('[MQTT-3.1.4-2] the will of a connection taken over by the same client id is published', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/takeover', 0);
    const id = uid();
    const first = await h.connect({ clientId: id, ...will('will/takeover', 'taken over') });
    await h.connect({ clientId: id });
    await assertClosed(first);
    assert.equal((await nextPublish(s, 'will/takeover')).payload.toString(), 'taken over');
  });

  test('[MQTT-3.1.2-10] [MQTT-3.14.4-3] a DISCONNECT discards the will', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/disconnect', 0);
    const c = await h.connect(will('will/disconnect'));
    c.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await assertClosed(c);
    await noPublish(s, 200);
  });

  test('[MQTT-3.14.1-1] a DISCONNECT with reserved bits set is a violation: closed and the will is published', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/baddisc', 0);
    const c = await h.connect(will('will/baddisc', 'not a real disconnect'));
    c.sendRaw([0xe1, 0x00]);
    await assertClosed(c);
    await nextPublish(s, 'will/baddisc');
  });

  test('[MQTT-3.1.2-12] without the will flag nothing is published when the connection ends', async () => {
    const s = await h.connect();
    await subscribe(s, '#', 0);
    const c = await h.connect();
    c.destroy();
    await noPublish(s, 200);
  });

  test('[MQTT-3.1.2-9] the will QoS is honoured (min with the subscription)', async () => {
    const s2 = await h.connect();
    await subscribe(s2, 'will/qos', 2);
    const s1 = await h.connect();
    await subscribe(s1, 'will/qos', 1);
    const c = await h.connect(will('will/qos', 'q2', 2));
    c.destroy();
    const a = await nextPublish(s2, 'will/qos');
    assert.equal(a.qos, 2);
    await ack(s2, a);
    const b = await nextPublish(s1, 'will/qos');
    assert.equal(b.qos, 1);
    await ack(s1, b);
  });

  test('[MQTT-3.1.2-16] will retain 0: published as a non-retained message', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/nonret', 0);
    const c = await h.connect(will('will/nonret', 'x', 0, false));
    c.destroy();
    assert.equal((await nextPublish(s, 'will/nonret')).retain, false);
    const late = await h.connect();
    await subscribe(late, 'will/nonret', 0);
    await noPublish(late, 150);
  });

  test('[MQTT-3.1.2-17] will retain 1: published as a retained message', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/ret', 1);
    const c = await h.connect(will('will/ret', 'retained will', 1, true));
    c.destroy();
    const live = await nextPublish(s, 'will/ret');
    assert.equal(live.retain, false, 'RETAIN 0 to established subscriptions');
    await ack(s, live);
    const late = await h.connect();
    await subscribe(late, 'will/ret', 1);
    const got = await nextPublish(late, 'will/ret');
    assert.equal(got.retain, true);
    assert.equal(got.payload.toString(), 'retained will');
  });

  test('a refused CONNECT never publishes its will', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/refused', 0);
    const { c, ack: a } = await h.connack({ username: 'bad', ...will('will/refused') });
    assert.equal(a.reasonCode, 0x04);
    await assertClosed(c);
    await noPublish(s, 200);
  });

  test('a will is published once, not again when the session later expires or resumes', async () => {
    const s = await h.connect();
    await subscribe(s, 'will/once', 0);
    const id = uid();
    const c = await h.connect({ clientId: id, clean: false, ...will('will/once') });
    c.destroy();
    await nextPublish(s, 'will/once');
    await delay(50);
    const again = await h.connect({ clientId: id, clean: true });
    again.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await noPublish(s, 200);
  });
});
