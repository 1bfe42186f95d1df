// Regression tests for bugs the chaos runs found, each reduced to its trigger.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { PacketType } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { startBroker } from '../helpers/broker.js';
import { delay as sleep } from '../helpers/process.js';
import { Peer } from './support/peer.js';

/** Writes `chunk` repeatedly for `ms`, as fast as the socket takes it, without reading. */
async function pump(peer: Peer, chunk: Buffer, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let sent = 0;
  while (Date.now() < end) {
    if (peer.socket.writableLength < 1 << 20) {
      peer.socket.write(chunk);
      sent += chunk.length;
    } else await sleep(20);
    if (sent % (1 << 20) < chunk.length) await sleep(0);
  }
  return sent;
}

for (const [name, packet, answer] of [
  ['PINGREQ', { type: PacketType.PINGREQ }, PacketType.PINGRESP],
  [
    'QoS 1 PUBLISH',
    {
      type: PacketType.PUBLISH,
      topic: 'nobody/listens',
      payload: Buffer.alloc(0),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    },
    PacketType.PUBACK,
  ],
] as Array<[string, Packet, number]>) {
  test(`a client sending ${name}s but never reading cannot grow the broker's output past maxPendingBytes`, async () => {
    const maxPendingBytes = 64 * 1024;
    const tb = await startBroker({ maxPendingBytes });
    try {
      const p = await Peer.tcp(tb.port, 4);
      p.autoAck = false;
      assert.equal(await p.connect({ clientId: 'deaf' }), 0);
      p.socket.pause();
      const one = encode(packet, 4);
      const sent = await pump(p, Buffer.concat(Array(4096).fill(one)), 1500);
      const ch = [...tb.broker.channels][0]!;
      // Before the fix the broker buffered every answer: as many bytes as were sent.
      assert.ok(sent > 8 * maxPendingBytes, `only ${sent} bytes sent`);
      assert.ok(
        ch.socket.writableLength <= maxPendingBytes + 2 * one.length * 4096,
        `broker holds ${ch.socket.writableLength} bytes for a client that does not read`,
      );
      // Nothing is lost: once the client reads, answers flow again and it stays connected.
      p.socket.resume();
      // Generous: on a loaded machine the broker first drains what it holds for this client.
      assert.ok(await p.waitFor((x) => x.type === answer, 10_000), 'no answer after reading again');
      p.packets.length = 0;
      p.send({ type: PacketType.PINGREQ });
      await sleep(300);
      assert.equal(p.closed, false);
      p.destroy();
    } finally {
      await tb.close();
    }
  });
}

test('a WebSocket client flooding PINGREQs without reading cannot make the broker buffer its input or output', async () => {
  const maxPendingBytes = 64 * 1024;
  const tb = await startBroker({
    maxPendingBytes,
    listeners: [{ port: 0, host: '127.0.0.1', protocol: 'websockets' }],
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${tb.port}/mqtt`, 'mqtt');
    await new Promise((r) => ws.once('open', r));
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    ws.send(
      encode(
        {
          type: PacketType.CONNECT,
          protocolName: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 60,
          clientId: 'ws-deaf',
        },
        4,
      ),
    );
    const deadline = Date.now() + 2000;
    while (got.length === 0 && Date.now() < deadline) await sleep(10);
    // Stop reading: ws exposes its socket only as a private field.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const pings = Buffer.alloc(64 * 1024);
    for (let i = 0; i < pings.length; i += 2) pings[i] = 0xc0;
    let sent = 0;
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      if (ws.bufferedAmount < 1 << 20) {
        ws.send(pings);
        sent += pings.length;
      } else await sleep(20);
      if (sent % (1 << 20) === 0) await sleep(0);
    }
    await sleep(200);
    const ch = [...tb.broker.channels][0]!;
    assert.ok(sent > 16 * maxPendingBytes, `only ${sent} bytes sent`);
    // Before the fix the WebSocket adapter ignored backpressure: hundreds of MB read ahead.
    const held = ch.socket.readableLength + ch.socket.writableLength;
    assert.ok(held < 4 * maxPendingBytes + 2 * pings.length, `broker holds ${held} bytes`);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const before = got.length;
    const until = Date.now() + 2000;
    while (got.length === before && Date.now() < until) await sleep(10);
    assert.ok(got.length > before, 'answers flow again once the client reads');
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
  } finally {
    await tb.close();
  }
});
