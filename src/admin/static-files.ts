import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One dashboard file, read into memory once. */
export interface StaticFile {
  type: string;
  body: Buffer;
}

/** Content types by file extension; other files in the directory are not served. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

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
    for (const file of (await readdir(dir)).sort()) {
      const type = TYPES[extname(file)];
      if (type !== undefined) map.set(`/${file}`, { type, body: await readFile(dir + file) });
    }
    map.set('/', map.get('/index.html')!);
    return map;
  })().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
