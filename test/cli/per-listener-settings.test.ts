// per_listener_settings true with different security on each listener: the
// same configuration file is run by a real `heron` process and by a real
// mosquitto, and both must answer alike (who may connect where, which ACL
// judges publishes, subscriptions and deliveries, and what SIGHUP reloads).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PacketType, type ProtocolVersion } from '../../src/protocol/constants.js';
import type { PubackPacket, PublishPacket, SubackPacket } from '../../src/protocol/packets.js';
import { freePort, HERON_BIN, stopProcess, waitForListening } from '../helpers/process.js';
import { connectRaw, delay, RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);
const T = { timeout: 60_000 };

/** The configuration from the task: an open loopback listener and a closed one with files. */
function config(dir: string, open: number, closed: number): string {
  return [
    'per_listener_settings true',
    `listener ${open} 127.0.0.1`,
    'allow_anonymous true',
    `listener ${closed} 127.0.0.1`,
    `password_file ${join(dir, 'passwd')}`,
    `acl_file ${join(dir, 'acl')}`,
    'allow_anonymous false',
    'persistence false',
    // As root, mosquitto would switch to the "mosquitto" user and lose access to our 0600 files.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    '',
  ].join('\n');
}

const ACL = [
  'user alice',
  'topic readwrite alice/#',
  'topic read news/#',
  'topic deny news/secret',
  '',
];

interface Running {
  child: ChildProcess;
  open: number;
  closed: number;
  output: () => string;
}

