import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/process.js';
import { connectRecorder, settle } from './support/clients.js';
import { knowsRoute, startNode, suiteCluster } from './support/nodes.js';

describe('cluster sessions', () => {
  const cluster = suiteCluster(['A', 'B', 'C']);
  const [a, b, c] = cluster.nodes;

  test('[MQTT-3.1.4-2] a client id connecting on B closes its connection on A with DISCONNECT 0x8E; the will is published', async () => {
    const watcher = await connectRecorder(c.url, { clientId: 'to-watch' });
    await watcher.client.subscribeAsync('wills/#', { qos: 1 });
    await waitFor(() => knowsRoute(a, 'C', 'wills/#'), 3000, 'route on A');
    const first = await connectRecorder(a.url, {
      protocolVersion: 5,
      clientId: 'mover',
      will: { topic: 'wills/mover', payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    const reason = new Promise<number | undefined>((resolve) => {
      first.client.on('disconnect', (p) => resolve(p.reasonCode));
    });
    const second = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'mover' });
    assert.equal(await reason, 0x8e);
    await waitFor(() => watcher.got.length === 1, 3000, 'will');
    assert.equal(watcher.got[0]!.payload, 'gone');
    assert.equal(a.broker.sessions.has('mover'), false);
    assert.equal(a.broker.cluster!.stats.takenOver, 1);
    // The id now lives on B: coming back to A takes it over from B in turn.
    const back = new Promise<number | undefined>((resolve) => {
      second.client.on('disconnect', (p) => resolve(p.reasonCode));
    });
    const third = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'mover' });
    assert.equal(await back, 0x8e);
    assert.equal(third.client.connected, true);
    await third.client.endAsync();
    await watcher.client.endAsync();
    first.client.end(true);
    second.client.end(true);
  });

  test('a v5 will with a delay is not published when the session resumes on another node', async () => {
    const watcher = await connectRecorder(c.url, { clientId: 'dw-watch' });
    await watcher.client.subscribeAsync('dwills/#', { qos: 1 });
    await waitFor(() => knowsRoute(a, 'C', 'dwills/#'), 3000, 'route on A');
    const first = await connectRecorder(a.url, {
      protocolVersion: 5,
      clientId: 'delayed',
      properties: { sessionExpiryInterval: 60 },
      will: {
        topic: 'dwills/delayed',
        payload: Buffer.from('late'),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 1 },
      },
    });
    const second = await connectRecorder(b.url, {
      protocolVersion: 5,
      clientId: 'delayed',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    await settle(1300);
    assert.equal(watcher.got.length, 0);
    first.client.end(true);
    await second.client.endAsync();
    await watcher.client.endAsync();
  });

  test('a persistent v3 session moves from A to B with its subscriptions and queued messages (session present)', async () => {
    const sub = await connectRecorder(a.url, {
      protocolVersion: 4,
      clientId: 'roamer',
      clean: false,
    });
    await sub.client.subscribeAsync('jobs/+', { qos: 1 });
    await waitFor(() => knowsRoute(c, 'A', 'jobs/+'), 3000, 'route on C');
    await sub.client.endAsync();
    const pub = await connectRecorder(c.url, { protocolVersion: 5, clientId: 'roam-pub' });
    for (let i = 0; i < 3; i++) await pub.client.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
    await waitFor(() => a.broker.sessions.get('roamer')?.queuedCount === 3, 3000, 'queued on A');

    const received = b.broker.cluster!.stats.sessionsReceived;
    const moved = await connectRecorder(b.url, {
      protocolVersion: 4,
      clientId: 'roamer',
      clean: false,
    });
    assert.equal(moved.sessionPresent, true);
    await waitFor(() => moved.got.length === 3, 3000, 'queued messages on B');
    const got = moved.got.map((m) => m.payload);
    assert.deepEqual(got, ['job 0', 'job 1', 'job 2']);
    // A relays what still reaches it until B's routes are in force everywhere, then lets go.
    await waitFor(() => !a.broker.sessions.has('roamer'), 3000, 'A let go of the session');
    assert.equal(b.broker.cluster!.stats.sessionsReceived, received + 1);
    // The subscription moved with it: C now forwards to B, not A.
    await waitFor(
      () => knowsRoute(c, 'B', 'jobs/+') && !knowsRoute(c, 'A', 'jobs/+'),
      3000,
      'route moved to B',
    );
    await pub.client.publishAsync('jobs/9', 'job 9', { qos: 1 });
    await waitFor(() => moved.got.length === 4, 3000, 'new message on B');
    await settle();
    assert.deepEqual(
      moved.got.map((m) => m.payload),
      ['job 0', 'job 1', 'job 2', 'job 9'],
    );
    await moved.client.endAsync();
    await pub.client.endAsync();
  });

  test('a persistent v5 session moves with session present = 1; clean start on another node discards it', async () => {
    const sub = await connectRecorder(a.url, {
      protocolVersion: 5,
      clientId: 'roam5',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    await sub.client.subscribeAsync('orders/#', { qos: 2 });
    await waitFor(() => knowsRoute(b, 'A', 'orders/#'), 3000, 'route on B');
    await sub.client.endAsync();
    const pub = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'roam5-pub' });
    await pub.client.publishAsync('orders/1', 'o1', { qos: 2 });
    await waitFor(() => a.broker.sessions.get('roam5')?.queuedCount === 1, 3000, 'queued on A');

    const moved = await connectRecorder(c.url, {
      protocolVersion: 5,
      clientId: 'roam5',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    assert.equal(moved.sessionPresent, true);
    await waitFor(() => moved.got.length === 1, 3000, 'queued message on C');
    assert.equal(moved.got[0]!.payload, 'o1');
    assert.equal(moved.got[0]!.qos, 2);
    await moved.client.endAsync();

    // Clean start elsewhere: the old session is gone, nothing is resent.
    const fresh = await connectRecorder(a.url, {
      protocolVersion: 5,
      clientId: 'roam5',
      clean: true,
    });
    assert.equal(fresh.sessionPresent, false);
    assert.equal(c.broker.sessions.has('roam5'), false);
    await pub.client.publishAsync('orders/2', 'o2', { qos: 1 });
    await settle();
    assert.equal(fresh.got.length, 0);
    await fresh.client.endAsync();
    await pub.client.endAsync();
  });

  test('a restarted node drops restored sessions whose client id another node owns now, and keeps its own', async () => {
    const store = { backend: 'memory' as const, location: `restart-${process.pid}-${Date.now()}` };
    const persistent = { protocolVersion: 4 as const, clean: false };
    let r = await startNode(cluster.redisUrl, cluster.prefix, 'R', { persistence: store });
    for (const clientId of ['moved-away', 'stays']) {
      const c = await connectRecorder(r.url, { ...persistent, clientId });
      await c.client.subscribeAsync(`restored/${clientId}`, { qos: 1 });
      await c.client.endAsync();
    }
    await r.close();
    // While R is down, 'moved-away' connects to A: A owns it now (R is not alive: no
    // hand-over), and its session comes back from the replica R kept on another node.
    const elsewhere = await connectRecorder(a.url, { ...persistent, clientId: 'moved-away' });
    assert.equal(elsewhere.sessionPresent, true);
    await elsewhere.client.subscribeAsync('restored/new', { qos: 1 });
    r = await startNode(cluster.redisUrl, cluster.prefix, 'R', { persistence: store });
    try {
      assert.equal(r.broker.sessions.has('moved-away'), false);
      assert.equal(r.broker.sessions.has('stays'), true);
      assert.equal(r.broker.cluster!.stats.sessionsDropped, 1);
      // The dropped copy's routes are gone with it: a message for it is not queued on R.
      const pub = await connectRecorder(b.url, { clientId: 'restored-pub' });
      await pub.client.publishAsync('restored/moved-away', 'x', { qos: 1 });
      await settle();
      assert.equal(r.broker.sessions.get('stays')?.queuedCount, 0);
      assert.equal(r.broker.sessions.has('moved-away'), false);
      await pub.client.endAsync();
    } finally {
      await elsewhere.client.endAsync();
      await r.close();
    }
  });
});
