import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PacketType, type QoS } from '../../src/protocol/constants.js';
import type { Packet, PublishPacket } from '../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectRaw, type RawClient } from '../helpers/raw-client.js';

// A wrong kind of acknowledgement closes the connection without completing the
// delivery: the delivery must stay on disk too, so that a restarted broker still
// re-sends it (no loss of a message the client never acknowledged properly).

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function brokerOn(dir: string): Promise<TestBroker> {
  return startBroker({ persistence: { backend: 'lmdb', location: dir } });
}

function isPublish(p: Packet): p is PublishPacket {
  return p.type === PacketType.PUBLISH;
}

async function publish(c: RawClient, topic: string, payload: string, qos: QoS): Promise<void> {
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: false,
    dup: false,
    packetId: 7,
  });
  if (qos === 1) await c.nextOfType(PacketType.PUBACK);
  else {
    await c.nextOfType(PacketType.PUBREC);
    c.send({ type: PacketType.PUBREL, packetId: 7, reasonCode: 0 });
    await c.nextOfType(PacketType.PUBCOMP);
  }
}

describe('a wrong acknowledgement kind with the LMDB store', () => {
  for (const [qos, wrong] of [
    [2, PacketType.PUBACK],
    [1, PacketType.PUBCOMP],
  ] as const) {
    test(`[MQTT-4.8.0-1] ${wrong === PacketType.PUBACK ? 'PUBACK' : 'PUBCOMP'} for QoS ${qos}: the delivery survives a restart and is re-sent`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'heron-wrongack-'));
      dirs.push(dir);
      const a = await brokerOn(dir);
      const sub = await connectRaw(a.port, { clientId: 'wrong-ack', clean: false });
      sub.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          { topic: 'w/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      });
      await sub.nextOfType(PacketType.SUBACK);
      const pub = await connectRaw(a.port);
      await publish(pub, 'w/1', 'keep me', qos);
      const first = await sub.next<PublishPacket>(isPublish);
      sub.send({ type: wrong, packetId: first.packetId, reasonCode: 0 } as Packet);
      assert.equal(await sub.waitClosed(), true, 'the broker closes the connection');
      pub.destroy();
      await a.close();

      const b = await brokerOn(dir);
      const back = await connectRaw(b.port, { clientId: 'wrong-ack', clean: false });
      const again = await back.next<PublishPacket>(isPublish);
      assert.equal(again.payload.toString(), 'keep me');
      assert.equal(again.packetId, first.packetId);
      assert.equal(again.dup, true);
      back.destroy();
      await b.close();
    });
  }
});
