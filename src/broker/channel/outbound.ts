import { PacketType, type QoS } from '../../protocol/constants.js';
import { encode, encodePublish, withPacketId } from '../../protocol/encoder.js';
import type { Packet } from '../../protocol/packets.js';
import type { Properties } from '../../protocol/properties.js';
import { DropReason } from '../delivery-target.js';
import { type Message, shapeIndex } from '../message.js';
import { describePacket, describePublishOut } from '../packet-log.js';
import { reasonString } from '../reason-strings.js';
import type { AckType, ChannelContext } from './context.js';
import { HeldReplies } from './held-replies.js';

// What one channel sends that depends on the client: routed PUBLISH packets
// (shared encodings, topic aliases, mount points, size limits) and acknowledgements.

/** Sends a PUBACK/PUBREC/PUBREL/PUBCOMP, after the store's commit in `commit` mode. */
export function queueAck(
  ch: ChannelContext,
  type: AckType,
  packetId: number,
  reasonCode: number,
): void {
  // With `commit` persistence every acknowledgement waits, in order, for the
  // group commit that made its message (or state change) durable.
  const p = ch.broker.persistence;
  if (p?.defersAcks) (ch.held ??= new HeldReplies(ch, p)).ack(type, packetId, reasonCode);
  else writeAckNow(ch, type, packetId, reasonCode);
}

/** Writes a PUBACK/PUBREC/PUBREL/PUBCOMP now (held ones once their commit is durable). */
export function writeAckNow(
  ch: ChannelContext,
  type: AckType,
  packetId: number,
  reasonCode: number,
): void {
  if (ch.version !== 5) reasonCode = 0;
  if (reasonCode === 0 && (ch.clientMaximumPacketSize === 0 || ch.clientMaximumPacketSize >= 4)) {
    // The common case, one per QoS 1/2 message: four bytes, no packet object, no encoder.
    if (ch.broker.packetLog)
      ch.broker.log?.debug(
        describePacket('Sending', ch.clientId, { type, packetId, reasonCode } as Packet),
      );
    const b = Buffer.allocUnsafe(4);
    b[0] = type === PacketType.PUBREL ? 0x62 : type << 4;
    b[1] = 2;
    b[2] = packetId >> 8;
    b[3] = packetId & 0xff;
    ch.write(b);
    return;
  }
  // [MQTT-3.1.2-29] a Reason String only when the client did not opt out of problem information;
  // [MQTT-3.4.2-2] and siblings: send() drops it when it would exceed the client's Maximum Packet Size.
  const why = reasonCode >= 0x80 && ch.problemInformation ? reasonString(reasonCode) : undefined;
  const properties = why === undefined ? undefined : { reasonString: why };
  ch.send({ type, packetId, reasonCode, properties } as Packet);
}

/**
 * Sends a PUBLISH of a routed message. Uses the message's cached encoding for
 * this shape when nothing per-subscriber applies; v5 subscription ids,
 * topic aliases and message expiry need a per-subscriber encoding.
 */
export function publishOut(
  ch: ChannelContext,
  msg: Message,
  qos: QoS,
  retain: boolean,
  packetId: number,
  dup: boolean,
  subIds: number[] | undefined,
): DropReason {
  const b = ch.broker;
  // Sessions keep QoS 0 queued while the client is congested; this catches the rest (retained sends).
  if (qos === 0 && ch.congested === true) {
    b.stats.publishDropped++;
    return DropReason.SlowConsumer;
  }
  const v5 = ch.version === 5;
  let buf: Buffer;
  if (v5 && (subIds !== undefined || msg.expiresAt !== 0 || ch.clientTopicAliasMaximum > 0)) {
    buf = encodeCustom(ch, msg, qos, retain, packetId, dup, subIds);
  } else {
    const idx = shapeIndex(v5, qos, retain);
    const cache = (msg.encoded ??= new Array(12));
    // Mount points change the topic per listener: such channels neither read nor fill the cache.
    const enc = ch.info.mountPoint === undefined ? cache[idx] : undefined;
    if (enc === undefined) {
      // Encoded with this delivery's packet id and DUP: it goes out as is, and later
      // subscribers copy it with their own (withPacketId sets both), which saves a
      // copy per QoS 1/2 message when there is one subscriber.
      const made = encodePublish(
        {
          type: PacketType.PUBLISH,
          topic: outTopic(ch, msg.topic),
          payload: msg.payload,
          qos,
          retain,
          dup,
          packetId: qos === 0 ? 0 : packetId,
          properties: msg.properties,
        },
        ch.version,
      );
      // A mount point changes the topic per listener, so such encodings are not shared.
      if (ch.info.mountPoint === undefined) cache[idx] = made;
      buf = made.buffer;
    } else buf = qos === 0 ? enc.buffer : withPacketId(enc, packetId, dup);
  }
  if (ch.clientMaximumPacketSize > 0 && buf.length > ch.clientMaximumPacketSize) {
    b.stats.publishDropped++;
    return DropReason.TooLarge;
  }
  b.stats.publishSent++;
  ch.listenerStats.publishSent++;
  if (b.packetLog)
    b.log?.debug(
      describePublishOut(ch.clientId, dup, qos, retain, packetId, msg.topic, msg.payload.length),
    );
  ch.write(buf);
  return DropReason.None;
}

/** The topic as this listener's clients see it: without its mount point. */
function outTopic(ch: ChannelContext, topic: string): string {
  const mp = ch.info.mountPoint;
  return mp === undefined ? topic : topic.slice(mp.length);
}

/** Encodes a PUBLISH for this subscriber only: subscription ids, remaining expiry, topic alias. */
function encodeCustom(
  ch: ChannelContext,
  msg: Message,
  qos: QoS,
  retain: boolean,
  packetId: number,
  dup: boolean,
  subIds: number[] | undefined,
): Buffer {
  let props: Properties | undefined =
    msg.properties === undefined ? undefined : { ...msg.properties };
  if (msg.expiresAt !== 0) {
    props ??= {};
    // Forward the remaining lifetime, not the original interval [MQTT-3.3.2-6].
    props.messageExpiryInterval = Math.max(0, Math.ceil((msg.expiresAt - ch.broker.now) / 1000));
  }
  if (subIds !== undefined) {
    props ??= {};
    props.subscriptionIdentifiers = subIds;
  }
  let topic = outTopic(ch, msg.topic);
  if (ch.clientTopicAliasMaximum > 0) {
    const aliases = (ch.outboundAliases ??= new Map());
    const alias = aliases.get(topic);
    if (alias !== undefined) {
      props ??= {};
      props.topicAlias = alias;
      topic = '';
    } else if (aliases.size < ch.clientTopicAliasMaximum) {
      const next = aliases.size + 1;
      aliases.set(topic, next);
      props ??= {};
      props.topicAlias = next;
    }
  }
  return encode(
    {
      type: PacketType.PUBLISH,
      topic,
      payload: msg.payload,
      qos,
      retain,
      dup,
      packetId: qos === 0 ? 0 : packetId,
      properties: props,
    },
    5,
  );
}