/** Starts `program -c conf` and waits until both listeners accept connections. */
async function start(program: 'heron' | 'mosquitto', dir: string): Promise<Running> {
  const open = await freePort();
  const closed = await freePort();
  const conf = join(dir, `${program}.conf`);
  writeFileSync(conf, config(dir, open, closed));
  const child =
    program === 'heron'
      ? spawn(process.execPath, [HERON_BIN, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { output } = await waitForListening(child, [open, closed], program);
  return { child, open, closed, output };
}

/** Writes the password file with `mosquitto_passwd` (one user per call, the first creates it). */
async function writePasswords(dir: string, users: Array<[string, string]>): Promise<void> {
  const file = join(dir, 'passwd');
  rmSync(file, { force: true });
  writeFileSync(file, '');
  for (const [user, password] of users) await run('mosquitto_passwd', ['-b', file, user, password]);
}

/** The CONNACK code a client gets (v3.1.1 return code or v5 reason code). */
async function connackCode(
  port: number,
  fields: { username?: string; password?: string },
  version: ProtocolVersion = 4,
): Promise<number> {
  const c = await RawClient.connect(port, version);
  try {
    const ack = await c.handshake({
      username: fields.username,
      password: fields.password === undefined ? undefined : Buffer.from(fields.password),
    });
    return ack.reasonCode;
  } finally {
    c.destroy();
  }
}

function login(user: string, password: string) {
  return { username: user, password: Buffer.from(password) };
}

async function subscribe(c: RawClient, filter: string): Promise<number> {
  c.send({
    type: PacketType.SUBSCRIBE,
    packetId: 1,
    subscriptions: [
      { topic: filter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ],
  });
  return (await c.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes[0]!;
}

/** Publishes at QoS 1 and answers the v5 PUBACK reason code. */
async function publish(c: RawClient, topic: string, packetId: number): Promise<number> {
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(topic),
    qos: 1,
    retain: false,
    dup: false,
    packetId,
  });
  return (await c.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode;
}

function topics(c: RawClient): string[] {
  return c.received
    .filter((p): p is PublishPacket => p.type === PacketType.PUBLISH)
    .map((p) => p.topic)
    .sort();
}

/** What a user of the two listeners sees; the same for heron and mosquitto. */
const EXPECTED = {
  anonymousOnOpen: 0,
  anonymousOnClosedV311: 5,
  anonymousOnClosedV5: 0x87,
  aliceOnClosed: 0,
  aliceWrongPasswordOnClosed: 5,
  // The open listener has no password file: a user name is not checked there.
  aliceWrongPasswordOnOpen: 0,
  // alice's ACL on the closed listener: publish to her own topics only
  // (0x10: accepted, though nobody subscribes yet; 0x87: not authorized).
  alicePublishOwnTopic: 0x10,
  alicePublishNews: 0x87,
  // An anonymous client of the open listener is not under the closed listener's ACL.
  anonymousPublishNews: 0x10,
  // Mosquitto's subscribe rule grants any filter; the ACL judges each delivery.
  aliceSubscribeNews: 1,
  // Published on the open listener: alice (closed listener) gets only what her ACL lets her read.
  aliceReceives: ['alice/x', 'news/a'],
  anonymousReceives: ['news/a', 'news/secret'],
};

async function observe(b: Running): Promise<typeof EXPECTED> {
  const alice = await connectRaw(b.closed, { clientId: 'alice-1', ...login('alice', 'secret') }, 5);
  const anon = await connectRaw(b.open, { clientId: 'anon-1' }, 5);
  try {
    const seen = {
      anonymousOnOpen: await connackCode(b.open, {}),
      anonymousOnClosedV311: await connackCode(b.closed, {}),
      anonymousOnClosedV5: await connackCode(b.closed, {}, 5),
      aliceOnClosed: await connackCode(b.closed, { username: 'alice', password: 'secret' }),
      aliceWrongPasswordOnClosed: await connackCode(b.closed, {
        username: 'alice',
        password: 'nope',
      }),
      aliceWrongPasswordOnOpen: await connackCode(b.open, { username: 'alice', password: 'nope' }),
      alicePublishOwnTopic: await publish(alice, 'alice/own', 1),
      alicePublishNews: await publish(alice, 'news/a', 2),
      anonymousPublishNews: await publish(anon, 'news/b', 3),
      aliceSubscribeNews: await subscribe(alice, 'news/#'),
      aliceReceives: [] as string[],
      anonymousReceives: [] as string[],
    };
    assert.equal(await subscribe(alice, 'alice/#'), 1);
    assert.equal(await subscribe(anon, 'news/#'), 1);
    alice.received.length = 0;
    anon.received.length = 0;
    const publisher = await connectRaw(b.open, { clientId: 'pub-1' }, 5);
    for (const [i, t] of ['news/a', 'news/secret', 'alice/x'].entries())
      assert.equal(await publish(publisher, t, i + 1), 0);
    publisher.destroy();
    await delay(300);
    seen.aliceReceives = topics(alice);
    seen.anonymousReceives = topics(anon);
    return seen;
  } finally {
    alice.destroy();
    anon.destroy();
  }
}

/** After SIGHUP with alice's password changed and bob added: who gets in where. */
async function afterReload(b: Running, dir: string) {
  await writePasswords(dir, [
    ['alice', 'changed'],
    ['bob', 'builder'],
  ]);
  b.child.kill('SIGHUP');
  const deadline = Date.now() + 5000;
  while (
    (await connackCode(b.closed, { username: 'bob', password: 'builder' })) !== 0 &&
    Date.now() < deadline
  )
    await delay(100);
  return {
    bobOnClosed: await connackCode(b.closed, { username: 'bob', password: 'builder' }),
    aliceOldPasswordOnClosed: await connackCode(b.closed, {
      username: 'alice',
      password: 'secret',
    }),
    aliceNewPasswordOnClosed: await connackCode(b.closed, {
      username: 'alice',
      password: 'changed',
    }),
    anonymousOnOpen: await connackCode(b.open, {}),
    anonymousOnClosed: await connackCode(b.closed, {}),
    aliceOldPasswordOnOpen: await connackCode(b.open, { username: 'alice', password: 'secret' }),
  };
}

const EXPECTED_AFTER_RELOAD = {
  bobOnClosed: 0,
  aliceOldPasswordOnClosed: 5,
  aliceNewPasswordOnClosed: 0,
  anonymousOnOpen: 0,
  anonymousOnClosed: 5,
  aliceOldPasswordOnOpen: 0,
};

for (const program of ['heron', 'mosquitto'] as const) {
  describe(`per_listener_settings true, each listener with its own security (${program})`, () => {
    let dir = '';
    let b: Running | undefined;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'heron-pls-'));
      await writePasswords(dir, [['alice', 'secret']]);
      writeFileSync(join(dir, 'acl'), ACL.join('\n'));
      b = await start(program, dir);
    });
    after(async () => {
      if (b !== undefined) await stopProcess(b.child);
      rmSync(dir, { recursive: true, force: true });
    });

    test(
      'anonymous clients get in on the open listener only; the password file and ACL judge only the closed listener’s clients, deliveries included',
      T,
      async () => {
        assert.deepEqual(await observe(b!), EXPECTED, b!.output());
      },
    );

    test(
      'SIGHUP after editing the closed listener’s password file changes who gets in there, and nothing on the open listener',
      T,
      async () => {
        assert.deepEqual(await afterReload(b!, dir), EXPECTED_AFTER_RELOAD, b!.output());
      },
    );
  });
}
