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
  // [MQTT-3.1.2-29] a Reason String only when the client did not opt out of problem information.
  // [MQTT-3.4.2-2] and siblings: never grow an ack past a small client Maximum Packet Size.
  const roomy = ch.clientMaximumPacketSize === 0 || ch.clientMaximumPacketSize >= 64;
  const why =
    reasonCode >= 0x80 && ch.problemInformation && roomy ? reasonString(reasonCode) : undefined;
  const properties = why === undefined ? undefined : { reasonString: why };
  const p = { type, packetId, reasonCode, properties } as Packet;
  if (ch.broker.packetLog) ch.broker.log?.debug(describePacket('Sending', ch.clientId, p));
  ch.write(encode(p, ch.version));
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
  if (qos === 0 && ch.socket.writableLength > b.options.maxPendingBytes) {
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
    let enc = ch.info.mountPoint === undefined ? cache[idx] : undefined;
    if (enc === undefined) {
      enc = encodePublish(
        {
          type: PacketType.PUBLISH,
          topic: outTopic(ch, msg.topic),
          payload: msg.payload,
          qos,
          retain,
          dup: false,
          packetId: qos === 0 ? 0 : 1,
          properties: msg.properties,
        },
        ch.version,
      );
      // A mount point changes the topic per listener, so such encodings are not shared.
      if (ch.info.mountPoint === undefined) cache[idx] = enc;
    }
    buf = qos === 0 ? enc.buffer : withPacketId(enc, packetId, dup);
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
