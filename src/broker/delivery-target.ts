import type { QoS } from '../protocol/constants.js';
import type { Message } from './message.js';

// The contract between a Session and whatever it delivers to: the session
// decides what to send and when, the target only sends it (EMQX's split of
// session and channel). Session, Channel and the bridge depend on this file,
// not on each other.

/** Why a delivery did not reach the client or its queue, for counting. */
export const DropReason = {
  None: 0,
  QueueFull: 1,
  Offline: 2,
  SlowConsumer: 3,
  TooLarge: 4,
  Expired: 5,
} as const;

/** One of the DropReason values. */
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/**
 * Where an online session's packets go: the connection attached to it (a
 * Channel), or for an in-process session (a bridge's local side) a sink that
 * takes every delivery at once and keeps its own queue and acknowledgements.
 * The session decides what to send and when; the target only sends it.
 */
export interface DeliveryTarget {
  /**
   * Sends one PUBLISH (`packetId` 0 for QoS 0 and for in-process sinks).
   * Called synchronously from the routing loop, so it must not block. Returns
   * DropReason.None, or why the message was not sent (slow consumer, too large).
   */
  sendPublish(
    msg: Message,
    qos: QoS,
    retain: boolean,
    packetId: number,
    dup: boolean,
    subIds: number[] | undefined,
  ): DropReason;
  /** Sends PUBREL for an outgoing QoS 2 message the client has received (on resume). */
  sendPubrel(packetId: number): void;
  /** How many QoS 1/2 PUBLISH packets the target takes unacknowledged (v5 Receive Maximum). */
  readonly receiveMaximum: number;
  /**
   * True while the target holds more unsent bytes than it should: QoS 0
   * deliveries then wait in the session's queue (bounded, shared messages)
   * until it reports room by calling Session.drain. Absent: never congested.
   */
  readonly congested?: boolean;
}
