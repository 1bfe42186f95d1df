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

/**
 * Spawns `redis-server ...args` (killed when the test process exits, however it
 * ends); resolves once it accepts connections.
 */
export async function spawnRedisServer(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return child;
}

/** Sends `signal` to a redis-server from spawnRedisServer; resolves once it has exited. */
export function endRedisServer(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    running.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Starts redis-server without persistence (on `port`, or a free one); resolves once it accepts connections. */
export async function startRedis(port?: number): Promise<TestRedis> {
  port ??= await freePort();
  const child = await spawnRedisServer([
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => endRedisServer(child, 'SIGTERM'),
    kill: () => endRedisServer(child, 'SIGKILL'),
  };
}
