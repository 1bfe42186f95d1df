// Decoder behaviour a channel relies on: size limit at the length prefix, version
// switching on CONNECT, v5 short forms, buffering bounds, destroy from the sink.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import {
  Decoder,
  encode,
  type Packet,
  type PacketSink,
  ProtocolError,
} from '../../src/protocol/index.js';
import type { PublishPacket } from '../../src/protocol/packets.js';

class Collect implements PacketSink {
  packets: Packet[] = [];
  onPacket(packet: Packet): void {
    this.packets.push(packet);
  }
}

describe('maximum packet size', () => {
  test('a length prefix above the limit is rejected with 0x95 before the body arrives', () => {
    const sink = new Collect();
    const decoder = new Decoder(sink, { maxPacketSize: 1024 });
    // PUBLISH header declaring 1,000,000 bytes; only the 4 header bytes are fed.
    const header = Buffer.from([0x30, 0xc0, 0x84, 0x3d]);
    assert.throws(
      () => decoder.feed(header),
      (e: unknown) => e instanceof ProtocolError && e.reasonCode === 0x95,
    );
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('a length prefix split across chunks is checked as soon as it is complete', () => {
    const decoder = new Decoder(new Collect(), { maxPacketSize: 200 });
    decoder.feed(Buffer.from([0x30]));
    decoder.feed(Buffer.from([0x80]));
    assert.equal(decoder.bufferedBytes, 2);
    assert.throws(
      () => decoder.feed(Buffer.from([0x02])),
      (e: unknown) => e instanceof ProtocolError && e.reasonCode === 0x95,
    );
  });

  test('a partial length prefix that already implies too large a packet is rejected', () => {
    // With one continuation byte seen the packet is at least 131 bytes.
    const decoder = new Decoder(new Collect(), { maxPacketSize: 100 });
    decoder.feed(Buffer.from([0x30]));
    assert.throws(
      () => decoder.feed(Buffer.from([0x80])),
      (e: unknown) => e instanceof ProtocolError && e.reasonCode === 0x95,
    );
  });

  test('the limit counts the whole packet, fixed header included', () => {
    const p: Packet = {
      type: PacketType.PUBLISH,
      topic: 't',
      payload: Buffer.alloc(10),
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
    };
    const bytes = encode(p, 4); // 2 + 3 + 10 = 15 bytes
    assert.equal(bytes.length, 15);
    const ok = new Collect();
    new Decoder(ok, { maxPacketSize: 15 }).feed(bytes);
    assert.equal(ok.packets.length, 1);
    assert.throws(
      () => new Decoder(new Collect(), { maxPacketSize: 14 }).feed(bytes),
      ProtocolError,
    );
  });

  test('maxPacketSize can be changed between feeds', () => {
    const decoder = new Decoder(new Collect());
    decoder.maxPacketSize = 3;
    assert.throws(() => decoder.feed(Buffer.from([0x40, 2, 0, 1])), ProtocolError);
  });

  test('bufferedBytes never exceeds the declared packet', () => {
    const decoder = new Decoder(new Collect());
    const bytes = encode(
      {
        type: PacketType.PUBLISH,
        topic: 'a',
        payload: Buffer.alloc(5000),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      },
      4,
    );
    for (let i = 0; i < bytes.length - 1; i += 100) {
      decoder.feed(bytes.subarray(i, Math.min(i + 100, bytes.length - 1)));
      assert.ok(decoder.bufferedBytes <= bytes.length);
    }
    assert.equal(decoder.bufferedBytes, bytes.length - 1);
  });
});

describe('protocol version', () => {
  test('a CONNECT switches the version for the rest of the same chunk', () => {
    const sink = new Collect();
    const decoder = new Decoder(sink);
    const connect = encode(
      {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 5,
        clean: true,
        keepalive: 0,
        clientId: 'x',
      },
      5,
    );
    const publish = encode(
      {
        type: PacketType.PUBLISH,
        topic: 'a',
        payload: Buffer.from('p'),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
        properties: { contentType: 'text/plain' },
      },
      5,
    );
    decoder.feed(Buffer.concat([connect, publish]));
    assert.equal(decoder.protocolVersion, 5);
    assert.equal(sink.packets.length, 2);
    assert.deepEqual((sink.packets[1] as PublishPacket).properties, {
      contentType: 'text/plain',
    });
  });

  test('MQIsdp CONNECT sets level 3', () => {
    const decoder = new Decoder(new Collect());
    decoder.feed(
      encode(
        {
          type: PacketType.CONNECT,
          protocolName: 'MQIsdp',
          protocolVersion: 3,
          clean: true,
          keepalive: 0,
          clientId: 'x',
        },
        3,
      ),
    );
    assert.equal(decoder.protocolVersion, 3);
  });

  test('v5 short forms: ack with remaining length 2, DISCONNECT and AUTH with 0', () => {
    const sink = new Collect();
    new Decoder(sink, { protocolVersion: 5 }).feed(
      Buffer.from([0x40, 2, 0, 7, 0x62, 3, 0, 8, 0x92, 0xe0, 0, 0xf0, 0, 0xe0, 1, 0x04]),
    );
    assert.deepEqual(
      sink.packets.map((p) => ({ ...p })),
      [
        { type: PacketType.PUBACK, packetId: 7, reasonCode: 0, properties: undefined },
        { type: PacketType.PUBREL, packetId: 8, reasonCode: 0x92, properties: undefined },
        { type: PacketType.DISCONNECT, reasonCode: 0, properties: undefined },
        { type: PacketType.AUTH, reasonCode: 0, properties: undefined },
        { type: PacketType.DISCONNECT, reasonCode: 4, properties: undefined },
      ],
    );
  });

  test('v5 packets with an empty property list have properties undefined', () => {
    const sink = new Collect();
    new Decoder(sink, { protocolVersion: 5 }).feed(Buffer.from([0x30, 4, 0, 1, 0x61, 0]));
    assert.equal((sink.packets[0] as PublishPacket).properties, undefined);
  });

  test('v3 UNSUBACK has no reason codes and acks have reason code 0', () => {
    const sink = new Collect();
    new Decoder(sink, { protocolVersion: 3 }).feed(Buffer.from([0xb0, 2, 0, 1, 0x50, 2, 0, 2]));
    assert.deepEqual(
      sink.packets.map((p) => ({ ...p })),
      [
        { type: PacketType.UNSUBACK, packetId: 1, reasonCodes: [], properties: undefined },
        { type: PacketType.PUBREC, packetId: 2, reasonCode: 0, properties: undefined },
      ],
    );
  });

  test('v3.1 SUBSCRIBE with DUP set (a 3.1 retry) is accepted', () => {
    const sink = new Collect();
    new Decoder(sink, { protocolVersion: 3 }).feed(Buffer.from([0x8a, 6, 0, 1, 0, 1, 0x61, 1]));
    assert.equal(sink.packets.length, 1);
  });
});

describe('lifecycle', () => {
  test('destroy() inside onPacket stops delivery of the rest of the chunk', () => {
    let count = 0;
    const decoder: Decoder = new Decoder({
      onPacket: () => {
        count++;
        decoder.destroy();
      },
    });
    decoder.feed(Buffer.from([0xc0, 0, 0xc0, 0, 0xc0, 0]));
    assert.equal(count, 1);
    decoder.feed(Buffer.from([0xc0, 0]));
    assert.equal(count, 1);
  });

  test('a header split into single bytes across many feeds', () => {
    const sink = new Collect();
    const decoder = new Decoder(sink);
    const bytes = encode(
      {
        type: PacketType.PUBLISH,
        topic: 'a',
        payload: Buffer.alloc(20_000, 9),
        qos: 1,
        retain: false,
        dup: false,
        packetId: 5,
      },
      4,
    );
    decoder.feed(bytes.subarray(0, 1));
    decoder.feed(bytes.subarray(1, 2));
    decoder.feed(bytes.subarray(2, 3));
    decoder.feed(bytes.subarray(3));
    assert.equal(sink.packets.length, 1);
    assert.equal((sink.packets[0] as PublishPacket).payload.length, 20_000);
  });

  test('pause() inside onPacket holds the rest of the chunk until resume(), in order', () => {
    const ids: number[] = [];
    const decoder: Decoder = new Decoder({
      onPacket: (p) => {
        ids.push((p as Packet & { packetId: number }).packetId);
        if (ids.length % 2 === 1) decoder.pause();
      },
    });
    // Five PUBACKs (ids 1..5) in one chunk, then a sixth fed while paused.
    const acks = [1, 2, 3, 4, 5].map((id) => Buffer.from([0x40, 2, 0, id]));
    decoder.feed(Buffer.concat(acks));
    assert.deepEqual(ids, [1]);
    decoder.feed(Buffer.from([0x40, 2, 0, 6]));
    assert.deepEqual(ids, [1]);
    decoder.resume();
    assert.deepEqual(ids, [1, 2, 3]);
    decoder.resume();
    assert.deepEqual(ids, [1, 2, 3, 4, 5]);
    decoder.resume();
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6]);
    decoder.resume();
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6]);
    // No longer paused: a new chunk is decoded as it arrives.
    decoder.feed(Buffer.from([0x40, 2, 0, 7]));
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7]);
  });

  test('a packet split across chunks after a pause is assembled once resumed', () => {
    const sink = new Collect();
    const bytes = encode(
      {
        type: PacketType.PUBLISH,
        topic: 't',
        payload: Buffer.alloc(300, 7),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      },
      4,
    );
    const decoder = new Decoder(sink);
    decoder.pause();
    decoder.feed(Buffer.concat([Buffer.from([0xc0, 0]), bytes.subarray(0, 100)]));
    assert.equal(sink.packets.length, 0);
    decoder.resume();
    assert.equal(sink.packets.length, 1);
    decoder.feed(bytes.subarray(100));
    assert.equal(sink.packets.length, 2);
    assert.equal((sink.packets[1] as PublishPacket).payload.length, 300);
  });
});
