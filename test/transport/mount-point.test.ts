// Listener mount points: clients on a mounted listener live under its prefix
// (publish, subscribe, retained, wills) and never see it in topics they receive.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import { type Broker, createBroker } from '../../src/broker/broker.js';
import { PacketType } from '../../src/protocol/constants.js';
import type { Packet, PubackPacket, PublishPacket } from '../../src/protocol/packets.js';
import { connectRaw, delay, type RawClient } from '../helpers/raw-client.js';

function pub(topic: string, payload: string, retain = false): Packet {
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.from(payload),
    qos: 0,
    retain,
    dup: false,
    packetId: 0,
  };
}

async function subscribe(c: RawClient, filter: string): Promise<void> {
  c.send({
    type: PacketType.SUBSCRIBE,
    packetId: 1,
    subscriptions: [
      { topic: filter, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ],
  });
  await c.nextOfType(PacketType.SUBACK);
}

function got(c: RawClient): string[] {
  return c.received
    .filter((p): p is PublishPacket => p.type === PacketType.PUBLISH)
    .map((p) => `${p.topic}=${p.payload}`)
    .sort();
}

describe('mount points', () => {
  let broker: Broker;
  let plain: number;
  let mounted: number;
  let other: number;
  before(async () => {
    broker = createBroker({
      sysInterval: 0,
      listeners: [
        { port: 0, host: '127.0.0.1' },
        { port: 0, host: '127.0.0.1', mountPoint: 'tenant-a/' },
        { port: 0, host: '127.0.0.1', mountPoint: 'tenant-b/' },
      ],
    });
    const addrs = await broker.listen();
    [plain, mounted, other] = addrs.map((a) => a.port) as [number, number, number];
  });
  after(() => broker.close());

  test('inbound PUBLISH is prefixed; subscribers on the listener see the topic without it', async () => {
    const root = await connectRaw(plain, { clientId: 'mp-root' });
    await subscribe(root, '#');
    const a1 = await connectRaw(mounted, { clientId: 'mp-a1' });
    await subscribe(a1, '#');
    const b1 = await connectRaw(other, { clientId: 'mp-b1' });
    await subscribe(b1, '#');
    const a2 = await connectRaw(mounted, { clientId: 'mp-a2' });
    a2.send(pub('sensors/t', '21'));
    await delay(80);
    assert.deepEqual(got(root), ['tenant-a/sensors/t=21']);
    assert.deepEqual(got(a1), ['sensors/t=21']);
    assert.deepEqual(got(b1), []);
    // Messages from outside reach the mounted client only under its prefix.
    root.send(pub('tenant-a/cmd', 'go'));
    root.send(pub('cmd', 'not-for-tenants'));
    await delay(80);
    assert.deepEqual(got(a1), ['cmd=go', 'sensors/t=21']);
    for (const c of [root, a1, b1, a2]) c.destroy();
  });

  test('retained messages and unsubscribe work under the prefix', async () => {
    const a = await connectRaw(mounted, { clientId: 'mp-ret' });
    a.send(pub('state', 'on', true));
    await delay(30);
    assert.equal(broker.retained.get('tenant-a/state')?.payload.toString(), 'on');
    const a2 = await connectRaw(mounted, { clientId: 'mp-ret2' });
    await subscribe(a2, 'state');
    const p = await a2.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(p.topic, 'state');
    assert.equal(p.retain, true);
    a2.send({ type: PacketType.UNSUBSCRIBE, packetId: 2, topics: ['state'] });
    await a2.nextOfType(PacketType.UNSUBACK);
    assert.equal(a2.received.length, 0);
    a.send(pub('state', 'off', true));
    await delay(50);
    assert.deepEqual(got(a2), []);
    for (const c of [a, a2]) c.destroy();
  });

  test('a will is published under the prefix', async () => {
    const root = await connectRaw(plain, { clientId: 'mp-will-root' });
    await subscribe(root, '+/status');
    const a1 = await connectRaw(mounted, { clientId: 'mp-will-a1' });
    await subscribe(a1, 'status');
    const dying = await connectRaw(mounted, {
      clientId: 'mp-dying',
      will: { topic: 'status', payload: Buffer.from('offline'), qos: 0, retain: false },
    });
    dying.destroy();
    const r = await root.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(r.topic, 'tenant-a/status');
    const w = await a1.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(w.topic, 'status');
    root.destroy();
    a1.destroy();
  });
});

test('the ACL judges mounted topics (as Mosquitto does)', async () => {
  const broker = createBroker({
    sysInterval: 0,
    aclFile: AclFile.parse('pattern readwrite t/%c/#\n', 'acl'),
    listeners: [{ port: 0, host: '127.0.0.1', mountPoint: 't/' }],
  });
  const [a] = await broker.listen();
  try {
    const c = await connectRaw(a!.port, { clientId: 'me' }, 5);
    c.send({ ...pub('me/x', '1'), qos: 1, packetId: 1 } as Packet);
    const ok = await c.nextOfType<PubackPacket>(PacketType.PUBACK);
    assert.equal(ok.reasonCode, 0x10);
    c.send({ ...pub('you/x', '1'), qos: 1, packetId: 2 } as Packet);
    const no = await c.nextOfType<PubackPacket>(PacketType.PUBACK);
    assert.equal(no.reasonCode, 0x87);
    c.destroy();
  } finally {
    await broker.close();
  }
});
