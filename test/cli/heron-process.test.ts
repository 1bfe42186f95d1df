import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const T = { timeout: 30_000 };

import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { KEEP_ROOT, KEEP_ROOT_TEXT } from '../helpers/keep-root.js';
import {
  freePort,
  HERON_BIN,
  startHeron,
  stopProcess,
  waitForListening,
} from '../helpers/process.js';

const run = promisify(execFile);

/** mosquitto_pub's exit code for one message. */
async function mosquittoPub(port: number, extra: string[]): Promise<number> {
  try {
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...extra], {
      timeout: 5000,
    });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? 1;
  }
}

test(
  'run as a program, bin/heron.js becomes node with the broker V8 flags in the same process; HERON_NODE_FLAGS replaces them',
  T,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heron-launcher-'));
    const cases: [NodeJS.ProcessEnv, string[]][] = [
      [{}, ['--max-semi-space-size=4']],
      [
        { HERON_NODE_FLAGS: '--max-old-space-size=512 --stack-size=2000' },
        ['--max-old-space-size=512', '--stack-size=2000'],
      ],
      [{ HERON_NODE_FLAGS: '' }, []],
    ];
    for (const [env, flags] of cases) {
      const port = await freePort();
      const pidFile = join(dir, `${port}.pid`);
      writeFileSync(
        join(dir, `${port}.conf`),
        `listener ${port} 127.0.0.1\nallow_anonymous true\npid_file ${pidFile}\n${KEEP_ROOT_TEXT}`,
      );
      const started = spawn(HERON_BIN, ['-c', join(dir, `${port}.conf`)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
      const { child, output } = await waitForListening(started, [port], 'heron');
      try {
        // exec keeps the process id: the pid file, signals and service managers see one process.
        for (let i = 0; i < 100 && !existsSync(pidFile); i++)
          await new Promise((r) => setTimeout(r, 50));
        assert.equal(readFileSync(pidFile, 'utf8').trim(), String(child.pid), output());
        const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        assert.match(argv[0]!, /node$/);
        assert.deepEqual(argv.slice(1, 1 + flags.length), flags);
        assert.equal(argv[1 + flags.length], HERON_BIN);
        assert.equal(await mosquittoPub(port, ['-t', 'launcher', '-m', 'up']), 0);
      } finally {
        assert.equal(await stopProcess(child), 0);
      }
      assert.match(output(), /terminating/);
    }
  },
);

test(
  "Debian's stock mosquitto.conf layout: pid_file, persistence, log file, include_dir with TCP and WebSocket listeners",
  T,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heron-stock-'));
    const tcp = await freePort();
    const ws = await freePort();
    mkdirSync(join(dir, 'conf.d'));
    mkdirSync(join(dir, 'log'));
    // The stock file from Debian's package when present (else its same lines), with its paths moved into the temp dir.
    const stockPath = '/etc/mosquitto/mosquitto.conf';
    const stock = existsSync(stockPath)
      ? readFileSync(stockPath, 'utf8')
      : 'pid_file /run/mosquitto/mosquitto.pid\npersistence true\npersistence_location /var/lib/mosquitto/\nlog_dest file /var/log/mosquitto/mosquitto.log\ninclude_dir /etc/mosquitto/conf.d\n';
    const conf = stock
      .replace('/run/mosquitto/mosquitto.pid', join(dir, 'mosquitto.pid'))
      .replace('/var/lib/mosquitto/', `${join(dir, 'data')}/`)
      .replace('/var/log/mosquitto/mosquitto.log', join(dir, 'log', 'mosquitto.log'))
      .replaceAll('/etc/mosquitto/conf.d', join(dir, 'conf.d'));
    writeFileSync(join(dir, 'mosquitto.conf'), conf);
    writeFileSync(
      join(dir, 'conf.d', 'listeners.conf'),
      `listener ${tcp} 127.0.0.1\nlistener ${ws} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n${KEEP_ROOT_TEXT}`,
    );
    const { child, output } = await startHeron(['-c', join(dir, 'mosquitto.conf')], tcp, ws);
    try {
      // The pid file is written once every listener is open.
      const pidFile = join(dir, 'mosquitto.pid');
      for (let i = 0; i < 100 && !existsSync(pidFile); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(pidFile), `pid file written; heron output: ${output()}`);
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(child.pid));
      // A browser-style client over WebSocket receives what mosquitto_pub sends over TCP.
      const sub = await mqtt.connectAsync(`ws://127.0.0.1:${ws}/mqtt`, { clientId: 'ws-sub' });
      const got = new Promise<string>((resolve) =>
        sub.once('message', (t, p) => resolve(`${t} ${p}`)),
      );
      await sub.subscribeAsync('home/#', { qos: 1 });
      assert.equal(
        await mosquittoPub(tcp, ['-t', 'home/garden/fountain', '-m', 'on', '-q', '1']),
        0,
      );
      assert.equal(await got, 'home/garden/fountain on');
      await sub.endAsync();
      // The persistence directory was created where the file says.
      assert.ok(existsSync(join(dir, 'data')), 'persistence_location created');
    } finally {
      assert.equal(await stopProcess(child), 0, 'SIGTERM exits 0');
    }
    const log = readFileSync(join(dir, 'log', 'mosquitto.log'), 'utf8');
    assert.match(log, new RegExp(`^\\d+: Opening ipv4 listen socket on port ${tcp}\\.$`, 'm'));
    assert.match(log, new RegExp(`^\\d+: Opening websockets listen socket on port ${ws}\\.$`, 'm'));
    assert.match(log, /New client connected from 127\.0\.0\.1:\d+ as ws-sub/);
    assert.ok(!existsSync(join(dir, 'mosquitto.pid')), 'pid file removed on shutdown');
  },
);

