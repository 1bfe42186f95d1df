import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Broker, createBroker } from '../../src/broker/broker.js';
import { connect, type MqttClient } from '../../src/client/client.js';
import { PacketType } from '../../src/protocol/constants.js';
import { Decoder } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type { ConnackPacket, Packet, PublishPacket } from '../../src/protocol/packets.js';
import { type MosquittoProcess, startMosquitto } from './mosquitto-process.js';

function nextMessage(c: MqttClient, ms = 5000): Promise<PublishPacket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), ms);
    c.once('message', (_t, _p, packet) => {
      clearTimeout(timer);
      resolve(packet);
    });
  });
}

function nextConnect(c: MqttClient): Promise<ConnackPacket> {
  return new Promise((resolve) => c.once('connect', resolve));
}

/** A Heron listener the test can drop and reopen on the same port. */
class HeronListener {
  readonly broker: Broker = createBroker({ sysInterval: 0 });
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  port = 0;

  async open(): Promise<void> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.broker.handleConnection(socket, {
        remoteAddress: '127.0.0.1',
        remotePort: socket.remotePort ?? 0,
        listener: 'test',
      });
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Closes the listener and cuts every connection, as a network outage would. */
  async drop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s?.close(() => r()));
  }

  async close(): Promise<void> {
    await this.drop();
    await this.broker.close();
  }
}

const fast = { initialDelay: 50, maxDelay: 200, factor: 2 };

describe('reconnect against Heron', () => {
  let heron: HeronListener;
  before(async () => {
    heron = new HeronListener();
    await heron.open();
  });
  after(() => heron.close());

  for (const version of [4, 5] as const) {
    test(`v${version}: a persistent session resumes and queued QoS 1 messages arrive after reconnect`, async () => {
      const url = `mqtt://127.0.0.1:${heron.port}`;
      const sub = await connect({
        url,
        protocolVersion: version,
        clientId: `resume-${version}`,
        clean: false,
        properties: version === 5 ? { sessionExpiryInterval: 60 } : undefined,
        reconnect: fast,
      });
      await sub.subscribe('resume/#', { qos: 1 });
      const reconnecting = new Promise<number>((r) => sub.once('reconnect', r));
      const closed = new Promise<void>((r) => sub.once('close', () => r()));
      await heron.drop();
      await closed;
      // Published while the subscriber is away: the broker queues it in the session.
      await heron.open();
      const pub = await connect({ url, protocolVersion: version, reconnect: false });
      await pub.publish('resume/x', 'while away', { qos: 1 });
      const message = nextMessage(sub);
      const connack = await nextConnect(sub);
      assert.ok((await reconnecting) >= 1);
      assert.equal(connack.sessionPresent, true);
      assert.equal((await message).payload.toString(), 'while away');
      await Promise.all([sub.end(), pub.end()]);
    });
  }
});

describe('reconnect against mosquitto', () => {
  let mosquitto: MosquittoProcess;
  before(async () => {
    mosquitto = await startMosquitto();
  });
  after(() => mosquitto.stop());

  for (const version of [4, 5] as const) {
    test(`v${version}: after a broker restart that lost the session, subscriptions are replayed and offline publishes sent`, async () => {
      const c = await connect({
        url: mosquitto.url,
        protocolVersion: version,
        clientId: `restart-${version}`,
        clean: false,
        reconnect: fast,
      });
      await c.subscribe('restart/#', { qos: 2 });
      let pending: Promise<unknown> | undefined;
      // Published while the connection is down: held by the client and sent after the
      // replayed SUBSCRIBE, so the client receives its own message.
      c.once('close', () => {
        assert.equal(c.state, 'reconnecting');
        pending = c.publish('restart/x', 'after restart', { qos: 2 });
      });
      const message = nextMessage(c);
      const connack = nextConnect(c);
      await mosquitto.restart();
      assert.equal((await connack).sessionPresent, false);
      const m = await message;
      await pending;
      assert.equal(m.payload.toString(), 'after restart');
      assert.equal(m.qos, 2);
      await c.end();
    });
  }
});

/**
 * A scripted server (our codec over a real socket) that never acknowledges the
 * first connection's PUBLISH and then resumes the session: the only way to see
 * exactly what the client re-sends.
 */
test('[MQTT-4.4.0-1] unacknowledged QoS 1 and 2 publishes are re-sent with DUP and the same ids on session resume', async () => {
  const seen: Packet[][] = [];
  const server = net.createServer((socket) => {
    const packets: Packet[] = [];
    seen.push(packets);
    const first = seen.length === 1;
    const decoder = new Decoder(
      {
        onPacket(p) {
          packets.push(p);
          if (p.type === PacketType.CONNECT) {
            socket.write(
              encode({ type: PacketType.CONNACK, sessionPresent: !first, reasonCode: 0 }, 4),
            );
          } else if (p.type === PacketType.PUBLISH && first && packets.length === 3) {
            socket.destroy();
          } else if (p.type === PacketType.PUBLISH && !first) {
            const type = p.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC;
            socket.write(encode({ type, packetId: p.packetId, reasonCode: 0 }, 4));
          } else if (p.type === PacketType.PUBREL) {
            socket.write(
              encode({ type: PacketType.PUBCOMP, packetId: p.packetId, reasonCode: 0 }, 4),
            );
          }
        },
      },
      { protocolVersion: 4 },
    );
    socket.on('data', (d) => decoder.feed(d));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const c = await connect({
    url: `mqtt://127.0.0.1:${port}`,
    clientId: 'dup',
    clean: false,
    reconnect: fast,
  });
  const acks = Promise.all([c.publish('a', 'one', { qos: 1 }), c.publish('b', 'two', { qos: 2 })]);
  await acks;
  await c.end();
  server.close();
  const firstPublishes = seen[0].filter((p) => p.type === PacketType.PUBLISH) as PublishPacket[];
  const resent = seen[1].filter((p) => p.type === PacketType.PUBLISH) as PublishPacket[];
  assert.deepEqual(
    firstPublishes.map((p) => [p.topic, p.packetId, p.dup]),
    [
      ['a', 1, false],
      ['b', 2, false],
    ],
  );
  assert.deepEqual(
    resent.map((p) => [p.topic, p.packetId, p.dup, p.payload.toString()]),
    [
      ['a', 1, true, 'one'],
      ['b', 2, true, 'two'],
    ],
  );
  const connects = seen.map((s) => s[0]);
  assert.ok(connects.every((p) => p.type === PacketType.CONNECT && p.clean === false));
});
