import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import type { PublishPacket } from '../../../src/protocol/packets.js';
import { startBroker } from '../../helpers/broker.js';
import { connectRaw } from '../../helpers/raw-client.js';
import { nextPublish, noPublish, subscribe, suiteHarness, uid } from './support.js';

// When an incoming QoS 2 message goes onward. The default (`pubrec-first`, as
// Mosquitto, the spec's "Method B"): PUBREC at once, delivery at PUBREL. The
// option `deliver-first` ("Method A"): delivery on PUBLISH.

function q2(topic: string, payload: string, packetId: number, dup = false): PublishPacket {
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos: 2,
    retain: false,
    dup,
    packetId,
  };
}

describe('QoS 2 onward delivery, default order (PUBREC first)', () => {
  const h = suiteHarness();

  test('[MQTT-4.3.3-2] PUBREC comes first; subscribers get the message at PUBREL, once, however often PUBLISH is re-sent', async () => {
    const topic = `q2order/${uid()}`;
    const sub = await h.connect();
    await subscribe(sub, topic, 2);
    const pub = await h.connect();
    pub.send(q2(topic, 'held', 21));
    await pub.next((p) => p.type === PacketType.PUBREC && p.packetId === 21);
    pub.send(q2(topic, 'held', 21, true));
    await pub.next((p) => p.type === PacketType.PUBREC && p.packetId === 21);
    await noPublish(sub, 200);
    pub.send({ type: PacketType.PUBREL, packetId: 21, reasonCode: 0 });
    await pub.next((p) => p.type === PacketType.PUBCOMP && p.packetId === 21);
    assert.equal((await nextPublish(sub, topic)).payload.toString(), 'held');
    await noPublish(sub, 200);
  });

  test('[MQTT-4.3.3-2] a publisher that never sends PUBREL delivers nothing', async () => {
    const topic = `q2order/${uid()}`;
    const sub = await h.connect();
    await subscribe(sub, topic, 1);
    const pub = await h.connect();
    pub.send(q2(topic, 'never released', 22));
    await pub.next((p) => p.type === PacketType.PUBREC);
    pub.destroy();
    await noPublish(sub, 300);
  });
});

describe('QoS 2 onward delivery, qos2Order deliver-first', () => {
  const h = suiteHarness({ qos2Order: 'deliver-first' });

  test('[MQTT-4.3.3-2] subscribers get the message on PUBLISH, before PUBREL, and once', async () => {
    const topic = `q2order/${uid()}`;
    const sub = await h.connect();
    await subscribe(sub, topic, 2);
    const pub = await h.connect();
    pub.send(q2(topic, 'early', 23));
    await pub.next((p) => p.type === PacketType.PUBREC);
    assert.equal((await nextPublish(sub, topic)).payload.toString(), 'early');
    pub.send(q2(topic, 'early', 23, true));
    await pub.next((p) => p.type === PacketType.PUBREC);
    pub.send({ type: PacketType.PUBREL, packetId: 23, reasonCode: 0 });
    await pub.next((p) => p.type === PacketType.PUBCOMP);
    await noPublish(sub, 200);
  });
});

describe('QoS 2 held until PUBREL across a restart (LMDB store)', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('[MQTT-4.3.3-2] the held message survives the restart and goes out exactly once at PUBREL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heron-q2order-'));
    dirs.push(dir);
    const persistence = { backend: 'lmdb' as const, location: dir };
    const a = await startBroker({ persistence });
    const sub1 = await connectRaw(a.port, { clientId: 'q2-sub', clean: false });
    await subscribe(sub1, 'kept/#', 2);
    sub1.destroy();
    const pub1 = await connectRaw(a.port, { clientId: 'q2-pub', clean: false });
    pub1.send(q2('kept/x', 'across restart', 31));
    await pub1.next((p) => p.type === PacketType.PUBREC);
    pub1.destroy();
    await a.close();

    const b = await startBroker({ persistence });
    const sub2 = await connectRaw(b.port, { clientId: 'q2-sub', clean: false });
    await noPublish(sub2, 200);
    const pub2 = await connectRaw(b.port, { clientId: 'q2-pub', clean: false });
    // The publisher does not know whether the PUBREC was kept: it re-sends the PUBLISH.
    pub2.send(q2('kept/x', 'across restart', 31, true));
    await pub2.next((p) => p.type === PacketType.PUBREC);
    pub2.send({ type: PacketType.PUBREL, packetId: 31, reasonCode: 0 });
    await pub2.next((p) => p.type === PacketType.PUBCOMP);
    assert.equal((await nextPublish(sub2, 'kept/x')).payload.toString(), 'across restart');
    await noPublish(sub2, 200);
    sub2.destroy();
    pub2.destroy();
    await b.close();
  });
});
