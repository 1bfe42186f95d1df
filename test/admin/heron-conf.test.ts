// The admin options of a mosquitto.conf-style file, run by the real `heron -c`:
// the users file, the latency probe and the configured bridges, checked over
// HTTP and on the dashboard's bridges page in headless Chromium.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/auth/password-hash.js';
import { type HeronProcess, startHeron } from '../auth/heron-process.js';
import { assertChromiumInstalled, launchChromium } from '../helpers/chromium.js';
import { freePort } from '../helpers/process.js';
import { until } from './admin-fixture.js';

const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

interface BridgeRow {
  name: string;
  state: string;
  address: string;
  lastError: { message: string; at: string } | null;
}

describe('heron -c with admin_users_file, admin_latency_probe and a bridge', () => {
  let dir: string;
  let heron: HeronProcess;
  let base: string;
  let deadPort: number;
  const alice = basic('alice', 'wonderland');

  before(async () => {
    assertChromiumInstalled();
    dir = await mkdtemp(join(tmpdir(), 'heron-conf-admin-'));
    const users = join(dir, 'admin-users');
    await writeFile(
      users,
      `alice:${hashPassword('wonderland')}:admin\nvictor:${hashPassword('looking')}\n`,
    );
    const [mqttPort, adminPort] = [await freePort(), await freePort()];
    // Nothing listens here: the bridge can only fail.
    deadPort = await freePort();
    base = `http://127.0.0.1:${adminPort}/`;
    heron = await startHeron(
      dir,
      [
        `listener ${mqttPort} 127.0.0.1`,
        'allow_anonymous true',
        `admin_listener ${adminPort} 127.0.0.1`,
        `admin_users_file ${users}`,
        `admin_latency_probe mqtt://127.0.0.1:${mqttPort} 1`,
        'connection nowhere',
        `address 127.0.0.1:${deadPort}`,
        'restart_timeout 1',
        'topic out/# out 0',
      ],
      // The admin listener opens after the MQTT one: wait for both.
      [mqttPort, adminPort],
      'heron',
    );
  });

  after(async () => {
    await heron?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the users file decides who gets in, and with which role', async () => {
    assert.equal((await fetch(`${base}api/v1/whoami`)).status, 401);
    assert.equal(
      (await fetch(`${base}api/v1/whoami`, { headers: basic('alice', 'wrong') })).status,
      401,
    );
    const me = await fetch(`${base}api/v1/whoami`, { headers: alice });
    assert.deepEqual(await me.json(), { name: 'alice', role: 'admin' });
    const viewer = await fetch(`${base}api/v1/whoami`, { headers: basic('victor', 'looking') });
    assert.deepEqual(await viewer.json(), { name: 'victor', role: 'viewer' });
  });

  test('the latency probe fills the publish→delivery histogram', async () => {
    let count = 0;
    await until(async () => {
      const text = await (await fetch(`${base}metrics`, { headers: alice })).text();
      count = Number(/^heron_delivery_latency_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
      return count >= 2;
    }, 10_000);
    assert.ok(count >= 2, `probe messages measured: ${count}`);
  });

  test('the configured bridge is listed with the error that keeps it down', async () => {
    let row: BridgeRow | undefined;
    await until(async () => {
      const res = await fetch(`${base}api/v1/bridges`, { headers: alice });
      row = ((await res.json()) as { items: BridgeRow[] }).items.find((b) => b.name === 'nowhere');
      return row?.lastError !== null && row?.lastError !== undefined;
    }, 10_000);
    assert.ok(row !== undefined && row.lastError !== null, 'the bridge has a last error');
    assert.notEqual(row.state, 'connected');
    assert.equal(row.address, `127.0.0.1:${deadPort}`);
    assert.match(row.lastError.message, new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
    assert.match(row.lastError.message, /ECONNREFUSED/);
    const age = Date.now() - Date.parse(row.lastError.at);
    assert.ok(age >= 0 && age < 60_000, `error time ${row.lastError.at}`);

    const chrome = await launchChromium('heron-conf-admin-', {
      viewport: { width: 1280, height: 900 },
    });
    try {
      const { page } = chrome;
      await page.goto(`${base}#/cluster`);
      await page.waitForSelector('#token-panel:not([hidden])', { timeout: 8000 });
      await page.fill('#user-input', 'victor');
      await page.fill('#token-input', 'looking');
      await page.click('#token-form button[type=submit]');
      const error = 'tr[data-bridge-error="nowhere"]';
      await page.waitForSelector(`${error} .message`, { timeout: 8000 });
      assert.match(
        (await page.textContent(`${error} .message`))!,
        new RegExp(`^connection to 127\\.0\\.0\\.1:${deadPort} failed: .*ECONNREFUSED`),
      );
      assert.match((await page.textContent(error))!, /^Last error, \d+s ago: /);
      assert.match(
        (await page.textContent('tr[data-bridge="nowhere"]'))!,
        new RegExp(`nowhere(connecting|waiting)127\\.0\\.0\\.1:${deadPort}`),
      );
      // The probe's messages go in and out through the MQTT listener: the overview counts them there.
      await page.click('nav.tabs a[data-page="overview"]');
      await page.waitForSelector(
        '#listeners span:text-matches("[1-9][0-9]* in · [1-9][0-9]* out")',
        {
          timeout: 8000,
        },
      );
    } finally {
      await chrome.close();
    }
  });
});

test('a bad admin users file stops heron as a configuration error (exit 3), naming the config line and the bad line of the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'heron-conf-badusers-'));
  try {
    const users = join(dir, 'admin-users');
    await writeFile(users, `# roles\nroot:${hashPassword('x')}:superuser\n`);
    const conf = join(dir, 'heron.conf');
    await writeFile(
      conf,
      [
        `listener ${await freePort()} 127.0.0.1`,
        `admin_listener ${await freePort()} 127.0.0.1`,
        `admin_users_file ${users}`,
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/heron.js'), '-c', conf], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 3, out);
    assert.ok(
      out.includes(
        `${conf}:3: admin_users_file: ${users}:2: role must be viewer or admin, not 'superuser'`,
      ),
      out,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
