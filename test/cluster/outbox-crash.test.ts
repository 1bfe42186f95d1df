import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/process.js';
import { storedState } from '../store/support/heron-process.js';
import { connectRecorder, type Recorder, settle } from './support/clients.js';
import {
  type DurableNode,
  type DurableNodeConfig,
  spawnDurableNode,
} from './support/durable-nodes.js';
import { freshPrefix } from './support/nodes.js';
import { startRedis } from './support/redis.js';

// Long enough that a node killed and started again is not declared gone (its routes kept) meanwhile.
const TTL = 5000;

/** A persistent QoS 2 subscriber of `ob/#` on one session, connected now. */
function subscriber(url: string): Promise<Recorder> {
  return connectRecorder(url, {
    protocolVersion: 5,
    clientId: 'ob-sub',
    clean: false,
    properties: { sessionExpiryInterval: 600 },
  });
}

/** Publishes `n` messages (QoS 1 and 2 alternating unless `qos`), `window` at a time; returns the acknowledged payloads. */
async function publish(
  pub: Recorder,
  n: number,
  window: number,
  qos?: 1 | 2,
  onAcked?: (count: number) => void,
): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const q = qos ?? (i % 2) + 1;
      const payload = `m${i}-q${q}`;
      try {
        await pub.client.publishAsync('ob/x', payload, { qos: q as 1 | 2 });
        acked.push(payload);
        onAcked?.(acked.length);
      } catch {
        // Not acknowledged: nothing promised.
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return acked;
}

/** Every acknowledged payload arrived; no QoS 2 payload arrived twice. */
function check(acked: string[], got: string[]): void {
  const seen = new Set(got);
  const lost = acked.filter((p) => !seen.has(p));
  assert.deepEqual(
    lost,
    [],
    `${lost.length} of ${acked.length} acknowledged messages lost: ${lost.slice(0, 5).join(' ')}`,
  );
  const q2 = got.filter((p) => p.endsWith('-q2'));
  const twice = q2.filter((p, i) => q2.indexOf(p) !== i);
  assert.deepEqual(twice, [], `${twice.length} QoS 2 messages arrived twice`);
}

/** Collects what the offline session queued, until every acknowledged payload arrived (or 10 s). */
async function drain(url: string, acked: string[]): Promise<string[]> {
  const sub = await subscriber(url);
  assert.equal(sub.sessionPresent, true, 'the restarted node lost the session');
  const arrived = () => {
    const seen = new Set(sub.got.map((m) => m.payload));
    return acked.every((p) => seen.has(p));
  };
  // Lost messages fail in check() with their count, not here with a timeout.
  await waitFor(arrived, 10_000, 'every acknowledged message').catch(() => undefined);
  await settle(300); // a duplicate would arrive meanwhile
  sub.client.end(true);
  return sub.got.map((m) => m.payload);
}

/** Redis, nodes A and B (own LMDB stores), a publisher on A and B's subscriber offline after one message. */
interface Rig {
  confA: DurableNodeConfig;
  confB: DurableNodeConfig;
  a: DurableNode;
  b: DurableNode;
  pub: Recorder;
  /** Kills both nodes (whichever processes the test left in `a` and `b`) and Redis; removes the stores. */
  close(): Promise<void>;
}

/**
 * Starts the two nodes, subscribes `ob-sub` on B at `subQos`, gets one `first`
 * message at `firstQos` from A to it (so the route is in force) and leaves the
 * session offline: B queues for it in its store from now on.
 */
async function rig(
  ids: [string, string],
  o: { ttl?: number; handover?: number; subQos?: 1 | 2; firstQos?: 1 | 2; sysA?: number } = {},
): Promise<Rig> {
  const redis = await startRedis();
  const dirA = await mkdtemp(join(tmpdir(), 'heron-ob-a-'));
  const dirB = await mkdtemp(join(tmpdir(), 'heron-ob-b-'));
  const base = {
    redisUrl: redis.url,
    prefix: freshPrefix(),
    nodeTtl: o.ttl ?? TTL,
    handoverTimeout: o.handover,
  };
  const confA: DurableNodeConfig = { ...base, nodeId: ids[0], dir: dirA, sysInterval: o.sysA };
  const confB: DurableNodeConfig = { ...base, nodeId: ids[1], dir: dirB };
  const r = {
    confA,
    confB,
    a: await spawnDurableNode(confA),
    b: await spawnDurableNode(confB),
  } as Rig;
  r.close = async () => {
    r.b.freeze(false);
    await r.a.kill();
    await r.b.kill();
    await redis.kill();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  };
  try {
    const sub = await subscriber(r.b.url);
    await sub.client.subscribeAsync('ob/#', { qos: o.subQos ?? 2 });
    r.pub = await connectRecorder(r.a.url, { protocolVersion: 5, clientId: 'ob-pub' });
    await r.pub.client.publishAsync('ob/first', 'first', { qos: o.firstQos ?? 1 });
    await waitFor(() => sub.got.some((m) => m.payload === 'first'), 3000, 'first message');
    await sub.client.endAsync();
  } catch (err) {
    await r.close();
    throw err;
  }
  return r;
}

