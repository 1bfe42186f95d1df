// The ACL file enforced by the broker over real sockets: users × topics ×
// read/write (the fixture's verdicts were checked against a real mosquitto in
// acl-mosquitto.test.ts), retained messages, wills, strict subscribe mode,
// reloadSecurity and the fixed $-topic rules.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import { PacketType } from '../../src/protocol/constants.js';
import type {
  Packet,
  PubackPacket,
  PublishPacket,
  SubackPacket,
} from '../../src/protocol/packets.js';
import { startBroker, suiteBroker } from '../helpers/broker.js';
import { connectRaw, delay, RawClient } from '../helpers/raw-client.js';
import { ACL_TEXT, type MatrixSubject, SUBJECTS, TOPICS } from './acl-fixture.js';
import { scratchDir } from './mosquitto-helpers.js';

function sub(topic: string, qos: 0 | 1 = 0) {
  return { topic, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 as const };
}

function pub(topic: string, payload: string, qos: 0 | 1, packetId = 0, retain = false): Packet {
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos,
    retain,
    dup: false,
    packetId,
  };
}

async function subscribeAll(c: RawClient, filter: string, qos: 0 | 1 = 0): Promise<number[]> {
  c.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [sub(filter, qos)] });
  return (await c.nextOfType<SubackPacket>(PacketType.SUBACK)).reasonCodes;
}

function topicsReceived(c: RawClient): string[] {
  return c.received
    .filter((p): p is PublishPacket => p.type === PacketType.PUBLISH)
    .map((p) => p.topic)
    .sort();
}

function label(s: MatrixSubject): string {
  return `${s.username ?? '(anonymous)'}/${s.clientId}`;
}

