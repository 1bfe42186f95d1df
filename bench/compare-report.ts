/** Renders the results of `npm run bench:compare` as one Markdown report. */
import type { BenchResult, ClientWrites } from '../src/bench/plan.js';
import type { Scenario } from './compare-scenarios.js';

/** One broker × scenario run. */
export interface Run {
  broker: string;
  scenario: string;
  result?: BenchResult;
  /** Why there is no result (broker crash, load generator failure). */
  crashed?: string;
  /** CPU share the broker used during the run (1 = one full core). */
  brokerCpu?: number;
  /** CPU share the load generator used (1 = one core): near 1, the generator and not the broker sets the pace. */
  loadCpu?: number;
  /** Largest PINGREQ → PINGRESP delay of the probe client, ms (NaN: the probe failed). */
  pingMax?: number;
  pings?: number;
  /** Broker RSS growth per held connection 4 s after the last CONNACK (from the fresh broker's RSS), bytes. */
  rssPerConnection?: number;
  /** The same 30 s after the last CONNACK, from the broker's RSS after it sat idle before the storm, bytes. */
  rssSettledPerConnection?: number;
}

/** Facts about the run printed above the table. */
export interface ReportInfo {
  date: string;
  host: string;
  seconds: number;
  warmup: number;
  pinned: boolean;
  node: string;
  /** The node flags Heron ran with (the launcher's defaults or --heron-node-flags). */
  heronNodeFlags: string;
  mosquitto: string;
  /** Which load generator ran which scenarios. */
  generator: string;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

interface Row {
  label: string;
  value(r: Run): number | undefined;
  format(v: number): string;
  lowerIsBetter: boolean;
}

function rowsFor(sc: Scenario): Row[] {
  const res = (f: (r: BenchResult) => number) => (run: Run) =>
    run.result === undefined ? undefined : f(run.result);
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
  if (sc.metric === 'delivered') {
    const delivered: Row = {
      label: 'delivered msg/s',
      value: res((r) => r.receivedPerSecond),
      format: (v) => int.format(v),
      lowerIsBetter: false,
    };
    if (sc.acked !== true) return [delivered];
    // What publishers were told was delivered, against what subscribers got:
    // a broker that acknowledges and then drops shows a ratio below 100 %.
    return [
      delivered,
      {
        label: 'acknowledged msg/s',
        value: res((r) => r.acked / (r.seconds > 0 ? r.seconds : 1)),
        format: (v) => int.format(v),
        lowerIsBetter: false,
      },
      {
        // Whole run, after the broker's queues drained: exact, unlike a ratio of two
        // rates whose windows end with messages still queued.
        label: 'delivered ÷ acknowledged (settled)',
        value: res((r) =>
          r.settled !== undefined && r.settled.acked > 0
            ? r.settled.received / r.settled.acked
            : r.acked > 0
              ? r.received / r.acked
              : 0,
        ),
        format: (v) => `${(v * 100).toFixed(2)} %`,
        lowerIsBetter: false,
      },
    ];
  }
  if (sc.metric === 'latency')
    return [
      { label: 'p50', value: res((r) => r.latency.p50), format: ms, lowerIsBetter: true },
      { label: 'p99', value: res((r) => r.latency.p99), format: ms, lowerIsBetter: true },
    ];
  return [
    {
      label: 'connections/s',
      value: res((r) => r.connections.perSecond),
      format: (v) => int.format(v),
      lowerIsBetter: false,
    },
    {
      label: 'held',
      value: res((r) => r.connections.held),
      format: (v) => int.format(v),
      lowerIsBetter: false,
    },
    {
      label: 'RSS per connection, 4 s after the last CONNACK',
      value: (run) => run.rssPerConnection,
      format: (v) => `${(v / 1024).toFixed(2)} KB`,
      lowerIsBetter: true,
    },
    {
      label: 'RSS per connection, settled (30 s)',
      value: (run) => run.rssSettledPerConnection,
      format: (v) => `${(v / 1024).toFixed(2)} KB`,
      lowerIsBetter: true,
    },
  ];
}

function cell(run: Run | undefined, row: Row): string {
  if (run === undefined) return '–';
  if (run.crashed !== undefined) return `**crashed** (${run.crashed})`;
  const v = row.value(run);
  return v === undefined ? 'n/a' : row.format(v);
}

function ratio(heron: Run | undefined, other: Run | undefined, row: Row): string {
  if (heron === undefined || other === undefined) return '–';
  if (other.crashed !== undefined) return `${other.broker} crashed`;
  const h = heron.crashed === undefined ? row.value(heron) : undefined;
  const o = row.value(other);
  if (h === undefined || o === undefined || o === 0 || h === 0) return 'n/a';
  return `${(h / o).toFixed(2)}×`;
}

/** The report: header, results table, health table (ping delay, CPU, errors). */
export function renderReport(
  runs: Run[],
  scenarios: Scenario[],
  brokers: string[],
  writesOf: (sc: Scenario) => ClientWrites,
  info: ReportInfo,
): string {
  const find = (b: string, s: string) => runs.find((r) => r.broker === b && r.scenario === s);
  const others = brokers.filter((b) => b !== 'heron');
  const lines: string[] = [];
  lines.push(`# Broker comparison, ${info.date} on ${info.host}`);
  lines.push('');
  lines.push(
    `Clients: "per packet" scenarios write every acknowledgement and every QoS 1/2 PUBLISH with its own write(), as MQTT.js, Paho and libmosquitto do, on TCP_NODELAY sockets (every write its own TCP segment, the worst case for a broker); "per packet, Nagle on" ones (n…) leave Nagle's algorithm on, as those libraries do by default, so a write made while an earlier segment is unacknowledged shares the next segment; "batched" ones write each connection's packets once per event-loop turn.`,
  );
  lines.push('');
  lines.push(`Load generator: ${info.generator}.`);
  lines.push('');
  lines.push(
    `Node ${info.node} (Heron: bin/heron.js, node flags ${info.heronNodeFlags === '' ? 'none' : `\`${info.heronNodeFlags}\``}), Mosquitto ${info.mosquitto}; ${info.seconds} s measured after ${info.warmup} s warm-up per scenario; ${info.pinned ? 'broker pinned to CPU 0, load generator to CPU 1' : 'not pinned (no taskset)'}. Ratios are Heron ÷ other: above 1 is better for throughput, below 1 is better for latency and memory.`,
  );
  lines.push('');
  const head = [
    '#',
    'Scenario',
    'Clients',
    'Metric',
    ...brokers,
    ...others.map((o) => `Heron ÷ ${o}`),
  ];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map(() => '---').join('|')}|`);
  for (const sc of scenarios) {
    for (const row of rowsFor(sc)) {
      let how = writesOf(sc) === 'packet' ? 'per packet' : 'batched';
      if (sc.plan(0, 0, 0).target.nagle) how += ', Nagle on';
      const cells = [sc.id, sc.title, how, row.label];
      for (const b of brokers) cells.push(cell(find(b, sc.id), row));
      for (const o of others) cells.push(ratio(find('heron', sc.id), find(o, sc.id), row));
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  lines.push('');
  lines.push(
    'Health during each run: max PINGREQ → PINGRESP delay seen by a probe client (pinging every 100 ms), broker CPU and load-generator CPU (1.00 = one core; a generator near 1.00 limits every broker alike), load-generator errors.',
  );
  lines.push('');
  const hh = ['#', ...brokers.map((b) => `${b} ping max / CPU / load CPU / errors`)];
  lines.push(`| ${hh.join(' | ')} |`);
  lines.push(`|${hh.map(() => '---').join('|')}|`);
  for (const sc of scenarios) {
    const cells = [sc.id];
    for (const b of brokers) {
      const run = find(b, sc.id);
      if (run === undefined) cells.push('–');
      else if (run.result === undefined) cells.push(`crashed (${run.crashed ?? '?'})`);
      else {
        const errs = Object.values(run.result.errors).reduce((a, n) => a + n, 0);
        cells.push(
          `${(run.pingMax ?? Number.NaN).toFixed(1)} ms / ${(run.brokerCpu ?? 0).toFixed(2)} / ${(run.loadCpu ?? 0).toFixed(2)} / ${errs}`,
        );
      }
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
