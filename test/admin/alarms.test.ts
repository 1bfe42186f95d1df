// Alarms raised and cleared by real traffic (a consumer that never acknowledges,
// overflowing queues, refused CONNECTs, an auth service that is down), shown on
// the dashboard's Alarms page in headless Chromium.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import type { Alarm } from '../../src/admin/alarms.js';
import { createPluginAuth } from '../../src/auth/create-plugin-auth.js';
import { PacketType } from '../../src/protocol/constants.js';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import { connectRaw } from '../helpers/raw-client.js';
import {
  type AdminFixture,
  launchDashboardBrowser,
  startAdminFixture,
  until,
} from './admin-fixture.js';

const FAST = { intervalMs: 50, quietMs: 400, windowMs: 2000, authFailureBurst: 3 };

async function alarmsOf(f: AdminFixture): Promise<{ active: Alarm[]; cleared: Alarm[] }> {
  return (await f.json<{ active: Alarm[]; cleared: Alarm[] }>('api/v1/alarms')).body;
}

async function waitAlarm(f: AdminFixture, key: string, active = true): Promise<Alarm> {
  let found: Alarm | undefined;
  await until(async () => {
    const a = await alarmsOf(f);
    found = (active ? a.active : a.cleared).find((x) => x.key === key);
    return found !== undefined;
  }, 5000);
  return found!;
}

describe('alarms', () => {
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture(
      {
        maxQueuedMessages: 8,
        // A full queue drops at once (Mosquitto's behaviour), so that the queue-drop alarm
        // has drops to report; with backpressure the publisher would first wait for
        // slow_consumer_timeout (test/broker/backpressure.test.ts covers that).
        backpressure: false,
        hooks: { authenticate: (req) => req.username !== 'intruder' },
      },
      { alarms: { ...FAST, slowConsumerQueued: 5 } },
    );
    chrome = await launchDashboardBrowser('heron-alarms-');
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    await f?.close();
  });

  test('a consumer that never acknowledges raises slow consumer and queue drops; both clear', async () => {
    await page.goto(`${f.base}#/alarms`);
    await page.waitForSelector('#alarms-none:not([hidden])', { timeout: 5000 });
    const sluggish = await connectRaw(
      f.tb.port,
      { clientId: 'sluggish', properties: { receiveMaximum: 2 } },
      5,
    );
    sluggish.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [{ topic: 'feed/#', qos: 1 }],
    } as never);
    await sluggish.nextOfType(PacketType.SUBACK);
    // A 3.1.1 publisher: its messages are accepted and the full queue drops the excess.
    const pub = await f.client('feeder', { protocolVersion: 4 });
    for (let i = 0; i < 12; i++) await pub.publishAsync('feed/x', String(i), { qos: 1 });

    const slow = await waitAlarm(f, 'slow_consumer:sluggish');
    assert.equal(slow.subject, 'sluggish');
    // The queue holds at least the alarm's threshold (flow control may let it pass
    // max_queued_messages by the publishes in flight when the publisher is paused).
    const queued = Number(/(\d+) deliveries queued \(alarm at 5\)/.exec(slow.message)?.[1]);
    assert.ok(queued >= 5, slow.message);
    const drops = await waitAlarm(f, 'queue_drops');
    assert.match(drops.message, /dropped/);

    const row = 'li[data-kind="slow_consumer"][data-subject="sluggish"]';
    await page.waitForSelector(`#alarms-active ${row}`, { timeout: 5000 });
    assert.match(
      (await page.textContent(`#alarms-active ${row}`))!,
      /slow consumer.*Slow consumer sluggish.*since \d\d:\d\d:\d\d/,
    );
    await page.waitForFunction("Number(document.getElementById('alarms-badge').textContent) >= 1");

    sluggish.destroy();
    await page.waitForSelector(`#alarms-cleared ${row}`, { timeout: 5000 });
    assert.match(
      (await page.textContent(`#alarms-cleared ${row}`))!,
      /\d\d:\d\d:\d\d → \d\d:\d\d:\d\d/,
    );
    // Drops clear once quietMs passes without new ones.
    await page.waitForSelector('#alarms-cleared li[data-kind="queue_drops"]', { timeout: 5000 });
    await page.waitForSelector('#alarms-none:not([hidden])');
    assert.equal(await page.textContent('#alarms-badge'), '');
    const metrics = await (await f.http('metrics')).text();
    assert.match(metrics, /heron_alarms_active\{kind="slow_consumer"\} 0/);
  });

  test('a burst of refused CONNECTs raises auth failures, cleared when it stops', async () => {
    for (let i = 0; i < 3; i++) {
      await mqtt
        .connectAsync(f.tb.url, { clientId: `in-${i}`, username: 'intruder', reconnectPeriod: 0 })
        .then(
          () => assert.fail('should be refused'),
          () => {},
        );
    }
    const burst = await waitAlarm(f, 'auth_failures');
    assert.match(burst.message, /3 refused CONNECTs/);
    await waitAlarm(f, 'auth_failures', false);
  });

  test('an auth service that does not answer raises auth backend', async () => {
    // A port that was just free: connections to it are refused.
    const gone = http.createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    const plugin = createPluginAuth({
      backend: 'http',
      flavour: 'go-auth',
      pluginPath: '/usr/lib/go-auth.so',
      host: '127.0.0.1',
      port,
      tls: false,
      verifyPeer: false,
      method: 'POST',
      userUri: '/user',
      superuserUri: undefined,
      aclUri: '/acl',
      paramsMode: 'json',
      responseMode: 'status',
      timeoutSeconds: 1,
      userAgent: 'heron-test',
      retryCount: 0,
      aclCacheSeconds: 30,
      denySpecialChars: true,
    });
    const g = await startAdminFixture({ hooks: plugin.hooks }, { alarms: FAST });
    plugin.countInto(g.tb.broker.stats);
    try {
      await mqtt
        .connectAsync(g.tb.url, {
          clientId: 'needs-auth',
          username: 'u',
          password: 'p',
          reconnectPeriod: 0,
        })
        .then(
          () => assert.fail('should be refused'),
          () => {},
        );
      const a = await waitAlarm(g, 'auth_backend');
      assert.match(a.message, /Authentication backend failing/);
    } finally {
      await g.close();
      await plugin.close();
    }
  });

  test('memory over its high-water mark raises memory', async () => {
    const g = await startAdminFixture(
      {},
      { alarms: { ...FAST, memoryHighWaterBytes: 1024 * 1024 } },
    );
    try {
      const a = await waitAlarm(g, 'memory_high');
      assert.match(a.message, /Memory high: \d+ MB resident \(alarm at 1 MB\)/);
    } finally {
      await g.close();
    }
  });
});
