import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBroker } from '../helpers/broker.js';
import { KEEP_ROOT } from '../helpers/keep-root.js';
import { freePort, waitFor } from '../helpers/process.js';
import { record } from './bridge-helpers.js';

test('heron -c starts the configured bridges and stops them (state 0) on SIGTERM', async () => {
  const remote = await startBroker();
  const dir = mkdtempSync(join(tmpdir(), 'heron-bridge-'));
  const port = await freePort();
  const conf = join(dir, 'heron.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'connection cli',
      `address 127.0.0.1:${remote.port}`,
      'remote_clientid cli-bridge',
      'topic up/# out 1',
      ...KEEP_ROOT,
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['bin/heron.js', '-c', conf], { stdio: 'ignore' });
  const state = '$SYS/broker/connection/cli-bridge/state';
  try {
    await waitFor(
      () => remote.broker.retained.get(state)?.payload.toString() === '1',
      5000,
      'bridge connected',
    );
    const atRemote = await record(remote.url, ['up/#']);
    const pub = await record(`mqtt://127.0.0.1:${port}`, []);
    await pub.client.publish('up/x', 'hello', { qos: 1 });
    assert.equal((await atRemote.next('up/x')).payload.toString(), 'hello');
    await pub.close();
    await atRemote.close();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.equal(remote.broker.retained.get(state)?.payload.toString(), '0');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await remote.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
