/** Public types of the MQTT client: publish and subscribe options, states and events. */
import type { QoS } from '../protocol/constants.js';
import type {
  AckPacketBase,
  ConnackPacket,
  DisconnectPacket,
  PublishPacket,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';

/** Options of one publish. Reuse one object across calls on hot paths. */
export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /** v5 PUBLISH properties (messageExpiryInterval, responseTopic, userProperties, ...). */
  properties?: Properties;
}

/**
 * Completion of a `send()`: err is set when the publish failed or the client closed first;
 * `tag` is the value given to `send()` (lets one shared callback find its own record).
 */
export type PublishCallback = (err: Error | undefined, packet: PublishPacket, tag: unknown) => void;

/** Acknowledgement that completed a QoS 1 (PUBACK) or QoS 2 (PUBCOMP) publish. */
export type PublishAck = AckPacketBase & { type: number };

/** Options applied to every filter of one `subscribe()` call (a filter object can override them). */
export interface SubscribeOptions {
  qos?: QoS;
  /** v5: don't receive own publishes. */
  noLocal?: boolean;
  /** v5: keep the retain flag as published. */
  retainAsPublished?: boolean;
  /** v5: 0 send retained on subscribe, 1 only for new subscriptions, 2 never. */
  retainHandling?: 0 | 1 | 2;
  /** v5 SUBSCRIBE properties (subscriptionIdentifiers, userProperties). */
  properties?: Properties;
}

/** A filter with its own options, for `subscribe([...])`. */
export type SubscriptionRequest = { topic: string } & Omit<SubscribeOptions, 'properties'>;

/** Lifecycle of the client. */
export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Events and listener signatures of {@link MqttClient}. */
export interface ClientEvents {
  message: [topic: string, payload: Buffer, packet: PublishPacket];
  connect: [connack: ConnackPacket];
  /** The connection was lost or closed (a reconnect may follow). */
  close: [];
  /** The client is finished: ended by the caller, or lost with reconnect disabled. */
  end: [];
  /** Transport, protocol or refused-connection errors after the first connect. */
  error: [err: Error];
  /** A reconnect attempt is starting. */
  reconnect: [attempt: number];
  /** The server sent a v5 DISCONNECT. */
  disconnect: [packet: DisconnectPacket];
  /** The transport drained after `needDrain` was true. */
  drain: [];
}
