import type net from 'node:net';
import { type ProxyHeader, ProxyProtocolError, parseProxyHeader } from './proxy-protocol.js';

/**
 * Reads a PROXY protocol header from the start of a socket, then puts any
 * bytes after it back so the MQTT decoder sees them. Rejects on a malformed
 * header or when none arrives within `timeoutMs`. On success the socket is left
 * paused: the caller resumes it once its own 'data' listener is attached (a
 * resume here would emit the bytes after the header before anyone listens).
 */
export function readProxyHeader(
  socket: net.Socket,
  timeoutMs: number,
): Promise<ProxyHeader | undefined> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(new ProxyProtocolError('no PROXY header in time')),
      timeoutMs,
    );
    const finish = (err: Error | undefined, header?: ProxyHeader): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (err !== undefined) {
        reject(err);
        return;
      }
      socket.pause();
      const rest = buf.subarray(header!.length);
      if (rest.length > 0) socket.unshift(rest);
      resolve(header);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        const h = parseProxyHeader(buf);
        if (h !== undefined) finish(undefined, h);
        else if (buf.length > 16 + 65535) finish(new ProxyProtocolError('PROXY header too long'));
      } catch (err) {
        finish(err as Error);
      }
    };
    const onClose = (): void => finish(new ProxyProtocolError('closed before PROXY header'));
    // A reset before the header must not become an unhandled 'error' event.
    const onError = (err: Error): void => finish(err);
    socket.on('error', onError);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