describe('cluster outbox in the store (real redis-server, 2 node processes with LMDB, kill -9)', () => {
  test('the SENDER is killed with unacknowledged forwarded QoS 1/2 messages: restarted, it re-sends them all; no QoS 2 duplicate', async () => {
    const r = await rig(['OA', 'OB']);
    const { pub } = r;
    try {
      // B dies: A's link to it is down, so what A forwards now stays unacknowledged in A.
      await r.b.kill();
      const acked = await publish(pub, 300, 10);
      assert.equal(acked.length, 300, 'A acknowledges while B is down');
      // A dies holding all of them; only its store still knows them.
      await r.a.kill();
      pub.client.end(true);
      // A comes back first (it dials B's old address, then B's new one when B announces itself).
      r.a = await spawnDurableNode(r.confA);
      r.b = await spawnDurableNode(r.confB);
      check(
        acked,
        (await drain(r.b.url, acked)).filter((p) => p !== 'first'),
      );
    } finally {
      await r.close();
    }
  });

  test('the SENDER is killed while the receiver is frozen: restarted, it re-sends under the same stream and the live receiver drops what it had; 0 lost, 0 QoS 2 duplicates', async () => {
    const r = await rig(['FA', 'FB']);
    const { pub } = r;
    try {
      // B neither reads nor acknowledges: A's frames wait in sockets and in A's outbox.
      r.b.freeze(true);
      const acked = await publish(pub, 300, 10);
      assert.equal(acked.length, 300, 'A acknowledges while B is frozen');
      await r.a.kill();
      pub.client.end(true);
      // A restarted re-sends to a B that may also read the old connection's frames:
      // only the same stream and numbers let B tell the copies apart.
      const restarting = spawnDurableNode(r.confA);
      r.b.freeze(false);
      r.a = await restarting;
      check(
        acked,
        (await drain(r.b.url, acked)).filter((p) => p !== 'first'),
      );
    } finally {
      await r.close();
    }
  });

  test('frames kept for a node that never comes back are dropped ten TTLs after the restart: counted, and gone from the store', async () => {
    const ttl = 600;
    // A PUBACK that waits for B before A noticed its death waits `handover` once: well inside
    // the TTL, so all 50 are forwarded (and kept) before B is declared gone, after which
    // its session is taken over by its replica on A and what is published queues there.
    const r = await rig(['GA', 'GB'], { ttl, handover: 200, subQos: 1, sysA: 1 });
    const { pub } = r;
    try {
      await r.b.kill(); // for good
      const acked = await publish(pub, 50, 10, 1);
      assert.equal(acked.length, 50);
      pub.client.end(true);
      await r.a.kill();
      // 50, or 51 when B died before acknowledging `first` (its ack waits for its own commit).
      const kept = (await storedState(r.confA.dir)).linkFrames?.length ?? 0;
      assert.ok(kept >= 50, `A kept ${kept} frames, not the 50 it acknowledged`);
      r.a = await spawnDurableNode(r.confA);
      const sys = await connectRecorder(r.a.url, { clientId: 'ob-sys' });
      await sys.client.subscribeAsync('$SYS/broker/cluster/dropped');
      const dropped = () => Number(sys.got.at(-1)?.payload ?? 0);
      await waitFor(() => dropped() >= 50, 10 * ttl + 10_000, 'the kept frames counted as dropped');
      sys.client.end(true);
      await r.a.kill();
      assert.equal(
        (await storedState(r.confA.dir)).linkFrames?.length,
        0,
        'the dropped frames left the store',
      );
    } finally {
      await r.close();
    }
  });

  test('the RECEIVER is killed while QoS 2 messages stream in (between its commits and its acks): 0 duplicates, 0 lost', async () => {
    const r = await rig(['RA', 'RB'], { firstQos: 2 });
    const { pub } = r;
    try {
      let killing: Promise<void> | undefined;
      // B is killed in the middle of the stream, while frames are applied and committed there.
      const acked = await publish(pub, 1500, 40, 2, (count) => {
        if (count === 400) killing = r.b.kill();
      });
      await killing;
      r.b = await spawnDurableNode(r.confB);
      pub.client.end(true);
      check(
        acked,
        (await drain(r.b.url, acked)).filter((p) => p !== 'first'),
      );
    } finally {
      await r.close();
    }
  });
});
