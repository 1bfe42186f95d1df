import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TopicTrie } from '../../src/broker/topic-trie.js';
import { topicMatches } from '../../src/protocol/topic.js';

/** [filter, topic, matches] from MQTT 3.1.1 and 5.0 section 4.7, plus empty-level edge cases. */
const CASES: [string, string, boolean][] = [
  // 4.7.1.2 multi-level wildcard
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/tennis/player1/#', 'sport/tennis/player2', false],
  ['sport/tennis/player1/#', 'sport/tennis', false],
  ['sport/#', 'sport', true],
  ['sport/#', 'sport/', true],
  ['sport/#', 'sports', false],
  ['sport/tennis/#', 'sport/tennis/player1', true],
  ['#', 'sport', true],
  ['#', 'sport/tennis/player1', true],
  ['#', '/', true],
  ['#', '/a', true],
  // 4.7.1.3 single-level wildcard
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player2', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+', 'sport', true],
  ['+', '/finance', false],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+/tennis/#', 'sport/tennis/player1', true],
  ['+/tennis/#', 'sport/tennis', true],
  ['+/tennis/#', 'sport/golf', false],
  ['sport/+/player1', 'sport/tennis/player1', true],
  ['sport/+/player1', 'sport/tennis/player2', false],
  ['+/+/+', 'a/b/c', true],
  ['+/+/+', 'a/b', false],
  ['+/#', 'a', true],
  ['+/#', 'a/b/c', true],
  // empty levels are real levels
  ['a//b', 'a//b', true],
  ['a//b', 'a/b', false],
  ['a/+/b', 'a//b', true],
  ['/a', '/a', true],
  ['/a', 'a', false],
  ['a/', 'a/', true],
  ['a/', 'a', false],
  ['+/a', '/a', true],
  ['+/+', '/', true],
  ['/#', '/', true],
  ['/#', '/a/b', true],
  ['/#', 'a', false],
  ['a/+', 'a/', true],
  ['a/#', 'a//', true],
  ['//', '//', true],
  ['+//+', '//', true],
  // exact filters
  ['sport/tennis', 'sport/tennis', true],
  ['sport/tennis', 'sport/tennis/', false],
  ['sport/tennis', 'sport', false],
  // $ topics: only filters that start with the same literal $ level match
  ['#', '$SYS/monitor/Clients', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['$SYS/#', '$SYS/monitor/Clients', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ['$SYS/#', '$SYS', true],
  ['+', '$SYS', false],
  ['+/#', '$SYS/broker', false],
  ['#', '$', false],
  ['$SYS/monitor/Clients', '$SYS/monitor/Clients', true],
  ['#', 'a/$SYS', true],
  ['+/$SYS', 'a/$SYS', true],
  ['#', 'a$b', true],
  // case and normalisation
  ['ACCOUNTS', 'Accounts', false],
  ['Accounts/+', 'Accounts/payable', true],
  ['accounts/+', 'Accounts/payable', false],
  ['a b/+', 'a b/c d', true],
];

/** Independent reference: recursive over level arrays, written differently from the trie. */
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

function matchAll<V>(trie: TopicTrie<V>, topic: string): V[] {
  const out: V[] = [];
  trie.match(topic, out);
  return out;
}

/** Seeded PRNG (mulberry32) so the randomized tests are reproducible. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TopicTrie matching', () => {
  for (const [filter, topic, expected] of CASES) {
    const id = topic.startsWith('$') ? '[MQTT-4.7.2-1] ' : '';
    test(`${id}${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      const trie = new TopicTrie<string>();
      trie.add(filter, 'c1', 'v');
      const out: string[] = [];
      assert.equal(trie.match(topic, out), expected ? 1 : 0);
      assert.deepEqual(out, expected ? ['v'] : []);
      assert.equal(reference(filter, topic), expected, 'reference matcher agrees with the table');
      assert.equal(topicMatches(filter, topic), expected, 'topicMatches agrees with the table');
    });
  }

  test('all table filters in one trie: each topic gets exactly the matching set', () => {
    const trie = new TopicTrie<string>();
    for (const [filter] of CASES) trie.add(filter, 'c', filter);
    for (const [, topic] of CASES) {
      const want = [...new Set(CASES.map((c) => c[0]))].filter((f) => reference(f, topic)).sort();
      assert.deepEqual(matchAll(trie, topic).sort(), want, topic);
    }
  });

  test('[MQTT-4.7.3-4] matching is case sensitive and does no normalisation', () => {
    const trie = new TopicTrie<string>();
    trie.add('a/B', 'c', 'x');
    trie.add('a/+/c', 'c', 'y');
    assert.deepEqual(matchAll(trie, 'a/b'), []);
    assert.deepEqual(matchAll(trie, 'a/B'), ['x']);
    assert.deepEqual(matchAll(trie, 'A/b/c'), []);
    assert.deepEqual(matchAll(trie, 'a/b/c'), ['y']);
  });

  test('match appends to out without clearing it and returns the count appended', () => {
    const trie = new TopicTrie<number>();
    trie.add('a/b', 'c1', 1);
    trie.add('a/#', 'c2', 2);
    const out = [99];
    assert.equal(trie.match('a/b', out), 2);
    assert.deepEqual(out.sort(), [1, 2, 99]);
  });

  test('matchInto writes from index 0, returns the count, and keeps the array for reuse', () => {
    const trie = new TopicTrie<number>();
    for (let i = 0; i < 20; i++) trie.add('wide', `c${i}`, i);
    trie.add('narrow/+', 'c', 100);
    const out: number[] = [];
    assert.equal(trie.matchInto('wide', out), 20);
    assert.deepEqual(
      out.slice(0, 20).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(trie.matchInto('narrow/x', out), 1);
    assert.equal(out[0], 100);
    assert.equal(trie.matchInto('nothing', out), 0);
    assert.equal(out.length, 20, 'the array is never shrunk');
  });

  test('overlapping subscriptions of one client all appear', () => {
    const trie = new TopicTrie<string>();
    trie.add('a/+', 'c1', 'plus');
    trie.add('a/#', 'c1', 'hash');
    trie.add('a/b', 'c1', 'exact');
    trie.add('#', 'c1', 'all');
    assert.deepEqual(matchAll(trie, 'a/b').sort(), ['all', 'exact', 'hash', 'plus']);
  });

  test('many subscribers on one filter are all returned', () => {
    const trie = new TopicTrie<number>();
    for (let i = 0; i < 100; i++) trie.add('fan/out', `c${i}`, i);
    for (let i = 0; i < 50; i++) trie.add('fan/+', `c${i}`, 1000 + i);
    const out = matchAll(trie, 'fan/out');
    assert.equal(out.length, 150);
    assert.equal(new Set(out).size, 150);
  });

  test('a topic no filter covers matches nothing, in an empty and a filled trie', () => {
    const trie = new TopicTrie<number>();
    assert.deepEqual(matchAll(trie, 'a'), []);
    trie.add('x/+', 'c', 1);
    assert.deepEqual(matchAll(trie, 'x/y'), [1]);
    assert.deepEqual(matchAll(trie, 'x'), []);
    trie.add('a', 'c', 2);
    assert.deepEqual(matchAll(trie, 'a'), [2]);
  });
});

describe('TopicTrie add/replace/remove', () => {
  test('a second add for the same (filter, key) replaces and returns the previous value', () => {
    const trie = new TopicTrie<string>();
    assert.equal(trie.add('a/+', 'c1', 'v1'), undefined);
    assert.equal(trie.add('a/+', 'c1', 'v2'), 'v1');
    assert.equal(trie.add('a/b', 'c1', 'e1'), undefined);
    assert.equal(trie.add('a/b', 'c1', 'e2'), 'e1');
    assert.equal(trie.size, 2);
    assert.equal(trie.get('a/+', 'c1'), 'v2');
    assert.equal(trie.get('a/b', 'c1'), 'e2');
    assert.equal(trie.get('a/b', 'c2'), undefined);
    assert.equal(trie.get('a/c', 'c1'), undefined);
    assert.deepEqual(matchAll(trie, 'a/b').sort(), ['e2', 'v2']);
  });

  test('remove returns the entry, leaves the other keys, and ignores unknown ones', () => {
    const trie = new TopicTrie<string>();
    trie.add('a/#', 'c1', 'x1');
    trie.add('a/#', 'c2', 'x2');
    trie.add('a', 'c1', 'y1');
    assert.equal(trie.remove('a/#', 'c3'), undefined);
    assert.equal(trie.remove('b/#', 'c1'), undefined);
    assert.equal(trie.remove('a/#', 'c1'), 'x1');
    assert.equal(trie.remove('a/#', 'c1'), undefined);
    assert.equal(trie.size, 2);
    assert.deepEqual(matchAll(trie, 'a').sort(), ['x2', 'y1']);
    assert.equal(trie.remove('a', 'c1'), 'y1');
    assert.deepEqual(matchAll(trie, 'a'), ['x2']);
    assert.equal(trie.filterCount, 1);
  });

  test('removing every entry prunes all trie nodes', () => {
    const trie = new TopicTrie<number>();
    const filters = ['a/+/c', 'a/+/#', 'a/b/#', '+', '#', '+/+', '/+', 'a//+', '$SYS/#', 'x/y/z/+'];
    for (const f of filters) for (let k = 0; k < 12; k++) trie.add(f, `k${k}`, k);
    assert.ok(trie.nodeCount > 0);
    assert.equal(trie.size, filters.length * 12);
    for (const f of filters) for (let k = 0; k < 12; k++) assert.equal(trie.remove(f, `k${k}`), k);
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount, 0);
    assert.equal(trie.filterCount, 0);
    assert.deepEqual([...trie.entries()], []);
    assert.deepEqual(matchAll(trie, 'a/b/c'), []);
  });

  test('pruning keeps nodes that other filters still need', () => {
    const trie = new TopicTrie<string>();
    trie.add('a/b/+', 'c', 'deep');
    trie.add('a/#', 'c', 'shallow');
    const full = trie.nodeCount; // a, b, +
    assert.equal(full, 3);
    trie.remove('a/b/+', 'c');
    assert.equal(trie.nodeCount, 1); // only a remains, holding a/#
    assert.deepEqual(matchAll(trie, 'a/b/c'), ['shallow']);
    trie.add('a/b/+', 'c', 'deep');
    trie.remove('a/#', 'c');
    assert.equal(trie.nodeCount, 3);
    assert.deepEqual(matchAll(trie, 'a/b/c'), ['deep']);
    assert.deepEqual(matchAll(trie, 'a'), []);
  });

  test('entries lists every (filter, key, value) and tolerates removal while iterating', () => {
    const trie = new TopicTrie<number>();
    trie.add('a', 'c1', 1);
    trie.add('a', 'c2', 2);
    trie.add('a/+', 'c1', 3);
    trie.add('#', 'c3', 4);
    const seen = [...trie.entries()].map(([f, k, v]) => `${f}|${k}|${v}`).sort();
    assert.deepEqual(seen, ['#|c3|4', 'a/+|c1|3', 'a|c1|1', 'a|c2|2']);
    for (const [f, k] of trie.entries()) trie.remove(f, k);
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount, 0);
  });

  test('buckets that grow past the index threshold and shrink back stay consistent', () => {
    const trie = new TopicTrie<number>();
    for (let i = 0; i < 40; i++) trie.add('big/+', `c${i}`, i);
    for (let i = 0; i < 40; i++) trie.add('big/+', `c${i}`, i + 100);
    assert.equal(trie.size, 40);
    for (let i = 0; i < 40; i += 2) assert.equal(trie.remove('big/+', `c${i}`), i + 100);
    for (let i = 1; i < 40; i += 2) assert.equal(trie.get('big/+', `c${i}`), i + 100);
    assert.deepEqual(
      matchAll(trie, 'big/x').sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, j) => 101 + 2 * j),
    );
  });

  test('clear empties everything', () => {
    const trie = new TopicTrie<number>();
    trie.add('a/+', 'c', 1);
    trie.add('a/b', 'c', 2);
    trie.clear();
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount, 0);
    assert.deepEqual(matchAll(trie, 'a/b'), []);
  });
});

describe('TopicTrie randomized differential test', () => {
  const LEVELS = ['a', 'b', 'c', '', '$SYS', '$x', 'aa', 'a$'];
  const pickLevel = (r: () => number) => LEVELS[Math.floor(r() * LEVELS.length)]!;

  function randomTopic(r: () => number): string {
    const n = 1 + Math.floor(r() * 4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(pickLevel(r));
    return parts.join('/');
  }

  function randomFilter(r: () => number): string {
    const n = 1 + Math.floor(r() * 4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(r() < 0.35 ? '+' : pickLevel(r));
    if (r() < 0.3) parts[n - 1] = '#';
    return parts.join('/');
  }

  test('matches the reference matcher over thousands of random filters and topics (seed 42)', () => {
    const r = rng(42);
    const trie = new TopicTrie<string>();
    const model = new Map<string, string>(); // "filter\0key" → value
    for (let i = 0; i < 4000; i++) {
      const filter = randomFilter(r);
      const key = `k${Math.floor(r() * 5)}`;
      const value = `${filter}|${key}|${i}`;
      const prev = trie.add(filter, key, value);
      assert.equal(prev, model.get(`${filter}\0${key}`));
      model.set(`${filter}\0${key}`, value);
      if (r() < 0.3) {
        const [f, k] = [...model.keys()][Math.floor(r() * model.size)]!.split('\0') as [
          string,
          string,
        ];
        assert.equal(trie.remove(f, k), model.get(`${f}\0${k}`));
        model.delete(`${f}\0${k}`);
      }
    }
    assert.equal(trie.size, model.size);
    const out: string[] = [];
    const reused: string[] = [];
    const flat = [...model].map(([fk, v]) => [fk.split('\0')[0]!, v] as const);
    for (let i = 0; i < 2000; i++) {
      const topic = randomTopic(r);
      const want: string[] = [];
      for (const [f, v] of flat) if (reference(f, topic)) want.push(v);
      out.length = 0;
      trie.match(topic, out);
      assert.deepEqual(out.sort(), want.sort(), `match ${JSON.stringify(topic)}`);
      const n = trie.matchInto(topic, reused);
      assert.deepEqual(reused.slice(0, n).sort(), want, `matchInto ${JSON.stringify(topic)}`);
    }
    for (const fk of [...model.keys()]) {
      const [f, k] = fk.split('\0') as [string, string];
      trie.remove(f, k);
    }
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount, 0);
  });
});
