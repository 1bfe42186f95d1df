import type { Registry } from 'prom-client';
import { lazyRequire } from '../lazy-require.js';

/**
 * prom-client, loaded when the first metric is built rather than when Heron is
 * imported: only brokers with an admin server (or an application that builds
 * BrokerMetrics) pay for it.
 */
export function prom(): typeof import('prom-client') {
  return lazyRequire<typeof import('prom-client')>('prom-client');
}

/** One metric row: name (after the prefix), the numeric field it reports, help text. */
export type CounterRow<T> = readonly [string, keyof T, string];

/** Registers a Counter per row, each reporting `source[field]` when scraped. */
export function registerCounters<T>(
  registry: Registry,
  prefix: string,
  rows: ReadonlyArray<CounterRow<T>>,
  source: T,
): void {
  const { Counter } = prom();
  for (const [name, field, help] of rows) {
    new Counter({
      name: prefix + name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(source[field] as number);
      },
    });
  }
}
