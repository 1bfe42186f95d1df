import type { Histogram, Registry } from 'prom-client';
import type { BridgeHandle } from '../bridge/index.js';
import type { Broker } from '../broker/broker.js';
import type { BrokerStats } from '../broker/stats.js';
import type { Alarms } from './alarms.js';
import { registerBridgeMetrics, registerClusterMetrics } from './cluster-bridge-metrics.js';
import { LatencyProbe, type LatencyProbeOptions } from './latency-probe.js';
import { ListenerMetrics } from './listener-metrics.js';
import { type CounterRow, prom, registerCounters } from './prom.js';
import { type SessionTotals, sessionTotals } from './snapshot.js';

/** Prefix of every metric Heron exports. */
const METRIC_PREFIX = 'heron_';

/** Monotonic counters read straight from broker.stats: [metric name without prefix, field, help]. */
const COUNTERS: ReadonlyArray<CounterRow<BrokerStats>> = [
  ['connections_total', 'connectionsTotal', 'Client connections accepted (CONNACK 0) since start.'],
  [
    'connections_refused_total',
    'connectionsRefused',
    'Connections refused before MQTT (max_connections, connection rate limit).',
  ],
  ['packets_received_total', 'packetsReceived', 'MQTT packets received, all types.'],
  ['packets_sent_total', 'packetsSent', 'MQTT packets sent, all types.'],
  ['messages_received_total', 'publishReceived', 'PUBLISH packets received from clients.'],
  ['messages_sent_total', 'publishSent', 'PUBLISH packets sent to clients.'],
  [
    'messages_dropped_total',
    'publishDropped',
    'Deliveries dropped: queue full, slow consumer, too large, expired, offline QoS 0.',
  ],
  [
    'publishers_paused_total',
    'publishersPaused',
    'Times a publisher stopped being read because a subscriber queue it feeds was full.',
  ],
  [
    'stalled_consumers_total',
    'stalledConsumers',
    'Online clients whose full queue made no progress for slow_consumer_timeout (then dropped).',
  ],
  ['bytes_received_total', 'bytesReceived', 'Bytes read from client connections.'],
  ['bytes_sent_total', 'bytesSent', 'Bytes written to client connections.'],
  [
    'protocol_errors_total',
    'protocolErrors',
    'Connections closed for a malformed packet or protocol violation.',
  ],
  ['auth_failures_total', 'authFailures', 'CONNECTs refused for bad credentials or authorization.'],
  ['authz_denied_total', 'authzDenied', 'PUBLISH/SUBSCRIBE refused by authorization.'],
  [
    'auth_backend_errors_total',
    'authBackendErrors',
    'Failed lookups of the auth_plugin stand-in backend (database or web service).',
  ],
  [
    'auth_backend_unavailable_total',
    'authBackendUnavailable',
    'CONNECTs refused "server unavailable" because the auth backend could not answer.',
  ],
  [
    'keepalive_timeouts_total',
    'keepaliveTimeouts',
    'Connections closed because keep alive expired.',
  ],
  [
    'connect_timeouts_total',
    'connectTimeouts',
    'Connections closed for sending no CONNECT in time.',
  ],
  [
    'slow_consumers_total',
    'slowConsumers',
    'Connections closed as slow consumers (unread output kept them unread past keep alive).',
  ],
  [
    'incomplete_packet_closes_total',
    'incompletePacketCloses',
    'Connections closed to keep bytes in incomplete packets within max_incomplete_packet_bytes.',
  ],
  ['packets_too_large_total', 'packetsTooLarge', 'Packets refused for exceeding max_packet_size.'],
  [
    'messages_too_large_total',
    'messagesTooLarge',
    'PUBLISH payloads refused for exceeding message_size_limit.',
  ],
  ['publish_rate_limited_total', 'publishRateLimited', 'PUBLISH refused by publish_rate_limit.'],
  [
    'publish_quota_exceeded_total',
    'publishQuotaExceeded',
    'PUBLISH refused by publish_byte_rate_limit.',
  ],
  [
    'subscriptions_refused_total',
    'subscriptionsRefused',
    'Subscriptions refused by max_subscriptions_per_client.',
  ],
  [
    'topic_levels_exceeded_total',
    'topicLevelsExceeded',
    'Topics or filters refused for exceeding max_topic_levels.',
  ],
  [
    'internal_errors_total',
    'internalErrors',
    'Exceptions caught while handling a client (that client was closed).',
  ],
];

/** Gauges derived from the session walk: [metric name without prefix, field, help]. */
const SESSION_GAUGES: ReadonlyArray<readonly [string, keyof SessionTotals, string]> = [
  ['subscriptions', 'subscriptions', 'Subscriptions across all sessions.'],
  ['messages_inflight', 'inflight', 'Outgoing QoS 1/2 deliveries awaiting acknowledgement.'],
  ['messages_queued', 'queued', 'Deliveries queued for clients (window full or client offline).'],
  ['messages_queued_bytes', 'queuedBytes', 'Payload bytes queued for clients.'],
  [
    'retained_waiting',
    'retainedWaiting',
    "Retained messages of new subscriptions waiting for room in their client's queue.",
  ],
];

