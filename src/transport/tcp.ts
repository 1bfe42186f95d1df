import net from 'node:net';
import tls from 'node:tls';
import type { Broker, ListenerAddress } from '../broker/broker.js';
import type { ListenerOptions } from '../broker/options.js';
import type { Listener } from './listener.js';

/** Opens a TCP (or, with `tls` options, TLS) listener feeding sockets to the broker. */
export function openTcpListener(broker: Broker, options: ListenerOptions): Promise<Listener> {
  const secure = options.tls !== undefined;
  const protocol = secure ? 'mqtts' : 'mqtt';
  const name = options.name ?? `${protocol}:${options.port}`;
  const max = options.maxConnections ?? -1;
  let open = 0;
  const onSocket = (socket: net.Socket): void => {
    if (max >= 0 && open >= max) {
      broker.log?.warn(`Refusing connection on ${name}: max_connections ${max} reached.`);
      socket.destroy();
      return;
    }
    open++;
    socket.once('close', () => {
      open--;
    });
    socket.setNoDelay(true);
    const tlsSocket = socket as tls.TLSSocket;
    let subject: string | undefined;
    if (secure && typeof tlsSocket.getPeerCertificate === 'function') {
      const cert = tlsSocket.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn !== undefined) subject = Array.isArray(cn) ? cn[0] : cn;
    }
    broker.handleConnection(socket, {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      listener: name,
      mountPoint: options.mountPoint,
      certificateSubject: subject,
    });
  };
  const server = secure
    ? tls.createServer(options.tls!, onSocket)
    : net.createServer({ noDelay: true }, onSocket);
  server.on('error', (err) => broker.log?.error({ err }, `listener ${name} error`));
  if (secure) {
    server.on('tlsClientError', (err) =>
      broker.log?.info({ err: err.message }, `TLS handshake failed on ${name}`),
    );
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject);
      resolve({
        address(): ListenerAddress {
          const a = server.address() as net.AddressInfo;
          return { name, protocol, host: a.address, port: a.port };
        },
        close(): Promise<void> {
          return new Promise((res) => server.close(() => res()));
        },
      });
    });
  });
}
