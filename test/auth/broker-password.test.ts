// Password files made by Debian's mosquitto_passwd, enforced by the broker over
// real sockets for mosquitto_pub, MQTT.js and raw v3/v5 clients; the hook chain
// and reloadSecurity.
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectAsync } from 'mqtt';
import { PacketType } from '../../src/protocol/constants.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { publish, publishAs, run, scratchDir } from './mosquitto-helpers.js';

async function connackCode(
  port: number,
  version: 4 | 5,
  fields: { username?: string; password?: string },
): Promise<number> {
  const c = await RawClient.connect(port, version);
  const ack = await c.handshake({
    username: fields.username,
    password: fields.password === undefined ? undefined : Buffer.from(fields.password),
  });
  c.destroy();
  return ack.reasonCode;
}

describe('broker with a mosquitto_passwd password file', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  let tb: TestBroker;

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    file = join(dir, 'passwd');
    assert.equal((await run('mosquitto_passwd', ['-c', '-b', file, 'alice', 'secret'])).code, 0);
    assert.equal((await run('mosquitto_passwd', ['-b', file, 'bob', 'b0b pass'])).code, 0);
    tb = await startBroker({ passwordFile: file, allowAnonymous: false });
  });
  after(async () => {
    await tb?.close();
    await cleanup();
  });

  test('mosquitto_pub -u/-P: right password accepted, wrong/unknown/anonymous refused (CONNACK 5)', async () => {
    const ok = await publishAs(tb.port, 'alice', 'secret');
    assert.equal(ok.code, 0, ok.stderr);
    const ok2 = await publishAs(tb.port, 'bob', 'b0b pass');
    assert.equal(ok2.code, 0, ok2.stderr);
    for (const args of [['-u', 'alice', '-P', 'wrong'], ['-u', 'mallory', '-P', 'secret'], []]) {
      const res = await publish(tb.port, [...args, '-t', 't', '-m', 'x']);
      assert.equal(res.code, 5, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /not authori[sz]ed/i);
    }
  });

  test('mosquitto_pub -V 5: a bad password is refused with 0x87', async () => {
    const res = await publishAs(tb.port, 'alice', 'nope', 5);
    assert.equal(res.code, 0x87, res.stderr);
  });

  test('MQTT.js: accepted with the right password, refused with a wrong one', async () => {
    const c = await connectAsync(tb.url, {
      username: 'bob',
      password: 'b0b pass',
      clientId: 'mj-ok',
    });
    await c.endAsync();
    await assert.rejects(
      connectAsync(tb.url, {
        username: 'bob',
        password: 'bob',
        clientId: 'mj-bad',
        reconnectPeriod: 0,
        protocolVersion: 5,
      }),
      (err: Error & { code?: number }) => err.code === 0x87,
    );
  });

  test('raw v3 and v5 CONNACK codes', async () => {
    assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'secret' }), 0);
    assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'x' }), 5);
    assert.equal(await connackCode(tb.port, 4, {}), 5);
    assert.equal(await connackCode(tb.port, 5, { username: 'alice', password: 'x' }), 0x87);
    assert.equal(await connackCode(tb.port, 5, {}), 0x87);
    assert.ok(tb.broker.stats.authFailures >= 4);
  });

  test('reloadSecurity reads the changed file; connected clients stay connected', async () => {
    const c = await RawClient.connect(tb.port);
    assert.equal(
      (await c.handshake({ username: 'alice', password: Buffer.from('secret') })).reasonCode,
      0,
    );
    assert.equal((await run('mosquitto_passwd', ['-b', file, 'alice', 'changed'])).code, 0);
    assert.equal((await run('mosquitto_passwd', ['-b', file, 'carol', 'new user'])).code, 0);
    await tb.broker.reloadSecurity();
    assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'secret' }), 5);
    assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'changed' }), 0);
    assert.equal(await connackCode(tb.port, 4, { username: 'carol', password: 'new user' }), 0);
    c.send({ type: PacketType.PINGREQ });
    await c.nextOfType(PacketType.PINGRESP);
    // A file that cannot be read leaves the loaded one in effect (and reloadSecurity rejects).
    await rename(file, `${file}.away`);
    await assert.rejects(tb.broker.reloadSecurity(), /cannot read password file/);
    assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'changed' }), 0);
    await rename(`${file}.away`, file);
    // And a broker whose file is missing does not start.
    await assert.rejects(
      startBroker({ passwordFile: join(dir, 'missing'), allowAnonymous: false }),
      /cannot read password file/,
    );
    c.destroy();
  });
});

describe('authentication chain with hooks', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    file = join(dir, 'passwd');
    assert.equal((await run('mosquitto_passwd', ['-c', '-b', file, 'alice', 'secret'])).code, 0);
  });
  after(() => cleanup());

  const hook = (req: { username: string | undefined }) =>
    req.username === 'service' ? true : req.username === 'blocked' ? false : undefined;

  test('hooks_first: a hook answer wins, undefined falls through to the password file', async () => {
    const tb = await startBroker({
      passwordFile: file,
      allowAnonymous: false,
      hooks: { authenticate: hook },
    });
    try {
      assert.equal(await connackCode(tb.port, 4, { username: 'service' }), 0);
      // The hook refuses before the file is asked: v3 4 / v5 0x86 (bad user name or password).
      assert.equal(await connackCode(tb.port, 4, { username: 'blocked', password: 'x' }), 4);
      assert.equal(await connackCode(tb.port, 5, { username: 'blocked', password: 'x' }), 0x86);
      assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'secret' }), 0);
      assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'bad' }), 5);
    } finally {
      await tb.close();
    }
  });

  test('files_first: the password file decides for its users and the unknown ones', async () => {
    const tb = await startBroker({
      passwordFile: file,
      allowAnonymous: false,
      authOrder: 'files_first',
      hooks: { authenticate: hook },
    });
    try {
      // The file refuses a user it does not know before the hook can accept it.
      assert.equal(await connackCode(tb.port, 4, { username: 'service' }), 5);
      assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'secret' }), 0);
    } finally {
      await tb.close();
    }
  });

  test('allowAnonymous true lets clients without a user name in; named users still need the file', async () => {
    const tb = await startBroker({ passwordFile: file, allowAnonymous: true });
    try {
      assert.equal(await connackCode(tb.port, 4, {}), 0);
      assert.equal(await connackCode(tb.port, 4, { username: 'alice', password: 'no' }), 5);
    } finally {
      await tb.close();
    }
  });
});
