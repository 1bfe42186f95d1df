// Differential test against the mqtt-packet library: thousands of seeded random
// packets of every type and version. Our bytes must parse identically with
// mqtt-packet's parser, and mqtt-packet's bytes must decode identically with ours.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mqtt from 'mqtt-packet';
import { PacketType } from '../../src/protocol/constants.js';
import { Decoder, encode, type Packet, type ProtocolVersion } from '../../src/protocol/index.js';
import { canonical, fromMqttPacket, toMqttPacket } from './support/mqtt-packet-mapping.js';
import { Rng, randomPacketOfType } from './support/random-packets.js';

const PER_TYPE = 150;

function theirParse(bytes: Buffer, version: ProtocolVersion): unknown[] {
  const parser = mqtt.parser({ protocolVersion: version });
  const out: unknown[] = [];
  let error: Error | undefined;
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => {
    error ??= e;
  });
  parser.parse(bytes);
  if (error) throw error;
  return out;
}

function ourDecode(bytes: Buffer, version: ProtocolVersion): Packet[] {
  const out: Packet[] = [];
  const decoder = new Decoder({ onPacket: (p) => out.push(p) }, { protocolVersion: version });
  decoder.feed(bytes);
  return out;
}

/**
 * Spec-legal v5 short forms mqtt-packet 9 cannot parse: an AUTH with no body
 * (reason 0x00, no properties, MQTT 5.0 section 3.15.2.1) is rejected by its parser.
 */
function mqttPacketCannotParse(p: Packet, version: ProtocolVersion): boolean {
  return (
    version === 5 && p.type === PacketType.AUTH && p.reasonCode === 0 && p.properties === undefined
  );
}

/**
 * mqtt-packet applies server policy on top of the wire format: it refuses empty
 * client ids (3.1, or 3.1.1 without clean session) and a password without a
 * user name even in 5.0. Give such CONNECTs the fields it insists on.
 */
function acceptableToMqttPacket(p: Packet): Packet {
  if (p.type !== PacketType.CONNECT) return p;
  const out = { ...p };
  if (out.clientId === '') out.clientId = 'id';
  if (out.password !== undefined && out.username === undefined) out.username = 'u';
  return out;
}

for (const version of [3, 4, 5] as ProtocolVersion[]) {
  describe(`differential vs mqtt-packet, MQTT level ${version}`, () => {
    const lastType = version === 5 ? PacketType.AUTH : PacketType.DISCONNECT;
    for (let type = 1; type <= lastType; type++) {
      test(`packet type ${type}: ${PER_TYPE} random packets both ways`, () => {
        const rng = new Rng(version * 1000 + type);
        for (let i = 0; i < PER_TYPE; i++) {
          const packet = acceptableToMqttPacket(randomPacketOfType(rng, type, version));
          const expected = canonical(packet);

          // Our encoder → mqtt-packet's parser.
          const ours = encode(packet, version);
          if (!mqttPacketCannotParse(packet, version)) {
            const parsed = theirParse(ours, version);
            assert.equal(parsed.length, 1);
            assert.deepEqual(
              canonical(fromMqttPacket(parsed[0] as Record<string, unknown>, version)),
              expected,
              `mqtt-packet parsed our ${JSON.stringify(expected)} differently`,
            );
          }

          // mqtt-packet's generator → our decoder.
          const theirs = mqtt.generate(toMqttPacket(packet, version) as mqtt.Packet, {
            protocolVersion: version,
          });
          const decoded = ourDecode(theirs, version);
          assert.equal(decoded.length, 1);
          assert.deepEqual(
            canonical(decoded[0]),
            expected,
            `we decoded mqtt-packet's ${JSON.stringify(expected)} differently`,
          );
        }
      });
    }
  });
}
