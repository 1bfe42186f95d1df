/**
 * `npm run bench:cluster`: cross-node against same-node delivery in a real
 * cluster: redis-server and two Heron nodes (bin/heron.js, each its own
 * process) on loopback. The publisher connects to node A; the subscriber to
 * node A (same-node) or node B (cross-node: every message crosses A's link to
 * B). Both cases run on the same two nodes, alternating, so the ratio compares
 * runs close together in time.
 *
 * Flags: --scenarios q0,q1  --rounds N (default 3)  --duration S (default 5)
 *        --warmup S (default 1)  --persistence (LMDB stores, sync commit)
 *        --per-packet | --batched (client writes; default as bench:compare)
 *        --cross-only (no same-node runs, e.g. to profile the link path alone)
 *        --heron-root DIR (start the nodes from another checkout's bin/heron.js, built:
 *        to compare before/after in one session)
 *        --node-flags '--cpu-prof ...' (node flags for both Heron processes, e.g. to profile)
 *        --rate N (messages per second in all, default 0: as fast as possible; below what
 *        both cases sustain, nothing is dropped and CPU per message compares like for like)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BenchPlan,
  type BenchResult,
  type ClientWrites,
  clientWrites,
  defaultTarget,
} from '../src/bench/plan.js';
import { cpuSeconds, freePort, sleep, waitForPort } from './processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rounds = Number(flag('--rounds') ?? 3);
const seconds = Number(flag('--duration') ?? 5);
const warmup = Number(flag('--warmup') ?? 1);
const persistence = process.argv.includes('--persistence');
const rate = Number(flag('--rate') ?? 0);
const writes: ClientWrites | undefined = process.argv.includes('--batched')
  ? 'batched'
  : process.argv.includes('--per-packet')
    ? 'packet'
    : undefined;
const wanted = (flag('--scenarios') ?? 'q0,q1').split(',');
/** Only the cross-node runs (to profile the link path alone). */
const crossOnly = process.argv.includes('--cross-only');
const nodeFlags = (flag('--node-flags') ?? '').split(' ').filter((f) => f !== '');
const workDir = mkdtempSync(join(tmpdir(), 'heron-cluster-bench-'));

/** Starts one Heron node of the cluster through the launcher, as users start it. */
async function startNode(id: string, port: number, redisPort: number): Promise<ChildProcess> {
  const file = join(workDir, `${id}.conf`);
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'set_tcp_nodelay true',
    'max_inflight_messages 100',
    'max_queued_messages 1000',
    'log_dest none',
    `cluster_redis_url redis://127.0.0.1:${redisPort}`,
    `cluster_node_id ${id}`,
    'cluster_link_listener 0 127.0.0.1',
  ];
  if (persistence) {
    lines.push('persistence true', `persistence_location ${join(workDir, id)}`);
  } else lines.push('persistence false');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const heron = join(flag('--heron-root') ?? root, 'bin/heron.js');
  const child = spawn(process.execPath, [...nodeFlags, heron, '-c', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, child);
  return child;
}

