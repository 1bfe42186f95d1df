import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeliveryQueue } from '../../src/broker/delivery-queue.js';
import { InflightTable } from '../../src/broker/inflight-table.js';
import { Message } from '../../src/broker/message.js';

// The session's two delivery collections keep their order and counts through
// the growth and wrap-around that replaced a Map and a sliced array (chosen so
// that no abandoned array or hash table keeps deliveries alive).

interface D {
  msg: Message;
  qos: number;
  group: unknown;
  n: number;
}

function d(n: number, qos = 1, group?: unknown): D {
  return {
    msg: new Message(n, 't', Buffer.alloc(n % 7), 1, false, undefined, 0, ''),
    qos,
    group,
    n,
  };
}

describe('InflightTable', () => {
  test('iterates in send order after deletes and slot reuse, across growth', () => {
    const t = new InflightTable<D>();
    for (let id = 1; id <= 20; id++) t.set(id, d(id));
    for (let id = 1; id <= 20; id += 2) assert.equal(t.delete(id), true);
    assert.equal(t.delete(1), false);
    for (let id = 21; id <= 40; id++) t.set(id, d(id));
    assert.equal(t.size, 30);
    const ids = [...t.keys()];
    assert.deepEqual(ids, [
      ...Array.from({ length: 10 }, (_, i) => 2 + 2 * i),
      ...Array.from({ length: 20 }, (_, i) => 21 + i),
    ]);
    assert.deepEqual(
      [...t.values()].map((x) => x.n),
      ids,
    );
    assert.equal(t.get(22)?.n, 22);
    assert.equal(t.get(3), undefined);
    assert.equal(t.has(40), true);
  });

  test('replacing keeps the place; deleting while iterating visits each once', () => {
    const t = new InflightTable<D>();
    for (let id = 1; id <= 5; id++) t.set(id, d(id));
    t.set(2, d(200));
    const seen: number[] = [];
    for (const [id, x] of t) {
      seen.push(x.n);
      if (id % 2 === 1) t.delete(id);
    }
    assert.deepEqual(seen, [1, 200, 3, 4, 5]);
    assert.deepEqual([...t.keys()], [2, 4]);
    t.clear();
    assert.equal(t.size, 0);
    t.set(9, d(9));
    assert.deepEqual([...t.keys()], [9]);
  });
});

describe('DeliveryQueue', () => {
  test('keeps order and byte counts across wrap-around and growth', () => {
    const q = new DeliveryQueue<D>();
    let next = 0;
    let expectFront = 0;
    // Push 3, take 2, many times: the ring wraps and grows while it holds deliveries.
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 3; k++) q.push(d(next++));
      for (let k = 0; k < 2; k++) assert.equal(q.shift()!.n, expectFront++);
    }
    assert.equal(q.length, 40);
    assert.deepEqual(
      [...q.values()].map((x) => x.n),
      Array.from({ length: 40 }, (_, i) => 80 + i),
    );
    let bytes = 0;
    for (const x of q.values()) bytes += x.msg.payload.length;
    assert.equal(q.bytes, bytes);
  });

  test('takes the oldest QoS 0 from the middle of a wrapped ring, and partitions in order', () => {
    const q = new DeliveryQueue<D>();
    for (let i = 0; i < 12; i++) q.push(d(i));
    for (let i = 0; i < 10; i++) q.shift();
    // head is near the end of 16 slots: the next pushes wrap to the front.
    q.push(d(100, 1));
    q.push(d(101, 0));
    q.push(d(102, 1, 'g'));
    q.push(d(103, 0));
    q.push(d(104, 1, 'g'));
    assert.equal(q.qos0, 2);
    assert.equal(q.takeOldestQos0()!.n, 101);
    assert.deepEqual(
      [...q.values()].map((x) => x.n),
      [10, 11, 100, 102, 103, 104],
    );
    const shared: D[] = [];
    q.takeShared(shared);
    assert.deepEqual(
      shared.map((x) => x.n),
      [102, 104],
    );
    const zeros: D[] = [];
    q.takeQos0(zeros);
    assert.deepEqual(
      zeros.map((x) => x.n),
      [103],
    );
    assert.deepEqual(
      [...q.values()].map((x) => x.n),
      [10, 11, 100],
    );
    assert.equal(q.qos0, 0);
    q.clear();
    assert.equal(q.length, 0);
    assert.equal(q.peek(), undefined);
  });
});
