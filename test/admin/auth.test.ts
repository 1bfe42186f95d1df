// Token enforcement (admin_token) and the loopback guard against DNS rebinding.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type AdminFixture, startAdminFixture } from './admin-fixture.js';

const TOKEN = 's3cret-token';

/** GET with an explicit Host header (fetch does not let a caller choose it). */
function getWithHost(base: string, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, base), { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

describe('admin token', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdminFixture({}, { token: TOKEN });
  });
  after(async () => {
    await f.close();
  });

  test('the API and /metrics refuse requests without the bearer token (401)', async () => {
    for (const path of ['api/v1/stats', 'api/v1/clients', 'metrics', 'api/v1/nope']) {
      const res = await fetch(f.base + path);
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="heron"');
      assert.match(String(((await res.json()) as { error: string }).error), /token/);
    }
    const post = await fetch(`${f.base}api/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'x', payload: 'y' }),
    });
    assert.equal(post.status, 401);
    assert.equal(f.tb.broker.stats.publishReceived, 0);
  });

  test('a wrong token or scheme is refused; the right one is accepted', async () => {
    for (const auth of [`Bearer ${TOKEN}x`, 'Bearer ', TOKEN, `Basic ${TOKEN}`]) {
      const res = await fetch(`${f.base}api/v1/stats`, { headers: { authorization: auth } });
      assert.equal(res.status, 401, auth);
    }
    for (const auth of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await fetch(`${f.base}api/v1/stats`, { headers: { authorization: auth } });
      assert.equal(res.status, 200, auth);
    }
    const m = await fetch(`${f.base}metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(m.status, 200);
  });

  test('/healthz and the dashboard files need no token (the page asks for it)', async () => {
    assert.equal((await fetch(`${f.base}healthz`)).status, 200);
    const page = await fetch(f.base);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(await page.text(), /token-panel/);
    assert.equal((await fetch(`${f.base}app.js`)).status, 200);
  });

  test('with a token, any Host name is accepted', async () => {
    assert.equal(await getWithHost(f.base, '/healthz', 'broker.example.com'), 200);
  });
});

describe('admin without a token on loopback', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdminFixture();
  });
  after(async () => {
    await f.close();
  });

  test('requests naming a DNS host (rebinding) are refused with 421; IPs and localhost pass', async () => {
    const port = new URL(f.base).port;
    assert.equal(await getWithHost(f.base, '/api/v1/stats', `evil.example:${port}`), 421);
    assert.equal(await getWithHost(f.base, '/', `evil.example:${port}`), 421);
    assert.equal(await getWithHost(f.base, '/api/v1/stats', `localhost:${port}`), 200);
    assert.equal(await getWithHost(f.base, '/api/v1/stats', `127.0.0.1:${port}`), 200);
    assert.equal(await getWithHost(f.base, '/api/v1/stats', `[::1]:${port}`), 200);
  });

  test('the API is open without a token', async () => {
    assert.equal((await fetch(`${f.base}api/v1/stats`)).status, 200);
    assert.equal((await fetch(`${f.base}metrics`)).status, 200);
  });
});