/** Upper bounds of the latency histogram's buckets, in seconds: 100 µs to 5 s. */
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Options of BrokerMetrics. */
export interface BrokerMetricsOptions {
  /** Export Node's process metrics under their standard names (process_*, nodejs_*); default true. */
  defaultMetrics?: boolean;
  /** Run the publish→delivery latency probe against this listener. */
  latencyProbe?: LatencyProbeOptions | undefined;
  /** Bridges to export per-bridge metrics for (read when scraped, so restarts are followed). */
  bridges?: readonly BridgeHandle[];
}

/**
 * Prometheus metrics of one broker, in their own registry. Every broker figure
 * is read from broker.stats when scraped: nothing is counted per message.
 */
export class BrokerMetrics {
  /** The prom-client registry holding broker and process metrics. */
  readonly registry: Registry;
  private readonly broker: Broker;
  /** Publish→delivery latency as the probe measures it. */
  readonly latency: Histogram;
  /** The running latency probe, if configured. */
  readonly probe: LatencyProbe | undefined;
  /** The session walk of the scrape in progress, shared by the gauges that need it. */
  private scrape: SessionTotals | undefined;
  private readonly listeners: ListenerMetrics;

  constructor(broker: Broker, options: BrokerMetricsOptions = {}) {
    const { collectDefaultMetrics, Gauge, Histogram, Registry } = prom();
    this.registry = new Registry();
    this.broker = broker;
    const reg = this.registry;
    const stats = broker.stats;
    // Outside render() (the registry scraped directly) each gauge walks afresh:
    // caching here would serve that first walk forever.
    const totals = (): SessionTotals => this.scrape ?? sessionTotals(broker);
    registerCounters(reg, METRIC_PREFIX, COUNTERS, stats);
    new Gauge({
      name: `${METRIC_PREFIX}info`,
      help: 'Broker version (always 1).',
      labelNames: ['version'],
      registers: [reg],
      collect() {
        this.set({ version: broker.options.version }, 1);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}uptime_seconds`,
      help: 'Seconds since the broker started.',
      registers: [reg],
      collect() {
        this.set((Date.now() - stats.startedAt) / 1000);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}clients_connected`,
      help: 'Clients currently connected.',
      registers: [reg],
      collect() {
        this.set(stats.connected);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}clients_maximum`,
      help: 'Most clients connected at once since start.',
      registers: [reg],
      collect() {
        this.set(stats.maximumConnected);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}connections_open`,
      help: 'Open network connections, including those not yet past CONNECT.',
      registers: [reg],
      collect() {
        this.set(broker.channels.size);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}retained_messages`,
      help: 'Retained messages stored.',
      registers: [reg],
      collect() {
        this.set(broker.retained.size);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}sessions`,
      help: 'Sessions by state: online (connected) or offline (persistent, client away).',
      labelNames: ['state'],
      registers: [reg],
      collect() {
        const t = totals();
        this.set({ state: 'online' }, t.online);
        this.set({ state: 'offline' }, t.offline);
      },
    });
    for (const [name, field, help] of SESSION_GAUGES) {
      new Gauge({
        name: METRIC_PREFIX + name,
        help,
        registers: [reg],
        collect() {
          this.set(totals()[field]);
        },
      });
    }
    this.listeners = new ListenerMetrics(broker, reg, METRIC_PREFIX);
    this.latency = new Histogram({
      name: `${METRIC_PREFIX}delivery_latency_seconds`,
      help: 'Publish to delivery time of probe messages through a real listener (latency probe).',
      buckets: LATENCY_BUCKETS,
      registers: [reg],
    });
    registerClusterMetrics(reg, broker, METRIC_PREFIX);
    registerBridgeMetrics(reg, options.bridges ?? [], METRIC_PREFIX);
    if (options.defaultMetrics !== false) {
      // No prefix: ready-made Node.js dashboards query process_* and nodejs_* by these names.
      collectDefaultMetrics({ register: reg });
    }
    this.probe =
      options.latencyProbe !== undefined
        ? new LatencyProbe(this.latency, options.latencyProbe, (err) =>
            broker.log?.warn({ err }, 'latency probe could not connect; no latency figures'),
          )
        : undefined;
    void this.probe?.start();
  }

  /** Stops the probe and stops following broker events. */
  async close(): Promise<void> {
    this.listeners.close();
    await this.probe?.close();
  }

  /** Content-Type of the exposition format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Renders every metric in the Prometheus text format, walking the sessions once. */
  async render(): Promise<string> {
    this.scrape = sessionTotals(this.broker);
    try {
      return await this.registry.metrics();
    } finally {
      this.scrape = undefined;
    }
  }
}

/** Adds `heron_alarms_active{kind}` (active alarms by kind) to a registry. */
export function registerAlarmGauge(registry: Registry, alarms: Alarms): void {
  const { Gauge } = prom();
  const kinds = [
    'slow_consumer',
    'queue_drops',
    'auth_failures',
    'memory_high',
    'auth_backend',
    'cluster_redis',
  ];
  new Gauge({
    name: `${METRIC_PREFIX}alarms_active`,
    help: 'Active alarms by kind (see the dashboard Alarms page or /api/v1/alarms).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const by = new Map<string, number>(kinds.map((k) => [k, 0]));
      for (const a of alarms.list()) by.set(a.kind, (by.get(a.kind) ?? 0) + 1);
      for (const [kind, n] of by) this.set({ kind }, n);
    },
  });
}
