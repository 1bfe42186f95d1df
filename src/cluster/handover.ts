import type { Message } from '../broker/message.js';
import type { Delivery, Session } from '../broker/session.js';
import { Session as SessionClass } from '../broker/session.js';
import {
  deliveryRecord,
  messageRecord,
  sessionRecord,
  subscriptionData,
} from '../store/persistence.js';
import { restoredDelivery } from '../store/restore.js';
import type {
  DeliveryRecord,
  MessageRecord,
  SessionRecord,
  SubscriptionData,
} from '../store/store.js';
import type { ClusterHost } from './host.js';

/**
 * A persistent session on its way from the node that held it to the node its
 * client reconnected to: everything `Session` keeps that must survive, in the
 * same shapes the Store uses (so one definition of "what a session is" serves
 * both disk and network). Messages are listed once and referenced by id.
 */
export interface SessionHandover {
  record: SessionRecord;
  subscriptions: SubscriptionData[];
  messages: MessageRecord[];
  /** In-flight deliveries first (send order), then queued ones (queue order). */
  deliveries: DeliveryRecord[];
  incoming: number[];
}

/** Captures a session's state for another node. */
export function captureSession(s: Session): SessionHandover {
  const messages: MessageRecord[] = [];
  const listed = new Set<number>();
  const deliveries: DeliveryRecord[] = [];
  const add = (d: Delivery): void => {
    if (!listed.has(d.msg.id)) {
      listed.add(d.msg.id);
      messages.push(messageRecord(d.msg));
    }
    deliveries.push(deliveryRecord(d));
  };
  for (const d of s.inflight.values()) add(d);
  for (const d of s.queued()) add(d);
  return {
    record: sessionRecord(s, undefined),
    subscriptions: [...s.subscriptions.values()].map(subscriptionData),
    messages,
    deliveries,
    incoming: [...s.incomingIds()],
  };
}

/**
 * Installs a handed-over session as an offline session of this broker (routes
 * added, stored if the broker persists), so that the connecting client resumes
 * it with session present = 1 and gets its in-flight and queued messages.
 */
export function installSession(host: ClusterHost, h: SessionHandover): Session {
  const r = h.record;
  const s = new SessionClass(r.clientId, r.protocolVersion, r.expiryInterval, host.sessionLimits());
  s.restoreFacts(r.username, r.listener, Date.now());
  host.adoptSession(s);
  for (const data of h.subscriptions) host.adoptSubscription({ ...data, session: s });
  // Messages get ids of this broker; deliveries find them by the sender's id.
  const msgs = new Map<number, Message>();
  for (const m of h.messages) {
    const msg = host.makeMessage(
      m.topic,
      m.payload,
      m.qos,
      m.retain,
      m.properties,
      m.origin,
      m.expiresAt,
    );
    msgs.set(m.id, msg);
  }
  for (const r of h.deliveries) {
    const d = restoredDelivery(msgs.get(r.messageId)!, r, 0);
    s.restore(d);
    s.persist?.stored(d);
  }
  for (const pid of h.incoming) {
    s.recordIncoming(pid);
  }
  return s;
}

/** JSON with Buffers as base64 (`{"$b": "..."}`), for control messages between nodes. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = key === '' ? v : this[key];
    return Buffer.isBuffer(raw) ? { $b: raw.toString('base64') } : v;
  });
}

/** Parses {@link toJson} output, turning `{"$b": ...}` back into Buffers. */
export function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string') {
      return Buffer.from((v as { $b: string }).$b, 'base64');
    }
    return v;
  });
}
