import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashTest } from './support/crash-driver.js';

// The durability promise under kill -9: 20 cycles here, `npm run test:crash [cycles]` for more.
test('kill -9 at random moments: every acknowledged message is delivered (QoS 1 at least once, QoS 2 exactly once)', {
  timeout: 120_000,
}, async () => {
  const r = await runCrashTest(20);
  assert.ok(r.acked[1] > 0 && r.acked[2] > 0, 'the publishers made progress');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.losses.slice(0, 20), [], `${r.losses.length} acknowledged messages lost`);
  assert.deepEqual(r.duplicates.slice(0, 20), [], `${r.duplicates.length} QoS 2 duplicates`);
});

test('the crash check notices losses when acknowledgements do not wait for the commit (interval mode)', {
  timeout: 60_000,
}, async () => {
  const r = await runCrashTest(2, () => {}, 'interval');
  assert.ok(r.losses.length + r.errors.length > 0);
});
