import { lazyRequire } from '../lazy-require.js';

/**
 * prom-client, loaded when the first metric is built rather than when Heron is
 * imported: only brokers with an admin server (or an application that builds
 * BrokerMetrics) pay for it.
 */
export function prom(): typeof import('prom-client') {
  return lazyRequire<typeof import('prom-client')>('prom-client');
}
