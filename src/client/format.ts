/**
 * Renders received messages the way mosquitto_sub prints them: payload only,
 * verbose ("topic payload") or a -F format string with %-parameters,
 * @-strftime sequences and \-escapes (see docs/client.md for the list).
 */

import { strftimeConversion } from '../log/strftime.js';
import type { PublishPacket } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';

/** How the sub/rr tools print each message. */
export interface OutputStyle {
  /** -v: "topic payload". */
  verbose: boolean;
  /** false with -N: no newline after each message. */
  eol: boolean;
  /** -F format string; takes precedence over verbose. */
  format: string | undefined;
}

const NEWLINE = Buffer.from('\n');
const SPACE = Buffer.from(' ');
const NULL_PAYLOAD = Buffer.from('(null)');

/** A wall-clock instant with nanosecond digits (Date alone stops at milliseconds). */
export interface PreciseTime {
  date: Date;
  /** Nanoseconds within the second. */
  nanos: number;
}

// Wall time anchored once, then advanced by the monotonic clock: sub-millisecond digits
// for %j, %U and @N as mosquitto_sub prints them, without a clock that can step back.
const ANCHOR_WALL_NS = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const ANCHOR_HR = process.hrtime.bigint();

/** The current time with sub-millisecond precision. */
function preciseNow(): PreciseTime {
  const ns = ANCHOR_WALL_NS + (process.hrtime.bigint() - ANCHOR_HR);
  return { date: new Date(Number(ns / 1_000_000n)), nanos: Number(ns % 1_000_000_000n) };
}

/** A -F format that cannot be rendered for one message (%J with a payload that is not JSON). */
class FormatError extends Error {
  /** What was rendered before the failing parameter (mosquitto_sub has printed it already). */
  readonly partial: Buffer;
  constructor(message: string, partial: Buffer) {
    super(message);
    this.name = 'FormatError';
    this.partial = partial;
  }
}

/**
 * The bytes to print for one message. A format that fails (see FormatError) reports
 * through `warn` and prints what came before it and the newline, as mosquitto_sub does.
 */
export function renderMessage(
  style: OutputStyle,
  p: PublishPacket,
  now: PreciseTime = preciseNow(),
  warn?: (text: string) => void,
): Buffer {
  const parts: Buffer[] = [];
  if (style.format !== undefined) {
    try {
      parts.push(formatMessage(style.format, p, now));
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      warn?.(`Error: ${e.message}\n`);
      parts.push(e.partial);
    }
  } else if (style.verbose) {
    parts.push(Buffer.from(p.topic), SPACE, p.payload.length === 0 ? NULL_PAYLOAD : p.payload);
  } else {
    parts.push(p.payload);
  }
  if (style.eol) parts.push(NEWLINE);
  return Buffer.concat(parts);
}

/** Parameters whose value may be zero padded. */
const ZERO_PADDABLE = 'AEFlmSXx';
/** Parameters that honour a maximum width (".N"). */
const TRUNCATABLE = 'CIRt';

/** Renders one -F format string for a message. */
function formatMessage(format: string, p: PublishPacket, now: PreciseTime = preciseNow()): Buffer {
  const out: Array<Buffer | string> = [];
  const joined = (): Buffer =>
    Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
  const n = format.length;
  for (let i = 0; i < n; i++) {
    const c = format[i];
    if (c === '%' && i + 1 < n) {
      let j = i + 1;
      let leftAlign = false;
      let zero = false;
      while (j < n && (format[j] === '-' || format[j] === '0')) {
        if (format[j] === '-') leftAlign = true;
        else zero = true;
        j++;
      }
      let width = 0;
      while (j < n && format[j] >= '0' && format[j] <= '9')
        width = width * 10 + Number(format[j++]);
      let max = -1;
      if (format[j] === '.') {
        j++;
        max = 0;
        while (j < n && format[j] >= '0' && format[j] <= '9') max = max * 10 + Number(format[j++]);
      }
      if (j >= n) {
        out.push(format.slice(i));
        break;
      }
      const conv = format[j];
      i = j;
      if (conv === 'J' && !isJson(p.payload)) {
        throw new FormatError(`Message payload is not valid JSON on topic ${p.topic}.`, joined());
      }
      const value = parameter(conv, p, now);
      if (value === undefined) {
        out.push(`%${conv}`);
        continue;
      }
      if (typeof value !== 'string') {
        out.push(value);
        continue;
      }
      let v = value;
      if (max >= 0 && TRUNCATABLE.includes(conv) && v.length > max) v = v.slice(0, max);
      if (v.length < width) {
        if (leftAlign) v = v.padEnd(width, ' ');
        else v = v.padStart(width, zero && ZERO_PADDABLE.includes(conv) ? '0' : ' ');
      }
      out.push(v);
    } else if (c === '@' && i + 1 < n) {
      const t = format[++i];
      if (t === '@') out.push('@');
      else if (t === 'N') out.push(String(now.nanos).padStart(9, '0'));
      else out.push(strftimeConversion(t, now.date));
    } else if (c === '\\' && i + 1 < n) {
      const e = format[++i];
      out.push(ESCAPES[e] ?? `\\${e}`);
    } else {
      out.push(c);
    }
  }
  return joined();
}

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  '0': '\0',
  a: '\x07',
  e: '\x1b',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Value of one %-parameter: a string (paddable), raw bytes, or undefined if unknown. */
