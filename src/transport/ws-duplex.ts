import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Adapts a WebSocket to the byte stream a Channel reads and writes. Binary
 * frames carry MQTT bytes (a packet may span frames, a frame may hold many
 * packets); a text frame is a protocol error and closes the connection.
 * Writes queued during one tick (the channel corks) go out as one frame.
 */
export class WebSocketDuplex extends Duplex {
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    super({ allowHalfOpen: false });
    this.ws = ws;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        // MQTT over WebSocket uses binary frames only.
        ws.close(1003, 'MQTT needs binary frames');
        this.destroy();
        return;
      }
      const chunk = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      // Honour backpressure: a paused channel (a client that floods or never reads its
      // answers) must stop the frames too, or they pile up here without bound.
      if (!this.push(chunk)) ws.pause();
    });
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    // Data is pushed as frames arrive; this is the signal to take more.
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb();
      return;
    }
    this.ws.send(chunk, { binary: true }, (err) => cb(err ?? null));
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb();
      return;
    }
    const buf = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.ws.send(buf, { binary: true }, (err) => cb(err ?? null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.ws.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING)
      this.ws.terminate();
    cb(err);
  }
}
