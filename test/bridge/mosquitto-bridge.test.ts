import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startBridges } from '../../src/bridge/index.js';
import { type MosquittoProcess, startMosquitto } from '../client/mosquitto-process.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { freePort, delay as sleep, waitFor } from '../helpers/process.js';
import { bridgeConfig, payloads, type Recorder, record } from './bridge-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function recorder(url: string, filters: string[]): Promise<Recorder> {
  const r = await record(url, filters);
  cleanups.push(() => r.close());
  return r;
}

describe('Heron bridging to a real mosquitto', () => {
  let local: TestBroker;
  let mosq: MosquittoProcess;

  test('in, out and both with prefixes, QoS 1, no loops; notifications; mosquitto restart', async () => {
    local = await startBroker();
    mosq = await startMosquitto();
    cleanups.push(
      () => local.close(),
      () => mosq.stop(),
    );
    const [h] = startBridges(local.broker, [
      bridgeConfig(
        'to-mosq',
        [mosq.port],
        [
          'topic sensors/# out 1 local/ remote/',
          'topic cmd/# in 1 here/ there/',
          'topic chat/# both 1',
        ].join('\n'),
      ),
    ]);
    cleanups.push(() => h!.stop());
    const bridge = h!.bridge;
    await waitFor(() => bridge.state === 'connected', 5000, 'bridge connected');
    await sleep(100);
    const state = '$SYS/broker/connection/to-mosq/state';
    const atRemote = await recorder(mosq.url, ['remote/#', 'chat/#', state]);
    const atLocal = await recorder(local.url, ['here/#', 'chat/#', state]);
    // mosquitto keeps the state the bridge published (retained).
    assert.equal((await atRemote.next(state)).payload.toString(), '1');
    assert.equal((await atLocal.next(state)).payload.toString(), '1');

    await atLocal.client.publish('local/sensors/t', '20', { qos: 1 });
    const out = await atRemote.next('remote/sensors/t');
    assert.equal(out.payload.toString(), '20');
    assert.equal(out.qos, 1);
    await atRemote.client.publish('there/cmd/x', 'go', { qos: 1 });
    const inn = await atLocal.next('here/cmd/x');
    assert.equal(inn.payload.toString(), 'go');
    assert.equal(inn.qos, 1);

    // mosquitto recognises the try_private bridge and does not echo its messages back.
    await atLocal.client.publish('chat/a', 'L', { qos: 1 });
    await atRemote.client.publish('chat/b', 'R', { qos: 1 });
    await atRemote.next('chat/a');
    await atLocal.next('chat/b');
    await sleep(300);
    assert.deepEqual(payloads(atLocal, 'chat/a'), ['L']);
    assert.deepEqual(payloads(atRemote, 'chat/a'), ['L']);
    assert.deepEqual(payloads(atLocal, 'chat/b'), ['R']);
    assert.deepEqual(payloads(atRemote, 'chat/b'), ['R']);

    // mosquitto goes away: local state 0, a QoS 1 message waits; it comes back: delivered.
    await atRemote.close();
    await mosq.kill();
    await waitFor(() => payloads(atLocal, state).at(-1) === '0', 3000, 'local state 0');
    await atLocal.client.publish('local/sensors/t', 'queued', { qos: 1 });
    await mosq.start();
    const again = await recorder(mosq.url, ['remote/#']);
    await waitFor(() => bridge.state === 'connected', 4000, 'reconnected');
    const q = await again.next('remote/sensors/t');
    assert.equal(q.payload.toString(), 'queued');
    await waitFor(() => payloads(atLocal, state).at(-1) === '1', 3000, 'local state 1');
  });
});

describe('mosquitto bridging into Heron', () => {
  for (const version of ['mqttv311', 'mqttv50'] as const) {
    test(`${version}: messages flow both ways, no loops, state topic on Heron`, async () => {
      const heronPort = await freePort();
      const heron = await startBroker({ listeners: [{ port: heronPort, host: '127.0.0.1' }] });
      cleanups.push(() => heron.close());
      const id = `mosq-${version}`;
      const mosq = await startMosquitto({
        extra: [
          `connection into-heron`,
          `address 127.0.0.1:${heronPort}`,
          `remote_clientid ${id}`,
          `bridge_protocol_version ${version}`,
          'try_private true',
          'cleansession true',
          'restart_timeout 1',
          'topic m/# both 1',
        ].join('\n'),
      });
      cleanups.push(() => mosq.stop());
      await waitFor(
        () => heron.broker.sessions.get(id)?.subscriptions.has('m/#') === true,
        5000,
        'mosquitto bridge subscribed on Heron',
      );
      const ch = [...heron.broker.channels].find((c) => c.clientId === id);
      assert.equal(ch?.bridge, version === 'mqttv311');
      const sub = heron.broker.sessions.get(id)!.subscriptions.get('m/#')!;
      assert.equal(sub.noLocal, true);
      assert.equal(sub.retainAsPublished, true);
      await waitFor(
        () =>
          heron.broker.retained.get(`$SYS/broker/connection/${id}/state`)?.payload.toString() ===
          '1',
        3000,
        'state 1 on Heron',
      );

      const atHeron = await recorder(heron.url, ['m/#']);
      const atMosq = await recorder(mosq.url, ['m/#']);
      await atHeron.client.publish('m/h', 'from heron', { qos: 1 });
      await atMosq.client.publish('m/m', 'from mosquitto', { qos: 1 });
      await atMosq.next('m/h');
      await atHeron.next('m/m');
      await sleep(300);
      assert.deepEqual(payloads(atHeron, 'm/h'), ['from heron']);
      assert.deepEqual(payloads(atMosq, 'm/h'), ['from heron']);
      assert.deepEqual(payloads(atHeron, 'm/m'), ['from mosquitto']);
      assert.deepEqual(payloads(atMosq, 'm/m'), ['from mosquitto']);
    });
  }
});

test('a burst of QoS 2 messages over an MQTT 3.1.1 bridge all reach mosquitto, in order', async () => {
  // mosquitto takes ~20 unacknowledged QoS 2 PUBLISHes from a v3 client (its
  // max_inflight_messages) and silently drops the ones beyond: the bridge must keep
  // its window to this broker's max_inflight_messages (20 by default).
  const local = await startBroker();
  const mosq = await startMosquitto();
  cleanups.push(
    () => local.close(),
    () => mosq.stop(),
  );
  const [h] = startBridges(local.broker, [
    bridgeConfig('burst', [mosq.port], 'bridge_protocol_version mqttv311\ntopic burst/# out 2'),
  ]);
  cleanups.push(() => h!.stop());
  await waitFor(() => h!.bridge.state === 'connected', 5000, 'bridge connected');
  const atRemote = await recorder(mosq.url, ['burst/#']);
  const n = 60;
  const pub = await record(local.url, []);
  cleanups.push(() => pub.close());
  await Promise.all(
    Array.from({ length: n }, (_, i) => pub.client.publish('burst/x', String(i), { qos: 2 })),
  );
  await waitFor(
    () => payloads(atRemote, 'burst/x').length >= n,
    10_000,
    `${n} messages at mosquitto`,
  );
  await sleep(200);
  assert.deepEqual(
    payloads(atRemote, 'burst/x'),
    Array.from({ length: n }, (_, i) => String(i)),
  );
});
