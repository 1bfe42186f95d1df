import type { Registry } from 'prom-client';
import type { BridgeHandle } from '../bridge/index.js';
import type { Broker } from '../broker/broker.js';
import { type CounterRow, prom, registerCounters } from './prom.js';

/** Cluster counters (when the broker is in a cluster): read from cluster.stats when scraped. */
export function registerClusterMetrics(registry: Registry, broker: Broker, prefix: string): void {
  const { Gauge } = prom();
  const cluster = broker.cluster;
  if (cluster === undefined) return;
  const s = cluster.stats;
  const counters: CounterRow<typeof s>[] = [
    [
      'cluster_forwarded_total',
      'forwarded',
      'Messages sent to other cluster nodes (one per node).',
    ],
    ['cluster_received_total', 'received', 'Messages received from other cluster nodes.'],
    [
      'cluster_taken_over_total',
      'takenOver',
      'Connections closed here because their client id moved to another node.',
    ],
    [
      'cluster_sessions_received_total',
      'sessionsReceived',
      'Persistent sessions received from other nodes.',
    ],
    ['cluster_acked_total', 'acked', 'Link frames the receiving node acknowledged.'],
    ['cluster_resent_total', 'resent', 'Link frames sent again after a broken link.'],
    [
      'cluster_dropped_total',
      'dropped',
      'Link frames given up: outbox full, or the receiving node gone for good.',
    ],
    [
      'cluster_duplicates_total',
      'duplicates',
      'Frames received again after a fault and discarded (already applied).',
    ],
    [
      'cluster_claims_local_total',
      'claimsLocal',
      'CONNECTs decided without Redis (outage or slow claim).',
    ],
    ['cluster_redis_errors_total', 'redisErrors', 'Redis commands that failed (never queued).'],
  ];
  registerCounters(registry, prefix, counters, s);
  new Gauge({
    name: `${prefix}cluster_nodes`,
    help: 'Other cluster nodes this node has routes from.',
    registers: [registry],
    collect() {
      this.set(cluster.remote.nodes.size);
    },
  });
  const gauges: [string, 'routes' | 'outbox' | 'links/connected', string][] = [
    ['cluster_routes', 'routes', 'Routes of other nodes known here.'],
    ['cluster_outbox', 'outbox', 'Link frames waiting for the receiving node to acknowledge them.'],
    ['cluster_links_connected', 'links/connected', 'Links to other nodes that are up.'],
  ];
  for (const [name, field, help] of gauges) {
    new Gauge({
      name: prefix + name,
      help,
      registers: [registry],
      collect() {
        this.set(Number(cluster.metrics()[field]));
      },
    });
  }
  new Gauge({
    name: `${prefix}cluster_redis_up`,
    help: 'Whether this node can use Redis now (1) or decides locally (0).',
    registers: [registry],
    collect() {
      this.set(cluster.redisReady ? 1 : 0);
    },
  });
}

/** Per-bridge metrics labelled `bridge="name"`, read from each bridge when scraped. */
export function registerBridgeMetrics(
  registry: Registry,
  bridges: readonly BridgeHandle[],
  prefix: string,
): void {
  const { Counter, Gauge } = prom();
  const counter = (
    name: string,
    help: string,
    field: 'sent' | 'received' | 'dropped' | 'connects',
  ) =>
    new Counter({
      name: prefix + name,
      help,
      labelNames: ['bridge'],
      registers: [registry],
      collect() {
        this.reset();
        for (const h of bridges) this.inc({ bridge: h.bridge.name }, h.bridge.stats[field]);
      },
    });
  counter('bridge_messages_sent_total', 'Messages a bridge sent to its remote broker.', 'sent');
  counter(
    'bridge_messages_received_total',
    'Messages a bridge received from its remote.',
    'received',
  );
  counter('bridge_messages_dropped_total', 'Outgoing messages a bridge dropped.', 'dropped');
  counter('bridge_connects_total', 'Successful connections of a bridge to its remote.', 'connects');
  new Gauge({
    name: `${prefix}bridge_up`,
    help: 'Whether a bridge is connected (1) or not (0).',
    labelNames: ['bridge'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of bridges)
        this.set({ bridge: h.bridge.name }, h.bridge.state === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}bridge_messages_queued`,
    help: 'Messages waiting in a bridge queue for the remote.',
    labelNames: ['bridge'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of bridges) this.set({ bridge: h.bridge.name }, h.bridge.queued);
    },
  });
}
