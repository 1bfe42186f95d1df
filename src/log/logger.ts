import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { type LineLevel, type LogRecord, lineLogger, type RecordSink } from './line-logger.js';
import { strftime } from './strftime.js';

type Pino = typeof import('pino');

/** Where and how the broker logs, resolved from log_dest / log_type / -v. */
export interface LogSettings {
  /** Lowest pino level written: 'debug' with -v or log_type all/debug, else 'info'. */
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Destinations. Default stderr like Mosquitto. */
  destinations: Array<
    | { kind: 'stdout' | 'stderr' }
    | { kind: 'file'; path: string }
    | { kind: 'syslog'; facility?: number | undefined }
    | { kind: 'topic'; sink: TopicLogSink }
  >;
  /**
   * 'text' writes Mosquitto-style lines ("1700000000: New client connected ..."),
   * 'json' writes pino's JSON lines (log_format json); syslog always gets text.
   */
  format: 'text' | 'json';
  /** Prefix text lines with a timestamp (log_timestamp). Default true. */
  timestamp: boolean;
  /** strftime format of the timestamp (log_timestamp_format); default Unix seconds. */
  timestampFormat?: string | undefined;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** Mosquitto's $SYS/broker/log/<X> letter for a pino level. */
const TOPIC_LETTER: Record<number, string> = {
  10: 'D',
  20: 'D',
  30: 'N',
  40: 'W',
  50: 'E',
  60: 'E',
};

/**
 * log_dest topic: log lines published on $SYS/broker/log/<E|W|N|D>. The broker
 * is attached after it is created (the logger exists first).
 */
export class TopicLogSink implements RecordSink {
  /** Publishes one log line; set by whoever owns the broker. */
  publish: ((topic: string, line: string) => void) | undefined;
  private busy = false;

  /** A JSON line from pino (log_format json). */
  write(line: string): boolean {
    const rec = parseRecord(line);
    if (rec !== undefined) this.record(rec);
    return true;
  }

  record(rec: LogRecord): void {
    if (this.publish === undefined || this.busy) return;
    this.busy = true; // a publish that logs must not recurse
    try {
      const topic = `$SYS/broker/log/${TOPIC_LETTER[rec.level] ?? 'N'}`;
      for (const l of rec.msg.split('\n')) this.publish(topic, l);
    } finally {
      this.busy = false;
    }
  }
}

/** A pino JSON line as a record, or undefined when it is not one. */
function parseRecord(line: string): LogRecord | undefined {
  try {
    const rec = JSON.parse(line) as Record<string, unknown>;
    return {
      level: typeof rec.level === 'number' ? rec.level : 30,
      time: typeof rec.time === 'number' ? rec.time : Date.now(),
      msg: String(rec.msg ?? ''),
      err: rec.err as LogRecord['err'],
    };
  } catch {
    return undefined;
  }
}

/** Writes log records (or pino's JSON lines) as Mosquitto-style text lines. */
class TextLines implements RecordSink {
  private readonly out: NodeJS.WritableStream;
  private readonly timestamp: boolean;
  private readonly format: string | undefined;

  constructor(out: NodeJS.WritableStream, timestamp: boolean, format: string | undefined) {
    this.out = out;
    this.timestamp = timestamp;
    this.format = format;
  }

  /** A JSON line from pino; anything else passes through. */
  write(line: string): boolean {
    const rec = parseRecord(line);
    if (rec === undefined) return this.out.write(line);
    this.record(rec);
    return true;
  }

  record(rec: LogRecord): void {
    let msg = rec.msg;
    if (rec.level >= 40 && !/^(Error|Warning)/.test(msg))
      msg = `${LEVEL_NAMES[rec.level] === 'warning' ? 'Warning' : 'Error'}: ${msg}`;
    const errText = rec.err?.message;
    if (errText !== undefined && !msg.includes(errText)) msg += ` (${errText})`;
    const stamp =
      this.format !== undefined
        ? strftime(this.format, new Date(rec.time))
        : String(Math.floor(rec.time / 1000));
    // Each line of a multi-line event gets its own timestamp, as Mosquitto writes them.
    const prefix = this.timestamp ? `${stamp}: ` : '';
    this.out.write(
      `${msg
        .split('\n')
        .map((l) => `${prefix}${l}`)
        .join('\n')}\n`,
    );
  }
}

/** Appends to a file with synchronous writes: lines logged just before exit (shutdown, fatal errors) are not lost. */
function fileStream(path: string): NodeJS.WritableStream {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  return {
    write(text: string): boolean {
      writeSync(fd, text);
      return true;
    },
  } as NodeJS.WritableStream;
}

/** Syslog through the system's `logger` command (Node has no datagram Unix sockets). */
function syslogStream(facility: number | undefined): NodeJS.WritableStream {
  const fac = facility === undefined ? 'daemon' : `local${facility}`;
  const child = spawn('logger', ['-t', 'heron', '-p', `${fac}.info`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => {
    process.stderr.write(
      'Warning: log_dest syslog: the logger command is not available; syslog output disabled.\n',
    );
  });
  child.stdin.on('error', () => {});
  child.unref();
  return child.stdin;
}

/** Creates the broker's logger from log settings: pino for log_format json, else a LineLogger. */
export function createLogger(settings: LogSettings): Logger {
  if (settings.level === 'silent' || settings.destinations.length === 0)
    return lineLogger('silent', []);
  // Only JSON lines need pino; syslog and $SYS topics always get text.
  if (settings.format === 'json' && settings.destinations.some((d) => jsonDestination(d.kind)))
    return pinoLogger(settings);
  const sinks: RecordSink[] = [];
  for (const d of settings.destinations) {
    if (d.kind === 'topic') sinks.push(d.sink);
    else {
      const base = baseStream(d);
      if (base !== undefined) sinks.push(textLines(base, settings, d.kind));
    }
  }
  return lineLogger(settings.level as LineLevel, sinks);
}

function jsonDestination(kind: LogSettings['destinations'][number]['kind']): boolean {
  return kind !== 'syslog' && kind !== 'topic';
}

/** The byte stream of a stdout, stderr, file or syslog destination. */
function baseStream(d: LogSettings['destinations'][number]): NodeJS.WritableStream | undefined {
  if (d.kind === 'stdout') return process.stdout;
  if (d.kind === 'stderr') return process.stderr;
  if (d.kind === 'file') return fileStream(d.path);
  if (d.kind === 'syslog') return syslogStream(d.facility);
  return undefined;
}

function textLines(
  base: NodeJS.WritableStream,
  settings: LogSettings,
  kind: LogSettings['destinations'][number]['kind'],
): TextLines {
  // Syslog adds its own timestamp.
  return new TextLines(base, settings.timestamp && kind !== 'syslog', settings.timestampFormat);
}

/** log_format json: pino's JSON lines, loaded only then. */
function pinoLogger(settings: LogSettings): Logger {
  const { pino } = createRequire(import.meta.url)('pino') as Pino;
  const streams: Array<{
    stream: NodeJS.WritableStream | TextLines | TopicLogSink;
    level: string;
  }> = [];
  for (const d of settings.destinations) {
    if (d.kind === 'topic') {
      streams.push({ stream: d.sink, level: settings.level });
      continue;
    }
    const base = baseStream(d);
    if (base === undefined) continue;
    const stream = jsonDestination(d.kind) ? base : textLines(base, settings, d.kind);
    streams.push({ stream, level: settings.level });
  }
  return pino(
    { level: settings.level, base: undefined },
    pino.multistream(streams as Parameters<typeof pino.multistream>[0]),
  );
}
