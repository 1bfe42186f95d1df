import type { Logger } from 'pino';

/** The fields of a log event that text lines, syslog and $SYS log topics show. */
export interface LogRecord {
  /** pino's number for the level (30 info, 40 warn, ...). */
  level: number;
  /** Milliseconds since the epoch. */
  time: number;
  msg: string;
  err?: { message?: string } | undefined;
}

/** A destination that takes log events as records rather than JSON text. */
export interface RecordSink {
  record(rec: LogRecord): void;
}

const LEVELS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** The log levels a LineLogger accepts (pino's names). */
export type LineLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * The logger behind text logging (the default): the part of pino's Logger that
 * Heron calls (`info(msg)`, `warn({ err }, msg)`, `isLevelEnabled`, `level`),
 * handing records straight to its sinks. Loading pino costs ~7 MB of RSS and
 * ~25 ms of every start, and its JSON lines were only parsed back into text;
 * `log_format json` still logs through pino.
 */
class LineLogger {
  #level: LineLevel;
  #threshold: number;
  readonly #sinks: RecordSink[];

  constructor(level: LineLevel, sinks: RecordSink[]) {
    this.#level = level;
    this.#threshold = LEVELS[level]!;
    this.#sinks = sinks;
  }

  get level(): LineLevel {
    return this.#level;
  }

  set level(level: LineLevel) {
    this.#level = level;
    this.#threshold = LEVELS[level]!;
  }

  isLevelEnabled(level: string): boolean {
    return (LEVELS[level] ?? Number.POSITIVE_INFINITY) >= this.#threshold;
  }

  trace(obj: unknown, msg?: string): void {
    this.#write(10, obj, msg);
  }
  debug(obj: unknown, msg?: string): void {
    this.#write(20, obj, msg);
  }
  info(obj: unknown, msg?: string): void {
    this.#write(30, obj, msg);
  }
  warn(obj: unknown, msg?: string): void {
    this.#write(40, obj, msg);
  }
  error(obj: unknown, msg?: string): void {
    this.#write(50, obj, msg);
  }
  fatal(obj: unknown, msg?: string): void {
    this.#write(60, obj, msg);
  }
  silent(): void {}

  /** Bindings only show in JSON lines, which this logger does not write. */
  child(): this {
    return this;
  }

  flush(cb?: (err?: Error) => void): void {
    cb?.();
  }

  // pino's call shapes: (msg), (obj, msg) with obj.err an Error, (err) or (err, msg).
  #write(level: number, obj: unknown, msg: string | undefined): void {
    if (level < this.#threshold) return;
    let err: { message?: string } | undefined;
    let text = msg;
    if (typeof obj === 'string') text = obj;
    else if (obj instanceof Error) {
      err = obj;
      text ??= obj.message;
    } else if (typeof obj === 'object' && obj !== null) {
      const e = (obj as { err?: unknown }).err;
      if (typeof e === 'object' && e !== null) err = e as { message?: string };
    }
    const rec: LogRecord = { level, time: Date.now(), msg: text ?? '', err };
    for (const s of this.#sinks) s.record(rec);
  }
}

/** A pino-compatible logger (for Heron's calls) that writes records to `sinks`. */
export function lineLogger(level: LineLevel, sinks: RecordSink[]): Logger {
  // Heron only calls what LineLogger has; the embedding API's type stays pino's.
  return new LineLogger(level, sinks) as unknown as Logger;
}
