import type { Broker, ListenerAddress } from '../broker/broker.js';
import type { ListenerOptions } from '../broker/options.js';
import { openTcpListener } from './tcp.js';

/** An open listener: transports turn it into byte streams for the broker. */
export interface Listener {
  /** Where it is bound. */
  address(): ListenerAddress;
  /** Stops accepting; existing connections are left to the broker. */
  close(): Promise<void>;
}

/** Opens a listener of the kind the options ask for. */
export function openListener(broker: Broker, options: ListenerOptions): Promise<Listener> {
  const protocol = options.protocol ?? 'mqtt';
  if (protocol === 'mqtt') return openTcpListener(broker, options);
  return Promise.reject(new Error(`listener protocol '${protocol}' is not supported yet`));
}
