import type { Broker } from '../broker/broker.js';
import { sysRetainedCount } from './retained-api.js';

/** Figures that need a walk over every session, taken once per API call or scrape. */
export interface SessionTotals {
  /** Sessions with a live connection. */
  online: number;
  /** Persistent sessions whose client is away. */
  offline: number;
  /** Subscriptions across all sessions. */
  subscriptions: number;
  /** Outgoing QoS 1/2 deliveries awaiting acknowledgement. */
  inflight: number;
  /** Deliveries queued (waiting for the window or for the client to return). */
  queued: number;
  /** Payload bytes in those queues. */
  queuedBytes: number;
  /** Retained messages of new subscriptions waiting for room (the retained feed, not in `queued`). */
  retainedWaiting: number;
}

/** Walks the sessions once; O(sessions), so it runs at request time, never per message. */
export function sessionTotals(broker: Broker): SessionTotals {
  const t: SessionTotals = {
    online: 0,
    offline: 0,
    subscriptions: 0,
    inflight: 0,
    queued: 0,
    queuedBytes: 0,
    retainedWaiting: 0,
  };
  for (const s of broker.sessions.values()) {
    if (s.online) t.online++;
    else t.offline++;
    t.subscriptions += s.subscriptionCount;
    t.inflight += s.inflightCount;
    t.queued += s.queuedCount;
    t.queuedBytes += s.queuedBytes;
    t.retainedWaiting += s.retainedWaiting;
  }
  return t;
}

/** The body of GET /api/v1/stats. */
export interface StatsView {
  version: string;
  /** Seconds since the broker started. */
  uptime: number;
  startedAt: string;
  connections: { current: number; maximum: number; total: number; refused: number };
  /** PUBLISH packets (application messages). */
  messages: { received: number; sent: number; dropped: number };
  /** All MQTT packets. */
  packets: { received: number; sent: number };
  bytes: { received: number; sent: number };
  errors: {
    protocol: number;
    authentication: number;
    authorization: number;
    /** Failed lookups of the auth_plugin stand-in backend, and CONNECTs it left unanswered. */
    authBackend: number;
    authBackendUnavailable: number;
    keepaliveTimeouts: number;
    connectTimeouts: number;
    slowConsumers: number;
    incompletePacketCloses: number;
    packetsTooLarge: number;
    messagesTooLarge: number;
    publishRateLimited: number;
    publishQuotaExceeded: number;
    subscriptionsRefused: number;
    topicLevelsExceeded: number;
    internal: number;
  };
  /** Retained messages of applications (the broker's own `$SYS/` ones are in `retainedSys`). */
  retained: number;
  /** Retained `$SYS/` topics the broker publishes about itself. */
  retainedSys: number;
  sessions: { total: number; online: number; offline: number };
  subscriptions: number;
  inflight: number;
  queued: number;
  queuedBytes: number;
  /** Retained messages of new subscriptions waiting for room (not in `queued`). */
  retainedWaiting: number;
}

/** Reads broker.stats and walks the sessions: the current state, as the stats endpoint shows it. */
export function statsView(broker: Broker, now = Date.now()): StatsView {
  const s = broker.stats;
  const t = sessionTotals(broker);
  const sys = sysRetainedCount(broker);
  return {
    version: broker.options.version,
    uptime: Math.floor((now - s.startedAt) / 1000),
    startedAt: new Date(s.startedAt).toISOString(),
    connections: {
      current: s.connected,
      maximum: s.maximumConnected,
      total: s.connectionsTotal,
      refused: s.connectionsRefused,
    },
    messages: { received: s.publishReceived, sent: s.publishSent, dropped: s.publishDropped },
    packets: { received: s.packetsReceived, sent: s.packetsSent },
    bytes: { received: s.bytesReceived, sent: s.bytesSent },
    errors: {
      protocol: s.protocolErrors,
      authentication: s.authFailures,
      authorization: s.authzDenied,
      authBackend: s.authBackendErrors,
      authBackendUnavailable: s.authBackendUnavailable,
      keepaliveTimeouts: s.keepaliveTimeouts,
      connectTimeouts: s.connectTimeouts,
      slowConsumers: s.slowConsumers,
      incompletePacketCloses: s.incompletePacketCloses,
      packetsTooLarge: s.packetsTooLarge,
      messagesTooLarge: s.messagesTooLarge,
      publishRateLimited: s.publishRateLimited,
      publishQuotaExceeded: s.publishQuotaExceeded,
      subscriptionsRefused: s.subscriptionsRefused,
      topicLevelsExceeded: s.topicLevelsExceeded,
      internal: s.internalErrors,
    },
    retained: broker.retained.size - sys,
    retainedSys: sys,
    sessions: { total: t.online + t.offline, online: t.online, offline: t.offline },
    subscriptions: t.subscriptions,
    inflight: t.inflight,
    queued: t.queued,
    queuedBytes: t.queuedBytes,
    retainedWaiting: t.retainedWaiting,
  };
}
