/**
 * Sizing and writing of MQTT 5 property lists and the primitive wire types they
 * share with the packet encoder. Sizes are computed first so the encoder can
 * allocate each packet exactly once.
 */
import './buffer-internals.js';
import { PROPERTY_BY_NAME, type Properties } from './properties.js';

/** Bytes a Variable Byte Integer encoding of `n` takes (1-4). */
export function variableByteIntegerLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Bytes of a length-prefixed UTF-8 string. */
export function stringLength(s: string): number {
  return 2 + Buffer.byteLength(s);
}

/** Writes a Variable Byte Integer at `pos`; returns the offset after it. */
export function writeVariableByteInteger(buf: Buffer, pos: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[pos++] = b;
  } while (n > 0);
  return pos;
}

/** Writes a length-prefixed UTF-8 string at `pos`; returns the offset after it. */
export function writeString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n < 8) {
    // Very short ASCII strings are cheaper to copy by hand than through C++.
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      buf[pos + 2 + i] = c;
    }
    if (ascii) {
      buf[pos] = n >> 8;
      buf[pos + 1] = n & 0xff;
      return pos + 2 + n;
    }
  }
  const len = buf.utf8Write(s, pos + 2);
  buf[pos] = len >> 8;
  buf[pos + 1] = len & 0xff;
  return pos + 2 + len;
}

/** Writes length-prefixed binary data at `pos`; returns the offset after it. */
export function writeBinary(buf: Buffer, pos: number, data: Buffer): number {
  const n = data.length;
  buf[pos] = n >> 8;
  buf[pos + 1] = n & 0xff;
  data.copy(buf, pos + 2);
  return pos + 2 + n;
}

/** Bytes of the property list's content (without its own length prefix); 0 when absent or empty. */
export function encodedPropertiesLength(props: Properties | undefined): number {
  if (props === undefined) return 0;
  let size = 0;
  for (const name in props) {
    const value = props[name as keyof Properties];
    if (value === undefined) continue;
    const def = PROPERTY_BY_NAME.get(name as keyof Properties);
    if (def === undefined) continue;
    switch (def.type) {
      case 'byte':
        size += 2;
        break;
      case 'uint16':
        size += 3;
        break;
      case 'uint32':
        size += 5;
        break;
      case 'varint':
        for (const v of value as number[]) size += 1 + variableByteIntegerLength(v);
        break;
      case 'utf8':
        size += 1 + stringLength(value as string);
        break;
      case 'binary':
        size += 3 + (value as Buffer).length;
        break;
      case 'utf8pair':
        for (const [k, v] of value as Array<[string, string]>) {
          size += 1 + stringLength(k) + stringLength(v);
        }
        break;
    }
  }
  return size;
}

/** Writes the property list content (no length prefix) at `pos`; returns the offset after it. */
export function writeProperties(buf: Buffer, pos: number, props: Properties): number {
  for (const name in props) {
    const value = props[name as keyof Properties];
    if (value === undefined) continue;
    const def = PROPERTY_BY_NAME.get(name as keyof Properties);
    if (def === undefined) continue;
    const id = def.id;
    switch (def.type) {
      case 'byte':
        buf[pos++] = id;
        buf[pos++] = value as number;
        break;
      case 'uint16':
        buf[pos++] = id;
        buf.writeUInt16BE(value as number, pos);
        pos += 2;
        break;
      case 'uint32':
        buf[pos++] = id;
        buf.writeUInt32BE(value as number, pos);
        pos += 4;
        break;
      case 'varint':
        for (const v of value as number[]) {
          buf[pos++] = id;
          pos = writeVariableByteInteger(buf, pos, v);
        }
        break;
      case 'utf8':
        buf[pos++] = id;
        pos = writeString(buf, pos, value as string);
        break;
      case 'binary':
        buf[pos++] = id;
        pos = writeBinary(buf, pos, value as Buffer);
        break;
      case 'utf8pair':
        for (const [k, v] of value as Array<[string, string]>) {
          buf[pos++] = id;
          pos = writeString(buf, pos, k);
          pos = writeString(buf, pos, v);
        }
        break;
    }
  }
  return pos;
}
