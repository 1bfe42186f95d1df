// The admin HTTP API over real HTTP against a broker with real MQTT.js clients.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IDisconnectPacket } from 'mqtt';
import { type AdminFixture, postJson, startAdminFixture, until } from './admin-fixture.js';

interface PageBody<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}
type Row = Record<string, unknown>;

describe('admin HTTP API', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdminFixture();
  });
  after(async () => {
    await f.close();
  });

  test('GET /healthz answers ok; unknown paths are 404 JSON; wrong methods are 405', async () => {
    assert.deepEqual(await f.json('healthz'), { status: 200, body: { status: 'ok' } });
    const nope = await f.json('api/v1/nope');
    assert.equal(nope.status, 404);
    assert.match(String(nope.body.error), /no such endpoint/);
    assert.equal((await f.http('api/v2/stats')).status, 404);
    assert.equal((await f.http('no-such-file.txt')).status, 404);
    const wrong = await f.http('api/v1/stats', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET');
  });

  test('GET /api/v1/stats counts connections, sessions, subscriptions, messages and retained', async () => {
    const before = (await f.json<Row>('api/v1/stats')).body as {
      connections: { current: number; total: number };
      messages: { received: number };
      bytes: { received: number };
    };
    const a = await f.client('stats-a');
    const b = await f.client('stats-b', {
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    await b.subscribeAsync(['stats/x', 'stats/y'], { qos: 1 });
    await a.publishAsync('stats/x', 'one', { qos: 1, retain: true });
    await a.publishAsync('stats/y', 'two', { qos: 1 });
    await b.endAsync();
    await until(() => f.tb.broker.stats.connected === before.connections.current + 1);
    const { status, body } = await f.json<Row>('api/v1/stats');
    assert.equal(status, 200);
    const s = body as typeof before & {
      uptime: number;
      retained: number;
      sessions: { total: number; online: number; offline: number };
      subscriptions: number;
      errors: { protocol: number };
    };
    assert.equal(s.connections.current, before.connections.current + 1);
    assert.equal(s.connections.total, before.connections.total + 2);
    assert.equal(s.messages.received, before.messages.received + 2);
    assert.ok(s.bytes.received > before.bytes.received);
    assert.ok(s.retained >= 1);
    assert.ok(s.sessions.offline >= 1, 'stats-b is offline but persistent');
    assert.equal(s.sessions.total, s.sessions.online + s.sessions.offline);
    assert.ok(s.subscriptions >= 2);
    assert.equal(typeof s.uptime, 'number');
    assert.equal(s.errors.protocol, 0);
  });

  test('GET /api/v1/clients lists connected clients with their details, paged and filtered', async () => {
    await f.client('list-v5', { username: 'operator', keepalive: 42 });
    await f.client('list-v4', { protocolVersion: 4 });
    await f.client('list-v3', { protocolVersion: 3, protocolId: 'MQIsdp' });
    const all = await f.json<PageBody<Row>>('api/v1/clients?q=list-');
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 3);
    const byId = new Map(all.body.items.map((c) => [c.clientId, c]));
    const v5 = byId.get('list-v5')!;
    assert.equal(v5.username, 'operator');
    assert.equal(v5.protocolVersion, 5);
    assert.equal(v5.keepalive, 42);
    assert.equal(v5.address, '127.0.0.1');
    assert.equal(typeof v5.port, 'number');
    assert.ok(Date.now() - Date.parse(String(v5.connectedAt)) < 60_000);
    assert.equal(v5.inflight, 0);
    assert.equal(v5.queued, 0);
    assert.equal(byId.get('list-v4')!.protocolVersion, 4);
    assert.equal(byId.get('list-v3')!.protocolVersion, 3);
    assert.equal(byId.get('list-v4')!.username, null);

    const page = await f.json<PageBody<Row>>('api/v1/clients?q=list-&offset=1&limit=1');
    assert.equal(page.body.total, 3);
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.items[0]!.clientId, all.body.items[1]!.clientId);
    const byUser = await f.json<PageBody<Row>>('api/v1/clients?q=operator');
    assert.deepEqual(
      byUser.body.items.map((c) => c.clientId),
      ['list-v5'],
    );
  });

  test('paging parameters are validated (400)', async () => {
    for (const q of ['limit=-1', 'limit=abc', 'offset=1.5', 'limit=100000']) {
      const r = await f.json(`api/v1/clients?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(String(r.body.error), /limit|offset/);
    }
    assert.equal((await f.json('api/v1/sessions?online=maybe')).status, 400);
  });

  test('GET /api/v1/clients/:id shows one client with its subscriptions; unknown is 404', async () => {
    const c = await f.client('dev/with/slashes');
    await c.subscribeAsync({ 'home/+/temp': { qos: 1 }, '$share/g/jobs/#': { qos: 2 } });
    const r = await f.json<{ client: Row; subscriptions: Row[] }>(
      `api/v1/clients/${encodeURIComponent('dev/with/slashes')}`,
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.client.clientId, 'dev/with/slashes');
    assert.equal(r.body.client.subscriptions, 2);
    const subs = new Map(r.body.subscriptions.map((s) => [s.filter, s]));
    assert.equal(subs.get('home/+/temp')!.qos, 1);
    assert.equal(subs.get('$share/g/jobs/#')!.shareGroup, 'g');
    assert.equal(subs.get('$share/g/jobs/#')!.qos, 2);
    const missing = await f.json('api/v1/clients/nobody-here');
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /no client or session/);
    assert.equal((await f.json('api/v1/clients/%E0%A4%A')).status, 400);
  });

  test('DELETE /api/v1/clients/:id disconnects the client with v5 reason 0x98 and publishes its will', async () => {
    const watcher = await f.client('kick-watcher');
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    const wills: string[] = [];
    watcher.on('message', (topic, payload) => wills.push(`${topic}=${payload}`));
    const victim = await f.client('kick-victim', {
      will: { topic: 'wills/kick-victim', payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    const seen = new Promise<IDisconnectPacket>((resolve) => victim.once('disconnect', resolve));
    const r = await f.json('api/v1/clients/kick-victim', { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { clientId: 'kick-victim', disconnected: true, reasonCode: 0x98 });
    const packet = await seen;
    assert.equal(packet.reasonCode, 0x98);
    await until(() => wills.length > 0);
    assert.deepEqual(wills, ['wills/kick-victim=gone']);
    const list = await f.json<PageBody<Row>>('api/v1/clients?q=kick-victim');
    assert.equal(list.body.total, 0);
    assert.equal((await f.json('api/v1/clients/kick-victim', { method: 'DELETE' })).status, 404);
  });

  test('GET /api/v1/sessions includes offline persistent sessions; DELETE removes one', async () => {
    const c = await f.client('sess-persistent', {
      protocolVersion: 4,
      clean: false,
    });
    await c.subscribeAsync('sess/#', { qos: 1 });
    await c.endAsync();
    await until(() => f.tb.broker.sessions.get('sess-persistent')?.online !== true);
    // Queue a message for the absent client.
    f.tb.broker.publish({ topic: 'sess/a', payload: Buffer.from('x'), qos: 1, retain: false });
    const offline = await f.json<PageBody<Row>>('api/v1/sessions?online=false&q=sess-');
    assert.equal(offline.status, 200);
    assert.equal(offline.body.total, 1);
    const s = offline.body.items[0]!;
    assert.equal(s.clientId, 'sess-persistent');
    assert.equal(s.online, false);
    assert.equal(s.expiryInterval, null, 'a v3.1.1 persistent session never expires');
    assert.equal(s.subscriptions, 1);
    assert.equal(s.queued, 1);
    assert.ok(Date.parse(String(s.disconnectedAt)) > 0);
    const one = await f.json<{ session: Row; subscriptions: Row[] }>(
      'api/v1/sessions/sess-persistent',
    );
    assert.equal(one.body.session.clientId, 'sess-persistent');
    assert.deepEqual(
      one.body.subscriptions.map((x) => x.filter),
      ['sess/#'],
    );
    const online = await f.json<PageBody<Row>>('api/v1/sessions?online=true');
    assert.ok(online.body.items.every((x) => x.online === true));

    const del = await f.json('api/v1/sessions/sess-persistent', { method: 'DELETE' });
    assert.deepEqual(del.body, { clientId: 'sess-persistent', deleted: true, disconnected: false });
    assert.equal(f.tb.broker.sessions.has('sess-persistent'), false);
    assert.equal((await f.json('api/v1/sessions/sess-persistent')).status, 404);
  });

  test('GET /api/v1/subscriptions lists every subscription, or one client`s', async () => {
    const c = await f.client('subs-client');
    await c.subscribeAsync({ 'subs/a': { qos: 0 }, 'subs/b/#': { qos: 2, nl: true } });
    const mine = await f.json<PageBody<Row>>('api/v1/subscriptions?clientId=subs-client');
    assert.equal(mine.status, 200);
    assert.equal(mine.body.total, 2);
    const b = mine.body.items.find((s) => s.filter === 'subs/b/#')!;
    assert.equal(b.qos, 2);
    assert.equal(b.noLocal, true);
    assert.equal(b.clientId, 'subs-client');
    const all = await f.json<PageBody<Row>>('api/v1/subscriptions?q=subs/');
    assert.equal(all.body.total, 2);
    const none = await f.json<PageBody<Row>>('api/v1/subscriptions?clientId=nobody');
    assert.equal(none.body.total, 0);
  });

  test('GET /api/v1/topics lists retained topics matching a filter with wildcards', async () => {
    const p = await f.client('topics-pub');
    await p.publishAsync('plant/1/temp', '21.5', { qos: 1, retain: true });
    await p.publishAsync('plant/2/temp', '19', { qos: 0, retain: true });
    await p.publishAsync('plant/2/humidity', '40', { retain: true });
    await p.publishAsync('plant/bin', Buffer.from([0xff, 0x00, 0xfe]), { retain: true });
    await until(() => f.tb.broker.retained.get('plant/bin') !== undefined);
    const temps = await f.json<PageBody<Row> & { filter: string }>(
      `api/v1/topics?filter=${encodeURIComponent('plant/+/temp')}`,
    );
    assert.equal(temps.status, 200);
    assert.equal(temps.body.filter, 'plant/+/temp');
    assert.deepEqual(
      temps.body.items.map((t) => [t.topic, t.payload, t.qos]),
      [
        ['plant/1/temp', '21.5', 1],
        ['plant/2/temp', '19', 0],
      ],
    );
    const all = await f.json<PageBody<Row>>(
      `api/v1/topics?filter=${encodeURIComponent('plant/#')}`,
    );
    assert.equal(all.body.total, 4);
    const bin = all.body.items.find((t) => t.topic === 'plant/bin')!;
    assert.equal(bin.encoding, 'base64');
    assert.equal(bin.payload, Buffer.from([0xff, 0x00, 0xfe]).toString('base64'));
    assert.equal(bin.size, 3);
    const cut = await f.json<PageBody<Row>>('api/v1/topics?filter=plant/1/temp&preview=2');
    assert.equal(cut.body.items[0]!.payload, '21');
    assert.equal(cut.body.items[0]!.truncated, true);
    const bad = await f.json(`api/v1/topics?filter=${encodeURIComponent('plant/#/x')}`);
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /invalid topic filter/);
  });

  test('POST /api/v1/publish delivers to subscribers and can retain', async () => {
    const sub = await f.client('pub-sub');
    await sub.subscribeAsync('api/in/#', { qos: 1 });
    const got = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
      sub.once('message', (topic, payload, packet) =>
        resolve({ topic, payload: payload.toString(), qos: packet.qos }),
      ),
    );
    const r = await f.json(
      'api/v1/publish',
      postJson({ topic: 'api/in/cmd', payload: 'start', qos: 1, retain: true }),
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { topic: 'api/in/cmd', delivered: 1 });
    assert.deepEqual(await got, { topic: 'api/in/cmd', payload: 'start', qos: 1 });
    assert.equal(f.tb.broker.retained.get('api/in/cmd')?.payload.toString(), 'start');
    const b64 = await f.json(
      'api/v1/publish',
      postJson({
        topic: 'api/bin',
        payload: Buffer.from([1, 2, 3]).toString('base64'),
        encoding: 'base64',
      }),
    );
    assert.equal(b64.status, 200);
  });

  test('POST /api/v1/publish refuses bad input with 400/415 and a message', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ payload: 'x' }, /topic/],
      [{ topic: 'a/+', payload: 'x' }, /topic/],
      [{ topic: '', payload: 'x' }, /topic/],
      [{ topic: 'a', qos: 3 }, /qos/],
      [{ topic: 'a', retain: 'yes' }, /retain/],
      [{ topic: 'a', payload: 5 }, /payload/],
      [{ topic: 'a', payload: '%%%', encoding: 'base64' }, /base64/],
      [{ topic: 'a', encoding: 'hex' }, /encoding/],
      [[1, 2], /object/],
    ];
    for (const [body, message] of cases) {
      const r = await f.json('api/v1/publish', postJson(body));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(String(r.body.error), message);
    }
    const broken = await f.json('api/v1/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"topic": ',
    });
    assert.equal(broken.status, 400);
    assert.match(String(broken.body.error), /invalid JSON/);
    // A form post from another site (no CORS preflight) is refused.
    const form = await f.json('api/v1/publish', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"topic":"a"}',
    });
    assert.equal(form.status, 415);
    assert.equal((await f.http('api/v1/publish')).status, 405);
  });

  test('GET /api/v1/listeners shows bound listeners with open connection counts', async () => {
    const r = await f.json<{ items: Row[] }>('api/v1/listeners');
    assert.equal(r.status, 200);
    assert.equal(r.body.items.length, 1);
    const l = r.body.items[0]!;
    assert.equal(l.port, f.tb.port);
    assert.equal(l.host, '127.0.0.1');
    assert.equal(l.protocol, 'mqtt');
    assert.equal(l.connections, f.tb.broker.channels.size);
  });
});
