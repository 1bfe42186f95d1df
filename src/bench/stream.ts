/** Opens the byte stream to the broker for each transport (tcp, tls, ws, wss). */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocket } from 'ws';
import type { BenchTarget } from './plan.js';

/** Called with the bytes of one TCP read, valid during the call only (see openStream). */
export type DirectRead = (bytes: number, buffer: Buffer) => boolean;

/** One buffer for every client's TCP reads: each read is handled before the next. */
let shared: Buffer | undefined;

/**
 * A connecting stream; bytes written before it is open are queued by the stream
 * itself. With `onRead`, plain TCP reads go into one shared buffer and straight
 * to that function, not through the stream ('data' events): a per-packet broker
 * answers each packet with its own segment, and the Readable machinery per read
 * was a good part of the generator's own CPU. TLS and WebSocket streams ignore it.
 */
export function openStream(t: BenchTarget, onRead?: DirectRead): Duplex {
  switch (t.transport) {
    case 'tcp':
      if (onRead === undefined)
        return net.connect({ host: t.host, port: t.port, noDelay: !t.nagle });
      shared ??= Buffer.allocUnsafe(64 * 1024);
      return net.connect({
        host: t.host,
        port: t.port,
        noDelay: !t.nagle,
        onread: { buffer: shared, callback: onRead },
      });
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
