/**
 * Parses the body of one complete MQTT packet (any version) into a typed packet,
 * validating everything the 3.1, 3.1.1 and 5.0 specs put on the wire format.
 *
 * The read cursor lives in module variables rather than an object: parsing is
 * synchronous, never calls out, and this keeps the hot path free of per-packet
 * allocations beyond the packet itself.
 */
import { isUtf8 } from 'node:buffer';
import './buffer-internals.js';
import { PacketType, type ProtocolVersion, type QoS, ReasonCode } from './constants.js';
import { malformed, ProtocolError, protocolError } from './errors.js';
import type {
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
  Will,
} from './packets.js';
import { PROPERTY_BY_ID, type Properties, WILL_PROPERTIES } from './properties.js';
import { isValidTopicFilter, SHARED_PREFIX } from './topic.js';

let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;
let version: ProtocolVersion = 4;
/** Whether `buf` is reused after parsing: binary fields and payloads are then copied out of it. */
let copyOut = false;

/** Bit per packet type (bit 0 = will properties) that may carry each property id. */
const ALLOWED_IN: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let id = 0; id < 256; id++) {
    const def = PROPERTY_BY_ID[id];
    if (def) for (const p of def.packets) t[id] |= 1 << p;
  }
  return t;
})();

/** Statement id of the rule that applies in the version being parsed. */
function sid(v311: string, v5: string): string {
  return version === 5 ? v5 : v311;
}

function tooShort(what: string): ProtocolError {
  return malformed(`packet too short for ${what}`);
}

function readByte(what: string): number {
  if (pos >= end) throw tooShort(what);
  return buf[pos++];
}

function readUint16(what: string): number {
  if (pos + 2 > end) throw tooShort(what);
  const v = (buf[pos] << 8) | buf[pos + 1];
  pos += 2;
  return v;
}

function readUint32(what: string): number {
  if (pos + 4 > end) throw tooShort(what);
  const v = buf.readUInt32BE(pos);
  pos += 4;
  return v;
}

function readVarint(what: string): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (pos >= end) throw tooShort(what);
    const b = buf[pos++];
    value += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (b === 0 && i > 0) throw malformed(`${what} is not minimally encoded`, 'MQTT-1.5.5-1');
      return value;
    }
    mul *= 128;
  }
  throw malformed(`${what} is longer than 4 bytes`);
}

function readPacketId(what: string): number {
  const id = readUint16(what);
  if (id === 0) {
    throw protocolError(`${what} has packet identifier 0`, sid('MQTT-2.3.1-1', 'MQTT-2.2.1-3'));
  }
  return id;
}

/** Decodes and validates UTF-8 in buf[s, e): well-formed, no surrogates, no U+0000. */
function decodeUtf8(s: number, e: number, what: string): string {
  let i = s;
  for (; i < e; i++) {
    const c = buf[i];
    if (c === 0) throw nulError(what);
    if (c >= 0x80) break;
  }
  if (i === e) return buf.latin1Slice(s, e);
  if (!isUtf8(buf.subarray(s, e))) {
    throw malformed(`${what} is not well-formed UTF-8`, sid('MQTT-1.5.3-1', 'MQTT-1.5.4-1'));
  }
  for (; i < e; i++) if (buf[i] === 0) throw nulError(what);
  return buf.utf8Slice(s, e);
}

function nulError(what: string): ProtocolError {
  return malformed(`${what} contains U+0000`, sid('MQTT-1.5.3-2', 'MQTT-1.5.4-2'));
}

function readString(what: string): string {
  const len = readUint16(what);
  const s = pos;
  const e = s + len;
  if (e > end) throw tooShort(what);
  pos = e;
  return decodeUtf8(s, e, what);
}

function readBinary(what: string): Buffer {
  const len = readUint16(what);
  const s = pos;
  const e = s + len;
  if (e > end) throw tooShort(what);
  pos = e;
  return copyOut ? Buffer.from(buf.subarray(s, e)) : buf.subarray(s, e);
}

function expectEnd(what: string): void {
  if (pos !== end) throw malformed(`${what} has ${end - pos} unexpected trailing bytes`);
}

function atMostOne(v: number, name: string): number {
  if (v > 1) throw protocolError(`${name} must be 0 or 1, got ${v}`);
  return v;
}

/**
 * Reads a v5 property list. `type` is the packet type, or WILL_PROPERTIES for
 * the will properties of CONNECT. Returns undefined for an empty list.
 */
