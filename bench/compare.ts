/**
 * `npm run bench:compare`: the same load against Heron, Mosquitto and Aedes, one
 * broker at a time, each broker pinned to CPU 0 and the load generator to CPU 1,
 * then one table with absolute figures and Heron's ratio to each.
 *
 * Flags: --brokers heron,mosquitto,aedes  --scenarios 1,2,3,4a,4b,5,5b,6a,6b,7
 *        --duration S (default 5)  --warmup S (default 1)  --no-write
 *        --batched | --per-packet (how every scenario's clients write; default: per
 *        packet for QoS 1/2 and latency scenarios, batched for QoS 0 at max rate)
 *        --heron-node-flags '--flag ...' (node flags for Heron's process instead of the
 *        launcher's defaults, to compare V8 settings; '' for Node's own defaults)
 *        --generator native|node (load generator for the per-packet QoS 1/2 scenarios
 *        at max rate: bench/native/loadgen.c, built with cc, or bench/load-worker.ts)
 *        --broker-nagle (no `set_tcp_nodelay true` in the brokers' configuration:
 *        Mosquitto then leaves Nagle's algorithm on, its default; Heron always sets
 *        TCP_NODELAY)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BenchPlan,
  type BenchResult,
  type ClientWrites,
  clientWrites,
} from '../src/bench/plan.js';
import { type Run, renderReport } from './compare-report.js';
import {
  BROKER_LIMITS,
  QUIET_BEFORE_MS,
  SCENARIOS,
  type Scenario,
  SETTLED_AFTER_MS,
} from './compare-scenarios.js';
import { buildNative, nativeArgs } from './native-generator.js';
import { cpuSeconds, freePort, sleep, waitForPort } from './processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const ALL_BROKERS = ['heron', 'mosquitto', 'aedes'] as const;
/** A broker under comparison. */
export type BrokerName = (typeof ALL_BROKERS)[number];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const brokers = (flag('--brokers') ?? ALL_BROKERS.join(',')).split(',') as BrokerName[];
const wanted = (flag('--scenarios') ?? SCENARIOS.map((s) => s.id).join(',')).split(',');
const scenarios = SCENARIOS.filter((s) => wanted.includes(s.id) || wanted.includes(s.id[0]!));
const seconds = Number(flag('--duration') ?? 5);
const warmup = Number(flag('--warmup') ?? 1);
const write = !process.argv.includes('--no-write');
/** Leave out `set_tcp_nodelay true`: Mosquitto as configured out of the box. */
const brokerNagle = process.argv.includes('--broker-nagle');
/** Overrides every scenario's client write mode. */
const writes: ClientWrites | undefined = process.argv.includes('--batched')
  ? 'batched'
  : process.argv.includes('--per-packet')
    ? 'packet'
    : undefined;

/** A scenario's plan with the write-mode override applied. */
function planOf(sc: Scenario, port: number): BenchPlan {
  const p = sc.plan(port, seconds, warmup);
  if (writes !== undefined) p.writes = writes;
  return p;
}
/** Which load generator runs the scenarios the native one implements. */
const generatorFlag = flag('--generator') ?? 'native';
if (generatorFlag !== 'native' && generatorFlag !== 'node') {
  process.stderr.write(`--generator must be native or node, not ${generatorFlag}\n`);
  process.exit(2);
}
/** The native generator's binary, when asked for and buildable. */
let nativePath: string | undefined;
if (generatorFlag === 'native') {
  const built = buildNative();
  if ('path' in built) nativePath = built.path;
  else process.stderr.write(`${built.reason}; using the Node load generator\n`);
}

/** The native generator's command for a scenario, or undefined: the Node generator runs it. */
function nativeCommand(sc: Scenario, port: number): string[] | undefined {
  if (nativePath === undefined) return undefined;
  const args = nativeArgs(planOf(sc, port));
  return args === undefined ? undefined : [nativePath, ...args];
}

/** Passed to bin/heron.js as HERON_NODE_FLAGS (which replaces its default node flags). */
const heronNodeFlags = flag('--heron-node-flags');
const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
/** How long idle connections sit before the broker's RSS is read (scenario 7's first reading). */
const IDLE_SETTLE_MS = 4000;
const workDir = mkdtempSync(join(tmpdir(), 'heron-compare-'));

