/**
 * The wire format of node-to-node links. Every frame is `u32 length` (of what
 * follows), `u8 type`, then the body:
 *
 * ```
 * HELLO  JSON {n: node id, b: boot id, h: host, p: port}      dialer → listener, first frame
 * DATA   f64 seq, u8 kind, bytes                              dialer → listener
 * ACK    f64 seq (every DATA up to seq is applied and durable)  listener → dialer
 * PING   (empty; keeps the dialer alive in the listener's eyes)  dialer → listener
 * LOOSE  u8 kind, bytes                                       dialer → listener
 * ```
 *
 * LOOSE is a DATA frame without a sequence number: not kept by the sender,
 * not acknowledged, not counted by the receiver's duplicate check (QoS 0
 * messages, which are at most once). It was added with frame version 3; a
 * node of an earlier version ignores it.
 */

/** Frame types of a link. */
export enum LinkFrame {
  Hello = 1,
  Data = 2,
  Ack = 3,
  Ping = 4,
  Loose = 5,
}

/** What a DATA frame carries. */
export enum DataKind {
  /** A forwarded message (a cluster frame, see frame.ts). */
  Message = 1,
  /** Route changes of the sender, JSON (see RouteChange). */
  Routes = 2,
  /** The sender leaves the cluster. */
  Bye = 3,
  /** A message for one session that moved from the sender to the receiver (see Moves). */
  Deliver = 4,
  /** A session handed over (reply to a take-over request), JSON. */
  Handover = 5,
  /** The receiver's routes for a moved session are in force: the sender may drop its relay (client id). */
  Release = 6,
  /** The relay is gone: nothing more comes for that session (client id). */
  Released = 7,
  /** Session replication: changes for a replica, its confirmations, fetches on a fail-over (JSON, see Replicas). */
  Replica = 8,
  /** A dead node's sessions and the messages forwarded to it: orphans, requests, notices (see Orphans). */
  Orphans = 9,
}

/** The first frame of a link: who dials, which process (boot id), and where it listens. */
export interface Hello {
  n: string;
  b: string;
  h: string;
  p: number;
}

/** A HELLO frame. */
export function helloFrame(h: Hello): Buffer {
  const body = Buffer.from(JSON.stringify(h));
  const buf = Buffer.allocUnsafe(5 + body.length);
  buf.writeUInt32BE(1 + body.length, 0);
  buf[4] = LinkFrame.Hello;
  body.copy(buf, 5);
  return buf;
}

/** Bytes of a DATA frame's header (length, type, seq, kind). */
export const DATA_HEADER = 14;

/** Writes the header of a DATA frame into `buf` at `pos`; the body follows it. */
export function writeDataHeader(
  buf: Buffer,
  pos: number,
  seq: number,
  kind: DataKind,
  bodyLength: number,
): void {
  buf.writeUInt32BE(10 + bodyLength, pos);
  buf[pos + 4] = LinkFrame.Data;
  buf.writeDoubleBE(seq, pos + 5);
  buf[pos + 13] = kind;
}

/** Bytes of a LOOSE frame's header (length, type, kind). */
export const LOOSE_HEADER = 6;

/** Writes the header of a LOOSE frame into `buf` at `pos`; the body follows it. */
export function writeLooseHeader(
  buf: Buffer,
  pos: number,
  kind: DataKind,
  bodyLength: number,
): void {
  buf.writeUInt32BE(2 + bodyLength, pos);
  buf[pos + 4] = LinkFrame.Loose;
  buf[pos + 5] = kind;
}

/** The header of a DATA frame on its own; the body follows it on the socket. */
export function dataHeader(seq: number, kind: DataKind, bodyLength: number): Buffer {
  const buf = Buffer.allocUnsafe(DATA_HEADER);
  writeDataHeader(buf, 0, seq, kind, bodyLength);
  return buf;
}

/** An ACK frame. */
export function ackFrame(seq: number): Buffer {
  const buf = Buffer.allocUnsafe(13);
  buf.writeUInt32BE(9, 0);
  buf[4] = LinkFrame.Ack;
  buf.writeDoubleBE(seq, 5);
  return buf;
}

/** A PING frame (one shared buffer: it never changes). */
export const PING_FRAME: Buffer = Buffer.from([0, 0, 0, 1, LinkFrame.Ping]);

/** Frames above this size are refused: a corrupted length must not make us buffer gigabytes. */
const MAX_FRAME = 256 * 1024 * 1024;

/**
 * Splits a byte stream into frames; `onFrame` gets the type and where the
 * body is: `buf` from `start` to `end` (the received data, or a joined buffer
 * when a frame spans chunks). No buffer object is made per frame.
 */
export class FrameReader {
  private pending: Buffer | undefined;
  private readonly onFrame: (type: number, buf: Buffer, start: number, end: number) => void;
  /** While set, frames stay pending (the receiver's queues are full); see resume(). */
  paused = false;

  constructor(onFrame: (type: number, buf: Buffer, start: number, end: number) => void) {
    this.onFrame = onFrame;
  }

  /** Feeds received bytes; throws on a frame no link would send. */
  push(chunk: Buffer): void {
    const p = this.pending;
    if (p !== undefined) {
      this.pending = undefined;
      const need = p.length >= 4 ? 4 + p.readUInt32BE(0) - p.length : 0;
      if (need > 0 && need < chunk.length && !this.paused) {
        // Only the frame that spans the two chunks is joined; the rest is read in place
        // (joining the whole chunk copied every byte received once more).
        this.read(Buffer.concat([p, chunk.subarray(0, need)]));
        this.read(chunk.subarray(need));
        return;
      }
      chunk = Buffer.concat([p, chunk]);
    }
    this.read(chunk);
  }

  private read(buf: Buffer): void {
    let pos = 0;
    while (buf.length - pos >= 4 && !this.paused) {
      const len = buf.readUInt32BE(pos);
      if (len < 1 || len > MAX_FRAME) throw new Error(`bad link frame length ${len}`);
      if (buf.length - pos - 4 < len) break;
      this.onFrame(buf[pos + 4]!, buf, pos + 5, pos + 4 + len);
      pos += 4 + len;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      const p = this.pending;
      this.pending = p === undefined ? rest : Buffer.concat([p, rest]);
    }
  }

  /** Applies the frames that waited while paused. */
  resume(): void {
    this.paused = false;
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    this.push(p);
  }
}
