// A publisher whose input fans out to more deliveries than one event-loop turn
// may spend (the channel's delivery budget) is decoded over several turns:
// nothing may be lost, reordered or left undecoded when it resumes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet, PubackPacket, PublishPacket } from '../../src/protocol/packets.js';
import { suiteBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/process.js';
import { connectRaw, type RawClient } from '../helpers/raw-client.js';

const SUBSCRIBERS = 40;
const MESSAGES = 1000; // 40 × 1000 = 40,000 deliveries from one write: more than one turn may spend

const publishes = (c: RawClient): PublishPacket[] =>
  c.received.filter((p): p is PublishPacket => p.type === PacketType.PUBLISH);

describe('fan-out spread over event-loop turns', () => {
  const tb = suiteBroker();

  test('every subscriber gets every message in order, and the packets after them are handled', async () => {
    const subs: RawClient[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const c = await connectRaw(tb.port, { clientId: `fan-sub-${i}` });
      c.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [{ topic: 'fan/t', qos: 0 }],
      } as Packet);
      await c.nextOfType(PacketType.SUBACK);
      subs.push(c);
    }
    const other = await connectRaw(tb.port, { clientId: 'fan-other' });
    const pub = await connectRaw(tb.port, { clientId: 'fan-pub' });
    const packets: Buffer[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(i);
      packets.push(
        encode(
          {
            type: PacketType.PUBLISH,
            topic: 'fan/t',
            payload,
            qos: 0,
            retain: false,
            dup: false,
            packetId: 0,
          },
          4,
        ),
      );
    }
    // A QoS 1 PUBLISH and a PINGREQ after the flood, in the same write.
    packets.push(
      encode(
        {
          type: PacketType.PUBLISH,
          topic: 'fan/t',
          payload: Buffer.from([0xff, 0xff, 0xff, 0xff]),
          qos: 1,
          retain: false,
          dup: false,
          packetId: 7,
        },
        4,
      ),
      encode({ type: PacketType.PINGREQ }, 4),
    );
    pub.sendRaw(Buffer.concat(packets));
    other.send({ type: PacketType.PINGREQ });
    await other.nextOfType(PacketType.PINGRESP);
    const ack = await pub.nextOfType<PubackPacket>(PacketType.PUBACK, 10_000);
    assert.equal(ack.packetId, 7);
    await pub.nextOfType(PacketType.PINGRESP);
    for (const c of subs) {
      await waitFor(() => publishes(c).length >= MESSAGES + 1, 10_000, 'all messages');
      const got = publishes(c).map((p) => p.payload.readUInt32BE(0));
      assert.equal(got.length, MESSAGES + 1);
      for (let i = 0; i < MESSAGES; i++) assert.equal(got[i], i);
      assert.equal(got[MESSAGES], 0xffffffff);
    }
    for (const c of [...subs, other, pub]) c.destroy();
  });
});
