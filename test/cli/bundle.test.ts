// bin/heron.js runs the CLI from dist/src/cli/bundle.cjs (scripts/bundle-cli.js), or
// with HERON_NO_BUNDLE=1 from the ES modules: an operator must get the same program.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { KEEP_ROOT_TEXT } from '../helpers/keep-root.js';
import { freePort, HERON_BIN, stopProcess, waitForListening } from '../helpers/process.js';

const run = promisify(execFile);

for (const [mode, env] of [
  ['the bundle', {}],
  ['the ES modules (HERON_NO_BUNDLE=1)', { HERON_NO_BUNDLE: '1' }],
] as const) {
  test(`from ${mode}: the broker with an LMDB store, \`heron pub\` into it, and a bad configuration's exit status`, {
    timeout: 30_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heron-bundle-'));
    const port = await freePort();
    const conf = join(dir, 'heron.conf');
    writeFileSync(
      conf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\n${KEEP_ROOT_TEXT}`,
    );
    const child = spawn(HERON_BIN, ['-c', conf], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const broker = await waitForListening(child, [port], 'heron');
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bundle-sub' });
    try {
      await sub.subscribeAsync('bundle/t', { qos: 1 });
      const got = new Promise<[string, Buffer]>((resolve) =>
        sub.once('message', (topic, payload) => resolve([topic, payload])),
      );
      // `heron pub` lives in the part of the CLI that is loaded on demand.
      await run(HERON_BIN, ['pub', '-p', String(port), '-t', 'bundle/t', '-m', 'hi', '-q', '1'], {
        env: { ...process.env, ...env },
        timeout: 10_000,
      });
      const [topic, payload] = await got;
      assert.deepEqual([topic, payload.toString()], ['bundle/t', 'hi']);
      assert.match(broker.output(), /Restored 0 sessions/);
    } finally {
      await sub.endAsync();
      await stopProcess(child);
    }
    writeFileSync(conf, 'listener nonsense\n');
    const bad = await run(HERON_BIN, ['-c', conf], { env: { ...process.env, ...env } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /heron\.conf:1/);
    rmSync(dir, { recursive: true, force: true });
  });
}