function readProperties(type: number): Properties | undefined {
  const len = readVarint('property length');
  if (len === 0) return undefined;
  const listEnd = pos + len;
  if (listEnd > end) throw malformed('property length overruns the packet');
  const outerEnd = end;
  end = listEnd;
  const props: Properties = {};
  const mask = 1 << type;
  while (pos < listEnd) {
    const id = buf[pos++];
    const def = PROPERTY_BY_ID[id];
    if (def === undefined) throw malformed(`unknown property identifier 0x${id.toString(16)}`);
    if ((ALLOWED_IN[id] & mask) === 0) {
      throw malformed(`property ${def.name} is not allowed in this packet`);
    }
    if (!def.repeatable && props[def.name] !== undefined) {
      throw protocolError(`property ${def.name} appears more than once`);
    }
    switch (id) {
      case 0x01:
        props.payloadFormatIndicator = atMostOne(readByte(def.name), def.name);
        break;
      case 0x02:
        props.messageExpiryInterval = readUint32(def.name);
        break;
      case 0x03:
        props.contentType = readString(def.name);
        break;
      case 0x08: {
        const t = readString(def.name);
        if (t.length === 0 || t.includes('+') || t.includes('#')) {
          throw protocolError('response topic is not a valid topic name', 'MQTT-3.3.2-14');
        }
        props.responseTopic = t;
        break;
      }
      case 0x09:
        props.correlationData = readBinary(def.name);
        break;
      case 0x0b: {
        const v = readVarint(def.name);
        if (v === 0) throw protocolError('subscription identifier 0');
        const list = props.subscriptionIdentifiers;
        if (list === undefined) props.subscriptionIdentifiers = [v];
        else if (type === PacketType.SUBSCRIBE) {
          throw protocolError('more than one subscription identifier in SUBSCRIBE');
        } else list.push(v);
        break;
      }
      case 0x11:
        props.sessionExpiryInterval = readUint32(def.name);
        break;
      case 0x12:
        props.assignedClientIdentifier = readString(def.name);
        break;
      case 0x13:
        props.serverKeepAlive = readUint16(def.name);
        break;
      case 0x15:
        props.authenticationMethod = readString(def.name);
        break;
      case 0x16:
        props.authenticationData = readBinary(def.name);
        break;
      case 0x17:
        props.requestProblemInformation = atMostOne(readByte(def.name), def.name);
        break;
      case 0x18:
        props.willDelayInterval = readUint32(def.name);
        break;
      case 0x19:
        props.requestResponseInformation = atMostOne(readByte(def.name), def.name);
        break;
      case 0x1a:
        props.responseInformation = readString(def.name);
        break;
      case 0x1c:
        props.serverReference = readString(def.name);
        break;
      case 0x1f:
        props.reasonString = readString(def.name);
        break;
      case 0x21: {
        const v = readUint16(def.name);
        if (v === 0) throw protocolError('receive maximum 0');
        props.receiveMaximum = v;
        break;
      }
      case 0x22:
        props.topicAliasMaximum = readUint16(def.name);
        break;
      case 0x23: {
        const v = readUint16(def.name);
        if (v === 0) {
          throw new ProtocolError(ReasonCode.TopicAliasInvalid, 'topic alias 0', 'MQTT-3.3.2-8');
        }
        props.topicAlias = v;
        break;
      }
      case 0x24:
        props.maximumQoS = atMostOne(readByte(def.name), def.name);
        break;
      case 0x25:
        props.retainAvailable = atMostOne(readByte(def.name), def.name);
        break;
      case 0x26: {
        const k = readString('user property name');
        const v = readString('user property value');
        const list = props.userProperties;
        if (list === undefined) props.userProperties = [[k, v]];
        else list.push([k, v]);
        break;
      }
      case 0x27: {
        const v = readUint32(def.name);
        if (v === 0) throw protocolError('maximum packet size 0');
        props.maximumPacketSize = v;
        break;
      }
      case 0x28:
        props.wildcardSubscriptionAvailable = atMostOne(readByte(def.name), def.name);
        break;
      case 0x29:
        props.subscriptionIdentifiersAvailable = atMostOne(readByte(def.name), def.name);
        break;
      case 0x2a:
        props.sharedSubscriptionAvailable = atMostOne(readByte(def.name), def.name);
        break;
    }
  }
  end = outerEnd;
  return props;
}

/**
 * Parses the packet whose body is `source[start, stop)`; `first` is the fixed
 * header's first byte. Throws ProtocolError on any violation (and may throw a
 * generic error only on a bug, which the decoder converts). With `copy` the
 * source is reused after the call: payloads and binary fields are copied out.
 */
