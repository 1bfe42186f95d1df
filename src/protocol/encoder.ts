/**
 * MQTT encoder: any packet, any version, into one exactly-sized Buffer. Sizes are
 * computed first, the buffer allocated once and written in place. PUBLISH has a
 * shareable form (encode once, patch the packet id per subscriber in a copy).
 */
import { PacketType, type ProtocolVersion } from './constants.js';
import { protocolError } from './errors.js';
import type { ConnectPacket, Packet, PublishPacket } from './packets.js';
import type { Properties } from './properties.js';
import {
  encodedPropertiesLength,
  stringLength,
  variableByteIntegerLength,
  writeBinary,
  writeProperties,
  writeString,
  writeVariableByteInteger,
} from './property-encoding.js';

export {
  encodedPropertiesLength,
  variableByteIntegerLength,
} from './property-encoding.js';

/** An encoded PUBLISH that many subscribers can share; packetIdOffset is -1 for QoS 0. */
export interface EncodedPublish {
  buffer: Buffer;
  packetIdOffset: number;
}

/** Allocates an exactly-sized packet buffer and writes its first byte. */
function allocPacket(first: number, remaining: number): Buffer {
  const buf = Buffer.allocUnsafe(1 + variableByteIntegerLength(remaining) + remaining);
  buf[0] = first;
  return buf;
}

/** Offset of the body in a buffer made by allocPacket. */
function bodyOffset(buf: Buffer, remaining: number): number {
  if (remaining < 128) {
    buf[1] = remaining;
    return 2;
  }
  return writeVariableByteInteger(buf, 1, remaining);
}

/** Property list size including its Variable Byte Integer length prefix. */
function propertiesFieldLength(propsLen: number): number {
  return variableByteIntegerLength(propsLen) + propsLen;
}

function writePropertiesField(
  buf: Buffer,
  pos: number,
  props: Properties | undefined,
  propsLen: number,
): number {
  pos = writeVariableByteInteger(buf, pos, propsLen);
  return propsLen === 0 ? pos : writeProperties(buf, pos, props as Properties);
}

/** Bytes writePublish0 may use for this topic, payload and property list (its content length): a bound, not the size. */
export function publish0Room(topic: string, payloadLength: number, propsLen: number): number {
  return 5 + 2 + 3 * topic.length + propertiesFieldLength(propsLen) + payloadLength;
}

/**
 * Writes a QoS 0 MQTT 5 PUBLISH at `pos` of `buf`, which has publish0Room
 * bytes there; returns where it ends. For a packet that is copied straight
 * into a larger buffer (a cluster link's batch), without a buffer of its own.
 */
export function writePublish0(
  buf: Buffer,
  pos: number,
  topic: string,
  payload: Buffer,
  retain: boolean,
  props: Properties | undefined,
  propsLen: number,
): number {
  const rest = propertiesFieldLength(propsLen) + payload.length;
  let topicLen = topic.length;
  let remaining = 2 + topicLen + rest;
  let at = pos + 1 + (remaining < 128 ? 1 : variableByteIntegerLength(remaining)) + 2;
  // A short ASCII topic is copied here as it is checked (cheaper than a call into C++);
  // anything else is measured and written as UTF-8.
  let ascii = topicLen < 64;
  if (ascii)
    for (let i = 0; i < topicLen; i++) {
      const c = topic.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      buf[at + i] = c;
    }
  if (!ascii) {
    topicLen = Buffer.byteLength(topic);
    remaining = 2 + topicLen + rest;
    at = pos + 1 + variableByteIntegerLength(remaining) + 2;
    if (topicLen === topic.length) buf.latin1Write(topic, at);
    else buf.utf8Write(topic, at);
  }
  buf[pos] = retain ? 0x31 : 0x30;
  if (remaining < 128) buf[pos + 1] = remaining;
  else writeVariableByteInteger(buf, pos + 1, remaining);
  buf[at - 2] = topicLen >> 8;
  buf[at - 1] = topicLen & 0xff;
  pos = writePropertiesField(buf, at + topicLen, props, propsLen);
  buf.set(payload, pos);
  return pos + payload.length;
}

/** Encodes a PUBLISH into a buffer that can be shared by every subscriber with the same shape. */
export function encodePublish(packet: PublishPacket, version: ProtocolVersion): EncodedPublish {
  const topic = packet.topic;
  const payload = packet.payload;
  const qos = packet.qos;
  const topicLen = Buffer.byteLength(topic);
  let remaining = 2 + topicLen + payload.length;
  if (qos > 0) remaining += 2;
  let propsLen = 0;
  const props = packet.properties;
  if (version === 5) {
    if (props !== undefined) propsLen = encodedPropertiesLength(props);
    remaining += propertiesFieldLength(propsLen);
  }
  let first = 0x30 | (qos << 1);
  if (packet.retain) first |= 0x01;
  if (packet.dup && qos > 0) first |= 0x08;
  const buf = allocPacket(first, remaining);
  let pos = bodyOffset(buf, remaining);
  buf[pos] = topicLen >> 8;
  buf[pos + 1] = topicLen & 0xff;
  // byteLength === length means every character is ASCII; latin1 is the cheapest writer then.
  if (topicLen === topic.length) buf.latin1Write(topic, pos + 2);
  else buf.utf8Write(topic, pos + 2);
  pos += 2 + topicLen;
  let packetIdOffset = -1;
  if (qos > 0) {
    packetIdOffset = pos;
    const id = packet.packetId;
    buf[pos++] = id >> 8;
    buf[pos++] = id & 0xff;
  }
  if (version === 5) pos = writePropertiesField(buf, pos, props, propsLen);
  buf.set(payload, pos);
  return { buffer: buf, packetIdOffset };
}

