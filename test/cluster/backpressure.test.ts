import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { waitFor } from '../helpers/process.js';
import { connectRecorder } from './support/clients.js';
import { freshPrefix, knowsRoute, startNode } from './support/nodes.js';
import { startRedis } from './support/redis.js';

test('a full subscriber queue on node B holds the link and then the publisher on node A: every acknowledged QoS 1 message arrives', async () => {
  const redis = await startRedis();
  const prefix = freshPrefix();
  // Small bounds, so the subscriber's queue on B and A's link backlog fill within the test.
  const limits = { maxQueuedMessages: 10, maxInflightMessages: 5 };
  const a = await startNode(redis.url, prefix, 'PA', limits);
  const b = await startNode(redis.url, prefix, 'PB', limits);
  try {
    const sub = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'bp-sub' });
    await sub.client.subscribeAsync('bp/#', { qos: 1 });
    await waitFor(() => knowsRoute(a, 'PB', 'bp/#'), 3000, 'route on A');
    // The subscriber stops reading: B's in-flight window and queue for it fill up.
    const stream = sub.client.stream as unknown as Readable;
    stream.pause();
    const pub = await connectRecorder(a.url, { protocolVersion: 5, clientId: 'bp-pub' });
    const acked: string[] = [];
    const sending = Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        pub.client.publishAsync('bp/x', `m${i}`, { qos: 1 }).then(() => acked.push(`m${i}`)),
      ),
    );
    const queued = () => b.broker.sessions.get('bp-sub')?.queuedCount ?? 0;
    await waitFor(() => queued() >= limits.maxQueuedMessages, 5000, 'a full queue on B');
    // Without backpressure B would now drop what A has already acknowledged.
    stream.resume();
    await sending;
    assert.equal(acked.length, 300);
    const arrived = () => {
      const seen = new Set(sub.got.map((m) => m.payload));
      return acked.every((p) => seen.has(p));
    };
    await waitFor(arrived, 10_000, 'every acknowledged message').catch(() => undefined);
    const seen = new Set(sub.got.map((m) => m.payload));
    const lost = acked.filter((p) => !seen.has(p));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
    sub.client.end(true);
    pub.client.end(true);
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});
