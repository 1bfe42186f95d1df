import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, type ProtocolVersion } from '../../src/protocol/constants.js';
import type { Packet, PublishPacket } from '../../src/protocol/packets.js';
import type { SyncMode } from '../../src/store/store.js';
import { connectRaw, delay, type RawClient } from '../helpers/raw-client.js';
import { type GatedStore, subKey, withGatedBroker } from './support/gated-store.js';

function sendSubscribe(c: RawClient, packetId: number, topic: string): void {
  c.send({
    type: PacketType.SUBSCRIBE,
    packetId,
    subscriptions: [{ topic, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
  });
}

function sendPublish(
  c: RawClient,
  packetId: number,
  topic: string,
  payload: string,
  retain = false,
): void {
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain,
    dup: false,
    packetId,
  });
}

/** Publishes a retained QoS 1 message and waits for its PUBACK (so it is stored). */
async function retain(port: number, topic: string, payload: string): Promise<void> {
  const p = await connectRaw(port);
  sendPublish(p, 1, topic, payload, true);
  await p.nextOfType(PacketType.PUBACK);
  p.destroy();
}

/** Connects a session that outlives its connection (v3 Clean Session 0, v5 Session Expiry 60). */
function persistent(port: number, clientId: string, version: ProtocolVersion): Promise<RawClient> {
  const properties = version === 5 ? { sessionExpiryInterval: 60 } : undefined;
  return connectRaw(port, { clientId, clean: false, properties }, version);
}

/** Waits until a commit is stuck at the gate, so "nothing arrived" means something. */
async function commitWaiting(store: GatedStore): Promise<void> {
  for (let i = 0; i < 100 && store.waiting === 0; i++) await delay(5);
  assert.ok(store.waiting > 0, 'a commit is waiting at the gate');
}

/** Topics of the next `n` PUBLISH packets (each acknowledged). */
async function publishTopics(c: RawClient, n: number): Promise<string[]> {
  const topics: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = (await c.next((x) => x.type === PacketType.PUBLISH)) as PublishPacket;
    topics.push(p.topic);
    if (p.qos > 0) c.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
  }
  return topics;
}

function kinds(ps: Packet[]): number[] {
  return ps.map((p) => p.type);
}

