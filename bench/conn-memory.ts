/**
 * Memory per idle connection, measured inside the broker process: a broker
 * configured like `npm run bench:compare`'s, N idle clients (keep alive 300 s)
 * from a `heron bench conn` child process, then V8 heap (after GC), external
 * memory and RSS growth divided by N. Run with --expose-gc:
 *
 *   node --expose-gc --max-semi-space-size=4 dist/bench/conn-memory.js [N=15000] [--snapshot]
 *
 * (`--max-semi-space-size=4` is what bin/heron.js starts the broker with; leave it
 * out to see Node's default young generation.)
 *
 * `--settle S` also reads RSS after S seconds idle without a forced GC (V8's
 * memory reducer runs some seconds after the storm ends, as in a broker an
 * operator watches).
 *
 * `--snapshot` also counts the objects that grew, by constructor (from two heap
 * snapshots), to see which ones each connection costs. `--alloc` samples every
 * allocation during the connect storm, garbage included (V8's sampling heap
 * profiler), and prints the functions that allocate most per connection: the
 * storm's garbage is what grows the young generation and old space.
 */
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { createBroker } from '../src/broker/broker.js';
import { brokerOptionsFromConfig } from '../src/cli/broker-options.js';
import { parseConfigText } from '../src/config/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const count = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 15_000);
const snapshot = process.argv.includes('--snapshot');
const alloc = process.argv.includes('--alloc');
const settleAt = process.argv.indexOf('--settle');
const settleSeconds = settleAt > 0 ? Number(process.argv[settleAt + 1]) : 0;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function settle(): void {
  for (let i = 0; i < 4; i++) gc!();
}

function sample(): {
  heap: number;
  heapTotal: number;
  external: number;
  rss: number;
  newSpace: number;
} {
  const m = process.memoryUsage();
  const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    heap: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external + m.arrayBuffers,
    rss: m.rss,
    newSpace: ns?.space_size ?? 0,
  };
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Posts one inspector command and resolves with its result. */
function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((res, rej) =>
    session.post(method, params, (err, result) => (err ? rej(err) : res(result as T))),
  );
}

/** Bytes allocated per function (self size), from a sampling heap profile. */
function allocationSites(root: SamplingNode): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (n: SamplingNode, caller: string): void => {
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(dist|node_modules)\//, '').replace(/^node:/, '');
    let key = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    // Builtins (Map, Array push...) have no script: name them by their caller.
    if (f.url === '') key = `${f.functionName || '(builtin)'} < ${caller}`;
    out.set(key, (out.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, f.url === '' ? caller : key);
  };
  walk(root, '(root)');
  return out;
}

