// A page on another site, in headless Chromium, tries the admin API of a broker
// that needs no credentials (the loopback default): the browser's own requests
// carry Origin / Sec-Fetch-Site and are refused before any handler runs.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertChromiumInstalled,
  type HeadlessChromium,
  launchChromium,
} from '../helpers/chromium.js';
import { type AdminFixture, startAdminFixture } from './admin-fixture.js';

describe('cross-site requests from a real browser', () => {
  let f: AdminFixture;
  let evil: http.Server;
  let evilUrl: string;
  let chrome: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture();
    // Another origin on the same machine (another port): what a malicious local page would be.
    evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    chrome = await launchChromium('heron-xsite-', { viewport: { width: 800, height: 600 } });
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    await new Promise((r) => evil?.close(r));
    await f?.close();
  });

  test('publish, kick and reads from another origin get 403; the dashboard itself works', async () => {
    const victim = await f.client('xsite-victim');
    const watcher = await f.client('xsite-watch');
    await watcher.subscribeAsync('#');
    let published = 0;
    watcher.on('message', () => published++);

    const statuses = new Map<string, number>();
    page.on('response', (r) =>
      statuses.set(`${r.request().method()} ${new URL(r.url()).pathname}`, r.status()),
    );
    await page.goto(evilUrl);
    const api = f.base;
    await page.evaluate(async (base) => {
      const tries = [
        fetch(`${base}api/v1/publish`, {
          method: 'POST',
          mode: 'no-cors',
          body: JSON.stringify({ topic: 'pwned', payload: 'x' }),
        }),
        fetch(`${base}api/v1/stats`, { mode: 'no-cors' }),
        fetch(`${base}api/v1/clients/xsite-victim`, { method: 'DELETE' }).catch(() => undefined),
      ];
      await Promise.all(tries.map((t) => t.catch(() => undefined)));
    }, api);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(statuses.get('POST /api/v1/publish'), 403);
    assert.equal(statuses.get('GET /api/v1/stats'), 403);
    assert.equal(published, 0, 'nothing was published');
    assert.equal(f.tb.broker.sessions.get('xsite-victim')?.online === true, true, 'not kicked');
    assert.equal(victim.connected, true);

    // The dashboard, same-origin, reads and publishes normally.
    await page.goto(`${f.base}#/retained`);
    await page.waitForSelector('#status.live', { timeout: 5000 });
    await page.fill('#publish-topic', 'from/dashboard');
    await page.fill('#publish-payload', 'ok');
    await page.click('#publish-form button[type=submit]');
    await page.waitForSelector('#publish-result:not([hidden])');
    assert.match((await page.textContent('#publish-result'))!, /reached 1 subscriber/);
  });
});
