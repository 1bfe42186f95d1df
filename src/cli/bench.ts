import { BENCH_USAGE, BenchUsageError, parseBenchArgs } from '../bench/args.js';
import { runBench } from '../bench/runner.js';
import { describePlan, progressLine, summaryText } from '../bench/summary.js';

/** `heron bench pub|sub|conn`: the load generator. Returns the exit code. */
export async function benchMain(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    err.write(`heron bench: ${e.message}\n\n${BENCH_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    out.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const { plan, json } = args;
  // With --json stdout carries only the result; human lines go to stderr.
  const info = json ? err : out;
  info.write(`${describePlan(args.mode, plan)}\n`);
  const run = runBench(
    plan,
    plan.progress
      ? (p, r) => info.write(`${progressLine(p, r.latency.percentile(99))}\n`)
      : undefined,
    json ? (event) => err.write(`event: ${event}\n`) : undefined,
  );
  const onSignal = (): void => run.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await run.done;
    if (json) out.write(`${JSON.stringify(result)}\n`);
    else out.write(`${summaryText(result)}\n`);
    const c = result.connections;
    return c.connected === 0 && c.attempted > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
