/**
 * Start-up time and idle memory of the `heron` program, side by side with
 * Mosquitto (issue 17 item 6, issue 13's idle-footprint goals). Prints figures,
 * asserts nothing:
 *
 *   npm run bench:startup [-- --runs 9] [--idle 3] [--sessions 15] [--no-mosquitto]
 *                         [--baseline DIR]
 *
 * `--baseline DIR` adds the same cases for the heron of another built checkout
 * (e.g. `git worktree add /tmp/before <commit>` and `npm run build` there), run
 * alternately with this one, so both see the same moments of a busy machine.
 *
 * Each run spawns the broker as an operator would (`bin/heron.js`, through its
 * shell launcher; `mosquitto`) and, from the moment of the spawn, tries a TCP
 * connection every millisecond until one is accepted, sends a CONNECT and stops
 * the clock at the CONNACK. Cases:
 *
 * - `-p PORT`: no configuration file, nothing stored; for Heron also with
 *   HERON_NO_BUNDLE=1 (its ES modules instead of the CommonJS bundle).
 * - `store`: a configuration with persistence on, whose store (LMDB for Heron,
 *   mosquitto.db for Mosquitto) was filled before the runs with `--sessions`
 *   persistent sessions, each with two subscriptions and 10 queued QoS 1
 *   messages, plus 5 retained messages. The probe client uses its own client id,
 *   so every run restores the same store.
 *
 * The CPU time the broker's main thread used until then is read from /proc too
 * (on a busy machine the wall-clock figure mostly measures the other processes).
 * After the CONNACK the broker idles `--idle` seconds and its RSS is read from
 * /proc. Then come `node -e 0` (spawn to exit: what Node itself costs) and
 * `import 'heron-mqtt'` in a fresh Node (time of the import, RSS after it).
 * Runs of the cases alternate, so a busy moment of the machine hits them all.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PacketType } from '../src/protocol/constants.js';
import { encode } from '../src/protocol/encoder.js';
import { freePort, sleep } from './processes.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HERON = join(root, 'bin/heron.js');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const RUNS = flag('runs', 9);
const IDLE_MS = flag('idle', 3) * 1000;
const SESSIONS = flag('sessions', 15);
const QUEUED = 10;
const withMosquitto = !process.argv.includes('--no-mosquitto') && hasMosquitto();
const asRoot = process.getuid?.() === 0;

function hasMosquitto(): boolean {
  try {
    execFileSync('mosquitto', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // `mosquitto -h` exits 3 after printing its usage: it is there.
    return (e as { status?: number }).status === 3;
  }
}

/** An MQTT 3.1.1 connection that collects the first byte of every packet it receives. */
class Probe {
  readonly types: number[] = [];
  private waiters: (() => void)[] = [];
  private pending = Buffer.alloc(0);
  constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
  }
  private onData(d: Buffer): void {
    this.pending = Buffer.concat([this.pending, d]);
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < this.pending.length && i < 5; i++) {
        len += (this.pending[i]! & 0x7f) * mul;
        mul *= 128;
        if ((this.pending[i]! & 0x80) === 0) break;
      }
      if (i >= this.pending.length || this.pending.length < i + 1 + len) return;
      this.types.push(this.pending[0]! >> 4);
      this.pending = this.pending.subarray(i + 1 + len);
      for (const w of this.waiters.splice(0)) w();
    }
  }
  /** Resolves once `n` packets of `type` have arrived. */
  async count(type: number, n = 1): Promise<void> {
    while (this.types.filter((t) => t === type).length < n) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  send(packet: Parameters<typeof encode>[0]): void {
    this.socket.write(encode(packet, 4));
  }
}

function connectPacket(clientId: string, clean: boolean): Parameters<typeof encode>[0] {
  return {
    type: PacketType.CONNECT,
    protocolName: 'MQTT',
    protocolVersion: 4,
    clean,
    keepalive: 60,
    clientId,
  };
}

/** Connects and waits for the CONNACK. */
async function mqttConnect(port: number, clientId: string, clean: boolean): Promise<Probe> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  const p = new Probe(socket);
  p.send(connectPacket(clientId, clean));
  await p.count(PacketType.CONNACK);
  return p;
}

