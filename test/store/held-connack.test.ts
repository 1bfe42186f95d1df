import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, type ProtocolVersion } from '../../src/protocol/constants.js';
import type {
  ConnackPacket,
  ConnectPacket,
  Packet,
  PublishPacket,
} from '../../src/protocol/packets.js';
import type { SyncMode } from '../../src/store/store.js';
import type { TestBroker } from '../helpers/broker.js';
import { connectRaw, delay, RawClient } from '../helpers/raw-client.js';
import { type GatedStore, subKey, withGatedBroker } from './support/gated-store.js';

/** Opens a socket and sends CONNECT without waiting for the CONNACK (so packets can be pipelined). */
async function sendConnect(
  port: number,
  fields: Partial<ConnectPacket>,
  version: ProtocolVersion = 4,
): Promise<RawClient> {
  const c = await RawClient.connect(port, version);
  c.send({
    type: PacketType.CONNECT,
    protocolName: 'MQTT',
    protocolVersion: version,
    clean: true,
    keepalive: 60,
    clientId: 'x',
    ...fields,
  } as ConnectPacket);
  return c;
}

/** v3 Clean Session 0 or v5 Session Expiry `expiry`. */
function persistentFields(
  clientId: string,
  version: ProtocolVersion,
  expiry = 60,
): Partial<ConnectPacket> {
  return version === 5
    ? { clientId, clean: false, properties: { sessionExpiryInterval: expiry } }
    : { clientId, clean: false };
}

function subscribe(c: RawClient, packetId: number, topic: string): void {
  c.send({
    type: PacketType.SUBSCRIBE,
    packetId,
    subscriptions: [{ topic, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
  });
}

function publish(c: RawClient, packetId: number, topic: string, payload: string): void {
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    dup: false,
    packetId,
  });
}

/** Leaves a stored session `clientId` offline with a subscription to `q/#` and `n` queued messages. */
async function storedSessionWithQueue(
  b: TestBroker,
  clientId: string,
  version: ProtocolVersion,
  n: number,
): Promise<void> {
  const c = await connectRaw(b.port, persistentFields(clientId, version), version);
  subscribe(c, 1, 'q/#');
  await c.nextOfType(PacketType.SUBACK);
  c.destroy();
  await delay(30);
  const p = await connectRaw(b.port);
  for (let i = 1; i <= n; i++) {
    publish(p, i, `q/${i}`, String(i));
    await p.nextOfType(PacketType.PUBACK);
  }
  p.destroy();
}

/** Waits until a commit is stuck at the gate, so "nothing arrived" means something. */
async function commitWaiting(store: GatedStore): Promise<void> {
  for (let i = 0; i < 100 && store.waiting === 0; i++) await delay(5);
  assert.ok(store.waiting > 0, 'a commit is waiting at the gate');
}

function kinds(ps: Packet[]): number[] {
  return ps.map((p) => p.type);
}

