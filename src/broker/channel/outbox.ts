import type { Duplex } from 'node:stream';

/** What an Outbox tells its connection. */
export interface OutboxOwner {
  /** The socket took a write: there may be room for more (queued deliveries, blocked reading). */
  outputWritten(): void;
}

/** Parts at least this large go out as their own writev entries rather than being copied together. */
const COPY_LIMIT = 64 * 1024;

function flushOutbox(o: Outbox): void {
  o.flush();
}

/** Shared by every outbox with nothing collected (an idle connection keeps no array of its own). */
const EMPTY: Buffer[] = [];

/** The socket's write callback, bound to each outbox (a bound function is half a closure's size). */
function outboxWritten(this: Outbox, err?: Error | null): void {
  this.onWritten(err);
}

/**
 * What one connection has to send that its socket has not taken yet.
 *
 * Encoded packets collect in a plain array and go to the socket as one write
 * once the socket has taken the previous one, so a socket never holds more
 * than one pending write per client. Node keeps one request object per
 * pending write and destroying a socket fails each with its own error: with a
 * stuck consumer's thousands of small writes that cost ~0.2 s of event loop
 * per closed client and froze everyone else (issue 17). Here a close costs one.
 */
export class Outbox {
  private parts: Buffer[] = EMPTY;
  private partBytes = 0;
  /** A flush is due at the end of this tick. */
  private scheduled = false;
  /** The socket has a write of ours it has not taken yet. */
  private writing = false;
  private ended = false;
  private readonly socket: Duplex;
  private readonly owner: OutboxOwner;
  private readonly written: (err?: Error | null) => void;

  constructor(socket: Duplex, owner: OutboxOwner) {
    this.socket = socket;
    this.owner = owner;
    this.written = outboxWritten.bind(this);
  }

  /** Bytes the client has not been sent yet: collected here plus what the socket still holds. */
  get pendingBytes(): number {
    return this.partBytes + this.socket.writableLength;
  }

  /** Queues an encoded packet; it goes out with the others of this tick. */
  push(buf: Buffer): void {
    if (this.ended) return;
    if (this.parts === EMPTY) this.parts = [buf];
    else this.parts.push(buf);
    this.partBytes += buf.length;
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      process.nextTick(flushOutbox, this);
    }
  }

  /** Hands what has collected to the socket, unless it still holds our previous write. */
  flush(): void {
    this.scheduled = false;
    if (this.writing || this.ended || this.parts.length === 0) return;
    this.writing = true;
    this.writeParts(this.written);
  }

  /** Writes everything collected (also behind a pending write) and ends the socket: the connection closes. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.parts.length > 0) this.writeParts(undefined);
    this.socket.end();
  }

  /** Forgets what has not been written (the socket is being destroyed). */
  discard(): void {
    this.ended = true;
    this.parts = EMPTY;
    this.partBytes = 0;
  }

  private writeParts(cb: ((err?: Error | null) => void) | undefined): void {
    const parts = this.parts;
    const bytes = this.partBytes;
    this.parts = EMPTY;
    this.partBytes = 0;
    const s = this.socket;
    if (parts.length === 1) {
      s.write(parts[0]!, cb);
      return;
    }
    if (bytes / parts.length < COPY_LIMIT) {
      // Small packets: one copy is far cheaper than one write entry each.
      s.write(Buffer.concat(parts, bytes), cb);
      return;
    }
    // Large payloads: one writev of the parts, without copying them.
    s.cork();
    for (let i = 0; i < parts.length - 1; i++) s.write(parts[i]!);
    s.write(parts[parts.length - 1]!, cb);
    s.uncork();
  }

  /** The socket took our write (its callback). */
  onWritten(err: Error | null | undefined): void {
    this.writing = false;
    if (err || this.ended) return;
    if (this.parts.length > 0) this.flush();
    this.owner.outputWritten();
  }
}
