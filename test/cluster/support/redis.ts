import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../helpers/process.js';

/** A throw-away redis-server child process on a free loopback port. */
export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** kill -9: Redis loses everything it held. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
// However the test process ends, no redis-server outlives it.
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts redis-server without persistence (on `port`, or a free one); resolves once it accepts connections. */
export async function startRedis(port?: number): Promise<TestRedis> {
  port ??= await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 5000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
  child.stdout!.resume();
  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      running.delete(child);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}
