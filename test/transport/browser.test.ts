// A real browser (headless Chromium driven by playwright-core) loads a page that
// connects MQTT.js's browser bundle over ws:// to Heron and receives a message
// published over TCP. Chromium missing is a failure, never a skip.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { createBroker } from '../../src/broker/broker.js';
import { connectRaw } from '../helpers/raw-client.js';

const CHROMIUM = '/usr/bin/chromium';

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
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`,
  );
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
  const profile = await mkdtemp(join(tmpdir(), 'heron-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${webPort}/?port=${ws!.port}`);
    // Expressions as strings: they run in the page (this project compiles without DOM types).
    await page.waitForFunction('window.subscribed === true', undefined, { timeout: 10_000 });
    const pub = await connectRaw(tcp!.port, { clientId: 'tcp-publisher' });
    pub.send({
      type: 3,
      topic: 'browser/news',
      payload: Buffer.from('hello browser'),
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    });
    await pub.nextOfType(4);
    await page.waitForFunction('window.received.length > 0', undefined, { timeout: 10_000 });
    const received = (await page.evaluate('window.received')) as string[];
    assert.deepEqual(received, ['browser/news hello browser']);
    assert.equal(await page.textContent('#log li'), 'browser/news hello browser');
    pub.destroy();
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
    await new Promise((r) => web.close(r));
    await broker.close();
  }
});