/** One load run: publisher on `pubPort`, subscriber on `subPort`. */
async function runLoad(qos: 0 | 1, pubPort: number, subPort: number): Promise<BenchResult> {
  const topic = `cb/${qos}/${Math.random().toString(36).slice(2, 8)}`;
  const plan: BenchPlan = {
    target: { ...defaultTarget(), port: subPort, clientIdPrefix: `cb-${Date.now()}-` },
    pub: { count: 1, qos, size: 64, topic, rate, inflight: 100, retain: false, port: pubPort },
    sub: { count: 1, qos, topic },
    duration: seconds,
    warmup,
    connectRate: 0,
    pinger: false,
    progress: false,
  };
  if (writes !== undefined) plan.writes = writes;
  const worker = spawn(process.execPath, [join(here, 'load-worker.js'), JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  worker.stderr!.on('data', (d: Buffer) => {
    const t = d.toString();
    if (!t.startsWith('event:')) process.stderr.write(`  [load] ${t}`);
  });
  const code = await new Promise<number>((r) => worker.once('exit', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`load generator failed (${code})`);
  // Let the subscriber's route settle out of the next run (its session ends with it).
  await sleep(300);
  return JSON.parse(out.trim().split('\n').pop()!) as BenchResult;
}

/** Per-node CPU per message as `A + B µs`. */
function us(per: number[] | undefined): string {
  return per === undefined ? '–' : `${per[0]!.toFixed(2)} + ${per[1]!.toFixed(2)} µs`;
}

function k(n: number): string {
  return `${(n / 1000).toFixed(1)}k`;
}

async function main(): Promise<void> {
  const redisPort = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const nodes: ChildProcess[] = [];
  try {
    await waitForPort(redisPort, redis);
    const portA = await freePort();
    const portB = await freePort();
    nodes.push(await startNode('A', portA, redisPort), await startNode('B', portB, redisPort));
    await sleep(500);
    const scenarios = (
      [
        { id: 'q0', qos: 0 },
        { id: 'q1', qos: 1 },
      ] as const
    ).filter((s) => wanted.includes(s.id));
    const rows: string[] = [];
    for (const sc of scenarios) {
      const mode = writes ?? clientWrites({ pub: { qos: sc.qos, rate } } as BenchPlan);
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        // Alternating order: a drift of the machine's load does not favour one side.
        const order = r % 2 === 0 ? ['same', 'cross'] : ['cross', 'same'];
        if (crossOnly) order.splice(order.indexOf('same'), 1);
        const got: Record<string, BenchResult> = {};
        /** Broker CPU (both nodes) per message received, in µs: what a delivery costs, whatever the machine's load. */
        const cpu: Record<string, number[]> = {};
        for (const where of order) {
          process.stderr.write(`QoS ${sc.qos} ${where}-node, round ${r + 1} ... `);
          const before = nodes.map((n) => cpuSeconds(n.pid));
          got[where] = await runLoad(sc.qos, portA, where === 'same' ? portA : portB);
          const x = got[where]!;
          // The whole run (warm-up, set-up) against what was received in it: an upper bound.
          const per = nodes.map(
            (n, i) =>
              ((cpuSeconds(n.pid) - before[i]!) * 1e6) / (x.receivedPerSecond * (seconds + warmup)),
          );
          cpu[where] = per;
          process.stderr.write(
            `${k(x.receivedPerSecond)} msg/s received, ${k(x.sentPerSecond)} sent, CPU/msg A ${per[0]!.toFixed(2)} µs, B ${per[1]!.toFixed(2)} µs\n`,
          );
        }
        const cross = got.cross!;
        const same = got.same ?? cross;
        const ratio = cross.receivedPerSecond / same.receivedPerSecond;
        ratios.push(ratio);
        const settled = (x: BenchResult) =>
          x.settled === undefined ? '' : ` (${x.settled.received}/${x.settled.acked} delivered)`;
        rows.push(
          `| QoS ${sc.qos} 1→1 (${mode}) | ${r + 1} | ${k(same.receivedPerSecond)}${settled(same)} | ${k(cross.receivedPerSecond)}${settled(cross)} | ${ratio.toFixed(2)}× | ${us(cpu.cross)} / ${us(cpu.same)} | ${cross.latency.p50.toFixed(2)} / ${same.latency.p50.toFixed(2)} ms |`,
        );
      }
      const lo = Math.min(...ratios);
      const hi = Math.max(...ratios);
      process.stderr.write(`QoS ${sc.qos}: cross/same ${lo.toFixed(2)}–${hi.toFixed(2)}×\n`);
    }
    process.stdout.write(
      [
        `Cross-node vs same-node, ${seconds} s per run after ${warmup} s warm-up, persistence ${persistence ? 'lmdb (commit)' : 'off'}, Node ${process.version}`,
        '',
        '| scenario | round | same-node msg/s | cross-node msg/s | cross ÷ same | CPU per msg (node A + node B), cross / same | p50 latency cross / same |',
        '|---|---|---|---|---|---|---|',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(
      nodes.map((n) =>
        n.exitCode === null && n.signalCode === null
          ? new Promise((r) => n.once('exit', r))
          : undefined,
      ),
    );
    redis.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