/** Runs a command with a 20,000 file limit, pinned to one CPU when taskset exists. */
/** The node flags bin/heron.js starts Heron with by default (its second line). */
function launcherNodeFlags(): string {
  const line = readFileSync(join(root, 'bin/heron.js'), 'utf8').split('\n')[1] ?? '';
  return /HERON_NODE_FLAGS-"([^"]*)"/.exec(line)?.[1] ?? '';
}

function spawnPinned(cpu: number, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const cmd = `ulimit -n 20000; exec ${pinned ? `taskset -c ${cpu} ` : ''}${quoted}`;
  return spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env });
}

function brokerConfig(port: number): string {
  const file = join(workDir, `broker-${port}.conf`);
  writeFileSync(
    file,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      brokerNagle ? '' : 'set_tcp_nodelay true',
      `max_inflight_messages ${BROKER_LIMITS.maxInflight}`,
      `max_queued_messages ${BROKER_LIMITS.maxQueued}`,
      'persistence false',
      'log_dest none',
      '',
    ].join('\n'),
  );
  return file;
}

function startBroker(name: BrokerName, port: number): ChildProcess {
  if (name === 'heron')
    // Started as users start it: the launcher script, with its node flags.
    return spawnPinned(
      0,
      [join(root, 'bin/heron.js'), '-c', brokerConfig(port)],
      heronNodeFlags === undefined
        ? process.env
        : { ...process.env, HERON_NODE_FLAGS: heronNodeFlags },
    );
  if (name === 'mosquitto') return spawnPinned(0, ['mosquitto', '-c', brokerConfig(port)]);
  return spawnPinned(0, [process.execPath, join(here, 'aedes-server.js'), String(port)]);
}

/** The broker's own pid: bash execs into taskset, which execs the broker, so the pid stays. */
function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

