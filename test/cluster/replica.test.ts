import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/process.js';
import { connectRecorder, type Recorder, settle } from './support/clients.js';
import { freshPrefix, spawnNode } from './support/nodes.js';
import { startRedis } from './support/redis.js';

const COUNT = 200;

/** A persistent v5 session of `clientId` on `url`. */
function persistent(url: string, clientId: string): Promise<Recorder> {
  return connectRecorder(url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 300 },
  });
}

/** Every acknowledged payload arrived at `r`; with `once`, none arrived twice. */
function check(acked: string[], r: Recorder, who: string, once: boolean): void {
  const got = r.got.map((m) => m.payload);
  const seen = new Set(got);
  const lost = acked.filter((p) => !seen.has(p));
  assert.deepEqual(lost, [], `${who}: ${lost.length} of ${acked.length} acknowledged lost`);
  if (once) assert.equal(got.length, seen.size, `${who}: a QoS 2 message arrived twice`);
}

/** Reads one retained `$SYS` value of a node. */
async function sys(url: string, topic: string, want: string): Promise<string> {
  const c = await connectRecorder(url, { protocolVersion: 5, clientId: `sys-${Date.now()}` });
  await c.client.subscribeAsync(topic);
  const last = () => c.got.filter((m) => m.topic === topic).at(-1)?.payload;
  await waitFor(() => last() === want, 5000, `${topic} = ${want}`).catch(() => undefined);
  c.client.end(true);
  return last() ?? '(none)';
}

