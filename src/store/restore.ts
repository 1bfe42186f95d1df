import type { Logger } from 'pino';
import { Message } from '../broker/message.js';
import type { RetainedIndex } from '../broker/retained-index.js';
import {
  type Delivery,
  SESSION_NEVER_EXPIRES,
  Session,
  type SessionLimits,
  type SubscriptionRecord,
} from '../broker/session.js';
import type { Will } from '../protocol/packets.js';
import { type Persistence, SessionStoreState, sessionRecord } from './persistence.js';
import { type DeliveryRecord, type MessageRecord, type StoredState, StoreError } from './store.js';

function toMessage(r: MessageRecord): Message {
  return new Message(
    r.id,
    r.topic,
    r.payload,
    r.qos,
    r.retain,
    r.properties,
    r.expiresAt,
    r.origin,
  );
}

/** A delivery brought back from its record (the store's, or a session handed over by another node). */
export function restoredDelivery(msg: Message, r: DeliveryRecord, seq: number): Delivery {
  return {
    msg,
    qos: r.qos,
    retain: r.retain,
    subIds: r.subIds,
    packetId: r.packetId,
    released: r.released,
    group: undefined,
    seq,
    held: false,
  };
}

/** What restoring fills in: the broker's sessions, routes, retained messages and message ids. */
export interface RestoreTarget {
  readonly log: Logger | undefined;
  /** Sessions by client id (the restore adds them). */
  readonly sessions: Map<string, Session>;
  readonly retained: RetainedIndex<Message>;
  /** Limits of a new session. */
  sessionLimits(): SessionLimits;
  /** Routes a restored subscription. */
  addRoute(rec: SubscriptionRecord): void;
  /** Ends a session (its records go, a pending will is published). */
  destroySession(s: Session): void;
  /** Publishes a will now. */
  publishWill(s: Session, client: undefined, will: Will): void;
  /** Message ids continue from `next`; ids below `limit` are reserved in the store. */
  setMessageIds(next: number, limit: number): void;
}

/**
 * Rebuilds the broker's state from a loaded store: sessions with their
 * subscriptions (routed again), deliveries in their original order (in flight
 * with their packet ids, or queued), incoming QoS 2 ids, retained messages and
 * wills. Times are absolute, so expiry keeps counting across the downtime. A
 * client that was online when the broker stopped is treated as having
 * disconnected now: its will is published (or delayed). Entries that no longer
 * belong to anything are deleted; a delivery whose message is missing means
 * the store is inconsistent, which fails startup.
 */
export function restoreState(
  broker: RestoreTarget,
  p: Persistence,
  state: StoredState,
  where: string,
): void {
  const now = Date.now();
  const b = p.batch;
  let maxId = 0;
  const messages = new Map<number, Message>();
  for (const [id, r] of state.messages) {
    messages.set(id, toMessage(r));
    if (id > maxId) maxId = id;
  }
  for (const r of state.retained) {
    // $SYS values stored by older versions are dropped: they are live state, never restored.
    const stale = r.topic.startsWith('$SYS/') || (r.expiresAt !== 0 && now >= r.expiresAt);
    if (stale) b.deleteRetained(r.topic);
    else broker.retained.set(r.topic, toMessage(r));
    if (r.id > maxId) maxId = r.id;
  }
  const willsNow: Array<[Session, Will]> = [];
  for (const r of state.sessions) {
    const s = new Session(r.clientId, r.protocolVersion, r.expiryInterval, broker.sessionLimits());
    const st = new SessionStoreState(p, s);
    st.recorded = true;
    st.keepsMessages = r.expiryInterval > 0;
    s.setPersistence(st);
    // Online when the broker stopped: its connection ended now, without DISCONNECT.
    s.restoreFacts(r.username, r.listener, r.disconnectedAt === 0 ? now : r.disconnectedAt);
    if (r.pendingWill !== undefined) s.delayWill(r.pendingWill, r.pendingWillAt);
    if (r.disconnectedAt === 0) {
      const will = r.will;
      if (will !== undefined) {
        const delay = will.properties?.willDelayInterval ?? 0;
        if (delay > 0 && s.expiryInterval > 0) {
          s.delayWill(will, now + Math.min(delay, s.expiryInterval) * 1000);
        } else willsNow.push([s, will]);
      }
      b.putSession(sessionRecord(s, undefined));
    }
    st.storedExpiry = s.expiryInterval;
    st.storedPendingWill = s.pendingWill !== undefined;
    broker.sessions.set(s.clientId, s);
  }
  for (const { clientId, data } of state.subscriptions) {
    const s = broker.sessions.get(clientId);
    if (s === undefined) {
      b.deleteSubscription(clientId, data.filter);
      continue;
    }
    const rec = { ...data, session: s };
    s.addSubscription(rec);
    broker.addRoute(rec);
  }
  for (const { clientId, seq, data } of state.deliveries) {
    const msg = messages.get(data.messageId);
    if (msg === undefined)
      throw new StoreError(
        'corrupt',
        where,
        `delivery ${clientId}/${seq} references missing message ${data.messageId}`,
      );
    const s = broker.sessions.get(clientId);
    const st = s?.persist as SessionStoreState | undefined;
    if (s === undefined || st === undefined) {
      b.deleteDelivery(clientId, seq);
      continue;
    }
    msg.storeRefs++;
    if (seq > st.nextSeq) st.nextSeq = seq;
    s.restore(restoredDelivery(msg, data, seq));
  }
  for (const { clientId, packetId, message } of state.incoming) {
    const s = broker.sessions.get(clientId);
    if (s === undefined) b.setIncoming(clientId, packetId, false);
    else s.restoreIncoming(packetId, message === undefined ? undefined : toMessage(message));
    if (message !== undefined && message.id > maxId) maxId = message.id;
  }
  for (const m of messages.values()) if (m.storeRefs === 0) b.deleteMessage(m.id);
  p.links.restore(state);

  const next = Math.max(state.meta.get('nextMessageId') ?? 1, maxId + 1);
  broker.setMessageIds(next, p.reserveMessageIds(next));

  for (const [s, will] of willsNow) {
    if (s.expiryInterval === 0) {
      // A will-only record of a clean session: the session ends with its will.
      s.delayWill(will, now);
      broker.destroySession(s);
    } else broker.publishWill(s, undefined, will);
  }
  for (const s of [...broker.sessions.values()]) {
    if (
      s.expiryInterval !== SESSION_NEVER_EXPIRES &&
      now - s.disconnectedAt >= s.expiryInterval * 1000
    ) {
      broker.log?.info(`Session ${s.clientId} expired while the broker was down.`);
      broker.destroySession(s);
    }
  }
}
