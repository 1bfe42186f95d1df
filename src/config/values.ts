import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { ConfigWarningKind } from './types.js';

/** One non-comment line of a config file, split into the option and its words. */
export interface ConfigLine {
  /** File the line came from, as named. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** The option name (first word). */
  option: string;
  /** The words after the option, split on spaces and tabs. */
  words: string[];
  /** Everything after the option, trimmed (for values that may contain spaces). */
  rest: string;
}

/** Receives warnings raised while reading values. */
export type WarnFn = (l: ConfigLine, kind: ConfigWarningKind, message: string) => void;

/** A ConfigError located at this line and option. */
export function lineError(l: ConfigLine, detail: string): ConfigError {
  return new ConfigError(detail, { file: l.file, line: l.line, option: l.option });
}

/** Splits a trimmed line into words on runs of spaces and tabs. */
export function splitWords(text: string): string[] {
  return text.length === 0 ? [] : text.split(/[ \t]+/);
}

/**
 * The single word value of an option. Mosquitto reads only the first word and
 * ignores the rest of the line, so extra words are accepted too: silently when
 * they are a trailing comment, with a warning otherwise.
 */
export function word(l: ConfigLine, what: string, warn: WarnFn): string {
  const w = l.words[0];
  if (w === undefined) throw lineError(l, `expected ${what}, got nothing`);
  checkExtra(l, 1, warn);
  return w;
}

/** Warns about words past `used` that are not a trailing comment. */
export function checkExtra(l: ConfigLine, used: number, warn: WarnFn): void {
  if (l.words.length > used && !l.words[used]!.startsWith('#')) {
    warn(l, 'ignored', `extra text '${l.words.slice(used).join(' ')}' ignored`);
  }
}

/** A free-text value: the rest of the line (it may contain spaces). */
export function text(l: ConfigLine, what: string): string {
  if (l.rest.length === 0) throw lineError(l, `expected ${what}, got nothing`);
  return l.rest;
}

/** A file or directory path, resolved against `cwd` like Mosquitto (which never changes directory). */
export function pathValue(l: ConfigLine, what: string, cwd: string): string {
  return resolve(cwd, text(l, what));
}

/** true/false (Mosquitto also accepts 1/0). */
export function bool(l: ConfigLine, warn: WarnFn): boolean {
  const w = word(l, 'true or false', warn);
  if (w === 'true' || w === '1') return true;
  if (w === 'false' || w === '0') return false;
  throw lineError(l, `expected true or false, got '${w}'`);
}

/** Range rules for an integer option. */
export interface IntSpec {
  /** Smallest meaningful value. */
  min: number;
  /** Largest allowed value. */
  max?: number;
  /**
   * Mosquitto silently raises values below `min` instead of failing; such a
   * value is accepted and replaced by this one, with an 'adjusted' warning.
   */
  below?: number;
}

const INTEGER = /^[+-]?\d+$/;

/** Describes an integer range for error messages. */
function describeRange(spec: IntSpec): string {
  if (spec.max !== undefined) return `an integer from ${spec.min} to ${spec.max}`;
  if (spec.min === 0) return 'a non-negative integer';
  if (spec.min === 1) return 'a positive integer';
  return `an integer >= ${spec.min}`;
}

/** Parses an integer word against `spec`. */
export function intWord(l: ConfigLine, w: string, spec: IntSpec, warn: WarnFn): number {
  const what = describeRange(spec);
  if (!INTEGER.test(w)) throw lineError(l, `expected ${what}, got '${w}'`);
  const n = Number(w);
  if (!Number.isSafeInteger(n)) throw lineError(l, `expected ${what}, got '${w}'`);
  if (n < spec.min) {
    if (spec.below === undefined) throw lineError(l, `expected ${what}, got '${w}'`);
    warn(l, 'adjusted', `${n} is below ${spec.min}, using ${spec.below}`);
    return spec.below;
  }
  if (spec.max !== undefined && n > spec.max) throw lineError(l, `expected ${what}, got '${w}'`);
  return n;
}

/** An integer option value. */
export function int(l: ConfigLine, spec: IntSpec, warn: WarnFn): number {
  return intWord(l, word(l, describeRange(spec), warn), spec, warn);
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(l: ConfigLine, values: readonly T[], warn: WarnFn): T {
  const list = values.join(', ');
  const w = word(l, `one of ${list}`, warn);
  if ((values as readonly string[]).includes(w)) return w as T;
  throw lineError(l, `expected one of ${list}, got '${w}'`);
}

const DURATION_UNITS: Record<string, number> = {
  h: 3600,
  d: 86400,
  w: 7 * 86400,
  m: 30 * 86400,
  y: 365 * 86400,
};

/** A Mosquitto duration such as 2h, 14d, 1w, 1m (30 days) or 1y (365 days), in seconds. */
export function duration(l: ConfigLine, warn: WarnFn): number {
  const what = 'a duration such as 2h, 14d, 1w, 1m or 1y';
  const w = word(l, what, warn);
  const m = /^(\d+)([hdwmy])$/.exec(w);
  if (!m) throw lineError(l, `expected ${what}, got '${w}'`);
  const n = Number(m[1]) * DURATION_UNITS[m[2]!]!;
  if (n <= 0) throw lineError(l, `expected a duration greater than zero, got '${w}'`);
  return n;
}

/** A port number 1..65535 (0 only where `allowZero`). */
export function portWord(l: ConfigLine, w: string, allowZero: boolean): number {
  const min = allowZero ? 0 : 1;
  if (!INTEGER.test(w) || Number(w) < min || Number(w) > 65535) {
    throw lineError(l, `expected a port number from ${min} to 65535, got '${w}'`);
  }
  return Number(w);
}

/** Rejects topic values that may not carry wildcards (mount points, prefixes). */
export function checkPublishTopic(l: ConfigLine, value: string, what: string): void {
  if (value.includes('+') || value.includes('#')) {
    throw lineError(l, `${what} '${value}' must not contain the wildcards + or #`);
  }
}
