// MQTT over WebSocket: MQTT.js over ws:// and wss://, and raw frames sent with
// the `ws` package to check framing rules.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { type Broker, createBroker } from '../../src/broker/broker.js';
import type { ListenerOptions } from '../../src/broker/options.js';
import { PacketType } from '../../src/protocol/constants.js';
import { Decoder } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';

async function startWs(
  listener: Partial<ListenerOptions>,
): Promise<{ broker: Broker; port: number }> {
  const broker = createBroker({
    sysInterval: 0,
    listeners: [{ port: 0, host: '127.0.0.1', protocol: 'websockets', ...listener }],
  });
  const [a] = await broker.listen();
  return { broker, port: a!.port };
}

function connectPacket(clientId: string): Buffer {
  return encode(
    {
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId,
    },
    4,
  );
}

function nextMessage(c: MqttClient): Promise<[string, Buffer]> {
  return new Promise((resolve) => c.once('message', (t, p) => resolve([t, p])));
}

/** A raw WebSocket that decodes the MQTT packets the broker sends back. */
async function rawWs(url: string, protocols: string[] = ['mqtt']) {
  const ws = new WebSocket(url, protocols);
  const packets: Packet[] = [];
  const dec = new Decoder({ onPacket: (p) => packets.push(p) });
  ws.on('message', (d: Buffer) => dec.feed(d));
  ws.on('error', () => {});
  await once(ws, 'open');
  const waitFor = async (type: number, ms = 3000): Promise<Packet> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const i = packets.findIndex((p) => p.type === type);
      if (i >= 0) return packets.splice(i, 1)[0]!;
      if (ws.readyState === ws.CLOSED) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no packet of type ${type}`);
  };
  return { ws, packets, waitFor };
}

describe('WebSocket listener', () => {
  let broker: Broker;
  let port: number;
  before(async () => {
    ({ broker, port } = await startWs({}));
  });
  after(() => broker.close());

  test('MQTT.js over ws:// round-trips a message (v3.1.1 subscriber, v5 publisher)', async () => {
    const sub = await connectAsync(`ws://127.0.0.1:${port}/mqtt`, { clientId: 'ws-sub' });
    const pub = await connectAsync(`ws://127.0.0.1:${port}/mqtt`, {
      clientId: 'ws-pub',
      protocolVersion: 5,
    });
    try {
      await sub.subscribeAsync('ws/t', { qos: 1 });
      const got = nextMessage(sub);
      await pub.publishAsync('ws/t', 'over websocket', { qos: 1 });
      const [topic, payload] = await got;
      assert.equal(topic, 'ws/t');
      assert.equal(payload.toString(), 'over websocket');
    } finally {
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    }
  });

  test('the server answers with subprotocol "mqtt"', async () => {
    const { ws } = await rawWs(`ws://127.0.0.1:${port}/`, ['mqtt']);
    assert.equal(ws.protocol, 'mqtt');
    ws.close();
  });

  test('a text frame closes the connection; other clients are unaffected', async () => {
    const other = await rawWs(`ws://127.0.0.1:${port}/`);
    other.ws.send(connectPacket('ws-bystander'));
    await other.waitFor(PacketType.CONNACK);
    const bad = await rawWs(`ws://127.0.0.1:${port}/`);
    bad.ws.send(connectPacket('ws-text'));
    await bad.waitFor(PacketType.CONNACK);
    const closed = once(bad.ws, 'close');
    bad.ws.send('this is text');
    const [code] = (await closed) as [number];
    assert.equal(code, 1003);
    other.ws.send(encode({ type: PacketType.PINGREQ }, 4));
    await other.waitFor(PacketType.PINGRESP);
    other.ws.close();
  });

  test('a packet split across frames and several packets in one frame are both decoded', async () => {
    const c = await rawWs(`ws://127.0.0.1:${port}/anything`);
    const conn = connectPacket('ws-frames');
    // CONNECT in three frames, cut inside the fixed header and inside the payload.
    c.ws.send(conn.subarray(0, 1));
    c.ws.send(conn.subarray(1, 7));
    c.ws.send(conn.subarray(7));
    await c.waitFor(PacketType.CONNACK);
    const sub = encode(
      {
        type: PacketType.SUBSCRIBE,
        packetId: 7,
        subscriptions: [
          { topic: 'f/t', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      },
      4,
    );
    const pub = encode(
      {
        type: PacketType.PUBLISH,
        topic: 'f/t',
        payload: Buffer.from('both'),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      },
      4,
    );
    const ping = encode({ type: PacketType.PINGREQ }, 4);
    c.ws.send(Buffer.concat([sub, pub, ping]));
    await c.waitFor(PacketType.SUBACK);
    const p = (await c.waitFor(PacketType.PUBLISH)) as { payload: Buffer };
    assert.equal(p.payload.toString(), 'both');
    await c.waitFor(PacketType.PINGRESP);
    c.ws.close();
  });

  test('any path is accepted when websocketsPath is not set', async () => {
    for (const path of ['/', '/mqtt', '/some/other/path?x=1']) {
      const c = await rawWs(`ws://127.0.0.1:${port}${path}`);
      c.ws.send(connectPacket(`path-${path.length}`));
      await c.waitFor(PacketType.CONNACK);
      c.ws.close();
    }
  });
});

describe('WebSocket listener with websocketsPath', () => {
  test('only the configured path is upgraded', async () => {
    const { broker, port } = await startWs({ websocketsPath: '/mqtt' });
    try {
      const good = await rawWs(`ws://127.0.0.1:${port}/mqtt`);
      good.ws.send(connectPacket('path-ok'));
      await good.waitFor(PacketType.CONNACK);
      good.ws.close();
      const bad = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`, ['mqtt']);
      const [err] = (await once(bad, 'error')) as [Error];
      assert.match(err.message, /Unexpected server response: 400/);
    } finally {
      await broker.close();
    }
  });
});

describe('secure WebSocket listener', () => {
  let certs: TestCerts;
  before(async () => {
    certs = await makeTestCerts();
  });
  after(() => certs?.cleanup());

  test('MQTT.js over wss:// with the test CA', async () => {
    const { broker, port } = await startWs({
      tls: { cert: certs.serverCert, key: certs.serverKey },
    });
    let c: MqttClient | undefined;
    try {
      c = await connectAsync(`wss://127.0.0.1:${port}/mqtt`, {
        clientId: 'wss-1',
        ca: certs.ca,
        servername: 'localhost',
      } as Parameters<typeof connectAsync>[1]);
      await c.subscribeAsync('wss/t');
      const got = nextMessage(c);
      await c.publishAsync('wss/t', 'secure');
      const [, payload] = await got;
      assert.equal(payload.toString(), 'secure');
    } finally {
      await c?.endAsync();
      await broker.close();
    }
  });

  test('a wss:// client that does not trust the CA is refused', async () => {
    const { broker, port } = await startWs({
      tls: { cert: certs.serverCert, key: certs.serverKey },
    });
    try {
      await assert.rejects(
        connectAsync(`wss://127.0.0.1:${port}/mqtt`, {
          clientId: 'wss-untrusting',
          ca: certs.rogueCert,
          reconnectPeriod: 0,
          connectTimeout: 2000,
        } as Parameters<typeof connectAsync>[1]),
      );
    } finally {
      await broker.close();
    }
  });
});
