import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { brokerOptionsFromConfig } from '../../src/cli/broker-options.js';
import { parseConfigText } from '../../src/config/index.js';
import { waitFor } from '../helpers/process.js';
import { connectRecorder, settle } from './support/clients.js';
import { knowsRoute, NODE_TTL, spawnNode, startNode, suiteCluster } from './support/nodes.js';

describe('cluster shared subscriptions and node failure', () => {
  const cluster = suiteCluster(['A', 'B']);
  const [a, b] = cluster.nodes;

  test('a shared group with members on two nodes gets each message once cluster-wide', async () => {
    const c = await startNode(cluster.redisUrl, cluster.prefix, 'C');
    try {
      const m1 = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'w1' });
      const m2 = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'w2' });
      const m3 = await connectRecorder(b.url, { protocolVersion: 4, clientId: 'w3' });
      for (const m of [m1, m2, m3])
        await m.client.subscribeAsync('$share/workers/tasks/#', { qos: 1 });
      await waitFor(
        () =>
          knowsRoute(c, 'A', '$share/workers/tasks/#') &&
          knowsRoute(c, 'B', '$share/workers/tasks/#'),
        3000,
        'group routes on C',
      );
      // Published where no member is: spread over the nodes that have members.
      const pubC = await connectRecorder(c.url, { clientId: 'tasks-c' });
      for (let i = 0; i < 20; i++)
        await pubC.client.publishAsync(`tasks/${i}`, `c${i}`, { qos: 1 });
      // Published on a node with a member: that member's node serves it.
      const pubA = await connectRecorder(a.url, { clientId: 'tasks-a' });
      for (let i = 0; i < 10; i++)
        await pubA.client.publishAsync(`tasks/${i}`, `a${i}`, { qos: 1 });
      const all = () => [...m1.got, ...m2.got, ...m3.got];
      await waitFor(() => all().length >= 30, 3000, 'all tasks');
      await settle();
      const payloads = all()
        .map((m) => m.payload)
        .sort();
      assert.equal(payloads.length, 30);
      assert.equal(new Set(payloads).size, 30);
      assert.ok(
        m1.got.some((m) => m.payload.startsWith('c')),
        'A got some of C’s messages',
      );
      assert.ok(m2.got.length + m3.got.length >= 10, 'B got its share');
      assert.ok(
        m1.got.filter((m) => m.payload.startsWith('a')).length === 10,
        'local member first',
      );
      for (const m of [m1, m2, m3, pubC, pubA]) await m.client.endAsync();
    } finally {
      await c.close();
    }
  });

  test('a killed node stops receiving forwards after its TTL, and its client ids can be claimed', async () => {
    const dead = await spawnNode(cluster.redisUrl, cluster.prefix, 'K');
    const sub = await connectRecorder(dead.url, {
      protocolVersion: 4,
      clientId: 'on-k',
      clean: false,
    });
    await sub.client.subscribeAsync('k/#', { qos: 1 });
    await waitFor(() => knowsRoute(a, 'K', 'k/#'), 3000, 'route of K on A');
    const pub = await connectRecorder(a.url, { clientId: 'k-pub' });
    const before = a.broker.cluster!.stats.forwarded;
    await pub.client.publishAsync('k/1', 'x', { qos: 1 });
    assert.equal(a.broker.cluster!.stats.forwarded, before + 1);

    await dead.kill();
    sub.client.end(true);
    const killedAt = Date.now();
    await waitFor(() => !a.broker.cluster!.remote.nodes.has('K'), NODE_TTL * 4, 'K dropped on A');
    assert.ok(Date.now() - killedAt >= NODE_TTL / 3, 'dropped by TTL, not at once');
    const toK = () => a.broker.cluster!.links().find((l) => l.id === 'K')?.unacked ?? 0;
    const keptForK = toK();
    await pub.client.publishAsync('k/2', 'y', { qos: 1 });
    assert.equal(toK(), keptForK, 'nothing more is forwarded to K');

    // K still "owns" on-k in Redis, but it is dead: B claims the id without waiting for it.
    const t0 = Date.now();
    const back = await connectRecorder(b.url, {
      protocolVersion: 4,
      clientId: 'on-k',
      clean: false,
    });
    assert.ok(Date.now() - t0 < 900, 'no handover wait for a dead node');
    // The session survived its node: its replica took it over when K was declared gone,
    // so what was published since queued for it.
    assert.equal(back.sessionPresent, true);
    await waitFor(() => back.got.some((m) => m.payload === 'y'), 3000, 'k/2 queued meanwhile');
    await back.client.endAsync();
    await pub.client.endAsync();
  });

  test('cluster_* options (URL, Sentinel, TTL, hand-over, prefix, link) become BrokerOptions.cluster', () => {
    const cfg = parseConfigText(
      'listener 1883\ncluster_redis_url redis://127.0.0.1:6390\ncluster_node_id n1\n',
      'test.conf',
    );
    const o = brokerOptionsFromConfig(cfg, 'test');
    assert.deepEqual(o.cluster, { redisUrl: 'redis://127.0.0.1:6390', nodeId: 'n1' });
    const all = brokerOptionsFromConfig(
      parseConfigText(
        [
          'listener 1883',
          'cluster_node_ttl 3000',
          'cluster_redis_url redis://:pw@127.0.0.1:6390/2',
          'cluster_redis_sentinel 10.0.0.1:26379',
          'cluster_redis_sentinel 10.0.0.2:26379',
          'cluster_redis_sentinel_name heron-master',
          'cluster_key_prefix prod:',
          'cluster_handover_timeout 1500',
          'cluster_link_listener 7946 10.0.0.5',
          'cluster_link_advertise node5.example',
          'cluster_max_outbox 5000',
        ].join('\n'),
        'test.conf',
      ),
      'test',
    );
    assert.deepEqual(all.cluster, {
      redisUrl: 'redis://:pw@127.0.0.1:6390/2',
      nodeTtl: 3000,
      redisSentinels: ['10.0.0.1:26379', '10.0.0.2:26379'],
      sentinelName: 'heron-master',
      keyPrefix: 'prod:',
      handoverTimeout: 1500,
      linkPort: 7946,
      linkHost: '10.0.0.5',
      advertiseHost: 'node5.example',
      maxOutbox: 5000,
    });
    assert.equal(
      brokerOptionsFromConfig(parseConfigText('listener 1883\n', 'test.conf'), 'test').cluster,
      undefined,
    );
  });

  test('heron cluster status lists the nodes with their links, routes and sessions; $SYS has the cluster counters', async () => {
    const s = await startNode(cluster.redisUrl, cluster.prefix, 'S', { sysInterval: 1 });
    try {
      const sub = await connectRecorder(a.url, { clientId: 'status-sub', clean: false });
      await sub.client.subscribeAsync('status/+', { qos: 1 });
      const pub = await connectRecorder(s.url, { clientId: 'status-pub' });
      await pub.client.publishAsync('status/1', 'x', { qos: 1 });
      await waitFor(() => sub.got.length === 1, 3000, 'forwarded message');
      const watch = await connectRecorder(s.url, { clientId: 'status-sys' });
      await watch.client.subscribeAsync('$SYS/broker/cluster/#', { qos: 0 });
      // The latest value of a $SYS topic (published again each interval when it changed).
      const sys = (k: string) =>
        watch.got.filter((m) => m.topic === `$SYS/broker/cluster/${k}`).pop();
      await waitFor(() => sys('forwarded')?.payload === '1', 3000, '$SYS cluster counters');
      assert.ok(Number(sys('acked')!.payload) >= 1);
      assert.equal(sys('redis')!.payload, 'up');
      assert.ok(Number(sys('routes')!.payload) >= 1);

      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          [
            'bin/heron.js',
            'cluster',
            'status',
            '--url',
            cluster.redisUrl,
            '--prefix',
            cluster.prefix,
            '--json',
          ],
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        );
      });
      const st = JSON.parse(out) as {
        nodes: { id: string; alive: boolean; link?: string; routes: number; owns: number }[];
      };
      const byId = new Map(st.nodes.map((n) => [n.id, n]));
      for (const id of ['A', 'B', 'S']) assert.equal(byId.get(id)?.alive, true, id);
      assert.match(byId.get('A')!.link!, /^127\.0\.0\.1:\d+$/);
      assert.ok(byId.get('A')!.routes >= 1);
      assert.ok(byId.get('A')!.owns >= 1);
      for (const r of [sub, pub, watch]) await r.client.endAsync();
    } finally {
      await s.close();
    }
  });

  test('an unreachable Redis fails listen() with a ClusterError', async () => {
    const { createBroker } = await import('../../src/broker/broker.js');
    const broker = createBroker({
      sysInterval: 0,
      listeners: [{ port: 0, host: '127.0.0.1' }],
      cluster: { redisUrl: 'redis://127.0.0.1:1', nodeId: 'x' },
    });
    await assert.rejects(broker.listen(), { name: 'ClusterError' });
    await broker.close();
  });
});
