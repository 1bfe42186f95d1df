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

/** The bytes to print for one message. */
export function renderMessage(
  style: OutputStyle,
  p: PublishPacket,
  now: Date = new Date(),
): Buffer {
  const parts: Buffer[] = [];
  if (style.format !== undefined) {
    parts.push(formatMessage(style.format, p, now));
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
export function formatMessage(format: string, p: PublishPacket, now: Date = new Date()): Buffer {
  const out: Array<Buffer | string> = [];
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
      else if (t === 'N') out.push(String(nanosOf(now)).padStart(9, '0'));
      else out.push(strftimeConversion(t, now));
    } else if (c === '\\' && i + 1 < n) {
      const e = format[++i];
      out.push(ESCAPES[e] ?? `\\${e}`);
    } else {
      out.push(c);
    }
  }
  return Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x)));
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
function parameter(conv: string, p: PublishPacket, now: Date): string | Buffer | undefined {
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
      return `${strftimeConversion('F', now)}T${strftimeConversion('T', now)}${strftimeConversion('z', now)}`;
    case 'U':
      return `${Math.floor(now.getTime() / 1000)}.${String(nanosOf(now)).padStart(9, '0')}`;
    case 'j':
      return jsonMessage(p, now, false);
    case 'J':
      return jsonMessage(p, now, true);
    default:
      return undefined;
  }
}

function nanosOf(now: Date): number {
  return (now.getTime() % 1000) * 1_000_000;
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

function jsonMessage(p: PublishPacket, now: Date, rawPayload: boolean): string {
  const micros = String((now.getTime() % 1000) * 1000).padStart(6, '0');
  const tst = `${strftimeConversion('F', now)}T${strftimeConversion('T', now)}.${micros}Z${strftimeConversion('z', now)}`;
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
  s += `,"payload":${rawPayload ? payload : JSON.stringify(payload)}}`;
  return s;
}
