// Bridges and cluster on the dashboard in headless Chromium: a bridge to a real
// remote broker (state, counters, restart) and two nodes sharing a real Redis
// (nodes, Redis health, who owns a session), with their Prometheus series.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { type AdminServer, startAdmin } from '../../src/admin/server.js';
import { type BridgeHandle, startBridges } from '../../src/bridge/index.js';
import { bridgeConfig, type Recorder, record } from '../bridge/bridge-helpers.js';
import { freshPrefix, startNode } from '../cluster/support/nodes.js';
import { startRedis, type TestRedis } from '../cluster/support/redis.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import { launchDashboardBrowser, until } from './admin-fixture.js';

const WAIT = { timeout: 8000 };

describe('bridges and cluster', () => {
  let redis: TestRedis;
  let n1: TestBroker;
  let n2: TestBroker;
  let remote: TestBroker;
  let handles: BridgeHandle[];
  let admin: AdminServer;
  let chrome: HeadlessChromium | undefined;
  let page: Page;
  let far: Recorder;
  const clients: MqttClient[] = [];

  before(async () => {
    assertChromiumInstalled();
    redis = await startRedis();
    const prefix = freshPrefix();
    [n1, n2, remote] = await Promise.all([
      startNode(redis.url, prefix, 'n1'),
      startNode(redis.url, prefix, 'n2'),
      startBroker(),
    ]);
    far = await record(remote.url, ['up/#']);
    handles = startBridges(n1.broker, [bridgeConfig('uplink', [remote.port], 'topic up/# out 1')]);
    admin = await startAdmin(n1.broker, {
      port: 0,
      defaultMetrics: false,
      bridges: handles,
      alarms: { intervalMs: 200 },
    });
    chrome = await launchDashboardBrowser('heron-cluster-');
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await far?.client.end();
    await admin?.close();
    await Promise.all(handles.map((h) => h.stop()));
    await Promise.all([n1?.close(), n2?.close(), remote?.close()]);
    await redis?.stop();
  });

  test('a bridge shows its state and counters, and Restart brings up a fresh one', async () => {
    await page.goto(`${admin.address().url}#/cluster`);
    const row = 'tr[data-bridge="uplink"]';
    await page.waitForSelector(`${row} .pill:text-is("connected")`, WAIT);
    const pub = await mqtt.connectAsync(n1.url, { clientId: 'bridge-pub', reconnectPeriod: 0 });
    clients.push(pub);
    await pub.publishAsync('up/one', 'first', { qos: 1 });
    await until(() => far.messages.some((m) => m.topic === 'up/one'), 5000);
    await page.waitForFunction(
      "document.querySelector('tr[data-bridge=\"uplink\"] td:nth-child(4)').textContent === '1'",
      undefined,
      WAIT,
    );
    assert.match(
      (await page.textContent(row))!,
      new RegExp(`uplink.*127\\.0\\.0\\.1:${remote.port}`),
    );
    const metrics = await (await fetch(`${admin.address().url}metrics`)).text();
    assert.match(metrics, /heron_bridge_up\{bridge="uplink"\} 1/);
    assert.match(metrics, /heron_bridge_messages_sent_total\{bridge="uplink"\} 1/);

    const old = handles[0]!.bridge;
    await page.click(`${row} button.kick`);
    await page.click(`${row} button.kick.confirm`);
    await until(() => handles[0]!.bridge !== old && handles[0]!.bridge.state === 'connected', 5000);
    assert.equal(old.state, 'stopped');
    await page.waitForFunction(
      "document.querySelector('tr[data-bridge=\"uplink\"] td:nth-child(4)').textContent === '0'",
      undefined,
      WAIT,
    );
    await pub.publishAsync('up/two', 'after restart', { qos: 1 });
    await until(() => far.messages.some((m) => m.topic === 'up/two'), 5000);
  });

  test('cluster: both nodes alive, Redis healthy, the owner of a session on the other node', async () => {
    const there = await mqtt.connectAsync(n2.url, {
      clientId: 'lives-on-n2',
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(there);
    await page.goto(`${admin.address().url}#/cluster`);
    await page.waitForSelector('#cluster-on:not([hidden])', WAIT);
    assert.equal(await page.textContent('#cluster-node'), 'n1');
    await page.waitForSelector('#cluster-redis:text-matches("Redis ok · [0-9.]+ ms")', WAIT);
    await page.waitForSelector('tr[data-node="n2"] .pill:text-is("alive")', WAIT);
    assert.match((await page.textContent('tr[data-node="n1"]'))!, /n1 \(this node\)alive/);

    await page.fill('#owner-id', 'lives-on-n2');
    await page.click('#owner-form button');
    await page.waitForSelector('#owner-result:not([hidden])', WAIT);
    assert.match(
      (await page.textContent('#owner-result'))!,
      /lives-on-n2 is owned by node n2 \(epoch \d+\)\.$/,
    );

    // A message from n1 to a subscriber on n2 is forwarded, and counted.
    await there.subscribeAsync('cross/#', { qos: 1 });
    const got = new Promise<void>((resolve) => there.once('message', () => resolve()));
    const pub = await mqtt.connectAsync(n1.url, { clientId: 'cross-pub', reconnectPeriod: 0 });
    clients.push(pub);
    await until(async () => {
      await pub.publishAsync('cross/x', 'over', { qos: 1 });
      return (await Promise.race([
        got.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 200)),
      ])) as boolean;
    }, 5000);
    const metrics = await (await fetch(`${admin.address().url}metrics`)).text();
    const forwarded = Number(/heron_cluster_forwarded_total (\d+)/.exec(metrics)?.[1]);
    assert.ok(forwarded >= 1, `forwarded ${forwarded}`);
    assert.match(metrics, /heron_cluster_nodes 1/);
    // The link counters: the forwarded message was acknowledged by the other node.
    assert.ok(Number(/heron_cluster_acked_total (\d+)/.exec(metrics)?.[1]) >= 1);
    assert.match(metrics, /heron_cluster_redis_up 1/);
    assert.match(metrics, /heron_cluster_links_connected 1/);
  });

  test('Redis going away is shown plainly and raises an alarm', async () => {
    await redis.stop();
    await page.waitForSelector('#cluster-redis:text-matches("Redis down")', { timeout: 10000 });
    await page.click('nav.tabs a[data-page="alarms"]');
    await page.waitForSelector('#alarms-active li[data-kind="cluster_redis"]', { timeout: 10000 });
    assert.match(
      (await page.textContent('#alarms-active li[data-kind="cluster_redis"]'))!,
      /cluster Redis.*Cluster Redis unreachable/,
    );
  });
});
