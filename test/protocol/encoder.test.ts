// Encoder output a peer sees: exact sizes, v5 short forms, v3 dropping v5-only
// fields, and shared PUBLISH buffers patched per subscriber.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import {
  encode,
  encodedPropertiesLength,
  encodePublish,
  type PublishPacket,
  publish0Room,
  variableByteIntegerLength,
  withPacketId,
  writePublish0,
} from '../../src/protocol/index.js';

const publish = (fields: Partial<PublishPacket> = {}): PublishPacket => ({
  type: PacketType.PUBLISH,
  topic: 'a/b',
  payload: Buffer.from('hi'),
  qos: 0,
  retain: false,
  dup: false,
  packetId: 0,
  ...fields,
});

describe('short forms', () => {
  test('v5 acks with reason 0 and no properties have a 2-byte body', () => {
    for (const type of [
      PacketType.PUBACK,
      PacketType.PUBREC,
      PacketType.PUBREL,
      PacketType.PUBCOMP,
    ] as const) {
      const b = encode({ type, packetId: 0x0102, reasonCode: 0 }, 5);
      assert.deepEqual([...b], [type === PacketType.PUBREL ? 0x62 : type << 4, 2, 1, 2]);
    }
  });
  test('v5 ack with a reason code and no properties has a 3-byte body', () => {
    assert.deepEqual(
      [...encode({ type: PacketType.PUBACK, packetId: 1, reasonCode: 0x10 }, 5)],
      [0x40, 3, 0, 1, 0x10],
    );
  });
  test('v5 DISCONNECT and AUTH with reason 0 and no properties have an empty body', () => {
    assert.deepEqual([...encode({ type: PacketType.DISCONNECT, reasonCode: 0 }, 5)], [0xe0, 0]);
    assert.deepEqual([...encode({ type: PacketType.AUTH, reasonCode: 0 }, 5)], [0xf0, 0]);
    assert.deepEqual(
      [...encode({ type: PacketType.DISCONNECT, reasonCode: 0x8e }, 5)],
      [0xe0, 1, 0x8e],
    );
  });
  test('v3 encodes ignore reason codes and properties', () => {
    assert.deepEqual(
      [
        ...encode(
          {
            type: PacketType.PUBACK,
            packetId: 1,
            reasonCode: 0x80,
            properties: { reasonString: 'x' },
          },
          4,
        ),
      ],
      [0x40, 2, 0, 1],
    );
    assert.deepEqual([...encode({ type: PacketType.DISCONNECT, reasonCode: 0x8e }, 4)], [0xe0, 0]);
    assert.deepEqual(
      [...encode({ type: PacketType.UNSUBACK, packetId: 3, reasonCodes: [0x11] }, 4)],
      [0xb0, 2, 0, 3],
    );
    const p = encode(publish({ properties: { contentType: 'x' } }), 4);
    assert.deepEqual([...p], [0x30, 7, 0, 3, 0x61, 0x2f, 0x62, 0x68, 0x69]);
  });
  test('CONNECT level 3 uses the MQIsdp protocol name', () => {
    const b = encode(
      {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 3,
        clean: true,
        keepalive: 0,
        clientId: 'c',
      },
      3,
    );
    assert.equal(b.subarray(4, 10).toString(), 'MQIsdp');
    assert.equal(b[10], 3);
  });
});

describe('shared PUBLISH', () => {
  test('QoS 0 has no packet id offset', () => {
    assert.equal(encodePublish(publish(), 4).packetIdOffset, -1);
  });
  test('withPacketId patches a copy and sets or clears DUP', () => {
    const shared = encodePublish(publish({ qos: 1, packetId: 1, retain: true }), 5);
    const before = Buffer.from(shared.buffer);
    const a = withPacketId(shared, 0xabcd, false);
    const b = withPacketId(shared, 7, true);
    assert.deepEqual(shared.buffer, before);
    assert.equal(a.readUInt16BE(shared.packetIdOffset), 0xabcd);
    assert.equal(b.readUInt16BE(shared.packetIdOffset), 7);
    assert.equal(a[0], 0x33);
    assert.equal(b[0], 0x3b);
    assert.deepEqual(
      a.subarray(shared.packetIdOffset + 2),
      before.subarray(shared.packetIdOffset + 2),
    );
  });
  test('encode() of a PUBLISH equals the shared buffer', () => {
    const p = publish({ qos: 2, packetId: 9, properties: { userProperties: [['a', 'b']] } });
    assert.deepEqual(encode(p, 5), encodePublish(p, 5).buffer);
  });
  test('writePublish0 writes in place what encodePublish makes for a v5 QoS 0 PUBLISH, within publish0Room', () => {
    const cases: Partial<PublishPacket>[] = [
      {},
      { topic: `${'x'.repeat(63)}é`, retain: true },
      { topic: 'grüße/€/𝄞', payload: Buffer.alloc(200, 7) },
      { topic: 't'.repeat(300), payload: Buffer.alloc(20_000, 1) },
      { payload: Buffer.alloc(0), properties: { contentType: 'a', userProperties: [['k', 'v']] } },
    ];
    for (const c of cases) {
      const p = publish(c);
      const propsLen = encodedPropertiesLength(p.properties);
      const room = publish0Room(p.topic, p.payload.length, propsLen);
      const buf = Buffer.alloc(room + 6, 0xee);
      const end = writePublish0(buf, 3, p.topic, p.payload, p.retain, p.properties, propsLen);
      assert.ok(end <= 3 + room, p.topic);
      assert.deepEqual(buf.subarray(3, end), encodePublish(p, 5).buffer, p.topic);
      assert.equal(buf[2], 0xee);
    }
  });
});

describe('sizes', () => {
  test('variableByteIntegerLength boundaries', () => {
    for (const [n, len] of [
      [0, 1],
      [127, 1],
      [128, 2],
      [16_383, 2],
      [16_384, 3],
      [2_097_151, 3],
      [2_097_152, 4],
      [268_435_455, 4],
    ]) {
      assert.equal(variableByteIntegerLength(n), len, String(n));
    }
  });
  test('remaining length uses 1, 2 and 3 bytes as the body grows', () => {
    for (const [size, headerLen] of [
      [100, 2],
      [200, 3],
      [20_000, 4],
    ]) {
      const b = encode(publish({ topic: 't', payload: Buffer.alloc(size) }), 4);
      assert.equal(b.length, headerLen + 3 + size);
    }
  });
});
