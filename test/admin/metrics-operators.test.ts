// Operator-facing metrics: per-listener labels, the latency probe's histogram,
// and the shipped Grafana dashboard, whose every queried series must exist.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { startAdmin } from '../../src/admin/server.js';
import { type AdminFixture, startAdminFixture, until } from './admin-fixture.js';

const GRAFANA = new URL('../../../src/admin/grafana/heron-dashboard.json', import.meta.url);

/** Series names (without labels) and `name{labels}` keys of a scrape, with values. */
function parse(text: string): { names: Set<string>; values: Map<string, number> } {
  const names = new Set<string>();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const key = line.slice(0, at);
    values.set(key, Number(line.slice(at + 1)));
    names.add(key.replace(/\{.*$/, ''));
  }
  return { names, values };
}

/** PromQL words that are not series names. */
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'le',
  'instance',
  'listener',
  'state',
  'version',
]);

/** The series names a PromQL expression reads: identifiers not called as functions, outside label matchers and strings. */
function seriesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '');
  const out: string[] = [];
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    if (m[1] !== undefined) continue;
    if (PROMQL_WORDS.has(m[0]) || /^\d/.test(m[0])) continue;
    out.push(m[0]);
  }
  return out;
}

/** Every PromQL expression in a Grafana dashboard: panel targets and query variables. */
function expressions(dashboard: {
  panels: { targets?: { expr: string }[] }[];
  templating: { list: { query: { query: string } | string }[] };
}): string[] {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const inner = /^label_values\(([^,]+),/.exec(q);
    exprs.push(inner ? inner[1]! : q);
  }
  return exprs;
}

