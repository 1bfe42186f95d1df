import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { type MessageRecord, type Store, StoreError } from '../../src/store/store.js';
import { WriteBatch } from '../../src/store/write-batch.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'heron-store-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function msg(id: number, topic = 't/1', payload = `m${id}`): MessageRecord {
  return {
    id,
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    properties: id % 2 === 0 ? { userProperties: [['k', 'v']], contentType: 'x' } : undefined,
    expiresAt: 0,
    origin: 'pub',
  };
}

/** A backend under test: `reopen` gives a fresh Store instance over the same data. */
interface Backend {
  name: string;
  fresh(): { store: Store; reopen(): Store };
}

const backends: Backend[] = [
  {
    name: 'memory',
    fresh() {
      const loc = `mem-${Math.random()}`;
      return { store: MemoryStore.at(loc), reopen: () => MemoryStore.at(loc) };
    },
  },
  {
    name: 'lmdb',
    fresh() {
      const dir = tempDir();
      return { store: new LmdbStore(dir), reopen: () => new LmdbStore(dir) };
    },
  },
];

for (const be of backends) {
  describe(`Store contract: ${be.name}`, () => {
    test('a new store is empty', async () => {
      const { store } = be.fresh();
      const s = await store.open();
      assert.equal(s.sessions.length, 0);
      assert.equal(s.messages.size, 0);
      assert.equal(s.deliveries.length, 0);
      await store.close();
    });

    test('every table survives close and reopen with its values', async () => {
      const { store, reopen } = be.fresh();
      await store.open();
      const b = new WriteBatch();
      b.putSession({
        clientId: 'c1',
        protocolVersion: 5,
        expiryInterval: 300,
        disconnectedAt: 1234,
        will: undefined,
        pendingWill: { topic: 'w', payload: Buffer.from('bye'), qos: 1, retain: false },
        pendingWillAt: 5678,
        username: 'u',
      });
      b.putSubscription('c1', {
        filter: 'a/#',
        topicFilter: 'a/#',
        shareGroup: undefined,
        qos: 2,
        noLocal: true,
        retainAsPublished: true,
        retainHandling: 1,
        subscriptionId: 7,
      });
      b.putMessage(msg(10));
      b.putMessage(msg(12));
      b.putDelivery(
        'c1',
        2,
        { messageId: 12, qos: 1, retain: false, subIds: [7], packetId: 0, released: false },
        true,
      );
      b.putDelivery(
        'c1',
        1,
        { messageId: 10, qos: 2, retain: true, subIds: undefined, packetId: 9, released: true },
        true,
      );
      b.setIncoming('c1', 33, true);
      b.setIncoming('c1', 34, true, msg(13, 'held/q2'));
      b.putRetained({ ...msg(11, 'r/1'), retain: true, expiresAt: 99999 });
      b.setMeta('nextMessageId', 4242);
      await store.write(b, true);
      await store.close();

      const again = reopen();
      const s = await again.open();
      assert.equal(s.sessions.length, 1);
      assert.equal(s.sessions[0]!.pendingWill!.payload.toString(), 'bye');
      assert.equal(s.sessions[0]!.expiryInterval, 300);
      assert.deepEqual(s.subscriptions[0]!.data.retainHandling, 1);
      assert.equal(s.subscriptions[0]!.data.subscriptionId, 7);
      assert.deepEqual([...s.messages.keys()].sort(), [10, 12]);
      const m12 = s.messages.get(12)!;
      assert.ok(Buffer.isBuffer(m12.payload));
      assert.equal(m12.payload.toString(), 'm12');
      assert.deepEqual(m12.properties?.userProperties, [['k', 'v']]);
      // Deliveries come back in key order, which is their delivery order.
      assert.deepEqual(
        s.deliveries.map((d) => [d.clientId, d.seq, d.data.messageId, d.data.packetId]),
        [
          ['c1', 1, 10, 9],
          ['c1', 2, 12, 0],
        ],
      );
      assert.equal(s.deliveries[0]!.data.released, true);
      assert.deepEqual(s.incoming[0], { clientId: 'c1', packetId: 33 });
      // A QoS 2 message held until PUBREL (pubrec-first) comes back with its id.
      assert.equal(s.incoming[1]!.packetId, 34);
      assert.equal(s.incoming[1]!.message?.topic, 'held/q2');
      assert.equal(s.incoming[1]!.message?.payload.toString(), 'm13');
      assert.equal(s.retained[0]!.topic, 'r/1');
      assert.equal(s.retained[0]!.expiresAt, 99999);
      assert.equal(s.meta.get('nextMessageId'), 4242);
      await again.close();
    });

    test('deletes remove entries; deliveries order numerically past 9', async () => {
      const { store, reopen } = be.fresh();
      await store.open();
      const b = new WriteBatch();
      for (let i = 1; i <= 12; i++) {
        b.putMessage(msg(i));
        b.putDelivery(
          'c',
          i,
          { messageId: i, qos: 1, retain: false, subIds: undefined, packetId: 0, released: false },
          true,
        );
      }
      b.putRetained(msg(100, 'r'));
      b.putSession({
        clientId: 'c',
        protocolVersion: 4,
        expiryInterval: 0xffffffff,
        disconnectedAt: 1,
        will: undefined,
        pendingWill: undefined,
        pendingWillAt: 0,
        username: undefined,
      });
      await store.write(b, true);
      const d = new WriteBatch();
      for (let i = 1; i <= 6; i++) {
        d.deleteDelivery('c', i);
        d.deleteMessage(i);
      }
      d.deleteRetained('r');
      d.deleteSession('c');
      await store.write(d, false);
      await store.close();
      const again = reopen();
      const s = await again.open();
      assert.deepEqual(
        s.deliveries.map((x) => x.seq),
        [7, 8, 9, 10, 11, 12],
      );
      assert.equal(s.messages.size, 6);
      assert.equal(s.retained.length, 0);
      assert.equal(s.sessions.length, 0);
      await again.close();
    });
  });
}

describe('WriteBatch', () => {
  test('a delivery and message created and deleted in one window never reach the store', () => {
    const b = new WriteBatch();
    b.putMessage(msg(1));
    b.putDelivery(
      'c',
      1,
      { messageId: 1, qos: 1, retain: false, subIds: undefined, packetId: 5, released: false },
      true,
    );
    b.deleteDelivery('c', 1);
    b.deleteMessage(1);
    assert.equal(b.empty, true);
  });

  test('deleting an entry written in an earlier window writes a delete', () => {
    const b = new WriteBatch();
    b.putDelivery(
      'c',
      1,
      { messageId: 1, qos: 1, retain: false, subIds: undefined, packetId: 5, released: false },
      false,
    );
    b.deleteDelivery('c', 1);
    b.deleteMessage(1);
    assert.equal(b.deliveries.get('c\u00001')!.data, null);
    assert.equal(b.messages.get(1), null);
  });
});

describe('LmdbStore failures', () => {
  test('an unwritable location fails with StoreError "unwritable"', async () => {
    const dir = tempDir();
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const store = new LmdbStore(join(file, 'sub'));
    await assert.rejects(store.open(), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, 'unwritable');
      return true;
    });
  });

  test('a corrupt store fails with StoreError "corrupt" and is left untouched', async () => {
    const dir = tempDir();
    const garbage = Buffer.alloc(64 * 1024, 0x5a);
    writeFileSync(join(dir, 'data.mdb'), garbage);
    const store = new LmdbStore(dir);
    await assert.rejects(store.open(), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, 'corrupt');
      return true;
    });
    assert.deepEqual(readFileSync(join(dir, 'data.mdb')), garbage);
  });
});
