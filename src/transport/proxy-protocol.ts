import { SocketAddress } from 'node:net';

/**
 * PROXY protocol (HAProxy) v1 and v2 header parsing, so that a broker behind a
 * load balancer sees the real client address. Pure functions over bytes.
 */

/** The addresses a PROXY header carries (undefined source for LOCAL / UNKNOWN). */
export interface ProxyHeader {
  /** Bytes the header occupied; MQTT data starts after them. */
  length: number;
  version: 1 | 2;
  sourceAddress?: string;
  sourcePort?: number;
  destinationAddress?: string;
  destinationPort?: number;
}

/** A PROXY header that can never become valid: close the connection. */
export class ProxyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyProtocolError';
  }
}

const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V1_PREFIX = Buffer.from('PROXY ');
const V1_MAX = 107;

/**
 * Parses a PROXY header at the start of `buf`. Returns the header, or
 * undefined when more bytes are needed; throws ProxyProtocolError when the
 * bytes cannot be a valid header.
 */
export function parseProxyHeader(buf: Buffer): ProxyHeader | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] === 0x0d) return parseV2(buf);
  if (buf[0] === 0x50) return parseV1(buf);
  throw new ProxyProtocolError('missing PROXY protocol header');
}

function parseV1(buf: Buffer): ProxyHeader | undefined {
  const n = Math.min(buf.length, V1_PREFIX.length);
  if (!buf.subarray(0, n).equals(V1_PREFIX.subarray(0, n)))
    throw new ProxyProtocolError('bad PROXY v1 signature');
  const end = buf.indexOf('\r\n');
  if (end === -1) {
    if (buf.length >= V1_MAX) throw new ProxyProtocolError('PROXY v1 header too long');
    return undefined;
  }
  if (end + 2 > V1_MAX) throw new ProxyProtocolError('PROXY v1 header too long');
  const parts = buf.toString('latin1', 0, end).split(' ');
  const family = parts[1];
  if (family === 'UNKNOWN') return { length: end + 2, version: 1 };
  if ((family !== 'TCP4' && family !== 'TCP6') || parts.length !== 6) {
    throw new ProxyProtocolError('malformed PROXY v1 header');
  }
  const sourcePort = Number(parts[4]);
  const destinationPort = Number(parts[5]);
  const validPort = (p: number, s: string | undefined) => /^\d{1,5}$/.test(s ?? '') && p <= 65535;
  if (!validPort(sourcePort, parts[4]) || !validPort(destinationPort, parts[5])) {
    throw new ProxyProtocolError('malformed PROXY v1 ports');
  }
  const v4 = /^\d{1,3}(\.\d{1,3}){3}$/;
  if (family === 'TCP4' && (!v4.test(parts[2]!) || !v4.test(parts[3]!))) {
    throw new ProxyProtocolError('malformed PROXY v1 address');
  }
  if (family === 'TCP6' && (!parts[2]!.includes(':') || !parts[3]!.includes(':'))) {
    throw new ProxyProtocolError('malformed PROXY v1 address');
  }
  return {
    length: end + 2,
    version: 1,
    sourceAddress: parts[2],
    sourcePort,
    destinationAddress: parts[3],
    destinationPort,
  };
}

/** An IPv6 address in the compressed form Node uses for socket.remoteAddress. */
function ipv6(buf: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + i * 2).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

function parseV2(buf: Buffer): ProxyHeader | undefined {
  const n = Math.min(buf.length, V2_SIGNATURE.length);
  if (!buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n)))
    throw new ProxyProtocolError('bad PROXY v2 signature');
  if (buf.length < 16) return undefined;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) throw new ProxyProtocolError('unsupported PROXY v2 version');
  const command = verCmd & 0x0f;
  if (command > 1) throw new ProxyProtocolError('unsupported PROXY v2 command');
  const family = buf[13]!;
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return undefined;
  const header: ProxyHeader = { length: 16 + len, version: 2 };
  if (command === 0) return header; // LOCAL: health check from the proxy itself
  const af = family >> 4;
  if (af === 1) {
    if (len < 12) throw new ProxyProtocolError('short PROXY v2 IPv4 block');
    header.sourceAddress = `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`;
    header.destinationAddress = `${buf[20]}.${buf[21]}.${buf[22]}.${buf[23]}`;
    header.sourcePort = buf.readUInt16BE(24);
    header.destinationPort = buf.readUInt16BE(26);
  } else if (af === 2) {
    if (len < 36) throw new ProxyProtocolError('short PROXY v2 IPv6 block');
    header.sourceAddress = ipv6(buf, 16);
    header.destinationAddress = ipv6(buf, 32);
    header.sourcePort = buf.readUInt16BE(48);
    header.destinationPort = buf.readUInt16BE(50);
  } else if (af !== 0) {
    // AF_UNIX or unknown: keep the proxy's address.
  }
  return header;
}
