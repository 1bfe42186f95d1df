import type {
  DeliveryRecord,
  LinkAppliedRecord,
  LinkFrameRecord,
  LinkStreamRecord,
  MessageRecord,
  SessionRecord,
  SubscriptionData,
} from './records.js';

/** A pending subscription write: the data, or null to delete. */
export interface SubscriptionOp {
  clientId: string;
  filter: string;
  data: SubscriptionData | null;
}

/** A pending delivery write: the data, or null to delete. `fresh`: the key never reached storage. */
export interface DeliveryOp {
  clientId: string;
  seq: number;
  data: DeliveryRecord | null;
  fresh: boolean;
}

/** A pending incoming QoS 2 packet id write: present (with the message held until PUBREL, if any), or deleted. */
export interface IncomingOp {
  clientId: string;
  packetId: number;
  present: boolean;
  message: MessageRecord | undefined;
}

/** A pending write of a forwarded frame: the frame, or null to delete. `fresh`: never reached storage. */
export interface LinkFrameOp {
  peer: string;
  seq: number;
  data: LinkFrameRecord | null;
  fresh: boolean;
}

/**
 * The writes of one group-commit window, keyed so that the last write to a key
 * wins. Entries that are created and deleted inside the same window (a message
 * delivered and acknowledged before the commit) cancel out and never touch
 * the disk. A backend applies a batch in one transaction.
 */
export class WriteBatch {
  /** Session records; null deletes. */
  readonly sessions = new Map<string, SessionRecord | null>();
  /** Subscriptions keyed by `clientId \0 filter`. */
  readonly subscriptions = new Map<string, SubscriptionOp>();
  /** Messages by id; null deletes. */
  readonly messages = new Map<number, MessageRecord | null>();
  /** Ids of messages first written in this batch (their delete can simply cancel the write). */
  private readonly freshMessages = new Set<number>();
  /** Deliveries keyed by `clientId \0 seq`. */
  readonly deliveries = new Map<string, DeliveryOp>();
  /** Incoming QoS 2 packet ids keyed by `clientId \0 packetId`. */
  readonly incoming = new Map<string, IncomingOp>();
  /** Retained messages by topic; null deletes. */
  readonly retained = new Map<string, MessageRecord | null>();
  /** Counters (e.g. the reserved message id range). */
  readonly meta = new Map<string, number>();
  /** Frames forwarded to other nodes, keyed by `peer \0 seq`. */
  readonly linkFrames = new Map<string, LinkFrameOp>();
  /** Outgoing link streams by peer id; null deletes. */
  readonly linkStreams = new Map<string, LinkStreamRecord | null>();
  /** Applied watermarks of incoming link streams by stream id; null deletes. */
  readonly linkApplied = new Map<string, LinkAppliedRecord | null>();

  /** Whether nothing is pending. */
  get empty(): boolean {
    return (
      this.sessions.size === 0 &&
      this.subscriptions.size === 0 &&
      this.messages.size === 0 &&
      this.deliveries.size === 0 &&
      this.incoming.size === 0 &&
      this.retained.size === 0 &&
      this.meta.size === 0 &&
      this.linkFrames.size === 0 &&
      this.linkStreams.size === 0 &&
      this.linkApplied.size === 0
    );
  }

  /** Writes (or overwrites) a session record. */
  putSession(r: SessionRecord): void {
    this.sessions.set(r.clientId, r);
  }

  /** Deletes a session record (its subscriptions, deliveries and ids are deleted one by one). */
  deleteSession(clientId: string): void {
    this.sessions.set(clientId, null);
  }

  /** Writes a subscription of a session. */
  putSubscription(clientId: string, data: SubscriptionData): void {
    this.subscriptions.set(`${clientId}\0${data.filter}`, { clientId, filter: data.filter, data });
  }

  /** Deletes a subscription of a session. */
  deleteSubscription(clientId: string, filter: string): void {
    this.subscriptions.set(`${clientId}\0${filter}`, { clientId, filter, data: null });
  }

  /** Writes a message (written once: messages are immutable). */
  putMessage(r: MessageRecord): void {
    this.messages.set(r.id, r);
    this.freshMessages.add(r.id);
  }

  /** Deletes a message; cancels its write if it was written in this same batch. */
  deleteMessage(id: number): void {
    if (this.freshMessages.delete(id)) this.messages.delete(id);
    else this.messages.set(id, null);
  }

  /** Writes a delivery; `fresh` when its key is new (never written before). */
  putDelivery(clientId: string, seq: number, data: DeliveryRecord, fresh: boolean): void {
    const key = `${clientId}\0${seq}`;
    const prev = this.deliveries.get(key);
    if (prev !== undefined) {
      prev.data = data;
      return;
    }
    this.deliveries.set(key, { clientId, seq, data, fresh });
  }

  /** Deletes a delivery; cancels it when it never left this batch. */
  deleteDelivery(clientId: string, seq: number): void {
    const key = `${clientId}\0${seq}`;
    const prev = this.deliveries.get(key);
    if (prev !== undefined) {
      if (prev.fresh) this.deliveries.delete(key);
      else prev.data = null;
      return;
    }
    this.deliveries.set(key, { clientId, seq, data: null, fresh: false });
  }

  /** Records an incoming QoS 2 packet id awaiting PUBREL (with its held message), or its release. */
  setIncoming(clientId: string, packetId: number, present: boolean, message?: MessageRecord): void {
    this.incoming.set(`${clientId}\0${packetId}`, { clientId, packetId, present, message });
  }

  /** Writes the retained message of a topic. */
  putRetained(r: MessageRecord): void {
    this.retained.set(r.topic, r);
  }

  /** Deletes the retained message of a topic. */
  deleteRetained(topic: string): void {
    this.retained.set(topic, null);
  }

  /** Sets a counter. */
  setMeta(key: string, value: number): void {
    this.meta.set(key, value);
  }

  /** Writes a frame forwarded to `peer` (kept until the peer acknowledges it). */
  putLinkFrame(peer: string, seq: number, data: LinkFrameRecord): void {
    this.linkFrames.set(`${peer}\0${seq}`, { peer, seq, data, fresh: true });
  }

  /** Deletes a forwarded frame; cancels its write when it never left this batch. */
  deleteLinkFrame(peer: string, seq: number): void {
    const key = `${peer}\0${seq}`;
    const prev = this.linkFrames.get(key);
    if (prev?.fresh === true) this.linkFrames.delete(key);
    else this.linkFrames.set(key, { peer, seq, data: null, fresh: false });
  }

  /** Writes (or deletes, with null) the outgoing link stream to a peer. */
  setLinkStream(peer: string, r: LinkStreamRecord | null): void {
    this.linkStreams.set(peer, r);
  }

  /** Writes (or deletes, with null) what was applied from an incoming link stream. */
  setLinkApplied(stream: string, r: LinkAppliedRecord | null): void {
    this.linkApplied.set(stream, r);
  }
}
