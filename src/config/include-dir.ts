import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Mosquitto's include_dir order: case-insensitive first, and where two names
 * differ only in case at a position, the upper-case letter first
 * (00.conf, 01.conf, A.conf, a.conf, B.conf, b.conf).
 */
export function compareIncludeNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    const diff = upper(ca) - upper(cb);
    if (diff !== 0) return diff;
    if (ca !== cb) return ca - cb;
  }
  return a.length - b.length;
}

/** ASCII upper-casing only, as C's toupper does in the C locale. */
function upper(c: number): number {
  return c >= 97 && c <= 122 ? c - 32 : c;
}

/** The names of the `*.conf` files in an include_dir directory, in load order. */
export function listIncludeFiles(dir: string): string[] {
  const names = readdirSync(dir).filter(
    (name) => name.length > 5 && name.endsWith('.conf') && statSync(join(dir, name)).isFile(),
  );
  return names.sort(compareIncludeNames);
}
