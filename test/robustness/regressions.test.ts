// Regression tests for bugs the chaos runs found, each reduced to its trigger.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { startBroker } from '../helpers/broker.js';
import { Peer } from './support/peer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      assert.ok(await p.waitFor((x) => x.type === answer, 2000));
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