export function parsePacket(
  source: Buffer,
  start: number,
  stop: number,
  first: number,
  protocolVersion: ProtocolVersion,
  copy = false,
): Packet {
  buf = source;
  copyOut = copy;
  pos = start;
  end = stop;
  version = protocolVersion;
  const type = first >> 4;
  const flags = first & 0x0f;
  if (type === PacketType.PUBLISH) return parsePublish(flags);
  if (
    type === PacketType.PUBREL ||
    type === PacketType.SUBSCRIBE ||
    type === PacketType.UNSUBSCRIBE
  ) {
    // MQTT 3.1 clients may set DUP on these when retrying; 3.1.1 and 5.0 forbid it.
    const f = version === 3 ? flags & 0x07 : flags;
    if (f !== 0x02) throw badFlags(type);
  } else if (flags !== 0) {
    throw badFlags(type);
  }
  switch (type) {
    case PacketType.CONNECT:
      return parseConnect();
    case PacketType.CONNACK:
      return parseConnack();
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return parseAck(type);
    case PacketType.SUBSCRIBE:
      return parseSubscribe();
    case PacketType.SUBACK:
      return parseSuback();
    case PacketType.UNSUBSCRIBE:
      return parseUnsubscribe();
    case PacketType.UNSUBACK:
      return parseUnsuback();
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      expectEnd(type === PacketType.PINGREQ ? 'PINGREQ' : 'PINGRESP');
      return { type };
    case PacketType.DISCONNECT:
      return parseDisconnect();
    case PacketType.AUTH:
      return parseAuth();
    default:
      throw malformed(`reserved packet type ${type}`);
  }
}

function badFlags(type: number): ProtocolError {
  return malformed(
    `invalid fixed header flags for packet type ${type}`,
    sid('MQTT-2.2.2-2', 'MQTT-2.1.3-1'),
  );
}

function parsePublish(flags: number): PublishPacket {
  const qos = (flags >> 1) & 0x03;
  if (qos === 3) throw malformed('PUBLISH with QoS 3', 'MQTT-3.3.1-4');
  const dup = (flags & 0x08) !== 0;
  if (dup && qos === 0) throw malformed('PUBLISH with DUP set on QoS 0', 'MQTT-3.3.1-2');
  // Topic name, inlined: the hottest path in the broker.
  if (pos + 2 > end) throw tooShort('topic name');
  const tlen = (buf[pos] << 8) | buf[pos + 1];
  const ts = pos + 2;
  const te = ts + tlen;
  if (te > end) throw tooShort('topic name');
  pos = te;
  let topic: string;
  let i = ts;
  for (; i < te; i++) {
    const c = buf[i];
    if (c === 0x2b || c === 0x23) {
      throw new ProtocolError(
        ReasonCode.TopicNameInvalid,
        'PUBLISH topic name contains a wildcard',
        'MQTT-3.3.2-2',
      );
    }
    if (c === 0) throw nulError('topic name');
    if (c >= 0x80) break;
  }
  if (i === te) topic = buf.latin1Slice(ts, te);
  else {
    topic = decodeUtf8(ts, te, 'topic name');
    if (topic.includes('+') || topic.includes('#')) {
      throw new ProtocolError(
        ReasonCode.TopicNameInvalid,
        'PUBLISH topic name contains a wildcard',
        'MQTT-3.3.2-2',
      );
    }
  }
  const packetId = qos > 0 ? readPacketId('PUBLISH') : 0;
  let properties: Properties | undefined;
  if (version === 5) {
    properties = readProperties(PacketType.PUBLISH);
    if (tlen === 0 && properties?.topicAlias === undefined) {
      throw protocolError('PUBLISH with empty topic name and no topic alias');
    }
  } else if (tlen === 0) {
    throw malformed('PUBLISH with empty topic name', 'MQTT-4.7.3-1');
  }
  return {
    type: PacketType.PUBLISH,
    topic,
    payload: copyOut ? Buffer.from(buf.subarray(pos, end)) : buf.subarray(pos, end),
    qos: qos as QoS,
    retain: (flags & 0x01) !== 0,
    dup,
    packetId,
    properties,
  };
}

