/** Binding a transport's server to the listener's port and presenting it as a Listener. */
import type net from 'node:net';
import type tls from 'node:tls';
import type { ListenerAddress, TransportListenerOptions } from './listener-options.js';

/** An open listener: transports turn it into byte streams for the broker. */
export interface Listener {
  /** Where it is bound. */
  address(): ListenerAddress;
  /** Stops accepting; existing connections are left to the broker. */
  close(): Promise<void>;
  /** Swaps the TLS certificates for new handshakes (SIGHUP); no-op on plain listeners. */
  reloadTls(options: tls.SecureContextOptions): void;
}

/**
 * Listens on the options' port and host; resolves to a Listener once bound, rejects
 * if binding fails. `close` and `reloadTls` are the transport's own.
 */
export function bindListener(
  server: net.Server,
  options: TransportListenerOptions,
  name: string,
  protocol: string,
  ops: Pick<Listener, 'close' | 'reloadTls'>,
): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, ipv6Only: options.ipv6Only }, () => {
      server.off('error', reject);
      resolve({
        address(): ListenerAddress {
          const a = server.address() as net.AddressInfo;
          return { name, protocol, host: a.address, port: a.port };
        },
        close: ops.close,
        reloadTls: ops.reloadTls,
      });
    });
  });
}
