// Long fuzz run on demand: `npm run build && node dist/bench/codec-fuzz.js [iterations] [seed]`.
import { runFuzz } from '../test/protocol/support/fuzz.js';

const iterations = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() & 0xffffffff);
const started = Date.now();
const stats = runFuzz(seed, iterations);
console.log(
  `seed ${seed}: ${stats.iterations} streams, ${stats.packets} packets, ` +
    `${stats.protocolErrors} protocol errors, ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
