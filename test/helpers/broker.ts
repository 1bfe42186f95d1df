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
