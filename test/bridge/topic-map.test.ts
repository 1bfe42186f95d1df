import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TopicMap, toLocal, toRemote } from '../../src/bridge/topic-map.js';
import { bridgeConfig } from './bridge-helpers.js';

function map(lines: string): TopicMap {
  return new TopicMap(bridgeConfig('m', [1883], lines).topics);
}

test('prefixes: the first matching line of the right direction renames the topic', () => {
  const m = map(
    ['topic a/# out 0 loc/ rem/', 'topic a/b both 1 x/ y/', 'topic c/+ in 2 "" far/'].join('\n'),
  );
  const out = m.outboundRule('loc/a/b')!;
  assert.equal(toRemote(out, 'loc/a/b'), 'rem/a/b');
  assert.equal(toRemote(m.outboundRule('x/a/b')!, 'x/a/b'), 'y/a/b');
  assert.equal(m.outboundRule('a/b'), undefined);
  const inn = m.inboundRule('far/c/1')!;
  assert.equal(inn.qos, 2);
  assert.equal(toLocal(inn, 'far/c/1'), 'c/1');
  // `out` lines never carry messages inwards.
  assert.equal(m.inboundRule('rem/a/b'), undefined);
});

test('an empty ("") pattern maps one exact topic to another', () => {
  const m = map('topic "" both 1 here/exact there/other');
  assert.equal(toRemote(m.outboundRule('here/exact')!, 'here/exact'), 'there/other');
  assert.equal(toLocal(m.inboundRule('there/other')!, 'there/other'), 'here/exact');
  assert.equal(m.outboundRule('here/exact/more'), undefined);
});
