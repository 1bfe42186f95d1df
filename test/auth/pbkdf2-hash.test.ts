import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makePbkdf2Hash, verifyPbkdf2 } from '../../src/auth/pbkdf2-hash.js';

const pw = (s: string) => Buffer.from(s);

test("mosquitto-auth-plug's published example hash: salt used as written, sha256", async () => {
  const h = 'PBKDF2$sha256$901$j24KtOVCjYfsqfjL$bUIeZ0n39NuQ3MU+Y3pofaSsTRNlfang';
  assert.equal(await verifyPbkdf2(pw('password'), h, 'utf-8', 'auth-plug'), true);
  assert.equal(await verifyPbkdf2(pw('Password'), h, 'utf-8', 'auth-plug'), false);
  assert.equal(await verifyPbkdf2(pw('password'), h, 'base64', 'go-auth'), false);
});

test("mosquitto-go-auth's published example hash: base64 salt, sha512", async () => {
  const h =
    'PBKDF2$sha512$100000$2WQHK5rjNN+oOT+TZAsWAw==$TDf4Y6J+9BdnjucFQ0ZUWlTwzncTjOOeE00W4Qm8lfPQyPCZACCjgfdK353jdGFwJjAf6vPAYaba9+z4GWK7Gg==';
  assert.equal(await verifyPbkdf2(pw('test1'), h, 'base64', 'go-auth'), true);
  assert.equal(await verifyPbkdf2(pw('test2'), h, 'base64', 'go-auth'), false);
});

test('made hashes verify with the salt encoding they were made for; garbage never verifies', async () => {
  const a = await makePbkdf2Hash('s3cret');
  assert.equal(await verifyPbkdf2(pw('s3cret'), a, 'utf-8', 'auth-plug'), true);
  const g = await makePbkdf2Hash('s3cret', {
    digest: 'sha512',
    saltEncoding: 'base64',
    keyLength: 64,
  });
  assert.equal(await verifyPbkdf2(pw('s3cret'), g, 'base64', 'go-auth'), true);
  for (const bad of [
    '',
    'plain',
    'PBKDF2$sha256$0$salt$aGFzaA==',
    'PBKDF2$sha256$x$salt$aGFzaA==',
    'PBKDF2$sha256$901$salt$',
  ])
    assert.equal(await verifyPbkdf2(pw('s3cret'), bad, 'utf-8', 'auth-plug'), false, bad);
});
