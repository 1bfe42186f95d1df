// Dashboard users with roles and API keys from a hashed users file: over HTTP,
// and in headless Chromium (a viewer sees no buttons that change anything).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { parseUsersFile } from '../../src/admin/users-file.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { assertChromiumInstalled, type HeadlessChromium } from '../helpers/chromium.js';
import {
  type AdminFixture,
  launchDashboardBrowser,
  postJson,
  startAdminFixture,
} from './admin-fixture.js';

const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('admin users and API keys', () => {
  let dir: string;
  let file: string;
  let f: AdminFixture;
  let chrome: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    assertChromiumInstalled();
    dir = await mkdtemp(join(tmpdir(), 'heron-users-'));
    file = join(dir, 'admin-users');
    await writeFile(
      file,
      [
        '# dashboard users and API keys',
        `alice:${hashPassword('wonderland')}:admin`,
        `victor:${hashPassword('looking')}:viewer`,
        `vera:${hashPassword('default-role')}`,
        `@grafana:${hashPassword('s3cret-scrape')}:viewer`,
        `@deploy:${hashPassword('s3cret-deploy')}:admin`,
        '',
      ].join('\n'),
    );
    f = await startAdminFixture({}, { usersFile: file, token: 'break-glass' });
    chrome = await launchDashboardBrowser('heron-users-');
    page = chrome.page;
  });

  after(async () => {
    await chrome?.close();
    await f?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('users and keys get their role; viewers cannot change anything (403)', async () => {
    const who = async (h: Record<string, string>) =>
      (await f.json('api/v1/whoami', { headers: h })).body;
    assert.deepEqual(await who(basic('alice', 'wonderland')), { name: 'alice', role: 'admin' });
    assert.deepEqual(await who(basic('victor', 'looking')), { name: 'victor', role: 'viewer' });
    assert.deepEqual(await who(basic('vera', 'default-role')), { name: 'vera', role: 'viewer' });
    assert.deepEqual(await who(bearer('grafana.s3cret-scrape')), {
      name: 'key:grafana',
      role: 'viewer',
    });
    assert.deepEqual(await who(bearer('break-glass')), { name: 'token', role: 'admin' });
    for (const h of [
      basic('alice', 'nope'),
      basic('mallory', 'x'),
      bearer('grafana.wrong'),
      bearer('x'),
    ]) {
      assert.equal((await f.http('api/v1/stats', { headers: h })).status, 401);
    }
    assert.equal((await fetch(`${f.base}api/v1/stats`)).status, 401);
    assert.equal(
      (await f.http('metrics', { headers: bearer('grafana.s3cret-scrape') })).status,
      200,
    );

    const publish = (h: Record<string, string>) =>
      f.http('api/v1/publish', {
        ...postJson({ topic: 'roles/x', payload: 'y' }),
        headers: { 'content-type': 'application/json', ...h },
      });
    const refused = await publish(basic('victor', 'looking'));
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: string }).error, /viewer/);
    assert.equal((await publish(bearer('grafana.s3cret-scrape'))).status, 403);
    assert.equal((await publish(basic('alice', 'wonderland'))).status, 200);
    assert.equal((await publish(bearer('deploy.s3cret-deploy'))).status, 200);
    await f.client('roles-target');
    const kick = (h: Record<string, string>) =>
      f.http('api/v1/clients/roles-target', { method: 'DELETE', headers: h });
    assert.equal((await kick(basic('victor', 'looking'))).status, 403);
    assert.equal(f.tb.broker.sessions.get('roles-target')?.online === true, true);
    assert.equal((await kick(basic('alice', 'wonderland'))).status, 200);
  });

  test('the file is checked: bad roles and hashes are refused with their line', () => {
    assert.throws(
      () => parseUsersFile(`bob:${hashPassword('x')}:root`),
      /:1: role must be viewer or admin/,
    );
    assert.throws(() => parseUsersFile('\nbob:plaintext:admin'), /:2: /);
    assert.throws(() => parseUsersFile(`@a.b:${hashPassword('x')}`), /must not contain '\.'/);
  });

  test('in the browser: a viewer signs in and sees no Kick or Publish; an admin kicks', async () => {
    await f.client('watched', { protocolVersion: 5 });
    await page.goto(`${f.base}#/clients`);
    await page.waitForSelector('#token-panel:not([hidden])', { timeout: 5000 });
    await page.fill('#user-input', 'victor');
    await page.fill('#token-input', 'looking');
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction(
      "document.getElementById('whoami').textContent === 'victor (viewer)'",
    );
    await page.waitForSelector('tr[data-client-id="watched"]', { timeout: 5000 });
    assert.equal(await page.isVisible('tr[data-client-id="watched"] button.kick'), false);
    await page.click('nav.tabs a[data-page="retained"]');
    assert.equal(await page.isVisible('#publish-form button[type=submit]'), false);

    await page.click('#token-button');
    await page.fill('#user-input', 'alice');
    await page.fill('#token-input', 'wonderland');
    await page.click('#token-form button[type=submit]');
    await page.waitForFunction("document.getElementById('whoami').textContent === 'alice (admin)'");
    await page.click('nav.tabs a[data-page="clients"]');
    const button = 'tr[data-client-id="watched"] button.kick';
    await page.waitForSelector(button, { state: 'visible', timeout: 5000 });
    const watched = f.tb.broker.sessions.get('watched');
    assert.equal(watched?.online, true);
    const gone = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (f.tb.broker.sessions.get('watched')?.online !== true) {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
    await page.click(button);
    await page.click(`${button}.confirm`);
    await gone;
  });
});
