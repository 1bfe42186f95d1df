import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fnv1a, SHARE_STRATEGIES, SharedGroup } from '../../src/broker/shared-group.js';
import { TopicTrie } from '../../src/broker/topic-trie.js';

function counts(picks: (string | undefined)[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const p of picks) c[String(p)] = (c[String(p)] ?? 0) + 1;
  return c;
}

function group(strategy: (typeof SHARE_STRATEGIES)[number], members: string[]) {
  const g = new SharedGroup<string>('g', 'jobs/+', strategy);
  for (const m of members) g.add(m, m);
  return g;
}

describe('SharedGroup membership', () => {
  test('add replaces, remove reports, size and members follow', () => {
    const g = new SharedGroup<{ id: string; v: number }>('g', 'a/#', 'round_robin');
    g.add('a', { id: 'a', v: 1 });
    g.add('b', { id: 'b', v: 1 });
    g.add('a', { id: 'a', v: 2 });
    assert.equal(g.size, 2);
    assert.equal(g.get('a')?.v, 2);
    assert.deepEqual(
      [...g.members()].map(([k, m]) => `${k}${m.v}`),
      ['a2', 'b1'],
    );
    assert.equal(g.remove('zz'), false);
    assert.equal(g.remove('a'), true);
    assert.equal(g.size, 1);
    assert.equal(g.name, 'g');
    assert.equal(g.filter, 'a/#');
    assert.equal(g.strategy, 'round_robin');
  });

  test('every strategy returns undefined for an empty group or when nobody accepts', () => {
    for (const s of SHARE_STRATEGIES) {
      assert.equal(group(s, []).pick('t', 'p'), undefined, s);
      assert.equal(
        group(s, ['a', 'b']).pick('t', 'p', () => false),
        undefined,
        s,
      );
    }
  });

  test('every strategy delivers each message to exactly one accepting member', () => {
    for (const s of SHARE_STRATEGIES) {
      const g = group(s, ['a', 'b', 'c']);
      const refuseB = (m: string) => m !== 'b';
      for (let i = 0; i < 50; i++) {
        const m = g.pick(`t/${i}`, `p${i}`, refuseB);
        assert.ok(m === 'a' || m === 'c', `${s} picked ${m}`);
      }
    }
  });
});

