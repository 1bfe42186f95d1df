// The overview chart draws the server's history (traffic from before the page
// was opened), and the page says plainly when the broker stops answering.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import {
  type AdminFixture,
  launchDashboardBrowser,
  PLOT_INK,
  startAdminFixture,
  until,
} from './admin-fixture.js';

describe('dashboard history and broker outage', () => {
  let f: AdminFixture;
  let closed = false;
  let chrome: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture({}, { historyIntervalMs: 200 });
    chrome = await launchDashboardBrowser('heron-history-');
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    if (!closed) await f?.close();
  });

  test('a page opened after a burst still shows the burst', async () => {
    const sub = await f.client('hist-sub');
    await sub.subscribeAsync('burst/#', { qos: 0 });
    const pub = await f.client('hist-pub');
    for (let i = 0; i < 40; i++) {
      pub.publish('burst/x', String(i), { qos: 0 });
      await new Promise((r) => setTimeout(r, 25));
    }
    // Let the burst age into the history, then go quiet.
    await new Promise((r) => setTimeout(r, 600));
    await until(() => f.admin.history.samples().some((s) => s.in > 0));
    await pub.endAsync();
    await sub.endAsync();

    await page.goto(f.base);
    await page.waitForFunction(`${PLOT_INK} > 100`, undefined, { timeout: 5000 });
    // Nothing is flowing now: the live rate card is zero while the chart keeps the burst.
    await page.waitForFunction("document.getElementById('rate-in').textContent === '0'");
    assert.ok(((await page.evaluate(PLOT_INK)) as number) > 100);
    assert.equal(await page.isHidden('#down-banner'), true);
  });

  test('when the broker stops, the page says so plainly', async () => {
    closed = true;
    await f.close();
    await page.waitForSelector('#down-banner:not([hidden])', { timeout: 5000 });
    const text = (await page.textContent('#down-banner'))!;
    assert.match(text, /The broker is not responding/);
    assert.match(text, /could not be reached since \d\d:\d\d:\d\d/);
    assert.equal(await page.textContent('#status'), 'offline');
    assert.doesNotMatch((await page.textContent('body'))!, /Failed to fetch/);
  });
});
