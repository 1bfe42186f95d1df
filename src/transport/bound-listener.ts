/** Binding a transport's server to the listener's port and presenting it as a Listener. */
import type net from 'node:net';
import type { Listener } from './listener.js';
import type { ListenerAddress, TransportListenerOptions } from './listener-options.js';

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
