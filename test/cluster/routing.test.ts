import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/process.js';
import { connectRecorder, settle } from './support/clients.js';
import { knowsRoute, startNode, suiteCluster } from './support/nodes.js';

describe('cluster routing', () => {
  const cluster = suiteCluster(['A', 'B', 'C']);
  const [a, b, c] = cluster.nodes;

  test('a message published on A reaches v3 and v5 subscribers on B and C once, at QoS 0/1/2, through wildcards', async () => {
    const onB = await connectRecorder(b.url, { protocolVersion: 4, clientId: 'r-b' });
    const onC = await connectRecorder(c.url, { protocolVersion: 5, clientId: 'r-c' });
    const onA = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'r-a' });
    await onB.client.subscribeAsync('sensors/+/temp', { qos: 2 });
    await onC.client.subscribeAsync('sensors/#', { qos: 1 });
    await onA.client.subscribeAsync('sensors/a/temp', { qos: 2 });
    await waitFor(
      () => knowsRoute(a, 'B', 'sensors/+/temp') && knowsRoute(a, 'C', 'sensors/#'),
      3000,
      'routes of B and C on A',
    );
    const pub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'p-a' });
    const correlationData = Buffer.from([0, 1, 2, 255]);
    for (const qos of [0, 1, 2] as const) {
      await pub.client.publishAsync('sensors/a/temp', `t${qos}`, {
        qos,
        properties: {
          userProperties: { unit: 'C' },
          correlationData,
          contentType: 'text/plain',
        },
      });
    }
    await waitFor(
      () => onB.got.length >= 3 && onC.got.length >= 3 && onA.got.length >= 3,
      3000,
      'deliveries',
    );
    await settle();
    assert.deepEqual(
      onB.got.map((m) => [m.payload, m.qos]),
      [
        ['t0', 0],
        ['t1', 1],
        ['t2', 2],
      ],
    );
    assert.deepEqual(
      onC.got.map((m) => [m.payload, m.qos]),
      [
        ['t0', 0],
        ['t1', 1],
        ['t2', 1],
      ],
    );
    assert.equal(onA.got.length, 3);
    const props = onC.got[2]!.properties!;
    assert.deepEqual({ ...(props.userProperties as object) }, { unit: 'C' });
    assert.deepEqual(props.correlationData, correlationData);
    assert.equal(props.contentType, 'text/plain');
    // Forwarded once per node and message, never re-forwarded by the receivers.
    assert.equal(a.broker.cluster!.stats.forwarded, 6);
    assert.equal(b.broker.cluster!.stats.forwarded, 0);
    assert.equal(c.broker.cluster!.stats.forwarded, 0);
    assert.equal(b.broker.cluster!.stats.received, 3);

    // Publishes flow the other way too, and a topic nobody else wants stays local.
    await onA.client.subscribeAsync('back/+', { qos: 1 });
    await waitFor(() => knowsRoute(b, 'A', 'back/+'), 3000, 'route of A on B');
    const pubB = await connectRecorder(b.url, { protocolVersion: 4, clientId: 'p-b' });
    await pubB.client.publishAsync('back/1', 'from B', { qos: 1 });
    await waitFor(() => onA.got.some((m) => m.payload === 'from B'), 3000, 'B → A');
    const before = a.broker.cluster!.stats.forwarded;
    await pub.client.publishAsync('nobody/listens', 'x', { qos: 1 });
    assert.equal(a.broker.cluster!.stats.forwarded, before);

    for (const r of [onA, onB, onC, pub, pubB]) await r.client.endAsync();
  });

  test('a subscription is in force cluster-wide when its SUBACK arrives: publishing on B at once misses nothing', async () => {
    const sub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'race-sub' });
    const pubB = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'race-pb' });
    const pubC = await connectRecorder(c.url, { protocolVersion: 4, clientId: 'race-pc' });
    const rounds = 50;
    for (let i = 0; i < rounds; i++) {
      // A filter nobody had: each SUBSCRIBE is a new route for the other nodes.
      await sub.client.subscribeAsync(`race/${i}/+`, { qos: 1 });
      await Promise.all([
        pubB.client.publishAsync(`race/${i}/b`, `b${i}`, { qos: 1 }),
        pubC.client.publishAsync(`race/${i}/c`, `c${i}`, { qos: 1 }),
      ]);
    }
    await waitFor(() => sub.got.length >= 2 * rounds, 5000, 'every message');
    await settle();
    const got = new Set(sub.got.map((m) => m.payload));
    const missed = [];
    for (let i = 0; i < rounds; i++)
      for (const n of ['b', 'c']) if (!got.has(`${n}${i}`)) missed.push(`${n}${i}`);
    assert.deepEqual(missed, []);
    assert.equal(sub.got.length, 2 * rounds);
    for (const r of [sub, pubB, pubC]) await r.client.endAsync();
  });

  test('an unsubscribe withdraws the route: the other nodes stop forwarding', async () => {
    const onB = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'u-b' });
    await onB.client.subscribeAsync('gone/#', { qos: 1 });
    await waitFor(() => knowsRoute(a, 'B', 'gone/#'), 3000, 'route on A');
    await onB.client.unsubscribeAsync('gone/#');
    await waitFor(() => !knowsRoute(a, 'B', 'gone/#'), 3000, 'route withdrawn on A');
    const pub = await connectRecorder(a.url, { clientId: 'u-p' });
    const before = a.broker.cluster!.stats.forwarded;
    await pub.client.publishAsync('gone/x', 'x', { qos: 1 });
    await settle();
    assert.equal(a.broker.cluster!.stats.forwarded, before);
    assert.equal(onB.got.length, 0);
    await onB.client.endAsync();
    await pub.client.endAsync();
  });

  test('retained messages set on A are seen by a new subscriber on B; a delete on C propagates', async () => {
    const pub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'ret-p' });
    await pub.client.publishAsync('status/door', 'open', { qos: 1, retain: true });
    await waitFor(() => c.broker.retained.get('status/door') !== undefined, 3000, 'retained on C');
    const onB = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'ret-b' });
    await onB.client.subscribeAsync('status/#', { qos: 1 });
    await waitFor(() => onB.got.length === 1, 3000, 'retained on B');
    assert.equal(onB.got[0]!.payload, 'open');
    assert.equal(onB.got[0]!.retain, true);

    const pubC = await connectRecorder(c.url, { protocolVersion: 4, clientId: 'ret-c' });
    await pubC.client.publishAsync('status/door', '', { qos: 1, retain: true });
    await waitFor(
      () => a.broker.retained.get('status/door') === undefined,
      3000,
      'delete reached A',
    );
    const late = await connectRecorder(a.url, { clientId: 'ret-late' });
    await late.client.subscribeAsync('status/#', { qos: 1 });
    await settle();
    assert.equal(late.got.length, 0);

    // Last writer wins, and every node agrees on which write was last.
    await Promise.all([
      pub.client.publishAsync('race', 'from A', { qos: 1, retain: true }),
      pubC.client.publishAsync('race', 'from C', { qos: 1, retain: true }),
    ]);
    await settle(300);
    const seen = [a, b, c].map((n) => n.broker.retained.get('race')?.payload.toString());
    assert.ok(seen[0] === 'from A' || seen[0] === 'from C');
    assert.deepEqual(seen, [seen[0], seen[0], seen[0]]);
    for (const r of [pub, onB, pubC, late]) await r.client.endAsync();
  });

  test('a retained publish on A reaches live subscribers on B once and is retained on B', async () => {
    const plain = await connectRecorder(b.url, { protocolVersion: 4, clientId: 'live-b3' });
    const rap = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'live-b5' });
    await plain.client.subscribeAsync('live/ret/+', { qos: 1 });
    await rap.client.subscribeAsync('live/ret/+', { qos: 1, rap: true });
    await waitFor(() => knowsRoute(a, 'B', 'live/ret/+'), 3000, 'route of B on A');
    const forwarded = a.broker.cluster!.stats.forwarded;
    const pub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'live-pa' });
    await pub.client.publishAsync('live/ret/1', 'kept', {
      qos: 1,
      retain: true,
      properties: { userProperties: { k: 'v' } },
    });
    await waitFor(() => plain.got.length >= 1 && rap.got.length >= 1, 3000, 'deliveries on B');
    await waitFor(() => b.broker.retained.get('live/ret/1') !== undefined, 3000, 'retained on B');
    await settle();
    // [MQTT-3.3.1-9] RETAIN 0 to existing subscriptions, unless Retain As Published.
    assert.deepEqual(
      plain.got.map((m) => [m.topic, m.payload, m.retain]),
      [['live/ret/1', 'kept', false]],
    );
    assert.deepEqual(
      rap.got.map((m) => [m.topic, m.payload, m.retain]),
      [['live/ret/1', 'kept', true]],
    );
    assert.deepEqual({ ...(rap.got[0]!.properties!.userProperties as object) }, { k: 'v' });
    assert.equal(a.broker.cluster!.stats.forwarded - forwarded, 1);
    const kept = b.broker.retained.get('live/ret/1')!;
    assert.equal(kept.payload.toString(), 'kept');
    assert.deepEqual(kept.properties?.userProperties, [['k', 'v']]);

    const late = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'live-late' });
    await late.client.subscribeAsync('live/ret/#', { qos: 1 });
    await waitFor(() => late.got.length >= 1, 3000, 'retained on subscribe at B');
    await settle();
    assert.deepEqual(
      late.got.map((m) => [m.topic, m.payload, m.retain]),
      [['live/ret/1', 'kept', true]],
    );
    for (const r of [plain, rap, pub, late]) await r.client.endAsync();
  });

  test('a node that starts later loads the routes and retained messages already there', async () => {
    const onA = await connectRecorder(a.url, { clientId: 'late-a' });
    await onA.client.subscribeAsync('late/+', { qos: 1 });
    const pub = await connectRecorder(b.url, { clientId: 'late-pub' });
    await pub.client.publishAsync('late/ret', 'kept', { qos: 1, retain: true });
    await waitFor(() => knowsRoute(b, 'A', 'late/+'), 3000, 'route on B');
    const prefix = a.broker.cluster!.options.keyPrefix;
    const d = await startNode(cluster.redisUrl, prefix, 'D');
    try {
      assert.ok(knowsRoute(d, 'A', 'late/+'));
      assert.equal(d.broker.retained.get('late/ret')?.payload.toString(), 'kept');
      const pubD = await connectRecorder(d.url, { clientId: 'late-pd' });
      await pubD.client.publishAsync('late/x', 'from D', { qos: 1 });
      await waitFor(() => onA.got.some((m) => m.payload === 'from D'), 3000, 'D → A');
      await pubD.client.endAsync();
    } finally {
      await d.close();
    }
    await waitFor(() => !a.broker.cluster!.remote.nodes.has('D'), 3000, 'D left');
    await onA.client.endAsync();
    await pub.client.endAsync();
  });
});
