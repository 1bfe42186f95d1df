import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import {
  assertClosed,
  assertOpen,
  delay,
  frame,
  nextPublish,
  noPublish,
  publish,
  rawConnect,
  str,
  subscribe,
  suiteHarness,
  types,
  uid,
} from './support.js';

describe('MQTT 3.1.1 CONNECT / CONNACK', () => {
  const seen: Array<{ user: string | undefined; pass: string | undefined }> = [];
  const h = suiteHarness({
    allowZeroLengthClientId: true,
    connectTimeout: 0.5,
    hooks: {
      authenticate(req) {
        seen.push({ user: req.username, pass: req.password?.toString() });
        if (req.username === 'bad') return false;
        if (req.username === 'denied') return 0x87;
        if (req.username === 'boom') throw new Error('hook failure');
        return undefined;
      },
    },
  });

  test('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection', async () => {
    const c = await h.socket();
    c.send({ type: PacketType.PINGREQ });
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.0-2] a second CONNECT closes the connection', async () => {
    const c = await h.connect();
    c.send({
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId: uid(),
    });
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-1] a wrong protocol name is not processed as MQTT: no CONNACK 0, closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02, str('x'), { name: 'MQTX' }));
    await assertClosed(c);
    assert.ok(c.received.every((p) => p.type === PacketType.CONNACK && p.reasonCode !== 0));
  });

  test('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 0x01 and is closed', async () => {
    for (const level of [2, 6, 255]) {
      const c = await h.socket();
      c.sendRaw(rawConnect(0x02, str('x'), { level }));
      const ack = await c.nextOfType(PacketType.CONNACK);
      assert.equal((ack as { reasonCode: number }).reasonCode, 0x01, `level ${level}`);
      await assertClosed(c);
    }
  });

  test('[MQTT-3.1.2-3] [MQTT-3.1.4-1] the reserved CONNECT flag set: closed without CONNACK', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x03, str(uid())));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-9] will flag set without will topic and message: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x06, str(uid())));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-11] [MQTT-3.1.2-13] will QoS set without the will flag: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02 | 0x08, str(uid())));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-11] will topic and message present without the will flag: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02, Buffer.concat([str(uid()), str('w/t'), str('gone')])));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-14] will QoS 3: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02 | 0x04 | 0x18, Buffer.concat([str(uid()), str('w/t'), str('x')])));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-15] will retain set without the will flag: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02 | 0x20, str(uid())));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-18] [MQTT-3.1.2-20] user name or password present without their flags: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02, Buffer.concat([str(uid()), str('user')])));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-19] user name flag set but no user name: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x82, str(uid())));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-21] password flag set but no password: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0xc2, Buffer.concat([str(uid()), str('user')])));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.2-22] password flag without user name flag: closed', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x42, Buffer.concat([str(uid()), str('pw')])));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.3-1] client id, will topic, will message, user name, password in order are all read', async () => {
    const id = uid();
    const c = await h.socket();
    c.sendRaw(
      rawConnect(
        0xc2 | 0x04,
        Buffer.concat([str(id), str('will/order'), str('wm'), str('alice'), str('secret')]),
      ),
    );
    const ack = await c.nextOfType(PacketType.CONNACK);
    assert.equal((ack as { reasonCode: number }).reasonCode, 0);
    assert.deepEqual(seen.at(-1), { user: 'alice', pass: 'secret' });
  });

  test('[MQTT-3.1.3-3] [MQTT-3.2.2-6] a CONNECT without client id field: closed without CONNACK', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02, Buffer.alloc(0)));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.3-4] a client id that is not UTF-8: closed without CONNACK', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02, str(Buffer.from([0x61, 0xff, 0xfe]))));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.3-5] client ids of 1 to 23 characters [0-9a-zA-Z] are accepted', async () => {
    for (const id of ['a', 'Z9', 'abcdefghijklmnopqrstuvw']) {
      const c = await h.connect({ clientId: id });
      await assertOpen(c);
      c.destroy();
    }
  });

  test('[MQTT-3.1.3-2] [MQTT-3.1.3-6] a zero-length client id with clean session gets a unique id', async () => {
    const a = await h.connect({ clientId: '', clean: true });
    const b = await h.connect({ clientId: '', clean: true });
    // Both stay connected: they were given different identities.
    await subscribe(a, 'zero/a', 0);
    await subscribe(b, 'zero/b', 0);
    await assertOpen(a);
    await assertOpen(b);
    await publish(b, 'zero/a', 'for a');
    assert.equal((await nextPublish(a, 'zero/a')).payload.toString(), 'for a');
    await noPublish(b, 100, 'zero/a');
    const ids = [...h.tb.broker.sessions.keys()].filter((k) => k.startsWith('auto-'));
    assert.ok(ids.length >= 2);
  });

  test('[MQTT-3.1.3-8] a zero-length client id without clean session: CONNACK 0x02 and closed', async () => {
    const { c, ack } = await h.connack({ clientId: '', clean: false });
    assert.equal(ack.reasonCode, 0x02);
    assert.equal(ack.sessionPresent, false);
    await assertClosed(c);
  });

  test('[MQTT-3.1.3-10] a will topic that is not UTF-8: closed without CONNACK', async () => {
    const c = await h.socket();
    c.sendRaw(
      rawConnect(0x06, Buffer.concat([str(uid()), str(Buffer.from([0xc0, 0x80])), str('x')])),
    );
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.3-11] a user name that is not UTF-8: closed without CONNACK', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x82, Buffer.concat([str(uid()), str(Buffer.from([0xed, 0xa0, 0x80]))])));
    await assertClosed(c);
    assert.deepEqual(types(c), []);
  });

  test('[MQTT-3.1.4-2] a second connection with the same client id closes the first', async () => {
    const id = uid();
    const first = await h.connect({ clientId: id });
    const second = await h.connect({ clientId: id });
    await assertClosed(first);
    await assertOpen(second);
  });

  test('[MQTT-3.1.4-3] [MQTT-3.1.4-4] [MQTT-3.2.0-1] a valid CONNECT gets CONNACK 0 as the first packet', async () => {
    const id = uid();
    // Leave something to deliver so the broker has a reason to send more than CONNACK.
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'first/packet', 1);
    a.destroy();
    await delay(50);
    const p = await h.connect();
    await publish(p, 'first/packet', 'queued', 1);
    const c = await h.socket();
    c.send({
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 4,
      clean: false,
      keepalive: 60,
      clientId: id,
    });
    await nextPublish(c, 'first/packet');
    assert.equal(types(c)[0], PacketType.CONNACK);
  });

  test('[MQTT-3.1.4-5] after refusing a CONNECT the broker processes nothing the client sent after it', async () => {
    const c = await h.socket();
    const connect = rawConnect(0xc2, Buffer.concat([str(uid()), str('bad'), str('x')]));
    const pub = frame(0x31, Buffer.concat([str('refused/after'), Buffer.from('leak')]));
    c.sendRaw(Buffer.concat([connect, pub]));
    const ack = await c.nextOfType(PacketType.CONNACK);
    assert.equal((ack as { reasonCode: number }).reasonCode, 0x04);
    await assertClosed(c);
    assert.equal(h.tb.broker.retained.size, 0);
    const s = await h.connect();
    await subscribe(s, 'refused/after', 0);
    await noPublish(s, 100);
  });

  test('[MQTT-3.2.2-1] clean session 1 gets Session Present 0 even if a session was stored', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false });
    await subscribe(a, 'sp/x', 1);
    a.destroy();
    await delay(50);
    const { ack } = await h.connack({ clientId: id, clean: true });
    assert.equal(ack.reasonCode, 0);
    assert.equal(ack.sessionPresent, false);
  });

  test('[MQTT-3.2.2-2] [MQTT-3.2.2-3] clean session 0: Session Present says whether state was stored', async () => {
    const id = uid();
    const first = await h.connack({ clientId: id, clean: false });
    assert.equal(first.ack.sessionPresent, false);
    first.c.destroy();
    await delay(50);
    const second = await h.connack({ clientId: id, clean: false });
    assert.equal(second.ack.sessionPresent, true);
  });

  test('[MQTT-3.2.2-4] [MQTT-3.2.2-5] a refused CONNECT gets Session Present 0, then the connection is closed', async () => {
    const id = uid();
    const a = await h.connect({ clientId: id, clean: false, username: 'alice' });
    a.destroy();
    await delay(50);
    const { c, ack } = await h.connack({ clientId: id, clean: false, username: 'bad' });
    assert.equal(ack.reasonCode, 0x04);
    assert.equal(ack.sessionPresent, false);
    await assertClosed(c);
  });

  test('authenticate hook: false refuses with 0x04 (bad user name or password)', async () => {
    const { c, ack } = await h.connack({ username: 'bad', password: Buffer.from('pw') });
    assert.equal(ack.reasonCode, 0x04);
    assert.deepEqual(seen.at(-1), { user: 'bad', pass: 'pw' });
    await assertClosed(c);
  });

  test('authenticate hook: 0x87 refuses with 0x05 (not authorized)', async () => {
    const { c, ack } = await h.connack({ username: 'denied' });
    assert.equal(ack.reasonCode, 0x05);
    await assertClosed(c);
  });

  test('[MQTT-4.8.0-2] authenticate hook that throws: CONNACK 0x03 and only that client is closed', async () => {
    const other = await h.connect();
    const { c, ack } = await h.connack({ username: 'boom' });
    assert.equal(ack.reasonCode, 0x03);
    await assertClosed(c);
    await assertOpen(other);
  });

  test('connect timeout: a socket that never sends CONNECT is closed', async () => {
    const c = await h.socket();
    const t0 = Date.now();
    await assertClosed(c, 3000);
    assert.ok(Date.now() - t0 >= 400, 'closed too early');
    assert.deepEqual(types(c), []);
  });
});

