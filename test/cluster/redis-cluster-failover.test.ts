import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort, waitFor } from '../helpers/process.js';
import { connectRecorder, type Recorder } from './support/clients.js';
import {
  type HeronNode,
  keysShard,
  lookInto,
  missing,
  startHeronNodes,
} from './support/heron-on-redis-cluster.js';
import { startRedisCluster } from './support/redis-cluster.js';

/** Publishes QoS 1 messages, at most one every 2 ms, until stopped; returns the acknowledged payloads. */
async function publishUntil(pub: Recorder, stop: () => boolean): Promise<string[]> {
  const acked: string[] = [];
  const start = Date.now();
  for (let i = 0; !stop(); i++) {
    const ahead = 2 * i - (Date.now() - start);
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    try {
      await pub.client.publishAsync('fo/x', `fo-${i}`, { qos: 1 });
      acked.push(`fo-${i}`);
    } catch {
      // Not acknowledged: no promise made about it.
    }
  }
  return acked;
}

describe('Heron on a Redis Cluster with replicas', () => {
  test("the master holding Heron's keys killed -9: nothing acknowledged is lost while its replica takes over, and claims and take-overs then run on the new master", async () => {
    const redis = await startRedisCluster(3, { replicas: 1, nodeTimeout: 1000 });
    const dir = await mkdtemp(join(tmpdir(), 'heron-rc-fo-'));
    const look = lookInto(redis);
    let nodes: HeronNode[] = [];
    try {
      nodes = await startHeronNodes(redis, dir, ['FO1', 'FO2'], await freePort());
      await waitFor(async () => (await look.smembers('{heron:}nodes')).length === 2, 5000, 'nodes');
      const [a, b] = nodes as [HeronNode, HeronNode];
      const opts = {
        protocolVersion: 5 as const,
        clientId: 'fo-sub',
        clean: false,
        properties: { sessionExpiryInterval: 300 },
      };
      const sub = await connectRecorder(a.url, opts);
      await sub.client.subscribeAsync('fo/#', { qos: 1 });
      const pub = await connectRecorder(b.url, { protocolVersion: 5 });
      const { master, replicaPort } = await keysShard(look, redis);
      assert.ok(replicaPort !== undefined, 'the keys shard has a replica');

      let stop = false;
      const publishing = publishUntil(pub, () => stop);
      await master.kill();
      await waitFor(
        async () => (await redis.cli('-p', String(replicaPort), 'role')).startsWith('master'),
        15_000,
        'replica promoted',
      );
      const promotedAt = Date.now();
      // Each node's heartbeat reached the new master: its client routes there now.
      const beatSince = async (id: string) => {
        const rec = await look.get(`{heron:}node:${id}`).catch(() => null);
        return rec !== null && (JSON.parse(rec) as { t: number }).t > promotedAt;
      };
      await waitFor(
        async () => (await beatSince('FO1')) && (await beatSince('FO2')),
        10_000,
        'heartbeats on the new master',
      );
      stop = true;
      const acked = await publishing;
      assert.ok(acked.length > 100, `only ${acked.length} acknowledged`);
      await waitFor(() => missing(acked, sub).length === 0, 5000, 'every message').catch(() => {});
      assert.deepEqual(missing(acked, sub), [], 'acknowledged messages lost during the fail-over');

      // The ownership record survived on the replica; a take-over runs through it.
      const closed = new Promise<number | undefined>((resolve) =>
        sub.client.once('disconnect', (p) => resolve(p.reasonCode)),
      );
      const moved = await connectRecorder(b.url, opts);
      assert.equal(moved.sessionPresent, true, 'session present after the take-over');
      assert.equal(await closed, 0x8e);
      assert.equal(await look.hget('{heron:}session:fo-sub', 'node'), 'FO2');
      moved.client.end(true);
      pub.client.end(true);
    } finally {
      look.disconnect();
      await Promise.all(nodes.map((n) => n.proc.stop()));
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
