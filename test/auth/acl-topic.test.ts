import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import { aclMatchesTopic } from '../../src/auth/acl-topic.js';
import { isValidTopicFilter } from '../../src/protocol/topic.js';

/** Every string of 1..3 levels drawn from `words`. */
function combos(words: readonly string[]): string[] {
  const out: string[] = [];
  let layer = [...words];
  for (let depth = 1; depth <= 3; depth++) {
    out.push(...layer);
    layer = layer.flatMap((p) => words.map((w) => `${p}/${w}`));
  }
  return out;
}

// Mosquitto's acl_file checks each entry with libmosquitto's mosquitto_topic_matches_sub;
// the installed library is asked directly (through Python's ctypes) for the reference.
const REFERENCE = `
import ctypes, json, sys
f = ctypes.CDLL('libmosquitto.so.1').mosquitto_topic_matches_sub
f.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_bool)]
out = []
for sub, topic in json.load(sys.stdin):
    r = ctypes.c_bool(False)
    f(sub.encode(), topic.encode(), ctypes.byref(r))
    out.append(bool(r.value))
json.dump(out, sys.stdout)
`;

test('ACL topic matching equals libmosquitto mosquitto_topic_matches_sub, the empty topic included', () => {
  const filters = combos(['a', '', '$SYS', '+', '#']).filter(isValidTopicFilter);
  // The empty level makes the empty topic one of them.
  const topics = combos(['a', 'b', '', '$SYS']);
  const pairs = filters.flatMap((f) => topics.map((t) => [f, t] as const));
  const ref = JSON.parse(
    execFileSync('python3', ['-c', REFERENCE], { input: JSON.stringify(pairs) }).toString(),
  ) as boolean[];
  assert.equal(ref.length, pairs.length);
  const differ = pairs.filter(([f, t], i) => aclMatchesTopic(f, t) !== ref[i]);
  assert.deepEqual(differ, []);
  // The cases the broker's topicMatches answers otherwise (a topic is never empty on the wire).
  assert.equal(aclMatchesTopic('#', ''), false);
  assert.equal(aclMatchesTopic('+', ''), false);
});

test('an empty topic is neither readable nor writable, even under "topic readwrite #"', () => {
  const acl = AclFile.parse('topic readwrite #\npattern readwrite %c/#\n', 'acl');
  const anon = { clientId: 'c1' };
  assert.equal(acl.check(anon, '', 'read'), false);
  assert.equal(acl.check(anon, '', 'write'), false);
  assert.equal(acl.check(anon, 'x', 'write'), true);
  assert.equal(acl.check(anon, 'c1', 'read'), true);
});
