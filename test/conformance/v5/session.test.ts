/**
 * MQTT 5.0 conformance, session lifetime, will delay and DISCONNECT
 * (spec 3.1.2.11.2, 3.1.3.2.2, 3.14, 4.1) over real TCP. Short expiries keep it fast.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, ReasonCode } from '../../../src/protocol/constants.js';
import type { DisconnectPacket } from '../../../src/protocol/packets.js';
import { startBroker, suiteBroker } from '../../helpers/broker.js';
import { delay } from '../../helpers/raw-client.js';
import {
  nextPublish,
  publish,
  serverDisconnect,
  subscribe,
  uniq,
  v5,
  v5Connack,
} from './support.js';

describe('MQTT 5 sessions, wills and DISCONNECT', () => {
  const tb = suiteBroker();

  test('[MQTT-4.1.0-2] a session with expiry 1 s is removed with its queued messages after 1 s', async () => {
    const t = uniq('sexp');
    const a = await v5(tb.port, { clientId: 'sexp', properties: { sessionExpiryInterval: 1 } });
    await subscribe(a, [t]);
    a.destroy();
    const p = await v5(tb.port);
    await publish(p, t, 'queued', 1);
    await delay(50);
    assert.equal(tb.broker.sessions.get('sexp')?.queuedCount, 1);
    await delay(2100);
    assert.equal(tb.broker.sessions.has('sexp'), false);
    const { c, ack } = await v5Connack(tb.port, { clientId: 'sexp', clean: false });
    assert.equal(ack.sessionPresent, false);
    assert.equal((await c.quiet(150)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    c.destroy();
    p.destroy();
  });

  test('[MQTT-4.1.0-1] a session with expiry 0 ends with the connection; 0xFFFFFFFF never expires', async () => {
    const a = await v5(tb.port, { clientId: 's0' });
    a.destroy();
    const b = await v5(tb.port, {
      clientId: 'sinf',
      properties: { sessionExpiryInterval: 0xffffffff },
    });
    b.destroy();
    await delay(1200);
    assert.equal(tb.broker.sessions.has('s0'), false);
    assert.equal(tb.broker.sessions.has('sinf'), true);
  });

  test('DISCONNECT can change the Session Expiry Interval (non-zero to 0 ends the session)', async () => {
    const a = await v5(tb.port, { clientId: 'sdisc', properties: { sessionExpiryInterval: 60 } });
    a.send({
      type: PacketType.DISCONNECT,
      reasonCode: 0,
      properties: { sessionExpiryInterval: 0 },
    });
    await a.waitClosed();
    await delay(50);
    assert.equal(tb.broker.sessions.has('sdisc'), false);
  });

  test('a DISCONNECT turning a 0 Session Expiry Interval non-zero is a protocol error (DISCONNECT 0x82)', async () => {
    const a = await v5(tb.port);
    a.send({
      type: PacketType.DISCONNECT,
      reasonCode: 0,
      properties: { sessionExpiryInterval: 10 },
    });
    assert.equal(await serverDisconnect(a), ReasonCode.ProtocolError);
  });

  test('[MQTT-3.1.3-9] a client back before the Will Delay Interval: no will', async () => {
    const t = uniq('wdc');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const will = {
      topic: t,
      payload: Buffer.from('w'),
      qos: 0 as const,
      retain: false,
      properties: { willDelayInterval: 2 },
    };
    const a = await v5(tb.port, {
      clientId: 'wdc',
      will,
      properties: { sessionExpiryInterval: 30 },
    });
    a.destroy();
    await delay(300);
    const b = await v5(tb.port, {
      clientId: 'wdc',
      clean: false,
      properties: { sessionExpiryInterval: 30 },
    });
    assert.equal((await s.quiet(2500)).filter((x) => x.type === PacketType.PUBLISH).length, 0);
    b.destroy();
    s.destroy();
  });

  test('[MQTT-3.1.2-8] the will is sent when the Will Delay Interval passes', async () => {
    const t = uniq('wdp');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const will = {
      topic: t,
      payload: Buffer.from('late'),
      qos: 0 as const,
      retain: false,
      properties: { willDelayInterval: 1 },
    };
    const a = await v5(tb.port, {
      clientId: 'wdp',
      will,
      properties: { sessionExpiryInterval: 30 },
    });
    const start = Date.now();
    a.destroy();
    assert.equal((await nextPublish(s, 4000)).payload.toString(), 'late');
    assert.ok(Date.now() - start >= 900);
    s.destroy();
  });

  test('[MQTT-3.1.2-8] the will is sent when the session ends before the Will Delay Interval', async () => {
    const t = uniq('wds');
    const s = await v5(tb.port);
    await subscribe(s, [t]);
    const will = {
      topic: t,
      payload: Buffer.from('session over'),
      qos: 0 as const,
      retain: false,
      properties: { willDelayInterval: 30 },
    };
    const a = await v5(tb.port, {
      clientId: 'wds',
      will,
      properties: { sessionExpiryInterval: 1 },
    });
    a.destroy();
    assert.equal((await nextPublish(s, 4000)).payload.toString(), 'session over');
    s.destroy();
  });

  test('[MQTT-3.14.0-1] no DISCONNECT before a successful CONNACK (a refused CONNECT gets CONNACK only)', async () => {
    const r = await startBroker({ allowAnonymous: false });
    const { c, ack } = await v5Connack(r.port);
    assert.ok(ack.reasonCode >= 0x80);
    await c.waitClosed();
    assert.equal(c.received.filter((p) => p.type === PacketType.DISCONNECT).length, 0);
    await r.close();
  });

  test('[MQTT-3.14.1-1] DISCONNECT with reserved header bits set is malformed', async () => {
    const c = await v5(tb.port);
    c.sendRaw([0xe1, 0]);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-3.14.2-2] [MQTT-3.14.4-1] [MQTT-3.14.4-2] a broker DISCONNECT has no Session Expiry, is the last packet, and closes', async () => {
    const a = await v5(tb.port, { clientId: 'last', properties: { sessionExpiryInterval: 30 } });
    await v5(tb.port, { clientId: 'last' });
    const d = await a.nextOfType<DisconnectPacket>(PacketType.DISCONNECT);
    assert.equal(d.reasonCode, ReasonCode.SessionTakenOver);
    assert.equal(d.properties?.sessionExpiryInterval, undefined);
    assert.equal(await a.waitClosed(), true);
    assert.equal(a.received.length, 0);
  });

  test('shutdown: DISCONNECT 0x8B (server shutting down)', async () => {
    const r = await startBroker();
    const c = await v5(r.port);
    const closing = r.close();
    assert.equal(await serverDisconnect(c), ReasonCode.ServerShuttingDown);
    await closing;
  });
});
