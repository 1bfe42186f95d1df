// Live trace in headless Chromium: follow a topic filter and a client id while
// real MQTT.js clients talk, bounded in rate, and leaving no cost once stopped.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import {
  type AdminFixture,
  launchDashboardBrowser,
  postJson,
  startAdminFixture,
  until,
} from './admin-fixture.js';

const WAIT = { timeout: 5000 };

describe('live trace', () => {
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;
  const traceText = async (): Promise<string> => (await page.textContent('#trace-lines')) ?? '';

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture({}, { trace: { linesPerSecond: 10, maxTraces: 2 } });
    chrome = await launchDashboardBrowser('heron-trace-');
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    await f?.close();
  });

  test('a topic filter shows matching publishes with publisher, QoS and payload', async () => {
    await page.goto(`${f.base}#/trace`);
    await page.selectOption('#trace-kind', 'topic');
    await page.fill('#trace-value', 'lab/+/temp');
    await page.click('#trace-start');
    await page.waitForFunction(
      "document.getElementById('trace-note').textContent.startsWith('Following')",
    );
    const pub = await f.client('lab-sensor');
    await pub.publishAsync('lab/3/temp', '21.7', { qos: 1 });
    await pub.publishAsync('lab/3/humidity', '40', { qos: 1 });
    await page.waitForSelector('#trace-lines li', WAIT);
    const text = await traceText();
    assert.match(text, /PUBLISH from lab-sensor q1 r0 'lab\/3\/temp' \(4 bytes\) 21\.7/);
    assert.doesNotMatch(text, /humidity/);
    await page.click('#trace-stop');
    await until(() => f.tb.broker.listenerCount('publish') === 0);
  });

  test('a client id shows its packets both ways, from CONNECT on', async () => {
    await page.selectOption('#trace-kind', 'client');
    await page.fill('#trace-value', 'tracked');
    await page.click('#trace-start');
    await page.waitForFunction(
      "document.getElementById('trace-note').textContent.startsWith('Following client')",
    );
    assert.equal(
      f.tb.broker.packetLog,
      true,
      'packet descriptions are on while a client is traced',
    );
    const c = await f.client('tracked', { username: 'lab' });
    await c.subscribeAsync('echo/#', { qos: 1 });
    await c.publishAsync('echo/x', 'ping', { qos: 1 });
    await page.waitForFunction(
      "document.getElementById('trace-lines').textContent.includes('Sending PUBLISH to tracked')",
      undefined,
      WAIT,
    );
    const text = await traceText();
    assert.match(text, /CONNECTED from 127\.0\.0\.1:\d+ .*user 'lab'/);
    assert.match(text, /Received SUBSCRIBE from tracked · echo\/# \(QoS 1\)/);
    assert.match(text, /Sending SUBACK to tracked/);
    assert.match(text, /Received PUBLISH from tracked \(d0, q1, r0, m\d+, 'echo\/x'/);
    assert.match(text, /Sending PUBACK to tracked/);
    const other = await f.client('bystander');
    await other.publishAsync('elsewhere', 'x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 1200));
    assert.doesNotMatch(await traceText(), /bystander/);
    await page.click('#trace-stop');
    await until(() => f.tb.broker.packetLog === false);
    assert.equal(f.tb.broker.log, undefined, 'the broker gets its own (absent) logger back');
  });

  test('bounded: past the rate limit lines are counted as skipped, not kept', async () => {
    await page.selectOption('#trace-kind', 'topic');
    await page.fill('#trace-value', 'flood/#');
    await page.click('#trace-start');
    await page.waitForFunction(
      "document.getElementById('trace-note').textContent.startsWith('Following')",
    );
    const pub = await f.client('flooder');
    for (let i = 0; i < 60; i++) pub.publish('flood/x', String(i), { qos: 0 });
    await page.waitForFunction(
      "/\\d+ lines skipped by the rate limit/.test(document.getElementById('trace-note').textContent)",
      undefined,
      WAIT,
    );
    const shown = await page.locator('#trace-lines li').count();
    assert.ok(shown >= 10 && shown <= 20, `${shown} lines shown`);
    const status = async () =>
      (await f.json('api/v1/traces', postJson({ kind: 'topic', value: 'a/#' }))).status;
    assert.equal(await status(), 200, 'a second trace may run');
    assert.equal(await status(), 429, 'a third may not (maxTraces 2)');
    assert.equal(
      (await f.json('api/v1/traces', postJson({ kind: 'topic', value: 'a/#/b' }))).status,
      400,
    );
    await page.click('#trace-stop');
  });
});
