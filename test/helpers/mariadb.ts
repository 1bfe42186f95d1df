// A private MariaDB server for tests: a fresh data directory in /tmp, a free
// loopback port and a unix socket, started as the current user and removed
// afterwards. Startup takes about a second.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process.js';

const exec = promisify(execFile);

/** A running test MariaDB. */
export interface MariaDb {
  port: number;
  socket: string;
  /** Runs SQL as root through the `mariadb` client. */
  sql(statements: string): Promise<string>;
  /** Stops the server (the data directory stays, so `start` brings it back). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/** Creates a data directory and starts mariadbd on it. */
export async function startMariaDb(): Promise<MariaDb> {
  const dir = await mkdtemp(join(tmpdir(), 'heron-mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'sock');
  const port = await freePort();
  await exec('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${data}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ]);
  let child: ChildProcess | undefined;
  const sql = async (statements: string): Promise<string> => {
    const r = await exec('mariadb', [
      '--no-defaults',
      '-S',
      socket,
      '-uroot',
      '-N',
      '-e',
      statements,
    ]);
    return r.stdout;
  };
  const start = async (): Promise<void> => {
    child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        `--pid-file=${join(dir, 'pid')}`,
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}`);
      try {
        await sql('SELECT 1');
        return;
      } catch {
        if (Date.now() > deadline) throw new Error('mariadbd did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    socket,
    sql,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async close() {
      child?.kill('SIGCONT');
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
