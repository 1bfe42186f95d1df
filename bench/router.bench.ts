/**
 * Router micro-benchmarks: matches per second of the subscription index for the
 * shapes a broker meets (many exact subscriptions, a wildcard-heavy mix, wide
 * fan-out), plus retained lookups and shared-group picks.
 *
 * Topics are decoded from a Buffer for each match, as the broker does with an
 * incoming PUBLISH: a string reused across iterations would have its hash cached
 * by V8 and flatter the Map lookups. "baseline" rows time that same decode plus one
 * plain Map.get, the floor an exact-topic match should approach.
 *
 * Run: npm run bench:router
 */
import { RetainedIndex } from '../src/broker/retained-index.js';
import { SharedGroup } from '../src/broker/shared-group.js';
import { TopicTrie } from '../src/broker/topic-trie.js';

const MIN_MS = Number(process.env.BENCH_MS ?? 700);

/** Deterministic PRNG so runs are comparable. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Packs topics into one buffer with offsets, like PUBLISH packets sitting in socket chunks. */
class TopicFeed {
  readonly buf: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  constructor(topics: string[]) {
    const parts = topics.map((t) => Buffer.from(t, 'utf8'));
    this.buf = Buffer.concat(parts);
    this.starts = new Int32Array(topics.length);
    this.ends = new Int32Array(topics.length);
    let off = 0;
    parts.forEach((p, i) => {
      this.starts[i] = off;
      off += p.length;
      this.ends[i] = off;
    });
  }
  get length(): number {
    return this.starts.length;
  }
  topic(i: number): string {
    return this.buf.toString('utf8', this.starts[i], this.ends[i]);
  }
}

interface Result {
  name: string;
  opsPerSec: number;
  nsPerOp: number;
  perOp: number;
}

/** Runs `batch(n)` (which performs n operations and returns a checksum) until MIN_MS has passed. */
function measure(name: string, batch: (n: number) => number, perOpLabel?: string): Result {
  const n = 10_000;
  for (let i = 0; i < 30; i++) batch(n); // warm up and let the JIT settle
  let ops = 0;
  let sum = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < MIN_MS * 1e6) {
    sum += batch(n);
    ops += n;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  const r: Result = {
    name,
    opsPerSec: (ops / elapsed) * 1e9,
    nsPerOp: elapsed / ops,
    perOp: sum / ops,
  };
  const rate = `${(r.opsPerSec / 1e6).toFixed(2).padStart(7)} M/s`;
  const ns = `${r.nsPerOp.toFixed(0).padStart(6)} ns/op`;
  const extra = perOpLabel ? `  ${r.perOp.toFixed(1)} ${perOpLabel}` : '';
  console.log(`${name.padEnd(58)} ${rate} ${ns}${extra}`);
  return r;
}

function scenarioExact(): void {
  console.log('\n(a) 100k exact subscriptions, no wildcard filters');
  const r = rng(1);
  const trie = new TopicTrie<number>();
  const plain = new Map<string, number>();
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const f = `site/${i % 100}/device/${i}/telemetry`;
    trie.add(f, `client-${i}`, i);
    plain.set(f, i);
  }
  const topics: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const d = Math.floor(r() * N * 1.1); // ~10% of topics have no subscriber
    topics.push(`site/${d % 100}/device/${d}/telemetry`);
  }
  const feed = new TopicFeed(topics);
  const mask = 4095;
  const out: number[] = [];
  let k = 0;
  measure('baseline: decode topic only', (n) => {
    let len = 0;
    for (let i = 0; i < n; i++) len += feed.topic(k++ & mask).length;
    return len;
  });
  measure('baseline: decode topic + one Map.get', (n) => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (plain.get(feed.topic(k++ & mask)) !== undefined) hits++;
    return hits;
  });
  measure(
    'TopicTrie.match, out.length = 0 (decoded topic)',
    (n) => {
      let got = 0;
      for (let i = 0; i < n; i++) {
        out.length = 0;
        got += trie.match(feed.topic(k++ & mask), out);
      }
      return got;
    },
    'subscribers/match',
  );
  measure('TopicTrie.matchInto (decoded topic)', (n) => {
    let got = 0;
    for (let i = 0; i < n; i++) got += trie.matchInto(feed.topic(k++ & mask), out);
    return got;
  });
  measure('TopicTrie.matchInto (same string objects, hash cached)', (n) => {
    let got = 0;
    for (let i = 0; i < n; i++) got += trie.matchInto(topics[k++ & mask]!, out);
    return got;
  });
}