async function runOne(name: BrokerName, sc: Scenario): Promise<Run> {
  const port = await freePort();
  const broker = startBroker(name, port);
  let brokerErr = '';
  broker.stderr!.on('data', (d: Buffer) => {
    brokerErr = (brokerErr + d.toString()).slice(-2000);
  });
  const run: Run = { broker: name, scenario: sc.id };
  try {
    await waitForPort(port, broker);
    const pid = broker.pid!;
    await sleep(200);
    const rssBefore = statusKb(pid, 'VmRSS');
    // The settled reading compares settled with settled: the fresh broker's own
    // RSS first falls once its runtime sees it idle (Node's by ~2 MB).
    let rssQuiet = 0;
    if (sc.metric === 'connections') {
      await sleep(QUIET_BEFORE_MS);
      rssQuiet = statusKb(pid, 'VmRSS');
    }
    const cpuBefore = cpuSeconds(pid);
    // The PINGREQ probe runs in its own process so that the load generator's own
    // event-loop lag is not mistaken for the broker's.
    const probe = spawnPinned(1, [
      process.execPath,
      join(root, 'bin/heron.js'),
      'bench',
      'conn',
      '-c',
      '1',
      '-p',
      String(port),
      '-D',
      '0',
      '--prefix',
      `probe-${process.pid}-`,
      '--json',
      '-Q',
    ]);
    let probeOut = '';
    probe.stdout!.on('data', (d: Buffer) => {
      probeOut += d.toString();
    });
    const t0 = Date.now();
    const worker = spawnPinned(
      1,
      nativeCommand(sc, port) ?? [
        process.execPath,
        join(here, 'load-worker.js'),
        JSON.stringify(planOf(sc, port)),
      ],
    );
    let out = '';
    let rssHeld = 0;
    let rssSettled = 0;
    worker.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    worker.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      if (text.includes('event: held')) {
        // Idle means settled: read RSS a few seconds after the last CONNACK.
        setTimeout(() => {
          rssHeld = statusKb(pid, 'VmRSS');
        }, IDLE_SETTLE_MS);
        // And as an operator sees it later: after V8's memory reducer has run.
        setTimeout(() => {
          rssSettled = statusKb(pid, 'VmRSS');
        }, SETTLED_AFTER_MS);
      } else if (!text.startsWith('event:')) process.stderr.write(`  [load] ${text}`);
    });
    // Read just before the generator exits: its CPU over the run, settle phase included.
    let loadCpu = 0;
    const code = await new Promise<number>((res) => {
      const t = setInterval(() => {
        const c = cpuSeconds(worker.pid!);
        if (c > 0) loadCpu = c;
      }, 200);
      worker.once('exit', (c) => {
        clearInterval(t);
        res(c ?? 1);
      });
    });
    run.loadCpu = loadCpu / ((Date.now() - t0) / 1000);
    probe.kill('SIGTERM');
    await new Promise((res) => probe.once('exit', res));
    try {
      const p = JSON.parse(probeOut.trim().split('\n').pop()!) as BenchResult;
      run.pingMax = p.ping.max;
      run.pings = p.ping.count;
    } catch {
      run.pingMax = Number.NaN;
    }
    run.brokerCpu = (cpuSeconds(pid) - cpuBefore) / ((Date.now() - t0) / 1000);
    if (broker.exitCode !== null || broker.signalCode !== null) {
      run.crashed = `exited (${broker.exitCode ?? broker.signalCode})${brokerErr.includes('Maximum call stack') ? ': stack overflow' : ''}`;
    }
    if (code !== 0 || out.trim() === '') {
      run.crashed ??= `load generator failed (${code})`;
      return run;
    }
    const result = JSON.parse(out.trim().split('\n').pop()!) as BenchResult;
    run.result = result;
    if (sc.metric === 'connections' && rssHeld > 0 && result.connections.held > 0) {
      run.rssPerConnection = ((rssHeld - rssBefore) * 1024) / result.connections.held;
      if (rssSettled > 0)
        run.rssSettledPerConnection = ((rssSettled - rssQuiet) * 1024) / result.connections.held;
    }
  } catch (err) {
    run.crashed = (err as Error).message;
  } finally {
    if (broker.exitCode === null && broker.signalCode === null) {
      broker.kill('SIGTERM');
      const exited = new Promise((r) => broker.once('exit', r));
      const killer = setTimeout(() => broker.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
  }
  return run;
}

async function main(): Promise<void> {
  if (!pinned)
    process.stderr.write('taskset not found: brokers and load generator are not pinned\n');
  const runs: Run[] = [];
  // Scenario by scenario, every broker in turn: on a shared machine the load drifts
  // over minutes, and a ratio is only fair between runs close together in time.
  for (const sc of scenarios) {
    for (const name of brokers) {
      process.stderr.write(`${name}: ${sc.id} ${sc.title} ... `);
      const run = await runOne(name, sc);
      runs.push(run);
      process.stderr.write(`${run.crashed ?? 'done'}\n`);
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const report = renderReport(runs, scenarios, brokers, (sc) => clientWrites(planOf(sc, 1)), {
    date,
    host: hostname(),
    seconds,
    warmup,
    pinned,
    node: process.version,
    heronNodeFlags: heronNodeFlags ?? launcherNodeFlags(),
    mosquitto: `${mosquittoVersion()}${brokerNagle ? ' with set_tcp_nodelay false (its default)' : ' with set_tcp_nodelay true'}`,
    generator: generatorLine(),
  });
  process.stdout.write(`${report}\n`);
  if (write) {
    const file = join(root, 'bench', 'results', `${date}-${hostname()}.md`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${report}\n`);
    // Keep the committed results in the repository's format (the lint checks bench/).
    spawnSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', file], {
      stdio: 'ignore',
    });
    process.stderr.write(`written to ${file}\n`);
  }
}

/** Which generator ran which scenarios, for the report's header. */
function generatorLine(): string {
  const native = scenarios.filter((sc) => nativeCommand(sc, 1) !== undefined).map((sc) => sc.id);
  const node = scenarios.filter((sc) => !native.includes(sc.id)).map((sc) => sc.id);
  const parts: string[] = [];
  if (native.length > 0)
    parts.push(
      `native C, per packet like libmosquitto (bench/native/loadgen.c) for ${native.join(', ')}`,
    );
  if (node.length > 0) parts.push(`Node (bench/load-worker.ts) for ${node.join(', ')}`);
  return parts.join('; ');
}

function mosquittoVersion(): string {
  const r = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  return /mosquitto version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

await main();
