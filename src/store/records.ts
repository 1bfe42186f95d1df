import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import type { Will } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';

/** A session as stored: what must come back after a restart besides its messages. */
export interface SessionRecord {
  clientId: string;
  protocolVersion: ProtocolVersion;
  /** Session expiry in seconds after disconnect (0xFFFFFFFF: never). */
  expiryInterval: number;
  /** When the client disconnected (ms since epoch); 0 while it was online. */
  disconnectedAt: number;
  /** The will of the live connection (published if the broker dies while the client is online). */
  will: Will | undefined;
  /** A will waiting for its delay, and when it is due (ms since epoch). */
  pendingWill: Will | undefined;
  pendingWillAt: number;
  username: string | undefined;
  /** Name of the listener the client last came in on (absent in stores written before it was kept). */
  listener?: string | undefined;
}

/** One subscription as stored (the session and routing fields are rebuilt on load). */
export interface SubscriptionData {
  /** The filter as subscribed, including any `$share/group/` prefix. */
  filter: string;
  topicFilter: string;
  shareGroup: string | undefined;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId: number | undefined;
}

/**
 * The fields of an application message that every layer carries: the router's
 * `Message`, the store's record and the cluster's frame are this shape (plus an id
 * where they need one). The embedding API's `PublishedMessage` is its public subset.
 */
export interface MessageFields {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: Properties | undefined;
  /** Absolute expiry (ms since epoch), 0 for never. */
  expiresAt: number;
  /** Client id of the publisher ('' for the broker itself), for No Local. */
  origin: string;
}

/** An application message as stored: once, however many sessions reference it. */
export interface MessageRecord extends MessageFields {
  id: number;
}

/** One session's obligation to deliver a stored message: queued (packetId 0) or in flight. */
export interface DeliveryRecord {
  messageId: number;
  qos: QoS;
  retain: boolean;
  subIds: number[] | undefined;
  /** Packet id while in flight; 0 while queued. */
  packetId: number;
  /** QoS 2: PUBREC received (PUBREL sent, waiting for PUBCOMP). */
  released: boolean;
}

/** Everything a store holds, as loaded at startup. Deliveries are in (client id, seq) order. */
export interface StoredState {
  sessions: SessionRecord[];
  subscriptions: Array<{ clientId: string; data: SubscriptionData }>;
  messages: Map<number, MessageRecord>;
  deliveries: Array<{ clientId: string; seq: number; data: DeliveryRecord }>;
  /** Incoming QoS 2 packet ids awaiting PUBREL; `message`: held until then (`pubrec-first`). */
  incoming: Array<{ clientId: string; packetId: number; message?: MessageRecord | undefined }>;
  retained: MessageRecord[];
  meta: Map<string, number>;
}
