// Plain TCP connections are read into one buffer shared by every socket
// (transport/direct-read.ts): whatever the broker keeps from a packet must be
// its own copy, or the next read on any connection would overwrite it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { PacketType } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet, PublishPacket } from '../../src/protocol/packets.js';
import { directReads } from '../../src/transport/direct-read.js';
import { suiteBroker } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/certs.js';
import { connectRaw, type RawClient } from '../helpers/raw-client.js';

const payload = (tag: string): Buffer => Buffer.from(`${tag}:${'k'.repeat(40)}`);

async function subscribe(c: RawClient, topic: string, qos: 0 | 1): Promise<void> {
  c.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topic, qos }] } as Packet);
  await c.nextOfType(PacketType.SUBACK);
}

/** Many reads of other bytes on another connection: the shared buffer is overwritten. */
async function overwriteReads(port: number): Promise<void> {
  const noise = await connectRaw(port, { clientId: 'noise' });
  for (let i = 0; i < 200; i++) {
    noise.send({
      type: PacketType.PUBLISH,
      topic: 'noise/t',
      payload: Buffer.alloc(60 + (i % 7), 0x7a),
      qos: 1,
      retain: false,
      dup: false,
      packetId: i + 1,
    });
    // One packet per read: wait for each acknowledgement before the next.
    await noise.nextOfType(PacketType.PUBACK);
  }
  noise.destroy();
}

describe('direct reads into a shared buffer', () => {
  const tb = suiteBroker();

  test('retained messages, queued messages and wills keep their payloads after later reads', async () => {
    // A persistent session that will be offline: its QoS 1 message waits in its queue.
    const away = await connectRaw(tb.port, { clientId: 'dr-away', clean: false });
    await subscribe(away, 'dr/queued', 1);
    away.send({ type: PacketType.DISCONNECT } as Packet);
    await away.waitClosed();

    const pub = await connectRaw(tb.port, { clientId: 'dr-pub' });
    pub.send({
      type: PacketType.PUBLISH,
      topic: 'dr/retained',
      payload: payload('retained'),
      qos: 1,
      retain: true,
      dup: false,
      packetId: 1,
    });
    await pub.nextOfType(PacketType.PUBACK);
    pub.send({
      type: PacketType.PUBLISH,
      topic: 'dr/queued',
      payload: payload('queued'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 2,
    });
    await pub.nextOfType(PacketType.PUBACK);
    // Many retained messages in one write: a large read, copied whole rather than per payload.
    const bulk: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      bulk.push(
        encode(
          {
            type: PacketType.PUBLISH,
            topic: `dr/bulk/${i}`,
            payload: payload(`bulk-${i}`),
            qos: 0,
            retain: true,
            dup: false,
            packetId: 0,
          },
          4,
        ),
      );
    }
    pub.sendRaw(Buffer.concat(bulk));
    pub.send({ type: PacketType.PINGREQ } as Packet);
    await pub.nextOfType(PacketType.PINGRESP);
    const willing = await connectRaw(tb.port, {
      clientId: 'dr-will',
      will: { topic: 'dr/will', payload: payload('will'), qos: 1, retain: false },
    });
    const willWatcher = await connectRaw(tb.port, { clientId: 'dr-will-watch' });
    await subscribe(willWatcher, 'dr/will', 1);

    await overwriteReads(tb.port);

    willing.destroy(); // no DISCONNECT: the will goes out
    const will = await willWatcher.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(will.payload.toString(), payload('will').toString());

    const late = await connectRaw(tb.port, { clientId: 'dr-late' });
    await subscribe(late, 'dr/retained', 0);
    const retained = await late.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(retained.payload.toString(), payload('retained').toString());

    await subscribe(late, 'dr/bulk/#', 0);
    const seen = new Map<string, string>();
    while (seen.size < 40) {
      const p = await late.nextOfType<PublishPacket>(PacketType.PUBLISH);
      seen.set(p.topic, p.payload.toString());
    }
    for (let i = 0; i < 40; i++)
      assert.equal(seen.get(`dr/bulk/${i}`), payload(`bulk-${i}`).toString());

    const back = await connectRaw(tb.port, { clientId: 'dr-away', clean: false });
    const queued = await back.nextOfType<PublishPacket>(PacketType.PUBLISH);
    assert.equal(queued.payload.toString(), payload('queued').toString());
    for (const c of [pub, willWatcher, late, back]) c.destroy();
  });

  test('an accepted plain TCP socket is switched, a TLS socket is not', async () => {
    const seen: string[] = [];
    const plain = net.createServer((s) => {
      const switched = directReads(s, function (this: net.Socket, n, buf) {
        seen.push(buf.subarray(0, n).toString());
        this.end();
        return true;
      });
      seen.push(`switched ${switched}`);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const port = (plain.address() as net.AddressInfo).port;
    const c = net.connect({ port, host: '127.0.0.1' }, () => c.write('hello'));
    await new Promise((r) => c.on('close', r).resume());
    plain.close();
    assert.deepEqual(seen, ['switched true', 'hello']);

    const certs = await makeTestCerts();
    const secure = tls.createServer({ cert: certs.serverCert, key: certs.serverKey }, (s) => {
      assert.equal(
        directReads(s, () => true),
        false,
      );
      s.end();
    });
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    const tport = (secure.address() as net.AddressInfo).port;
    const t = tls.connect({ port: tport, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise((r) => t.on('close', r).on('error', r).resume());
    secure.close();
    await certs.cleanup();
  });
});