test('SIGHUP applies a changed password file without a restart', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heron-hup-'));
  const port = await freePort();
  const pw = join(dir, 'passwords');
  await run('mosquitto_passwd', ['-c', '-b', pw, 'alice', 'old-secret']);
  writeFileSync(
    join(dir, 'heron.conf'),
    `listener ${port} 127.0.0.1\npassword_file ${pw}\n${KEEP_ROOT_TEXT}`,
  );
  const { child, output } = await startHeron(['-c', join(dir, 'heron.conf')], port);
  try {
    assert.equal(
      await mosquittoPub(port, ['-t', 't', '-m', 'x', '-u', 'alice', '-P', 'old-secret']),
      0,
    );
    // Anonymous clients are refused once listeners are configured (Mosquitto 2).
    assert.notEqual(await mosquittoPub(port, ['-t', 't', '-m', 'x']), 0);
    await run('mosquitto_passwd', ['-b', pw, 'alice', 'new-secret']);
    child.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    while (!output().includes('Configuration reloaded') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(output(), /Configuration reloaded/);
    assert.equal(
      await mosquittoPub(port, ['-t', 't', '-m', 'x', '-u', 'alice', '-P', 'new-secret']),
      0,
    );
    assert.notEqual(
      await mosquittoPub(port, ['-t', 't', '-m', 'x', '-u', 'alice', '-P', 'old-secret']),
      0,
    );
  } finally {
    assert.equal(await stopProcess(child), 0);
  }
});

test('a bad option fails startup with file, line and option, before listening', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heron-bad-'));
  const port = await freePort();
  const file = join(dir, 'bad.conf');
  writeFileSync(file, `listener ${port} 127.0.0.1\nmax_inflight_messages lots\n`);
  const child = spawn(process.execPath, [HERON_BIN, '-c', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const [code] = await once(child, 'exit');
  assert.notEqual(code, 0);
  assert.match(err, /bad\.conf:2: max_inflight_messages: /);
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
  assert.ok(refused, 'nothing listens after a configuration error');
});

test('heron --version and --help', T, async () => {
  const v = await run(process.execPath, [HERON_BIN, '--version']);
  assert.match(v.stdout, /^heron version \d+\.\d+\.\d+/);
  const h = await run(process.execPath, [HERON_BIN, '--help']);
  assert.match(h.stdout, /Usage: heron \[-c config_file\]/);
});

test('log_dest topic, log_timestamp_format and connection_messages false', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heron-log-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'heron.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'log_dest topic',
      'log_dest stdout',
      'log_type all',
      'log_timestamp_format %Y-%m-%dT%H:%M:%S',
      'connection_messages false',
      ...KEEP_ROOT,
      '',
    ].join('\n'),
  );
  const { child, output } = await startHeron(['-c', join(dir, 'heron.conf'), '-v'], port);
  try {
    // The subscriber's own SUBSCRIBE is logged (debug, "D") and published on $SYS/broker/log/D.
    const { stdout } = await run(
      'mosquitto_sub',
      [
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-t',
        '$SYS/broker/log/#',
        '-v',
        '-C',
        '1',
        '-W',
        '5',
      ],
      { timeout: 8000 },
    );
    assert.match(stdout, /^\$SYS\/broker\/log\/D .*SUB(SCRIBE|ACK)/);
    assert.match(output(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: /m);
    assert.doesNotMatch(output(), /New client connected/);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  assert.equal(await stopProcess(child), 0);
});
