import type { Socket } from 'node:net';
import {
  DATA_HEADER,
  type DataKind,
  dataHeader,
  LOOSE_HEADER,
  writeDataHeader,
  writeLooseHeader,
} from './link-wire.js';

/** Bytes of one slab; a frame larger than a quarter of it is written on its own. */
const SLAB = 256 * 1024;

/**
 * Writes the DATA frames of one link: each frame's header and body are copied
 * into a shared slab, and the slab goes out in one socket write at the end of
 * the event-loop turn. A socket write costs far more than copying a small frame, and a
 * forwarded message is usually small, so this is one write per event-loop turn
 * instead of two per message (flushed in the check phase, after every socket
 * read of the turn, so PUBLISHes read from many clients leave together). The written part of a slab is never touched again (the
 * socket may still hold it); the next frames go after it, then into a new slab.
 */
export class FrameWriter {
  private socket: Socket | undefined;
  private slab: Buffer | undefined;
  /** Start of what is not written yet, and end of what is filled. */
  private start = 0;
  private end = 0;
  private scheduled = false;
  /** Where the body of the frame begin() started goes. */
  at = 0;

  /** Frames go to this socket from now on (what was pending for the previous one is dropped: the outbox re-sends it). */
  attach(socket: Socket | undefined): void {
    this.socket = socket;
    this.start = this.end;
  }

  /** Queues one DATA frame (`body`, then `tail` if any) for the end of this event-loop turn. */
  write(seq: number, kind: number, body: Buffer, tail: Buffer | undefined): void {
    const s = this.socket;
    if (s === undefined) return;
    const length = body.length + (tail === undefined ? 0 : tail.length);
    const need = DATA_HEADER + length;
    if (need > SLAB / 4) {
      this.flush();
      s.write(dataHeader(seq, kind, length));
      s.write(body);
      if (tail !== undefined) s.write(tail);
      return;
    }
    let slab = this.slab;
    if (slab === undefined || this.end + need > slab.length) {
      this.flush();
      slab = this.slab = Buffer.allocUnsafe(SLAB);
      this.start = this.end = 0;
    }
    writeDataHeader(slab, this.end, seq, kind, length);
    body.copy(slab, this.end + DATA_HEADER);
    if (tail !== undefined) tail.copy(slab, this.end + DATA_HEADER + body.length);
    this.end += need;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushWriter, this);
    }
  }

  /**
   * Starts a LOOSE frame (no sequence number) whose body takes at most `room`
   * bytes: returns the buffer to write the body into, from `at`, then call
   * finish() with where it ended. Returns undefined when no socket is attached.
   * The body is written in place: no buffer of its own, no copy.
   */
  begin(room: number): Buffer | undefined {
    if (this.socket === undefined) return undefined;
    const need = LOOSE_HEADER + room;
    let slab = this.slab;
    if (slab === undefined || this.end + need > slab.length) {
      this.flush();
      // A large frame gets a buffer of its own, written like a slab.
      slab = this.slab = Buffer.allocUnsafe(need > SLAB / 4 ? need : SLAB);
      this.start = this.end = 0;
    }
    this.at = this.end + LOOSE_HEADER;
    return slab;
  }

  /** Ends the frame begin() started: its body ends at `bodyEnd`. */
  finish(kind: DataKind, bodyEnd: number): void {
    writeLooseHeader(this.slab!, this.end, kind, bodyEnd - this.at);
    this.end = bodyEnd;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushWriter, this);
    }
  }

  /** Writes what is queued. */
  flush(): void {
    this.scheduled = false;
    const s = this.socket;
    if (this.end === this.start || s === undefined || this.slab === undefined) return;
    s.write(this.slab.subarray(this.start, this.end));
    this.start = this.end;
  }
}

function flushWriter(w: FrameWriter): void {
  w.flush();
}
