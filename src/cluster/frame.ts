import type { Message } from '../broker/message.js';
import { PacketType } from '../protocol/constants.js';
import { encodePublish, publish0Room, writePublish0 } from '../protocol/encoder.js';
import { parsePacket } from '../protocol/packet-parser.js';
import type { PublishPacket } from '../protocol/packets.js';
import type { MessageFields } from '../store/records.js';
import type { ClusterHost } from './host.js';

/**
 * Binary frames for messages that travel between nodes (forwarded publishes,
 * retained updates). The message itself is an MQTT 5 PUBLISH packet encoded by
 * our own codec, so topic, payload and every v5 property cross Redis byte for
 * byte; a small header in front adds what MQTT does not carry:
 *
 * ```
 * u8  version (3; 2 is read too)
 * f64 expiresAt (ms since epoch, 0 = never)
 * u16 len + utf8  node id of the sender
 * u16 len + utf8  origin client id (for No Local)
 * u16 len + utf8  message key: `{node}:{id}` where it was first published ('' when not needed)
 * u16 count, then count × (u16 len + utf8)  shared groups assigned to the receiver ("group/filter")
 * ... MQTT 5 PUBLISH packet (fixed header included)
 * ```
 *
 * Version 3 has the layout of version 2; it marks senders that forward QoS 0
 * as LOOSE link frames (link-wire.ts), which version 2 nodes ignore: they
 * refuse version 3 frames instead of missing QoS 0 messages silently.
 * Version 2 frames are still read (retained messages kept in Redis).
 */

const VERSION = 3;

/** The message a frame carries: what the receiving node needs to route it as the sender would. */
export type FrameMessage = MessageFields;

/** What a frame carries, decoded. The payload is a slice of the frame (no copy). */
export interface ClusterFrame extends FrameMessage {
  node: string;
  /** Where the message was first published, `{node}:{message id}`: one message, however it travels. */
  key: string;
  /** Shared groups assigned to the receiver (a shared empty array when none: never change it). */
  shares: string[];
}

/** A frame that cannot be decoded (another version, or corrupted). */
class ClusterFrameError extends Error {
  override readonly name = 'ClusterFrameError';
}

/** The MQTT part of a frame; encode once, then `frame()` per receiver. */
export function encodeMessage(m: FrameMessage): Buffer {
  const p: PublishPacket = {
    type: PacketType.PUBLISH,
    topic: m.topic,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    dup: false,
    packetId: m.qos > 0 ? 1 : 0,
  };
  if (m.properties !== undefined) p.properties = m.properties;
  return encodePublish(p, 5).buffer;
}

/** A complete frame: header for `node`, `origin`, `shares`, then the encoded packet. */
export function frame(
  node: string,
  origin: string,
  expiresAt: number,
  shares: readonly string[] | undefined,
  packet: Buffer,
  key = '',
): Buffer {
  return frameWith(node, origin, expiresAt, shares, key, packet);
}

/**
 * The header of a frame alone; the encoded packet follows it on the wire. The
 * link sends the two without joining them (one copy less per forwarded message).
 */
export function frameHeader(
  node: string,
  origin: string,
  expiresAt: number,
  shares: readonly string[] | undefined,
  key: string,
): Buffer {
  return frameWith(node, origin, expiresAt, shares, key, undefined);
}

/**
 * The part of a header before the key (version, expiry, node, origin), for
 * the last sender and publisher without expiry: a publisher's messages usually
 * come in a row, and writing the two strings was most of a header's cost.
 */
let memoNode = '';
let memoOrigin = '';
let memoPrefix: Buffer | undefined;

function prefixOf(node: string, origin: string, expiresAt: number): Buffer {
  if (expiresAt === 0 && memoPrefix !== undefined && origin === memoOrigin && node === memoNode)
    return memoPrefix;
  // Sized for the worst case (3 UTF-8 bytes per UTF-16 unit) and trimmed after:
  // cheaper than measuring each string's UTF-8 length first.
  const buf = Buffer.allocUnsafe(1 + 8 + 4 + 3 * (node.length + origin.length));
  buf[0] = VERSION;
  buf.writeDoubleBE(expiresAt, 1);
  const end = writeStr(buf, writeStr(buf, 9, node), origin);
  const prefix = buf.subarray(0, end);
  if (expiresAt === 0) {
    memoNode = node;
    memoOrigin = origin;
    memoPrefix = prefix;
  }
  return prefix;
}

