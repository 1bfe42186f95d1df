// TLS and mutual TLS listeners with certificates made by openssl at test time,
// exercised by Debian's mosquitto_pub and by Node's TLS client.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { AclFile } from '../../src/auth/acl.js';
import type { Broker } from '../../src/broker/broker.js';
import type { ClientInfo } from '../../src/broker/options.js';
import { PacketType } from '../../src/protocol/constants.js';
import { Decoder } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { publish } from '../auth/mosquitto-helpers.js';
import { startBroker, suiteBroker, type TestBroker } from '../helpers/broker.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';

/** A tiny MQTT client over a TLS socket using our codec. */
class TlsClient {
  readonly packets: Packet[] = [];
  private wake: (() => void) | undefined;
  closed = false;
  constructor(readonly socket: tls.TLSSocket) {
    const dec = new Decoder({
      onPacket: (p) => {
        this.packets.push(p);
        this.wake?.();
      },
    });
    socket.on('data', (c) => dec.feed(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  send(p: Packet): void {
    this.socket.write(encode(p, 4));
  }
  async next(type: number, ms = 3000): Promise<Packet> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.packets.findIndex((p) => p.type === type);
      if (i >= 0) return this.packets.splice(i, 1)[0]!;
      if (this.closed) throw new Error('closed');
      if (Date.now() > end) throw new Error('timeout');
      await new Promise<void>((r) => {
        const t = setTimeout(r, end - Date.now());
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }
}

function connectTls(port: number, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
}

async function mqttOverTls(
  port: number,
  opts: tls.ConnectionOptions,
  clientId: string,
): Promise<TlsClient> {
  const c = new TlsClient(await connectTls(port, opts));
  c.send({
    type: PacketType.CONNECT,
    protocolName: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId,
  });
  const ack = await c.next(PacketType.CONNACK);
  assert.equal((ack as { reasonCode: number }).reasonCode, 0);
  return c;
}

/** Whether a TLS client is refused: handshake error, or the socket closes before CONNACK. */
async function refused(port: number, opts: tls.ConnectionOptions): Promise<boolean> {
  try {
    const c = await mqttOverTls(port, opts, `r-${Math.random()}`);
    c.socket.destroy();
    return false;
  } catch {
    return true;
  }
}

describe('TLS listeners', () => {
  let certs: TestCerts;
  before(async () => {
    certs = await makeTestCerts();
  });
  after(async () => {
    await certs?.cleanup();
  });

  describe('server certificate only', () => {
    const tb = suiteBroker(() => ({
      listeners: [
        { port: 0, host: '127.0.0.1', tls: { cert: certs.serverCert, key: certs.serverKey } },
      ],
    }));

    test('mosquitto_pub --cafile publishes over TLS', async () => {
      const got = new Promise<string>((resolve) =>
        tb.broker.once('publish', (m) => resolve(m.payload.toString())),
      );
      const res = await publish(tb.port, [
        '--cafile',
        certs.caFile,
        '-t',
        'tls/a',
        '-m',
        'over-tls',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(await got, 'over-tls');
    });

    test('a client that does not trust the server CA fails the handshake; others are unaffected', async () => {
      const res = await publish(tb.port, ['--cafile', certs.rogueCertFile, '-t', 't', '-m', 'x']);
      assert.notEqual(res.code, 0);
      const ok = await mqttOverTls(tb.port, { ca: certs.ca }, 'fine');
      ok.socket.destroy();
    });
  });

  describe('mutual TLS (require_certificate)', () => {
    let tb: TestBroker;
    let broker: Broker;
    const connected: ClientInfo[] = [];
    before(async () => {
      const acl = AclFile.parse('user alice\ntopic readwrite alice/#\n', 'acl');
      tb = await startBroker({
        allowAnonymous: false,
        aclFile: acl,
        listeners: [
          {
            port: 0,
            host: '127.0.0.1',
            certificateUsername: 'cn',
            tls: {
              cert: certs.serverCert,
              key: certs.serverKey,
              ca: certs.ca,
              requestCert: true,
              rejectUnauthorized: true,
            },
          },
        ],
      });
      broker = tb.broker;
      broker.on('clientConnected', (c) => connected.push(c));
    });
    after(() => tb.close());

    test('mosquitto_pub --cert/--key is accepted and its CN is the user name', async () => {
      const got = new Promise<string>((resolve) =>
        broker.once('publish', (m) => resolve(`${m.topic}:${m.payload}`)),
      );
      const res = await publish(tb.port, [
        '--cafile',
        certs.caFile,
        '--cert',
        certs.clientCertFile,
        '--key',
        certs.clientKeyFile,
        '-i',
        'mtls-pub',
        '-t',
        'alice/x',
        '-m',
        'hello',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(await got, 'alice/x:hello');
      const info = connected.find((c) => c.clientId === 'mtls-pub');
      assert.equal(info?.username, 'alice');
      assert.equal(info?.certificateSubject, 'alice');
    });

    test('certificate CN as user name is what the ACL judges', async () => {
      const sub = await mqttOverTls(
        tb.port,
        { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
        'mtls-sub',
      );
      sub.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          { topic: '#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      });
      await sub.next(PacketType.SUBACK);
      broker.publish({ topic: 'bob/secret', payload: Buffer.from('no'), qos: 0, retain: false });
      broker.publish({ topic: 'alice/inbox', payload: Buffer.from('yes'), qos: 0, retain: false });
      const p = (await sub.next(PacketType.PUBLISH)) as { topic: string };
      assert.equal(p.topic, 'alice/inbox');
      // A user-name/password in CONNECT does not override the certificate.
      const res = await publish(tb.port, [
        '--cafile',
        certs.caFile,
        '--cert',
        certs.clientCertFile,
        '--key',
        certs.clientKeyFile,
        '-u',
        'bob',
        '-i',
        'mtls-bob',
        '-t',
        'alice/y',
        '-m',
        'm',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(connected.find((c) => c.clientId === 'mtls-bob')?.username, 'alice');
      sub.socket.destroy();
    });

    test('a client without a certificate, or with one from an unknown CA, is refused', async () => {
      assert.equal(await refused(tb.port, { ca: certs.ca }), true);
      assert.equal(
        await refused(tb.port, { ca: certs.ca, cert: certs.rogueCert, key: certs.rogueKey }),
        true,
      );
      const res = await publish(tb.port, [
        '--cafile',
        certs.caFile,
        '--cert',
        certs.rogueCertFile,
        '--key',
        certs.rogueKeyFile,
        '-t',
        'alice/z',
        '-m',
        'x',
      ]);
      assert.notEqual(res.code, 0);
      // The good client still gets in afterwards.
      assert.equal(
        await refused(tb.port, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }),
        false,
      );
    });
  });

  test('reloadTls swaps the server certificate without dropping an open connection', async () => {
    const tb = await startBroker({
      listeners: [
        { port: 0, host: '127.0.0.1', tls: { cert: certs.serverCert, key: certs.serverKey } },
      ],
    });
    try {
      const first = await mqttOverTls(tb.port, { ca: certs.ca }, 'before-reload');
      const cn = (s: tls.TLSSocket) =>
        new X509Certificate(s.getPeerX509Certificate()!.raw).subject.split('\n').at(-1);
      assert.equal(cn(first.socket), 'CN=heron');
      tb.broker.reloadTls(0, { cert: certs.serverCert2, key: certs.serverKey2 });
      const second = await mqttOverTls(tb.port, { ca: certs.ca }, 'after-reload');
      assert.equal(cn(second.socket), 'CN=heron-2');
      // The connection opened before the reload still works.
      first.send({ type: PacketType.PINGREQ });
      await first.next(PacketType.PINGRESP);
      assert.equal(first.closed, false);
      first.socket.destroy();
      second.socket.destroy();
      await once(second.socket, 'close');
    } finally {
      await tb.close();
    }
  });
});
