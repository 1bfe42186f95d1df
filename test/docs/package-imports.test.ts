import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type InstalledPackage, installPackage } from '../helpers/installed-package.js';

const run = promisify(execFile);

/** One fenced JavaScript/TypeScript block of a docs page that imports heron-mqtt. */
interface DocBlock {
  /** e.g. "mqtt5.md#1" (the page and the block's number among its importing blocks). */
  name: string;
  code: string;
}

/** A named import of one block: the specifier, the exported name, and whether it is type-only. */
interface NamedImport {
  specifier: string;
  name: string;
  typeOnly: boolean;
}

const FENCE = /```(?:ts|typescript|js|javascript|mjs)\n([\s\S]*?)```/g;
const IMPORTS_HERON = /from\s+['"]heron-mqtt(?:\/[^'"]*)?['"]/;
const NAMED = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"](heron-mqtt(?:\/[^'"]*)?)['"]/g;

async function docBlocks(): Promise<DocBlock[]> {
  const blocks: DocBlock[] = [];
  for (const page of (await readdir('docs')).filter((f) => f.endsWith('.md')).sort()) {
    const text = await readFile(join('docs', page), 'utf8');
    let n = 0;
    for (const m of text.matchAll(FENCE)) {
      if (IMPORTS_HERON.test(m[1]!)) blocks.push({ name: `${page}#${++n}`, code: m[1]! });
    }
  }
  return blocks;
}

function namedImports(code: string): NamedImport[] {
  const out: NamedImport[] = [];
  for (const m of code.matchAll(NAMED)) {
    for (const part of m[2]!.split(',')) {
      const item = part.trim();
      if (item === '') continue;
      const typeOnly = m[1] !== undefined || item.startsWith('type ');
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
      out.push({ specifier: m[3]!, name, typeOnly });
    }
  }
  return out;
}

// Names the docs' examples use without defining them: values the reader supplies.
const READER_VALUES = `declare const fileText: string;
declare const logger: import('pino').Logger;
`;

describe('docs/ examples against the packed heron-mqtt', () => {
  let pkg: InstalledPackage;
  let blocks: DocBlock[];
  before(async () => {
    blocks = await docBlocks();
    pkg = await installPackage();
  });
  after(() => pkg?.remove());

  test('the docs have examples that import heron-mqtt', () => {
    // Guards the extraction: a changed fence style must not make the checks below vacuous.
    assert.ok(blocks.length >= 5, `found only ${blocks.map((b) => b.name).join(', ')}`);
  });

  test('every value a docs example imports exists at runtime in the installed package', async () => {
    const wanted = blocks.flatMap((b) =>
      namedImports(b.code)
        .filter((i) => !i.typeOnly)
        .map((i) => ({ ...i, block: b.name })),
    );
    assert.ok(wanted.length > 0);
    const specifiers = [...new Set(wanted.map((w) => w.specifier))];
    // Imported from inside the user project, so Node resolves through the package's exports map.
    const script = join(pkg.dir, 'exports.mjs');
    await writeFile(
      script,
      `const out = {};
for (const s of ${JSON.stringify(specifiers)}) {
  try { out[s] = Object.keys(await import(s)); } catch (e) { out[s] = String(e.code ?? e.message); }
}
console.log(JSON.stringify(out));`,
    );
    const { stdout } = await run(process.execPath, [script], { cwd: pkg.dir });
    const found = JSON.parse(stdout) as Record<string, string[] | string>;
    const missing = wanted
      .filter((w) => {
        const names = found[w.specifier];
        return !Array.isArray(names) || !names.includes(w.name);
      })
      .map(
        (w) =>
          `${w.block}: ${w.name} from ${w.specifier} (${JSON.stringify(found[w.specifier]).slice(0, 80)})`,
      );
    assert.deepEqual(missing, []);
  });

  test('every docs example type-checks against the installed package', async () => {
    const dir = join(pkg.dir, 'blocks');
    await mkdir(dir);
    for (const b of blocks) {
      await writeFile(join(dir, `${b.name.replace(/[^A-Za-z0-9]+/g, '-')}.ts`), b.code);
    }
    await writeFile(join(pkg.dir, 'reader-values.d.ts'), READER_VALUES);
    await writeFile(
      join(pkg.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['blocks/*.ts', 'reader-values.d.ts'],
      }),
    );
    const tsc = join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', pkg.dir], { cwd: pkg.dir }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    assert.equal(result, '', 'tsc reported errors in the docs examples');
  });
});
