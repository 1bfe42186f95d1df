// Seeded generator of valid random packets of every type and version, for the
// differential and fuzz tests. Deterministic: the same seed gives the same packets.

import { PacketType } from '../../../src/protocol/constants.js';
import type { Packet, ProtocolVersion, QoS, Subscription } from '../../../src/protocol/index.js';
import type { ConnectPacket, PublishPacket } from '../../../src/protocol/packets.js';
import {
  PROPERTY_DEFINITIONS,
  type Properties,
  WILL_PROPERTIES,
} from '../../../src/protocol/properties.js';

/** mulberry32: small, fast, good enough for test data. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(p = 0.5): boolean {
    return this.next() / 4294967296 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

const CHARS = [
  'a',
  'b',
  'c',
  'x',
  'Z',
  '0',
  '9',
  '-',
  '_',
  '.',
  ' ',
  'é',
  'ü',
  '✓',
  '中',
  '😀',
  '$',
];

function randomString(rng: Rng, max = 12, min = 0): string {
  const n = rng.range(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(CHARS);
  return s;
}

function level(rng: Rng): string {
  return randomString(rng, 6, 1).replace(/\$/g, 's');
}

function randomTopicName(rng: Rng): string {
  const n = rng.range(1, 5);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.bool(0.1) ? '' : level(rng));
  const t = parts.join('/');
  return t.length === 0 ? 'x' : t;
}

function randomTopicFilter(rng: Rng): string {
  const n = rng.range(1, 5);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.bool(0.25) ? '+' : level(rng));
  if (rng.bool(0.3)) parts.push('#');
  return parts.join('/');
}

const USER_KEYS = ['k', 'key', 'ünï', 'a b'];

function randomValue(rng: Rng, name: keyof Properties, type: number): unknown {
  switch (name) {
    case 'payloadFormatIndicator':
    case 'requestProblemInformation':
    case 'requestResponseInformation':
    case 'retainAvailable':
    case 'wildcardSubscriptionAvailable':
    case 'subscriptionIdentifiersAvailable':
    case 'sharedSubscriptionAvailable':
    case 'maximumQoS':
      return rng.int(2);
    case 'receiveMaximum':
    case 'topicAlias':
      return rng.range(1, 65535);
    case 'topicAliasMaximum':
    case 'serverKeepAlive':
      return rng.int(65536);
    case 'maximumPacketSize':
      return rng.range(1, 0xffffffff);
    case 'messageExpiryInterval':
    case 'sessionExpiryInterval':
    case 'willDelayInterval':
      return rng.pick([0, 1, 127, 128, 65536, 0xffffffff, rng.next()]);
    case 'subscriptionIdentifiers': {
      const n = type === PacketType.PUBLISH ? rng.range(1, 3) : 1;
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        out.push(
          rng.pick([1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, rng.range(1, 1e6)]),
        );
      }
      return out;
    }
    case 'responseTopic':
      return randomTopicName(rng);
    case 'correlationData':
    case 'authenticationData':
      return rng.bytes(rng.int(20));
    case 'userProperties': {
      const n = rng.range(1, 4);
      const out: Array<[string, string]> = [];
      for (let i = 0; i < n; i++) out.push([rng.pick(USER_KEYS), randomString(rng, 8, 1)]);
      return out;
    }
    default:
      return randomString(rng, 16);
  }
}

/** Random valid properties for packet `type` (WILL_PROPERTIES for the will), or undefined. */
function randomProperties(rng: Rng, type: number): Properties | undefined {
  if (rng.bool(0.3)) return undefined;
  const props: Record<string, unknown> = {};
  for (const def of PROPERTY_DEFINITIONS) {
    if (!def.packets.includes(type) || !rng.bool(0.35)) continue;
    props[def.name] = randomValue(rng, def.name, type);
  }
  return Object.keys(props).length > 0 ? (props as Properties) : undefined;
}

