// Translation between Heron's packet objects and mqtt-packet's, and a canonical
// form both can be compared in (mqtt-packet groups user properties by key and
// uses booleans for byte properties).
import type { Packet, ProtocolVersion } from '../../../src/protocol/index.js';
import type { Properties } from '../../../src/protocol/properties.js';

// biome-ignore lint/suspicious/noExplicitAny: mqtt-packet's objects are loosely typed.
type Loose = Record<string, any>;

const CMD = [
  '',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
];

const BOOLEAN_PROPS = new Set([
  'payloadFormatIndicator',
  'requestProblemInformation',
  'requestResponseInformation',
  'retainAvailable',
  'wildcardSubscriptionAvailable',
  'subscriptionIdentifiersAvailable',
  'sharedSubscriptionAvailable',
]);

function propsToTheirs(props: Properties | undefined): Loose | undefined {
  if (props === undefined) return undefined;
  const out: Loose = {};
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'userProperties') {
      const up: Loose = {};
      for (const [name, value] of v as Array<[string, string]>) {
        if (name in up) up[name] = [...[up[name]].flat(), value];
        else up[name] = value;
      }
      out.userProperties = up;
    } else if (k === 'subscriptionIdentifiers') {
      const ids = v as number[];
      out.subscriptionIdentifier = ids.length === 1 ? ids[0] : ids;
    } else if (BOOLEAN_PROPS.has(k)) out[k] = v === 1;
    else out[k] = v;
  }
  return out;
}

function propsFromTheirs(props: Loose | undefined, subscribe = false): Properties | undefined {
  if (props === undefined || Object.keys(props).length === 0) return undefined;
  const out: Loose = {};
  for (const [k, v] of Object.entries(props)) {
    if (k === 'userProperties') {
      const pairs: Array<[string, string]> = [];
      for (const [name, value] of Object.entries(v as Loose)) {
        for (const one of [value].flat()) pairs.push([name, one as string]);
      }
      out.userProperties = pairs;
    } else if (k === 'subscriptionIdentifier') {
      out.subscriptionIdentifiers = Array.isArray(v) ? v : [v];
      void subscribe;
    } else if (BOOLEAN_PROPS.has(k)) out[k] = v ? 1 : 0;
    else out[k] = v;
  }
  return out as Properties;
}

/** Heron packet → mqtt-packet object (for mqtt-packet's generator). */
export function toMqttPacket(p: Packet, version: ProtocolVersion): Loose {
  const cmd = CMD[p.type];
  switch (p.type) {
    case 1:
      return {
        cmd,
        protocolId: p.protocolName,
        protocolVersion: version,
        clean: p.clean,
        keepalive: p.keepalive,
        clientId: p.clientId,
        will: p.will && {
          topic: p.will.topic,
          payload: p.will.payload,
          qos: p.will.qos,
          retain: p.will.retain,
          properties: propsToTheirs(p.will.properties),
        },
        username: p.username,
        password: p.password,
        properties: propsToTheirs(p.properties),
      };
    case 2:
      return {
        cmd,
        sessionPresent: p.sessionPresent,
        ...(version === 5 ? { reasonCode: p.reasonCode } : { returnCode: p.reasonCode }),
        properties: propsToTheirs(p.properties),
      };
    case 3:
      return {
        cmd,
        topic: p.topic,
        payload: p.payload,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        messageId: p.qos > 0 ? p.packetId : undefined,
        properties: propsToTheirs(p.properties),
      };
    case 4:
    case 5:
    case 6:
    case 7:
      return {
        cmd,
        messageId: p.packetId,
        reasonCode: p.reasonCode,
        properties: propsToTheirs(p.properties),
      };
    case 8:
      return {
        cmd,
        messageId: p.packetId,
        subscriptions: p.subscriptions.map((s) =>
          version === 5
            ? {
                topic: s.topic,
                qos: s.qos,
                nl: s.noLocal,
                rap: s.retainAsPublished,
                rh: s.retainHandling,
              }
            : { topic: s.topic, qos: s.qos },
        ),
        properties: propsToTheirs(p.properties),
      };
    case 9:
      return {
        cmd,
        messageId: p.packetId,
        granted: p.reasonCodes,
        properties: propsToTheirs(p.properties),
      };
    case 10:
      return {
        cmd,
        messageId: p.packetId,
        unsubscriptions: p.topics,
        properties: propsToTheirs(p.properties),
      };
    case 11:
      return {
        cmd,
        messageId: p.packetId,
        granted: version === 5 ? p.reasonCodes : undefined,
        properties: propsToTheirs(p.properties),
      };
    case 12:
    case 13:
      return { cmd };
    default:
      return { cmd, reasonCode: p.reasonCode, properties: propsToTheirs(p.properties) };
  }
}

