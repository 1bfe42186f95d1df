import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthFileError } from '../../src/auth/auth-file-error.js';
import { PasswordFile } from '../../src/auth/password-file.js';
import { hashPassword, parsePasswordHash } from '../../src/auth/password-hash.js';
import { run, scratchDir } from './mosquitto-helpers.js';

describe('PasswordFile reads files written by Debian mosquitto_passwd', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await scratchDir()));
  after(() => cleanup());

  test('-c -b with the default hash ($7$, 101 iterations, 12-byte salt, 64-byte digest)', async () => {
    const file = join(dir, 'default');
    assert.equal((await run('mosquitto_passwd', ['-c', '-b', file, 'alice', 'secret'])).code, 0);
    const pw = await PasswordFile.load(file);
    assert.equal(pw.size, 1);
    const info = pw.getHashInfo('alice')!;
    assert.equal(info.algorithm, 'sha512-pbkdf2');
    assert.equal(info.iterations, 101);
    assert.equal(info.salt.length, 12);
    assert.equal(info.hash.length, 64);
    assert.equal(await pw.verify('alice', 'secret'), true);
    assert.equal(await pw.verify('alice', Buffer.from('secret')), true);
    assert.equal(await pw.verify('alice', 'Secret'), false);
    assert.equal(await pw.verify('alice', ''), false);
    assert.equal(await pw.verify('mallory', 'secret'), false);
    assert.equal(pw.has('mallory'), false);
  });

  test('-H sha512 ($6$), -I iterations, interactive entry and several users', async () => {
    const file = join(dir, 'mixed');
    assert.equal(
      (await run('mosquitto_passwd', ['-c', '-b', '-H', 'sha512', file, 'bob', 'b0b'])).code,
      0,
    );
    assert.equal(
      (await run('mosquitto_passwd', ['-b', '-I', '2000', file, 'carol', 'c:4rol'])).code,
      0,
    );
    const interactive = await run('mosquitto_passwd', [file, 'dave'], 'd4ve pass\nd4ve pass\n');
    assert.equal(interactive.code, 0, interactive.stderr);
    const pw = await PasswordFile.load(file);
    assert.deepEqual([...pw.usernames()], ['bob', 'carol', 'dave']);
    assert.equal(pw.getHashInfo('bob')!.algorithm, 'sha512');
    assert.equal(pw.getHashInfo('carol')!.iterations, 2000);
    assert.equal(await pw.verify('bob', 'b0b'), true);
    assert.equal(await pw.verify('bob', 'b0b '), false);
    assert.equal(await pw.verify('carol', 'c:4rol'), true);
    assert.equal(await pw.verify('dave', 'd4ve pass'), true);
    assert.equal(await pw.verify('dave', 'b0b'), false);
  });

  test('-D removes a user and -U hashes a plain-text file', async () => {
    const file = join(dir, 'plain');
    await writeFile(file, 'erin:plain1\nfrank:plain2\n');
    assert.equal((await run('mosquitto_passwd', ['-U', file])).code, 0);
    assert.equal((await run('mosquitto_passwd', ['-D', file, 'frank'])).code, 0);
    const pw = await PasswordFile.load(file);
    assert.equal(pw.size, 1);
    assert.equal(await pw.verify('erin', 'plain1'), true);
    assert.equal(await pw.verify('frank', 'plain2'), false);
  });
});

describe('PasswordFile parsing follows the Mosquitto 2 broker', () => {
  const good = hashPassword('pw');

  test('comments and lines without a colon are ignored', () => {
    const pw = PasswordFile.parse(`# alice:${good}\n\nnot a user line\nbob:${good}\r\n`, 'pwfile');
    assert.equal(pw.has('alice'), false);
    assert.equal(pw.has('bob'), true);
    assert.equal(pw.size, 1);
    assert.deepEqual(pw.warnings, []);
  });

  test('a plain-text password is not accepted (the user cannot log in) and is reported with its line', async () => {
    const pw = PasswordFile.parse(`bob:${good}\nalice:secret\n`, '/etc/heron/pwfile');
    assert.equal(pw.has('alice'), false);
    assert.equal(await pw.verify('alice', 'secret'), false);
    assert.equal(pw.warnings.length, 1);
    assert.equal(pw.warnings[0]!.file, '/etc/heron/pwfile');
    assert.equal(pw.warnings[0]!.line, 2);
  });

  test('strict mode turns an unusable entry into an AuthFileError naming file and line', () => {
    const bad = [
      'carol:$7$0$AAAAAAAAAAAAAAAA$x',
      'carol:$6$c2hvcnQ=$AAAA',
      'carol:$5$abc$def',
      'carol',
      ':carol',
    ];
    for (const line of bad.slice(0, 3)) {
      assert.throws(
        () => PasswordFile.parse(`bob:${good}\n${line}\n`, 'pw.txt', { strict: true }),
        (err: unknown) => err instanceof AuthFileError && err.file === 'pw.txt' && err.line === 2,
        line,
      );
    }
    // Without a colon Mosquitto skips the line silently; with only a username it complains.
    assert.equal(PasswordFile.parse('carol\n', 'pw.txt', { strict: true }).size, 0);
    assert.throws(() => PasswordFile.parse(':carol\n', 'pw.txt', { strict: true }), AuthFileError);
  });

  test('blanks around fields are trimmed and the last usable entry for a user wins', async () => {
    const first = hashPassword('one');
    const second = hashPassword('two', { algorithm: 'sha512' });
    const pw = PasswordFile.parse(` dave :${first}\ndave:${second}  \ndave:plaintext\n`, 'pw');
    assert.equal(await pw.verify('dave', 'two'), true);
    assert.equal(await pw.verify('dave', 'one'), false);
  });

  test('a password is compared up to its first NUL byte, as Mosquitto compares C strings', async () => {
    const pw = PasswordFile.parse(`eve:${hashPassword('abc')}\n`, 'pw');
    assert.equal(await pw.verify('eve', Buffer.from('abc\u0000')), true);
    assert.equal(await pw.verify('eve', Buffer.from('abc\u0000xyz')), true);
    assert.equal(await pw.verify('eve', Buffer.from('abcx')), false);
  });

  test('an unreadable file is an AuthFileError naming it', async () => {
    await assert.rejects(PasswordFile.load('/nonexistent/heron/pwfile'), (err: unknown) => {
      return (
        err instanceof AuthFileError &&
        err.file === '/nonexistent/heron/pwfile' &&
        err.line === undefined
      );
    });
  });

  test('hashPassword writes what mosquitto_passwd writes', () => {
    const h = hashPassword('x');
    assert.match(h, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    assert.match(
      hashPassword('x', { algorithm: 'sha512' }),
      /^\$6\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/,
    );
    assert.equal(parsePasswordHash(hashPassword('x', { iterations: 7 })).iterations, 7);
    assert.throws(() => hashPassword('x', { iterations: 0 }), RangeError);
    assert.notEqual(hashPassword('x'), hashPassword('x'));
  });

  test('verify does not block the event loop while PBKDF2 runs', async () => {
    const pw = PasswordFile.parse(`slow:${hashPassword('p', { iterations: 200_000 })}\n`, 'pw');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const ok = await pw.verify('slow', 'p');
    clearInterval(timer);
    assert.equal(ok, true);
    assert.ok(ticks > 0, 'timers ran while the hash was computed');
  });
});
