// Every sample packet of every version survives encode → decode unchanged, however
// the bytes are split into chunks, and payloads come back as slices of the input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import {
  Decoder,
  encode,
  type Packet,
  type PacketSink,
  type ProtocolVersion,
} from '../../src/protocol/index.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { normalize, samplePackets } from './support/samples.js';

class Collect implements PacketSink {
  packets: Packet[] = [];
  onPacket(packet: Packet): void {
    this.packets.push(packet);
  }
}

function decodeChunks(chunks: Buffer[], version: ProtocolVersion): Packet[] {
  const sink = new Collect();
  const decoder = new Decoder(sink, { protocolVersion: version });
  for (const c of chunks) decoder.feed(c);
  assert.equal(decoder.bufferedBytes, 0);
  return sink.packets;
}

const VERSIONS: ProtocolVersion[] = [3, 4, 5];

for (const version of VERSIONS) {
  describe(`MQTT level ${version} round trip`, () => {
    const samples = samplePackets(version);
    for (const [label, packet] of samples) {
      test(label, () => {
        const bytes = encode(packet, version);
        const [decoded] = decodeChunks([bytes], version);
        assert.deepEqual(normalize(decoded), normalize(packet));
        // Re-encoding what was decoded gives the same bytes.
        assert.deepEqual(encode(decoded, version), bytes);
      });
    }

    test('every packet split at every byte offset', () => {
      for (const [label, packet] of samples) {
        const bytes = encode(packet, version);
        if (bytes.length > 1000) continue;
        for (let cut = 1; cut < bytes.length; cut++) {
          const got = decodeChunks([bytes.subarray(0, cut), bytes.subarray(cut)], version);
          assert.equal(got.length, 1, `${label} cut at ${cut}`);
          assert.deepEqual(normalize(got[0]), normalize(packet), `${label} cut at ${cut}`);
        }
      }
    });

    test('every packet fed one byte at a time', () => {
      for (const [label, packet] of samples) {
        const bytes = encode(packet, version);
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
        const got = decodeChunks(chunks, version);
        assert.deepEqual(normalize(got), [normalize(packet)], label);
      }
    });

    test('all packets concatenated in one chunk, and split at every offset', () => {
      const all = samples.map(([, p]) => p);
      const parts = all.map((p) => encode(p, version));
      const joined = Buffer.concat(parts);
      assert.deepEqual(normalize(decodeChunks([joined], version)), normalize(all));
      const small = Buffer.concat(parts.filter((p) => p.length < 300));
      const expected = all.filter((_, i) => parts[i].length < 300);
      for (let cut = 1; cut < small.length; cut += 7) {
        const got = decodeChunks([small.subarray(0, cut), small.subarray(cut)], version);
        assert.equal(got.length, expected.length);
      }
    });
  });
}

describe('zero-copy payloads', () => {
  test('PUBLISH payload, correlation data, will payload and password are slices of the chunk', () => {
    const samples = samplePackets(5);
    const input = Buffer.concat(samples.map(([, p]) => encode(p, 5)));
    const got = decodeChunks([input], 5);
    let checked = 0;
    const isSlice = (b: Buffer | undefined) => {
      if (b === undefined || b.length === 0) return;
      assert.equal(b.buffer, input.buffer);
      assert.ok(b.byteOffset >= input.byteOffset);
      checked++;
    };
    for (const p of got) {
      if (p.type === PacketType.PUBLISH) {
        isSlice(p.payload);
        isSlice(p.properties?.correlationData);
      } else if (p.type === PacketType.CONNECT) {
        isSlice(p.password);
        isSlice(p.will?.payload);
        isSlice(p.will?.properties?.correlationData);
        isSlice(p.properties?.authenticationData);
      }
    }
    assert.ok(checked >= 8, `only ${checked} slices checked`);
  });

  test('a packet spanning chunks is assembled once into a buffer of exactly its size', () => {
    const packet: Packet = {
      type: PacketType.PUBLISH,
      topic: 't',
      payload: Buffer.alloc(10_000, 3),
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
    };
    const bytes = encode(packet, 4);
    const got = decodeChunks(
      [bytes.subarray(0, 10), bytes.subarray(10, 5000), bytes.subarray(5000)],
      4,
    );
    const payload = (got[0] as PublishPacket).payload;
    // Buffers this large are not pooled, so the backing store is the assembled packet itself.
    assert.equal(payload.buffer.byteLength, bytes.length);
    assert.equal(payload.byteOffset, bytes.length - 10_000);
    assert.deepEqual(payload, packet.payload);
  });
});
