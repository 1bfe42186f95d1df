// Starts a real Mosquitto broker and runs its command-line clients, so tests can
// show that Heron's auth files behave exactly as they do under Mosquitto.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProcess } from '../helpers/process.js';

/** A scratch directory removed by the returned cleanup function. */
export async function scratchDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'heron-auth-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Result of running a program to completion. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with a timeout and returns its exit status and output. */
export function run(
  cmd: string,
  args: string[],
  input?: string,
  timeoutMs = 10_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
      resolve({ code, stdout, stderr });
    });
    // The program may exit before reading its input; that is not an error here.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** A running mosquitto. */
export interface MosquittoBroker {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Starts mosquitto on a free loopback port with the given extra configuration lines. */
export async function startMosquitto(dir: string, extraConfig: string[]): Promise<MosquittoBroker> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, `mosquitto-${port}.conf`);
    const lines = [
      `listener ${port} 127.0.0.1`,
      'persistence false',
      'log_dest stderr',
      'log_type all',
      ...extraConfig,
    ];
    // As root, mosquitto would switch to the "mosquitto" user and lose access to our 0600 files.
    if (process.getuid?.() === 0) lines.push('user root');
    await writeFile(conf, `${lines.join('\n')}\n`);
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const ready = await waitFor(child, () => output.includes(' running'), 5000);
    if (ready) {
      return {
        port,
        log: () => output,
        stop: async () => {
          await stopProcess(child);
        },
      };
    }
    await stopProcess(child);
    if (attempt >= 2) throw new Error(`mosquitto did not start:\n${output}`);
  }
}

function waitFor(child: ChildProcess, done: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (done()) finish(true);
      else if (child.exitCode !== null || Date.now() - started > timeoutMs) finish(false);
    }, 20);
    function finish(ok: boolean): void {
      clearInterval(timer);
      resolve(ok);
    }
  });
}

/** A mosquitto_sub process that records the messages it receives. */
export interface Subscriber {
  /** `topic|payload` for each message received so far. */
  messages(): string[];
  /** The granted QoS values (or 128 for a refusal) from the SUBACK, as mosquitto_sub prints them. */
  granted(): string;
  stop(): Promise<void>;
}

/** Starts mosquitto_sub and resolves once its SUBSCRIBE is acknowledged. */
export async function subscribe(port: number, args: string[], filter: string): Promise<Subscriber> {
  // stdbuf: writing into a pipe, mosquitto_sub would hold its output back until it exits.
  const child = spawn(
    'stdbuf',
    [
      '-oL',
      'mosquitto_sub',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-q',
      '1',
      '-d',
      '-F',
      'MSG %t|%p',
      '-t',
      filter,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ok = await waitFor(child, () => out.includes('Subscribed (mid'), 5000);
  if (!ok) {
    await stopProcess(child);
    throw new Error(`mosquitto_sub ${args.join(' ')} did not subscribe:\n${out}`);
  }
  return {
    messages: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('MSG '))
        .map((l) => l.slice(4)),
    granted: () => /Subscribed \(mid: \d+\): ([0-9, ]+)/.exec(out)?.[1]?.trim() ?? '',
    stop: async () => {
      await stopProcess(child);
    },
  };
}

/** Runs mosquitto_pub against a port; resolves with its exit status and output. */
export function publish(port: number, args: string[]): Promise<RunResult> {
  return run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args]);
}

/** mosquitto_pub logging in as `user` (MQTT 3.1.1, or 5 with `version`) to publish "x" to "t". */
export function publishAs(
  port: number,
  user: string,
  password: string,
  version?: 5,
): Promise<RunResult> {
  const v = version === undefined ? [] : ['-V', String(version)];
  return publish(port, [...v, '-u', user, '-P', password, '-t', 't', '-m', 'x']);
}
