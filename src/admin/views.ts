import type { ClientConnection, ListenerAddress } from '../broker/broker.js';
import type { Message } from '../broker/message.js';
import { SESSION_NEVER_EXPIRES, type Session, type SubscriptionRecord } from '../broker/session.js';

/** A connected client as the API shows it. */
export interface ClientView {
  clientId: string;
  username: string | null;
  address: string;
  port: number;
  listener: string;
  protocolVersion: number;
  keepalive: number;
  connectedAt: string;
  /** Session expiry in seconds; null when the session never expires. */
  sessionExpiry: number | null;
  subscriptions: number;
  inflight: number;
  queued: number;
}

/** A client id in the client list: connected (a ClientView) or away with a persistent session. */
export interface ClientRow
  extends Omit<ClientView, 'address' | 'port' | 'keepalive' | 'connectedAt'> {
  connected: boolean;
  address: string | null;
  port: number | null;
  keepalive: number | null;
  connectedAt: string | null;
  /** When the client left (offline rows only). */
  disconnectedAt: string | null;
}

/** A session (online or offline) as the API shows it. */
export interface SessionView {
  clientId: string;
  online: boolean;
  username: string | null;
  protocolVersion: number;
  /** Seconds the session outlives its connection; null when it never expires. */
  expiryInterval: number | null;
  disconnectedAt: string | null;
  /** When an offline session will be discarded; null while online or when it never expires. */
  expiresAt: string | null;
  subscriptions: number;
  inflight: number;
  queued: number;
  queuedBytes: number;
  /** Retained messages of a SUBSCRIBE waiting for room in the queue (not in `queued`). */
  retainedWaiting: number;
}

/** One subscription as the API shows it. */
export interface SubscriptionView {
  clientId: string;
  /** The filter as subscribed, including any `$share/group/` prefix. */
  filter: string;
  qos: number;
  shareGroup: string | null;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: number;
  subscriptionId: number | null;
}

/** A retained message as the API shows it. */
export interface RetainedView {
  topic: string;
  qos: number;
  size: number;
  /** The payload as UTF-8 text, or base64 when it is not valid UTF-8 (see `encoding`). */
  payload: string;
  encoding: 'utf8' | 'base64';
  /** Whether the payload was cut to the preview length. */
  truncated: boolean;
  expiresAt: string | null;
}

/** A listener as the API shows it. */
export interface ListenerView extends ListenerAddress {
  connections: number;
  /** PUBLISH packets received from / sent to this listener's clients since start. */
  messagesReceived: number;
  messagesSent: number;
}

function expiry(seconds: number): number | null {
  return seconds === SESSION_NEVER_EXPIRES ? null : seconds;
}

/** Describes a connected client: its connection `c` and its session `s`. */
function clientView(c: ClientConnection, s: Session): ClientView {
  return {
    clientId: c.clientId,
    username: c.username ?? null,
    address: c.remoteAddress,
    port: c.remotePort,
    listener: c.listener,
    protocolVersion: c.protocolVersion,
    keepalive: c.keepalive,
    connectedAt: new Date(c.openedAt).toISOString(),
    sessionExpiry: expiry(s.expiryInterval),
    subscriptions: s.subscriptionCount,
    inflight: s.inflightCount,
    queued: s.queuedCount,
  };
}

/** Describes a client id for the client list, online (`c` its connection) or not. */
export function clientRow(s: Session, c: ClientConnection | undefined): ClientRow {
  if (c !== undefined) return { ...clientView(c, s), connected: true, disconnectedAt: null };
  return {
    clientId: s.clientId,
    username: s.username ?? null,
    address: null,
    port: null,
    listener: s.listener ?? '',
    protocolVersion: s.protocolVersion,
    keepalive: null,
    connectedAt: null,
    sessionExpiry: expiry(s.expiryInterval),
    subscriptions: s.subscriptionCount,
    inflight: s.inflightCount,
    queued: s.queuedCount,
    connected: false,
    disconnectedAt: s.disconnectedAt > 0 ? new Date(s.disconnectedAt).toISOString() : null,
  };
}

/** Describes a session, online or not. */
export function sessionView(s: Session): SessionView {
  const online = s.online;
  const away = !online && s.disconnectedAt > 0;
  return {
    clientId: s.clientId,
    online,
    username: s.username ?? null,
    protocolVersion: s.protocolVersion,
    expiryInterval: expiry(s.expiryInterval),
    disconnectedAt: away ? new Date(s.disconnectedAt).toISOString() : null,
    expiresAt:
      away && s.expiryInterval !== SESSION_NEVER_EXPIRES
        ? new Date(s.disconnectedAt + s.expiryInterval * 1000).toISOString()
        : null,
    subscriptions: s.subscriptionCount,
    inflight: s.inflightCount,
    queued: s.queuedCount,
    queuedBytes: s.queuedBytes,
    retainedWaiting: s.retainedWaiting,
  };
}

/** Describes one subscription. */
export function subscriptionView(r: SubscriptionRecord): SubscriptionView {
  return {
    clientId: r.session.clientId,
    filter: r.filter,
    qos: r.qos,
    shareGroup: r.shareGroup ?? null,
    noLocal: r.noLocal,
    retainAsPublished: r.retainAsPublished,
    retainHandling: r.retainHandling,
    subscriptionId: r.subscriptionId ?? null,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Describes a retained message, its payload cut to `previewBytes`. */
export function retainedView(m: Message, previewBytes: number): RetainedView {
  let cut = m.payload.length;
  const truncated = cut > previewBytes;
  if (truncated) {
    // Cut on a character boundary: step back over UTF-8 continuation bytes.
    cut = previewBytes;
    while (cut > 0 && (m.payload[cut]! & 0xc0) === 0x80) cut--;
  }
  const bytes = m.payload.subarray(0, cut);
  let payload: string;
  let encoding: 'utf8' | 'base64' = 'utf8';
  try {
    payload = utf8.decode(bytes);
  } catch {
    payload = bytes.subarray(0, Math.min(bytes.length, previewBytes)).toString('base64');
    encoding = 'base64';
  }
  return {
    topic: m.topic,
    qos: m.qos,
    size: m.payload.length,
    payload,
    encoding,
    truncated,
    expiresAt: m.expiresAt > 0 ? new Date(m.expiresAt).toISOString() : null,
  };
}