describe('SUBACK / UNSUBACK of a stored session wait for the commit (sync commit)', () => {
  for (const version of [4, 5] as const) {
    test(`v${version}: SUBACK only once the subscription is durable, after earlier PUBACKs, before the retained messages`, () =>
      withGatedBroker('commit', async (b, store) => {
        await retain(b.port, 't/r', 'kept');
        const c = await persistent(b.port, `held-${version}`, version);
        store.hold();
        // A retained PUBLISH has something to commit, so its PUBACK waits too.
        sendPublish(c, 10, 'elsewhere', 'x', true);
        sendSubscribe(c, 11, 't/#');
        await commitWaiting(store);
        const early = await c.quiet(150);
        assert.deepEqual(
          kinds(early),
          [],
          'no PUBACK, SUBACK or retained PUBLISH before the commit',
        );
        store.release();
        const puback = await c.next();
        assert.equal(puback.type, PacketType.PUBACK);
        const suback = await c.next();
        assert.equal(suback.type, PacketType.SUBACK);
        assert.ok(
          store.durable.has(subKey(`held-${version}`, 't/#')),
          'durable when SUBACK arrived',
        );
        const pub = (await c.next()) as PublishPacket;
        assert.equal(pub.type, PacketType.PUBLISH);
        assert.equal(pub.topic, 't/r');
        assert.equal(pub.retain, true);
        c.destroy();
      }));
  }

  test('UNSUBACK only once the removal is durable', () =>
    withGatedBroker('commit', async (b, store) => {
      const c = await persistent(b.port, 'unsub', 4);
      sendSubscribe(c, 1, 'u/#');
      await c.nextOfType(PacketType.SUBACK);
      store.hold();
      c.send({ type: PacketType.UNSUBSCRIBE, packetId: 2, topics: ['u/#'] });
      await commitWaiting(store);
      assert.deepEqual(kinds(await c.quiet(150)), [], 'no UNSUBACK before the commit');
      assert.ok(store.durable.has(subKey('unsub', 'u/#')));
      store.release();
      await c.nextOfType(PacketType.UNSUBACK);
      assert.ok(
        !store.durable.has(subKey('unsub', 'u/#')),
        'removal durable when UNSUBACK arrived',
      );
      c.destroy();
    }));

  test('a failed commit closes the connection without the SUBACK', () =>
    withGatedBroker('commit', async (b, store) => {
      const c = await persistent(b.port, 'fails', 4);
      store.hold();
      store.failNext = true;
      sendSubscribe(c, 1, 'f/#');
      await commitWaiting(store);
      store.release();
      assert.equal(await c.waitClosed(), true);
      assert.deepEqual(kinds(c.received), [], 'no SUBACK for a change that did not reach the disk');
    }));

  test('a connection closed while its SUBACK is held: subscription and retained message wait in the session', () =>
    withGatedBroker('commit', async (b, store) => {
      await retain(b.port, 'g/r', 'kept');
      const c = await persistent(b.port, 'gone', 4);
      store.hold();
      sendSubscribe(c, 1, 'g/#');
      await commitWaiting(store);
      c.destroy();
      await delay(50);
      store.release();
      await delay(50);
      const again = await connectRaw(b.port, { clientId: 'gone', clean: false });
      const pub = await connectRaw(b.port);
      sendPublish(pub, 5, 'g/live', 'now');
      await pub.nextOfType(PacketType.PUBACK);
      const topics = (await publishTopics(again, 2)).sort();
      assert.deepEqual(topics, ['g/live', 'g/r'], 'the retained message was kept for the session');
      assert.ok(store.durable.has(subKey('gone', 'g/#')));
      pub.destroy();
      again.destroy();
    }));

  test('a session taken over while its SUBACK is held: the new connection gets the retained message, not the SUBACK', () =>
    withGatedBroker('commit', async (b, store) => {
      await retain(b.port, 'k/r', 'kept');
      const c1 = await persistent(b.port, 'taken', 4);
      store.hold();
      sendSubscribe(c1, 1, 'k/#');
      await commitWaiting(store);
      const c2 = await connectRaw(b.port, { clientId: 'taken', clean: false });
      assert.equal(await c1.waitClosed(), true);
      store.release();
      const pub = await connectRaw(b.port);
      sendPublish(pub, 5, 'k/live', 'now');
      await pub.nextOfType(PacketType.PUBACK);
      const topics = (await publishTopics(c2, 2)).sort();
      assert.deepEqual(topics, ['k/live', 'k/r'], 'the session got its retained message');
      assert.ok(!c2.received.some((p) => p.type === PacketType.SUBACK), 'no stray SUBACK');
      assert.deepEqual(kinds(c1.received), []);
      pub.destroy();
      c2.destroy();
    }));
});

describe('SUBACK / UNSUBACK that do not wait', () => {
  const cases: Array<[string, SyncMode, ProtocolVersion, boolean]> = [
    ['a clean v3 session (commit mode)', 'commit', 4, true],
    ['a v5 session with Session Expiry 0 (commit mode)', 'commit', 5, true],
    ['a stored session in interval mode', 'interval', 4, false],
  ];
  for (const [name, sync, version, clean] of cases) {
    test(`${name}: SUBACK and UNSUBACK at once, retained messages after the SUBACK`, () =>
      withGatedBroker(sync, async (b, store) => {
        await retain(b.port, 'n/r', 'kept');
        const c = await connectRaw(b.port, { clientId: `now-${sync}-${version}`, clean }, version);
        store.hold();
        sendSubscribe(c, 1, 'n/#');
        const suback = await c.next(undefined, 1000);
        assert.equal(suback.type, PacketType.SUBACK);
        const pub = (await c.next(undefined, 1000)) as PublishPacket;
        assert.equal(pub.topic, 'n/r');
        c.send({ type: PacketType.UNSUBSCRIBE, packetId: 2, topics: ['n/#'] });
        await c.nextOfType(PacketType.UNSUBACK, 1000);
        c.destroy();
      }));
  }
});
