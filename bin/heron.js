#!/bin/sh
//bin/true; exec node ${HERON_NODE_FLAGS-"--max-semi-space-size=4"} "$0" "$@"

// Launcher. Run as a program (`heron`, `npx heron`, `./bin/heron.js`), the two lines
// above are a shell script: it re-runs this same file under Node with the V8 settings
// a broker wants, by exec (same process id, so pid files and signals are unaffected).
// Node skips the first line and reads the second as a comment, so `node bin/heron.js`
// also works, with Node's defaults.
//
// --max-semi-space-size=4 caps V8's young generation at 4 MB per semi-space (Node's
// default grows it to 16 MB). A connect storm's long-lived connection objects would
// otherwise grow it to the maximum and keep that memory: with 15,000 idle connections
// it is the difference between ~4.2 and ~2.9 KB of RSS per connection, with no
// measurable throughput cost (docs/performance.md). HERON_NODE_FLAGS replaces these
// flags (set it empty for Node's defaults).
//
// The compiled CLI lives in dist/ (built by `npm install` via `prepare`). `npm run build`
// also packs it into one file, dist/src/cli/bundle.cjs (scripts/bundle-cli.js): Node 20
// loads one file in about half the time it takes to resolve and link ~115 ES modules,
// which was most of a start (docs/performance.md). The modules themselves are used
// when there is no bundle, when it is older than them (tsc run on its own), or with
// HERON_NO_BUNDLE=1 (e.g. with `node --enable-source-maps` for stack traces into src/).
//
// This file is CommonJS (bin/package.json): an ES module entry would start Node's ES
// module loader, ~2 MB of RSS and a few ms that the bundle never needs.
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = join(__dirname, '..', 'dist', 'src', 'cli');
const bundle = join(dist, 'bundle.cjs');
const main = join(dist, 'main.js');
const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const cli =
  process.env.HERON_NO_BUNDLE !== '1' && mtime(bundle) >= mtime(main)
    ? Promise.resolve().then(() => require(bundle))
    : import(pathToFileURL(main).href);
cli
  .then((m) => m.main(process.argv.slice(2)))
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
