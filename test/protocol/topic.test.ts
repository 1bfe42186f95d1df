// Topic name and filter rules, wildcard matching tables, the `$` rule and
// shared subscription parsing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
  topicMatches,
} from '../../src/protocol/index.js';

describe('validity', () => {
  test('topic names', () => {
    for (const t of ['a', '/', 'a/b', '/a/', 'a//b', '$SYS/x', 'é/✓', ' ', 'a'.repeat(65535)]) {
      assert.equal(isValidTopicName(t), true, t.slice(0, 20));
    }
    for (const t of ['', 'a/+', '#', 'a/#', '+', 'a\u0000b', 'é'.repeat(40_000)]) {
      assert.equal(isValidTopicName(t), false, t.slice(0, 20));
    }
  });
  test('[MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1] topic filters', () => {
    const valid = [
      '#',
      '+',
      'a/#',
      'a/+',
      '+/+',
      '+/a/#',
      '/#',
      'a//b',
      '/',
      '$SYS/#',
      'sport/+/player1',
    ];
    const invalid = ['', 'a/#/b', '#a', 'a#', 'a/b#', 'a+', '+a', 'a/+b/c', '##', '#/', 'a\u0000'];
    for (const f of valid) assert.equal(isValidTopicFilter(f), true, f);
    for (const f of invalid) assert.equal(isValidTopicFilter(f), false, f);
  });
});

describe('matching', () => {
  const table: Array<[string, string, boolean]> = [
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['+/+', '/', true],
    ['+', '/', false],
    ['/+', '/x', true],
    ['+/b', 'a/b', true],
    ['a/+/c', 'a/x/c', true],
    ['a/+/c', 'a/x/d', false],
    ['#', 'a', true],
    ['#', '/', true],
    ['#', 'a/b/c', true],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+/#', 'a/b', true],
    ['+/+/#', 'a', false],
    ['é/+', 'é/✓', true],
  ];
  for (const [filter, topic, expected] of table) {
    test(`${filter} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(topic)}`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }

  test('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', () => {
    assert.equal(topicMatches('#', '$SYS/broker/uptime'), false);
    assert.equal(topicMatches('+/monitor/Clients', '$SYS/monitor/Clients'), false);
    assert.equal(topicMatches('$SYS/#', '$SYS/broker/uptime'), true);
    assert.equal(topicMatches('$SYS/monitor/+', '$SYS/monitor/Clients'), true);
    assert.equal(topicMatches('a/#', 'a/$b'), true);
  });
});

describe('shared subscriptions', () => {
  test('parses group and filter', () => {
    assert.deepEqual(parseSharedSubscription('$share/g1/a/+/#'), { group: 'g1', filter: 'a/+/#' });
    assert.deepEqual(parseSharedSubscription('$share/g/#'), { group: 'g', filter: '#' });
    assert.deepEqual(parseSharedSubscription('$share/g//'), { group: 'g', filter: '/' });
  });
  test('non-shared filters give undefined', () => {
    for (const f of ['a/b', '$SYS/#', '$share', '$sharex/g/a', 'share/g/a', '#']) {
      assert.equal(parseSharedSubscription(f), undefined, f);
    }
  });
  test('[MQTT-4.8.2-1] [MQTT-4.8.2-2] malformed shared filters are invalid', () => {
    for (const f of [
      '$share/',
      '$share/g',
      '$share//a',
      '$share/g+/a',
      '$share/#/a',
      '$share/g/',
      '$share/g/a#',
    ]) {
      assert.equal(parseSharedSubscription(f), 'invalid', f);
    }
  });
});
