import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { ConnectionAcceptor } from './acceptor.js';
import { bindListener, type Listener } from './bound-listener.js';
import { connectionInfo, listenerName } from './connection-info.js';
import { ConnectionLimit } from './connection-limit.js';
import type { TransportListenerOptions } from './listener-options.js';
import { WebSocketDuplex } from './ws-duplex.js';

/** Subprotocols MQTT clients ask for: "mqtt" (3.1.1 and 5) and "mqttv3.1". */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/** Opens a WebSocket (or, with `tls`, secure WebSocket) listener feeding connections to the acceptor (the broker). */
export function openWebSocketListener<Security>(
  acceptor: ConnectionAcceptor<Security>,
  options: TransportListenerOptions<Security>,
): Promise<Listener> {
  const secure = options.tls !== undefined;
  const protocol = secure ? 'wss' : 'ws';
  const name = listenerName(options);
  const limit = new ConnectionLimit(options.maxConnections ?? -1);
  const server = secure ? https.createServer(options.tls!) : http.createServer();
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('This is an MQTT over WebSocket endpoint.\n');
  });
  const wss = new WebSocketServer({
    server,
    // Like Mosquitto, any path is accepted unless the listener names one.
    path: options.websocketsPath,
    maxPayload: acceptor.maxPacketSize + 16,
    perMessageDeflate: false,
    handleProtocols: (protocols) => {
      for (const p of SUBPROTOCOLS) if (protocols.has(p)) return p;
      // No MQTT subprotocol offered: answer without one (clients that sent none still connect).
      return false;
    },
  });
  wss.on('connection', (ws, req) => {
    if (limit.full) {
      acceptor.connectionRefused();
      ws.terminate();
      return;
    }
    const sock = req.socket as net.Socket;
    let remoteAddress = sock.remoteAddress ?? '';
    let remotePort = sock.remotePort ?? 0;
    // Behind a reverse proxy that says who the client is.
    const fwd = req.headers['x-forwarded-for'];
    if (options.proxyProtocol && typeof fwd === 'string' && fwd.length > 0) {
      remoteAddress = fwd.split(',')[0]!.trim();
      remotePort = 0;
    }
    if (!acceptor.admitConnection(remoteAddress)) {
      ws.terminate();
      return;
    }
    limit.track(ws);
    sock.setNoDelay(true);
    const stream = new WebSocketDuplex(ws);
    const tlsSocket = secure ? (sock as tls.TLSSocket) : undefined;
    acceptor.handleConnection(
      stream,
      connectionInfo(name, options, tlsSocket, remoteAddress, remotePort),
    );
  });
  // A bind failure rejects bindListener and is reported by its caller: log only later errors.
  wss.on('error', (err) => {
    if (server.listening) acceptor.log?.error({ err }, `listener ${name} error`);
  });
  return bindListener(server, options, name, protocol, {
    close(): Promise<void> {
      return new Promise((res) => {
        wss.close();
        server.close(() => res());
      });
    },
    reloadTls(tlsOptions: tls.SecureContextOptions): void {
      if (secure) (server as https.Server).setSecureContext(tlsOptions);
    },
  });
}
