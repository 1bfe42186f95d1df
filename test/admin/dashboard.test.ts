// The dashboard in a real browser (headless Chromium via playwright-core) against
// a broker with MQTT.js clients. Chromium missing is a failure, never a skip.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IDisconnectPacket } from 'mqtt';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import {
  type AdminFixture,
  launchDashboardBrowser,
  PLOT_INK,
  startAdminFixture,
} from './admin-fixture.js';

const TOKEN = 'dash-token';

describe('admin dashboard in headless Chromium', () => {
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture({}, { token: TOKEN, historyIntervalMs: 250 });
    chrome = await launchDashboardBrowser('heron-dashboard-');
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    await f?.close();
  });

  test('asks for the token, then shows the live connection count', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(f.base);
    await page.waitForSelector('#token-panel:not([hidden])', { timeout: 5000 });
    assert.equal(await page.isVisible('section.page[data-page="overview"]'), true);
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction(
      "document.getElementById('status').textContent === 'live'",
      undefined,
      { timeout: 5000 },
    );
    assert.equal(await page.textContent('#connections'), '0');
    await f.client('dash-one');
    await f.client('dash-two', { protocolVersion: 4, username: 'meter' });
    await page.waitForFunction(
      "document.getElementById('connections').textContent === '2'",
      undefined,
      { timeout: 5000 },
    );
    await page.click('nav.tabs a[data-page="clients"]');
    await page.waitForSelector('tr[data-client-id="dash-two"]', { timeout: 5000 });
    assert.match((await page.textContent('tr[data-client-id="dash-two"]'))!, /meter.*3\.1\.1/);
    assert.equal(await page.evaluate(PLOT_INK), 0, 'no messages yet: flat lines only');
    assert.deepEqual(errors, []);
  });

  test('the Kick button disconnects the client (v5 reason 0x98)', async () => {
    const victim = await f.client('dash-kick');
    const seen = new Promise<IDisconnectPacket>((resolve) => victim.once('disconnect', resolve));
    const button = 'tr[data-client-id="dash-kick"] button.kick';
    await page.waitForSelector(button, { timeout: 5000 });
    await page.click(button);
    await page.click(`${button}.confirm`);
    assert.equal((await seen).reasonCode, 0x98);
    await page.waitForSelector('tr[data-client-id="dash-kick"]', {
      state: 'detached',
      timeout: 5000,
    });
  });

  test('publishes from the form, browses retained topics, draws the rate sparkline', async () => {
    await page.click('nav.tabs a[data-page="retained"]');
    const sub = await f.client('dash-sub');
    await sub.subscribeAsync('dash/#', { qos: 1 });
    const got = new Promise<string>((resolve) =>
      sub.once('message', (topic, payload) => resolve(`${topic} ${payload}`)),
    );
    await page.fill('#publish-topic', 'dash/lamp');
    await page.fill('#publish-payload', 'on');
    await page.selectOption('#publish-qos', '1');
    await page.check('#publish-retain');
    await page.click('#publish-form button[type=submit]');
    assert.equal(await got, 'dash/lamp on');
    await page.waitForSelector('#publish-result:not([hidden])');
    assert.match((await page.textContent('#publish-result'))!, /reached 1 subscriber/);
    await page.waitForSelector('#topics li', { timeout: 5000 });
    assert.match((await page.textContent('#topics'))!, /dash\/lamp.*on/);
    await page.fill('#topics-filter', 'nothing/+');
    await page.click('#topics-form button[type=submit]');
    await page.waitForSelector('#topics-empty:not([hidden])', { timeout: 5000 });

    // Traffic for the chart: the rate cards follow /api/v1/stats, the canvas the history.
    await page.click('nav.tabs a[data-page="overview"]');
    const pub = await f.client('dash-pub');
    const timer = setInterval(() => pub.publish('dash/tick', 'x', { qos: 0 }), 20);
    try {
      await page.waitForFunction(
        "Number(document.getElementById('rate-in').textContent) >= 10",
        undefined,
        { timeout: 5000 },
      );
      await page.waitForFunction(`${PLOT_INK} > 100`, undefined, { timeout: 5000 });
    } finally {
      clearInterval(timer);
    }
  });
});
