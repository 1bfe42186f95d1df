/**
 * A Heron child process (test/store/support/crash-broker.ts) for tests that
 * `kill -9` the broker at a chosen moment and look at what reached the disk.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbStore } from '../../../src/store/lmdb.js';
import type { StoredState } from '../../../src/store/store.js';

const runner = join(dirname(fileURLToPath(import.meta.url)), 'crash-broker.js');

/** Starts Heron (LMDB store in `dir`, sync `commit`) on `port` and waits until it listens. */
export async function startCrashBroker(dir: string, port: number): Promise<ChildProcess> {
  const c = spawn(process.execPath, [runner, dir, String(port), 'commit'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    c.once('exit', (code) => reject(new Error(`broker exited with ${code} before ready`)));
  });
  return c;
}

/** SIGKILLs the process (if still running) and waits for it to be gone. */
export async function kill9(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGKILL');
  await exited;
}

/** What the next start would restore from `dir`. */
export async function storedState(dir: string): Promise<StoredState> {
  const store = new LmdbStore(dir);
  try {
    return await store.open();
  } finally {
    await store.close();
  }
}
