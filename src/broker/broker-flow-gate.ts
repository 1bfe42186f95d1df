import type { Logger } from 'pino';
import { FlowGate } from './flow-gate.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { BrokerStats } from './stats.js';

/** The broker's FlowGate: its bounds from the options, its events in the counters and the log. */
export function brokerFlowGate(
  o: ResolvedBrokerOptions,
  stats: BrokerStats,
  log: () => Logger | undefined,
): FlowGate {
  return new FlowGate(
    {
      maxQueuedMessages: o.maxQueuedMessages,
      maxQueuedBytes: o.maxQueuedBytes,
      slowConsumerMs: o.slowConsumerTimeout * 1000,
    },
    {
      paused: () => {
        stats.publishersPaused++;
      },
      slowConsumer: (q) => {
        stats.stalledConsumers++;
        log()?.info(
          { clientId: q.clientId, queued: q.queuedCount },
          'slow consumer: its queue stayed full past slow_consumer_timeout; dropping for it',
        );
      },
    },
  );
}
