/** The events of the embedding API and the message shape they carry. */
import type { Subscription } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type { MessageFields } from '../store/records.js';
import type { ListenerAddress } from '../transport/listener-options.js';
import type { ClientInfo } from './options.js';

/**
 * A message as seen by the embedding API (events and `publish()`): the public subset of
 * the broker's message fields, properties optional.
 */
export type PublishedMessage = Pick<MessageFields, 'topic' | 'payload' | 'qos' | 'retain'> & {
  properties?: Properties | undefined;
};

/** Typed events of a Broker. */
export interface BrokerEvents {
  /** A client completed CONNECT (CONNACK 0 sent). */
  clientConnected: (client: ClientInfo, sessionPresent: boolean) => void;
  /** A connected client went away; `reason` says why. */
  clientDisconnected: (client: ClientInfo, reason: string) => void;
  /** A client subscribed; `granted` holds the SUBACK codes. */
  subscribe: (client: ClientInfo, subscriptions: Subscription[], granted: number[]) => void;
  /** A client unsubscribed. */
  unsubscribe: (client: ClientInfo, filters: string[]) => void;
  /** A message was accepted for routing (client is undefined for broker-originated messages). */
  publish: (message: PublishedMessage, client: ClientInfo | undefined) => void;
  /** The broker started listening. */
  listening: (addresses: ListenerAddress[]) => void;
}
