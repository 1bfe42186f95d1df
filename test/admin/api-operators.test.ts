// The operator endpoints (client filters and page, shared groups, retained
// delete, history, cross-site refusal) over real HTTP with real MQTT.js clients.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AdminFixture, postJson, startAdminFixture, until } from './admin-fixture.js';

interface PageBody<T> {
  total: number;
  items: T[];
}
type Row = Record<string, unknown>;

describe('admin API for operators', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdminFixture({ sysInterval: 1 }, { historyIntervalMs: 100 });
  });
  after(async () => {
    await f.close();
  });

  test('clients filter by state, listener, user name and protocol version', async () => {
    await f.client('flt-a', { username: 'ops', protocolVersion: 4 });
    await f.client('flt-b', { username: 'dev' });
    const away = await f.client('flt-away', {
      username: 'ops',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    await away.endAsync();
    await until(() => f.tb.broker.sessions.get('flt-away')?.online !== true);
    const ids = async (query: string): Promise<string[]> => {
      const r = await f.json<PageBody<Row>>(`api/v1/clients?q=flt-&${query}`);
      assert.equal(r.status, 200, query);
      return r.body.items.map((c) => String(c.clientId)).sort();
    };
    assert.deepEqual(await ids(''), ['flt-a', 'flt-b']);
    assert.deepEqual(await ids('state=offline'), ['flt-away']);
    assert.deepEqual(await ids('state=all'), ['flt-a', 'flt-away', 'flt-b']);
    assert.deepEqual(await ids('state=all&username=ops'), ['flt-a', 'flt-away']);
    assert.deepEqual(await ids('protocol=4'), ['flt-a']);
    const listener = String(
      (await f.json<PageBody<Row>>('api/v1/clients?q=flt-a')).body.items[0]!.listener,
    );
    assert.deepEqual(await ids(`listener=${encodeURIComponent(listener)}`), ['flt-a', 'flt-b']);
    assert.deepEqual(await ids('listener=nope'), []);
    const offline = (await f.json<PageBody<Row>>('api/v1/clients?state=offline&q=flt-')).body
      .items[0]!;
    assert.equal(offline.connected, false);
    assert.equal(offline.sessionExpiry, 300);
    assert.equal((await f.json('api/v1/clients?state=gone')).status, 400);
    assert.equal((await f.json('api/v1/clients?protocol=6')).status, 400);
  });

  test('the client page data: will, traffic, counts; offline sessions too', async () => {
    const c = await f.client('detail-1', {
      will: { topic: 'wills/detail-1', payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    await c.subscribeAsync('detail/#', { qos: 1 });
    await c.publishAsync('detail/x', 'hello', { qos: 1 });
    const r = await f.json<Row>(`api/v1/clients/detail-1`);
    assert.equal(r.status, 200);
    const client = r.body.client as Row;
    assert.equal(client.connected, true);
    assert.equal(client.subscriptions, 1);
    assert.deepEqual(r.body.will, {
      topic: 'wills/detail-1',
      qos: 1,
      retain: false,
      payload: 'gone',
      size: 4,
      delay: 0,
      pending: false,
    });
    assert.ok((r.body.bytesIn as number) > 20, 'CONNECT, SUBSCRIBE and PUBLISH were read');
    assert.ok((r.body.bytesOut as number) > 5);
    assert.equal((r.body.subscriptions as Row[])[0]!.filter, 'detail/#');
  });

  test('filters group subscriptions; shared groups list their members', async () => {
    const w1 = await f.client('grp-w1');
    const w2 = await f.client('grp-w2');
    const solo = await f.client('grp-solo');
    await w1.subscribeAsync('$share/workers/grp/jobs/#', { qos: 1 });
    await w2.subscribeAsync('$share/workers/grp/jobs/#', { qos: 0 });
    await solo.subscribeAsync('grp/jobs/#', { qos: 0 });
    const r = await f.json<PageBody<Row>>('api/v1/filters?q=grp/');
    assert.equal(r.body.total, 2);
    const shared = r.body.items.find((x) => x.shareGroup === 'workers')!;
    assert.equal(shared.filter, 'grp/jobs/#');
    assert.equal(shared.subscribers, 2);
    assert.deepEqual((shared.members as Row[]).map((m) => `${m.clientId}:${m.qos}`).sort(), [
      'grp-w1:1',
      'grp-w2:0',
    ]);
    const plain = r.body.items.find((x) => x.shareGroup === null)!;
    assert.deepEqual(plain.members, [{ clientId: 'grp-solo', qos: 0, online: true }]);
    const onlyShared = await f.json<PageBody<Row>>('api/v1/filters?q=grp/&shared=true');
    assert.equal(onlyShared.body.total, 1);
  });

  test('retained: DELETE removes one (subscribers see it go); $SYS is counted apart', async () => {
    await until(() => f.tb.broker.retained.get('$SYS/broker/uptime') !== undefined);
    const watcher = await f.client('ret-watch');
    await watcher.subscribeAsync('ret/#', { qos: 1 });
    const pub = await f.client('ret-pub');
    await pub.publishAsync('ret/lamp', 'on', { qos: 1, retain: true });
    await until(() => f.tb.broker.retained.get('ret/lamp') !== undefined);
    const stats = (await f.json<Row>('api/v1/stats')).body;
    const user = (await f.json<PageBody<Row>>('api/v1/topics')).body.total;
    const sys = (await f.json<PageBody<Row>>('api/v1/topics?filter=%24SYS%2F%23')).body.total;
    assert.ok(sys > 5);
    assert.equal(stats.retained, user, 'the card counts what the list shows');
    assert.equal(stats.retainedSys, sys);
    const cleared = new Promise<number>((resolve) =>
      watcher.on('message', (t, p) => t === 'ret/lamp' && resolve(p.length)),
    );
    const del = await f.json<Row>(`api/v1/topics?topic=${encodeURIComponent('ret/lamp')}`, {
      method: 'DELETE',
    });
    assert.deepEqual(del, { status: 200, body: { topic: 'ret/lamp', deleted: true } });
    assert.equal(await cleared, 0);
    assert.equal(f.tb.broker.retained.get('ret/lamp'), undefined);
    assert.equal(
      (await f.json('api/v1/topics?topic=ret%2Flamp', { method: 'DELETE' })).status,
      404,
    );
    const sysDel = await f.json('api/v1/topics?topic=%24SYS%2Fbroker%2Fuptime', {
      method: 'DELETE',
    });
    assert.equal(sysDel.status, 400);
  });

  test('history keeps rates sampled before anyone asked', async () => {
    const pub = await f.client('hist-pub');
    for (let i = 0; i < 30; i++) await pub.publishAsync('hist/x', String(i), { qos: 1 });
    await new Promise((r) => setTimeout(r, 250));
    const h = await f.json<{ intervalMs: number; capacity: number; samples: Row[] }>(
      'api/v1/history',
    );
    assert.equal(h.body.intervalMs, 100);
    assert.equal(h.body.capacity, 36000);
    assert.ok(
      h.body.samples.some((s) => (s.in as number) > 0),
      'a sample saw the publishes',
    );
    const last = h.body.samples.at(-1)!.t as number;
    const later = await f.json<{ samples: Row[] }>(`api/v1/history?since=${last}`);
    assert.ok(later.body.samples.every((s) => (s.t as number) > last));
  });

  test('cross-site browser requests are refused (Origin, Sec-Fetch-Site); tools pass', async () => {
    const evil = await f.http('api/v1/publish', {
      ...postJson({ topic: 'x', payload: 'y' }),
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.match(((await evil.json()) as Row).error as string, /cross-site/);
    const site = await f.http('api/v1/stats', { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(site.status, 403);
    const sameSite = await f.http('api/v1/stats', { headers: { 'sec-fetch-site': 'same-site' } });
    assert.equal(sameSite.status, 403, 'another port on the same host is another site');
    const own = new URL(f.base).host;
    const ok = await f.http('api/v1/stats', {
      headers: { origin: `http://${own}`, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(ok.status, 200);
    assert.equal(
      (await f.http('metrics', { headers: { origin: 'http://evil.example' } })).status,
      403,
    );
    assert.equal((await f.http('api/v1/stats')).status, 200, 'curl sends neither header');
  });
});
