/**
 * One load-generator connection: a raw stream, Heron's Decoder for input and,
 * in batched mode, a per-connection output slab that every outgoing packet is
 * copied into, written with one call per event-loop turn for all connections
 * together. In per-packet mode acknowledgements and publishes are each written
 * on their own, as the common client libraries do.
 */
import type { Duplex } from 'node:stream';
import { PacketType } from '../protocol/constants.js';
import { Decoder, type PacketSink } from '../protocol/decoder.js';
import { encode } from '../protocol/encoder.js';
import type { Packet } from '../protocol/packets.js';
import type { BenchTarget } from './plan.js';
import { openStream } from './stream.js';

/** What a client is for. */
export const Role = { Pub: 0, Sub: 1, Conn: 2, Pinger: 3 } as const;
/** One of the Role values. */
export type Role = (typeof Role)[keyof typeof Role];

/** Receives every client's events (one object for all clients: no closures per packet). */
export interface ClientEvents {
  packet(c: BenchClient, p: Packet): void;
  drained(c: BenchClient): void;
  closed(c: BenchClient, why: string): void;
}

const SLAB = 64 * 1024;
const dirty: BenchClient[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  for (let i = 0; i < dirty.length; i++) dirty[i]!.flush();
  dirty.length = 0;
}

/** A benchmark client; see the module comment. */
export class BenchClient implements PacketSink {
  readonly role: Role;
  readonly index: number;
  readonly clientId: string;
  readonly stream: Duplex;
  readonly decoder: Decoder;
  private readonly events: ClientEvents;
  /** CONNACK 0 received and not closed. */
  connected = false;
  /** A CONNACK arrived (accepting or not). */
  answered = false;
  closed = false;
  /** Publisher: messages sent, acknowledged, in flight; next packet id. */
  sent = 0;
  inflight = 0;
  nextPacketId = 1;
  /** Publisher: the pre-encoded PUBLISH this client sends, with its patch offsets. */
  template: Buffer | undefined;
  timeOffset = -1;
  idOffset = -1;
  /** Every ack and publish is its own write() (see BenchPlan.writes). */
  readonly perPacket: boolean;
  private out: Buffer | undefined;
  private outLen = 0;
  private isDirty = false;

  constructor(
    role: Role,
    index: number,
    target: BenchTarget,
    events: ClientEvents,
    perPacket = false,
  ) {
    this.role = role;
    this.index = index;
    this.events = events;
    this.perPacket = perPacket;
    this.clientId = `${target.clientIdPrefix}${['p', 's', 'c', 'ping'][role]}${index}`;
    this.decoder = new Decoder(this, { protocolVersion: target.version });
    // TCP reads come straight from a shared buffer, other transports' as 'data'. The
    // decoder keeps no reference into a read past feed() here: every packet is handled
    // at once (payloads are only read for their send time) and it is never paused.
    const s = (this.stream = openStream(target, (n, buf) => {
      this.feed(buf.subarray(0, n));
      return true;
    }));
    s.on('data', (chunk: Buffer) => this.feed(chunk));
    s.on('drain', () => events.drained(this));
    s.on('error', (err: Error) => this.fail(`socket: ${err.message}`));
    s.on('close', () => this.fail('closed'));
    this.sendPacket({
      type: PacketType.CONNECT,
      protocolName: target.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: target.version,
      clean: true,
      keepalive: target.keepalive,
      clientId: this.clientId,
      username: target.username,
      password: target.password === undefined ? undefined : Buffer.from(target.password),
    });
  }

  private feed(chunk: Buffer): void {
    try {
      this.decoder.feed(chunk);
    } catch (err) {
      this.fail(`protocol: ${(err as Error).message}`);
    }
  }

  /** Decoder callback. */
  onPacket(p: Packet): void {
    this.events.packet(this, p);
  }

  /** Bytes queued in the stream plus not yet handed to it. */
  get backlog(): number {
    return this.stream.writableLength + this.outLen;
  }

  /** Reserves n bytes in the output slab; returns the slab, to be written from `reserveAt`. */
  reserve(n: number): Buffer {
    let out = this.out;
    if (out === undefined || this.outLen + n > out.length) {
      if (out !== undefined && this.outLen > 0) this.flush();
      out = this.out = Buffer.allocUnsafe(Math.max(SLAB, n));
      this.outLen = 0;
    }
    this.reserveAt = this.outLen;
    this.outLen += n;
    if (!this.isDirty) {
      this.isDirty = true;
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        process.nextTick(flushAll);
      }
    }
    return out;
  }
  /** Offset in the slab returned by the last reserve(). */
  reserveAt = 0;

  /** Queues raw bytes. */
  queue(bytes: Buffer): void {
    const out = this.reserve(bytes.length);
    bytes.copy(out, this.reserveAt);
  }

  /** Writes one packet on its own (per-packet mode), after anything already queued. */
  writeNow(bytes: Buffer): void {
    if (this.closed) return;
    if (this.outLen > 0) this.flush();
    this.stream.write(bytes);
  }

  /** Queues a 4-byte acknowledgement (PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70). */
  queueAck(first: number, packetId: number): void {
    if (this.perPacket) {
      const b = Buffer.allocUnsafe(4);
      b[0] = first;
      b[1] = 2;
      b[2] = packetId >> 8;
      b[3] = packetId & 0xff;
      this.writeNow(b);
      return;
    }
    const out = this.reserve(4);
    const at = this.reserveAt;
    out[at] = first;
    out[at + 1] = 2;
    out[at + 2] = packetId >> 8;
    out[at + 3] = packetId & 0xff;
  }

  /** Encodes and queues any packet. */
  sendPacket(p: Packet): void {
    this.queue(encode(p, this.decoder.protocolVersion));
  }

  /** Writes what is queued (one write call). */
  flush(): void {
    this.isDirty = false;
    const out = this.out;
    if (out === undefined || this.outLen === 0) return;
    const chunk = out.subarray(0, this.outLen);
    // The written slab belongs to the stream now; the rest of it stays usable for the next writes.
    if (out.length - this.outLen >= 1024) {
      this.out = out.subarray(this.outLen);
    } else this.out = undefined;
    this.outLen = 0;
    if (!this.closed) this.stream.write(chunk);
  }

  /** Closes the connection (DISCONNECT first when `graceful`). */
  close(graceful: boolean): void {
    if (this.closed) return;
    if (graceful && this.connected) {
      this.queue(DISCONNECT);
      this.flush();
      this.closed = true;
      this.connected = false;
      this.stream.end();
      setTimeout(destroyStream, 500, this.stream).unref();
      return;
    }
    this.closed = true;
    this.connected = false;
    this.stream.destroy();
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.decoder.destroy();
    this.stream.destroy();
    this.events.closed(this, why);
  }
}

const DISCONNECT = Buffer.from([0xe0, 0]);

function destroyStream(s: Duplex): void {
  s.destroy();
}
