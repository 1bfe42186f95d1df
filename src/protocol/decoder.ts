/**
 * Incremental MQTT decoder: turns socket chunks, split anywhere, into typed
 * packets. Packets lying inside one chunk are parsed in place (payloads are
 * slices of the chunk); a packet spanning chunks is assembled once into a buffer
 * of exactly its size. The packet size limit is enforced from the length prefix,
 * before any of the body is buffered.
 */
import { MAX_PACKET_SIZE, PacketType, type ProtocolVersion, ReasonCode } from './constants.js';
import { malformed, ProtocolError } from './errors.js';
import { parsePacket } from './packet-parser.js';
import type { Packet } from './packets.js';

/** Receives decoded packets; the channel implements it (no closure per packet). */
export interface PacketSink {
  onPacket(packet: Packet): void;
}

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  /** Largest accepted packet in bytes, whole packet incl. fixed header. Default MAX_PACKET_SIZE. */
  maxPacketSize?: number;
  /** Version to start with (default 4). Decoding a CONNECT sets it from the CONNECT's level. */
  protocolVersion?: ProtocolVersion;
}

/** Reused input chunks at least this long are copied whole rather than per payload. */
const WHOLE_COPY = 1024;

/** Streaming decoder for one connection; see the module comment. */
export class Decoder {
  /** Version used for packets other than CONNECT; set by a decoded CONNECT or by the client side. */
  protocolVersion: ProtocolVersion;
  /** Largest accepted packet in bytes (whole packet); may be changed between feeds. */
  maxPacketSize: number;
  /**
   * Whether fed chunks are overwritten once feed() returns (a socket reading into
   * one shared buffer): then whatever a packet keeps (payloads, binary fields)
   * and any undecoded rest are copied out of them.
   */
  reusedInput = false;

  private readonly sink: PacketSink;
  private dead = false;
  /** Fixed header bytes of a packet whose header is split across chunks (allocated on first need: idle connections never need it). */
  private head: Buffer | undefined = undefined;
  private headCount = 0;
  /** Packet being assembled across chunks (exactly its size), and how much of it is filled. */
  private pending: Buffer | undefined = undefined;
  private pendingFilled = 0;
  private pendingHeaderLength = 0;
  /** Set by pause(): stop at the next packet boundary and keep the rest of the chunk. */
  private stopped = false;
  /** Undecoded rest of a chunk, kept while paused, and where it starts. */
  private rest: Buffer | undefined = undefined;
  private restPos = 0;

  constructor(sink: PacketSink, options?: DecoderOptions) {
    this.sink = sink;
    this.protocolVersion = options?.protocolVersion ?? 4;
    this.maxPacketSize = options?.maxPacketSize ?? MAX_PACKET_SIZE;
  }

  /** Bytes held back while waiting for the rest of a packet. */
  get bufferedBytes(): number {
    return this.pending === undefined ? this.headCount : this.pendingFilled;
  }

