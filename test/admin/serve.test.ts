// `heron` started from a configuration with admin_listener / admin_token runs the
// admin server, logs its address, and stops it on shutdown.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFromConfig } from '../../src/cli/serve.js';
import { parseConfigText } from '../../src/config/parse.js';
import { freePort } from '../helpers/process.js';
import { until } from './admin-fixture.js';

test('admin_listener and admin_token start a token-protected admin server that stops with the broker', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'heron-admin-serve-'));
  const logFile = join(dir, 'heron.log');
  try {
    const config = parseConfigText(
      `listener ${await freePort()} 127.0.0.1\nadmin_listener 0 127.0.0.1\nadmin_token hunter2\nlog_dest file ${logFile}\n`,
      'admin.conf',
      { cwd: dir },
    );
    const running = await startFromConfig(config);
    let url: string;
    try {
      const admin = running.admin;
      assert.ok(admin !== undefined, 'the admin server runs');
      url = admin.address().url;
      assert.equal(admin.address().host, '127.0.0.1');
      assert.equal((await fetch(`${url}api/v1/stats`)).status, 401);
      const ok = await fetch(`${url}api/v1/listeners`, {
        headers: { authorization: 'Bearer hunter2' },
      });
      assert.equal(ok.status, 200);
      const { items } = (await ok.json()) as { items: Array<{ port: number }> };
      assert.equal(items[0]!.port, config.listeners[0]!.port);
      await until(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes(url), 3000);
    } finally {
      await running.stop();
    }
    await assert.rejects(fetch(`${url}healthz`), 'the admin server is closed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without admin_listener no admin server runs', async () => {
  const config = parseConfigText(
    `listener ${await freePort()} 127.0.0.1\nlog_dest none\n`,
    'plain.conf',
  );
  const running = await startFromConfig(config);
  try {
    assert.equal(running.admin, undefined);
  } finally {
    await running.stop();
  }
});

test('admin_listener with only a port binds loopback: reachable on 127.0.0.1, nowhere else', async () => {
  const port = await freePort();
  const config = parseConfigText(
    `listener ${await freePort()} 127.0.0.1\nadmin_listener ${port}\nlog_dest none\n`,
    'loopback.conf',
  );
  const running = await startFromConfig(config);
  try {
    assert.equal(running.admin!.address().host, '127.0.0.1');
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    // ::1 is loopback too, but not the address bound: nothing answers there.
    await assert.rejects(fetch(`http://[::1]:${port}/healthz`));
  } finally {
    await running.stop();
  }
});