function parseConnect(): ConnectPacket {
  const protocolName = readString('protocol name');
  let level = readByte('protocol level');
  // Bit 0x80 on a 3.1/3.1.1 level is Mosquitto's bridge announcement (try_private).
  const bridge = (level & 0x80) !== 0 && ((level & 0x7f) === 3 || (level & 0x7f) === 4);
  if (bridge) level &= 0x7f;
  if (protocolName === 'MQTT') {
    if (level !== 4 && level !== 5) {
      throw new ProtocolError(
        ReasonCode.UnsupportedProtocolVersion,
        `unsupported protocol level ${level}`,
        'MQTT-3.1.2-2',
      );
    }
  } else if (protocolName === 'MQIsdp') {
    if (level !== 3) {
      throw new ProtocolError(
        ReasonCode.UnsupportedProtocolVersion,
        `unsupported protocol level ${level} for MQIsdp`,
        'MQTT-3.1.2-2',
      );
    }
  } else {
    throw new ProtocolError(
      ReasonCode.UnsupportedProtocolVersion,
      `unsupported protocol name ${JSON.stringify(protocolName)}`,
      'MQTT-3.1.2-1',
    );
  }
  version = level as ProtocolVersion;
  const flags = readByte('connect flags');
  if (flags & 0x01) throw malformed('CONNECT reserved flag is set', 'MQTT-3.1.2-3');
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  const hasUsername = (flags & 0x80) !== 0;
  if (!willFlag) {
    if (willQos !== 0) {
      throw malformed('will QoS set without will flag', sid('MQTT-3.1.2-13', 'MQTT-3.1.2-11'));
    }
    if (willRetain) {
      throw malformed('will retain set without will flag', sid('MQTT-3.1.2-15', 'MQTT-3.1.2-13'));
    }
  } else if (willQos === 3) {
    throw malformed('will QoS 3', sid('MQTT-3.1.2-14', 'MQTT-3.1.2-12'));
  }
  if (hasPassword && !hasUsername && version !== 5) {
    throw malformed('password flag set without user name flag', 'MQTT-3.1.2-22');
  }
  const keepalive = readUint16('keep alive');
  const properties = version === 5 ? readProperties(PacketType.CONNECT) : undefined;
  const clientId = readString('client identifier');
  let will: Will | undefined;
  if (willFlag) {
    const willProperties = version === 5 ? readProperties(WILL_PROPERTIES) : undefined;
    const topic = readString('will topic');
    if (topic.length === 0 || topic.includes('+') || topic.includes('#')) {
      throw new ProtocolError(ReasonCode.TopicNameInvalid, 'will topic is not a valid topic name');
    }
    const payload = readBinary('will payload');
    will = { topic, payload, qos: willQos as QoS, retain: willRetain, properties: willProperties };
  }
  const username = hasUsername ? readString('user name') : undefined;
  const password = hasPassword ? readBinary('password') : undefined;
  expectEnd('CONNECT');
  const packet: ConnectPacket = {
    type: PacketType.CONNECT,
    protocolName,
    protocolVersion: version,
    clean: (flags & 0x02) !== 0,
    keepalive,
    clientId,
  };
  if (will !== undefined) packet.will = will;
  if (username !== undefined) packet.username = username;
  if (password !== undefined) packet.password = password;
  if (properties !== undefined) packet.properties = properties;
  if (bridge) packet.bridge = true;
  return packet;
}

function parseConnack(): ConnackPacket {
  const ackFlags = readByte('CONNACK flags');
  if (ackFlags & 0xfe) {
    throw malformed('CONNACK reserved flags are set', sid('MQTT-3.2.2-1', 'MQTT-3.2.2-1'));
  }
  const reasonCode = readByte('CONNACK return code');
  const properties = version === 5 && pos < end ? readProperties(PacketType.CONNACK) : undefined;
  expectEnd('CONNACK');
  return { type: PacketType.CONNACK, sessionPresent: ackFlags === 1, reasonCode, properties };
}

function parseAck(
  type:
    | typeof PacketType.PUBACK
    | typeof PacketType.PUBREC
    | typeof PacketType.PUBREL
    | typeof PacketType.PUBCOMP,
): Packet {
  const packetId = readPacketId('acknowledgement');
  let reasonCode = 0;
  let properties: Properties | undefined;
  if (version === 5) {
    if (pos < end) reasonCode = buf[pos++];
    if (pos < end) properties = readProperties(type);
  }
  expectEnd('acknowledgement');
  return { type, packetId, reasonCode, properties } as Packet;
}

