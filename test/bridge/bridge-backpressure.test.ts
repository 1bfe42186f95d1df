// Messages coming in over a bridge are acknowledged to the remote broker by
// the bridge's client. When they fill a slow local subscriber's queue, the
// bridge must stop reading the remote (which then holds its messages), as a
// publishing client would be stopped, instead of dropping what was acknowledged.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import mqtt from 'mqtt';
import { startBridges } from '../../src/bridge/index.js';
import { startMosquitto } from '../client/mosquitto-process.js';
import { startBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/process.js';
import { bridgeConfig } from './bridge-helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function mqttClient(url: string, clientId: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  cleanups.push(() => void c.end(true));
  return c;
}

for (const backpressure of [true, false]) {
  test(`bridge in, slow local subscriber, backpressure ${backpressure}: ${backpressure ? 'every message the remote sent arrives' : 'Mosquitto-style drops, counted'}`, async () => {
    const remote = await startMosquitto();
    cleanups.push(() => remote.stop());
    const local = await startBroker({
      maxInflightMessages: 5,
      maxQueuedMessages: 20,
      backpressure,
    });
    cleanups.push(() => local.close());
    const [h] = startBridges(local.broker, [
      bridgeConfig(`bp-${backpressure}`, [remote.port], 'topic bp/# in 1'),
    ]);
    cleanups.push(() => h!.stop());
    const bridge = h!.bridge;
    await waitFor(() => bridge.state === 'connected', 5000, 'bridge connected');

    // Acknowledges each message 2 ms after it arrives: far slower than the remote sends.
    const seen = new Set<string>();
    let probed = false;
    const sub = await mqttClient(local.url, `bp-sub-${backpressure}`);
    sub.handleMessage = (packet, callback) => {
      if (packet.topic === 'bp/probe') probed = true;
      else seen.add(packet.payload.toString());
      setTimeout(callback, 2);
    };
    await sub.subscribeAsync('bp/#', { qos: 1 });

    // The bridge's subscription reached mosquitto once a probe message comes back.
    const pub = await mqttClient(remote.url, `bp-pub-${backpressure}`);
    await waitFor(
      async () => {
        await pub.publishAsync('bp/probe', 'probe', { qos: 1 });
        return probed;
      },
      5000,
      'the bridge subscribed at the remote',
    );
    const before = bridge.stats.received;

    const n = 500;
    await Promise.all(
      Array.from({ length: n }, (_, i) => pub.publishAsync('bp/t', String(i), { qos: 1 })),
    );
    const stats = local.broker.stats;
    if (backpressure) {
      await waitFor(() => seen.size === n, 20_000, `${n} deliveries (have ${seen.size})`);
      assert.equal(stats.publishDropped, 0, 'nothing the bridge acknowledged was dropped');
      assert.ok(stats.publishersPaused >= 1, 'the bridge stopped reading the remote');
      assert.ok(bridge.stats.received - before >= n);
    } else {
      await waitFor(
        () => bridge.stats.received - before >= n,
        20_000,
        'the bridge read every message',
      );
      await waitFor(() => seen.size + stats.publishDropped === n, 20_000, 'deliveries and drops');
      assert.ok(stats.publishDropped > 0, 'the full queue dropped, as Mosquitto does');
    }
  });
}