describe('MQTT 3.1.1 CONNECT refusals by configuration', () => {
  const h = suiteHarness({ allowZeroLengthClientId: false, allowAnonymous: false });

  test('[MQTT-3.1.3-9] a client id the server rejects: CONNACK 0x02 and closed', async () => {
    const { c, ack } = await h.connack({ clientId: '', clean: true, username: 'u' });
    assert.equal(ack.reasonCode, 0x02);
    await assertClosed(c);
  });

  test('anonymous clients refused when allowAnonymous is false: CONNACK 0x05', async () => {
    const { c, ack } = await h.connack({});
    assert.equal(ack.reasonCode, 0x05);
    await assertClosed(c);
    const ok = await h.connect({ username: 'someone' });
    await assertOpen(ok);
  });
});

describe('MQTT 3.1 (protocol level 3, MQIsdp)', () => {
  const h = suiteHarness();

  test('MQIsdp level 3 CONNECT is accepted and can publish and subscribe at every QoS', async () => {
    const sub = await h.connect({}, 3);
    assert.deepEqual(
      await subscribe(sub, [
        ['v31/0', 0],
        ['v31/1', 1],
        ['v31/2', 2],
      ]),
      [0, 1, 2],
    );
    const pub = await h.connect({}, 3);
    await publish(pub, 'v31/0', 'zero', 0);
    await publish(pub, 'v31/1', 'one', 1);
    await publish(pub, 'v31/2', 'two', 2);
    const got = [await nextPublish(sub), await nextPublish(sub), await nextPublish(sub)];
    assert.deepEqual(
      got.map((p) => [p.topic, p.payload.toString(), p.qos]),
      [
        ['v31/0', 'zero', 0],
        ['v31/1', 'one', 1],
        ['v31/2', 'two', 2],
      ],
    );
  });

  test('MQTT 3.1 and 3.1.1 clients exchange messages', async () => {
    const v31 = await h.connect({}, 3);
    const v311 = await h.connect({}, 4);
    await subscribe(v31, 'mix/+', 1);
    await publish(v311, 'mix/a', 'hello', 1);
    const p = await nextPublish(v31);
    assert.equal(p.payload.toString(), 'hello');
    assert.equal(p.qos, 1);
  });

  test('MQTT 3.1 client ids longer than 23 characters get CONNACK 0x02', async () => {
    const { c, ack } = await h.connack({ clientId: 'x'.repeat(24) }, 3);
    assert.equal(ack.reasonCode, 0x02);
    await assertClosed(c);
  });

  test('MQTT 3.1 CONNACK: its first byte is reserved and stays 0, also when a session is resumed', async () => {
    // 3.1 has no Session Present flag: a 3.1 client may refuse a CONNACK whose reserved byte is set.
    const id = uid('v31s');
    const first = await h.socket(3);
    first.sendRaw(rawConnect(0x00, str(id), { name: 'MQIsdp', level: 3 }));
    await first.nextOfType(PacketType.CONNACK);
    await subscribe(first, 'v31/keep', 1);
    first.destroy();
    await first.waitClosed();
    const again = await h.socket(3);
    const bytes: Buffer[] = [];
    again.socket.on('data', (b: Buffer) => bytes.push(b));
    again.sendRaw(rawConnect(0x00, str(id), { name: 'MQIsdp', level: 3 }));
    await again.nextOfType(PacketType.CONNACK);
    assert.deepEqual([...Buffer.concat(bytes).subarray(0, 4)], [0x20, 0x02, 0x00, 0x00]);
    // The session was resumed all the same: its subscription still delivers.
    const pub = await h.connect({}, 3);
    await publish(pub, 'v31/keep', 'still subscribed', 1);
    assert.equal((await nextPublish(again)).payload.toString(), 'still subscribed');
  });

  test('"MQTT" with level 3 is an unacceptable protocol level (0x01)', async () => {
    const c = await h.socket();
    c.sendRaw(rawConnect(0x02, str('x'), { name: 'MQTT', level: 3 }));
    const ack = await c.nextOfType(PacketType.CONNACK);
    assert.equal((ack as { reasonCode: number }).reasonCode, 0x01);
    await assertClosed(c);
  });
});
