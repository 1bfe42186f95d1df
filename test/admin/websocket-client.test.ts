// The dashboard's MQTT client in headless Chromium, over the broker's WebSocket
// listener, talking with an MQTT.js client on the TCP listener. The page's CSP is
// left on: the connection must be allowed by the policy the server sends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import {
  assertChromiumInstalled,
  type HeadlessChromium,
  launchChromium,
} from '../helpers/chromium.js';
import { type AdminFixture, startAdminFixture, until } from './admin-fixture.js';

const WAIT = { timeout: 5000 };

describe('browser MQTT client over WebSocket', () => {
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;
  let tcp: MqttClient;
  let wsPort: number;

  before(async () => {
    assertChromiumInstalled();
    f = await startAdminFixture({
      listeners: [
        { port: 0, host: '127.0.0.1' },
        { port: 0, host: '127.0.0.1', protocol: 'websockets' },
      ],
    });
    wsPort = f.tb.broker.addresses()[1]!.port;
    tcp = await mqtt.connectAsync(`mqtt://127.0.0.1:${f.tb.broker.addresses()[0]!.port}`, {
      clientId: 'tcp-peer',
      reconnectPeriod: 0,
    });
    chrome = await launchChromium('heron-wsclient-', { viewport: { width: 1280, height: 900 } });
    page = chrome.page;
  });

  after(async () => {
    await tcp?.endAsync(true);
    await chrome?.close();
    await f?.close();
  });

  test('connects, subscribes and publishes; an MQTT.js client on TCP sees both ways', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${f.base}#/websocket`);
    // No string predicates: the page's CSP (kept on here) forbids the eval they need.
    await until(async () => (await page.inputValue('#ws-url')) === `ws://127.0.0.1:${wsPort}/mqtt`);
    await page.fill('#ws-client-id', 'in-the-browser');
    await page.click('#ws-connect-button');
    await page.waitForSelector('#ws-state:text-is("connected")', WAIT);
    assert.equal(
      f.tb.broker.clientConnection('in-the-browser')?.listener,
      f.tb.broker.addresses()[1]!.name,
    );

    await page.fill('#ws-sub-filter', 'chat/#');
    await page.selectOption('#ws-sub-qos', '1');
    await page.click('#ws-sub button[type=submit]');
    await page.waitForSelector('#ws-messages li:has-text("subscribed to chat/# (QoS 1)")', WAIT);
    await tcp.publishAsync('chat/room', 'hello from TCP', { qos: 1 });
    await page.waitForSelector(
      '#ws-messages li:has-text("chat/room  hello from TCP  (QoS 1)")',
      WAIT,
    );

    await tcp.subscribeAsync('replies/#', { qos: 2 });
    const got = new Promise<string>((resolve) =>
      tcp.once('message', (topic, payload, packet) =>
        resolve(`${topic} ${payload} q${packet.qos}`),
      ),
    );
    await page.fill('#ws-pub-topic', 'replies/1');
    await page.fill('#ws-pub-payload', 'hello from the browser');
    await page.selectOption('#ws-pub-qos', '2');
    await page.click('#ws-pub button[type=submit]');
    assert.equal(await got, 'replies/1 hello from the browser q2');
    await page.waitForSelector('#ws-messages li:has-text("published to replies/1 (QoS 2)")', WAIT);

    await page.click('#ws-disconnect');
    await page.waitForSelector('#ws-state:text-is("disconnected")', WAIT);
    assert.deepEqual(errors, []);
  });
});
