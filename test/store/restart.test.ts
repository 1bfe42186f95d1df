import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PacketType, type ProtocolVersion, type QoS } from '../../src/protocol/constants.js';
import type {
  Packet,
  PubcompPacket,
  PublishPacket,
  PubrelPacket,
} from '../../src/protocol/packets.js';
import type { Properties } from '../../src/protocol/properties.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import { StoreError } from '../../src/store/store.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectRaw, delay, RawClient } from '../helpers/raw-client.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'heron-restart-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A broker persisting to `dir` with the default `commit` sync mode. */
function brokerOn(dir: string): Promise<TestBroker> {
  return startBroker({ persistence: { backend: 'lmdb', location: dir } });
}

function isPublish(p: Packet): p is PublishPacket {
  return p.type === PacketType.PUBLISH;
}

async function subscribe(c: RawClient, topic: string, qos: QoS): Promise<void> {
  c.send({
    type: PacketType.SUBSCRIBE,
    packetId: 1,
    subscriptions: [{ topic, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
  });
  await c.nextOfType(PacketType.SUBACK);
}

let nextPid = 100;
/** Publishes and waits for PUBACK (QoS 1) or PUBREC+PUBCOMP (QoS 2). */
async function publish(
  c: RawClient,
  topic: string,
  payload: string,
  qos: QoS,
  extra: { retain?: boolean; properties?: Properties } = {},
): Promise<void> {
  const packetId = qos === 0 ? 0 : nextPid++;
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: extra.retain ?? false,
    dup: false,
    packetId,
    properties: extra.properties,
  });
  if (qos === 1) await c.nextOfType(PacketType.PUBACK);
  if (qos === 2) {
    await c.nextOfType(PacketType.PUBREC);
    c.send({ type: PacketType.PUBREL, packetId, reasonCode: 0 });
    await c.nextOfType(PacketType.PUBCOMP);
  }
}

function disconnect(c: RawClient): void {
  c.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
  c.destroy();
}

function persistentConnect(
  port: number,
  clientId: string,
  version: ProtocolVersion = 4,
  properties?: Properties,
): Promise<RawClient> {
  return connectRaw(
    port,
    { clientId, clean: false, properties: version === 5 ? (properties ?? {}) : undefined },
    version,
  );
}