/** Objects by constructor name in a heap snapshot (node counts and self sizes). */
async function census(): Promise<Map<string, { n: number; size: number }>> {
  const chunks: string[] = [];
  for await (const c of v8.getHeapSnapshot()) chunks.push(String(c));
  const snap = JSON.parse(chunks.join('')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: [string[]];
        edge_fields: string[];
        edge_types: [string[]];
      };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const ef = snap.snapshot.meta.edge_fields;
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const nf = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const iEdges = f.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const out = new Map<string, { n: number; size: number }>();
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const type = types[snap.nodes[i + iType]!];
    const name = snap.strings[snap.nodes[i + iName]!]!.slice(0, 40);
    // Plain objects are told apart by their first property names.
    const props: string[] = [];
    const edges = snap.nodes[i + iEdges]!;
    for (let e = 0; e < edges; e++, edge += ef.length) {
      if (name !== 'Object' || props.length >= 4) continue;
      if (edgeTypes[snap.edges[edge + eType]!] !== 'property') continue;
      props.push(snap.strings[snap.edges[edge + eName]!]!);
    }
    const key = `${type}:${name}${props.length > 0 ? ` {${props.join(',')}}` : ''}`;
    const e = out.get(key) ?? { n: 0, size: 0 };
    e.n++;
    e.size += snap.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

const conf = ['listener 1883 127.0.0.1', 'allow_anonymous true', 'set_tcp_nodelay true'];
conf.push('max_inflight_messages 100', 'max_queued_messages 1000', 'persistence false');
conf.push('log_dest none', 'sys_interval 0', '');
const options = brokerOptionsFromConfig(parseConfigText(conf.join('\n'), 'conn.conf'), 'bench');
// Port 0 in a config file means "no port": the listener is set here instead.
const broker = createBroker({ ...options, listeners: [{ port: 0, host: '127.0.0.1' }] });
const [addr] = await broker.listen();
await new Promise((r) => setTimeout(r, 200));
settle();
const before = sample();
const censusBefore = snapshot ? await census() : undefined;
const inspector = alloc ? new Session() : undefined;
if (inspector !== undefined) {
  inspector.connect();
  await post(inspector, 'HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const t0 = Date.now();
const args = ['bench', 'conn', '-c', String(count), '-p', String(addr!.port), '-k', '300'];
args.push('-D', '0', '--prefix', 'mem-', '--no-pinger', '--json');
const clients = spawn(
  'bash',
  ['-c', `ulimit -n 20000; exec "$0" "$@"`, process.execPath, join(root, 'bin/heron.js'), ...args],
  { stdio: 'ignore' },
);
while (broker.stats.connected < count) {
  if (clients.exitCode !== null) throw new Error(`clients exited (${clients.exitCode})`);
  await new Promise((r) => setTimeout(r, 50));
}
const connectMs = Date.now() - t0;
const profile =
  inspector === undefined
    ? undefined
    : (await post<{ profile: { head: SamplingNode } }>(inspector, 'HeapProfiler.stopSampling'))
        .profile;
const grown = sample();
// What bench:compare reads: RSS 4 s after the last CONNACK, before any forced GC.
await new Promise((r) => setTimeout(r, 4000));
const idle = sample();
const spaces = v8
  .getHeapSpaceStatistics()
  .filter((s) => s.space_size > 4 * 2 ** 20)
  .map(
    (s) =>
      `${s.space_name} ${(s.space_size / 2 ** 20).toFixed(0)}/${(s.space_used_size / 2 ** 20).toFixed(0)} MB`,
  );
let settled: ReturnType<typeof sample> | undefined;
if (settleSeconds > 0) {
  await new Promise((r) => setTimeout(r, settleSeconds * 1000 - 4000));
  settled = sample();
}
settle();
const after = sample();
const per = (a: number, b: number): string => `${((a - b) / count).toFixed(0)} B`;
console.log(`node flags: ${process.execArgv.join(' ')}`);
console.log(
  `${count} idle connections in ${connectMs} ms (${((count * 1000) / connectMs).toFixed(0)}/s)`,
);
console.log(
  `RSS after 4 s   ${per(idle.rss, before.rss)} per connection (${spaces.join(', ')}: size/used)`,
);
if (settled !== undefined)
  console.log(
    `RSS after ${settleSeconds} s  ${per(settled.rss, before.rss)} per connection (heap used ${per(settled.heap, before.heap)}, heap reserved ${per(settled.heapTotal, before.heapTotal)})`,
  );
console.log(
  `heap after GC   ${per(after.heap, before.heap)} per connection (reserved ${per(after.heapTotal, before.heapTotal)})`,
);
console.log(`external        ${per(after.external, before.external)} per connection`);
console.log(`RSS after GC    ${per(after.rss, before.rss)} per connection`);
console.log(
  `new space       ${(before.newSpace / 2 ** 20).toFixed(1)} → ${(grown.newSpace / 2 ** 20).toFixed(1)} MB during the storm, ${(after.newSpace / 2 ** 20).toFixed(1)} MB after GC`,
);
if (censusBefore !== undefined) {
  const censusAfter = await census();
  const rows: [string, number, number][] = [];
  for (const [k, v] of censusAfter) {
    const b = censusBefore.get(k) ?? { n: 0, size: 0 };
    const dn = v.n - b.n;
    if (dn >= count * 0.9) rows.push([k, dn / count, (v.size - b.size) / count]);
  }
  rows.sort((a, b) => b[2] - a[2]);
  for (const [k, n, size] of rows)
    console.log(`  ${size.toFixed(0).padStart(5)} B  ×${n.toFixed(2)}  ${k}`);
}
if (profile !== undefined) {
  const sites = [...allocationSites(profile.head)].sort((a, b) => b[1] - a[1]);
  const total = sites.reduce((sum, [, n]) => sum + n, 0);
  console.log(`allocated during the storm: ${(total / count).toFixed(0)} B per connection`);
  for (const [site, n] of sites.slice(0, 40))
    console.log(`  ${(n / count).toFixed(0).padStart(5)} B  ${site}`);
}
clients.kill('SIGTERM');
await broker.close();
process.exit(0);
