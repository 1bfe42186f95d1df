/**
 * Wills when the broker itself stops: every connection closes without
 * DISCONNECT, so wills are due, at the earlier of the Will Delay Interval and
 * the end of the session [MQTT-3.1.2-8]. Without a store every session ends
 * with the broker; with one, a stored session survives and its delayed will
 * waits for the restarted broker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Packet, PublishPacket, Will } from '../../../src/protocol/packets.js';
import { startBroker } from '../../helpers/broker.js';
import { connectRaw, type RawClient } from '../../helpers/raw-client.js';

function will(topic: string, payload: string, willDelayInterval?: number): Will {
  return {
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    properties: willDelayInterval === undefined ? undefined : { willDelayInterval },
  };
}

async function watch(port: number, topic: string, version: 4 | 5 = 4): Promise<RawClient> {
  const c = await connectRaw(port, {}, version);
  c.send({
    type: 8,
    packetId: 1,
    subscriptions: [{ topic, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
  });
  await c.nextOfType(9);
  return c;
}

const willsOf = (c: RawClient): string[] =>
  c.received
    .filter((p: Packet): p is PublishPacket => p.type === 3)
    .map((p) => p.payload.toString());

describe('wills at broker shutdown, no store', () => {
  test('[MQTT-3.1.2-8] a will is published at shutdown to every connected subscriber, also those connected before its client', async () => {
    const tb = await startBroker();
    const early = await watch(tb.port, 'bye/#');
    const client = await connectRaw(tb.port, { will: will('bye/v3', 'v3 gone') });
    const late = await watch(tb.port, 'bye/#', 5);
    await tb.close();
    assert.equal(await early.waitClosed(), true);
    assert.deepEqual(willsOf(early), ['v3 gone']);
    assert.deepEqual(willsOf(late), ['v3 gone']);
    client.destroy();
  });

  test('[MQTT-3.1.2-8] a delayed will of a connected client is published at shutdown: its session ends with the broker', async () => {
    const tb = await startBroker();
    const sub = await watch(tb.port, 'delayed/#');
    const client = await connectRaw(
      tb.port,
      {
        will: will('delayed/x', 'session ended', 600),
        properties: { sessionExpiryInterval: 3600 },
      },
      5,
    );
    await tb.close();
    assert.equal(await sub.waitClosed(), true);
    assert.deepEqual(willsOf(sub), ['session ended']);
    client.destroy();
  });

  test('[MQTT-3.1.2-8] a delayed will still pending for an offline session is published at shutdown', async () => {
    const tb = await startBroker();
    const sub = await watch(tb.port, 'pending/#');
    const client = await connectRaw(
      tb.port,
      { will: will('pending/x', 'pending will', 600), properties: { sessionExpiryInterval: 3600 } },
      5,
    );
    client.destroy();
    await client.waitClosed();
    // The connection is gone; its will waits 600 s or for the session to end.
    assert.deepEqual(willsOf(sub), []);
    await tb.close();
    assert.equal(await sub.waitClosed(), true);
    assert.deepEqual(willsOf(sub), ['pending will']);
  });
});

describe('wills at broker shutdown, LMDB store', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('[MQTT-3.1.2-8] a stored session survives: its delayed will is not published at shutdown, but after the restart when due', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heron-shutwill-'));
    dirs.push(dir);
    const persistence = { backend: 'lmdb' as const, location: dir };
    const a = await startBroker({ persistence });
    const sub = await watch(a.port, 'stored/#');
    const client = await connectRaw(
      a.port,
      {
        clientId: 'delays',
        will: will('stored/x', 'after the delay', 1),
        properties: { sessionExpiryInterval: 3600 },
      },
      5,
    );
    await a.close();
    assert.equal(await sub.waitClosed(), true);
    assert.deepEqual(willsOf(sub), [], 'the will delay has not passed and the session lives on');
    client.destroy();

    const b = await startBroker({ persistence });
    const again = await watch(b.port, 'stored/#');
    const got = await again.nextOfType<PublishPacket>(3, 5000);
    assert.equal(got.payload.toString(), 'after the delay');
    again.destroy();
    await b.close();
  });
});