const PUBACK_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_CODES = [0x00, 0x92];
const SUBACK_CODES_5 = [0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
const UNSUBACK_CODES = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
const DISCONNECT_CODES = [
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x93, 0x9c,
];
const CONNACK_CODES_5 = [0x00, 0x80, 0x81, 0x82, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x9c];
const AUTH_CODES = [0x00, 0x18, 0x19];

function qos(rng: Rng): QoS {
  return rng.int(3) as QoS;
}

/** A random valid packet of `type` (1-15) for `version`. */
export function randomPacketOfType(rng: Rng, type: number, version: ProtocolVersion): Packet {
  const v5 = version === 5;
  const props = (t: number) => (v5 ? randomProperties(rng, t) : undefined);
  switch (type) {
    case 1: {
      const p: ConnectPacket = {
        type: PacketType.CONNECT,
        protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
        protocolVersion: version,
        clean: rng.bool(),
        keepalive: rng.int(65536),
        clientId: randomString(rng, 23),
      };
      if (rng.bool()) {
        p.will = {
          topic: randomTopicName(rng),
          payload: rng.bytes(rng.int(40)),
          qos: qos(rng),
          retain: rng.bool(),
        };
        const wp = props(WILL_PROPERTIES);
        if (wp) p.will.properties = wp;
      }
      const user = rng.bool(0.6);
      if (user) p.username = randomString(rng, 10);
      if (rng.bool(0.6) && (user || v5)) p.password = rng.bytes(rng.int(20));
      const cp = props(PacketType.CONNECT);
      if (cp) p.properties = cp;
      return p;
    }
    case 2:
      return {
        type: PacketType.CONNACK,
        sessionPresent: rng.bool(),
        reasonCode: v5 ? rng.pick(CONNACK_CODES_5) : rng.int(6),
        properties: props(PacketType.CONNACK),
      };
    case 3: {
      const q = qos(rng);
      const p: PublishPacket = {
        type: PacketType.PUBLISH,
        topic: randomTopicName(rng),
        payload: rng.bytes(rng.pick([0, 1, 10, 64, 200, rng.int(3000)])),
        qos: q,
        retain: rng.bool(),
        dup: q > 0 && rng.bool(0.2),
        packetId: q > 0 ? rng.range(1, 65535) : 0,
        properties: props(PacketType.PUBLISH),
      };
      if (v5 && rng.bool(0.1)) {
        p.topic = '';
        p.properties = { ...p.properties, topicAlias: rng.range(1, 100) };
      }
      return p;
    }
    case 4:
    case 5:
    case 6:
    case 7: {
      const codes =
        type === PacketType.PUBACK || type === PacketType.PUBREC ? PUBACK_CODES : PUBREL_CODES;
      return {
        type,
        packetId: rng.range(1, 65535),
        reasonCode: v5 ? rng.pick(codes) : 0,
        properties: props(type),
      } as Packet;
    }
    case 8: {
      const n = rng.range(1, 4);
      const subscriptions: Subscription[] = [];
      for (let i = 0; i < n; i++) {
        subscriptions.push({
          topic: randomTopicFilter(rng),
          qos: qos(rng),
          noLocal: v5 && rng.bool(),
          retainAsPublished: v5 && rng.bool(),
          retainHandling: v5 ? (rng.int(3) as 0 | 1 | 2) : 0,
        });
      }
      return {
        type: PacketType.SUBSCRIBE,
        packetId: rng.range(1, 65535),
        subscriptions,
        properties: props(PacketType.SUBSCRIBE),
      };
    }
    case 9: {
      const n = rng.range(1, 4);
      const reasonCodes: number[] = [];
      for (let i = 0; i < n; i++) reasonCodes.push(rng.pick(v5 ? SUBACK_CODES_5 : [0, 1, 2, 0x80]));
      return {
        type: PacketType.SUBACK,
        packetId: rng.range(1, 65535),
        reasonCodes,
        properties: props(PacketType.SUBACK),
      };
    }
    case 10: {
      const n = rng.range(1, 4);
      const topics: string[] = [];
      for (let i = 0; i < n; i++) topics.push(randomTopicFilter(rng));
      return {
        type: PacketType.UNSUBSCRIBE,
        packetId: rng.range(1, 65535),
        topics,
        properties: props(PacketType.UNSUBSCRIBE),
      };
    }
    case 11: {
      const reasonCodes: number[] = [];
      if (v5) for (let i = rng.range(1, 4); i > 0; i--) reasonCodes.push(rng.pick(UNSUBACK_CODES));
      return {
        type: PacketType.UNSUBACK,
        packetId: rng.range(1, 65535),
        reasonCodes,
        properties: props(PacketType.UNSUBACK),
      };
    }
    case 12:
      return { type: PacketType.PINGREQ };
    case 13:
      return { type: PacketType.PINGRESP };
    case 14:
      return {
        type: PacketType.DISCONNECT,
        reasonCode: v5 ? rng.pick(DISCONNECT_CODES) : 0,
        properties: props(PacketType.DISCONNECT),
      };
    default:
      return {
        type: PacketType.AUTH,
        reasonCode: rng.pick(AUTH_CODES),
        properties: props(PacketType.AUTH),
      };
  }
}

/** A random valid packet of any type valid in `version`. */
export function randomPacket(rng: Rng, version: ProtocolVersion): Packet {
  return randomPacketOfType(
    rng,
    rng.range(PacketType.CONNECT, version === 5 ? PacketType.AUTH : PacketType.DISCONNECT),
    version,
  );
}
