import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Cluster } from 'ioredis';
import { type ClusterOptions, resolveClusterOptions } from '../../src/cluster/options.js';
import { freePort, HERON_BIN, waitFor } from '../helpers/process.js';
import { connectRecorder } from './support/clients.js';
import {
  type HeronNode,
  keysShard,
  lookInto,
  missing,
  retainedOn,
  startHeronNodes,
} from './support/heron-on-redis-cluster.js';
import {
  type ClusterServer,
  startRedisCluster,
  type TestRedisCluster,
} from './support/redis-cluster.js';

/** Runs `heron cluster status` with these arguments; resolves with its stdout. */
function clusterStatus(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HERON_BIN, 'cluster', 'status', ...args], (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe('Heron on a real Redis Cluster (3 masters, 3 heron processes, cluster_redis_cluster)', () => {
  let redis: TestRedisCluster;
  let dir: string;
  let nodes: HeronNode[] = [];
  let admin: string;
  /** The test's own Cluster client, to look at Heron's keys. */
  let look: Cluster;

  before(async () => {
    redis = await startRedisCluster(3);
    dir = await mkdtemp(join(tmpdir(), 'heron-rc-'));
    const adminPort = await freePort();
    admin = `http://127.0.0.1:${adminPort}/api/v1/`;
    nodes = await startHeronNodes(redis, dir, ['RC1', 'RC2', 'RC3'], adminPort);
    look = lookInto(redis);
    // Every node knows the other two before the tests start.
    await waitFor(
      async () => (await look.smembers('{heron:}nodes')).length === 3,
      5000,
      'three nodes in {heron:}nodes',
    );
  });

  after(async () => {
    look?.disconnect();
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await redis?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('QoS 1 published on one node reaches a subscriber on another, every message', async () => {
    const sub = await connectRecorder(nodes[0]!.url, { protocolVersion: 5, clientId: 'rc-sub' });
    await sub.client.subscribeAsync('rc/q1/#', { qos: 1 });
    const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5, clientId: 'rc-pub' });
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const p = `q1-${i}`;
      await pub.client.publishAsync(`rc/q1/${i % 7}`, p, { qos: 1 });
      sent.push(p);
    }
    await waitFor(() => missing(sent, sub).length === 0, 5000, 'every message').catch(() => {});
    assert.deepEqual(missing(sent, sub), []);
    assert.ok(sub.got.every((m) => m.qos === 1));
    sub.client.end(true);
    pub.client.end(true);
  });

  test('a retained message set on one node is served by the others; it is kept in the cluster under the hash-tagged prefix', async () => {
    const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
    await pub.client.publishAsync('rc/ret/a', 'kept', { qos: 1, retain: true });
    pub.client.end(true);
    for (const n of [nodes[2]!, nodes[0]!])
      await waitFor(
        async () => (await retainedOn(n.url, 'rc/ret/a')) === 'kept',
        5000,
        `retained on ${n.id}`,
      );
    assert.equal(await look.hexists('{heron:}retained', 'rc/ret/a'), 1);
  });

  test('a persistent session follows its client to another node, with what was queued while it was away; a take-over moves it again', async () => {
    const opts = {
      protocolVersion: 5 as const,
      clientId: 'rc-mover',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    };
    const first = await connectRecorder(nodes[0]!.url, opts);
    await first.client.subscribeAsync('rc/move', { qos: 1 });
    await first.client.endAsync();
    const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
    const queued: string[] = [];
    for (let i = 0; i < 20; i++) {
      await pub.client.publishAsync('rc/move', `away-${i}`, { qos: 1 });
      queued.push(`away-${i}`);
    }
    const second = await connectRecorder(nodes[2]!.url, opts);
    assert.equal(second.sessionPresent, true, 'session present on the node it moved to');
    await waitFor(() => missing(queued, second).length === 0, 5000, 'queued').catch(() => {});
    assert.deepEqual(missing(queued, second), []);
    assert.equal(await look.hget('{heron:}session:rc-mover', 'node'), 'RC3');

    // Take-over while connected: the old connection is closed with 0x8E, the session moves.
    const closed = new Promise<number | undefined>((resolve) =>
      second.client.once('disconnect', (p) => resolve(p.reasonCode)),
    );
    const third = await connectRecorder(nodes[1]!.url, opts);
    assert.equal(await closed, 0x8e);
    assert.equal(third.sessionPresent, true);
    const later: string[] = [];
    for (let i = 0; i < 20; i++) {
      await pub.client.publishAsync('rc/move', `later-${i}`, { qos: 1 });
      later.push(`later-${i}`);
    }
    await waitFor(() => missing(later, third).length === 0, 5000, 'after take-over').catch(
      () => {},
    );
    assert.deepEqual(missing(later, third), []);
    assert.equal(await look.hget('{heron:}session:rc-mover', 'node'), 'RC2');
    third.client.end(true);
    pub.client.end(true);
  });

  test('SUBACK race: a publish on another node the moment SUBACK arrives is delivered (50 of 50)', async () => {
    const sub = await connectRecorder(nodes[0]!.url, { protocolVersion: 5, clientId: 'rc-race' });
    const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      await sub.client.subscribeAsync(`rc/race/${i}`, { qos: 1 });
      await pub.client.publishAsync(`rc/race/${i}`, `race-${i}`, { qos: 1 });
      sent.push(`race-${i}`);
    }
    await waitFor(() => missing(sent, sub).length === 0, 5000, 'race').catch(() => {});
    assert.deepEqual(missing(sent, sub), [], 'missed after SUBACK');
    sub.client.end(true);
    pub.client.end(true);
  });

  test('heron cluster status (from the configuration file) and the admin API read the Redis Cluster', async () => {
    const json = JSON.parse(await clusterStatus('-c', nodes[0]!.conf, '--json')) as {
      nodes: { id: string; alive: boolean; link?: string; routes: number; owns: number }[];
      sessions: number;
    };
    const byId = new Map(json.nodes.map((n) => [n.id, n]));
    for (const n of nodes) {
      assert.equal(byId.get(n.id)?.alive, true, `${n.id} alive`);
      assert.match(byId.get(n.id)!.link!, /^127\.0\.0\.1:\d+$/);
    }
    assert.ok(json.sessions >= 1);
    assert.ok(byId.get('RC2')!.owns >= 1, 'RC2 owns rc-mover');
    // The text form, with seed nodes given as flags instead of a file.
    const seeds = redis.seeds.flatMap((s) => ['--redis-cluster', s]);
    const text = await clusterStatus(...seeds);
    assert.match(text, /^redis: up/);
    assert.match(text, /nodes: 3 alive of 3/);

    const view = (await (await fetch(`${admin}cluster`)).json()) as {
      redis: { ok: boolean };
      nodes: { id: string; alive: boolean }[];
    };
    assert.equal(view.redis.ok, true);
    assert.deepEqual(
      view.nodes.map((n) => [n.id, n.alive]),
      [
        ['RC1', true],
        ['RC2', true],
        ['RC3', true],
      ],
    );
    const owner = (await (await fetch(`${admin}owners/rc-mover`)).json()) as { owner: string };
    assert.equal(owner.owner, 'RC2');
  });

  /** Ports of the servers that carry a Heron node's pub/sub connection, one entry per connection. */
  async function subscriberPorts(): Promise<number[]> {
    const ports: number[] = [];
    for (const s of redis.servers) {
      const list = await redis.cli('-p', String(s.port), 'client', 'list').catch(() => '');
      for (const line of list.split('\n')) if (/ sub=[1-9]/.test(line)) ports.push(s.port);
    }
    return ports;
  }

  test('the server carrying pub/sub connections killed: the nodes subscribe elsewhere, and take-overs and retained updates still reach every node', async () => {
    await waitFor(async () => (await subscriberPorts()).length === 3, 5000, 'three subscribers');
    const keysOn = (await keysShard(look, redis)).master.port;
    const carrying = await subscriberPorts();
    // Preferably one that does not serve Heron's keys, so only pub/sub is hit.
    const port = carrying.find((p) => p !== keysOn) ?? carrying[0]!;
    const server = redis.servers.find((s) => s.port === port)!;
    await server.kill();
    try {
      await waitFor(
        async () => (await subscriberPorts()).length === 3,
        10_000,
        'every node subscribed again',
      );
      if (port === keysOn) {
        // It also held Heron's keys: back empty, each node announces itself again
        // (a claim made before that would be decided locally, see the outage tests).
        await server.restart();
        await waitFor(
          async () => (await look.smembers('{heron:}nodes').catch(() => [])).length === 3,
          10_000,
          'membership rewritten',
        );
      }
      const opts = {
        protocolVersion: 5 as const,
        clientId: 'rc-roam',
        clean: false,
        properties: { sessionExpiryInterval: 300 },
      };
      // Round the three nodes: each take-over request travels on the old node's control channel.
      let held = await connectRecorder(nodes[0]!.url, opts);
      for (const n of [nodes[1]!, nodes[2]!, nodes[0]!]) {
        const closed = new Promise<number | undefined>((resolve) =>
          held.client.once('disconnect', (p) => resolve(p.reasonCode)),
        );
        const next = await connectRecorder(n.url, opts);
        assert.equal(next.sessionPresent, true, `session present on ${n.id}`);
        assert.equal(await closed, 0x8e, `taken over from the previous node by ${n.id}`);
        held = next;
      }
      held.client.end(true);
      const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
      await pub.client.publishAsync('rc/ret/roam', 'after', { qos: 1, retain: true });
      pub.client.end(true);
      for (const n of nodes)
        await waitFor(
          async () => (await retainedOn(n.url, 'rc/ret/roam')) === 'after',
          5000,
          `retained on ${n.id}`,
        );
    } finally {
      if (port !== keysOn) await server.restart();
    }
  });

  test("a server without Heron's keys down: new nodes join, and heron cluster status reads the cluster", async () => {
    const keysOn = (await keysShard(look, redis)).master.port;
    const other = redis.servers.find((s) => s.port !== keysOn)!;
    await other.kill();
    let more: HeronNode[] = [];
    try {
      // Each of these opens Cluster clients whose first server asked may be the one that is down.
      more = await startHeronNodes(redis, dir, ['RC4', 'RC5']);
      const seeds = redis.seeds.flatMap((s) => ['--redis-cluster', s]);
      assert.match(await clusterStatus(...seeds), /nodes: 5 alive of 5/);
    } finally {
      await Promise.all(more.map((n) => n.proc.stop()));
      await other.restart();
    }
    await waitFor(
      async () => (await look.smembers('{heron:}nodes')).length === 3,
      5000,
      'RC4 and RC5 left',
    );
  });

  /** RC1's heron_cluster_redis_up gauge. */
  async function redisUp(): Promise<string | undefined> {
    const text = await (await fetch(new URL('/metrics', admin))).text();
    return /^heron_cluster_redis_up (\d)/m.exec(text)?.[1];
  }

  /**
   * Takes the shard serving Heron's keys away with `down`, checks that RC1
   * accepts client `id` without it and that messages keep crossing nodes, then
   * brings it back and waits until the nodes wrote their state again.
   */
  async function outage(id: string, down: (s: ClusterServer) => Promise<void>): Promise<void> {
    const shard = (await keysShard(look, redis)).master;
    const stats = async () =>
      ((await (await fetch(`${admin}cluster`)).json()) as { stats: Record<string, number> }).stats;
    const before = await stats();
    await down(shard);

    // Decided locally on RC1: the CONNECT does not wait for the shard.
    const sub = await connectRecorder(nodes[0]!.url, {
      protocolVersion: 5,
      clientId: id,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    await sub.client.subscribeAsync(`rc/${id}`, { qos: 1 });
    const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      await pub.client.publishAsync(`rc/${id}`, `${id}-${i}`, { qos: 1 });
      sent.push(`${id}-${i}`);
    }
    await pub.client.publishAsync(`rc/${id}/kept`, 'during', { qos: 1, retain: true });
    await waitFor(() => missing(sent, sub).length === 0, 5000, 'outage').catch(() => {});
    assert.deepEqual(missing(sent, sub), [], 'messages between nodes during the outage');
    const during = await stats();
    assert.ok(during.claimsLocal! > before.claimsLocal!, 'the claim was decided locally');
    assert.ok(during.redisErrors! > before.redisErrors!, 'failed writes counted, not queued');
    // The Cluster client itself stays "ready": the node's gauge and the admin probe look at the shard.
    await waitFor(async () => (await redisUp()) === '0', 5000, 'heron_cluster_redis_up 0');
    const view = (await (await fetch(`${admin}cluster`)).json()) as { redis: { ok: boolean } };
    assert.equal(view.redis.ok, false, 'admin probe: Redis not ok');

    await shard.restart();
    await waitFor(async () => (await redisUp()) === '1', 10_000, 'heron_cluster_redis_up 1');
    // Back: the local claim, membership and the retained message are written again.
    await waitFor(
      async () => (await look.hget(`{heron:}session:${id}`, 'node').catch(() => null)) === 'RC1',
      10_000,
      'claim reconciled',
    );
    await waitFor(
      async () => (await look.smembers('{heron:}nodes').catch(() => [])).length === 3,
      10_000,
      'membership rewritten',
    );
    await waitFor(
      async () => (await look.hexists('{heron:}retained', `rc/${id}/kept`).catch(() => 0)) === 1,
      10_000,
      'retained rewritten',
    );
    sub.client.end(true);
    pub.client.end(true);
  }

  test("the shard holding Heron's keys killed: clients still connect, messages still cross nodes, failed writes are counted; restarted empty, the nodes write their state again", () =>
    outage('rc-killed', (s) => s.kill()));

  test("the shard holding Heron's keys shut down and restarted with its data: the nodes notice it is back (no 'ready' event on a Cluster client) and claim what they accepted meanwhile", () =>
    outage('rc-paused', (s) => s.shutdown()));
});