function parameter(conv: string, p: PublishPacket, now: PreciseTime): string | Buffer | undefined {
  const props = p.properties;
  switch (conv) {
    case '%':
      return '%';
    case 'A':
      return props?.topicAlias === undefined ? '' : String(props.topicAlias);
    case 'C':
      return props?.contentType ?? '';
    case 'D':
      return props?.correlationData ?? '';
    case 'E':
      return props?.messageExpiryInterval === undefined ? '' : String(props.messageExpiryInterval);
    case 'F':
      return props?.payloadFormatIndicator === undefined
        ? ''
        : String(props.payloadFormatIndicator);
    case 'l':
      return String(p.payload.length);
    case 'm':
      return String(p.packetId);
    case 'P':
      return (props?.userProperties ?? []).map(([k, v]) => `${k}:${v}`).join(' ');
    case 'p':
      return p.payload;
    case 'q':
      return String(p.qos);
    case 'R':
      return props?.responseTopic ?? '';
    case 'r':
      return p.retain ? '1' : '0';
    case 'S':
      return (props?.subscriptionIdentifiers ?? []).join(',');
    case 't':
      return p.topic;
    case 'x':
      return p.payload.toString('hex');
    case 'X':
      return p.payload.toString('hex').toUpperCase();
    case 'I':
      return `${strftimeConversion('F', now.date)}T${strftimeConversion('T', now.date)}${strftimeConversion('z', now.date)}`;
    case 'U':
      return `${Math.floor(now.date.getTime() / 1000)}.${String(now.nanos).padStart(9, '0')}`;
    case 'j':
      return jsonMessage(p, now, false);
    case 'J':
      return jsonMessage(p, now, true);
    default:
      return undefined;
  }
}

function isJson(payload: Buffer): boolean {
  try {
    JSON.parse(payload.toString());
    return true;
  } catch {
    return false;
  }
}

/** JSON names of v5 properties in mosquitto_sub's %j output. */
const JSON_NAMES: Partial<Record<keyof Properties, string>> = {
  payloadFormatIndicator: 'payload-format-indicator',
  messageExpiryInterval: 'message-expiry-interval',
  contentType: 'content-type',
  responseTopic: 'response-topic',
  correlationData: 'correlation-data',
  subscriptionIdentifiers: 'subscription-identifier',
  topicAlias: 'topic-alias',
  userProperties: 'user-properties',
};

function jsonMessage(p: PublishPacket, now: PreciseTime, rawPayload: boolean): string {
  const micros = String(Math.floor(now.nanos / 1000)).padStart(6, '0');
  const d = now.date;
  const tst = `${strftimeConversion('F', d)}T${strftimeConversion('T', d)}.${micros}Z${strftimeConversion('z', d)}`;
  let s = `{"tst":${JSON.stringify(tst)},"topic":${JSON.stringify(p.topic)},"qos":${p.qos},"retain":${p.retain ? 1 : 0},"payloadlen":${p.payload.length}`;
  if (p.qos > 0) s += `,"mid":${p.packetId}`;
  const props = p.properties;
  if (props !== undefined) {
    const fields: string[] = [];
    for (const key of Object.keys(props) as Array<keyof Properties>) {
      const name = JSON_NAMES[key];
      const v = props[key];
      if (name === undefined || v === undefined) continue;
      if (key === 'userProperties') {
        const pairs = (v as Array<[string, string]>).map(
          ([k, val]) => `${JSON.stringify(k)}:${JSON.stringify(val)}`,
        );
        fields.push(`"${name}":{${pairs.join(',')}}`);
      } else if (key === 'subscriptionIdentifiers') {
        fields.push(`"${name}":${(v as number[])[0]}`);
      } else if (Buffer.isBuffer(v)) {
        fields.push(`"${name}":${JSON.stringify(v.toString())}`);
      } else {
        fields.push(`"${name}":${JSON.stringify(v)}`);
      }
    }
    if (fields.length > 0) s += `,"properties":{${fields.join(',')}}`;
  }
  const payload = p.payload.toString();
  // %J re-serialises the payload compactly, as mosquitto_sub's JSON library does.
  s += `,"payload":${rawPayload ? JSON.stringify(JSON.parse(payload)) : JSON.stringify(payload)}}`;
  return s;
}