/**
 * Tries a connection every millisecond from `t0` until one is accepted, then
 * CONNECTs: milliseconds from `t0` to the CONNACK.
 */
async function timeToConnack(port: number, t0: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}`);
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const ok = await new Promise<boolean>((res) => {
      socket.once('connect', () => res(true));
      socket.once('error', () => res(false));
    });
    if (!ok) {
      socket.destroy();
      await sleep(1);
      continue;
    }
    const p = new Probe(socket);
    p.send(connectPacket(`startup-probe-${process.pid}`, true));
    await p.count(PacketType.CONNACK);
    const ms = performance.now() - t0;
    socket.destroy();
    return ms;
  }
}

/**
 * CPU time of the process's main thread so far, in ms (/proc schedstat, in ns): on a
 * busy machine wall-clock start times mostly measure the other processes, this does not.
 */
function mainThreadCpuMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(timer);
}

interface Case {
  name: string;
  /** Filled with stored sessions before the runs. */
  store?: true;
  /** The command line for a broker on `port`. */
  start(port: number): { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
}

const work = mkdtempSync(join(tmpdir(), 'heron-startup-'));

/** A configuration file with persistence in `dir`, for heron or mosquitto. */
function storeConfig(name: string, dir: string, port: number): string {
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true'];
  lines.push(`persistence_location ${dir}/`);
  if (asRoot) lines.push('user root');
  const file = join(work, `${name}.conf`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Fills a broker's store: persistent sessions with subscriptions, queued and retained messages. */
async function fill(c: Case): Promise<void> {
  const port = await freePort();
  const { cmd, args } = c.start(port);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  try {
    await timeToConnack(port, performance.now(), child);
    for (let i = 0; i < SESSIONS; i++) {
      const s = await mqttConnect(port, `stored-${i}`, false);
      s.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          {
            topic: 'fleet/+/state',
            qos: 1,
            noLocal: false,
            retainAsPublished: false,
            retainHandling: 0,
          },
          {
            topic: `own/${i}/#`,
            qos: 1,
            noLocal: false,
            retainAsPublished: false,
            retainHandling: 0,
          },
        ],
      });
      await s.count(PacketType.SUBACK);
      s.socket.destroy();
    }
    const pub = await mqttConnect(port, 'filler', true);
    const total = QUEUED + 5;
    for (let i = 1; i <= total; i++) {
      pub.send({
        type: PacketType.PUBLISH,
        topic: i <= QUEUED ? 'fleet/x/state' : `retained/${i}`,
        payload: Buffer.from(`message ${i} ${'x'.repeat(64)}`),
        qos: 1,
        retain: i > QUEUED,
        dup: false,
        packetId: i,
      });
    }
    await pub.count(PacketType.PUBACK, total);
    pub.socket.destroy();
    await sleep(200);
  } finally {
    await stop(child);
  }
}

/** One start: spawn, first CONNACK, idle RSS, stop. */
async function runOnce(c: Case): Promise<{ ms: number; cpu: number; rss: number }> {
  const port = await freePort();
  const { cmd, args, env } = c.start(port);
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, ...env } });
  try {
    const ms = await timeToConnack(port, t0, child);
    const cpu = mainThreadCpuMs(child.pid!);
    await sleep(IDLE_MS);
    return { ms, cpu, rss: rssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

/** Spawn-to-exit of `node -e 0`, and `import 'heron-mqtt'` timed inside a fresh Node. */
async function nodeRuns(): Promise<{
  bare: number;
  bareCpu: number;
  importMs: number;
  importRss: number;
}> {
  const t0 = performance.now();
  // Node's own start, and the CPU time it took (read by the process as its last act).
  const selfCpu =
    "process.stdout.write(require('fs').readFileSync('/proc/self/schedstat', 'utf8'))";
  const bare = spawn(process.execPath, ['-e', selfCpu], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stat = '';
  bare.stdout.on('data', (d) => (stat += d));
  await once(bare, 'exit');
  const bareMs = performance.now() - t0;
  const bareCpu = Number(stat.split(' ')[0]) / 1e6;
  const script =
    "const t = performance.now(); await import('heron-mqtt'); " +
    'console.log(JSON.stringify([performance.now() - t, process.memoryUsage().rss]));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  const [importMs, rss] = JSON.parse(out) as [number, number];
  return { bare: bareMs, bareCpu, importMs, importRss: rss / 2 ** 20 };
}

function summary(xs: number[], digits = 0): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)]!;
  const f = (x: number): string => x.toFixed(digits);
  return `${f(med).padStart(5)} (${f(s[0]!)}-${f(s[s.length - 1]!)})`;
}