describe('Redis Cluster options', () => {
  test('on a Redis Cluster the key prefix becomes a hash tag unless it has one; on one Redis it stays as configured', () => {
    const prefix = (o: Partial<ClusterOptions>) =>
      resolveClusterOptions({ redisUrl: 'redis://', nodeId: 'n', ...o }).keyPrefix;
    const seeds = { redisClusterNodes: ['127.0.0.1:7000'] };
    assert.equal(prefix(seeds), '{heron:}');
    assert.equal(prefix({ ...seeds, keyPrefix: 'prod:' }), '{prod:}');
    assert.equal(prefix({ ...seeds, keyPrefix: '{prod}:' }), '{prod}:');
    // An empty tag does not count: Redis would hash the whole key.
    assert.equal(prefix({ ...seeds, keyPrefix: 'a{}b:' }), '{a{}b:}');
    assert.equal(prefix({}), 'heron:');
    assert.equal(prefix({ redisSentinels: ['127.0.0.1:26379'] }), 'heron:');
    assert.throws(
      () => prefix({ ...seeds, redisSentinels: ['127.0.0.1:26379'] }),
      /exclude each other/,
    );
    assert.throws(() => prefix({ ...seeds, redisUrl: 'redis://h/2' }), /only database 0/);
  });

  test('unreachable seed nodes fail listen() with a ClusterError that names them', async () => {
    const { createBroker } = await import('../../src/broker/broker.js');
    const broker = createBroker({
      sysInterval: 0,
      listeners: [{ port: 0, host: '127.0.0.1' }],
      cluster: { redisUrl: 'redis://', redisClusterNodes: ['127.0.0.1:1'], nodeId: 'x' },
    });
    await assert.rejects(broker.listen(), {
      name: 'ClusterError',
      message: /the Redis Cluster at 127\.0\.0\.1:1/,
    });
    await broker.close();
  });
});
