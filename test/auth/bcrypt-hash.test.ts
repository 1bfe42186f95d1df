import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { MAX_BCRYPT_COST, verifyBcrypt } from '../../src/auth/bcrypt-hash.js';

const pw = (s: string) => Buffer.from(s);

test('bcrypt hashes of every prefix verify the right password only', async () => {
  const h = bcrypt.hashSync('carol-pw', 4);
  assert.equal(await verifyBcrypt(pw('carol-pw'), h), true);
  assert.equal(await verifyBcrypt(pw('carol-pw'), h.replace('$2b$', '$2y$')), true);
  assert.equal(await verifyBcrypt(pw('carol'), h), false);
  assert.equal(await verifyBcrypt(pw(''), h), false);
});

test('a stored bcrypt hash with an absurd cost is refused at once, not computed', async () => {
  // Cost 31 is 2^31 rounds on the main thread: computed, it would stall the broker for days.
  const salt = bcrypt.genSaltSync(4).slice(7);
  const hostile = `$2b$31$${salt}${'a'.repeat(31)}`;
  const t = Date.now();
  assert.equal(await verifyBcrypt(pw('x'), hostile), false);
  assert.ok(Date.now() - t < 500, `took ${Date.now() - t} ms`);
  const tooCostly = `$2b$${MAX_BCRYPT_COST + 1}$${salt}${'a'.repeat(31)}`;
  assert.equal(await verifyBcrypt(pw('x'), tooCostly), false);
});

test('malformed bcrypt strings never verify', async () => {
  for (const bad of ['', 'plain', '$2b$04$short', 'PBKDF2$sha256$901$salt$aGFzaA=='])
    assert.equal(await verifyBcrypt(pw('x'), bad), false, bad);
});