/** This checkout's heron, and with `--baseline DIR` another checkout's, run alternately. */
const herons = [{ label: 'heron', bin: HERON }];
const baseline = process.argv.indexOf('--baseline');
if (baseline > 0) {
  herons.push({
    label: 'baseline',
    bin: join(resolve(process.argv[baseline + 1]!), 'bin/heron.js'),
  });
}
const cases: Case[] = [];
for (const [n, h] of herons.entries()) {
  const dir = join(work, `heron-store-${n}`);
  cases.push(
    { name: `${h.label} -p PORT`, start: (p) => ({ cmd: h.bin, args: ['-p', String(p)] }) },
    {
      name: `${h.label}, LMDB store, ${SESSIONS} sessions`,
      store: true,
      start: (p) => ({ cmd: h.bin, args: ['-c', storeConfig(`heron-${n}`, dir, p)] }),
    },
  );
}
// What the bundle buys: the same start from the ES modules.
cases.push({
  name: 'heron -p PORT, HERON_NO_BUNDLE=1',
  start: (p) => ({ cmd: HERON, args: ['-p', String(p)], env: { HERON_NO_BUNDLE: '1' } }),
});
if (withMosquitto) {
  const dir = join(work, 'mosquitto-store');
  cases.push(
    { name: 'mosquitto -p PORT', start: (p) => ({ cmd: 'mosquitto', args: ['-p', String(p)] }) },
    {
      name: `mosquitto, mosquitto.db, ${SESSIONS} sessions`,
      store: true,
      start: (p) => ({ cmd: 'mosquitto', args: ['-c', storeConfig('mosq', dir, p)] }),
    },
  );
}

try {
  for (const c of cases) if (c.store) await fill(c);
  const results = cases.map(() => ({
    ms: [] as number[],
    cpu: [] as number[],
    rss: [] as number[],
  }));
  const node = {
    bare: [] as number[],
    bareCpu: [] as number[],
    importMs: [] as number[],
    importRss: [] as number[],
  };
  for (let r = 0; r < RUNS; r++) {
    for (const [i, c] of cases.entries()) {
      const { ms, cpu, rss } = await runOnce(c);
      results[i]!.ms.push(ms);
      results[i]!.cpu.push(cpu);
      results[i]!.rss.push(rss);
    }
    const n = await nodeRuns();
    node.bare.push(n.bare);
    node.bareCpu.push(n.bareCpu);
    node.importMs.push(n.importMs);
    node.importRss.push(n.importRss);
  }
  console.log(`node ${process.version}, ${RUNS} runs, median (min-max)`);
  console.log(
    `${'case'.padEnd(40)} ${'spawn → first CONNACK ms'.padEnd(25)} ${'main thread CPU ms'.padEnd(20)} RSS MB after ${IDLE_MS / 1000} s idle`,
  );
  for (const [i, c] of cases.entries()) {
    const r = results[i]!;
    console.log(
      `${c.name.padEnd(40)} ${summary(r.ms).padEnd(25)} ${summary(r.cpu).padEnd(20)} ${summary(r.rss, 1)}`,
    );
  }
  console.log(
    `${'node -e 0 (spawn → exit)'.padEnd(40)} ${summary(node.bare).padEnd(25)} ${summary(node.bareCpu)}`,
  );
  console.log(
    `${"import 'heron-mqtt' (in a fresh node)".padEnd(40)} ${summary(node.importMs).padEnd(25)} ${summary(node.importRss, 1)} (right after the import)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