/** mqtt-packet object (from its parser) → Heron packet. */
export function fromMqttPacket(m: Loose, version: ProtocolVersion): Packet {
  const type = CMD.indexOf(m.cmd);
  switch (type) {
    case 1: {
      const p: Loose = {
        type,
        protocolName: m.protocolId,
        protocolVersion: m.protocolVersion,
        clean: m.clean,
        keepalive: m.keepalive,
        clientId: m.clientId,
      };
      if (m.will) {
        p.will = {
          topic: m.will.topic,
          payload: m.will.payload,
          qos: m.will.qos,
          retain: m.will.retain,
          properties: propsFromTheirs(m.will.properties),
        };
      }
      if (m.username !== undefined) p.username = m.username;
      if (m.password !== undefined) p.password = m.password;
      p.properties = propsFromTheirs(m.properties);
      return p as Packet;
    }
    case 2:
      return {
        type,
        sessionPresent: m.sessionPresent,
        reasonCode: version === 5 ? m.reasonCode : m.returnCode,
        properties: propsFromTheirs(m.properties),
      };
    case 3:
      return {
        type,
        topic: m.topic,
        payload: m.payload,
        qos: m.qos,
        retain: m.retain,
        dup: m.dup,
        packetId: m.qos > 0 ? m.messageId : 0,
        properties: propsFromTheirs(m.properties),
      };
    case 4:
    case 5:
    case 6:
    case 7:
      return {
        type,
        packetId: m.messageId,
        reasonCode: m.reasonCode ?? 0,
        properties: propsFromTheirs(m.properties),
      } as Packet;
    case 8:
      return {
        type,
        packetId: m.messageId,
        subscriptions: m.subscriptions.map((s: Loose) => ({
          topic: s.topic,
          qos: s.qos,
          noLocal: s.nl ?? false,
          retainAsPublished: s.rap ?? false,
          retainHandling: s.rh ?? 0,
        })),
        properties: propsFromTheirs(m.properties, true),
      };
    case 9:
      return {
        type,
        packetId: m.messageId,
        reasonCodes: m.granted,
        properties: propsFromTheirs(m.properties),
      };
    case 10:
      return {
        type,
        packetId: m.messageId,
        topics: m.unsubscriptions,
        properties: propsFromTheirs(m.properties),
      };
    case 11:
      return {
        type,
        packetId: m.messageId,
        reasonCodes: m.granted ?? [],
        properties: propsFromTheirs(m.properties),
      };
    case 12:
    case 13:
      return { type } as Packet;
    default:
      return {
        type,
        reasonCode: m.reasonCode ?? 0,
        properties: propsFromTheirs(m.properties),
      } as Packet;
  }
}

/**
 * Comparable form of a Heron packet: undefined fields dropped, user properties
 * grouped by name in first-appearance order (what mqtt-packet can represent),
 * buffers as hex.
 */
export function canonical(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Loose = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (k === 'userProperties') {
      const grouped: Loose = {};
      for (const [name, val] of v as Array<[string, string]>) {
        if (grouped[name] === undefined) grouped[name] = [];
        grouped[name].push(val);
      }
      out[k] = grouped;
    } else out[k] = canonical(v);
  }
  return out;
}
