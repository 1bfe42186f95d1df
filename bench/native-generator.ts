/**
 * The native per-packet load generator of `npm run bench:compare`
 * (bench/native/loadgen.c): compiled with `cc -O2` on first use, and the
 * arguments that make it run a plan the Node generator would otherwise run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchPlan, clientWrites } from '../src/bench/plan.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
/** The C source, in the repository (not copied to dist). */
export const NATIVE_SOURCE = join(root, 'bench', 'native', 'loadgen.c');

/** The compiled generator, or why there is none (the caller falls back to the Node generator). */
export type NativeBuild = { path: string } | { reason: string };

/**
 * Compiles the generator into `outDir` unless a binary newer than the source
 * is there already. Needs `cc`; without it says so instead of failing.
 */
export function buildNative(outDir = join(root, 'dist', 'bench', 'native')): NativeBuild {
  const out = join(outDir, 'loadgen');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(NATIVE_SOURCE).mtimeMs)
    return { path: out };
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0)
    return { reason: 'cc not found: the native load generator cannot be built' };
  mkdirSync(outDir, { recursive: true });
  const r = spawnSync('cc', ['-O2', '-o', out, NATIVE_SOURCE], { encoding: 'utf8' });
  if (r.status !== 0)
    return { reason: `cc failed to build the native load generator: ${r.stderr.trim()}` };
  return { path: out };
}

/**
 * The generator's command-line arguments for a plan, or undefined when the
 * plan is not one it runs: QoS 1/2 publishers at max rate into subscribers,
 * per-packet writes, MQTT 3.1.1 over plain TCP, no idle connections.
 */
export function nativeArgs(plan: BenchPlan): string[] | undefined {
  const { pub, sub, target } = plan;
  if (pub === undefined || sub === undefined || plan.conn !== undefined) return undefined;
  if (pub.qos === 0 || pub.rate > 0 || pub.retain || pub.port !== undefined) return undefined;
  if (sub.qos !== pub.qos || clientWrites(plan) !== 'packet') return undefined;
  if (
    target.transport !== 'tcp' ||
    target.host !== '127.0.0.1' ||
    target.version !== 4 ||
    target.username !== undefined
  )
    return undefined;
  return [
    String(target.port),
    String(pub.count),
    String(pub.qos),
    pub.topic,
    sub.topic,
    String(sub.count),
    String(pub.inflight),
    String(pub.size),
    String(plan.warmup),
    String(plan.duration),
    target.clientIdPrefix,
    target.nagle ? 'nagle' : 'nodelay',
  ];
}