describe('CONNACK of a CONNECT that changed a stored session waits for the commit (sync commit)', () => {
  for (const version of [4, 5] as const) {
    test(`v${version}: a new persistent session: nothing before the commit, then CONNACK first, then the pipelined replies`, () =>
      withGatedBroker('commit', async (b, store) => {
        store.hold();
        const c = await sendConnect(b.port, persistentFields(`new-${version}`, version), version);
        // Pipelined before the CONNACK, as MQTT allows.
        subscribe(c, 1, 'a/#');
        c.send({ type: PacketType.PINGREQ });
        publish(c, 2, 'a/1', 'x');
        await commitWaiting(store);
        assert.deepEqual(kinds(await c.quiet(150)), [], 'nothing before the commit');
        store.release();
        const connack = (await c.next()) as ConnackPacket;
        assert.equal(connack.type, PacketType.CONNACK);
        assert.equal(connack.reasonCode, 0);
        assert.equal(connack.sessionPresent, false);
        const rest: number[] = [];
        for (let i = 0; i < 4; i++) rest.push((await c.next()).type);
        // Replies to the pipelined packets follow the CONNACK; the PUBLISH routed to
        // the client's own new subscription may come before its SUBACK (MQTT allows it).
        assert.deepEqual(
          [...rest].sort(),
          [PacketType.PUBLISH, PacketType.PUBACK, PacketType.SUBACK, PacketType.PINGRESP].sort(),
        );
        assert.ok(
          rest.indexOf(PacketType.SUBACK) < rest.indexOf(PacketType.PUBACK),
          'acks in order',
        );
        c.destroy();
      }));
  }

  for (const version of [4, 5] as const) {
    test(`v${version}: a clean start over a stored session waits until the discard is durable`, () =>
      withGatedBroker('commit', async (b, store) => {
        await storedSessionWithQueue(b, `discard-${version}`, version, 2);
        assert.ok(store.durable.has(subKey(`discard-${version}`, 'q/#')));
        store.hold();
        const c = await sendConnect(
          b.port,
          { clientId: `discard-${version}`, clean: true },
          version,
        );
        subscribe(c, 1, 'z/#');
        await commitWaiting(store);
        assert.deepEqual(kinds(await c.quiet(150)), [], 'no CONNACK before the discard is durable');
        assert.ok(store.durable.has(subKey(`discard-${version}`, 'q/#')), 'still on disk');
        store.release();
        const connack = (await c.next()) as ConnackPacket;
        assert.equal(connack.type, PacketType.CONNACK);
        assert.equal(connack.sessionPresent, false);
        assert.ok(!store.durable.has(subKey(`discard-${version}`, 'q/#')), 'gone from disk');
        assert.equal((await c.next()).type, PacketType.SUBACK);
        assert.deepEqual(kinds(await c.quiet(100)), [], 'none of the old queued messages');
        c.destroy();
      }));
  }

  test('v5: a resumed session whose expiry changed: CONNACK, then its queued messages in order, then the PUBACK of a pipelined PUBLISH', () =>
    withGatedBroker('commit', async (b, store) => {
      await storedSessionWithQueue(b, 'resume5', 5, 3);
      store.hold();
      const c = await sendConnect(b.port, persistentFields('resume5', 5, 120), 5);
      publish(c, 7, 'elsewhere', 'x');
      await commitWaiting(store);
      assert.deepEqual(kinds(await c.quiet(150)), [], 'nothing before the commit');
      store.release();
      const connack = (await c.next()) as ConnackPacket;
      assert.equal(connack.type, PacketType.CONNACK);
      assert.equal(connack.sessionPresent, true);
      const topics: string[] = [];
      let puback = false;
      while (topics.length < 3 || !puback) {
        const p = await c.next();
        if (p.type === PacketType.PUBACK) {
          assert.equal(p.packetId, 7);
          puback = true;
        } else {
          assert.equal(p.type, PacketType.PUBLISH);
          topics.push((p as PublishPacket).topic);
          c.send({
            type: PacketType.PUBACK,
            packetId: (p as PublishPacket).packetId,
            reasonCode: 0,
          });
        }
      }
      assert.deepEqual(topics, ['q/1', 'q/2', 'q/3']);
      c.destroy();
    }));

  test('a failed commit closes the connection without CONNACK', () =>
    withGatedBroker('commit', async (b, store) => {
      store.hold();
      store.failNext = true;
      const c = await sendConnect(b.port, persistentFields('fails', 5), 5);
      await commitWaiting(store);
      store.release();
      assert.equal(await c.waitClosed(), true);
      assert.deepEqual(
        kinds(c.received),
        [],
        'no CONNACK (nor DISCONNECT) for a change not on disk',
      );
    }));

  test('a connection closed while its CONNACK is held: a reconnect waits for the same commit, then finds its session', () =>
    withGatedBroker('commit', async (b, store) => {
      store.hold();
      const c = await sendConnect(b.port, persistentFields('dropped', 4), 4);
      await commitWaiting(store);
      c.destroy();
      await delay(30);
      // Nothing changes but the session's creation is not durable: Session Present 1 must wait.
      const again = await sendConnect(b.port, persistentFields('dropped', 4), 4);
      assert.deepEqual(
        kinds(await again.quiet(150)),
        [],
        'no CONNACK before the creation is durable',
      );
      store.release();
      const ack = (await again.next()) as ConnackPacket;
      assert.equal(ack.type, PacketType.CONNACK);
      assert.equal(ack.sessionPresent, true);
      again.destroy();
    }));

  test('a connection taken over while its CONNACK is held gets nothing; the new one gets its CONNACK after the commit', () =>
    withGatedBroker('commit', async (b, store) => {
      store.hold();
      const c1 = await sendConnect(b.port, persistentFields('taken', 5), 5);
      await commitWaiting(store);
      const c2 = await sendConnect(b.port, persistentFields('taken', 5), 5);
      assert.equal(await c1.waitClosed(), true);
      assert.deepEqual(kinds(c1.received), [], 'no CONNACK or DISCONNECT before a CONNACK');
      assert.deepEqual(kinds(await c2.quiet(100)), [], 'Session Present 1 waits for the creation');
      store.release();
      const ack = (await c2.next()) as ConnackPacket;
      assert.equal(ack.type, PacketType.CONNACK);
      assert.equal(ack.sessionPresent, true);
      c2.destroy();
    }));

  test('a will of a held connection that drops is published', () =>
    withGatedBroker('commit', async (b, store) => {
      const w = await connectRaw(b.port);
      subscribe(w, 1, 'will/#');
      await w.nextOfType(PacketType.SUBACK);
      store.hold();
      const c = await sendConnect(b.port, {
        ...persistentFields('willing', 4),
        will: { topic: 'will/x', payload: Buffer.from('gone'), qos: 0, retain: false },
      });
      await commitWaiting(store);
      c.destroy();
      const pub = (await w.nextOfType(PacketType.PUBLISH)) as PublishPacket;
      assert.equal(pub.topic, 'will/x');
      w.destroy();
    }));
});

describe('CONNACK at once', () => {
  test('a plain reconnect of a stored session (nothing changes on disk but the time)', () =>
    withGatedBroker('commit', async (b, store) => {
      await storedSessionWithQueue(b, 'plain', 4, 1);
      store.hold();
      const c = await RawClient.connect(b.port);
      const ack = await c.handshake(persistentFields('plain', 4));
      assert.equal(ack.sessionPresent, true);
      const p = (await c.nextOfType(PacketType.PUBLISH, 1000)) as PublishPacket;
      assert.equal(p.topic, 'q/1');
      c.destroy();
    }));

  const cases: Array<[string, SyncMode, Partial<ConnectPacket>, ProtocolVersion]> = [
    ['a clean v3 session (commit mode)', 'commit', { clientId: 'clean3', clean: true }, 4],
    ['a v5 session with Session Expiry 0 (commit mode)', 'commit', { clientId: 'clean5' }, 5],
    ['a new persistent session in interval mode', 'interval', persistentFields('iv', 4), 4],
  ];
  for (const [name, sync, fields, version] of cases) {
    test(`${name}: CONNACK while the store is held`, () =>
      withGatedBroker(sync, async (b, store) => {
        store.hold();
        const c = await sendConnect(b.port, fields, version);
        const ack = await c.next(undefined, 1000);
        assert.equal(ack.type, PacketType.CONNACK);
        c.destroy();
      }));
  }
});