describe('SharedGroup round_robin', () => {
  test('cycles the members in turn', () => {
    const g = group('round_robin', ['a', 'b', 'c']);
    const picks = Array.from({ length: 9 }, () => g.pick('t', 'p'));
    assert.deepEqual(picks, ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('distributes evenly over many messages', () => {
    const g = group('round_robin', ['a', 'b', 'c', 'd', 'e']);
    const picks = Array.from({ length: 1000 }, () => g.pick('t', 'p'));
    assert.deepEqual(counts(picks), { a: 200, b: 200, c: 200, d: 200, e: 200 });
  });

  test('a refused member is skipped and the rotation continues after whoever took it', () => {
    const g = group('round_robin', ['a', 'b', 'c']);
    let full = 'b';
    const accept = (m: string) => m !== full;
    assert.equal(g.pick('t', 'p', accept), 'a');
    assert.equal(g.pick('t', 'p', accept), 'c');
    full = '';
    assert.equal(g.pick('t', 'p', accept), 'a');
    assert.equal(g.pick('t', 'p', accept), 'b');
  });

  test('members leaving mid-rotation do not skip or repeat anyone', () => {
    const g = group('round_robin', ['a', 'b', 'c', 'd']);
    assert.equal(g.pick('t', 'p'), 'a');
    assert.equal(g.pick('t', 'p'), 'b');
    g.remove('a'); // before the cursor
    assert.equal(g.pick('t', 'p'), 'c');
    g.remove('d'); // the member due next
    assert.equal(g.pick('t', 'p'), 'b');
    assert.equal(g.pick('t', 'p'), 'c');
    g.remove('c'); // the last-picked, at the end
    assert.equal(g.pick('t', 'p'), 'b');
    assert.equal(g.pick('t', 'p'), 'b');
  });

  test('a member joining mid-rotation gets its turn in the same cycle', () => {
    const g = group('round_robin', ['a', 'b']);
    assert.equal(g.pick('t', 'p'), 'a');
    g.add('c', 'c');
    assert.deepEqual(
      Array.from({ length: 5 }, () => g.pick('t', 'p')),
      ['b', 'c', 'a', 'b', 'c'],
    );
  });
});

describe('SharedGroup sticky', () => {
  test('keeps the same member until it refuses, then sticks to the next', () => {
    const g = group('sticky', ['a', 'b', 'c']);
    let down = '';
    const accept = (m: string) => m !== down;
    const first = g.pick('t1', 'p1', accept);
    for (let i = 0; i < 20; i++) assert.equal(g.pick(`t${i}`, `p${i}`, accept), first);
    down = first!;
    const second = g.pick('t', 'p', accept);
    assert.notEqual(second, first);
    down = '';
    for (let i = 0; i < 20; i++) assert.equal(g.pick('t', 'p', accept), second);
  });

  test('moves on when the sticky member leaves, and is not disturbed by others leaving', () => {
    const g = group('sticky', ['a', 'b', 'c']);
    assert.equal(g.pick('t', 'p'), 'a');
    g.remove('a');
    const next = g.pick('t', 'p');
    assert.ok(next === 'b' || next === 'c');
    const other = next === 'b' ? 'c' : 'b';
    g.add('d', 'd');
    g.remove(other);
    for (let i = 0; i < 5; i++) assert.equal(g.pick('t', 'p'), next);
  });
});

describe('SharedGroup hash strategies', () => {
  test('fnv1a is the standard 32-bit FNV-1a', () => {
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
  });

  test('hash_clientid sends one publisher to the same member whatever the topic', () => {
    const g = group('hash_clientid', ['a', 'b', 'c', 'd']);
    for (let p = 0; p < 40; p++) {
      const first = g.pick('t/0', `pub${p}`);
      for (let t = 1; t < 10; t++) assert.equal(g.pick(`t/${t}`, `pub${p}`), first);
    }
    const spread = new Set(Array.from({ length: 40 }, (_, p) => g.pick('t', `pub${p}`)));
    assert.ok(spread.size >= 3, 'publishers spread over the members');
  });

  test('hash_topic sends one topic to the same member whoever publishes', () => {
    const g = group('hash_topic', ['a', 'b', 'c', 'd']);
    for (let t = 0; t < 40; t++) {
      const first = g.pick(`t/${t}`, 'p0');
      for (let p = 1; p < 10; p++) assert.equal(g.pick(`t/${t}`, `p${p}`), first);
    }
  });

  test('a hashed member that refuses falls over to the next one, then gets its traffic back', () => {
    const g = group('hash_clientid', ['a', 'b', 'c']);
    const home = g.pick('t', 'pub')!;
    const order = ['a', 'b', 'c'];
    const next = order[(order.indexOf(home) + 1) % 3];
    assert.equal(
      g.pick('t', 'pub', (m) => m !== home),
      next,
    );
    assert.equal(g.pick('t', 'pub'), home);
  });
});

describe('SharedGroup random', () => {
  test('reaches every member and roughly evenly', () => {
    const g = group('random', ['a', 'b', 'c', 'd']);
    const c = counts(Array.from({ length: 4000 }, () => g.pick('t', 'p')));
    for (const m of ['a', 'b', 'c', 'd']) assert.ok(c[m]! > 700 && c[m]! < 1300, `${m}: ${c[m]}`);
  });
});

describe('SharedGroup inside a TopicTrie', () => {
  test('a group stored under its $share key receives each matching message once', () => {
    type Entry = { kind: 'client'; id: string } | { kind: 'group'; group: SharedGroup<string> };
    const trie = new TopicTrie<Entry>();
    const g = new SharedGroup<string>('workers', 'jobs/+', 'round_robin');
    g.add('w1', 'w1');
    g.add('w2', 'w2');
    trie.add('jobs/+', '$share/workers', { kind: 'group', group: g });
    trie.add('jobs/+', 'observer', { kind: 'client', id: 'observer' });
    const out: Entry[] = [];
    const deliveries: string[] = [];
    for (let i = 0; i < 4; i++) {
      out.length = 0;
      trie.match(`jobs/${i}`, out);
      for (const e of out)
        deliveries.push(e.kind === 'group' ? e.group.pick(`jobs/${i}`, 'p')! : e.id);
    }
    assert.deepEqual(counts(deliveries), { observer: 4, w1: 2, w2: 2 });
  });
});
