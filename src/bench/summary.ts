/** Human-readable lines for `heron bench`: the run header, progress and the final summary. */
import type { BenchMode } from './args.js';
import { type BenchPlan, type BenchResult, clientWrites } from './plan.js';
import type { BenchProgress } from './runner.js';

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ms(v: number): string {
  return `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ms`;
}

/** One line saying what runs against what. */
export function describePlan(mode: BenchMode, plan: BenchPlan): string {
  const t = plan.target;
  const ver = t.version === 5 ? '5.0' : t.version === 4 ? '3.1.1' : '3.1';
  const how = clientWrites(plan) === 'packet' ? 'one write per packet' : 'writes batched per turn';
  const where = `${t.host}:${t.port} (${t.transport}, MQTT ${ver}, ${how})`;
  if (mode === 'pub') {
    const p = plan.pub!;
    const rate = p.rate > 0 ? `${fmt.format(p.rate * p.count)} msg/s in total` : 'max rate';
    return `heron bench pub: ${p.count} publisher(s) → ${where}, topic ${p.topic}, QoS ${p.qos}, ${p.size}-byte payload, ${rate}`;
  }
  if (mode === 'sub') {
    const s = plan.sub!;
    return `heron bench sub: ${s.count} subscriber(s) ← ${where}, filter ${s.topic}, QoS ${s.qos}`;
  }
  const c = plan.conn!;
  const rate = c.rate > 0 ? `${fmt.format(c.rate)}/s` : 'as fast as possible';
  return `heron bench conn: ${c.count} connection(s) → ${where}, ${rate}`;
}

/** The line printed every second. */
export function progressLine(p: BenchProgress, latencyP99: number): string {
  const parts = [`${p.elapsed.toFixed(0).padStart(4)}s`];
  if (p.sent > 0) parts.push(`sent ${fmt.format(p.sent)}/s`);
  if (p.received > 0) parts.push(`recv ${fmt.format(p.received)}/s`, `p99 ${ms(latencyP99)}`);
  parts.push(`conns ${fmt.format(p.connected)}`, `errors ${p.errors}`);
  return parts.join('  ');
}

/** The end-of-run summary. */
export function summaryText(r: BenchResult): string {
  const how = r.writes === 'packet' ? 'one write per packet' : 'writes batched per turn';
  const lines = [`Summary (${r.seconds.toFixed(1)} s measured, clients: ${how}):`];
  lines.push(`  sent         ${fmt.format(r.sent)} msgs, ${fmt.format(r.sentPerSecond)} msg/s`);
  if (r.acked > 0) lines.push(`  acknowledged ${fmt.format(r.acked)} msgs`);
  lines.push(
    `  received     ${fmt.format(r.received)} msgs, ${fmt.format(r.receivedPerSecond)} msg/s`,
  );
  const st = r.settled;
  if (st !== undefined)
    lines.push(
      `  settled      ${fmt.format(st.received)} of ${fmt.format(st.acked)} acknowledged deliveries arrived (whole run, after the broker's queues drained)`,
    );
  const l = r.latency;
  if (l.count > 0) {
    lines.push(
      `  latency      p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  max ${ms(l.max)}  (${fmt.format(l.count)} samples)`,
    );
  }
  const c = r.connections;
  lines.push(
    `  connections  ${fmt.format(c.connected)} connected, ${c.failed} failed, ${fmt.format(c.held)} held; ${fmt.format(c.perSecond)} conn/s over ${c.setupSeconds.toFixed(2)} s`,
  );
  if (r.ping.count > 0 || r.ping.max > 0)
    lines.push(`  ping         max PINGRESP delay ${ms(r.ping.max)} (${r.ping.count} pings)`);
  const errs = Object.entries(r.errors);
  lines.push(
    `  errors       ${errs.length === 0 ? 'none' : errs.map(([k, n]) => `${k}: ${n}`).join(', ')}`,
  );
  return lines.join('\n');
}
