import { spawn } from 'node:child_process';
import pino, { type Logger } from 'pino';
import { strftime } from './strftime.js';

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
export class TopicLogSink {
  /** Publishes one log line; set by whoever owns the broker. */
  publish: ((topic: string, line: string) => void) | undefined;
  private busy = false;

  write(line: string): boolean {
    if (this.publish === undefined || this.busy) return true;
    this.busy = true; // a publish that logs must not recurse
    try {
      const rec = JSON.parse(line) as { level?: number; msg?: string };
      const topic = `$SYS/broker/log/${TOPIC_LETTER[rec.level ?? 30] ?? 'N'}`;
      for (const l of String(rec.msg ?? '').split('\n')) this.publish(topic, l);
    } catch {
      // not JSON: ignore
    } finally {
      this.busy = false;
    }
    return true;
  }
}

/** A write stream that turns pino's JSON lines into Mosquitto-style text lines. */
class TextLines {
  private readonly out: NodeJS.WritableStream;
  private readonly timestamp: boolean;
  private readonly format: string | undefined;

  constructor(out: NodeJS.WritableStream, timestamp: boolean, format: string | undefined) {
    this.out = out;
    this.timestamp = timestamp;
    this.format = format;
  }

  write(line: string): boolean {
    let text = line;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      const ms = typeof rec.time === 'number' ? rec.time : Date.now();
      let msg = String(rec.msg ?? '');
      const level = typeof rec.level === 'number' ? rec.level : 30;
      if (level >= 40 && !/^(Error|Warning)/.test(msg))
        msg = `${LEVEL_NAMES[level] === 'warning' ? 'Warning' : 'Error'}: ${msg}`;
      const err = rec.err as { message?: string } | undefined;
      if (err?.message !== undefined && !msg.includes(err.message)) msg += ` (${err.message})`;
      const stamp =
        this.format !== undefined
          ? strftime(this.format, new Date(ms))
          : String(Math.floor(ms / 1000));
      // Each line of a multi-line event gets its own timestamp, as Mosquitto writes them.
      const prefix = this.timestamp ? `${stamp}: ` : '';
      text = `${msg
        .split('\n')
        .map((l) => `${prefix}${l}`)
        .join('\n')}\n`;
    } catch {
      // Not JSON: pass through.
    }
    return this.out.write(text);
  }
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

/** Creates the broker's pino logger from log settings. */
export function createLogger(settings: LogSettings): Logger {
  if (settings.level === 'silent' || settings.destinations.length === 0)
    return pino({ level: 'silent' });
  const streams: Array<{
    stream: NodeJS.WritableStream | TextLines | TopicLogSink;
    level: string;
  }> = [];
  for (const d of settings.destinations) {
    if (d.kind === 'topic') {
      streams.push({ stream: d.sink, level: settings.level });
      continue;
    }
    let base: NodeJS.WritableStream;
    if (d.kind === 'stdout') base = process.stdout;
    else if (d.kind === 'stderr') base = process.stderr;
    // Synchronous file writes: lines logged just before exit (shutdown, fatal errors) are not lost.
    else if (d.kind === 'file')
      base = pino.destination({
        dest: d.path,
        append: true,
        sync: true,
        mkdir: true,
      }) as unknown as NodeJS.WritableStream;
    else if (d.kind === 'syslog') base = syslogStream(d.facility);
    else continue;
    // Syslog adds its own timestamp.
    const text = settings.format === 'text' || d.kind === 'syslog';
    const stream = text
      ? new TextLines(base, settings.timestamp && d.kind !== 'syslog', settings.timestampFormat)
      : base;
    streams.push({ stream, level: settings.level });
  }
  return pino(
    { level: settings.level, base: undefined },
    pino.multistream(streams as Parameters<typeof pino.multistream>[0]),
  );
}