function parseSubscribe(): SubscribePacket {
  const packetId = readPacketId('SUBSCRIBE');
  const properties = version === 5 ? readProperties(PacketType.SUBSCRIBE) : undefined;
  const subscriptions: Subscription[] = [];
  while (pos < end) {
    const topic = readString('topic filter');
    const opts = readByte('subscription options');
    const qos = opts & 0x03;
    if (version === 5) {
      if (opts & 0xc0) throw malformed('subscription options reserved bits set', 'MQTT-3.8.3-5');
    } else if (opts & 0xfc) {
      throw malformed('SUBSCRIBE requested QoS reserved bits set', 'MQTT-3-8.3-4');
    }
    if (qos === 3) throw malformed('SUBSCRIBE with QoS 3', sid('MQTT-3-8.3-4', 'MQTT-3.8.3-5'));
    const retainHandling = (opts >> 4) & 0x03;
    if (retainHandling === 3) throw protocolError('retain handling 3');
    if (!isValidTopicFilter(topic)) throw invalidFilter(topic);
    const noLocal = (opts & 0x04) !== 0;
    if (noLocal && topic.startsWith(SHARED_PREFIX)) {
      throw protocolError('no local set on a shared subscription', 'MQTT-3.8.3-4');
    }
    subscriptions.push({
      topic,
      qos: qos as QoS,
      noLocal,
      retainAsPublished: (opts & 0x08) !== 0,
      retainHandling: retainHandling as 0 | 1 | 2,
    });
  }
  if (subscriptions.length === 0) {
    throw protocolError('SUBSCRIBE with no topic filters', sid('MQTT-3.8.3-3', 'MQTT-3.8.3-2'));
  }
  return { type: PacketType.SUBSCRIBE, packetId, subscriptions, properties };
}

function invalidFilter(filter: string): ProtocolError {
  let statement = 'MQTT-4.7.3-1';
  const hash = filter.indexOf('#');
  if (hash >= 0 && (hash !== filter.length - 1 || (hash > 0 && filter[hash - 1] !== '/'))) {
    statement = 'MQTT-4.7.1-2';
  } else if (filter.includes('+')) statement = 'MQTT-4.7.1-3';
  return malformed(`invalid topic filter ${JSON.stringify(filter)}`, statement);
}

function parseSuback(): SubackPacket {
  const packetId = readPacketId('SUBACK');
  const properties = version === 5 ? readProperties(PacketType.SUBACK) : undefined;
  const reasonCodes: number[] = [];
  while (pos < end) {
    const code = buf[pos++];
    if (version !== 5 && code > 2 && code !== 0x80) {
      throw malformed(`invalid SUBACK return code ${code}`, 'MQTT-3.9.3-2');
    }
    reasonCodes.push(code);
  }
  if (reasonCodes.length === 0) throw protocolError('SUBACK with no return codes');
  return { type: PacketType.SUBACK, packetId, reasonCodes, properties };
}

function parseUnsubscribe(): UnsubscribePacket {
  const packetId = readPacketId('UNSUBSCRIBE');
  const properties = version === 5 ? readProperties(PacketType.UNSUBSCRIBE) : undefined;
  const topics: string[] = [];
  while (pos < end) {
    const topic = readString('topic filter');
    if (!isValidTopicFilter(topic)) throw invalidFilter(topic);
    topics.push(topic);
  }
  if (topics.length === 0) {
    throw protocolError('UNSUBSCRIBE with no topic filters', 'MQTT-3.10.3-2');
  }
  return { type: PacketType.UNSUBSCRIBE, packetId, topics, properties };
}

function parseUnsuback(): UnsubackPacket {
  const packetId = readPacketId('UNSUBACK');
  const reasonCodes: number[] = [];
  let properties: Properties | undefined;
  if (version === 5) {
    properties = readProperties(PacketType.UNSUBACK);
    while (pos < end) reasonCodes.push(buf[pos++]);
  }
  expectEnd('UNSUBACK');
  return { type: PacketType.UNSUBACK, packetId, reasonCodes, properties };
}

function parseDisconnect(): DisconnectPacket {
  let reasonCode = 0;
  let properties: Properties | undefined;
  if (version === 5) {
    if (pos < end) reasonCode = buf[pos++];
    if (pos < end) properties = readProperties(PacketType.DISCONNECT);
  }
  expectEnd('DISCONNECT');
  return { type: PacketType.DISCONNECT, reasonCode, properties };
}

function parseAuth(): AuthPacket {
  if (version !== 5) throw malformed('AUTH packet before MQTT 5.0', 'MQTT-2.2.2-2');
  let reasonCode = 0;
  let properties: Properties | undefined;
  if (pos < end) reasonCode = buf[pos++];
  if (pos < end) properties = readProperties(PacketType.AUTH);
  expectEnd('AUTH');
  return { type: PacketType.AUTH, reasonCode, properties };
}
