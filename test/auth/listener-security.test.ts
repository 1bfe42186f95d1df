// ListenerOptions.security: an embedded broker with one open listener (the
// broker-level settings) and listeners with their own password file, ACL,
// allow_anonymous, allow_zero_length_clientid and auto_id_prefix, over real
// sockets with files on disk.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import { PasswordFile } from '../../src/auth/password-file.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import type { Broker } from '../../src/broker/broker.js';
import { createBroker } from '../../src/broker/broker.js';
import { PacketType } from '../../src/protocol/constants.js';
import type {
  ConnackPacket,
  PubackPacket,
  PublishPacket,
  SubackPacket,
} from '../../src/protocol/packets.js';
import { connectRaw, delay, RawClient } from '../helpers/raw-client.js';
import { scratchDir } from './mosquitto-helpers.js';

async function connack(
  port: number,
  fields: { clientId?: string; username?: string; password?: string } = {},
  version: 4 | 5 = 4,
): Promise<ConnackPacket> {
  const c = await RawClient.connect(port, version);
  try {
    return await c.handshake({
      ...fields,
      password: fields.password === undefined ? undefined : Buffer.from(fields.password),
    });
  } finally {
    c.destroy();
  }
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

async function publish(c: RawClient, topic: string, packetId = 1): Promise<number> {
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

const ACL = 'user alice\ntopic readwrite alice/#\ntopic read news/#\ntopic deny news/secret\n';

describe('ListenerOptions.security overrides the broker-level security for its listener', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let broker: Broker;
  let open = 0;
  let closed = 0;
  let mounted = 0;
  let prefixed = 0;
  let pwPath = '';
  let aclPath = '';

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    pwPath = join(dir, 'passwd');
    aclPath = join(dir, 'acl');
    await writeFile(pwPath, `alice:${hashPassword('secret')}\n`);
    await writeFile(aclPath, ACL);
    broker = createBroker({
      sysInterval: 0,
      allowAnonymous: true,
      aclSubscribeMode: 'strict',
      listeners: [
        { port: 0, host: '127.0.0.1' },
        {
          port: 0,
          host: '127.0.0.1',
          security: {
            allowAnonymous: false,
            passwordFile: pwPath,
            aclFile: aclPath,
            allowZeroLengthClientId: false,
          },
        },
        {
          port: 0,
          host: '127.0.0.1',
          mountPoint: 'site/',
          security: {
            allowAnonymous: false,
            passwordFile: PasswordFile.parse(`alice:${hashPassword('other')}\n`, 'inline'),
            // Rules see topics with the mount point in front.
            aclFile: AclFile.parse('user alice\ntopic read site/news/#\n', 'inline', {
              subscribe: 'strict',
            }),
          },
        },
        { port: 0, host: '127.0.0.1', security: { autoIdPrefix: 'kiosk-' } },
      ],
    });
    [open, closed, mounted, prefixed] = (await broker.listen()).map((a) => a.port) as [
      number,
      number,
      number,
      number,
    ];
  });
  after(async () => {
    await broker?.close();
    await cleanup();
  });

  test('anonymous clients are accepted on the open listener and refused (5 / 0x87) on the closed one', async () => {
    assert.equal((await connack(open)).reasonCode, 0);
    assert.equal((await connack(closed)).reasonCode, 5);
    assert.equal((await connack(closed, {}, 5)).reasonCode, 0x87);
  });

  test('each listener checks passwords against its own password file', async () => {
    assert.equal((await connack(closed, { username: 'alice', password: 'secret' })).reasonCode, 0);
    assert.equal((await connack(closed, { username: 'alice', password: 'other' })).reasonCode, 5);
    assert.equal((await connack(mounted, { username: 'alice', password: 'other' })).reasonCode, 0);
    assert.equal((await connack(mounted, { username: 'alice', password: 'secret' })).reasonCode, 5);
    // The open listener has no password file: the name is not checked there.
    assert.equal((await connack(open, { username: 'alice', password: 'any' })).reasonCode, 0);
  });

  test('empty client ids: refused where allowZeroLengthClientId is false, assigned with the listener’s prefix elsewhere', async () => {
    const refused = await connack(closed, { clientId: '', username: 'alice', password: 'secret' });
    assert.equal(refused.reasonCode, 2);
    const kiosk = await connack(prefixed, { clientId: '' }, 5);
    assert.equal(kiosk.reasonCode, 0);
    assert.match(kiosk.properties?.assignedClientIdentifier ?? '', /^kiosk-/);
    const plain = await connack(open, { clientId: '' }, 5);
    assert.match(plain.properties?.assignedClientIdentifier ?? '', /^auto-/);
  });

  test('the ACL judges publishes and subscriptions of its listener’s clients only', async () => {
    const alice = await connectRaw(
      closed,
      { username: 'alice', password: Buffer.from('secret') },
      5,
    );
    const anon = await connectRaw(open, {}, 5);
    try {
      assert.equal(await publish(alice, 'alice/own'), 0x10);
      assert.equal(await publish(alice, 'news/a'), 0x87);
      assert.equal(await publish(anon, 'news/a'), 0x10);
      assert.equal(await subscribe(alice, 'sports/#'), 0x87);
      assert.equal(await subscribe(anon, 'sports/#'), 1);
    } finally {
      alice.destroy();
      anon.destroy();
    }
  });

  test('deliveries to a subscriber are read-checked by its own listener’s ACL, whoever published (mount points included)', async () => {
    const alice = await connectRaw(
      closed,
      { username: 'alice', password: Buffer.from('secret') },
      5,
    );
    const mountedAlice = await connectRaw(
      mounted,
      { username: 'alice', password: Buffer.from('other') },
      5,
    );
    const anon = await connectRaw(open, {}, 5);
    try {
      assert.equal(await subscribe(alice, 'news/#'), 1);
      assert.equal(await subscribe(anon, 'news/#'), 1);
      // Behind mount point site/ the listener's ACL judges site/news/# and site/alice/#.
      assert.equal(await subscribe(mountedAlice, 'news/#'), 1);
      assert.equal(await subscribe(mountedAlice, 'alice/#'), 0x87);
      const publisher = await connectRaw(open, {}, 5);
      for (const [i, t] of ['news/a', 'news/secret', 'site/news/b'].entries())
        await publish(publisher, t, i + 1);
      publisher.destroy();
      await delay(200);
      assert.deepEqual(topics(alice), ['news/a']);
      assert.deepEqual(topics(anon), ['news/a', 'news/secret']);
      assert.deepEqual(topics(mountedAlice), ['news/b']);
    } finally {
      alice.destroy();
      mountedAlice.destroy();
      anon.destroy();
    }
  });

  test('reloadSecurity re-reads a listener’s files; a broken one keeps its previous rules in effect', async () => {
    await writeFile(pwPath, `alice:${hashPassword('renewed')}\n`);
    await writeFile(aclPath, `${ACL}topic read sports/#\n`);
    await broker.reloadSecurity();
    assert.equal((await connack(closed, { username: 'alice', password: 'renewed' })).reasonCode, 0);
    assert.equal((await connack(closed, { username: 'alice', password: 'secret' })).reasonCode, 5);
    // The in-memory password file of the mounted listener is unchanged.
    assert.equal((await connack(mounted, { username: 'alice', password: 'other' })).reasonCode, 0);
    const alice = await connectRaw(
      closed,
      { username: 'alice', password: Buffer.from('renewed') },
      5,
    );
    try {
      assert.equal(await subscribe(alice, 'sports/#'), 1);
      await writeFile(aclPath, 'topic bogus-access sports/#\n');
      await assert.rejects(broker.reloadSecurity());
      assert.equal(await subscribe(alice, 'sports/tennis'), 1);
      assert.equal(
        (await connack(closed, { username: 'alice', password: 'renewed' })).reasonCode,
        0,
      );
    } finally {
      alice.destroy();
    }
  });
});
