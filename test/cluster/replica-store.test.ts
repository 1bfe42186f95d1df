import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ReplicaDisk } from '../../src/cluster/replica-disk.js';
import { type ReplicaOp, ReplicaStore } from '../../src/cluster/replica-store.js';
import type { DeliveryRecord, MessageRecord, SessionRecord } from '../../src/store/store.js';

function rec(clientId: string, expiryInterval = 300, disconnectedAt = 0): SessionRecord {
  return {
    clientId,
    protocolVersion: 5,
    expiryInterval,
    disconnectedAt,
    will: undefined,
    pendingWill: undefined,
    pendingWillAt: 0,
    username: undefined,
    listener: undefined,
  };
}

function msg(text: string): MessageRecord {
  return {
    id: 0,
    topic: 't',
    payload: Buffer.from(text),
    qos: 1,
    retain: false,
    properties: undefined,
    expiresAt: 0,
    origin: 'p',
  };
}

function delivery(packetId = 0): DeliveryRecord {
  return { messageId: 0, qos: 1, retain: false, subIds: undefined, packetId, released: false };
}

function snap(c: string, e: number, ds: [number, DeliveryRecord, MessageRecord][] = []): ReplicaOp {
  return { k: 'snap', c, e, rec: rec(c), subs: [], ds, inc: [] };
}

const payloads = (s: ReplicaStore, c: string) =>
  s.get(c, '')?.session.messages.map((m) => m.payload.toString());

describe('replica copies', () => {
  test('only the owner of a copy changes it; an older snapshot from another node does not replace it', () => {
    const s = new ReplicaStore();
    s.apply('A', snap('c', 1, [[1, delivery(), msg('one')]]));
    // B claimed the client id later (epoch 2) and replicates it here.
    s.apply('B', snap('c', 2, [[7, delivery(), msg('b-one')]]));
    // A's late changes and a stale snapshot of A change nothing.
    s.apply('A', { k: 'put', c: 'c', r: 2, d: delivery(), m: msg('late') });
    s.apply('A', { k: 'drop', c: 'c' });
    s.apply('A', snap('c', 1, [[3, delivery(), msg('stale')]]));
    assert.deepEqual(payloads(s, 'c'), ['b-one']);
    assert.equal(s.get('c', 'A'), undefined, 'the copy is B’s');
    assert.equal(s.get('c', 'B')?.epoch, 2);
    s.forget('c', 'A');
    assert.equal(s.size, 1, 'forgetting A’s copy leaves B’s');
    s.forget('c', 'B');
    assert.equal(s.size, 0);
  });

  test('a copy hands over in-flight deliveries first, then queued ones, each in the order created', () => {
    const s = new ReplicaStore();
    s.apply('A', snap('c', 1));
    s.apply('A', { k: 'put', c: 'c', r: 10, d: delivery(), m: msg('q1') });
    s.apply('A', { k: 'put', c: 'c', r: 11, d: delivery(), m: msg('q2') });
    s.apply('A', { k: 'put', c: 'c', r: 12, d: delivery(), m: msg('q3') });
    // q2 went out with packet id 5 (no message on a later put: it is kept); q1 was acknowledged.
    s.apply('A', { k: 'put', c: 'c', r: 11, d: delivery(5) });
    s.apply('A', { k: 'del', c: 'c', r: 10 });
    s.apply('A', { k: 'in', c: 'c', p: 9, on: true });
    const h = s.get('c', 'A')!.session;
    assert.deepEqual(
      h.messages.map((m) => m.payload.toString()),
      ['q2', 'q3'],
    );
    assert.deepEqual(
      h.deliveries.map((d) => [d.messageId, d.packetId]),
      [
        [11, 5],
        [12, 0],
      ],
    );
    assert.deepEqual(h.incoming, [9]);
  });

  test('copies of sessions that expired while offline are swept; others stay', () => {
    const s = new ReplicaStore();
    const now = Date.now();
    s.apply('A', { ...snap('gone', 1), rec: rec('gone', 10, now - 11_000) } as ReplicaOp);
    s.apply('A', { ...snap('online', 1), rec: rec('online', 10, 0) } as ReplicaOp);
    s.apply('A', { ...snap('young', 1), rec: rec('young', 10, now - 1000) } as ReplicaOp);
    s.sweep(now);
    assert.equal(s.get('gone', ''), undefined);
    assert.ok(s.get('online', '') !== undefined);
    assert.ok(s.get('young', '') !== undefined);
  });

  test('with a disk (real LMDB) the copies, their changes and their drops survive a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'heron-replica-disk-'));
    try {
      const s = new ReplicaStore();
      s.useDisk(await ReplicaDisk.open(dir, true));
      s.apply('A', snap('kept', 3, [[1, delivery(), msg('k1')]]));
      s.apply('A', { k: 'put', c: 'kept', r: 2, d: delivery(), m: msg('k2') });
      s.apply('A', { k: 'put', c: 'kept', r: 1, d: delivery(4) });
      s.apply('A', snap('dropped', 1, [[5, delivery(), msg('d1')]]));
      s.apply('A', { k: 'drop', c: 'dropped' });
      s.apply('A', snap('acked', 1, [[6, delivery(), msg('a1')]]));
      s.apply('A', { k: 'del', c: 'acked', r: 6 });
      await s.durable();
      await s.close();

      const back = new ReplicaStore();
      back.useDisk(await ReplicaDisk.open(dir, true));
      assert.equal(back.size, 2);
      assert.equal(back.get('kept', 'A')?.epoch, 3);
      assert.deepEqual(payloads(back, 'kept'), ['k1', 'k2']);
      assert.equal(back.get('kept', 'A')?.session.deliveries[0]?.packetId, 4);
      assert.equal(back.get('dropped', ''), undefined);
      assert.deepEqual(payloads(back, 'acked'), []);
      await back.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