describe('operator metrics', () => {
  let f: AdminFixture;
  let tcp: string;
  let ws: string;
  const scrape = async () => parse(await (await f.http('metrics')).text());

  before(async () => {
    f = await startAdminFixture(
      {
        listeners: [
          { port: 0, host: '127.0.0.1', name: 'plain' },
          { port: 0, host: '127.0.0.1', protocol: 'websockets', name: 'browsers' },
        ],
      },
      { defaultMetrics: true },
    );
    const [a, b] = f.tb.broker.addresses();
    tcp = `mqtt://127.0.0.1:${a!.port}`;
    ws = `ws://127.0.0.1:${b!.port}/mqtt`;
  });
  after(async () => {
    await f.close();
  });

  test('connections are labelled by listener', async () => {
    const first = await scrape();
    assert.equal(first.values.get('heron_listener_connections_total{listener="plain"}'), 0);
    assert.equal(first.values.get('heron_listener_connections_total{listener="browsers"}'), 0);
    const clients = await Promise.all([
      mqtt.connectAsync(tcp, { clientId: 'lm-1', reconnectPeriod: 0 }),
      mqtt.connectAsync(ws, { clientId: 'lm-2', reconnectPeriod: 0 }),
      mqtt.connectAsync(ws, { clientId: 'lm-3', reconnectPeriod: 0 }),
    ]);
    try {
      const { values } = await scrape();
      assert.equal(values.get('heron_listener_clients_connected{listener="plain"}'), 1);
      assert.equal(values.get('heron_listener_clients_connected{listener="browsers"}'), 2);
      assert.equal(values.get('heron_listener_connections_open{listener="browsers"}'), 2);
      assert.equal(values.get('heron_listener_connections_total{listener="browsers"}'), 2);
      await clients[2]!.endAsync();
      await until(() => f.tb.broker.stats.connected === 2);
      const later = (await scrape()).values;
      assert.equal(later.get('heron_listener_clients_connected{listener="browsers"}'), 1);
      assert.equal(later.get('heron_listener_connections_total{listener="browsers"}'), 2);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
    }
  });

  test('messages in and out are counted by listener', async () => {
    const before = (await scrape()).values;
    const key = (name: string, listener: string) =>
      `heron_listener_messages_${name}_total{listener="${listener}"}`;
    const at = (v: Map<string, number>, name: string, listener: string) =>
      v.get(key(name, listener)) ?? Number.NaN;
    const browser = await mqtt.connectAsync(ws, { clientId: 'lm-sub', reconnectPeriod: 0 });
    const device = await mqtt.connectAsync(tcp, { clientId: 'lm-pub', reconnectPeriod: 0 });
    try {
      let got = 0;
      browser.on('message', () => got++);
      await browser.subscribeAsync('lm/#', { qos: 1 });
      for (let i = 0; i < 3; i++) await device.publishAsync(`lm/${i}`, 'x', { qos: 1 });
      await until(() => got === 3);
      const after = (await scrape()).values;
      assert.equal(at(after, 'received', 'plain') - at(before, 'received', 'plain'), 3);
      assert.equal(at(after, 'sent', 'browsers') - at(before, 'sent', 'browsers'), 3);
      assert.equal(at(after, 'received', 'browsers'), at(before, 'received', 'browsers'));
      assert.equal(at(after, 'sent', 'plain'), at(before, 'sent', 'plain'));
      const { body } = await f.json<{
        items: { name: string; messagesReceived: number; messagesSent: number }[];
      }>('api/v1/listeners');
      const plain = body.items.find((l) => l.name === 'plain')!;
      assert.equal(plain.messagesReceived, at(after, 'received', 'plain'));
      assert.equal(
        body.items.find((l) => l.name === 'browsers')!.messagesSent,
        at(after, 'sent', 'browsers'),
      );
    } finally {
      await Promise.all([browser.endAsync(true), device.endAsync(true)]);
    }
  });

  test('the latency probe fills the publish→delivery histogram through a real listener', async () => {
    const probed = await startAdminFixture({});
    try {
      const admin = await startAdmin(probed.tb.broker, {
        port: 0,
        defaultMetrics: false,
        latencyProbe: { url: probed.tb.url, intervalMs: 50 },
      });
      try {
        const count = async (): Promise<number> => {
          const res = await fetch(`${admin.address().url}metrics`);
          return parse(await res.text()).values.get('heron_delivery_latency_seconds_count') ?? 0;
        };
        await until(async () => (await count()) >= 3, 5000);
        const text = await (await fetch(`${admin.address().url}metrics`)).text();
        const { values } = parse(text);
        const sum = values.get('heron_delivery_latency_seconds_sum')!;
        assert.ok(sum > 0, 'each probe took some time');
        assert.equal(
          values.get('heron_delivery_latency_seconds_bucket{le="+Inf"}'),
          values.get('heron_delivery_latency_seconds_count'),
        );
        // The probe is a real client of the broker, and its topic stays out of '#'.
        assert.ok(
          [...probed.tb.broker.sessions.keys()].some((id) => id.startsWith('heron-latency-probe-')),
        );
        const spy = await probed.client('probe-spy');
        let seen = 0;
        spy.on('message', () => seen++);
        await spy.subscribeAsync('#');
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(seen, 0);
      } finally {
        await admin.close();
      }
      assert.equal(
        [...probed.tb.broker.sessions.keys()].some((id) => id.startsWith('heron-latency-probe-')),
        false,
        'closing the admin server ends the probe',
      );
    } finally {
      await probed.close();
    }
  });

  test('every series the shipped Grafana dashboard queries exists in /metrics', async () => {
    const dashboard = JSON.parse(await readFile(GRAFANA, 'utf8'));
    const exprs = expressions(dashboard);
    assert.ok(exprs.length >= 20, `${exprs.length} expressions`);
    const { names } = await scrape();
    const missing = new Set<string>();
    let checked = 0;
    for (const e of exprs) {
      for (const series of seriesOf(e)) {
        checked++;
        if (!names.has(series)) missing.add(series);
      }
    }
    assert.deepEqual([...missing], [], 'series queried by the dashboard but not exported');
    assert.ok(checked >= exprs.length);
    // The parser must see through functions and label matchers, or the check above is empty.
    assert.deepEqual(
      seriesOf('histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y"}[5m]))) / b'),
      ['a_bucket', 'b'],
    );
  });
});