describe('sessions survive their node (real redis-server, node processes with LMDB, kill -9)', () => {
  for (const control of [true, false]) {
    test(
      control
        ? 'control: one node killed -9 with 200 queued messages and restarted from its store — session present, nothing lost'
        : 'owner killed -9 with 200 queued messages, client resumes on another node — session present, nothing lost, no QoS 2 twice, the old node does not resurrect it',
      async () => {
        const redis = await startRedis();
        const prefix = freshPrefix();
        const dirs = await Promise.all(
          [1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'heron-replica-'))),
        );
        const ids = control ? ['C1'] : ['R1', 'R2', 'R3'];
        const nodes = await Promise.all(
          ids.map((id, i) => spawnNode(redis.url, prefix, id, dirs[i])),
        );
        let restarted: Awaited<ReturnType<typeof spawnNode>> | undefined;
        try {
          const n1 = nodes[0]!;
          const pubNode = control ? n1 : nodes[1]!;
          // Subscribed on node 1, then offline: what is published queues there.
          const q1 = await persistent(n1.url, 'rep-q1');
          await q1.client.subscribeAsync('rep/#', { qos: 1 });
          const q2 = await persistent(n1.url, 'rep-q2');
          await q2.client.subscribeAsync('rep/#', { qos: 2 });
          await q1.client.endAsync();
          await q2.client.endAsync();

          const pub = await connectRecorder(pubNode.url, {
            protocolVersion: 5,
            clientId: 'rep-pub',
          });
          const acked: string[] = [];
          await Promise.all(
            Array.from({ length: COUNT }, (_, i) => {
              const qos = (i % 2) + 1;
              const payload = `m${i}-q${qos}`;
              return pub.client
                .publishAsync('rep/x', payload, { qos: qos as 1 | 2 })
                .then(() => acked.push(payload));
            }),
          );
          assert.equal(acked.length, COUNT);
          pub.client.end(true);

          await n1.kill(); // kill -9 with everything queued on it
          let resumeUrl: string;
          if (control) {
            restarted = await spawnNode(redis.url, prefix, 'C1', dirs[0]);
            resumeUrl = restarted.url;
          } else resumeUrl = nodes[2]!.url;

          const r1 = await persistent(resumeUrl, 'rep-q1');
          const r2 = await persistent(resumeUrl, 'rep-q2');
          assert.equal(r1.sessionPresent, true, 'rep-q1: session present');
          assert.equal(r2.sessionPresent, true, 'rep-q2: session present');
          const all = (r: Recorder) => () => new Set(r.got.map((m) => m.payload)).size >= COUNT;
          await waitFor(all(r1), 10000, 'rep-q1 messages').catch(() => undefined);
          await waitFor(all(r2), 10000, 'rep-q2 messages').catch(() => undefined);
          await settle(300);
          check(acked, r1, 'rep-q1 (QoS 1)', false);
          check(acked, r2, 'rep-q2 (QoS 2)', true);

          if (!control) {
            // The old node comes back with its store: the sessions moved, it drops its copies.
            restarted = await spawnNode(redis.url, prefix, 'R1', dirs[0]);
            assert.equal(
              await sys(restarted.url, '$SYS/broker/cluster/sessionsDropped', '2'),
              '2',
              'restarted node dropped both moved sessions',
            );
            // It does not queue for them either: a message published now arrives once.
            const pub2 = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
            await pub2.client.publishAsync('rep/after', 'after', { qos: 2 });
            pub2.client.end(true);
            await waitFor(() => r2.got.some((m) => m.payload === 'after'), 5000, 'after');
            await r2.client.endAsync();
            // Resuming on the restarted node takes the session from its owner: nothing stale comes twice.
            const back = await persistent(restarted.url, 'rep-q2');
            assert.equal(back.sessionPresent, true);
            await settle(500);
            const twice = back.got.filter((m) => r2.got.some((g) => g.payload === m.payload));
            assert.deepEqual(
              twice.map((m) => m.payload),
              [],
              'delivered again after the move back',
            );
            back.client.end(true);
          } else r2.client.end(true);
          r1.client.end(true);
        } finally {
          for (const n of nodes) await n.kill();
          await restarted?.kill();
          await redis.kill();
          await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
        }
      },
    );
  }

  test('the replica node dies first, then the owner: the copies moved to the last node, which restores every session', async () => {
    const redis = await startRedis();
    const prefix = freshPrefix();
    const dirs = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'heron-replica-'))));
    const nodes = await Promise.all(
      ['S1', 'S2', 'S3'].map((id, i) => spawnNode(redis.url, prefix, id, dirs[i])),
    );
    try {
      const [n1, n2, n3] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
      // Several sessions, so that both other nodes hold copies of some of them.
      const ids = ['s-a', 's-b', 's-c', 's-d', 's-e', 's-f'];
      for (const id of ids) {
        const c = await persistent(n1.url, id);
        await c.client.subscribeAsync('two/#', { qos: 1 });
        await c.client.endAsync();
      }
      const acked: string[] = [];
      const publish = async (url: string, tag: string) => {
        const pub = await connectRecorder(url, { protocolVersion: 5 });
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            pub.client.publishAsync('two/x', `${tag}${i}`, { qos: 1 }).then(() => {
              acked.push(`${tag}${i}`);
            }),
          ),
        );
        pub.client.end(true);
      };
      await publish(n3.url, 'before');
      await n2.kill(); // copies it held move to the only other live node
      await publish(n3.url, 'after'); // acknowledged once on the new replica
      await n1.kill();
      for (const id of ids) {
        const r = await persistent(n3.url, id);
        assert.equal(r.sessionPresent, true, `${id}: session present`);
        await waitFor(() => r.got.length >= acked.length, 10000, id).catch(() => undefined);
        check(acked, r, id, false);
        r.client.end(true);
      }
    } finally {
      for (const n of nodes) await n.kill();
      await redis.kill();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });

  test('owner and replica both killed -9, the replica restarts from its store: the copies come back with it', async () => {
    const redis = await startRedis();
    const prefix = freshPrefix();
    const dirs = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'heron-replica-'))));
    const ids = ['T1', 'T2', 'T3'];
    const nodes = await Promise.all(ids.map((id, i) => spawnNode(redis.url, prefix, id, dirs[i])));
    const again: Awaited<ReturnType<typeof spawnNode>>[] = [];
    try {
      const sessions = ['d-a', 'd-b', 'd-c', 'd-d', 'd-e', 'd-f'];
      for (const id of sessions) {
        const c = await persistent(nodes[0]!.url, id);
        await c.client.subscribeAsync('disk/#', { qos: 1 });
        await c.client.endAsync();
      }
      const pub = await connectRecorder(nodes[1]!.url, { protocolVersion: 5 });
      const acked: string[] = [];
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          pub.client.publishAsync('disk/x', `d${i}`, { qos: 1 }).then(() => {
            acked.push(`d${i}`);
          }),
        ),
      );
      pub.client.end(true);
      // Every node dies; the two that held the copies come back with their stores.
      for (const n of nodes) await n.kill();
      again.push(await spawnNode(redis.url, prefix, 'T2', dirs[1]));
      again.push(await spawnNode(redis.url, prefix, 'T3', dirs[2]));
      for (const id of sessions) {
        const r = await persistent(again[0]!.url, id);
        assert.equal(r.sessionPresent, true, `${id}: session present`);
        await waitFor(() => r.got.length >= acked.length, 10000, id).catch(() => undefined);
        check(acked, r, id, false);
        r.client.end(true);
      }
    } finally {
      for (const n of [...nodes, ...again]) await n.kill();
      await redis.kill();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
