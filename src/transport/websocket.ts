import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { Broker, ListenerAddress } from '../broker/broker.js';
import type { ListenerOptions } from '../broker/options.js';
import type { Listener } from './listener.js';
import { certificateIdentity } from './tcp.js';
import { WebSocketDuplex } from './ws-duplex.js';

/** Subprotocols MQTT clients ask for: "mqtt" (3.1.1 and 5) and "mqttv3.1". */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/** Opens a WebSocket (or, with `tls`, secure WebSocket) listener feeding connections to the broker. */
export function openWebSocketListener(broker: Broker, options: ListenerOptions): Promise<Listener> {
  const secure = options.tls !== undefined;
  const protocol = secure ? 'wss' : 'ws';
  const name = options.name ?? `${protocol}:${options.port}`;
  const max = options.maxConnections ?? -1;
  let open = 0;
  const server = secure ? https.createServer(options.tls!) : http.createServer();
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('This is an MQTT over WebSocket endpoint.\n');
  });
  const wss = new WebSocketServer({
    server,
    // Like Mosquitto, any path is accepted unless the listener names one.
    path: options.websocketsPath,
    maxPayload: broker.options.maxPacketSize + 16,
    perMessageDeflate: false,
    handleProtocols: (protocols) => {
      for (const p of SUBPROTOCOLS) if (protocols.has(p)) return p;
      // No MQTT subprotocol offered: answer without one (clients that sent none still connect).
      return false;
    },
  });
  wss.on('connection', (ws, req) => {
    if (max >= 0 && open >= max) {
      broker.stats.connectionsRefused++;
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
    if (!broker.admitConnection(remoteAddress)) {
      ws.terminate();
      return;
    }
    open++;
    ws.once('close', () => {
      open--;
    });
    sock.setNoDelay(true);
    const stream = new WebSocketDuplex(ws);
    broker.handleConnection(stream, {
      remoteAddress,
      remotePort,
      listener: name,
      mountPoint: options.mountPoint,
      certificateSubject: secure
        ? certificateIdentity(sock as tls.TLSSocket, options.certificateUsername === 'subject')
        : undefined,
      certificateAsUsername: options.certificateUsername !== undefined,
    });
  });
  wss.on('error', (err) => broker.log?.error({ err }, `listener ${name} error`));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, ipv6Only: options.ipv6Only }, () => {
      server.off('error', reject);
      resolve({
        address(): ListenerAddress {
          const a = server.address() as net.AddressInfo;
          return { name, protocol, host: a.address, port: a.port };
        },
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
    });
  });
}
