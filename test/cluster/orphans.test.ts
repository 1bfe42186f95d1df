import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Store } from 'mqtt';
import { delay, waitFor } from '../helpers/process.js';
import { connectRecorder, type Recorder, settle } from './support/clients.js';
import { type DurableNode, spawnDurableNode } from './support/durable-nodes.js';
import { freshPrefix } from './support/nodes.js';
import { startRedis } from './support/redis.js';

// Short, so that the other nodes declare the killed one gone within the test; a PUBACK
// waits at most HANDOVER for a node that does not answer, well inside the TTL.
const TTL = 2000;
const HANDOVER = 300;

/**
 * Incoming QoS 2 state per client id, kept across its connections as a client
 * with a persistent session must: a PUBREL re-sent after a fail-over then
 * completes the message the client received before (MQTT.js delivers QoS 2 at PUBREL).
 */
const incoming = new Map<string, Store>();

/** A store that outlives the connection using it (MQTT.js closes its stores when the client ends). */
class KeptStore extends Store {
  override close(cb: () => void): this {
    cb?.();
    return this;
  }
}

/** A persistent v5 session of `clientId` on `url`. */
function persistent(url: string, clientId: string): Promise<Recorder> {
  let store = incoming.get(clientId);
  if (store === undefined) incoming.set(clientId, (store = new KeptStore()));
  return connectRecorder(url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 600 },
    incomingStore: store,
  });
}

