/** Opens the byte stream to the broker for each transport (tcp, tls, ws, wss). */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocket } from 'ws';
import type { BenchTarget } from './plan.js';

/** A connecting stream; bytes written before it is open are queued by the stream itself. */
export function openStream(t: BenchTarget): Duplex {
  switch (t.transport) {
    case 'tcp':
      return net.connect({ host: t.host, port: t.port, noDelay: true });
    case 'tls':
      return tls.connect({
        host: t.host,
        port: t.port,
        servername: net.isIP(t.host) === 0 ? t.host : undefined,
        rejectUnauthorized: !t.insecure,
      });
    case 'ws':
    case 'wss': {
      const scheme = t.transport;
      const ws = new WebSocket(`${scheme}://${t.host}:${t.port}${t.wsPath}`, 'mqtt', {
        rejectUnauthorized: !t.insecure,
        perMessageDeflate: false,
      });
      return createWebSocketStream(ws);
    }
  }
}
