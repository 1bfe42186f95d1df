/** The broker as its listeners see it (transport/ knows only the acceptor interface). */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { listenerPort, newConnectionLine } from '../log/mosquitto-lines.js';
import type { ConnectionAcceptor } from '../transport/acceptor.js';
import { ConnectionRate } from '../transport/connection-rate.js';
import type {
  BrokerConnectionInfo,
  ListenerSecurityOptions,
  ResolvedBrokerOptions,
} from './options.js';
import type { BrokerStats } from './stats.js';

/** The parts of a broker its listeners reach. */
export interface AcceptingBroker {
  readonly log: Logger | undefined;
  readonly options: ResolvedBrokerOptions;
  readonly stats: BrokerStats;
  handleConnection(socket: Duplex, info: BrokerConnectionInfo): unknown;
}

/** The broker seen through the transports' acceptor interface. */
export function brokerAcceptor(
  broker: AcceptingBroker,
): ConnectionAcceptor<ListenerSecurityOptions> {
  const rate = new ConnectionRate();
  return {
    handleConnection(socket, info) {
      if (broker.options.connectionMessages)
        broker.log?.info(
          newConnectionLine(info.remoteAddress, info.remotePort, listenerPort(info.listener)),
        );
      broker.handleConnection(socket, info);
    },
    admitConnection(address) {
      // Per-address connection rate limit (connectionRateLimit per second), before any MQTT byte.
      const limit = broker.options.connectionRateLimit;
      if (limit <= 0 || rate.admit(address, limit, Date.now())) return true;
      broker.stats.connectionsRefused++;
      broker.log?.warn(
        `Refusing connection from ${address}: connection rate limit ${limit}/s exceeded.`,
      );
      return false;
    },
    connectionRefused() {
      broker.stats.connectionsRefused++;
    },
    protocolError() {
      broker.stats.protocolErrors++;
    },
    get log() {
      return broker.log;
    },
    get connectTimeout() {
      return broker.options.connectTimeout;
    },
    get maxPacketSize() {
      return broker.options.maxPacketSize;
    },
  };
}
