import { isUtf8 } from 'node:buffer';
import { dollarTopicAllowed } from '../../auth/dollar-topics.js';
import { deniedPublishLine } from '../../log/mosquitto-lines.js';
import { PacketType, ReasonCode } from '../../protocol/constants.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { PublishPacket } from '../../protocol/packets.js';
import { publishAllowed } from '../access-control.js';
import type { Message } from '../message.js';
import { describePacket } from '../packet-log.js';
import { PublishQuota } from '../publish-quota.js';
import type { RouteResult } from '../router.js';
import { ackFits } from './acks.js';
import type { ChannelContext, ChannelHost } from './context.js';
import { queueAck } from './outbound.js';
import { State } from './state.js';

// Incoming PUBLISH of one channel and the QoS 1/2 exchanges around it.

/**
 * Deliveries one connection's input may trigger per event-loop turn (about 10 ms of
 * work): past it, decoding stops at the next packet and the rest of the chunk waits
 * for the next turn, so a publisher fanning out to many subscribers can't hold
 * up other clients (their PINGRESPs) for a whole chunk's worth of deliveries.
 */
const DELIVERY_BUDGET = 32_768;

/** Handles an incoming PUBLISH: checks, aliases, quotas, authorization, then routing and its ack. */
export function onPublish(ch: ChannelContext, p: PublishPacket): void {
  const b = ch.broker;
  const v5 = ch.version === 5;
  let topic = p.topic;
  const props = p.properties;
  if (props?.subscriptionIdentifiers !== undefined) {
    ch.violation(
      new ProtocolError(
        ReasonCode.ProtocolError,
        'subscription identifier in a PUBLISH from a client',
        'MQTT-3.3.4-6',
      ),
    );
    return;
  }
  if (v5 && props !== undefined && props.topicAlias !== undefined) {
    const alias = props.topicAlias;
    if (alias === 0 || alias > b.options.maxTopicAlias) {
      ch.violation(
        new ProtocolError(
          ReasonCode.TopicAliasInvalid,
          `topic alias ${alias} out of range`,
          'MQTT-3.3.2-9',
        ),
      );
      return;
    }
    if (topic.length === 0) {
      const known = ch.inboundAliases?.get(alias);
      if (known === undefined) {
        ch.violation(new ProtocolError(ReasonCode.ProtocolError, `unknown topic alias ${alias}`));
        return;
      }
      topic = known;
    } else {
      ch.inboundAliases ??= new Map();
      ch.inboundAliases.set(alias, topic);
    }
  }
  if (p.qos > b.options.maxQos) {
    // [MQTT-3.2.2-11] a QoS above Maximum QoS is a protocol error.
    ch.violation(
      new ProtocolError(
        ReasonCode.QoSNotSupported,
        `QoS ${p.qos} above maximum ${b.options.maxQos}`,
        'MQTT-3.2.2-11',
      ),
    );
    return;
  }
  if (p.retain && !b.options.retainAvailable) {
    ch.violation(
      new ProtocolError(ReasonCode.RetainNotSupported, 'retain not available', 'MQTT-3.2.2-14'),
    );
    return;
  }
  b.stats.publishReceived++;
  ch.listenerStats.publishReceived++;
  if (p.qos === 1 && ch.session!.hasIncoming(p.packetId)) {
    // The id still belongs to an unreleased QoS 2 exchange.
    publishRefused(ch, p, ReasonCode.PacketIdentifierInUse);
    return;
  }
  if (
    ch.quota !== undefined ||
    b.options.publishRateLimit > 0 ||
    b.options.publishByteRateLimit > 0
  ) {
    if (overQuota(ch, p)) return;
  }
  if (p.qos === 2) {
    const s = ch.session!;
    if (s.hasIncoming(p.packetId)) {
      // A re-sent QoS 2 PUBLISH before PUBREL: acknowledge again, deliver nothing.
      queueAck(ch, PacketType.PUBREC, p.packetId, 0);
      return;
    }
    if (s.incomingCount >= b.options.receiveMaximum) {
      ch.violation(
        new ProtocolError(
          ReasonCode.ReceiveMaximumExceeded,
          'receive maximum exceeded',
          'MQTT-3.3.4-7',
        ),
      );
      return;
    }
  }
  let reason = 0;
  if (v5 && props !== undefined && props.payloadFormatIndicator === 1 && !isUtf8(p.payload)) {
    reason = ReasonCode.PayloadFormatInvalid;
  } else if (b.options.messageSizeLimit > 0 && p.payload.length > b.options.messageSizeLimit) {
    b.stats.messagesTooLarge++;
    reason = ReasonCode.PacketTooLarge;
  } else if (topic.charCodeAt(0) === 0x24 /* $ */ && !dollarTopicAllowed(topic, 'write')) {
    // Clients may not publish into $SYS (Mosquitto's fixed rule, before any ACL).
    reason = ReasonCode.NotAuthorized;
  } else if (b.topicTooDeep(topic)) {
    if (!v5 && p.qos > 0) {
      // 3.1.1 has no negative ack: a PUBACK/PUBREC would tell the publisher the
      // broker took a message it drops. Closing (as Mosquitto does) says it did not.
      ch.violation(
        new ProtocolError(
          ReasonCode.TopicNameInvalid,
          `topic deeper than ${b.options.maxTopicLevels} levels`,
        ),
      );
      return;
    }
    reason = ReasonCode.TopicNameInvalid;
  }
  if (reason !== 0) {
    publishRefused(ch, p, reason);
    return;
  }
  if (ch.info.mountPoint !== undefined) topic = ch.info.mountPoint + topic;
  if (b.options.hooks.authorizePublish !== undefined || ch.session!.acl !== undefined) {
    let r: ReturnType<ChannelHost['authorizePublish']>;
    try {
      r = b.authorizePublish(ch, topic, p.qos, p.retain);
    } catch (err) {
      ch.onError(err);
      return;
    }
    if (r instanceof Promise) {
      ch.backlog = [];
      r.then(
        (res) => {
          if (ch.state === State.Closed) return;
          publishAuthorized(ch, p, topic, res);
          ch.releaseBacklog();
        },
        (err) => ch.onError(err),
      );
      return;
    }
    publishAuthorized(ch, p, topic, r);
    return;
  }
  publishAccepted(ch, p, topic);
}

