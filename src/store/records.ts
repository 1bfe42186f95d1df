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

/** A frame this node sent another cluster node and keeps until that node acknowledges it. */
export interface LinkFrameRecord {
  /** What the frame carries (the cluster's DataKind). */
  kind: number;
  body: Buffer;
}

/** This node's outgoing link stream to one other node: its id and the sequence numbers reserved. */
export interface LinkStreamRecord {
  stream: string;
  /** Sequence numbers below this may have been used: a restarted sender continues from here. */
  limit: number;
}

/** What this node applied from one sender's stream: frames up to `applied` are not applied again. */
export interface LinkAppliedRecord {
  /** The sending node's id. */
  node: string;
  applied: number;
  /** When it was last written (ms since epoch); old ones are pruned at startup. */
  at: number;
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
  /** Frames forwarded to other cluster nodes and not acknowledged yet, by peer then sequence number. */
  linkFrames?: Array<{ peer: string; seq: number; data: LinkFrameRecord }>;
  /** Outgoing link streams by peer node id. */
  linkStreams?: Map<string, LinkStreamRecord>;
  /** What was applied per incoming link stream, by stream id. */
  linkApplied?: Map<string, LinkAppliedRecord>;
}
