import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from '../helpers/process.js';

/** A real Mosquitto broker child process on free loopback ports, for cross-checks. */
export interface MosquittoProcess {
  port: number;
  /** WebSocket listener port. */
  wsPort: number;
  url: string;
  /** Kills and starts the same broker again on the same ports (sessions are lost unless persisted). */
  restart(): Promise<void>;
  /** Kills the broker but keeps its ports and configuration for `start()`. */
  kill(): Promise<void>;
  /** Starts a killed broker again on the same ports. */
  start(): Promise<void>;
  /** Everything mosquitto printed so far. */
  readonly log: string;
  stop(): Promise<void>;
}

/** Starts `mosquitto -c <temp conf>` with an MQTT and a WebSocket listener; `persistence` keeps sessions across restart(). */
export async function startMosquitto(
  opts: { persistence?: boolean; extra?: string } = {},
): Promise<MosquittoProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'heron-mosq-'));
  const port = await freePort();
  const wsPort = await freePort();
  const conf = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `listener ${wsPort} 127.0.0.1`,
    'protocol websockets',
    opts.persistence ? `persistence true\npersistence_location ${dir}/` : 'persistence false',
    opts.extra ?? '',
  ].join('\n');
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, `${conf}\n`);
  let child: ChildProcess | undefined;
  let log = '';
  const launch = async (): Promise<void> => {
    const c = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d) => (log += d));
    c.stderr?.on('data', (d) => (log += d));
    for (let i = 0; i < 100; i++) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
      // Both listeners: mosquitto opens them one after the other.
      if ((await canConnect(port)) && (await canConnect(wsPort))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not start: ${log}`);
  };
  const kill = (): Promise<void> =>
    new Promise((resolve) => {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  await launch();
  return {
    port,
    wsPort,
    url: `mqtt://127.0.0.1:${port}`,
    async restart() {
      await kill();
      await launch();
    },
    kill,
    start: launch,
    get log() {
      return log;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
