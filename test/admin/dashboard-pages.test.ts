// The dashboard's pages in headless Chromium against a broker with real MQTT.js
// clients: client paging and filters, the client page (kick, drop session),
// offline sessions, subscriptions with shared groups, retained delete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IDisconnectPacket, MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import {
  type AdminFixture,
  launchDashboardBrowser,
  startAdminFixture,
  until,
} from './admin-fixture.js';

const WAIT = { timeout: 5000 };

describe('dashboard pages in headless Chromium', () => {
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;
  const errors: string[] = [];

  const rows = (table: string): Promise<number> => page.locator(`${table} tbody tr`).count();

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture({ sysInterval: 1 });
    chrome = await launchDashboardBrowser('heron-pages-');
    page = chrome.page;
    page.on('pageerror', (e) => errors.push(String(e)));
  });

  after(async () => {
    await chrome?.close();
    await f?.close();
  });

  test('clients: pages beyond the first 100 rows and filters by state, version, user, listener', async () => {
    const fleet: Promise<MqttClient>[] = [];
    for (let i = 0; i < 104; i++) {
      const id = `fleet-${String(i).padStart(3, '0')}`;
      fleet.push(
        f.client(id, { protocolVersion: i % 2 === 0 ? 5 : 4, username: i < 3 ? 'ops' : 'dev' }),
      );
    }
    await Promise.all(fleet);
    const away = await f.client('fleet-away', {
      username: 'ops',
      clean: false,
      properties: { sessionExpiryInterval: 900 },
    });
    await away.endAsync();
    await until(() => f.tb.broker.sessions.get('fleet-away')?.online !== true);

    await page.goto(`${f.base}#/clients`);
    await page.waitForFunction(
      "document.getElementById('clients-range').textContent === '1–100 of 104'",
      undefined,
      WAIT,
    );
    assert.equal(await rows('#clients'), 100);
    await page.click('#clients-pager button[data-step="1"]');
    await page.waitForFunction(
      "document.getElementById('clients-range').textContent === '101–104 of 104'",
      undefined,
      WAIT,
    );
    assert.equal(await rows('#clients'), 4);
    assert.equal(await page.isDisabled('#clients-pager button[data-step="1"]'), true);

    await page.selectOption('#clients-state', 'offline');
    await page.waitForSelector('tr[data-client-id="fleet-away"]', WAIT);
    assert.equal(await rows('#clients'), 1);
    assert.match((await page.textContent('tr[data-client-id="fleet-away"]'))!, /ops.*away/);

    await page.selectOption('#clients-state', 'all');
    await page.fill('#clients-username', 'ops');
    await page.waitForFunction(
      "document.getElementById('clients-count').textContent === '4'",
      undefined,
      WAIT,
    );
    await page.fill('#clients-username', '');
    await page.selectOption('#clients-state', 'connected');
    await page.selectOption('#clients-protocol', '4');
    await page.waitForFunction(
      "document.getElementById('clients-count').textContent === '52'",
      undefined,
      WAIT,
    );
    const listener = f.tb.broker.addresses()[0]!.name;
    await page.selectOption('#clients-protocol', '');
    await page.selectOption('#clients-listener', listener);
    await page.waitForFunction(
      "document.getElementById('clients-count').textContent === '104'",
      undefined,
      WAIT,
    );
    await Promise.all(fleet.map(async (c) => (await c).endAsync()));
  });

  test('the client page shows subscriptions, will, counts; Kick then Drop session', async () => {
    const c = await f.client('page-1', {
      username: 'meter',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
      will: { topic: 'wills/page-1', payload: Buffer.from('lost'), qos: 1, retain: false },
    });
    await c.subscribeAsync({ 'meters/+/kwh': { qos: 1 }, '$share/billing/meters/#': { qos: 0 } });
    await page.goto(`${f.base}#/clients`);
    await page.fill('#clients-filter', 'page-1');
    await page.click('tr[data-client-id="page-1"] a', WAIT);
    await page.waitForSelector('#client-facts dt', WAIT);
    assert.equal(await page.textContent('#client-state'), 'connected');
    const facts = (await page.textContent('#client-facts'))!;
    assert.match(facts, /Usermeter/);
    assert.match(facts, /Session expiry600 s after disconnect/);
    assert.match(facts, /Bytes in\d+ B/);
    assert.match((await page.textContent('#client-will'))!, /wills\/page-1 · QoS 1 .*"lost"/);
    assert.match(
      (await page.textContent('#client-subs'))!,
      /meters\/\+\/kwh.*\$share\/billing\/meters\/#.*billing/,
    );

    const kicked = new Promise<IDisconnectPacket>((resolve) => c.once('disconnect', resolve));
    await page.click('#client-kick');
    await page.click('#client-kick.confirm');
    assert.equal((await kicked).reasonCode, 0x98);
    await page.waitForFunction(
      "document.getElementById('client-state').textContent === 'offline'",
      undefined,
      WAIT,
    );
    assert.equal(f.tb.broker.sessions.has('page-1'), true, 'a kick keeps the session');
    await page.click('#client-drop');
    await page.click('#client-drop.confirm');
    await page.waitForFunction("location.hash === '#/clients'", undefined, WAIT);
    assert.equal(f.tb.broker.sessions.has('page-1'), false);
  });

  test('sessions lists offline sessions with queue and expiry; subscriptions shows shared groups', async () => {
    const sleeper = await f.client('sleeper', {
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    await sleeper.subscribeAsync('night/#', { qos: 1 });
    await sleeper.endAsync();
    const pub = await f.client('night-pub');
    for (let i = 0; i < 3; i++) await pub.publishAsync('night/owl', `hoot ${i}`, { qos: 1 });
    await page.click('nav.tabs a[data-page="sessions"]');
    await page.waitForSelector('tr[data-client-id="sleeper"]', WAIT);
    const cells = await page.locator('tr[data-client-id="sleeper"] td').allTextContents();
    assert.match(cells[2]!, /ago/);
    assert.match(cells[3]!, /^in (59m|1h)/);
    assert.equal(cells[5], '3', 'three QoS 1 messages wait');

    const w1 = await f.client('worker-1');
    const w2 = await f.client('worker-2');
    await w1.subscribeAsync('$share/crew/tasks/#', { qos: 1 });
    await w2.subscribeAsync('$share/crew/tasks/#', { qos: 1 });
    await page.click('nav.tabs a[data-page="subscriptions"]');
    const crew = 'tr[data-group="crew"][data-filter="tasks/#"]';
    await page.waitForSelector(crew, WAIT);
    const text = (await page.textContent(crew))!;
    assert.match(text, /2 \/ 2/);
    assert.match(text, /worker-1 \(QoS 1\).*worker-2 \(QoS 1\)/);
    await page.check('#filters-shared');
    await page.waitForSelector('tr[data-filter="night/#"]', { state: 'detached', ...WAIT });
    assert.equal(await page.isVisible(crew), true);
  });

  test('retained: the card counts $SYS apart; Delete removes a topic for subscribers too', async () => {
    const pub = await f.client('ret-page-pub');
    await pub.publishAsync('shop/sign', 'open', { qos: 1, retain: true });
    await pub.publishAsync('shop/hours', '9-5', { qos: 1, retain: true });
    await until(() => f.tb.broker.retained.get('$SYS/broker/uptime') !== undefined);
    await page.click('nav.tabs a[data-page="overview"]');
    await page.waitForFunction(
      "document.getElementById('retained').textContent === '2'",
      undefined,
      WAIT,
    );
    assert.notEqual(await page.textContent('#retained-sys'), '0');

    const watcher = await f.client('ret-page-watch');
    await watcher.subscribeAsync('shop/#', { qos: 1 });
    const cleared = new Promise<number>((resolve) =>
      watcher.on('message', (t, p) => t === 'shop/sign' && p.length === 0 && resolve(0)),
    );
    await page.click('nav.tabs a[data-page="retained"]');
    const sign = 'li[data-topic="shop/sign"]';
    await page.waitForSelector(sign, WAIT);
    assert.equal(
      await page.textContent('#topics-count'),
      '2',
      'the list counts what the card counts',
    );
    await page.click(`${sign} button.kick`);
    await page.click(`${sign} button.kick.confirm`);
    await cleared;
    await page.waitForSelector(sign, { state: 'detached', ...WAIT });
    assert.equal(f.tb.broker.retained.get('shop/sign'), undefined);
    assert.equal(await page.isVisible('li[data-topic="shop/hours"]'), true);
    assert.deepEqual(errors, []);
  });
});
