// Codec throughput, Heron vs mqtt-packet side by side in the same process:
// `npm run bench:codec`. Decoding feeds ~64 KB chunks of back-to-back packets (what
// a busy socket delivers); encoding produces one Buffer per packet.
import mqtt from 'mqtt-packet';
import {
  Decoder,
  encode,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
} from '../src/protocol/index.js';

interface Case {
  name: string;
  version: ProtocolVersion;
  packet: PublishPacket;
}

const payload = Buffer.alloc(64, 0x41);
const cases: Case[] = [
  {
    name: 'QoS 0 PUBLISH, 64 B (3.1.1)',
    version: 4,
    packet: {
      type: 3,
      topic: 'sensors/building-1/floor-2/temperature',
      payload,
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
    },
  },
  {
    name: 'QoS 1 PUBLISH, 64 B (3.1.1)',
    version: 4,
    packet: {
      type: 3,
      topic: 'sensors/building-1/floor-2/temperature',
      payload,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 4242,
    },
  },
  {
    name: 'v5 PUBLISH + properties, 64 B',
    version: 5,
    packet: {
      type: 3,
      topic: 'sensors/building-1/floor-2/temperature',
      payload,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 4242,
      properties: {
        payloadFormatIndicator: 1,
        messageExpiryInterval: 3600,
        contentType: 'application/json',
        responseTopic: 'replies/client-7',
        userProperties: [
          ['tenant', 'acme'],
          ['trace', 'abc123'],
        ],
      },
    },
  },
];

function toMqttPacket(p: PublishPacket): mqtt.IPublishPacket {
  const props = p.properties;
  return {
    cmd: 'publish',
    topic: p.topic,
    payload: p.payload,
    qos: p.qos,
    retain: p.retain,
    dup: p.dup,
    messageId: p.qos > 0 ? p.packetId : undefined,
    properties: props && {
      payloadFormatIndicator: props.payloadFormatIndicator === 1,
      messageExpiryInterval: props.messageExpiryInterval,
      contentType: props.contentType,
      responseTopic: props.responseTopic,
      userProperties: Object.fromEntries(props.userProperties ?? []),
    },
  };
}

/** Runs `fn` (which returns how many packets it handled) for about `ms`; returns packets/s. */
function measure(fn: () => number, ms = 1000): number {
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) fn();
  let packets = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 20; i++) packets += fn();
    now = performance.now();
  }
  return (packets / (now - start)) * 1000;
}

const fmt = (n: number) => `${(n / 1e6).toFixed(2)} M/s`.padStart(11);

const results: string[] = [];
let worst = Number.POSITIVE_INFINITY;
for (const c of cases) {
  const one = encode(c.packet, c.version);
  const perChunk = Math.max(1, Math.floor(65536 / one.length));
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => one));

  let heronCount = 0;
  const decoder = new Decoder(
    {
      onPacket(_p: Packet) {
        heronCount++;
      },
    },
    { protocolVersion: c.version },
  );
  const heronDecode = measure(() => {
    decoder.feed(chunk);
    return perChunk;
  });

  let theirCount = 0;
  const parser = mqtt.parser({ protocolVersion: c.version });
  parser.on('packet', () => {
    theirCount++;
  });
  const theirDecode = measure(() => {
    parser.parse(chunk);
    return perChunk;
  });
  if (heronCount === 0 || theirCount === 0) throw new Error('decoders produced nothing');

  const packet = c.packet;
  const version = c.version;
  const heronEncode = measure(() => {
    let n = 0;
    for (let i = 0; i < 100; i++) n += encode(packet, version).length > 0 ? 1 : 0;
    return n;
  });
  const theirPacket = toMqttPacket(packet);
  const opts = { protocolVersion: version };
  if (!mqtt.generate(theirPacket, opts).equals(one)) {
    console.warn(`note: mqtt-packet encodes "${c.name}" with different bytes (property order)`);
  }
  const theirEncode = measure(() => {
    let n = 0;
    for (let i = 0; i < 100; i++) n += mqtt.generate(theirPacket, opts).length > 0 ? 1 : 0;
    return n;
  });

  const dr = heronDecode / theirDecode;
  const er = heronEncode / theirEncode;
  worst = Math.min(worst, dr, er);
  results.push(
    `${c.name.padEnd(32)} decode ${fmt(heronDecode)} vs ${fmt(theirDecode)}  x${dr.toFixed(1).padEnd(5)}` +
      ` encode ${fmt(heronEncode)} vs ${fmt(theirEncode)}  x${er.toFixed(1)}`,
  );
}

console.log(`Node ${process.version}, packets per second, Heron vs mqtt-packet ${'(ratio)'}`);
for (const r of results) console.log(r);
console.log(`lowest ratio: x${worst.toFixed(1)} (goal x3.0)`);
