import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashLimiter, HashQueueFullError } from '../../src/auth/hash-limiter.js';
import { verifyPbkdf2 } from '../../src/auth/pbkdf2-hash.js';

const h = 'PBKDF2$sha256$901$j24KtOVCjYfsqfjL$bUIeZ0n39NuQ3MU+Y3pofaSsTRNlfang';
const check = (pw: string) => () => verifyPbkdf2(Buffer.from(pw), h, 'utf-8', 'auth-plug');

test('many concurrent PBKDF2 checks run at most two at a time and all answer correctly', async () => {
  const limiter = new HashLimiter(2, 100);
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => limiter.run(check(i % 4 === 0 ? 'password' : 'wrong'))),
  );
  assert.deepEqual(
    answers,
    Array.from({ length: 40 }, (_, i) => i % 4 === 0),
  );
  assert.equal(limiter.peak, 2);
  assert.equal(limiter.active, 0);
  assert.equal(limiter.queued, 0);
});

test('checks beyond the queue are refused at once, the queued ones still answer', async () => {
  const limiter = new HashLimiter(1, 2);
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => limiter.run(check('password'))),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(ok.length, 3); // one running, two waiting
  assert.ok(ok.every((r) => r.value === true));
  assert.ok(refused.every((r) => r.reason instanceof HashQueueFullError));
  assert.equal(limiter.refused, 7);
  assert.equal(limiter.peak, 1);
  // Once the storm has passed, checks run again.
  assert.equal(await limiter.run(check('password')), true);
});

test('a failing check frees its slot', async () => {
  const limiter = new HashLimiter(1, 10);
  const boom = limiter.run(() => Promise.reject(new Error('boom')));
  const next = limiter.run(check('password'));
  await assert.rejects(boom, /boom/);
  assert.equal(await next, true);
  assert.equal(limiter.active, 0);
});
