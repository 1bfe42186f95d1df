#!/usr/bin/env node
// Runs the kill -9 durability test for a number of cycles (default 100):
// `npm run test:crash -- 500`. Needs a build (npm run build) first.
import { runCrashTest } from '../dist/test/store/support/crash-driver.js';

const cycles = Number(process.argv[2] ?? 100);
const started = Date.now();
const r = await runCrashTest(cycles, (line) => console.log(line));
console.log(
  `${r.cycles} cycles in ${((Date.now() - started) / 1000).toFixed(1)} s: acknowledged QoS 1 ${r.acked[1]}, QoS 2 ${r.acked[2]}; ` +
    `${r.losses.length} lost, ${r.duplicates.length} QoS 2 duplicates, ${r.errors.length} errors`,
);
for (const line of [...r.errors, ...r.losses, ...r.duplicates].slice(0, 50))
  console.log(`  ${line}`);
process.exit(r.losses.length + r.duplicates.length + r.errors.length === 0 ? 0 : 1);
