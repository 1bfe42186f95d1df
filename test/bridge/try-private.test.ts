import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import { Decoder } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type { ConnectPacket, Packet } from '../../src/protocol/packets.js';

function connectPacket(version: 3 | 4 | 5, bridge: boolean): ConnectPacket {
  return {
    type: PacketType.CONNECT,
    protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean: true,
    keepalive: 60,
    clientId: 'b',
    bridge,
  };
}

function decode(buf: Buffer): ConnectPacket {
  const got: Packet[] = [];
  new Decoder({ onPacket: (p) => got.push(p) }).feed(buf);
  return got[0] as ConnectPacket;
}

for (const version of [3, 4] as const) {
  test(`try_private: a v${version} bridge CONNECT carries level 0x80|${version} and decodes as a bridge`, () => {
    const buf = encode(connectPacket(version, true), version);
    const nameLen = version === 3 ? 6 : 4;
    assert.equal(buf[2 + 2 + nameLen], 0x80 | version);
    const p = decode(buf);
    assert.equal(p.protocolVersion, version);
    assert.equal(p.bridge, true);
    assert.equal(decode(encode(connectPacket(version, false), version)).bridge, undefined);
  });
}

test('try_private: MQTT 5 never sets the bridge bit, and 0x85 is refused', () => {
  const buf = encode(connectPacket(5, true), 5);
  assert.equal(buf[8], 5);
  buf[8] = 0x85;
  assert.throws(() => decode(buf), /unsupported protocol level/);
});
