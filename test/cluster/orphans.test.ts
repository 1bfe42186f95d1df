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

/**
 * The persistent sessions on the node that dies, with their subscription QoS.
 * Their ids put one replica of each QoS on the publisher's node (OY) and one on
 * the node the clients resume on (OZ) (rendezvous hashing of the client id), so
 * both a promotion where the orphans are local and one followed by a hand-over
 * to the resuming node are exercised.
 */
const SESSIONS: [string, 1 | 2][] = [
  ['orph-q1', 1], // replica on OZ
  ['orph-1', 1], // replica on OY
  ['orph-q2', 2], // replica on OZ
  ['orph-z2', 2], // replica on OY
];

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
        // Per session, its connection on X and then the resumed one.
        const conns = new Map<string, Recorder[]>(SESSIONS.map(([id]) => [id, []]));
        try {
          for (const [id, qos] of SESSIONS) {
            const c = await persistent(x.url, id);
            await c.client.subscribeAsync('or/#', { qos });
            conns.get(id)!.push(c);
          }
          const pub = await connectRecorder(pubUrl, { protocolVersion: 5, clientId: 'orph-pub' });
          const s = stream(pub, 4);
          const first = () => [...conns.values()].map((rs) => rs[0]!);
          await waitFor(() => first().every((c) => c.got.length >= 100), 10_000, 'flowing');
          const atKill = s.acked.length;
          await x.kill(); // mid-stream
          const killed = Date.now();
          for (const c of first()) c.client.end(true);
          let resumed = false;
          const resume = async (url: string) => {
            resumed = true;
            for (const [id] of SESSIONS) {
              const c = await persistent(url, id);
              assert.equal(c.sessionPresent, true, `${id}: session present`);
              conns.get(id)!.push(c);
            }
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
          for (const [id, qos] of SESSIONS) {
            const rs = conns.get(id)!;
            await arrival(s.acked, rs);
            const t = tally(s.acked, rs);
            assert.deepEqual(
              t.lost,
              [],
              `${id}: ${t.lost.length} of ${s.acked.length} acknowledged lost (${t.lost.slice(0, 5).join(' ')})`,
            );
            if (qos === 2)
              assert.deepEqual(
                t.twice,
                [],
                `${id}: ${t.twice.length} QoS 2 messages arrived twice (${t.twice.slice(0, 5).join(' ')}; killed after ${atKill} acknowledged)`,
              );
          }
        } finally {
          for (const rs of conns.values()) for (const r of rs) r.client.end(true);
          for (const n of nodes) await n.kill();
          await redis.kill();
          await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
        }
      },
    );
  }
});