  /**
   * Feeds one socket chunk; calls sink.onPacket for every whole packet in order.
   * Throws ProtocolError on bad input; after a throw or destroy() later calls do nothing.
   */
  feed(chunk: Buffer): void {
    if (this.dead) return;
    if (this.rest !== undefined) {
      // Input while paused (the caller did not stop reading): keep it behind the rest, in order.
      this.rest = Buffer.concat([this.rest.subarray(this.restPos), chunk]);
      this.restPos = 0;
      return;
    }
    // A large read holds many packets: one copy of it costs less than a copy per
    // payload, and the packets may then keep slices of it (as of any owned chunk).
    const borrowed = this.reusedInput && chunk.length < WHOLE_COPY;
    try {
      this.consume(this.reusedInput && !borrowed ? Buffer.from(chunk) : chunk, 0, borrowed);
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /**
   * Called by the sink from onPacket: decode no further packet until resume().
   * Lets a connection whose packets trigger a lot of work give other connections a turn.
   */
  pause(): void {
    this.stopped = true;
  }

  /** Decodes what pause() held back (the sink may pause again). Throws like feed(). */
  resume(): void {
    this.stopped = false;
    const rest = this.rest;
    if (rest === undefined || this.dead) return;
    this.rest = undefined;
    try {
      this.consume(rest, this.restPos, false);
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** Drops buffered bytes and ignores all later input. */
  destroy(): void {
    this.dead = true;
    this.pending = undefined;
    this.pendingFilled = 0;
    this.headCount = 0;
    this.rest = undefined;
  }

  /** Decodes chunk[from..]; `borrowed`: the chunk is reused after this call (copy what is kept). */
  private consume(chunk: Buffer, from: number, borrowed: boolean): void {
    const len = chunk.length;
    let pos = from;
    if (this.pending !== undefined) {
      pos = this.fillPending(chunk, pos);
      if (this.pending !== undefined || this.dead) return;
    } else if (this.headCount > 0) {
      pos = this.continueHeader(chunk);
      if (pos < 0 || this.dead) return;
    }
    while (pos < len) {
      if (this.stopped) {
        this.rest = borrowed ? Buffer.from(chunk.subarray(pos)) : chunk;
        this.restPos = borrowed ? 0 : pos;
        return;
      }
      const first = chunk[pos];
      if (first < 0x10) throw malformed('reserved packet type 0');
      // Remaining length, inlined for the common case of a whole header in this chunk.
      let remaining = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      while (i < len) {
        const b = chunk[i++];
        remaining += (b & 0x7f) * mul;
        if (b < 0x80) {
          if (b === 0 && i - pos > 2) {
            throw malformed('remaining length is not minimally encoded', 'MQTT-1.5.5-1');
          }
          complete = true;
          break;
        }
        if (i - pos === 5) throw malformed('remaining length is longer than 4 bytes');
        mul *= 128;
      }
      if (!complete) {
        this.checkPartialHeader(len - pos - 1);
        chunk.copy((this.head ??= Buffer.allocUnsafe(5)), 0, pos, len);
        this.headCount = len - pos;
        return;
      }
      const headerLength = i - pos;
      const total = headerLength + remaining;
      this.checkSize(total);
      if (len - pos >= total) {
        this.deliver(chunk, i, pos + total, first, borrowed);
        if (this.dead) return;
        pos += total;
      } else {
        const packet = Buffer.allocUnsafe(total);
        chunk.copy(packet, 0, pos, len);
        this.pending = packet;
        this.pendingFilled = len - pos;
        this.pendingHeaderLength = headerLength;
        return;
      }
    }
  }

  /** Continues a fixed header split across chunks; returns the chunk offset after it, or -1. */
  private continueHeader(chunk: Buffer): number {
    const head = this.head!;
    let pos = 0;
    while (pos < chunk.length) {
      const b = chunk[pos++];
      head[this.headCount++] = b;
      if (b < 0x80) {
        let remaining = 0;
        let mul = 1;
        for (let k = 1; k < this.headCount; k++) {
          remaining += (head[k] & 0x7f) * mul;
          mul *= 128;
        }
        if (b === 0 && this.headCount > 2) {
          throw malformed('remaining length is not minimally encoded', 'MQTT-1.5.5-1');
        }
        const headerLength = this.headCount;
        const total = headerLength + remaining;
        this.checkSize(total);
        this.headCount = 0;
        const packet = Buffer.allocUnsafe(total);
        head.copy(packet, 0, 0, headerLength);
        this.pending = packet;
        this.pendingFilled = headerLength;
        this.pendingHeaderLength = headerLength;
        return this.fillPending(chunk, pos);
      }
      if (this.headCount === 5) throw malformed('remaining length is longer than 4 bytes');
      this.checkPartialHeader(this.headCount - 1);
    }
    return -1;
  }

  /** Copies chunk bytes into the pending packet; delivers it when whole. Returns the next offset. */
  private fillPending(chunk: Buffer, from: number): number {
    const packet = this.pending as Buffer;
    const n = Math.min(packet.length - this.pendingFilled, chunk.length - from);
    chunk.copy(packet, this.pendingFilled, from, from + n);
    this.pendingFilled += n;
    if (this.pendingFilled < packet.length) return from + n;
    this.pending = undefined;
    this.pendingFilled = 0;
    this.deliver(packet, this.pendingHeaderLength, packet.length, packet[0], false);
    return from + n;
  }

  /**
   * With `n` length bytes seen, all with the continuation bit, the packet is at
   * least n + 2 + 128^n bytes: reject it now rather than hold its header.
   */
  private checkPartialHeader(n: number): void {
    if (n > 0) this.checkSize(n + 2 + 128 ** n);
  }

  private checkSize(total: number): void {
    if (total > this.maxPacketSize) {
      throw new ProtocolError(
        ReasonCode.PacketTooLarge,
        `packet of ${total} bytes exceeds the maximum packet size ${this.maxPacketSize}`,
      );
    }
  }

  private deliver(source: Buffer, start: number, stop: number, first: number, copy: boolean): void {
    let packet: Packet;
    try {
      packet = parsePacket(source, start, stop, first, this.protocolVersion, copy);
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      throw malformed(`undecodable packet: ${(err as Error).message}`);
    }
    if (packet.type === PacketType.CONNECT) this.protocolVersion = packet.protocolVersion;
    this.sink.onPacket(packet);
  }
}
