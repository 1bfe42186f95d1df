/** The broker as its listeners see it (transport/ knows only the acceptor interface). */
import type { ConnectionAcceptor } from '../transport/acceptor.js';
import type { Broker } from './broker.js';
import type { ListenerSecurityOptions } from './options.js';

/** The broker seen through the transports' acceptor interface. */
export function brokerAcceptor(broker: Broker): ConnectionAcceptor<ListenerSecurityOptions> {
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
