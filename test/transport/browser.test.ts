// A real browser (headless Chromium driven by playwright-core) loads a page that
// connects MQTT.js's browser bundle over ws:// to Heron and receives a message
// published over TCP. Chromium missing is a failure, never a skip.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createBroker } from '../../src/broker/broker.js';
import { PacketType } from '../../src/protocol/constants.js';
import { assertChromiumInstalled, launchChromium } from '../helpers/chromium.js';
import { connectRaw } from '../helpers/raw-client.js';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/mqtt.min.js"></script></head>
<body><ul id="log"></ul>
<script>
  window.received = [];
  window.subscribed = false;
  const params = new URLSearchParams(location.search);
  const client = mqtt.connect('ws://127.0.0.1:' + params.get('port') + '/mqtt', { clientId: 'browser-1' });
  client.on('connect', () => {
    client.subscribe('browser/#', { qos: 1 }, (err) => { window.subscribed = !err; });
  });
  client.on('message', (topic, payload) => {
    const text = topic + ' ' + new TextDecoder().decode(payload);
    window.received.push(text);
    const li = document.createElement('li');
    li.textContent = text;
    document.getElementById('log').appendChild(li);
  });
  client.on('error', (e) => { window.lastError = String(e); });
</script></body></html>`;

test('MQTT.js in headless Chromium receives over ws:// a message published over TCP', async () => {
  assertChromiumInstalled();
  const bundle = await readFile(join('node_modules', 'mqtt', 'dist', 'mqtt.min.js'));
  const broker = createBroker({
    sysInterval: 0,
    listeners: [
      { port: 0, host: '127.0.0.1' },
      { port: 0, host: '127.0.0.1', protocol: 'websockets' },
    ],
  });
  const [tcp, ws] = await broker.listen();
  const web = http.createServer((req, res) => {
    if (req.url?.startsWith('/mqtt.min.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    }
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const webPort = (web.address() as AddressInfo).port;
  const chrome = await launchChromium('heron-chromium-');
  try {
    const page = chrome.page;
    await page.goto(`http://127.0.0.1:${webPort}/?port=${ws!.port}`);
    // Expressions as strings: they run in the page (this project compiles without DOM types).
    await page.waitForFunction('window.subscribed === true', undefined, { timeout: 10_000 });
    const pub = await connectRaw(tcp!.port, { clientId: 'tcp-publisher' });
    pub.send({
      type: PacketType.PUBLISH,
      topic: 'browser/news',
      payload: Buffer.from('hello browser'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    });
    await pub.nextOfType(PacketType.PUBACK);
    await page.waitForFunction('window.received.length > 0', undefined, { timeout: 10_000 });
    const received = (await page.evaluate('window.received')) as string[];
    assert.deepEqual(received, ['browser/news hello browser']);
    assert.equal(await page.textContent('#log li'), 'browser/news hello browser');
    pub.destroy();
  } finally {
    await chrome.close();
    await new Promise((r) => web.close(r));
    await broker.close();
  }
});
