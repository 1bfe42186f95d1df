import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionAcceptor } from './acceptor.js';
import { bindListener, type Listener } from './bound-listener.js';
import { connectionInfo, listenerName } from './connection-info.js';
import { ConnectionLimit } from './connection-limit.js';
import type { TransportListenerOptions } from './listener-options.js';
import { readProxyHeader } from './proxy-reader.js';

/**
 * Node caches the peer address object on a socket once it was read (~56 bytes
 * per connection); ConnectionInfo holds the address now. Reading it again
 * asks the OS, as the first time did.
 */
function forgetPeer(socket: net.Socket): void {
  (socket as net.Socket & { _peername?: unknown })._peername = undefined;
}

/** Opens a TCP (or, with `tls` options, TLS) listener feeding sockets to the acceptor (the broker). */
export function openTcpListener<Security>(
  acceptor: ConnectionAcceptor<Security>,
  options: TransportListenerOptions<Security>,
): Promise<Listener> {
  const secure = options.tls !== undefined;
  const protocol = secure ? 'mqtts' : 'mqtt';
  const name = listenerName(options);
  const max = options.maxConnections ?? -1;
  const limit = new ConnectionLimit(max);
  // TLS behind a PROXY header: the header comes before the handshake, so the
  // server is plain TCP and each socket is wrapped after the header is read.
  const wrapTls = secure && options.proxyProtocol === true;
  let secureContext = wrapTls ? tls.createSecureContext(options.tls) : undefined;
  const accept = (socket: net.Socket, remoteAddress: string, remotePort: number): void => {
    const tlsSocket = secure ? (socket as tls.TLSSocket) : undefined;
    acceptor.handleConnection(
      socket,
      connectionInfo(name, options, tlsSocket, remoteAddress, remotePort),
    );
    // Left paused by the PROXY header reader until the channel listens.
    if (socket.isPaused()) socket.resume();
  };
  const acceptTls = (raw: net.Socket, remoteAddress: string, remotePort: number): void => {
    const t = options.tls!;
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext,
      requestCert: t.requestCert,
      rejectUnauthorized: t.rejectUnauthorized,
      ALPNProtocols: t.ALPNProtocols,
    });
    socket.on('error', (err) =>
      acceptor.log?.info(`TLS handshake failed on ${name}: ${err.message}`),
    );
    socket.once('secure', () => {
      // With requestCert + rejectUnauthorized Node has already refused a bad certificate.
      accept(socket, remoteAddress, remotePort);
    });
    // The socket was paused by the header reader; the TLS layer reads from it now.
    raw.resume();
  };
  // One handler for every socket of this listener (no closure per connection),
  // needed only while a PROXY header is read: a channel handles its socket's errors.
  const onSocketError = (err: Error): void =>
    acceptor.log?.debug(`socket error on ${name}: ${err.message}`);
  const onSocket = (socket: net.Socket): void => {
    if (limit.full) {
      acceptor.log?.warn(`Refusing connection on ${name}: max_connections ${max} reached.`);
      acceptor.connectionRefused();
      socket.destroy();
      return;
    }
    limit.track(socket);
    socket.setNoDelay(true);
    if (!acceptor.admitConnection(socket.remoteAddress ?? '')) {
      socket.destroy();
      return;
    }
    if (options.proxyProtocol) {
      socket.on('error', onSocketError);
      readProxyHeader(socket, acceptor.connectTimeout * 1000).then(
        (h) =>
          (wrapTls ? acceptTls : accept)(
            socket,
            h?.sourceAddress ?? socket.remoteAddress ?? '',
            h?.sourcePort ?? socket.remotePort ?? 0,
          ),
        (err: Error) => {
          acceptor.protocolError();
          acceptor.log?.info(
            `Closing connection from ${socket.remoteAddress} on ${name}: ${err.message}.`,
          );
          socket.destroy();
        },
      );
      return;
    }
    accept(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0);
    forgetPeer(socket);
  };
  const server =
    secure && !wrapTls
      ? tls.createServer(options.tls!, onSocket)
      : net.createServer({ noDelay: true }, onSocket);
  // A bind failure rejects bindListener and is reported by its caller: log only later errors.
  server.on('error', (err) => {
    if (server.listening) acceptor.log?.error({ err }, `listener ${name} error`);
  });
  if (secure && !wrapTls) {
    server.on('tlsClientError', (err) =>
      acceptor.log?.info(`TLS handshake failed on ${name}: ${err.message}`),
    );
  }
  return bindListener(server, options, name, protocol, {
    close(): Promise<void> {
      return new Promise((res) => server.close(() => res()));
    },
    reloadTls(tlsOptions: tls.SecureContextOptions): void {
      // New handshakes use the new certificates; established connections are kept.
      if (wrapTls) secureContext = tls.createSecureContext(tlsOptions);
      else if (secure) (server as tls.Server).setSecureContext(tlsOptions);
    },
  });
}
