import type { QoS } from '../protocol/constants.js';
import type { Message } from './message.js';

/** A retained message waiting for room: what to send and at which QoS. */
export interface FeedEntry {
  msg: Message;
  qos: QoS;
  subIds: number[] | undefined;
}

/**
 * The retained messages a SUBSCRIBE matched that did not fit a connected
 * client's queue (`max_queued_messages` / `max_queued_bytes`). Mosquitto drops
 * them; a client subscribing to `home/#` with a thousand retained states at
 * QoS 1 would silently miss most of them. Here they wait, one entry per topic,
 * and the session sends them as its window frees, taking turns with its queue
 * (`turn`), so neither starves the other.
 *
 * Entries are keyed by topic, so a session's feed holds at most one entry per
 * retained topic however often it subscribes (overlapping filters merge: the
 * highest QoS, both subscription identifiers). A message routed to the session
 * later on the same topic is newer: it replaces the waiting entry
 * (`supersede`), so the client never gets an older value after a newer one.
 * The feed lives in memory only (not stored, not replicated): after a restart
 * or a move to another node the client gets the rest by subscribing again.
 */
export class RetainedFeed {
  private readonly byTopic = new Map<string, FeedEntry>();
  /** Which source the session's drain takes from next when both have messages. */
  turn = false;

  /** Number of retained messages waiting. */
  get size(): number {
    return this.byTopic.size;
  }

  /** Adds a retained message, merged with one already waiting on its topic. */
  add(msg: Message, qos: QoS, subIds: number[] | undefined): void {
    const e = this.byTopic.get(msg.topic);
    if (e === undefined) {
      this.byTopic.set(msg.topic, { msg, qos, subIds });
      return;
    }
    e.msg = msg;
    if (qos > e.qos) e.qos = qos;
    if (subIds !== undefined) e.subIds = e.subIds === undefined ? subIds : [...e.subIds, ...subIds];
  }

  /** The oldest waiting entry, left in place. */
  peek(): FeedEntry | undefined {
    for (const e of this.byTopic.values()) return e;
    return undefined;
  }

  /** Removes the oldest waiting entry. */
  shift(): void {
    for (const topic of this.byTopic.keys()) {
      this.byTopic.delete(topic);
      return;
    }
  }

  /** A newer message on `topic` reached the session: the waiting retained one is dropped. */
  supersede(topic: string): void {
    this.byTopic.delete(topic);
  }
}