/** Acts on the authorization verdict for an incoming PUBLISH. */
function publishAuthorized(
  ch: ChannelContext,
  p: PublishPacket,
  topic: string,
  r: boolean | number | undefined,
): void {
  if (!publishAllowed(r)) {
    ch.broker.stats.authzDenied++;
    publishRefused(ch, p, typeof r === 'number' ? r : ReasonCode.NotAuthorized);
    return;
  }
  publishAccepted(ch, p, topic);
}

/**
 * Applies publishRateLimit / publishByteRateLimit; returns true when the
 * PUBLISH was refused. v5 QoS 1/2: negative PUBACK/PUBREC (0x96 rate, 0x97
 * bytes) and the connection stays; v5 QoS 0: DISCONNECT with that code (QoS 0
 * has no acknowledgement to carry it); v3: the connection is closed.
 */
function overQuota(ch: ChannelContext, p: PublishPacket): boolean {
  const b = ch.broker;
  const q = (ch.quota ??= new PublishQuota(
    b.options.publishRateLimit,
    b.options.publishByteRateLimit,
  ));
  const code = q.take(b.now, p.payload.length);
  if (code === 0) return false;
  if (code === ReasonCode.MessageRateTooHigh) b.stats.publishRateLimited++;
  else b.stats.publishQuotaExceeded++;
  const why = code === ReasonCode.MessageRateTooHigh ? 'publish rate limit' : 'publish byte quota';
  if (ch.version === 5 && p.qos > 0) {
    publishRefused(ch, p, code);
    return true;
  }
  b.log?.info({ clientId: ch.clientId, remote: ch.info.remoteAddress }, `disconnecting: ${why}`);
  ch.disconnectWith(code, why);
  return true;
}

