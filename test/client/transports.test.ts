import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/client/client.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { type MosquittoProcess, startMosquitto } from './mosquitto-process.js';

describe('WebSocket transport against mosquitto (protocol websockets)', () => {
  let mosquitto: MosquittoProcess;
  before(async () => {
    mosquitto = await startMosquitto();
  });
  after(() => mosquitto.stop());

  for (const version of [4, 5] as const) {
    test(`v${version}: ws:// round trip at QoS 1 and 2, interoperating with a TCP client`, async () => {
      const ws = await connect({
        url: `ws://127.0.0.1:${mosquitto.wsPort}/mqtt`,
        protocolVersion: version,
        reconnect: false,
      });
      const tcp = await connect({ url: mosquitto.url, protocolVersion: version, reconnect: false });
      await ws.subscribe('wsx/#', { qos: 2 });
      const got = new Promise<PublishPacket[]>((resolve) => {
        const list: PublishPacket[] = [];
        ws.on('message', (_t, _p, pk) => {
          list.push(pk);
          if (list.length === 3) resolve(list);
        });
      });
      await tcp.publish('wsx/a', 'from tcp', { qos: 1 });
      await ws.publish('wsx/b', Buffer.alloc(70_000, 7), { qos: 2 });
      await ws.publish('wsx/c', 'own', { qos: 0 });
      const msgs = await got;
      assert.deepEqual(
        msgs.map((m) => [m.topic, m.payload.length, m.qos]),
        [
          ['wsx/a', 8, 1],
          ['wsx/b', 70_000, 2],
          ['wsx/c', 3, 0],
        ],
      );
      await Promise.all([ws.end(), tcp.end()]);
    });
  }
});

describe('TLS transport against a Heron TLS listener', () => {
  let dir: string;
  let broker: TestBroker;
  let ca: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'heron-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'cert.pem'));
    broker = await startBroker({
      listeners: [
        {
          port: 0,
          host: '127.0.0.1',
          tls: { cert: ca, key: readFileSync(join(dir, 'key.pem')) },
        },
      ],
    });
  });
  after(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('mqtts:// connects with the CA and round-trips a QoS 1 message', async () => {
    const c = await connect({
      url: `mqtts://127.0.0.1:${broker.port}`,
      protocolVersion: 5,
      tls: { ca },
      reconnect: false,
    });
    await c.subscribe('tls/t', { qos: 1 });
    const got = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
    await c.publish('tls/t', 'secret', { qos: 1 });
    assert.equal(await got, 'secret');
    await c.end();
  });

  test('an untrusted server certificate is refused unless rejectUnauthorized is false', async () => {
    await assert.rejects(connect({ url: `mqtts://127.0.0.1:${broker.port}`, reconnect: false }), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    const c = await connect({
      url: `mqtts://127.0.0.1:${broker.port}`,
      tls: { rejectUnauthorized: false },
      reconnect: false,
    });
    assert.equal(c.connected, true);
    await c.end();
  });
});