/** A copy of a shared QoS>0 publish with this packet id and DUP flag (the shared buffer is untouched). */
export function withPacketId(encoded: EncodedPublish, packetId: number, dup: boolean): Buffer {
  const src = encoded.buffer;
  const off = encoded.packetIdOffset;
  if (off < 0) throw protocolError('QoS 0 PUBLISH has no packet identifier');
  const out = Buffer.allocUnsafe(src.length);
  out.set(src);
  out[0] = dup ? src[0] | 0x08 : src[0] & 0xf7;
  out[off] = packetId >> 8;
  out[off + 1] = packetId & 0xff;
  return out;
}

/** Encodes any packet for the given protocol version into one exactly-sized Buffer. */
export function encode(packet: Packet, version: ProtocolVersion): Buffer {
  switch (packet.type) {
    case PacketType.PUBLISH:
      return encodePublish(packet, version).buffer;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return encodeAck(
        packet.type === PacketType.PUBREL ? 0x62 : packet.type << 4,
        packet.packetId,
        packet.reasonCode,
        packet.properties,
        version,
      );
    case PacketType.CONNECT:
      return encodeConnect(packet, version);
    case PacketType.CONNACK: {
      const v5 = version === 5;
      const propsLen = v5 ? encodedPropertiesLength(packet.properties) : 0;
      const remaining = 2 + (v5 ? propertiesFieldLength(propsLen) : 0);
      const buf = allocPacket(0x20, remaining);
      let pos = bodyOffset(buf, remaining);
      buf[pos++] = packet.sessionPresent ? 1 : 0;
      buf[pos++] = packet.reasonCode;
      if (v5) writePropertiesField(buf, pos, packet.properties, propsLen);
      return buf;
    }
    case PacketType.SUBSCRIBE: {
      const v5 = version === 5;
      const propsLen = v5 ? encodedPropertiesLength(packet.properties) : 0;
      let remaining = 2 + (v5 ? propertiesFieldLength(propsLen) : 0);
      for (const s of packet.subscriptions) remaining += stringLength(s.topic) + 1;
      const buf = allocPacket(0x82, remaining);
      let pos = bodyOffset(buf, remaining);
      buf[pos++] = packet.packetId >> 8;
      buf[pos++] = packet.packetId & 0xff;
      if (v5) pos = writePropertiesField(buf, pos, packet.properties, propsLen);
      for (const s of packet.subscriptions) {
        pos = writeString(buf, pos, s.topic);
        let opts: number = s.qos;
        if (v5) {
          if (s.noLocal) opts |= 0x04;
          if (s.retainAsPublished) opts |= 0x08;
          opts |= s.retainHandling << 4;
        }
        buf[pos++] = opts;
      }
      return buf;
    }
    case PacketType.SUBACK:
      return encodeIdPropsCodes(
        0x90,
        packet.packetId,
        packet.properties,
        packet.reasonCodes,
        version,
      );
    case PacketType.UNSUBSCRIBE: {
      const v5 = version === 5;
      const propsLen = v5 ? encodedPropertiesLength(packet.properties) : 0;
      let remaining = 2 + (v5 ? propertiesFieldLength(propsLen) : 0);
      for (const t of packet.topics) remaining += stringLength(t);
      const buf = allocPacket(0xa2, remaining);
      let pos = bodyOffset(buf, remaining);
      buf[pos++] = packet.packetId >> 8;
      buf[pos++] = packet.packetId & 0xff;
      if (v5) pos = writePropertiesField(buf, pos, packet.properties, propsLen);
      for (const t of packet.topics) pos = writeString(buf, pos, t);
      return buf;
    }
    case PacketType.UNSUBACK:
      if (version !== 5) return encodeAck(0xb0, packet.packetId, 0, undefined, version);
      return encodeIdPropsCodes(0xb0, packet.packetId, packet.properties, packet.reasonCodes, 5);
    case PacketType.PINGREQ:
      return Buffer.from([0xc0, 0]);
    case PacketType.PINGRESP:
      return Buffer.from([0xd0, 0]);
    case PacketType.DISCONNECT:
      return encodeReasonOnly(0xe0, packet.reasonCode, packet.properties, version);
    case PacketType.AUTH:
      if (version !== 5) throw protocolError('AUTH exists only in MQTT 5.0');
      return encodeReasonOnly(0xf0, packet.reasonCode, packet.properties, version);
    default:
      throw protocolError(`cannot encode packet type ${(packet as { type: number }).type}`);
  }
}

