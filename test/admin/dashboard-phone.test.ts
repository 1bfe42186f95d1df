// The dashboard at phone width (420 px) in headless Chromium: every page fits,
// no control sticks out of the screen (tables scroll inside their own box).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertChromiumInstalled,
  type HeadlessChromium,
  launchChromium,
} from '../helpers/chromium.js';
import { type AdminFixture, startAdminFixture } from './admin-fixture.js';

const WIDTH = 420;

/** Controls outside a scrolling table whose box leaves the viewport, and the page's scroll width. */
const OVERFLOW = `(() => {
  const out = [];
  for (const e of document.querySelectorAll('button, input, select, textarea, a, canvas, h2')) {
    if (e.closest('.table-wrap, nav.tabs, [hidden]') || e.offsetParent === null) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.left < 0 || r.right > window.innerWidth + 0.5) {
      out.push((e.id || e.textContent.trim() || e.tagName) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, out };
})()`;

describe('dashboard at phone width', () => {
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture({}, { token: 'phone' });
    chrome = await launchChromium('heron-phone-', {
      viewport: { width: WIDTH, height: 860 },
      bypassCSP: true,
    });
    page = chrome.page;
    const c = await f.client('a-rather-long-client-identifier-from-a-gateway-0001', {
      username: 'field-gateway',
      will: {
        topic: 'gateways/0001/status',
        payload: Buffer.from('offline'),
        qos: 1,
        retain: true,
      },
    });
    await c.subscribeAsync({
      'plant/+/line/+/temperature': { qos: 1 },
      '$share/ops/alerts/#': { qos: 0 },
    });
    await c.publishAsync('plant/north/line/7/temperature/setpoint', '{"celsius":21.5}', {
      qos: 1,
      retain: true,
    });
    const away = await f.client('night-shift', {
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    await away.endAsync();
  });

  after(async () => {
    await chrome?.close();
    await f?.close();
  });

  test('sign-in panel and every page fit 420 px', async () => {
    await page.goto(f.base);
    await page.waitForSelector('#token-panel:not([hidden])', { timeout: 5000 });
    let fit = (await page.evaluate(OVERFLOW)) as { scrollWidth: number; out: string[] };
    assert.deepEqual(fit.out, [], 'sign-in panel');
    await page.fill('#token-input', 'phone');
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction("document.getElementById('status').textContent === 'live'");
    const pages: [string, string][] = [
      ['overview', '#listeners li'],
      ['clients', '#clients tbody tr'],
      ['clients/a-rather-long-client-identifier-from-a-gateway-0001', '#client-facts dt'],
      ['sessions', '#sessions-table tbody tr'],
      ['subscriptions', '#filters-table tbody tr'],
      ['retained', '#topics li'],
      ['alarms', 'section.page[data-page="alarms"]'],
      ['trace', '#trace-form'],
      ['websocket', '#ws-connect'],
    ];
    for (const [route, ready] of pages) {
      await page.goto(`${f.base}#/${route}`);
      await page.waitForSelector(ready, { timeout: 5000 });
      fit = (await page.evaluate(OVERFLOW)) as typeof fit;
      assert.equal(fit.scrollWidth, WIDTH, `#/${route} scrolls sideways`);
      assert.deepEqual(fit.out, [], `#/${route}: controls outside the screen`);
    }
    // The button the issue names: Browse stays on screen, next to its filter box.
    await page.goto(`${f.base}#/retained`);
    const browse = (await page.locator('#topics-form button').boundingBox())!;
    assert.ok(browse.x + browse.width <= WIDTH, `Browse ends at ${browse.x + browse.width}`);
  });
});
