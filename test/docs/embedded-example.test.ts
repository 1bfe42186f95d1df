import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { installPackage } from '../helpers/installed-package.js';

// docs/embedding.md points users at examples/embedded.mjs: it must keep working,
// run as a user runs it, next to heron-mqtt installed from the packed tarball.
test('examples/embedded.mjs runs: hooks authenticate, retained app status delivered', async () => {
  const pkg = await installPackage();
  await copyFile('examples/embedded.mjs', join(pkg.dir, 'embedded.mjs'));
  const child = spawn(process.execPath, ['embedded.mjs'], {
    cwd: pkg.dir,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /listening on [^\s]+:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`example exited early (${code}): ${out}`)));
    });
    const url = `mqtt://127.0.0.1:${port}`;
    await assert.rejects(
      mqtt.connectAsync(url, { username: 'alice', password: 'wrong', reconnectPeriod: 0 }),
      /Bad username or password/i,
    );
    const c = await mqtt.connectAsync(url, {
      username: 'alice',
      password: 'secret',
      clientId: 'alice-1',
    });
    const got = new Promise<[string, Buffer, { retain: boolean }]>((resolve) =>
      c.once('message', (t, p, pk) => resolve([t, p, pk])),
    );
    await c.subscribeAsync('app/status');
    const [topic, payload, packet] = await got;
    assert.equal(topic, 'app/status');
    assert.equal(payload.toString(), 'online');
    assert.equal(packet.retain, true);
    await c.endAsync();
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await exited;
    }
    await pkg.remove();
  }
});
