import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerOptions } from '../../src/broker/options.js';
import { PacketType, type QoS } from '../../src/protocol/constants.js';
import type { ConnectPacket } from '../../src/protocol/packets.js';
import { startBroker } from '../helpers/broker.js';
import { connectRaw, delay } from '../helpers/raw-client.js';

/** Retains `count` messages under `prefix/`, then subscribes a fresh client to `prefix/#`. */
async function subscribeToRetained(
  options: BrokerOptions,
  count: number,
  payloadBytes: number,
  connect: Partial<ConnectPacket> = {},
  version: 4 | 5 = 4,
): Promise<{ dropped: number; sessionDropped: number; published: number }> {
  const tb = await startBroker(options);
  try {
    for (let i = 0; i < count; i++) {
      const payload = Buffer.alloc(payloadBytes, 0x61 + i);
      tb.broker.publish({ topic: `keep/${i}`, payload, qos: 1, retain: true });
    }
    const before = tb.broker.stats.publishDropped;
    const c = await connectRaw(tb.port, { clientId: 'retained-sub', ...connect }, version);
    c.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        {
          topic: 'keep/#',
          qos: 1 as QoS,
          noLocal: false,
          retainAsPublished: false,
          retainHandling: 0,
        },
      ],
    });
    await c.nextOfType(PacketType.SUBACK);
    // Never acknowledge: what does not fit in the window stays queued or is dropped.
    await delay(100);
    const published = c.received.filter((p) => p.type === PacketType.PUBLISH).length;
    const sessionDropped = tb.broker.sessions.get('retained-sub')!.dropped;
    c.destroy();
    return { dropped: tb.broker.stats.publishDropped - before, sessionDropped, published };
  } finally {
    await tb.close();
  }
}

// With backpressure (the default) they wait instead: retained-feed.test.ts.
test('with backpressure false retained messages refused on SUBSCRIBE because the queue is full count as dropped', async () => {
  const r = await subscribeToRetained(
    { maxInflightMessages: 1, maxQueuedMessages: 1, backpressure: false },
    4,
    4,
  );
  // One in flight, one queued, two refused.
  assert.equal(r.published, 1);
  assert.equal(r.sessionDropped, 2);
  assert.equal(r.dropped, 2);
});

test('with backpressure false retained messages evicted from the queue on SUBSCRIBE (drop oldest) count as dropped', async () => {
  const r = await subscribeToRetained(
    { maxInflightMessages: 1, maxQueuedMessages: 1, maxQueuedDrop: 'oldest', backpressure: false },
    4,
    4,
  );
  assert.equal(r.published, 1);
  assert.equal(r.sessionDropped, 2);
  assert.equal(r.dropped, 2);
});

test('retained messages over the v5 Maximum Packet Size count as dropped exactly once', async () => {
  // [MQTT-3.1.2-25] a packet over the client's Maximum Packet Size is not sent.
  const r = await subscribeToRetained(
    {},
    3,
    200,
    { protocolName: 'MQTT', protocolVersion: 5, properties: { maximumPacketSize: 64 } },
    5,
  );
  assert.equal(r.published, 0);
  assert.equal(r.dropped, 3);
});