/** Drops a refused PUBLISH, telling a QoS 1/2 publisher why (v5) or acknowledging it anyway (v3). */
function publishRefused(ch: ChannelContext, p: PublishPacket, reason: number): void {
  ch.broker.log?.debug({ clientId: ch.clientId, reason }, deniedPublishLine(ch.clientId, p));
  ch.broker.stats.publishDropped++;
  // 3.1.1 has no negative acknowledgement: the message is acknowledged and dropped.
  if (p.qos === 1) queueAck(ch, PacketType.PUBACK, p.packetId, reason);
  else if (p.qos === 2) queueAck(ch, PacketType.PUBREC, p.packetId, reason);
}

/** Routes an accepted PUBLISH and acknowledges it with what routing found. */
function publishAccepted(ch: ChannelContext, p: PublishPacket, topic: string): void {
  const b = ch.broker;
  // Logged here, not on arrival: a refused PUBLISH gets only its "Denied PUBLISH" line, as in
  // Mosquitto, and a topic alias shows as the topic it stands for.
  if (b.packetLog)
    b.log?.debug(describePacket('Received', ch.clientId, topic === p.topic ? p : { ...p, topic }));
  const s = ch.session!;
  if (p.qos === 2 && b.options.qos2Order === 'pubrec-first') {
    // As Mosquitto: hold the message (in the store too) and acknowledge; it goes on at PUBREL.
    s.recordIncoming(p.packetId, b.messageFromClient(s, topic, p));
    queueAck(ch, PacketType.PUBREC, p.packetId, 0);
    return;
  }
  const routed = route(ch, b.messageFromClient(s, topic, p), p.qos > 0);
  const matched = routed.reached;
  if (p.qos === 0) return;
  // 0x97: every subscriber's queue was full, so nobody will get it. 0x10 goes on
  // PUBACK only, as in Mosquitto: a PUBREC answers the first half of an exchange.
  const code =
    matched === 0
      ? p.qos === 1
        ? ReasonCode.NoMatchingSubscribers
        : 0
      : routed.queueFull === matched
        ? ReasonCode.QuotaExceeded
        : 0;
  if (p.qos === 1) {
    queueAck(ch, PacketType.PUBACK, p.packetId, code);
  } else {
    if (code < 0x80) ch.session!.recordIncoming(p.packetId);
    queueAck(ch, PacketType.PUBREC, p.packetId, code);
  }
}

/**
 * Routes a message this client published, counting it against the turn's delivery
 * budget. `gated` (QoS 1/2): a full online queue takes it and this client stops
 * being read until the queue drains (flow-gate.ts), instead of a drop after the ack.
 */
function route(ch: ChannelContext, msg: Message, gated: boolean): RouteResult {
  const s = ch.session!;
  const gate = gated ? s.limits.gate : undefined;
  let routed: RouteResult;
  if (gate === undefined) routed = ch.broker.publishReleased(s, msg);
  else {
    gate.begin(ch, s);
    try {
      routed = ch.broker.publishReleased(s, msg);
    } finally {
      gate.end();
    }
  }
  if ((ch.work += routed.reached) >= DELIVERY_BUDGET) ch.yieldTurn();
  return routed;
}

/** Handles PUBREL: releases an incoming QoS 2 packet id and answers PUBCOMP. */
export function onPubrel(ch: ChannelContext, packetId: number): void {
  const s = ch.session!;
  const held = s.incomingMessage(packetId);
  if (held !== undefined) {
    // Routed before the id is released: with a store both land in one commit window,
    // so a crash leaves either the held message or its deliveries, never neither.
    route(ch, held, true);
  }
  const found = s.releaseIncoming(packetId);
  queueAck(ch, PacketType.PUBCOMP, packetId, found ? 0 : ReasonCode.PacketIdentifierNotFound);
}

/** Handles PUBREC of an outgoing QoS 2 message: answers PUBREL (or ends it on an error code). */
export function onPubrec(ch: ChannelContext, packetId: number, reasonCode: number): void {
  if (!ackFits(ch, 'PUBREC', packetId)) return;
  const s = ch.session!;
  if (reasonCode >= 0x80) {
    // v5: a PUBREC with an error ends the exchange [MQTT-4.3.3-4 semantics].
    s.complete(packetId, ch.broker.now);
    return;
  }
  const known = s.received(packetId);
  queueAck(ch, PacketType.PUBREL, packetId, known ? 0 : ReasonCode.PacketIdentifierNotFound);
}
