import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RetainedIndex } from '../../src/broker/retained-index.js';

/** [filter, topic, matches]: the same spec examples as the subscription index tests, seen from the retained side. */
const CASES: [string, string, boolean][] = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/tennis/player1/#', 'sport/tennis', false],
  ['sport/#', 'sport', true],
  ['sport/#', 'sport/', true],
  ['sport/#', 'sports', false],
  ['#', 'sport/tennis/player1', true],
  ['#', '/', true],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+', 'sport', true],
  ['+', '/finance', false],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+/tennis/#', 'sport/tennis/player1', true],
  ['+/tennis/#', 'sport/tennis', true],
  ['sport/+/player1', 'sport/tennis/player1', true],
  ['+/#', 'a', true],
  ['a//b', 'a//b', true],
  ['a//b', 'a/b', false],
  ['a/+/b', 'a//b', true],
  ['/a', 'a', false],
  ['a/', 'a', false],
  ['+/+', '/', true],
  ['/#', '/', true],
  ['/#', 'a', false],
  ['a/#', 'a//', true],
  ['sport/tennis', 'sport/tennis', true],
  ['sport/tennis', 'sport/tennis/', false],
  ['#', '$SYS/monitor/Clients', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['$SYS/#', '$SYS/monitor/Clients', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ['$SYS/#', '$SYS', true],
  ['+', '$SYS', false],
  ['+/#', '$SYS/broker', false],
  ['#', 'a/$SYS', true],
  ['ACCOUNTS', 'Accounts', false],
  ['accounts/+', 'Accounts/payable', false],
];

function reference(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  const rec = (i: number, j: number): boolean => {
    if (i === f.length) return j === t.length;
    if (f[i] === '#') return true;
    if (j === t.length) return false;
    return (f[i] === '+' || f[i] === t[j]) && rec(i + 1, j + 1);
  };
  return rec(0, 0);
}

function matchAll<M>(idx: RetainedIndex<M>, filter: string): M[] {
  const out: M[] = [];
  idx.match(filter, out);
  return out;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RetainedIndex matching', () => {
  for (const [filter, topic, expected] of CASES) {
    const id = topic.startsWith('$') ? '[MQTT-4.7.2-1] ' : '';
    test(`${id}retained ${topic} is ${expected ? '' : 'not '}delivered to ${filter}`, () => {
      const idx = new RetainedIndex<string>();
      idx.set(topic, 'm');
      assert.equal(idx.match(filter, []), expected ? 1 : 0);
      assert.deepEqual(matchAll(idx, filter), expected ? ['m'] : []);
    });
  }

  test('all table topics in one index: each filter gets exactly the matching set', () => {
    const idx = new RetainedIndex<string>();
    const topics = [...new Set(CASES.map((c) => c[1]))];
    for (const t of topics) idx.set(t, t);
    for (const [filter] of CASES) {
      const want = topics.filter((t) => reference(filter, t)).sort();
      assert.deepEqual(matchAll(idx, filter).sort(), want, filter);
    }
  });
});

describe('RetainedIndex set/get/delete', () => {
  test('set replaces, get reads, delete removes and reports', () => {
    const idx = new RetainedIndex<string>();
    idx.set('a/b', 'one');
    idx.set('a/b', 'two');
    assert.equal(idx.size, 1);
    assert.equal(idx.get('a/b'), 'two');
    assert.equal(idx.get('a'), undefined);
    assert.deepEqual(matchAll(idx, 'a/#'), ['two']);
    assert.equal(idx.delete('a'), false);
    assert.equal(idx.delete('a/b'), true);
    assert.equal(idx.delete('a/b'), false);
    assert.equal(idx.size, 0);
    assert.deepEqual(matchAll(idx, 'a/#'), []);
    assert.deepEqual(matchAll(idx, 'a/b'), []);
  });

  test('a parent topic and its children are independent messages', () => {
    const idx = new RetainedIndex<string>();
    idx.set('a', 'A');
    idx.set('a/b', 'AB');
    idx.set('a/b/c', 'ABC');
    assert.deepEqual(matchAll(idx, 'a/#').sort(), ['A', 'AB', 'ABC']);
    idx.delete('a/b');
    assert.deepEqual(matchAll(idx, 'a/#').sort(), ['A', 'ABC']);
    assert.deepEqual(matchAll(idx, 'a/+/c'), ['ABC']);
    idx.delete('a');
    assert.deepEqual(matchAll(idx, '+'), []);
    assert.deepEqual(matchAll(idx, '#'), ['ABC']);
  });

  test('deleting every message prunes all trie nodes', () => {
    const idx = new RetainedIndex<number>();
    const topics = ['a', 'a/b', 'a/b/c', '/x', 'x/', '//', '$SYS/broker/uptime', 'a//b'];
    topics.forEach((t, i) => {
      idx.set(t, i);
    });
    assert.ok(idx.nodeCount > 0);
    for (const t of topics) assert.equal(idx.delete(t), true);
    assert.equal(idx.size, 0);
    assert.equal(idx.nodeCount, 0);
    assert.deepEqual([...idx.entries()], []);
  });

  test('entries lists every topic with its message', () => {
    const idx = new RetainedIndex<number>();
    idx.set('a', 1);
    idx.set('b/c', 2);
    idx.set('a', 3);
    assert.deepEqual([...idx.entries()].sort(), [
      ['a', 3],
      ['b/c', 2],
    ]);
  });
});

describe('RetainedIndex randomized differential test', () => {
  const LEVELS = ['a', 'b', 'c', '', '$SYS', '$x', 'aa', 'a$'];
  test('matches the reference matcher over thousands of random topics and filters (seed 7)', () => {
    const r = rng(7);
    const level = () => LEVELS[Math.floor(r() * LEVELS.length)]!;
    const idx = new RetainedIndex<string>();
    const model = new Map<string, string>();
    for (let i = 0; i < 3000; i++) {
      const n = 1 + Math.floor(r() * 4);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(level());
      const topic = parts.join('/');
      if (r() < 0.2) {
        assert.equal(idx.delete(topic), model.delete(topic));
      } else {
        idx.set(topic, `${topic}#${i}`);
        model.set(topic, `${topic}#${i}`);
      }
    }
    assert.equal(idx.size, model.size);
    const out: string[] = [];
    const stored = [...model];
    for (let i = 0; i < 2000; i++) {
      const n = 1 + Math.floor(r() * 4);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(r() < 0.35 ? '+' : level());
      if (r() < 0.3) parts[n - 1] = '#';
      const filter = parts.join('/');
      out.length = 0;
      idx.match(filter, out);
      const want = stored.filter(([t]) => reference(filter, t)).map(([, m]) => m);
      assert.deepEqual(out.sort(), want.sort(), `filter ${JSON.stringify(filter)}`);
    }
    for (const t of [...model.keys()]) idx.delete(t);
    assert.equal(idx.nodeCount, 0);
  });
});
