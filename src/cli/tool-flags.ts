/** Flag tables and value parsers shared by the client tools' argument parser. */
import type { ProtocolVersion, QoS } from '../protocol/constants.js';

/** Which tool is parsing (flags and defaults differ slightly). */
export type ClientTool = 'pub' | 'sub' | 'rr';
/** A bad command line; the message is printed after "Error: ". */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Option names that take a value, per tool (the rest are switches). */
export const VALUE_FLAGS = new Set([
  '-h',
  '--host',
  '-p',
  '--port',
  '-t',
  '--topic',
  '-T',
  '--filter-out',
  '-U',
  '--unsubscribe',
  '-i',
  '--id',
  '-I',
  '--id-prefix',
  '-u',
  '--username',
  '-P',
  '--pw',
  '-k',
  '--keepalive',
  '-V',
  '--protocol-version',
  '-q',
  '--qos',
  '-x',
  '-L',
  '--url',
  '-m',
  '--message',
  '-f',
  '--file',
  '-M',
  '-C',
  '-W',
  '-F',
  '-e',
  '--repeat',
  '--repeat-delay',
  '--will-topic',
  '--will-payload',
  '--will-qos',
  '--cafile',
  '--capath',
  '--cert',
  '--key',
  '--ws-path',
  '-A',
  '--ciphers',
  '--tls-version',
  '--tls-alpn',
  '--proxy',
]);

/** Which tools accept each tool-specific flag (common flags are absent). */
export const TOOL_ONLY: Record<string, readonly ClientTool[]> = {
  '-m': ['pub', 'rr'],
  '--message': ['pub', 'rr'],
  '-f': ['pub', 'rr'],
  '--file': ['pub', 'rr'],
  '-l': ['pub'],
  '--stdin-line': ['pub'],
  '-n': ['pub', 'rr'],
  '--null-message': ['pub', 'rr'],
  '-s': ['pub', 'rr'],
  '--stdin-file': ['pub', 'rr'],
  '-r': ['pub'],
  '--retain': ['pub'],
  '--repeat': ['pub'],
  '--repeat-delay': ['pub'],
  '-M': ['pub'],
  '-C': ['sub'],
  '-T': ['sub'],
  '--filter-out': ['sub'],
  '-U': ['sub'],
  '--unsubscribe': ['sub'],
  '-E': ['sub'],
  '--retained-only': ['sub'],
  '--remove-retained': ['sub'],
  '-R': ['sub', 'rr'],
  '-N': ['sub', 'rr'],
  '-v': ['sub', 'rr'],
  '--verbose': ['sub', 'rr'],
  '-F': ['sub', 'rr'],
  '-W': ['sub', 'rr'],
  '-e': ['rr'],
};

/** Flags that take no value. */
export const SWITCHES = new Set([
  '--help',
  '--version',
  '-c',
  '--disable-clean-session',
  '-d',
  '--debug',
  '--quiet',
  '--will-retain',
  '--insecure',
  '--nodelay',
  '--tls-use-os-certs',
  '-l',
  '--stdin-line',
  '-n',
  '--null-message',
  '-s',
  '--stdin-file',
  '-r',
  '--retain',
  '-E',
  '--retained-only',
  '--remove-retained',
  '-R',
  '-N',
  '-v',
  '--verbose',
  '--pretty',
]);

/** An integer flag value within [min, max], else a UsageError (`message`, or a generic one). */
export function parseIntFlag(
  flag: string,
  value: string,
  min: number,
  max: number,
  message?: string,
): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(message ?? `Invalid value '${value}' for ${flag}.`);
  }
  return n;
}

/** A QoS flag value (0-2), refused in mosquitto_pub/_sub's words. */
export function parseQos(flag: string, value: string): QoS {
  // mosquitto's text for --will-qos ends in a full stop and a blank line.
  const message =
    flag === '--will-qos' ? `Invalid will QoS ${value}.\n` : `Invalid QoS given: ${value}`;
  return parseIntFlag(flag, value, 0, 2, message) as QoS;
}

/** Like C's atoi, which mosquitto's tools use for counts: leading digits, else 0. */
export function atoi(value: string): number {
  return Number.parseInt(value, 10) || 0;
}

/** A -V value: 5, 311, 31 or their mqttv names. */
export function parseVersion(value: string): ProtocolVersion {
  switch (value) {
    case '5':
    case 'mqttv5':
      return 5;
    case '311':
    case 'mqttv311':
      return 4;
    case '31':
    case 'mqttv31':
      return 3;
    default:
      throw new UsageError('Invalid protocol version argument given.\n');
  }
}
