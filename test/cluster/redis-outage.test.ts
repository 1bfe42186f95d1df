import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/process.js';
import { connectRecorder } from './support/clients.js';
import { freshPrefix, knowsRoute, startNode } from './support/nodes.js';
import { startRedis } from './support/redis.js';

describe('cluster during a Redis outage', () => {
  test('clients connect and messages flow while Redis is down; when it is back empty, a client id accepted on two nodes stays on one (split-brain rule)', async () => {
    let redis = await startRedis();
    const prefix = freshPrefix();
    const a = await startNode(redis.url, prefix, 'A');
    const b = await startNode(redis.url, prefix, 'B');
    try {
      await waitFor(() => a.broker.cluster!.links().some((l) => l.id === 'B' && l.connected));
      await redis.kill();
      await waitFor(() => !a.broker.cluster!.redisReady && !b.broker.cluster!.redisReady);

      // Decided locally, not queued behind a Redis that is away.
      const opts = {
        protocolVersion: 5 as const,
        clientId: 'split',
        clean: false,
        properties: { sessionExpiryInterval: 300 },
      };
      const onA = await connectRecorder(a.url, opts);
      const onB = await connectRecorder(b.url, opts);
      assert.equal(a.broker.cluster!.stats.claimsLocal, 1);
      assert.equal(b.broker.cluster!.stats.claimsLocal, 1);

      // Routes and messages travel on the links: Redis is not needed for them.
      await onA.client.subscribeAsync('outage/+', { qos: 1 });
      assert.ok(knowsRoute(b, 'A', 'outage/+'), 'route in force on B when SUBACK arrived');
      const pub = await connectRecorder(b.url, { protocolVersion: 5, clientId: 'outage-pub' });
      await pub.client.publishAsync('outage/1', 'during', { qos: 1 });
      await waitFor(() => onA.got.some((m) => m.payload === 'during'), 3000, 'message A');
      // A retained write finds no Redis: counted, not queued for a stale replay.
      await pub.client.publishAsync('outage/kept', 'r', { qos: 1, retain: true });
      assert.ok(b.broker.cluster!.stats.redisErrors >= 1);

      const closed = (r: typeof onA) =>
        new Promise<number | undefined>((resolve) =>
          r.client.on('disconnect', (p) => resolve(p.reasonCode)),
        );
      const lost = Promise.race([closed(onA), closed(onB)]);
      redis = await startRedis(redis.port); // back, and empty
      assert.equal(await lost, 0x8e, 'one of the two connections is taken over');
      const check = new Redis(redis.url);
      try {
        await waitFor(() => onA.client.connected !== onB.client.connected, 3000, 'one left');
        const owner = await check.hget(`${prefix}session:split`, 'node');
        assert.equal(owner, onA.client.connected ? 'A' : 'B');
      } finally {
        check.disconnect();
      }
      // The retained message written during the outage reached Redis when it came back.
      await waitFor(() => a.broker.retained.get('outage/kept') !== undefined, 5000, 'retained');
      for (const r of [onA, onB, pub]) r.client.end(true);
    } finally {
      await a.close();
      await b.close();
      await redis.kill();
    }
  });
});
