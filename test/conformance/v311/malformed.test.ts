import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import {
  assertClosed,
  assertOpen,
  collect,
  delay,
  frame,
  nextPublish,
  publish,
  str,
  subscribe,
  suiteHarness,
} from './support.js';

describe('MQTT 3.1.1 malformed packets and robustness', () => {
  const h = suiteHarness({ maxPacketSize: 1024, maxPendingBytes: 64 * 1024 });

  const badFlags: Array<[string, number[]]> = [
    ['PUBACK', [0x41, 0x02, 0x00, 0x01]],
    ['PUBREC', [0x51, 0x02, 0x00, 0x01]],
    ['PUBCOMP', [0x78, 0x02, 0x00, 0x01]],
    ['PINGREQ', [0xc1, 0x00]],
    ['DISCONNECT', [0xe2, 0x00]],
  ];
  for (const [name, bytes] of badFlags) {
    test(`[MQTT-2.2.2-1] [MQTT-2.2.2-2] ${name} with reserved flags set closes the connection`, async () => {
      const c = await h.connect();
      c.sendRaw(bytes);
      await assertClosed(c);
    });
  }

  test('[MQTT-3.6.1-1] PUBREL with fixed header flags other than 0010 closes the connection', async () => {
    const c = await h.connect();
    c.sendRaw([0x60, 0x02, 0x00, 0x01]);
    await assertClosed(c);
  });

  test('[MQTT-4.8.0-1] reserved packet types 0 and 15 close the connection', async () => {
    for (const first of [0x00, 0xf0]) {
      const c = await h.connect();
      c.sendRaw([first, 0x00]);
      await assertClosed(c);
    }
  });

  test('[MQTT-4.8.0-1] server-to-client packet types sent by a client close the connection', async () => {
    const packets = [
      [0x20, 0x02, 0x00, 0x00],
      [0x90, 0x03, 0x00, 0x01, 0x00],
      [0xb0, 0x02, 0x00, 0x01],
      [0xd0, 0x00],
    ];
    for (const bytes of packets) {
      const c = await h.connect();
      c.sendRaw(bytes);
      await assertClosed(c);
    }
  });

  test('[MQTT-4.8.0-1] a remaining length longer than four bytes closes the connection', async () => {
    const c = await h.connect();
    c.sendRaw([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    await assertClosed(c);
  });

  test('[MQTT-4.8.0-1] a packet with trailing garbage (PINGREQ with a body) closes the connection', async () => {
    const c = await h.connect();
    c.sendRaw([0xc0, 0x01, 0x00]);
    await assertClosed(c);
  });

  test('a packet larger than maxPacketSize closes the connection before it is buffered', async () => {
    const c = await h.connect();
    c.sendRaw(frame(0x30, Buffer.concat([str('big'), Buffer.alloc(2000)])));
    await assertClosed(c);
  });

  test('[MQTT-4.8.0-1] a protocol violation closes only the offending connection', async () => {
    const s = await h.connect();
    await subscribe(s, 'robust/t', 1);
    const bad = await h.connect();
    bad.sendRaw([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]);
    await assertClosed(bad);
    const p = await h.connect();
    await publish(p, 'robust/t', 'still working', 1);
    assert.equal((await nextPublish(s, 'robust/t')).payload.toString(), 'still working');
  });

  test('a byte stream split at every byte is decoded the same', async () => {
    const s = await h.connect();
    await subscribe(s, 'split/t', 0);
    const p = await h.connect();
    const bytes = frame(0x30, Buffer.concat([str('split/t'), Buffer.from('pieces')]));
    for (const b of bytes) {
      p.sendRaw([b]);
      await delay(1);
    }
    assert.equal((await nextPublish(s, 'split/t')).payload.toString(), 'pieces');
  });
});

describe('slow consumers', () => {
  const h = suiteHarness({ maxPendingBytes: 256 * 1024 });

  test('a slow subscriber that does not read holds at most maxPendingBytes unsent, the rest as queue entries, and does not stall others', async () => {
    const maxPendingBytes = 256 * 1024;
    const slow = await h.connect();
    const fast = await h.connect();
    await subscribe(slow, 'flood/t', 0);
    // QoS 1 is never dropped for a slow socket (the inflight window paces it), so
    // the reader that keeps up must get everything even on a loaded machine.
    await subscribe(fast, 'flood/t', 1);
    slow.socket.pause();
    const p = await h.connect();
    const payload = Buffer.alloc(64 * 1024, 0x61);
    const n = 400;
    for (let i = 0; i < n; i++) {
      p.send({
        type: PacketType.PUBLISH,
        topic: 'flood/t',
        payload,
        qos: 1,
        retain: false,
        dup: false,
        packetId: i + 1,
      });
    }
    const got = await collect(fast, n, 5000);
    assert.equal(got.length, n);
    const ch = [...h.tb.broker.channels].find((c) => c.info.remotePort === slow.socket.localPort)!;
    const session = ch.session!;
    // 25 MB published: the slow client holds one packet past the limit at most,
    // the rest waits as queue entries referring to the shared messages.
    assert.ok(
      ch.outbox.pendingBytes <= maxPendingBytes + 2 * payload.length,
      `holds ${ch.outbox.pendingBytes} bytes unsent`,
    );
    assert.ok(session.queuedCount > 0, 'nothing queued');
    await assertOpen(p);
    // Within the queue bounds nothing is lost: once it reads, everything arrives.
    slow.socket.resume();
    assert.equal((await collect(slow, n, 10_000)).length, n);
  });
});