/** A publisher sending `{tag}{seq}-q{1|2}` to `or/x`, `window` at a time, until stopped. */
function stream(pub: Recorder, window: number, tag = 'm') {
  const acked: string[] = [];
  let next = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      const i = next++;
      const q = (i % 2) + 1;
      const payload = `${tag}${i}-q${q}`;
      try {
        await pub.client.publishAsync('or/x', payload, { qos: q as 1 | 2 });
        acked.push(payload);
      } catch {
        // Not acknowledged: nothing promised.
        return;
      }
      // Paced (about 1,000 messages a second at most), so that a run stays a few thousand messages.
      await delay(4);
    }
  };
  const done = Promise.all(Array.from({ length: window }, worker));
  return {
    acked,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Acknowledged payloads that never arrived at any of `rs`, and QoS 2 ones that arrived twice. */
function tally(acked: string[], rs: Recorder[]): { lost: string[]; twice: string[] } {
  const got = rs.flatMap((r) => r.got.map((m) => m.payload));
  const seen = new Set(got);
  const lost = acked.filter((p) => !seen.has(p));
  const q2 = got.filter((p) => p.endsWith('-q2'));
  const twice = q2.filter((p, i) => q2.indexOf(p) !== i);
  return { lost, twice };
}

/** Waits until every acknowledged payload arrived (lost ones fail the check, not this wait). */
async function arrival(acked: string[], rs: Recorder[]): Promise<void> {
  await waitFor(() => tally(acked, rs).lost.length === 0, 15_000, 'every acknowledged').catch(
    () => undefined,
  );
  await settle(500); // a duplicate would arrive meanwhile
}

describe('messages for a dead owner’s sessions (real redis-server, 3 node processes with LMDB, kill -9)', () => {
  for (const when of ['quickly', 'after its routes are dropped', 'control'] as const) {
    test(
      when === 'control'
        ? 'control: one node killed -9 mid-stream and restarted from its store — every acknowledged message arrives, no QoS 2 twice'
        : `owner killed -9 mid-stream, publisher on another node goes on for 3 TTLs, the client resumes ${when} on the third node — every acknowledged message arrives, no QoS 2 twice`,
      async () => {
        const redis = await startRedis();
        const prefix = freshPrefix();
        incoming.clear();
        const control = when === 'control';
        const ids = control ? ['OC'] : ['OX', 'OY', 'OZ'];
        const dirs = await Promise.all(ids.map(() => mkdtemp(join(tmpdir(), 'heron-orph-'))));
        const conf = (i: number) => ({
          redisUrl: redis.url,
          prefix,
          nodeId: ids[i]!,
          nodeTtl: TTL,
          handoverTimeout: HANDOVER,
          dir: dirs[i]!,
        });
        const nodes: DurableNode[] = [];
        for (let i = 0; i < ids.length; i++) nodes.push(await spawnDurableNode(conf(i)));
        const x = nodes[0]!;
        const pubUrl = control ? x.url : nodes[1]!.url;
        const subs: Recorder[] = [];
        try {
          // Two sessions (QoS 1 and QoS 2 subscriptions) on X, online.
          const s1 = await persistent(x.url, 'orph-q1');
          await s1.client.subscribeAsync('or/#', { qos: 1 });
          const s2 = await persistent(x.url, 'orph-q2');
          await s2.client.subscribeAsync('or/#', { qos: 2 });
          const r1 = [s1];
          const r2 = [s2];
          const pub = await connectRecorder(pubUrl, { protocolVersion: 5, clientId: 'orph-pub' });
          const s = stream(pub, 4);
          await waitFor(() => s1.got.length >= 100 && s2.got.length >= 100, 10_000, 'flowing');
          const atKill = s.acked.length;
          await x.kill(); // mid-stream
          const killed = Date.now();
          s1.client.end(true);
          s2.client.end(true);
          let resumed = false;
          const resume = async (url: string) => {
            resumed = true;
            const n1 = await persistent(url, 'orph-q1');
            const n2 = await persistent(url, 'orph-q2');
            assert.equal(n1.sessionPresent, true, 'orph-q1: session present');
            assert.equal(n2.sessionPresent, true, 'orph-q2: session present');
            r1.push(n1);
            r2.push(n2);
          };
          if (control) {
            nodes[0] = await spawnDurableNode(conf(0));
            await resume(nodes[0].url);
            const again = await connectRecorder(nodes[0].url, { protocolVersion: 5 });
            // The publisher lost its node: it publishes on the restarted one.
            pub.client.end(true);
            await s.stop();
            const s2nd = stream(again, 4, 'n');
            await waitFor(() => s2nd.acked.length >= 100, 10_000, 'publishing again');
            await s2nd.stop();
            again.client.end(true);
            s.acked.push(...s2nd.acked);
          } else {
            if (when === 'quickly') {
              // Long enough that messages were routed to the dead node only, well before it is declared gone.
              const base = s.acked.length;
              await waitFor(
                () => s.acked.length >= base + 100,
                10_000,
                '100 acknowledged after the kill',
              );
              assert.ok(
                Date.now() - killed < TTL,
                'resumed before the dead node could be declared gone',
              );
              await resume(nodes[2]!.url);
            }
            // Three TTLs: the other nodes declared X gone and dropped its routes meanwhile.
            await waitFor(() => Date.now() - killed > 3 * TTL, 10_000, '3 TTLs');
            await s.stop();
            pub.client.end(true);
            if (!resumed) await resume(nodes[2]!.url);
          }
          subs.push(...r1, ...r2);
          await arrival(s.acked, r1);
          await arrival(s.acked, r2);
          const a = tally(s.acked, r1);
          const b = tally(s.acked, r2);
          assert.deepEqual(
            a.lost,
            [],
            `orph-q1: ${a.lost.length} of ${s.acked.length} acknowledged lost (${a.lost.slice(0, 5).join(' ')})`,
          );
          assert.deepEqual(
            b.lost,
            [],
            `orph-q2: ${b.lost.length} of ${s.acked.length} acknowledged lost (${b.lost.slice(0, 5).join(' ')})`,
          );
          assert.deepEqual(
            b.twice,
            [],
            `orph-q2: ${b.twice.length} QoS 2 messages arrived twice (${b.twice.slice(0, 5).join(' ')}; killed after ${atKill} acknowledged)`,
          );
        } finally {
          for (const r of subs) r.client.end(true);
          for (const n of nodes) await n.kill();
          await redis.kill();
          await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
        }
      },
    );
  }
});
