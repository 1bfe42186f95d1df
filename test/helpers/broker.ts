import { after, before } from 'node:test';
import { type Broker, createBroker } from '../../src/broker/broker.js';
import type { BrokerOptions } from '../../src/broker/options.js';

/** A broker listening on a free loopback port, for tests. */
export interface TestBroker {
  broker: Broker;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts a broker on 127.0.0.1 with a kernel-chosen port ($SYS off unless asked). */
export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const broker = createBroker({
    sysInterval: 0,
    ...options,
    listeners: options.listeners ?? [{ port: 0, host: '127.0.0.1' }],
  });
  const [addr] = await broker.listen();
  const port = addr!.port;
  return { broker, port, url: `mqtt://127.0.0.1:${port}`, close: () => broker.close() };
}

/**
 * Starts a broker before the enclosing suite's tests and closes it after them (node:test
 * hooks); the returned view reads the running broker, so use it inside tests only.
 * Pass a function for options that depend on what an earlier `before` hook set up.
 */
export function suiteBroker(options: BrokerOptions | (() => BrokerOptions) = {}): TestBroker {
  let tb: TestBroker | undefined;
  before(async () => {
    tb = await startBroker(typeof options === 'function' ? options() : options);
  });
  after(() => tb?.close());
  return lateBroker(() => tb, 'suiteBroker used outside its suite');
}

/** A TestBroker that reads whichever broker `get` returns when used (one a hook starts later). */
export function lateBroker(get: () => TestBroker | undefined, notYet: string): TestBroker {
  const live = (): TestBroker => {
    const tb = get();
    if (tb === undefined) throw new Error(notYet);
    return tb;
  };
  return {
    get broker() {
      return live().broker;
    },
    get port() {
      return live().port;
    },
    get url() {
      return live().url;
    },
    close: () => live().close(),
  };
}