describe('restart with the LMDB store', () => {
  test('sessions and subscriptions come back: session present = 1, messages routed', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const c1 = await persistentConnect(a.port, 'sub-1');
    await subscribe(c1, 'a/#', 1);
    disconnect(c1);
    await a.close();

    const b = await brokerOn(dir);
    const again = await RawClient.connect(b.port);
    const ack = await again.handshake({ clientId: 'sub-1', clean: false });
    assert.equal(ack.sessionPresent, true);
    const pub = await connectRaw(b.port);
    await publish(pub, 'a/b', 'hello', 1);
    const got = await again.next(isPublish);
    assert.equal((got as PublishPacket).payload.toString(), 'hello');
    pub.destroy();
    again.destroy();
    await b.close();
  });

  test('queued messages come back in order, and acknowledged ones leave the disk', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const c1 = await persistentConnect(a.port, 'sub-q');
    await subscribe(c1, 'q/#', 1);
    disconnect(c1);
    const pub = await connectRaw(a.port);
    for (let i = 1; i <= 5; i++) await publish(pub, 'q/x', `m${i}`, 1);
    pub.destroy();
    const idBefore = a.broker.nextMessageId;
    await a.close();

    const b = await brokerOn(dir);
    assert.ok(b.broker.nextMessageId > idBefore, 'message ids never repeat after a restart');
    const c2 = await persistentConnect(b.port, 'sub-q');
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = (await c2.next(isPublish)) as PublishPacket;
      got.push(p.payload.toString());
      c2.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
    }
    assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4', 'm5']);
    await delay(50);
    disconnect(c2);
    await b.close();

    const store = new LmdbStore(dir);
    const state = await store.open();
    await store.close();
    assert.equal(state.messages.size, 0, 'no message left once acknowledged');
    assert.equal(state.deliveries.length, 0);
    assert.equal(state.sessions.length, 1);
  });

  test('in-flight messages are re-sent with DUP=1 and their packet ids; PUBREC state resumes with PUBREL', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const c1 = await persistentConnect(a.port, 'sub-if');
    await subscribe(c1, 'i/#', 2);
    const pub = await connectRaw(a.port);
    await publish(pub, 'i/1', 'one', 1);
    await publish(pub, 'i/2', 'two', 2);
    const p1 = (await c1.next(isPublish)) as PublishPacket;
    const p2 = (await c1.next(isPublish)) as PublishPacket;
    assert.equal(p1.payload.toString(), 'one');
    assert.equal(p2.payload.toString(), 'two');
    c1.send({ type: PacketType.PUBREC, packetId: p2.packetId, reasonCode: 0 });
    await c1.nextOfType(PacketType.PUBREL);
    c1.destroy();
    pub.destroy();
    await delay(50);
    await a.close();

    const b = await brokerOn(dir);
    const c2 = await persistentConnect(b.port, 'sub-if');
    const again = (await c2.next(isPublish)) as PublishPacket;
    assert.equal(again.payload.toString(), 'one');
    assert.equal(again.dup, true);
    assert.equal(again.packetId, p1.packetId);
    const rel = await c2.nextOfType<PubrelPacket>(PacketType.PUBREL);
    assert.equal(rel.packetId, p2.packetId);
    const rest = await c2.quiet(200);
    assert.equal(rest.filter(isPublish).length, 0, 'the PUBREC-ed message is not re-sent');
    c2.destroy();
    await b.close();
  });

  test('an incoming QoS 2 message awaiting PUBREL is not delivered twice after a restart', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const s1 = await persistentConnect(a.port, 'sub-2');
    await subscribe(s1, 'x/#', 2);
    disconnect(s1);
    const p = await persistentConnect(a.port, 'pub-2');
    p.send({
      type: PacketType.PUBLISH,
      topic: 'x/1',
      payload: Buffer.from('once'),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 7,
    });
    await p.nextOfType(PacketType.PUBREC);
    p.destroy();
    await delay(50);
    await a.close();

    const b = await brokerOn(dir);
    const p2 = await reconnect(b.port, 'pub-2');
    assert.equal(p2.present, true);
    p2.c.send({
      type: PacketType.PUBLISH,
      topic: 'x/1',
      payload: Buffer.from('once'),
      qos: 2,
      retain: false,
      dup: true,
      packetId: 7,
    });
    await p2.c.nextOfType(PacketType.PUBREC);
    p2.c.send({ type: PacketType.PUBREL, packetId: 7, reasonCode: 0 });
    const comp = await p2.c.nextOfType<PubcompPacket>(PacketType.PUBCOMP);
    assert.equal(comp.packetId, 7);
    const s2 = await persistentConnect(b.port, 'sub-2');
    const got = (await s2.next(isPublish)) as PublishPacket;
    assert.equal(got.payload.toString(), 'once');
    const more = await s2.quiet(300);
    assert.equal(more.filter(isPublish).length, 0, 'delivered exactly once');
    p2.c.destroy();
    s2.destroy();
    await b.close();
  });

  test('retained messages survive; one that expired during the downtime does not', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const pub = await connectRaw(a.port, { clientId: 'rp' }, 5);
    await publish(pub, 'r/keep', 'kept', 1, {
      retain: true,
      properties: { messageExpiryInterval: 60 },
    });
    await publish(pub, 'r/short', 'gone', 1, {
      retain: true,
      properties: { messageExpiryInterval: 1 },
    });
    pub.destroy();
    await a.close();
    await delay(1100);

    const b = await brokerOn(dir);
    const s = await connectRaw(b.port, { clientId: 'rs' }, 5);
    await subscribe(s, 'r/#', 1);
    const got = (await s.next(isPublish)) as PublishPacket;
    assert.equal(got.topic, 'r/keep');
    assert.equal(got.retain, true);
    assert.ok((got.properties?.messageExpiryInterval ?? 0) <= 60);
    const more = await s.quiet(200);
    assert.equal(more.filter(isPublish).length, 0);
    s.destroy();
    await b.close();
  });

  test('a delayed will still fires after a restart, at its original time', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const watcher = await persistentConnect(a.port, 'watcher');
    await subscribe(watcher, 'will/#', 1);
    disconnect(watcher);
    const w = await connectRaw(
      a.port,
      {
        clientId: 'dying',
        clean: true,
        properties: { sessionExpiryInterval: 60 },
        will: {
          topic: 'will/dying',
          payload: Buffer.from('gone'),
          qos: 1,
          retain: false,
          properties: { willDelayInterval: 2 },
        },
      },
      5,
    );
    const t0 = Date.now();
    w.destroy();
    await delay(100);
    await a.close();

    const b = await brokerOn(dir);
    const watcher2 = await persistentConnect(b.port, 'watcher');
    const got = (await watcher2.next(isPublish, 5000)) as PublishPacket;
    const at = Date.now() - t0;
    assert.equal(got.payload.toString(), 'gone');
    assert.ok(at >= 1800, `will published after ${at} ms, before its delay`);
    assert.ok(at < 4500, `will published after ${at} ms`);
    watcher2.destroy();
    await b.close();
  });

  test('session expiry and message expiry keep counting while the broker is down', async () => {
    const dir = tempDir();
    const a = await brokerOn(dir);
    const short = await persistentConnect(a.port, 'short', 5, { sessionExpiryInterval: 2 });
    await subscribe(short, 'e/#', 1);
    disconnect(short);
    const long = await persistentConnect(a.port, 'long', 5, { sessionExpiryInterval: 60 });
    await subscribe(long, 'e/#', 1);
    disconnect(long);
    const pub = await connectRaw(a.port, { clientId: 'ep' }, 5);
    await publish(pub, 'e/1', 'expires', 1, { properties: { messageExpiryInterval: 2 } });
    await publish(pub, 'e/2', 'lasts', 1, { properties: { messageExpiryInterval: 60 } });
    pub.destroy();
    await a.close();
    await delay(2200);

    const b = await brokerOn(dir);
    const s1 = await reconnect(b.port, 'short', 5, { sessionExpiryInterval: 2 });
    assert.equal(s1.present, false, 'the 2 s session expired during the downtime');
    const s2 = await reconnect(b.port, 'long', 5, { sessionExpiryInterval: 60 });
    assert.equal(s2.present, true);
    const got = (await s2.c.next(isPublish)) as PublishPacket;
    assert.equal(got.payload.toString(), 'lasts');
    assert.ok((got.properties?.messageExpiryInterval ?? 99) <= 58);
    const more = await s2.c.quiet(200);
    assert.equal(more.filter(isPublish).length, 0, 'the expired message is not delivered');
    s1.c.destroy();
    s2.c.destroy();
    await b.close();
  });

  test('an unusable location fails listen() with a StoreError', async () => {
    const dir = tempDir();
    const file = join(dir, 'file');
    writeFileSync(file, 'not a directory');
    await assert.rejects(
      startBroker({ persistence: { backend: 'lmdb', location: join(file, 'store') } }),
      (err: unknown) => err instanceof StoreError && err.code === 'unwritable',
    );
  });
});

/** Connects with clean session 0 / clean start 0 and returns the CONNACK's session present. */
async function reconnect(
  port: number,
  clientId: string,
  version: ProtocolVersion = 4,
  properties?: Properties,
): Promise<{ c: RawClient; present: boolean }> {
  const c = await RawClient.connect(port, version);
  const ack = await c.handshake({
    clientId,
    clean: false,
    properties: version === 5 ? (properties ?? {}) : undefined,
  });
  assert.equal(ack.reasonCode, 0);
  return { c, present: ack.sessionPresent };
}