function scenarioWildcard(): void {
  console.log('\n(b) 10k filters mixed: 5k exact, 5k wildcard (+ and #)');
  const r = rng(2);
  const trie = new TopicTrie<number>();
  const SITES = 200;
  const DEVICES = 50;
  for (let i = 0; i < 10_000; i++) {
    const s = Math.floor(r() * SITES);
    const d = Math.floor(r() * DEVICES);
    let f: string;
    const kind = i % 20;
    if (kind < 10) f = `site/${s}/dev${d}/temp`;
    else if (kind < 14) f = `site/${s}/+/temp`;
    else if (kind < 17) f = `site/${s}/dev${d}/#`;
    else if (kind < 18) f = `site/+/dev${d}/+`;
    else if (kind < 19) f = `+/${s}/dev${d}/humidity`;
    else f = `alerts/${s}/#`;
    trie.add(f, `c${i}`, i);
  }
  const topics: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const s = Math.floor(r() * SITES);
    const d = Math.floor(r() * DEVICES);
    const leaf = r() < 0.8 ? 'temp' : 'humidity';
    topics.push(r() < 0.9 ? `site/${s}/dev${d}/${leaf}` : `alerts/${s}/dev${d}/fire`);
  }
  const feed = new TopicFeed(topics);
  const out: number[] = [];
  let k = 0;
  measure(
    'TopicTrie.match, out.length = 0 (decoded topic)',
    (n) => {
      let got = 0;
      for (let i = 0; i < n; i++) {
        out.length = 0;
        got += trie.match(feed.topic(k++ & 4095), out);
      }
      return got;
    },
    'subscribers/match',
  );
  measure('TopicTrie.matchInto (decoded topic)', (n) => {
    let got = 0;
    for (let i = 0; i < n; i++) got += trie.matchInto(feed.topic(k++ & 4095), out);
    return got;
  });
}

function scenarioFanOut(): void {
  console.log('\n(c) 1 topic, 500 subscribers (400 exact + 100 on news/+)');
  const trie = new TopicTrie<number>();
  for (let i = 0; i < 400; i++) trie.add('news/flash', `c${i}`, i);
  for (let i = 400; i < 500; i++) trie.add('news/+', `c${i}`, i);
  const feed = new TopicFeed(['news/flash']);
  const out: number[] = [];
  measure(
    'TopicTrie.match, out.length = 0 (decoded topic)',
    (n) => {
      let got = 0;
      for (let i = 0; i < n; i++) {
        out.length = 0;
        got += trie.match(feed.topic(0), out);
      }
      return got;
    },
    'subscribers/match',
  );
  const r = measure('TopicTrie.matchInto (decoded topic)', (n) => {
    let got = 0;
    for (let i = 0; i < n; i++) got += trie.matchInto(feed.topic(0), out);
    return got;
  });
  console.log(
    `${'  = subscribers collected'.padEnd(58)} ${((r.opsPerSec * 500) / 1e6).toFixed(0)} M/s`,
  );
}

function scenarioRetained(): void {
  console.log('\n(d) retained: 100k messages, one subscribe-time lookup per op');
  const idx = new RetainedIndex<number>();
  for (let i = 0; i < 100_000; i++) idx.set(`site/${i % 1000}/dev${i}/state`, i);
  const out: number[] = [];
  let k = 0;
  measure(
    'RetainedIndex.match site/N/#',
    (n) => {
      let got = 0;
      for (let i = 0; i < n; i++) {
        out.length = 0;
        got += idx.match(`site/${k++ % 1000}/#`, out);
      }
      return got;
    },
    'messages/match',
  );
  measure('RetainedIndex.match exact topic', (n) => {
    let got = 0;
    for (let i = 0; i < n; i++) {
      out.length = 0;
      const d = k++ % 100_000;
      got += idx.match(`site/${d % 1000}/dev${d}/state`, out);
    }
    return got;
  });
}

function scenarioShared(): void {
  console.log('\n(e) shared group of 16 members, one pick per message');
  const accept = (m: number) => (m & 7) !== 3; // two members refuse
  for (const s of ['round_robin', 'sticky', 'hash_clientid', 'hash_topic', 'random'] as const) {
    const g = new SharedGroup<number>('g', 'jobs/+', s);
    for (let i = 0; i < 16; i++) g.add(`w${i}`, i);
    let k = 0;
    measure(`SharedGroup.pick ${s}`, (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += g.pick('jobs/resize', `pub-${k++ & 63}`, accept) ?? 0;
      return sum;
    });
  }
}

/** Scenario letters to run (`node dist/bench/router.bench.js a c`); all when none given. */
const only = process.argv.slice(2);
const scenarios: [string, () => void][] = [
  ['a', scenarioExact],
  ['b', scenarioWildcard],
  ['c', scenarioFanOut],
  ['d', scenarioRetained],
  ['e', scenarioShared],
];
console.log(`node ${process.version}, ${MIN_MS} ms per row`);
for (const [letter, run] of scenarios) if (only.length === 0 || only.includes(letter)) run();
