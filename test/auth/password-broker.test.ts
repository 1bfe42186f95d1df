// Files written by `heron passwd` must work in a real Mosquitto broker, and
// Heron must accept and refuse exactly the users Mosquitto does.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PasswordFile } from '../../src/auth/password-file.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { passwdMain } from '../../src/cli/passwd.js';
import {
  type MosquittoBroker,
  publishAs,
  scratchDir,
  startMosquitto,
} from './mosquitto-helpers.js';

async function heronPasswd(argv: string[]): Promise<number> {
  const sink = new PassThrough();
  sink.resume();
  const stdin = new PassThrough();
  stdin.end();
  return passwdMain(argv, { stdin, stdout: sink, stderr: sink });
}

describe('password files written by heron passwd in a real mosquitto broker', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let broker: MosquittoBroker;
  let file: string;
  let pw: PasswordFile;

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    file = join(dir, 'passwd');
    assert.equal(await heronPasswd(['-c', '-b', file, 'alice', 'secret']), 0);
    assert.equal(await heronPasswd(['-b', '-H', 'sha512', file, 'bob', 'b0b pass']), 0);
    assert.equal(await heronPasswd(['-b', '-I', '5000', file, 'carol', 'ünïcødé']), 0);
    // Entries Mosquitto does not accept, and a user listed twice (the later line counts).
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      `${text}# dave:${hashPassword('commented')}\nerin:plaintext\n` +
        `frank:${hashPassword('old')}\nfrank:${hashPassword('new')}\n`,
    );
    pw = await PasswordFile.load(file);
    broker = await startMosquitto(dir, [`password_file ${file}`, 'allow_anonymous false']);
  });
  after(async () => {
    await broker?.stop();
    await cleanup();
  });

  const attempts: Array<[string, string]> = [
    ['alice', 'secret'],
    ['alice', 'wrong'],
    ['alice', ''],
    ['bob', 'b0b pass'],
    ['bob', 'b0b'],
    ['carol', 'ünïcødé'],
    ['carol', 'unicode'],
    ['dave', 'commented'],
    ['erin', 'plaintext'],
    ['frank', 'new'],
    ['frank', 'old'],
    ['mallory', 'secret'],
  ];

  test('mosquitto_pub -u/-P succeeds exactly when PasswordFile.verify says so', async () => {
    for (const [user, password] of attempts) {
      const res = await publishAs(broker.port, user, password);
      const heron = await pw.verify(user, password);
      assert.equal(
        res.code === 0,
        heron,
        `${user}/${password}: mosquitto exit ${res.code} ${res.stderr}`,
      );
      if (!heron) {
        // MQTT 3.1.1 CONNACK 5: Mosquitto answers a bad login with "not authorised".
        assert.equal(res.code, 5, `${user}/${password}`);
        assert.match(res.stderr, /not authori[sz]ed/i);
      }
    }
    assert.equal(await pw.verify('alice', 'secret'), true);
    assert.equal(await pw.verify('frank', 'new'), true);
  });

  test('MQTT v5 clients are refused with reason code 135 (Not authorized)', async () => {
    const res = await publishAs(broker.port, 'alice', 'nope', 5);
    assert.equal(res.code, 135, res.stderr);
    const ok = await publishAs(broker.port, 'alice', 'secret', 5);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
