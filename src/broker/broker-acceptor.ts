/** The broker as its listeners see it (transport/ knows only the acceptor interface). */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ConnectionAcceptor } from '../transport/acceptor.js';
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
  admitConnection(address: string): boolean;
}

/** The broker seen through the transports' acceptor interface. */
export function brokerAcceptor(
  broker: AcceptingBroker,
): ConnectionAcceptor<ListenerSecurityOptions> {
  return {
    handleConnection(socket, info) {
      broker.handleConnection(socket, info);
    },
    admitConnection: (address) => broker.admitConnection(address),
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
