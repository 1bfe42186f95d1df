import type { ConnectionAcceptor } from './acceptor.js';
import type { Listener } from './bound-listener.js';
import type { TransportListenerOptions } from './listener-options.js';
import { openTcpListener } from './tcp.js';

export type { Listener } from './bound-listener.js';

/** Opens a listener of the kind the options ask for, handing its connections to `acceptor`. */
export async function openListener<Security>(
  acceptor: ConnectionAcceptor<Security>,
  options: TransportListenerOptions<Security>,
): Promise<Listener> {
  const protocol = options.protocol ?? 'mqtt';
  if (protocol === 'websockets') {
    // Loaded here, not at start: brokers without a WebSocket listener never load `ws`.
    const { openWebSocketListener } = await import('./websocket.js');
    return openWebSocketListener(acceptor, options);
  }
  return openTcpListener(acceptor, options);
}
