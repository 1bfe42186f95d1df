// PROXY protocol v1/v2 in front of MQTT: the proxied address reaches ClientInfo,
// bad headers close the connection, and headers may arrive in pieces.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import type { ClientInfo } from '../../src/broker/options.js';
import { PacketType } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { ConnackPacket } from '../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/certs.js';
import { delay, RawClient } from '../helpers/raw-client.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

function v2tcp4(src: string, sport: number, dst: string, dport: number): Buffer {
  const b = Buffer.alloc(12);
  b.set(src.split('.').map(Number), 0);
  b.set(dst.split('.').map(Number), 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return v2(1, 0x11, b);
}

function v2tcp6(src: number[], sport: number, dst: number[], dport: number): Buffer {
  const b = Buffer.alloc(36);
  for (let i = 0; i < 8; i++) {
    b.writeUInt16BE(src[i]!, i * 2);
    b.writeUInt16BE(dst[i]!, 16 + i * 2);
  }
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return v2(1, 0x21, b);
}

function connect(clientId: string): Buffer {
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

describe('PROXY protocol listener', () => {
  let tb: TestBroker;
  const seen = new Map<string, ClientInfo>();
  before(async () => {
    tb = await startBroker({
      listeners: [{ port: 0, host: '127.0.0.1', proxyProtocol: true }],
    });
    tb.broker.on('clientConnected', (c) => seen.set(c.clientId, c));
  });
  after(() => tb.close());

  /** Sends `header` then CONNECT (in `pieces` writes) and returns the client's ClientInfo. */
  async function through(header: Buffer, id: string, pieces = 1): Promise<ClientInfo> {
    const c = await RawClient.connect(tb.port);
    const bytes = Buffer.concat([header, connect(id)]);
    const step = Math.ceil(bytes.length / pieces);
    for (let i = 0; i < bytes.length; i += step) {
      c.sendRaw(bytes.subarray(i, i + step));
      if (pieces > 1) await delay(15);
    }
    const ack = await c.nextOfType<ConnackPacket>(PacketType.CONNACK);
    assert.equal(ack.reasonCode, 0);
    c.destroy();
    return seen.get(id)!;
  }

  test('v1 TCP4: the proxied source is the remote address', async () => {
    const c = await through(Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 51234 1883\r\n'), 'v1-4');
    assert.equal(c.remoteAddress, '203.0.113.7');
    assert.equal(c.remotePort, 51234);
  });

  test('v1 TCP6', async () => {
    const c = await through(
      Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 40000 1883\r\n'),
      'v1-6',
    );
    assert.equal(c.remoteAddress, '2001:db8::7');
    assert.equal(c.remotePort, 40000);
  });

  test('v1 UNKNOWN keeps the connecting address', async () => {
    const c = await through(Buffer.from('PROXY UNKNOWN\r\n'), 'v1-unknown');
    assert.equal(c.remoteAddress, '127.0.0.1');
  });

  test('v2 TCP4 (PROXY command)', async () => {
    const c = await through(v2tcp4('198.51.100.9', 6000, '192.0.2.1', 1883), 'v2-4');
    assert.equal(c.remoteAddress, '198.51.100.9');
    assert.equal(c.remotePort, 6000);
  });

  test('v2 TCP6', async () => {
    const c = await through(
      v2tcp6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42], 7000, [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 1883),
      'v2-6',
    );
    assert.equal(c.remoteAddress, '2001:db8::42');
    assert.equal(c.remotePort, 7000);
  });

  test('v2 LOCAL keeps the connecting address', async () => {
    const c = await through(v2(0, 0x00, Buffer.alloc(0)), 'v2-local');
    assert.equal(c.remoteAddress, '127.0.0.1');
  });

  test('v2 UNSPEC family with PROXY command keeps the connecting address', async () => {
    const c = await through(v2(1, 0x00, Buffer.alloc(0)), 'v2-unspec');
    assert.equal(c.remoteAddress, '127.0.0.1');
  });

  test('a header split across TCP segments works (v1 and v2)', async () => {
    const a = await through(
      Buffer.from('PROXY TCP4 203.0.113.8 192.0.2.1 1111 1883\r\n'),
      'split-v1',
      6,
    );
    assert.equal(a.remoteAddress, '203.0.113.8');
    const b = await through(v2tcp4('198.51.100.10', 2222, '192.0.2.1', 1883), 'split-v2', 7);
    assert.equal(b.remoteAddress, '198.51.100.10');
  });

  for (const [name, header] of [
    ['no header at all (plain CONNECT)', Buffer.alloc(0)],
    ['a garbled v1 line', Buffer.from('PROXY TCP4 not-an-ip 192.0.2.1 1 2\r\n')],
    ['a v1 line that never ends', Buffer.from(`PROXY TCP4 ${'9'.repeat(120)}`)],
    ['a v2 header with version 3', Buffer.concat([SIG, Buffer.from([0x31, 0x11, 0, 0])])],
    ['a v2 IPv4 block too short', v2(1, 0x11, Buffer.alloc(4))],
  ] as const) {
    test(`malformed: ${name} closes the connection; others are unaffected`, async () => {
      const c = await RawClient.connect(tb.port);
      c.sendRaw(Buffer.concat([header, connect('bad')]));
      assert.equal(await c.waitClosed(2000), true);
      assert.equal(c.received.length, 0);
      const ok = await through(Buffer.from('PROXY UNKNOWN\r\n'), `ok-after-${name}`);
      assert.equal(ok.remoteAddress, '127.0.0.1');
    });
  }
});

test('PROXY header in front of TLS: the handshake follows the header', async () => {
  const certs = await makeTestCerts();
  const tb = await startBroker({
    listeners: [
      {
        port: 0,
        host: '127.0.0.1',
        proxyProtocol: true,
        tls: { cert: certs.serverCert, key: certs.serverKey },
      },
    ],
  });
  try {
    const seen = new Promise<ClientInfo>((r) => tb.broker.once('clientConnected', r));
    const raw = await RawClient.connect(tb.port);
    raw.socket.removeAllListeners('data');
    raw.socket.write('PROXY TCP4 203.0.113.50 192.0.2.1 4444 8883\r\n');
    const s = tls.connect({ socket: raw.socket, ca: certs.ca, servername: 'localhost' });
    await new Promise<void>((r, j) => {
      s.once('secureConnect', r);
      s.once('error', j);
    });
    s.write(connect('proxied-tls'));
    const info = await seen;
    assert.equal(info.remoteAddress, '203.0.113.50');
    s.destroy();
  } finally {
    await tb.close();
    await certs.cleanup();
  }
});
