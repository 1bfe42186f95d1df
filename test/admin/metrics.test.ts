// /metrics in the Prometheus text format, read back and checked against real MQTT activity.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VERSION } from '../../src/version.js';
import { connectRaw } from '../helpers/raw-client.js';
import { type AdminFixture, startAdminFixture, until } from './admin-fixture.js';

interface Scrape {
  values: Map<string, number>;
  types: Map<string, string>;
}

/** Parses the text exposition format: `name{labels} value` lines plus `# TYPE` lines. */
function parse(text: string): Scrape {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
    } else if (line !== '' && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      values.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { values, types };
}

describe('Prometheus metrics', () => {
  let f: AdminFixture;
  const scrape = async (): Promise<Scrape> => {
    const res = await f.http('metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    return parse(await res.text());
  };
  before(async () => {
    f = await startAdminFixture({}, { defaultMetrics: true });
  });
  after(async () => {
    await f.close();
  });

  test('broker figures match MQTT activity', async () => {
    const first = await scrape();
    assert.equal(first.values.get('heron_clients_connected'), 0);
    assert.equal(first.values.get('heron_messages_received_total'), 0);

    const sub = await f.client('m-sub');
    await sub.subscribeAsync(['m/a', 'm/b/#'], { qos: 1 });
    const away = await f.client('m-away', {
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    await away.subscribeAsync('m/a', { qos: 1 });
    await away.endAsync();
    const pub = await f.client('m-pub');
    let received = 0;
    sub.on('message', () => received++);
    for (let i = 0; i < 5; i++) await pub.publishAsync('m/a', `msg ${i}`, { qos: 1 });
    await pub.publishAsync('m/b/c', 'kept', { qos: 0, retain: true });
    await until(() => received === 6);

    const s = f.tb.broker.stats;
    const { values, types } = await scrape();
    assert.equal(values.get('heron_clients_connected'), 2);
    assert.equal(values.get('heron_clients_maximum'), 2, 'm-away left before m-pub came');
    assert.equal(values.get('heron_connections_total'), 3);
    assert.equal(values.get('heron_messages_received_total'), 6);
    assert.equal(values.get('heron_messages_sent_total'), 6);
    assert.equal(values.get('heron_sessions{state="online"}'), 2);
    assert.equal(values.get('heron_sessions{state="offline"}'), 1);
    assert.equal(values.get('heron_subscriptions'), 3);
    assert.equal(values.get('heron_retained_messages'), 1);
    // m-away is offline with QoS 1 subscriptions: its five messages wait in its queue.
    assert.equal(values.get('heron_messages_queued'), 5);
    assert.equal(values.get('heron_bytes_received_total'), s.bytesReceived);
    assert.equal(values.get('heron_packets_received_total'), s.packetsReceived);
    assert.equal(values.get('heron_protocol_errors_total'), 0);
    assert.ok(values.get('heron_uptime_seconds')! >= 0);
    // An embedded broker reports Heron's package version (not a placeholder).
    assert.equal(values.get(`heron_info{version="${VERSION}"}`), 1);
    assert.equal(types.get('heron_messages_received_total'), 'counter');
    assert.equal(types.get('heron_clients_connected'), 'gauge');
  });

  test("retained messages waiting for room in a subscriber's queue are a gauge", async () => {
    const b = f.tb.broker;
    const n = 1100;
    const retain = (i: number, text: string) =>
      b.publish({ topic: `m/w/${i}`, payload: Buffer.from(text), qos: 1, retain: true });
    for (let i = 0; i < n; i++) retain(i, String(i));
    // Never acknowledges: the window and the queue (1,000) fill, the rest waits.
    const c = await connectRaw(f.tb.port, { clientId: 'm-waiting' });
    try {
      await c.subscribe('m/w/#');
      const waiting = b.sessions.get('m-waiting')!.retainedWaiting;
      assert.ok(waiting > 0, 'some retained messages wait');
      assert.equal((await scrape()).values.get('heron_retained_waiting'), waiting);
    } finally {
      c.destroy();
      for (let i = 0; i < n; i++) retain(i, '');
      await until(() => b.sessions.get('m-waiting') === undefined);
    }
  });

  test('scraping the registry directly reads the sessions afresh each time', async () => {
    const read = async () => parse(await f.admin.metrics.registry.metrics()).values;
    const before = (await read()).get('heron_sessions{state="online"}')!;
    const extra = await f.client('m-direct');
    assert.equal((await read()).get('heron_sessions{state="online"}'), before + 1);
    await extra.endAsync();
    await until(() => f.tb.broker.sessions.get('m-direct') === undefined);
    assert.equal((await read()).get('heron_sessions{state="online"}'), before);
  });

  test('broker metrics are prefixed heron_; Node process metrics keep their standard names', async () => {
    const { types, values } = await scrape();
    for (const name of types.keys()) assert.match(name, /^(heron|process|nodejs)_/, name);
    assert.ok(values.get('process_cpu_user_seconds_total')! > 0);
    assert.ok(values.get('process_resident_memory_bytes')! > 0);
    assert.ok(types.has('nodejs_eventloop_lag_seconds'));
    assert.ok(types.has('nodejs_heap_size_used_bytes'));
    assert.equal(types.has('heron_process_cpu_user_seconds_total'), false);
  });
});
