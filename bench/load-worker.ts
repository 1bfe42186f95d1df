/**
 * Child process of `npm run bench:compare`: runs one BenchPlan (given as JSON in
 * argv[2]) with subscribers and publishers in one process, prints `event: ...`
 * lines on stderr as phases are reached and the BenchResult as JSON on stdout.
 */
import type { BenchPlan } from '../src/bench/plan.js';
import { runBench } from '../src/bench/runner.js';

const plan = JSON.parse(process.argv[2] ?? '{}') as BenchPlan;
const run = runBench(plan, undefined, (event) => process.stderr.write(`event: ${event}\n`));
process.once('SIGTERM', () => run.stop());
const result = await run.done;
process.stdout.write(`${JSON.stringify(result)}\n`);
// Idle connections may take a moment to close; the numbers are out, so leave now.
setTimeout(() => process.exit(0), 200).unref();
