import type { QoS } from '../protocol/constants.js';
import type { EncodedPublish } from '../protocol/encoder.js';
import type { Properties } from '../protocol/properties.js';
import type { MessageRecord } from '../store/records.js';

/**
 * An application message inside the broker: what was published, once, shared by
 * every subscriber it is routed to. The payload is the slice decoded from the
 * publisher's socket chunk; it is never copied. Encoded forms are cached per
 * outgoing shape so a message is encoded once per shape, not once per subscriber.
 */
export class Message implements MessageRecord {
  /** Broker-wide sequence number (storage key, ordering). */
  id: number;
  topic: string;
  payload: Buffer;
  /** QoS the message was published with. */
  qos: QoS;
  /** The RETAIN flag as published. */
  retain: boolean;
  /** v5 properties forwarded to subscribers (no topic alias, no subscription ids). */
  properties: Properties | undefined;
  /** Absolute expiry time in ms since the epoch, 0 when the message never expires. */
  expiresAt: number;
  /** Client id of the publisher ('' for messages from the broker itself), for No Local. */
  origin: string;
  /** Cached encodings, indexed by {@link shapeIndex}. */
  encoded: Array<EncodedPublish | undefined> | undefined;
  /** Stored deliveries referencing this message (persistence only): stored once, deleted at 0. */
  storeRefs: number;
  /**
   * In a cluster, for a message another node forwarded: where it was first
   * published (`{node}:{id}`), its identity wherever it travels. A field, not a
   * side table: a WeakMap entry per forwarded message cost more than routing it.
   */
  clusterKey: string | undefined;

  constructor(
    id: number,
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    properties: Properties | undefined,
    expiresAt: number,
    origin: string,
  ) {
    this.id = id;
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.properties = properties;
    this.expiresAt = expiresAt;
    this.origin = origin;
    this.encoded = undefined;
    this.storeRefs = 0;
    this.clusterKey = undefined;
  }

  /**
   * Copies the payload out of the socket read chunk it was decoded from, once
   * the message is kept for a while (queued, or in flight to a client that may
   * never acknowledge it): otherwise a 100-byte message held for a slow client
   * keeps its publisher's whole 64 KB read chunk alive. Small payloads go to
   * Node's shared pool; payloads already outside a large chunk stay as they are.
   */
  leaveReadChunk(): void {
    const p = this.payload;
    if (p.buffer.byteLength - p.length > 16384) this.payload = Buffer.from(p);
  }

  /** Whether the message has expired at time `now` (ms). */
  isExpired(now: number): boolean {
    return this.expiresAt !== 0 && now >= this.expiresAt;
  }
}

/**
 * Index of a cached encoding: v3.1 and v3.1.1 share a PUBLISH wire format, v5
 * differs; then QoS and RETAIN. 12 shapes at most.
 */
export function shapeIndex(v5: boolean, qos: QoS, retain: boolean): number {
  return (v5 ? 6 : 0) + qos * 2 + (retain ? 1 : 0);
}
