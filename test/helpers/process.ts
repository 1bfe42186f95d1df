/**
 * Free ports, child processes and waits: what tests that run real programs
 * (heron, mosquitto, redis) share, so each suite does not carry its own copy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { canConnect, freePort, sleep } from '../../bench/processes.js';

// One copy of these for the benchmarks and the tests.
export { canConnect, freePort, sleep as delay };

/** bin/heron.js of this checkout (tests run from the repository root). */
export const HERON_BIN = join(process.cwd(), 'bin/heron.js');

/** Polls `cond` every 10 ms until it holds; rejects naming `what` after `ms`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A child process that listens, with what it printed. */
export interface ListeningProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then its exit code (or the signal that ended it). */
  stop(): Promise<number | string | null>;
}

/**
 * Collects a spawned program's output and resolves once every port accepts
 * connections; rejects (killing it) if it exits first or does not listen in 10 s.
 */
export async function waitForListening(
  child: ChildProcess,
  ports: number[],
  name = 'process',
): Promise<ListeningProcess> {
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    while (!(await canConnect(port))) {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${out}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${name} did not listen on ${port}: ${out}`);
      }
      await sleep(100);
    }
  }
  return { child, output: () => out, stop: () => stopProcess(child) };
}

/** Runs bin/heron.js with `args` as a real process; resolves once every port accepts connections. */
export function startHeron(args: string[], ...ports: number[]): Promise<ListeningProcess> {
  const child = spawn(process.execPath, [HERON_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return waitForListening(child, ports, 'heron');
}

/**
 * Sends SIGTERM (unless the process is gone) and resolves with its exit code,
 * or the signal that ended it; SIGKILLs it if it is still there after 10 s.
 */
export async function stopProcess(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  }
  return child.exitCode ?? child.signalCode;
}