/** PUBACK/PUBREC/PUBREL/PUBCOMP (and v3 UNSUBACK), using the v5 short forms when possible. */
function encodeAck(
  first: number,
  packetId: number,
  reasonCode: number,
  props: Properties | undefined,
  version: ProtocolVersion,
): Buffer {
  let remaining = 2;
  let propsLen = 0;
  if (version === 5) {
    propsLen = encodedPropertiesLength(props);
    if (propsLen > 0) remaining = 3 + propertiesFieldLength(propsLen);
    else if (reasonCode !== 0) remaining = 3;
  }
  const buf = allocPacket(first, remaining);
  let pos = bodyOffset(buf, remaining);
  buf[pos++] = packetId >> 8;
  buf[pos++] = packetId & 0xff;
  if (remaining > 2) buf[pos++] = reasonCode;
  if (propsLen > 0) writePropertiesField(buf, pos, props, propsLen);
  return buf;
}

/** SUBACK and v5 UNSUBACK: packet id, properties, one code per filter. */
function encodeIdPropsCodes(
  first: number,
  packetId: number,
  props: Properties | undefined,
  codes: readonly number[],
  version: ProtocolVersion,
): Buffer {
  const v5 = version === 5;
  const propsLen = v5 ? encodedPropertiesLength(props) : 0;
  const remaining = 2 + (v5 ? propertiesFieldLength(propsLen) : 0) + codes.length;
  const buf = allocPacket(first, remaining);
  let pos = bodyOffset(buf, remaining);
  buf[pos++] = packetId >> 8;
  buf[pos++] = packetId & 0xff;
  if (v5) pos = writePropertiesField(buf, pos, props, propsLen);
  for (let i = 0; i < codes.length; i++) buf[pos++] = codes[i];
  return buf;
}

/** DISCONNECT and AUTH: empty body when the reason is 0 with no properties (v5 short form). */
function encodeReasonOnly(
  first: number,
  reasonCode: number,
  props: Properties | undefined,
  version: ProtocolVersion,
): Buffer {
  if (version !== 5) return Buffer.from([first, 0]);
  const propsLen = encodedPropertiesLength(props);
  const remaining = propsLen > 0 ? 1 + propertiesFieldLength(propsLen) : reasonCode !== 0 ? 1 : 0;
  const buf = allocPacket(first, remaining);
  const pos = bodyOffset(buf, remaining);
  if (remaining > 0) buf[pos] = reasonCode;
  if (propsLen > 0) writePropertiesField(buf, pos + 1, props, propsLen);
  return buf;
}

function encodeConnect(packet: ConnectPacket, version: ProtocolVersion): Buffer {
  const v5 = version === 5;
  const name = version === 3 ? 'MQIsdp' : 'MQTT';
  const will = packet.will;
  const propsLen = v5 ? encodedPropertiesLength(packet.properties) : 0;
  const willPropsLen = v5 && will !== undefined ? encodedPropertiesLength(will.properties) : 0;
  let remaining = 2 + name.length + 1 + 1 + 2 + stringLength(packet.clientId);
  if (v5) remaining += propertiesFieldLength(propsLen);
  let flags = packet.clean ? 0x02 : 0;
  if (will !== undefined) {
    flags |= 0x04 | (will.qos << 3);
    if (will.retain) flags |= 0x20;
    remaining += stringLength(will.topic) + 2 + will.payload.length;
    if (v5) remaining += propertiesFieldLength(willPropsLen);
  }
  if (packet.username !== undefined) {
    flags |= 0x80;
    remaining += stringLength(packet.username);
  }
  if (packet.password !== undefined) {
    flags |= 0x40;
    remaining += 2 + packet.password.length;
  }
  const buf = allocPacket(0x10, remaining);
  let pos = bodyOffset(buf, remaining);
  pos = writeString(buf, pos, name);
  buf[pos++] = packet.bridge === true && !v5 ? version | 0x80 : version;
  buf[pos++] = flags;
  buf[pos++] = packet.keepalive >> 8;
  buf[pos++] = packet.keepalive & 0xff;
  if (v5) pos = writePropertiesField(buf, pos, packet.properties, propsLen);
  pos = writeString(buf, pos, packet.clientId);
  if (will !== undefined) {
    if (v5) pos = writePropertiesField(buf, pos, will.properties, willPropsLen);
    pos = writeString(buf, pos, will.topic);
    pos = writeBinary(buf, pos, will.payload);
  }
  if (packet.username !== undefined) pos = writeString(buf, pos, packet.username);
  if (packet.password !== undefined) writeBinary(buf, pos, packet.password);
  return buf;
}
