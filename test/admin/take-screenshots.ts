// Takes the screenshots in docs/images/ (not a test): a broker scene with real
// clients, a bridge and a two-node cluster, each dashboard page in headless Chromium.
// Run: npm run build && node dist/test/admin/take-screenshots.js docs/images
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAdmin } from '../../src/admin/server.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { startBridges } from '../../src/bridge/index.js';
import { bridgeConfig } from '../bridge/bridge-helpers.js';
import { freshPrefix, startNode } from '../cluster/support/nodes.js';
import { startRedis } from '../cluster/support/redis.js';
import { startBroker } from '../helpers/broker.js';
import { launchChromium } from '../helpers/chromium.js';
import { freePort } from '../helpers/process.js';
import { paletteize } from './png-palette.js';

const out = process.argv[2] ?? 'docs/images';
await mkdir(out, { recursive: true });
const dir = await mkdtemp(join(tmpdir(), 'heron-shots-'));
const users = join(dir, 'admin-users');
await writeFile(users, `ops:${hashPassword('ops-password')}:admin\n`);

const redis = await startRedis();
const prefix = freshPrefix();
const n1 = await startNode(redis.url, prefix, 'heron-a', {
  sysInterval: 1,
  listeners: [
    { port: 0, host: '127.0.0.1', name: 'mqtt' },
    { port: 0, host: '127.0.0.1', protocol: 'websockets', name: 'websockets' },
  ],
});
const n2 = await startNode(redis.url, prefix, 'heron-b');
const remote = await startBroker();
const handles = startBridges(n1.broker, [
  bridgeConfig('cloud-uplink', [remote.port], 'topic telemetry/# out 1'),
  // Nothing listens there: the page shows its last error.
  bridgeConfig('backup-site', [await freePort()], 'topic telemetry/# out 1'),
]);
const admin = await startAdmin(n1.broker, {
  port: 0,
  defaultMetrics: false,
  bridges: handles,
  usersFile: users,
  historyIntervalMs: 1000,
  alarms: { intervalMs: 200, slowConsumerQueued: 20 },
});
const [tcp] = n1.broker.addresses();
const url = `mqtt://127.0.0.1:${tcp!.port}`;
const clients: MqttClient[] = [];
const connect = async (clientId: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> => {
  const c = await mqtt.connectAsync(url, {
    clientId,
    reconnectPeriod: 0,
    protocolVersion: 5,
    ...opts,
  });
  clients.push(c);
  return c;
};

// The scene: sensors publishing, a dashboard, a shared-subscription worker pool,
// an offline logger with a queue, retained state, one client that never acknowledges.
const sensors: MqttClient[] = [];
for (let i = 1; i <= 6; i++) {
  sensors.push(
    await connect(`sensor-${String(i).padStart(2, '0')}`, {
      username: 'sensors',
      protocolVersion: i % 3 === 0 ? 4 : 5,
      will: { topic: `status/sensor-${i}`, payload: Buffer.from('offline'), qos: 1, retain: true },
    }),
  );
}
const dash = await connect('control-room', { username: 'ops' });
await dash.subscribeAsync({ 'telemetry/+/temperature': { qos: 1 }, 'status/#': { qos: 0 } });
for (const w of ['worker-1', 'worker-2', 'worker-3']) {
  const c = await connect(w, { username: 'jobs' });
  await c.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
}
const logger = await connect('archive-logger', {
  username: 'archive',
  clean: false,
  properties: { sessionExpiryInterval: 86400 },
});
await logger.subscribeAsync('telemetry/#', { qos: 1 });
await logger.endAsync();
const there = await mqtt.connectAsync(n2.url, {
  clientId: 'mobile-app-7',
  clean: false,
  reconnectPeriod: 0,
});
clients.push(there);
for (let i = 1; i <= 6; i++) {
  await sensors[0]!.publishAsync(`status/sensor-${i}`, 'online', { qos: 1, retain: true });
}
await sensors[0]!.publishAsync('config/firmware/latest', '{"version":"2.4.1","sha256":"9f2c…"}', {
  qos: 1,
  retain: true,
});
let tick = 0;
const traffic = setInterval(() => {
  tick++;
  sensors.forEach((s, i) => {
    if ((tick + i) % 2 === 0) {
      s.publish(
        `telemetry/sensor-${i + 1}/temperature`,
        (20 + Math.sin(tick / 9 + i) * 3).toFixed(1),
        { qos: 1 },
      );
    }
  });
  if (tick % 5 === 0) dash.publish('jobs/report', `{"n":${tick}}`, { qos: 1 });
}, 100);
await new Promise((r) => setTimeout(r, 20_000));

const chrome = await launchChromium('heron-shots-', { viewport: { width: 1000, height: 760 } });
const page = chrome.page;
const base = admin.address().url;
const shot = async (name: string, fullPage = true): Promise<void> => {
  const file = join(out, `${name}.png`);
  await new Promise((r) => setTimeout(r, 1300));
  await page.screenshot({ path: file, fullPage });
  paletteize(file);
  console.log(file);
};
await page.goto(base);
await page.waitForSelector('#token-panel:not([hidden])');
await page.fill('#user-input', 'ops');
await shot('admin-sign-in', false);
await page.fill('#token-input', 'ops-password');
await page.click('#token-form button[type=submit]');
await page.waitForSelector('#status.live');
await shot('admin-overview');
await page.goto(`${base}#/clients`);
await page.waitForSelector('tr[data-client-id="sensor-01"]');
await shot('admin-clients');
await page.goto(`${base}#/clients/sensor-03`);
await page.waitForSelector('#client-facts dt');
await shot('admin-client');
await page.goto(`${base}#/sessions`);
await page.waitForSelector('tr[data-client-id="archive-logger"]');
await shot('admin-sessions');
await page.goto(`${base}#/subscriptions`);
await page.waitForSelector('tr[data-group="workers"]');
await shot('admin-subscriptions');
await page.goto(`${base}#/retained`);
await page.waitForSelector('#topics li');
await shot('admin-retained');
await page.goto(`${base}#/cluster`);
await page.waitForSelector('tr[data-node="heron-b"]');
await page.waitForSelector('tr[data-bridge-error="backup-site"]');
await page.fill('#owner-id', 'mobile-app-7');
await page.click('#owner-form button');
await page.waitForSelector('#owner-result:not([hidden])');
await shot('admin-cluster');
// A consumer that stops reading raises an alarm.
const raw = await mqtt.connectAsync(url, {
  clientId: 'stuck-consumer',
  reconnectPeriod: 0,
  protocolVersion: 5,
});
clients.push(raw);
await raw.subscribeAsync('telemetry/#', { qos: 1 });
(raw as unknown as { stream: { pause(): void } }).stream.pause();
await page.goto(`${base}#/alarms`);
await page.waitForSelector('#alarms-active li[data-kind="slow_consumer"]', { timeout: 20_000 });
await shot('admin-alarms');
await page.goto(`${base}#/trace`);
await page.fill('#trace-value', 'telemetry/sensor-2/#');
await page.click('#trace-start');
await page.waitForSelector('#trace-lines li:nth-child(6)');
await shot('admin-trace');
await page.click('#trace-stop');
await page.goto(`${base}#/websocket`);
await page.fill('#ws-client-id', 'browser-check');
await page.click('#ws-connect-button');
await page.waitForSelector('#ws-state:text-is("connected")');
await page.fill('#ws-sub-filter', 'status/#');
await page.click('#ws-sub button[type=submit]');
await page.fill('#ws-pub-topic', 'jobs/manual');
await page.fill('#ws-pub-payload', '{"run":"now"}');
await page.click('#ws-pub button[type=submit]');
await page.waitForSelector('#ws-messages li:nth-child(5)');
await shot('admin-websocket');
await page.setViewportSize({ width: 420, height: 860 });
await page.goto(`${base}#/retained`);
await page.waitForSelector('#topics li');
await shot('admin-phone', false);

clearInterval(traffic);
await chrome.close();
await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
await admin.close();
await Promise.all(handles.map((h) => h.stop()));
await Promise.all([n1.close(), n2.close(), remote.close()]);
await redis.stop();
await rm(dir, { recursive: true, force: true });
