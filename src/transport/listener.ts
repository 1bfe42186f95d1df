import type tls from 'node:tls';
import type { ConnectionAcceptor } from './acceptor.js';
import type { ListenerAddress, TransportListenerOptions } from './listener-options.js';
import { openTcpListener } from './tcp.js';
import { openWebSocketListener } from './websocket.js';

/** An open listener: transports turn it into byte streams for the broker. */
export interface Listener {
  /** Where it is bound. */
  address(): ListenerAddress;
  /** Stops accepting; existing connections are left to the broker. */
  close(): Promise<void>;
  /** Swaps the TLS certificates for new handshakes (SIGHUP); no-op on plain listeners. */
  reloadTls(options: tls.SecureContextOptions): void;
}

/** Opens a listener of the kind the options ask for, handing its connections to `acceptor`. */
export function openListener<Security>(
  acceptor: ConnectionAcceptor<Security>,
  options: TransportListenerOptions<Security>,
): Promise<Listener> {
  const protocol = options.protocol ?? 'mqtt';
  if (protocol === 'websockets') return openWebSocketListener(acceptor, options);
  return openTcpListener(acceptor, options);
}