function frameWith(
  node: string,
  origin: string,
  expiresAt: number,
  shares: readonly string[] | undefined,
  key: string,
  packet: Buffer | undefined,
): Buffer {
  const prefix = prefixOf(node, origin, expiresAt);
  let bound = prefix.length + 2 + 3 * key.length + 2;
  if (shares !== undefined) for (const s of shares) bound += 2 + 3 * s.length;
  const buf = Buffer.allocUnsafe(bound + (packet?.length ?? 0));
  prefix.copy(buf, 0);
  let pos = writeStr(buf, prefix.length, key);
  buf.writeUInt16BE(shares?.length ?? 0, pos);
  pos += 2;
  if (shares !== undefined) for (const s of shares) pos = writeStr(buf, pos, s);
  if (packet === undefined) return buf.subarray(0, pos);
  packet.copy(buf, pos);
  return buf.subarray(0, pos + packet.length);
}

/** Bytes writeFrame0 may use for `m` (whose property list has `propsLen` bytes) with these shares: a bound. */
export function frame0Room(
  node: string,
  m: FrameMessage,
  key: string | undefined,
  shares: readonly string[] | undefined,
  propsLen: number,
): number {
  let room = 1 + 8 + 4 + 3 * (node.length + m.origin.length) + 2 + 2;
  room += key === undefined ? 3 * node.length + 1 + 16 : 3 * key.length;
  if (shares !== undefined) for (const s of shares) room += 2 + 3 * s.length;
  return room + publish0Room(m.topic, m.payload.length, propsLen);
}

/**
 * Writes the frame of a QoS 0 message straight into `buf` at `pos` (a link's
 * batch, with frame0Room bytes there); returns where it ends. `key`
 * undefined: the message was published here, its key is `{node}:{id}`, written
 * without making that string. No buffer is made for the header or the packet.
 */
export function writeFrame0(
  buf: Buffer,
  pos: number,
  node: string,
  m: FrameMessage,
  id: number,
  key: string | undefined,
  shares: readonly string[] | undefined,
  propsLen: number,
): number {
  const prefix = prefixOf(node, m.origin, m.expiresAt);
  buf.set(prefix, pos);
  pos += prefix.length;
  if (key === undefined) pos = writeLocalKey(buf, pos, node, id);
  else pos = writeStr(buf, pos, key);
  const count = shares?.length ?? 0;
  buf[pos] = count >> 8;
  buf[pos + 1] = count & 0xff;
  pos += 2;
  if (shares !== undefined) for (const s of shares) pos = writeStr(buf, pos, s);
  return writePublish0(buf, pos, m.topic, m.payload, m.retain, m.properties, propsLen);
}

/** `{node}:` as bytes, for the last node writeLocalKey wrote. */
let keyNode = '';
let keyHead: Buffer = Buffer.alloc(0);

/** Writes the key `{node}:{id}` as a u16-length-prefixed string, the id in decimal digits. */
function writeLocalKey(buf: Buffer, pos: number, node: string, id: number): number {
  if (node !== keyNode) {
    keyHead = Buffer.from(`${node}:`);
    keyNode = node;
  }
  const head = keyHead;
  let p = pos + 2;
  for (let i = 0; i < head.length; i++) buf[p++] = head[i]!;
  if (id > 0x7fffffff || id < 0 || !Number.isInteger(id)) p += buf.latin1Write(String(id), p);
  else {
    // Small integers: digits with integer division, no string made.
    let digits = 1;
    for (let x = id; x >= 10; x = (x / 10) | 0) digits++;
    let x = id;
    for (let i = p + digits - 1; i >= p; i--) {
      buf[i] = 48 + (x % 10);
      x = (x / 10) | 0;
    }
    p += digits;
  }
  const n = p - pos - 2;
  buf[pos] = n >> 8;
  buf[pos + 1] = n & 0xff;
  return p;
}

/** Writes a u16-length-prefixed UTF-8 string (the buffer has room for its worst case). */
function writeStr(buf: Buffer, pos: number, s: string): number {
  const n = s.length === 0 ? 0 : buf.utf8Write(s, pos + 2);
  buf[pos] = n >> 8;
  buf[pos + 1] = n & 0xff;
  return pos + 2 + n;
}

/**
 * The last string read from a frame at one place (the sender node id, the
 * publisher's client id): frames from one publisher come in a row, and
 * comparing a few bytes costs less than making the same string again.
 */
class StringMemo {
  private bytes: Buffer = Buffer.alloc(0);
  private text = '';

