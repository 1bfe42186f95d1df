/** The client's outgoing bookkeeping: what each packet id tracks, and the packets it builds. */
import { PacketType, type ProtocolVersion } from '../protocol/constants.js';
import type {
  PublishPacket,
  SubscribePacket,
  Subscription,
  UnsubscribePacket,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import { isValidTopicFilter, isValidTopicName } from '../protocol/topic.js';
import type {
  PublishAck,
  PublishCallback,
  PublishOptions,
  SubscribeOptions,
  SubscriptionRequest,
} from './client-types.js';

/** What a packet id is tracking. */
export enum Entry {
  Publish = 0,
  Subscribe = 1,
  Unsubscribe = 2,
}

/** States of an outgoing QoS>0 publish. */
export enum Step {
  AwaitPuback = 1,
  AwaitPubrec = 2,
  AwaitPubcomp = 3,
}

/** A QoS 1/2 publish from queueing to its final ack. */
export interface OutgoingPublish {
  kind: Entry.Publish;
  packet: PublishPacket;
  step: Step;
  done: PublishCallback | undefined;
  tag: unknown;
  resolve: ((ack: PublishAck | undefined) => void) | undefined;
  reject: ((err: Error) => void) | undefined;
}

/** A SUBSCRIBE or UNSUBSCRIBE awaiting its ack. */
export interface PendingRequest {
  kind: Entry.Subscribe | Entry.Unsubscribe;
  packet: SubscribePacket | UnsubscribePacket;
  /** Not sent on the current connection yet. */
  sent: boolean;
  resolve: ((codes: number[]) => void) | undefined;
  reject: ((err: Error) => void) | undefined;
}

/** Anything a packet id can be allocated to. */
export type Tracked = OutgoingPublish | PendingRequest;

/** A QoS 0 publish encoded while offline, sent on (re)connection. */
export interface QueuedQos0 {
  buffer: Buffer;
  packet: PublishPacket;
  done: PublishCallback | undefined;
}

/** The PUBLISH for one publish call; throws TypeError for an invalid topic name. */
export function publishPacket(
  topic: string,
  payload: Buffer | Uint8Array | string,
  options: PublishOptions,
  version: ProtocolVersion,
): PublishPacket {
  const aliased = options.properties?.topicAlias !== undefined;
  if (!(topic === '' && aliased) && !isValidTopicName(topic)) {
    throw new TypeError(`invalid topic name '${topic}'`);
  }
  return {
    type: PacketType.PUBLISH,
    topic,
    payload:
      typeof payload === 'string'
        ? Buffer.from(payload)
        : Buffer.isBuffer(payload)
          ? payload
          : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    qos: options.qos ?? 0,
    retain: options.retain === true,
    dup: false,
    packetId: 0,
    properties: version === 5 ? options.properties : undefined,
  };
}

/** The SUBSCRIBE for one subscribe call, or the TypeError that refuses it. */
export function subscribePacket(
  filters: string | ReadonlyArray<string | SubscriptionRequest>,
  options: SubscribeOptions,
  version: ProtocolVersion,
): SubscribePacket | TypeError {
  const list = typeof filters === 'string' ? [filters] : filters;
  const subscriptions: Subscription[] = [];
  for (const f of list) {
    const r = typeof f === 'string' ? { topic: f } : f;
    if (!isValidTopicFilter(r.topic)) return new TypeError(`invalid topic filter '${r.topic}'`);
    subscriptions.push({
      topic: r.topic,
      qos: r.qos ?? options.qos ?? 0,
      noLocal: r.noLocal ?? options.noLocal ?? false,
      retainAsPublished: r.retainAsPublished ?? options.retainAsPublished ?? false,
      retainHandling: r.retainHandling ?? options.retainHandling ?? 0,
    });
  }
  if (subscriptions.length === 0) return new TypeError('no topic filter given');
  return {
    type: PacketType.SUBSCRIBE,
    packetId: 0,
    subscriptions,
    properties: version === 5 ? options.properties : undefined,
  };
}

/**
 * SUBSCRIBE packets that restore granted subscriptions after a reconnect found no
 * session: one per distinct property set, which keeps subscription identifiers right.
 */
export function resubscribePackets(
  granted: Iterable<Subscription & { properties?: Properties }>,
): SubscribePacket[] {
  const groups = new Map<Properties | undefined, Subscription[]>();
  for (const s of granted) {
    let g = groups.get(s.properties);
    if (g === undefined) groups.set(s.properties, (g = []));
    g.push({
      topic: s.topic,
      qos: s.qos,
      noLocal: s.noLocal,
      retainAsPublished: s.retainAsPublished,
      retainHandling: s.retainHandling,
    });
  }
  return [...groups].map(([properties, subscriptions]) => ({
    type: PacketType.SUBSCRIBE,
    packetId: 0,
    subscriptions,
    properties,
  }));
}
