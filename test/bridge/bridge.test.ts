import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { type Bridge, startBridges } from '../../src/bridge/index.js';
import type { BridgeConfig } from '../../src/config/types.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/certs.js';
import { freePort, delay as sleep, waitFor } from '../helpers/process.js';
import { bridgeConfig, payloads, type Recorder, record } from './bridge-helpers.js';

/** Starts a bridge and waits until the remote acknowledged its subscriptions. */
async function bridgeUp(local: TestBroker, cfg: BridgeConfig): Promise<Bridge> {
  const [h] = startBridges(local.broker, [cfg]);
  const bridge = h!.bridge;
  cleanups.push(() => h!.stop());
  await waitFor(() => bridge.state === 'connected', 5000, 'bridge connected');
  await sleep(100); // SUBACK round trip
  return bridge;
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function brokers(): Promise<[TestBroker, TestBroker]> {
  const local = await startBroker();
  const remote = await startBroker();
  cleanups.push(
    () => local.close(),
    () => remote.close(),
  );
  return [local, remote];
}

async function recorder(url: string, filters: string[], id?: string): Promise<Recorder> {
  const r = await record(url, filters, id);
  cleanups.push(() => r.close());
  return r;
}

describe('Heron to Heron bridge', () => {
  for (const version of ['mqttv311', 'mqttv50'] as const) {
    test(`${version}: in, out and both with prefixes, QoS 1 end to end, no loops`, async () => {
      const [local, remote] = await brokers();
      const cfg = bridgeConfig(
        `hh-${version}`,
        [remote.port],
        [
          `bridge_protocol_version ${version}`,
          'topic sensors/# out 1 local/ remote/',
          'topic cmd/# in 1 here/ there/',
          'topic chat/# both 1',
        ].join('\n'),
      );
      const bridge = await bridgeUp(local, cfg);
      const atRemote = await recorder(remote.url, ['remote/#', 'chat/#', 'local/#']);
      const atLocal = await recorder(local.url, ['here/#', 'chat/#', 'there/#']);

      await atLocal.client.publish('local/sensors/t1', '21.5', { qos: 1 });
      const out = await atRemote.next('remote/sensors/t1');
      assert.equal(out.payload.toString(), '21.5');
      assert.equal(out.qos, 1);

      await atRemote.client.publish('there/cmd/light', 'on', { qos: 1 });
      const inn = await atLocal.next('here/cmd/light');
      assert.equal(inn.payload.toString(), 'on');
      assert.equal(inn.qos, 1);

      await atLocal.client.publish('chat/a', 'from local', { qos: 1 });
      await atRemote.client.publish('chat/b', 'from remote', { qos: 1 });
      await atRemote.next('chat/a');
      await atLocal.next('chat/b');
      await sleep(300);
      // Exactly once on each side: nothing came back over the bridge.
      assert.deepEqual(payloads(atRemote, 'chat/a'), ['from local']);
      assert.deepEqual(payloads(atLocal, 'chat/a'), ['from local']);
      assert.deepEqual(payloads(atRemote, 'chat/b'), ['from remote']);
      assert.deepEqual(payloads(atLocal, 'chat/b'), ['from remote']);
      // Topics outside the rules do not cross.
      assert.equal(payloads(atRemote, 'local/sensors/t1').length, 0);
      assert.equal(payloads(atLocal, 'there/cmd/light').length, 0);
      assert.equal(bridge.stats.received, 2);
    });
  }

  test('try_private: the remote Heron sees a v3 bridge and gives it No Local', async () => {
    const [local, remote] = await brokers();
    await bridgeUp(local, bridgeConfig('tp', [remote.port], 'topic x/# both 0'));
    const ch = [...remote.broker.channels].find((c) => c.clientId === 'tp');
    assert.equal(ch?.bridge, true);
    assert.equal(ch?.version, 4);
    const sub = remote.broker.sessions.get('tp')?.subscriptions.get('x/#');
    assert.equal(sub?.noLocal, true);
    assert.equal(sub?.retainAsPublished, true);
  });

  test('retained messages cross in both directions with their retain flag', async () => {
    const [local, remote] = await brokers();
    local.broker.publish({
      topic: 'local/cfg/a',
      payload: Buffer.from('A'),
      qos: 1,
      retain: true,
    });
    remote.broker.publish({
      topic: 'there/cfg/b',
      payload: Buffer.from('B'),
      qos: 1,
      retain: true,
    });
    await bridgeUp(
      local,
      bridgeConfig(
        'ret',
        [remote.port],
        'topic cfg/# out 1 local/ remote/\ntopic cfg/# in 1 here/ there/',
      ),
    );
    // Subscribers arriving later get the bridged copies as retained messages.
    const atRemote = await recorder(remote.url, ['remote/cfg/#']);
    const a = await atRemote.next('remote/cfg/a');
    assert.equal(a.retain, true);
    assert.equal(a.payload.toString(), 'A');
    const atLocal = await recorder(local.url, ['here/cfg/#']);
    const b = await atLocal.next('here/cfg/b');
    assert.equal(b.retain, true);
    assert.equal(b.payload.toString(), 'B');
  });

  test('notifications, reconnect after the remote restarts, queued QoS 1 delivered', async () => {
    const local = await startBroker();
    cleanups.push(() => local.close());
    const port = await freePort();
    let remote = await startBroker({ listeners: [{ port, host: '127.0.0.1' }] });
    const bridge = await bridgeUp(local, bridgeConfig('nt', [port], 'topic q/# out 1'));
    const state = '$SYS/broker/connection/nt/state';
    const localState = await recorder(local.url, ['$SYS/broker/connection/#']);
    await waitFor(() => payloads(localState, state).at(-1) === '1', 3000, 'local state 1');
    assert.equal(localState.messages.at(-1)?.retain, true);
    assert.equal(remote.broker.retained.get(state)?.payload.toString(), '1');

    // The remote vanishes: local state goes to 0 and outgoing messages wait.
    await remote.close();
    await waitFor(() => payloads(localState, state).at(-1) === '0', 3000, 'local state 0');
    await localState.client.publish('q/while-down', 'kept', { qos: 1 });
    assert.equal(bridge.queued, 1);

    remote = await startBroker({ listeners: [{ port, host: '127.0.0.1' }] });
    cleanups.push(() => remote.close());
    const atRemote = await recorder(remote.url, ['q/#', '$SYS/broker/connection/#']);
    await waitFor(() => bridge.state === 'connected', 4000, 'reconnected');
    const m = await atRemote.next('q/while-down');
    assert.equal(m.payload.toString(), 'kept');
    await waitFor(() => payloads(localState, state).at(-1) === '1', 3000, 'local state 1 again');

    // The connection is cut from the remote side: the remote publishes the bridge's will "0".
    const ch = [...remote.broker.channels].find((c) => c.clientId === 'nt');
    ch!.socket.destroy();
    await waitFor(() => payloads(atRemote, state).includes('0'), 3000, 'remote will 0');
    await waitFor(() => payloads(atRemote, state).at(-1) === '1', 4000, 'remote state 1 again');
  });

  test('stop(): state 0 on both sides, local subscriptions removed', async () => {
    const [local, remote] = await brokers();
    const [h] = startBridges(local.broker, [bridgeConfig('st', [remote.port], 'topic s/# out 0')]);
    await waitFor(() => h!.bridge.state === 'connected', 5000, 'connected');
    assert.equal(local.broker.router.matchInto('s/1', []), 1);
    await h!.stop();
    assert.equal(h!.bridge.state, 'stopped');
    assert.equal(local.broker.router.matchInto('s/1', []), 0);
    const state = '$SYS/broker/connection/st/state';
    assert.equal(local.broker.retained.get(state)?.payload.toString(), '0');
    await waitFor(
      () => remote.broker.retained.get(state)?.payload.toString() === '0',
      2000,
      'remote state 0',
    );
  });

  test('fallback: a dead first address, the bridge uses the next one', async () => {
    const [local, remote] = await brokers();
    const dead = await freePort();
    const bridge = await bridgeUp(
      local,
      bridgeConfig('fb', [dead, remote.port], 'topic f/# out 1'),
    );
    assert.equal(bridge.addressIndex, 1);
    const atRemote = await recorder(remote.url, ['f/#']);
    await local.broker.publish({ topic: 'f/1', payload: Buffer.from('x'), qos: 1, retain: false });
    await atRemote.next('f/1');
  });

  test('start_type lazy: connects at `threshold` queued messages, leaves after idle_timeout', async () => {
    const [local, remote] = await brokers();
    const [h] = startBridges(local.broker, [
      bridgeConfig(
        'lz',
        [remote.port],
        'start_type lazy\nthreshold 2\nidle_timeout 1\ntopic z/# out 1',
      ),
    ]);
    cleanups.push(() => h!.stop());
    const bridge = h!.bridge;
    const atRemote = await recorder(remote.url, ['z/#']);
    local.broker.publish({ topic: 'z/1', payload: Buffer.from('1'), qos: 1, retain: false });
    await sleep(200);
    assert.equal(bridge.state, 'idle');
    assert.equal(bridge.queued, 1);
    local.broker.publish({ topic: 'z/2', payload: Buffer.from('2'), qos: 1, retain: false });
    await atRemote.next('z/2', 3000);
    assert.deepEqual(payloads(atRemote, 'z/1'), ['1']);
    await waitFor(() => bridge.state === 'idle', 4000, 'idle disconnect');
  });

  test('start_type once: a failed connection is not retried', async () => {
    const local = await startBroker();
    cleanups.push(() => local.close());
    const dead = await freePort();
    const [h] = startBridges(local.broker, [
      bridgeConfig('once', [dead], 'start_type once\ntopic o/# out 0'),
    ]);
    cleanups.push(() => h!.stop());
    await waitFor(() => h!.bridge.state === 'idle', 3000, 'given up');
    await sleep(1300);
    assert.equal(h!.bridge.state, 'idle');
    assert.equal(h!.bridge.stats.connects, 0);
  });

  test('TLS: bridge_cafile verifies the remote, bridge_certfile/keyfile authenticate the bridge', async () => {
    const certs = await makeTestCerts();
    cleanups.push(() => rm(certs.dir, { recursive: true, force: true }));
    const local = await startBroker();
    const remote = await startBroker({
      listeners: [
        {
          port: 0,
          host: '127.0.0.1',
          certificateUsername: 'cn',
          tls: {
            cert: certs.serverCert,
            key: certs.serverKey,
            ca: certs.ca,
            requestCert: true,
            rejectUnauthorized: true,
          },
        },
      ],
    });
    cleanups.push(
      () => local.close(),
      () => remote.close(),
    );
    const cfg = bridgeConfig(
      'tls',
      [remote.port],
      [
        `bridge_cafile ${certs.caFile}`,
        `bridge_certfile ${certs.clientCertFile}`,
        `bridge_keyfile ${certs.clientKeyFile}`,
        'topic t/# out 1',
      ].join('\n'),
    );
    await bridgeUp(local, cfg);
    const ch = [...remote.broker.channels].find((c) => c.clientId === 'tls');
    assert.equal(ch?.username, 'alice');
  });
});
