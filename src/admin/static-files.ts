import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One dashboard file, read into memory once. */
export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The dashboard's files by URL path. */
const FILES: ReadonlyArray<readonly [string, string, string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
  ['/favicon.svg', 'favicon.svg', 'image/svg+xml'],
];

/**
 * Where the files live: compiled code runs from dist/src/admin/ and the files
 * ship in src/admin/static/ (listed in package.json "files"); code run from
 * source finds them next to itself.
 */
function staticDir(): string {
  const candidates = [
    new URL('../../../src/admin/static/', import.meta.url),
    new URL('./static/', import.meta.url),
  ];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(
    `dashboard files not found (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`,
  );
}

let loading: Promise<Map<string, StaticFile>> | undefined;

/** Reads the dashboard files (once per process). */
export function loadDashboard(): Promise<Map<string, StaticFile>> {
  loading ??= (async () => {
    const dir = staticDir();
    const map = new Map<string, StaticFile>();
    for (const [path, file, type] of FILES) {
      map.set(path, { type, body: await readFile(dir + file) });
    }
    map.set('/index.html', map.get('/')!);
    return map;
  })().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
