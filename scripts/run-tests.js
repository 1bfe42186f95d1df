#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's built-in runner.
// Node 20's `--test` takes no glob patterns, so the files are listed here; a
// name filter (`node scripts/run-tests.js broker`) narrows the run while developing.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = 'dist/test';
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A safety net, not a performance bound: a test that hangs fails after 4 minutes
// instead of holding CI until its overall limit.
const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=240000', ...selected], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
