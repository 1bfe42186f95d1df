import { createWriteStream, type WriteStream } from 'node:fs';
import pino, { type Logger } from 'pino';

/** Where and how the broker logs, resolved from log_dest / log_type / -v. */
export interface LogSettings {
  /** Lowest pino level written: 'debug' with -v or log_type all/debug, else 'info'. */
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Destinations: stdout, stderr, a file path. Default stderr like Mosquitto. */
  destinations: Array<{ kind: 'stdout' | 'stderr' } | { kind: 'file'; path: string }>;
  /**
   * 'text' writes Mosquitto-style lines ("1700000000: New client connected ..."),
   * 'json' writes pino's JSON lines. Default: text on a TTY or with -v, json otherwise.
   */
  format: 'text' | 'json';
  /** Prefix text lines with a Unix timestamp (log_timestamp). Default true. */
  timestamp: boolean;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** A write stream that turns pino's JSON lines into Mosquitto-style text lines. */
class TextLines {
  private readonly out: NodeJS.WritableStream;
  private readonly timestamp: boolean;

  constructor(out: NodeJS.WritableStream, timestamp: boolean) {
    this.out = out;
    this.timestamp = timestamp;
  }

  write(line: string): boolean {
    let text = line;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      const t =
        typeof rec.time === 'number' ? Math.floor(rec.time / 1000) : Math.floor(Date.now() / 1000);
      let msg = String(rec.msg ?? '');
      const level = typeof rec.level === 'number' ? rec.level : 30;
      if (level >= 40 && !/^(Error|Warning)/.test(msg))
        msg = `${LEVEL_NAMES[level] === 'warning' ? 'Warning' : 'Error'}: ${msg}`;
      const err = rec.err as { message?: string } | undefined;
      if (err?.message !== undefined && !msg.includes(err.message)) msg += ` (${err.message})`;
      text = `${this.timestamp ? `${t}: ` : ''}${msg}\n`;
    } catch {
      // Not JSON: pass through.
    }
    return this.out.write(text);
  }
}

/** Creates the broker's pino logger from log settings. */
export function createLogger(settings: LogSettings): Logger {
  if (settings.level === 'silent' || settings.destinations.length === 0)
    return pino({ level: 'silent' });
  const streams: Array<{ stream: NodeJS.WritableStream | TextLines; level: string }> = [];
  for (const d of settings.destinations) {
    let base: NodeJS.WritableStream;
    if (d.kind === 'stdout') base = process.stdout;
    else if (d.kind === 'stderr') base = process.stderr;
    else if (d.kind === 'file') base = createWriteStream(d.path, { flags: 'a' }) as WriteStream;
    else continue;
    const stream = settings.format === 'text' ? new TextLines(base, settings.timestamp) : base;
    streams.push({ stream, level: settings.level });
  }
  return pino(
    { level: settings.level, base: undefined },
    pino.multistream(streams as Parameters<typeof pino.multistream>[0]),
  );
}
