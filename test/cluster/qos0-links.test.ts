import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/process.js';
import { connectRecorder, settle } from './support/clients.js';
import { spawnDurableNode } from './support/durable-nodes.js';
import { freshPrefix, knowsRoute, startNode, suiteCluster } from './support/nodes.js';
import { startRedis } from './support/redis.js';

describe('cross-node QoS 0 (frames not kept)', () => {
  const cluster = suiteCluster(['A', 'B']);
  const [a, b] = cluster.nodes;

  test('QoS 0 and QoS 1 interleaved from A to B arrive in order, each once; a shared group served on B and a non-ASCII topic cross too', async () => {
    const sub = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'q0-sub' });
    const member = await connectRecorder(b.url, { protocolVersion: 4, clientId: 'q0-member' });
    await sub.client.subscribeAsync('mix/#', { qos: 1 });
    await member.client.subscribeAsync('$share/g/grp/#', { qos: 1 });
    await waitFor(
      () => knowsRoute(a, 'B', 'mix/#') && a.broker.cluster!.remote.size >= 2,
      3000,
      'routes of B on A',
    );
    const pub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'q0-pub' });
    const sent: [string, number][] = [];
    for (let i = 0; i < 400; i++) {
      const qos = (i % 3 === 0 ? 1 : 0) as 0 | 1;
      const topic = i % 2 === 0 ? 'mix/plain' : 'mix/grüße/€';
      sent.push([`${topic} ${i}`, qos]);
      // Not awaited one by one: frames of both kinds share the link's batches.
      pub.client.publish(topic, `${topic} ${i}`, { qos });
    }
    await pub.client.publishAsync('grp/x', 'to the group', {
      qos: 0,
      properties: { userProperties: { k: 'v' } },
    });
    await waitFor(
      () => sub.got.length >= sent.length && member.got.length >= 1,
      5000,
      'deliveries on B',
    );
    await settle();
    // In order within each QoS (a QoS 1 message may wait for the subscriber's in-flight window).
    const got = sub.got.map((m) => [m.payload, m.qos] as [string, number]);
    for (const qos of [0, 1])
      assert.deepEqual(
        got.filter((x) => x[1] === qos),
        sent.filter((x) => x[1] === qos),
      );
    assert.equal(got.length, sent.length);
    assert.deepEqual(
      member.got.map((m) => [m.topic, m.payload, m.qos]),
      [['grp/x', 'to the group', 0]],
    );
    // Only the QoS 1 frames waited for an acknowledgement; none is left.
    assert.equal(a.broker.cluster!.metrics().outbox, 0);
    for (const r of [sub, member, pub]) await r.client.endAsync();
  });
});

describe('cross-node QoS 0 to a node that stopped reading (real redis-server, node process frozen)', () => {
  test('a QoS 0 flood is bounded on the sending node (the excess dropped and counted); QoS 1 published meanwhile all arrives once the node reads again', async () => {
    const redis = await startRedis();
    const dir = await mkdtemp(join(tmpdir(), 'heron-q0-'));
    const prefix = freshPrefix();
    // TTLs long enough that the frozen node is not declared gone during the test.
    const ttl = 20_000;
    const a = await startNode(redis.url, prefix, 'QA', {}, { nodeTtl: ttl });
    const b = await spawnDurableNode({
      redisUrl: redis.url,
      prefix,
      nodeId: 'QB',
      nodeTtl: ttl,
      dir,
    });
    try {
      const sub = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'q0-frozen-sub' });
      await sub.client.subscribeAsync('flood/#', { qos: 1 });
      await waitFor(() => knowsRoute(a, 'QB', 'flood/#'), 5000, 'route of QB on QA');
      const pub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'q0-flood-pub' });
      await pub.client.publishAsync('flood/first', 'first', { qos: 1 });
      await waitFor(() => sub.got.length === 1, 5000, 'first message');
      const stats = a.broker.cluster!.stats;
      b.freeze(true);
      // 60 MB of QoS 0: far more than the socket buffers and the link's backlog bound take.
      const n = 60_000;
      const payload = Buffer.alloc(1000, 0x61);
      const before = stats.forwarded + stats.dropped;
      for (let i = 0; i < n; i++) pub.client.publish('flood/q0', payload, { qos: 0 });
      await waitFor(() => stats.forwarded + stats.dropped - before >= n, 60_000, 'flood handled');
      assert.ok(stats.dropped > 0, 'the QoS 0 messages past the bound are dropped and counted');
      const held: string[] = [];
      for (let i = 0; i < 20; i++) {
        await pub.client.publishAsync('flood/q1', `q1 ${i}`, { qos: 1 });
        held.push(`q1 ${i}`);
      }
      b.freeze(false);
      await waitFor(
        () => sub.got.filter((m) => m.qos === 1).length >= 21,
        30_000,
        'QoS 1 after the thaw',
      );
      await settle();
      assert.deepEqual(
        sub.got.filter((m) => m.topic === 'flood/q1').map((m) => m.payload),
        held,
      );
      assert.ok(sub.got.length - 21 <= n - stats.dropped, 'no QoS 0 message arrives twice');
      for (const r of [sub, pub]) r.client.end(true);
    } finally {
      b.freeze(false);
      await b.kill();
      await a.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
