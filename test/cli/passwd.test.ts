import assert from 'node:assert/strict';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PasswordFile } from '../../src/auth/password-file.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { passwdMain } from '../../src/cli/passwd.js';
import { run, scratchDir } from '../auth/mosquitto-helpers.js';

/** Runs `heron passwd` in-process with the given stdin text. */
async function heronPasswd(argv: string[], input = '') {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  stdin.end(input);
  const code = await passwdMain(argv, { stdin, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('heron passwd', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await scratchDir()));
  after(() => cleanup());

  test('-c creates a 0600 file; without -c an existing file is updated in place, keeping other lines', async () => {
    const file = join(dir, 'create');
    assert.equal((await heronPasswd(['-c', '-b', file, 'alice', 'one'])).code, 0);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await heronPasswd(['-b', file, 'bob', 'two'])).code, 0);
    assert.equal((await heronPasswd(['-b', file, 'carol', 'three'])).code, 0);
    const before = (await readFile(file, 'utf8')).split('\n');
    assert.equal((await heronPasswd(['-b', '-H', 'sha512', file, 'bob', 'TWO'])).code, 0);
    const after = (await readFile(file, 'utf8')).split('\n');
    assert.equal(after[0], before[0]);
    assert.equal(after[2], before[2]);
    assert.match(after[1]!, /^bob:\$6\$/);
    const pw = await PasswordFile.load(file);
    assert.deepEqual([...pw.usernames()], ['alice', 'bob', 'carol']);
    assert.equal(await pw.verify('bob', 'TWO'), true);
    assert.equal(await pw.verify('bob', 'two'), false);
    // -c again replaces the whole file.
    assert.equal((await heronPasswd(['-c', '-b', file, 'zed', 'z'])).code, 0);
    assert.deepEqual([...(await PasswordFile.load(file)).usernames()], ['zed']);
  });

  test('an existing file keeps its mode; comments and blank lines survive an update', async () => {
    const file = join(dir, 'mode');
    await writeFile(file, `# managed by ops\n\nalice:${hashPassword('a')}\n`, { mode: 0o640 });
    assert.equal((await heronPasswd(['-b', '-I', '500', file, 'bob', 'b'])).code, 0);
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^# managed by ops\n\nalice:\$7\$101\$.*\nbob:\$7\$500\$/);
  });

  test('interactive entry reads stdin, prompts twice and rejects a mismatch with status 2', async () => {
    const file = join(dir, 'interactive');
    const ok = await heronPasswd(['-c', file, 'alice'], 'pa ss\npa ss\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Password: \nReenter password: \n');
    assert.equal(await (await PasswordFile.load(file)).verify('alice', 'pa ss'), true);
    const mismatch = await heronPasswd([file, 'alice'], 'one\ntwo\n');
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /^Error: /);
    const empty = await heronPasswd([file, 'alice'], '');
    assert.equal(empty.code, 1);
    assert.equal(await (await PasswordFile.load(file)).verify('alice', 'pa ss'), true);
  });

  test('-D deletes a user and fails with status 1 for an unknown one', async () => {
    const file = join(dir, 'delete');
    await heronPasswd(['-c', '-b', file, 'alice', 'a']);
    await heronPasswd(['-b', file, 'bob', 'b']);
    assert.equal((await heronPasswd(['-D', file, 'alice'])).code, 0);
    const missing = await heronPasswd(['-D', file, 'alice']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /alice/);
    assert.deepEqual([...(await PasswordFile.load(file)).usernames()], ['bob']);
  });

  test('-U hashes plain-text passwords and leaves hashed lines alone', async () => {
    const file = join(dir, 'upgrade');
    const hashed = `carol:${hashPassword('c')}`;
    await writeFile(file, `alice:a-pass\n${hashed}\nbob: b-pass \n`);
    assert.equal((await heronPasswd(['-U', file])).code, 0);
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n')[1], hashed);
    const pw = await PasswordFile.load(file);
    assert.equal(pw.size, 3);
    assert.equal(await pw.verify('alice', 'a-pass'), true);
    assert.equal(await pw.verify('bob', 'b-pass'), true);
    assert.equal(await pw.verify('carol', 'c'), true);
    assert.equal((await heronPasswd(['-U', file])).code, 0);
    assert.equal(await readFile(file, 'utf8'), text);
  });

  test('a corrupt file is refused with its line number and left untouched', async () => {
    const file = join(dir, 'corrupt');
    const text = `alice:${hashPassword('a')}\njust-a-name\n`;
    await writeFile(file, text);
    const res = await heronPasswd(['-b', file, 'bob', 'b']);
    assert.equal(res.code, 1);
    // mosquitto_passwd's words; unlike 2.0.11 (which then rewrites the file with -b), it exits 1.
    assert.equal(res.stderr, 'Error: Corrupt password file at line 2.\n');
    assert.equal(await readFile(file, 'utf8'), text);
  });

  // The same command lines given to Debian's mosquitto_passwd and to heron passwd
  // must succeed or fail alike (same exit status).
  const cases: Array<{
    name: string;
    args: (f: string) => string[];
    input?: string;
    seed?: string;
  }> = [
    { name: 'no arguments', args: () => [] },
    { name: 'batch without password', args: (f) => ['-b', f, 'alice'] },
    { name: 'batch update', args: (f) => ['-b', f, 'alice', 'x'] },
    { name: 'batch add', args: (f) => ['-b', f, 'newuser', 'x'] },
    { name: 'too many arguments', args: (f) => [f, 'alice', 'x', 'y'] },
    { name: '-c without username', args: (f) => ['-c', f] },
    { name: '-c -b without password', args: (f) => ['-c', '-b', f, 'alice'] },
    { name: '-c with -D', args: (f) => ['-c', '-D', f, 'alice'] },
    { name: '-c with -U', args: (f) => ['-c', '-U', f] },
    { name: '-D with -U', args: (f) => ['-D', '-U', f] },
    { name: '-D with -b', args: (f) => ['-D', '-b', f, 'alice'] },
    { name: '-D without username', args: (f) => ['-D', f] },
    { name: '-D unknown user', args: (f) => ['-D', f, 'nobody'] },
    { name: '-U without file', args: () => ['-U'] },
    { name: '-U with extra argument', args: (f) => ['-U', f, 'alice'] },
    { name: '-H unknown', args: (f) => ['-H', 'md5', '-b', f, 'alice', 'x'] },
    { name: '-H missing value', args: () => ['-H'] },
    { name: '-I zero', args: (f) => ['-I', '0', '-b', f, 'alice', 'x'] },
    { name: '-I missing value', args: () => ['-I'] },
    { name: 'username with colon', args: (f) => ['-b', f, 'a:b', 'x'] },
    { name: 'username with control character', args: (f) => ['-b', f, 'a\tb', 'x'] },
    { name: 'missing file', args: (f) => ['-b', `${f}.missing`, 'alice', 'x'] },
    { name: 'interactive mismatch', args: (f) => [f, 'alice'], input: 'a\nb\n' },
    { name: 'interactive empty', args: (f) => [f, 'alice'], input: '' },
    { name: 'interactive ok', args: (f) => [f, 'alice'], input: 'a\na\n' },
    { name: 'interactive second empty', args: (f) => [f, 'alice'], input: 'a\n\n' },
    { name: '-c in a missing directory', args: (f) => ['-c', '-b', `${f}.d/x`, 'alice', 'a'] },
    { name: '-U on a corrupt file', args: (f) => ['-U', f], seed: 'alice:x\nnocolon\n' },
  ];
  test('exit statuses and error text match mosquitto_passwd for the same command lines', async () => {
    const seed = join(dir, 'seed');
    await writeFile(seed, `alice:${hashPassword('a')}\n`);
    for (const c of cases) {
      const mf = join(dir, `m-${cases.indexOf(c)}`);
      const hf = join(dir, `h-${cases.indexOf(c)}`);
      await copyFile(seed, mf);
      await copyFile(seed, hf);
      if (c.seed !== undefined) {
        await writeFile(mf, c.seed);
        await writeFile(hf, c.seed);
      }
      const mosq = await run('mosquitto_passwd', c.args(mf), c.input);
      const heron = await heronPasswd(c.args(hf), c.input);
      assert.equal(
        heron.code,
        mosq.code,
        `${c.name}: mosquitto_passwd said ${mosq.code} ${mosq.stderr}`,
      );
      assert.equal(heron.stderr.replaceAll(hf, mf), mosq.stderr, c.name);
      // Both leave files that hold the same users afterwards.
      const users = async (f: string) =>
        PasswordFile.load(f).then(
          (pw) => [...pw.usernames()],
          () => 'unreadable',
        );
      assert.deepEqual(await users(hf), await users(mf), c.name);
    }
  });
});
