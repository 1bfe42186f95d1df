/**
 * Byte transports for the client: TCP, TLS and WebSocket behind one small
 * interface. Outgoing packets are queued and written once per event-loop turn
 * (one writev through cork/uncork, or one WebSocket frame), so a burst of
 * publishes costs one syscall, not one per packet.
 */
import net from 'node:net';
import tls from 'node:tls';
import type WebSocket from 'ws';
import { lazyRequire } from '../lazy-require.js';
import type { ResolvedClientOptions } from './options.js';

/** What a transport reports to its owner (the client implements it: no closures per event). */
export interface TransportHandler {
  onTransportOpen(): void;
  onTransportData(chunk: Buffer): void;
  onTransportError(err: Error): void;
  /** Called exactly once, whatever the cause. */
  onTransportClose(): void;
  onTransportDrain(): void;
}

/** An open (or opening) byte stream to the server. */
export abstract class ClientTransport {
  protected readonly handler: TransportHandler;
  private out: Buffer[] = [];
  private scheduled = false;
  private closed = false;
  /** Bytes handed to the transport but not yet sent by the kernel. */
  abstract readonly bufferedAmount: number;
  /** True when the last write hit the stream's high-water mark (wait for onTransportDrain). */
  needDrain = false;

  constructor(handler: TransportHandler) {
    this.handler = handler;
  }

  /** Queues an encoded packet; it is written with the others at the end of this turn. */
  send(buf: Buffer): void {
    if (this.closed) return;
    this.out.push(buf);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(flushTransport, this);
    }
  }

  /** Writes everything queued now. */
  flush(): void {
    this.scheduled = false;
    const out = this.out;
    if (out.length === 0 || this.closed) return;
    this.out = [];
    this.needDrain = !this.writeBatch(out);
  }

  /** Flushes, then closes gracefully. */
  end(): void {
    this.flush();
    this.closed = true;
    this.endStream();
  }

  /** Closes at once, dropping anything queued. */
  destroy(): void {
    this.closed = true;
    this.out = [];
    this.destroyStream();
  }

  protected markClosed(): void {
    this.closed = true;
  }

  /** Stops (false) or restarts (true) reading from the stream; TCP then pushes back on the server. */
  abstract setReading(on: boolean): void;
  /** Writes buffers in order; returns false when the stream asks to wait for drain. */
  protected abstract writeBatch(bufs: Buffer[]): boolean;
  protected abstract endStream(): void;
  protected abstract destroyStream(): void;
}

function flushTransport(t: ClientTransport): void {
  t.flush();
}

/** TCP or TLS socket. */
class SocketTransport extends ClientTransport {
  private readonly socket: net.Socket;

  constructor(o: ResolvedClientOptions, handler: TransportHandler) {
    super(handler);
    const secure = o.scheme === 'mqtts';
    let socket: net.Socket;
    if (secure) {
      // tls.connect hands net options such as localAddress to the socket it opens.
      const opts: tls.ConnectionOptions & { localAddress?: string } = {
        host: o.host,
        port: o.port,
        localAddress: o.localAddress,
        ...o.tls,
      };
      if (opts.servername === undefined && net.isIP(o.host) === 0) opts.servername = o.host;
      socket = tls.connect(opts, () => handler.onTransportOpen());
    } else {
      const opts = { host: o.host, port: o.port, noDelay: true, localAddress: o.localAddress };
      socket = net.connect(opts, () => handler.onTransportOpen());
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => handler.onTransportData(chunk));
    socket.on('error', (err) => handler.onTransportError(err));
    socket.on('drain', () => {
      this.needDrain = false;
      handler.onTransportDrain();
    });
    socket.on('close', () => {
      this.markClosed();
      handler.onTransportClose();
    });
    this.socket = socket;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  setReading(on: boolean): void {
    if (on) this.socket.resume();
    else this.socket.pause();
  }

  protected writeBatch(bufs: Buffer[]): boolean {
    const s = this.socket;
    if (bufs.length === 1) return s.write(bufs[0]);
    s.cork();
    let ok = true;
    for (let i = 0; i < bufs.length; i++) ok = s.write(bufs[i]);
    s.uncork();
    return ok;
  }

  protected endStream(): void {
    this.socket.end();
  }

  protected destroyStream(): void {
    this.socket.destroy();
  }
}

/** WebSocket with the 'mqtt' subprotocol; MQTT bytes travel in binary frames. */
class WebSocketTransport extends ClientTransport {
  private readonly ws: WebSocket;
  private closeReported = false;

  constructor(o: ResolvedClientOptions, handler: TransportHandler) {
    super(handler);
    const host = net.isIPv6(o.host) ? `[${o.host}]` : o.host;
    const url = `${o.scheme}://${host}:${o.port}${o.path.startsWith('/') ? '' : '/'}${o.path}`;
    // Required here, not at start: only ws:// and wss:// clients load `ws`.
    const WS = lazyRequire<typeof WebSocket>('ws');
    const ws = new WS(url, ['mqtt'], { perMessageDeflate: false, ...o.tls });
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      (ws as unknown as { _socket?: net.Socket })._socket?.setNoDelay(true);
      handler.onTransportOpen();
    });
    ws.on('message', (data: Buffer) => handler.onTransportData(data));
    ws.on('error', (err) => handler.onTransportError(err));
    ws.on('close', () => this.reportClose());
    this.ws = ws;
  }

  private reportClose(): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.markClosed();
    this.handler.onTransportClose();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  setReading(on: boolean): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (on) this.ws.resume();
    else this.ws.pause();
  }

  protected writeBatch(bufs: Buffer[]): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true;
    this.ws.send(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs), { binary: true });
    return true;
  }

  protected endStream(): void {
    if (this.ws.readyState === this.ws.CONNECTING) {
      this.ws.terminate();
      return;
    }
    this.ws.close(1000);
    // Some servers drop the TCP connection after DISCONNECT without a closing handshake.
    setTimeout(() => this.ws.terminate(), 250).unref();
  }

  protected destroyStream(): void {
    this.ws.terminate();
  }
}

/** Opens the transport the options' scheme names. */
export function openTransport(
  o: ResolvedClientOptions,
  handler: TransportHandler,
): ClientTransport {
  if (o.scheme === 'ws' || o.scheme === 'wss') return new WebSocketTransport(o, handler);
  return new SocketTransport(o, handler);
}