  /** The string of the `n` bytes at `pos`. */
  read(buf: Buffer, pos: number, n: number): string {
    const b = this.bytes;
    if (n === b.length && n <= 64) {
      let i = 0;
      while (i < n && buf[pos + i] === b[i]) i++;
      if (i === n) return this.text;
    }
    const text = buf.utf8Slice(pos, pos + n);
    if (n <= 64) {
      this.bytes = Buffer.from(buf.subarray(pos, pos + n));
      this.text = text;
    }
    return text;
  }
}

const nodeMemo = new StringMemo();
const originMemo = new StringMemo();
/** Shares of a frame that carries none (never changed). */
const NO_SHARES: string[] = [];

/** Decodes a frame; throws ClusterFrameError (or ProtocolError for a bad packet). */
export function decodeFrame(buf: Buffer): ClusterFrame {
  if (buf.length < 17 || (buf[0] !== VERSION && buf[0] !== 2))
    throw new ClusterFrameError('unknown cluster frame');
  // Most messages never expire: eight zero bytes, read without a float conversion.
  const expiresAt =
    (buf[1]! | buf[2]! | buf[3]! | buf[4]! | buf[5]! | buf[6]! | buf[7]! | buf[8]!) === 0
      ? 0
      : buf.readDoubleBE(1);
  let pos = 9;
  let n = u16(buf, pos);
  const node = nodeMemo.read(buf, pos + 2, n);
  pos += 2 + n;
  n = u16(buf, pos);
  const origin = originMemo.read(buf, pos + 2, n);
  pos += 2 + n;
  n = u16(buf, pos);
  const key =
    n === 0
      ? ''
      : isAscii(buf, pos + 2, n)
        ? buf.latin1Slice(pos + 2, pos + 2 + n)
        : buf.utf8Slice(pos + 2, pos + 2 + n);
  pos += 2 + n;
  const count = u16(buf, pos);
  pos += 2;
  let shares = NO_SHARES;
  if (count > 0) {
    shares = [];
    for (let i = 0; i < count; i++) {
      n = u16(buf, pos);
      shares.push(buf.utf8Slice(pos + 2, pos + 2 + n));
      pos += 2 + n;
    }
  }
  if (pos >= buf.length) throw new ClusterFrameError('truncated cluster frame');
  const first = buf[pos++]!;
  let len = 0;
  let mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new ClusterFrameError('truncated cluster frame');
    const b = buf[pos++]!;
    len += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  if (pos + len > buf.length) throw new ClusterFrameError('truncated cluster frame');
  if ((first & 0xfe) === 0x30 && len >= 3) {
    // QoS 0 without properties, as writePublish0 makes them: read here, without a
    // packet object or the checks a client's packet needs (the sender made them).
    const tl = (buf[pos]! << 8) | buf[pos + 1]!;
    const at = pos + 2 + tl;
    if (at < pos + len && buf[at] === 0) {
      return {
        node,
        origin,
        key,
        expiresAt,
        shares,
        topic: isAscii(buf, pos + 2, tl)
          ? buf.latin1Slice(pos + 2, at)
          : buf.utf8Slice(pos + 2, at),
        payload: buf.subarray(at + 1, pos + len),
        qos: 0,
        retain: (first & 1) === 1,
        properties: undefined,
      };
    }
  }
  const p = parsePacket(buf, pos, pos + len, first, 5);
  if (p.type !== PacketType.PUBLISH) throw new ClusterFrameError('cluster frame without a PUBLISH');
  return {
    node,
    origin,
    key,
    expiresAt,
    shares,
    topic: p.topic,
    payload: p.payload,
    qos: p.qos,
    retain: p.retain,
    properties: p.properties,
  };
}

function u16(buf: Buffer, pos: number): number {
  if (pos + 2 > buf.length) throw new ClusterFrameError('truncated cluster frame');
  return (buf[pos]! << 8) | buf[pos + 1]!;
}

/** Whether the `n` bytes at `pos` are ASCII (a key usually is: then latin1 makes its string faster). */
function isAscii(buf: Buffer, pos: number, n: number): boolean {
  for (let i = pos; i < pos + n; i++) if (buf[i]! > 0x7f) return false;
  return true;
}

/** Rebuilds a forwarded message on this node (a new local id, the sender's expiry and origin). */
export function messageOf(host: ClusterHost, f: FrameMessage): Message {
  return host.makeMessage(f.topic, f.payload, f.qos, f.retain, f.properties, f.origin, f.expiresAt);
}
