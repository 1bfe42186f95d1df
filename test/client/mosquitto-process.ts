import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
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

/**
 * An MQTT 3.1.1 CONNECT with an empty client id and a clean session: the
 * smallest packet mosquitto answers (with CONNACK) from its main loop.
 */
const PROBE_CONNECT = Buffer.from([
  0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00,
]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);

/**
 * Whether mosquitto on `port` answers a CONNECT. A TCP connect (to one
 * listener or all) is not enough: mosquitto opens every listener, then
 * installs its SIGTERM handler, then sets its run flag and enters its main
 * loop, and a SIGTERM that comes in between is lost (the flag is set to 1 over
 * the handler's 0) and the broker never stops. A CONNACK comes from the main
 * loop, so from then on SIGTERM is honoured.
 */
function answersConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      s.removeAllListeners();
      s.on('error', () => {});
      if (ok) s.end(DISCONNECT);
      else s.destroy();
      resolve(ok);
    };
    s.once('connect', () => s.write(PROBE_CONNECT));
    s.once('data', (d: Buffer) => done(d[0] === 0x20));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
    // Only against a broker that stalls: the caller's attempt limit then reports it.
    s.setTimeout(2000, () => done(false));
  });
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
      // Its main loop answers (so SIGTERM stops it), and the WebSocket listener is open too.
      if ((await answersConnect(port)) && (await canConnect(wsPort))) return;
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