describe('ACL matrix through the broker', () => {
  const acl = AclFile.parse(ACL_TEXT, 'acl');
  const tb = suiteBroker({ aclFile: acl, allowAnonymous: true });

  test('spot checks against hand-written expectations (patterns %c and %u included)', () => {
    const alice = { username: 'alice', clientId: 'alice-1' };
    assert.equal(acl.check(alice, 'home/alice/a', 'read'), true);
    assert.equal(acl.check(alice, 'home/alice/private', 'read'), false);
    assert.equal(acl.check(alice, 'users/alice/x', 'write'), true); // pattern %u
    assert.equal(acl.check(alice, 'clients/alice-1/x', 'read'), true); // pattern %c
    assert.equal(acl.check(alice, 'clients/bob-1', 'read'), false);
    assert.equal(acl.check({ clientId: 'anon1' }, 'public/news', 'write'), false);
  });

  test('read: each client receives exactly the topics it may read, on a "#" subscription', async () => {
    const clients = await Promise.all(
      SUBJECTS.map((s) => connectRaw(tb.port, { clientId: s.clientId, username: s.username })),
    );
    try {
      for (const c of clients) assert.deepEqual(await subscribeAll(c, '#'), [0]);
      for (const t of TOPICS)
        tb.broker.publish({ topic: t, payload: Buffer.from(t), qos: 0, retain: false });
      await delay(150);
      SUBJECTS.forEach((s, i) => {
        const expected = TOPICS.filter((t) => acl.check(s, t, 'read')).sort();
        assert.deepEqual(topicsReceived(clients[i]!), expected, label(s));
      });
      // The matrix is not trivial: someone reads something, nobody reads everything.
      assert.ok(clients.some((c) => topicsReceived(c).length > 0));
      assert.ok(clients.every((c) => topicsReceived(c).length < TOPICS.length));
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  test('write (v5): PUBACK 0x87 exactly where the ACL denies; denied messages reach nobody', async () => {
    const observer = await connectRaw(tb.port, { clientId: 'observer', username: 'admin' });
    await subscribeAll(observer, '#');
    try {
      for (const s of SUBJECTS) {
        const c = await connectRaw(tb.port, { clientId: s.clientId, username: s.username }, 5);
        let id = 1;
        for (const t of TOPICS) {
          c.send(pub(t, `${s.clientId}`, 1, id));
          const ack = await c.next<PubackPacket>(
            (p) => p.type === PacketType.PUBACK && p.packetId === id,
          );
          id++;
          const allowed = acl.check(s, t, 'write');
          assert.equal(
            ack.reasonCode === 0x87,
            !allowed,
            `${label(s)} → ${t}: 0x${ack.reasonCode.toString(16)}`,
          );
        }
        c.destroy();
      }
      await delay(100);
      const seen = observer.received
        .filter((p): p is PublishPacket => p.type === PacketType.PUBLISH)
        .map((p) => `${p.payload}→${p.topic}`)
        .sort();
      const expected = SUBJECTS.flatMap((s) =>
        TOPICS.filter((t) => acl.check(s, t, 'write')).map((t) => `${s.clientId}→${t}`),
      ).sort();
      assert.deepEqual(seen, expected);
    } finally {
      observer.destroy();
    }
  });

  test('write (v3.1.1): a denied QoS 1 PUBLISH is acknowledged and dropped', async () => {
    const observer = await connectRaw(tb.port, { clientId: 'observer3', username: 'admin' });
    await subscribeAll(observer, '#');
    const alice = await connectRaw(tb.port, { clientId: 'alice-3', username: 'alice' });
    alice.send(pub('home/bob/x', 'sneaky', 1, 9));
    const ack = await alice.nextOfType<PubackPacket>(PacketType.PUBACK);
    assert.equal(ack.packetId, 9);
    alice.send(pub('home/alice/ok', 'fine', 1, 10));
    await alice.nextOfType(PacketType.PUBACK);
    await delay(50);
    assert.deepEqual(topicsReceived(observer), ['home/alice/ok']);
    assert.equal(alice.closed, false);
    alice.destroy();
    observer.destroy();
  });

  test('retained messages are delivered on subscribe only where readable', async () => {
    const admin = await connectRaw(tb.port, { clientId: 'retainer', username: 'admin' });
    for (const [i, t] of [
      'home/alice/a',
      'home/alice/private',
      'home/bob/x',
      'public/news',
    ].entries()) {
      admin.send(pub(t, 'kept', 1, i + 1, true));
      await admin.nextOfType(PacketType.PUBACK);
    }
    const alice = await connectRaw(tb.port, { clientId: 'alice-r', username: 'alice' });
    await subscribeAll(alice, '#');
    const anon = await connectRaw(tb.port, { clientId: 'anon-r' });
    await subscribeAll(anon, '#');
    await delay(100);
    assert.deepEqual(topicsReceived(alice), ['home/alice/a']);
    assert.deepEqual(topicsReceived(anon), ['public/news']);
    for (const c of [admin, alice, anon]) c.destroy();
  });

  test('a will is delivered only to readers allowed to read its topic', async () => {
    const alice = await connectRaw(tb.port, { clientId: 'alice-w', username: 'alice' });
    await subscribeAll(alice, 'home/alice/w');
    const bob = await connectRaw(tb.port, { clientId: 'bob-w', username: 'bob' });
    await subscribeAll(bob, 'home/alice/w');
    const admin = await connectRaw(tb.port, {
      clientId: 'dying',
      username: 'admin',
      will: { topic: 'home/alice/w', payload: Buffer.from('gone'), qos: 0, retain: false },
    });
    admin.destroy();
    const will = await alice.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(will.payload.toString(), 'gone');
    await delay(100);
    assert.deepEqual(topicsReceived(bob), []);
    alice.destroy();
    bob.destroy();
  });

  test('a will on a topic the client may not write refuses the CONNECT (v3 5, v5 0x87)', async () => {
    for (const version of [4, 5] as const) {
      const c = await RawClient.connect(tb.port, version);
      const ack = await c.handshake({
        clientId: `carol-will-${version}`,
        username: 'carol',
        will: { topic: 'home/alice/a', payload: Buffer.from('x'), qos: 0, retain: false },
      });
      assert.equal(ack.reasonCode, version === 5 ? 0x87 : 5);
      c.destroy();
    }
    const ok = await connectRaw(tb.port, {
      clientId: 'carol-will-ok',
      username: 'carol',
      will: { topic: 'carol/only', payload: Buffer.from('x'), qos: 0, retain: false },
    });
    ok.destroy();
  });
});

describe('ACL subscribe modes, reload and $ topics', () => {
  test('strict subscribe mode refuses filters outside the readable topics (v3 0x80, v5 0x87)', async () => {
    const tb = await startBroker({
      aclFile: AclFile.parse(ACL_TEXT, 'acl', { subscribe: 'strict' }),
    });
    try {
      const v3 = await connectRaw(tb.port, { clientId: 'alice-s3', username: 'alice' });
      assert.deepEqual(await subscribeAll(v3, 'home/#'), [0x80]);
      assert.deepEqual(await subscribeAll(v3, 'home/alice/+/x', 1), [1]);
      const v5 = await connectRaw(tb.port, { clientId: 'alice-s5', username: 'alice' }, 5);
      assert.deepEqual(await subscribeAll(v5, '#'), [0x87]);
      assert.equal(tb.broker.stats.authzDenied, 2);
      v3.destroy();
      v5.destroy();
    } finally {
      await tb.close();
    }
  });

  test('reloadSecurity applies a changed ACL file to clients already connected', async () => {
    const { dir, cleanup } = await scratchDir();
    const file = join(dir, 'acl');
    await writeFile(file, 'user u\ntopic readwrite a/#\n');
    const tb = await startBroker({ aclFile: file });
    try {
      const u = await connectRaw(tb.port, { clientId: 'u1', username: 'u' });
      await subscribeAll(u, '#');
      tb.broker.publish({ topic: 'a/1', payload: Buffer.from('1'), qos: 0, retain: false });
      tb.broker.publish({ topic: 'b/1', payload: Buffer.from('1'), qos: 0, retain: false });
      await delay(50);
      assert.deepEqual(topicsReceived(u), ['a/1']);
      await writeFile(file, 'user u\ntopic readwrite b/#\n');
      await tb.broker.reloadSecurity();
      u.received.length = 0;
      tb.broker.publish({ topic: 'a/2', payload: Buffer.from('2'), qos: 0, retain: false });
      tb.broker.publish({ topic: 'b/2', payload: Buffer.from('2'), qos: 0, retain: false });
      await delay(50);
      assert.deepEqual(topicsReceived(u), ['b/2']);
      assert.equal(u.closed, false);
      u.destroy();
    } finally {
      await tb.close();
      await cleanup();
    }
  });

  test('without any ACL: $SYS cannot be published to, other $ topics can (v5 0x87 / 0x10)', async () => {
    const tb = await startBroker({});
    try {
      const c = await connectRaw(tb.port, { clientId: 'dollar' }, 5);
      c.send(pub('$SYS/broker/fake', 'x', 1, 1));
      assert.equal((await c.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x87);
      c.send(pub('$app/x', 'x', 1, 2));
      assert.equal((await c.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x10);
      c.destroy();
    } finally {
      await tb.close();
    }
  });

  test('hooks_first: an authorizeRead/authorizePublish hook answer wins over the file; undefined defers', async () => {
    const tb = await startBroker({
      aclFile: AclFile.parse('user u\ntopic readwrite a/#\n', 'acl'),
      hooks: {
        authorizePublish: (_c, topic) => (topic === 'hooked' ? true : undefined),
        authorizeRead: (_c, topic) => (topic === 'a/hidden' ? false : undefined),
      },
    });
    try {
      const u = await connectRaw(tb.port, { clientId: 'u2', username: 'u' }, 5);
      await subscribeAll(u, '#');
      u.send(pub('hooked', 'x', 1, 1));
      assert.equal((await u.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x10);
      u.send(pub('b/1', 'x', 1, 2));
      assert.equal((await u.nextOfType<PubackPacket>(PacketType.PUBACK)).reasonCode, 0x87);
      tb.broker.publish({ topic: 'a/hidden', payload: Buffer.from('1'), qos: 0, retain: false });
      tb.broker.publish({ topic: 'a/shown', payload: Buffer.from('1'), qos: 0, retain: false });
      await delay(50);
      assert.deepEqual(topicsReceived(u), ['a/shown']);
      u.destroy();
    } finally {
      await tb.close();
    }
  });
});
