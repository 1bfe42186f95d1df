// The heron broker process next to a real mosquitto on the same configuration: exit
// codes, how often a failure is reported, log line format, the user it runs as, and
// $SYS state across restarts (issue 15).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createBroker } from '../../src/broker/broker.js';
import { lookupAccount } from '../../src/cli/privileges.js';
import { connect } from '../../src/client/client.js';
import { VERSION } from '../../src/version.js';
import { run } from '../auth/mosquitto-helpers.js';
import { KEEP_ROOT } from '../helpers/keep-root.js';
import { freePort } from '../helpers/process.js';

const T = { timeout: 30_000 };
const HERON = join(process.cwd(), 'bin/heron.js');
const dir = mkdtempSync(join(tmpdir(), 'heron-habits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Program = 'heron' | 'mosquitto';

/** Spawns `program -c conf` with the given config lines; output collects stdout and stderr. */
function launch(
  program: Program,
  name: string,
  lines: string[],
): { child: ChildProcess; output: () => string; conf: string } {
  const conf = join(dir, `${program}-${name}.conf`);
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child =
    program === 'heron'
      ? spawn(process.execPath, [HERON, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, conf };
}

/** Runs a broker that is expected to fail at startup; its exit code and output. */
async function failing(program: Program, name: string, lines: string[]) {
  const p = launch(program, name, lines);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  const [code] = (await once(p.child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, output: p.output(), conf: p.conf };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Starts a broker that should run; resolves once it accepts connections on `port`. */
async function running(program: Program, name: string, port: number, lines: string[]) {
  const p = launch(program, name, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...lines]);
  for (let i = 0; i < 200 && !(await listening(port)); i++) {
    if (p.child.exitCode !== null) throw new Error(`${program} exited: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ...p,
    async stop(): Promise<number | null> {
      if (p.child.exitCode !== null) return p.child.exitCode;
      const closed = once(p.child, 'close');
      p.child.kill('SIGTERM');
      const [code] = (await closed) as [number | null];
      return code;
    },
  };
}

/** Effective uid of a process, from /proc. */
function uidOf(pid: number): number {
  const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

describe('startup failures: exit codes and one report each', () => {
  const cases: Array<[string, (port: number) => string[]]> = [
    ['an unknown option', (port) => [`listener ${port} 127.0.0.1`, 'bogus_option 1']],
    ['a bad value', (port) => [`listener ${port} 127.0.0.1`, 'allow_anonymous maybe']],
    [
      'a missing password file',
      (port) => [`listener ${port} 127.0.0.1`, `password_file ${dir}/no-such-passwd`],
    ],
    ['a missing ACL file', (port) => [`listener ${port} 127.0.0.1`, `acl_file ${dir}/no-such-acl`]],
  ];
  for (const [name, lines] of cases) {
    test(`${name}: the same exit code as mosquitto, nothing listening`, T, async () => {
      const port = await freePort();
      const slug = name.replaceAll(' ', '-');
      const theirs = await failing('mosquitto', slug, [...lines(port), ...KEEP_ROOT]);
      const ours = await failing('heron', slug, [...lines(port), ...KEEP_ROOT]);
      assert.notEqual(theirs.code, 0, theirs.output);
      assert.equal(ours.code, theirs.code, ours.output);
      assert.equal(await listening(port), false);
      if (name.includes('file')) {
        // Heron also names the line that set the file.
        assert.match(
          ours.output,
          new RegExp(`${ours.conf}:2: (password|acl)_file: Unable to open`),
        );
        assert.equal(ours.output.match(/Unable to open/g)?.length, 1, ours.output);
      }
    });
  }

  test('a missing configuration file exits 3, as mosquitto', T, async () => {
    const missing = join(dir, 'missing.conf');
    const theirs = await run('mosquitto', ['-c', missing]);
    const ours = await run(process.execPath, [HERON, '-c', missing]);
    assert.equal(theirs.code, 3);
    assert.equal(ours.code, theirs.code);
  });

  test('a listener port in use: exit 1, reported once', T, async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const lines = [`listener ${port} 127.0.0.1`, ...KEEP_ROOT];
      const theirs = await failing('mosquitto', 'in-use', lines);
      const ours = await failing('heron', 'in-use', lines);
      assert.equal(ours.code, theirs.code);
      const reports = (s: string) => s.match(/Address already in use|EADDRINUSE/g)?.length ?? 0;
      assert.equal(reports(theirs.output), 1);
      assert.equal(reports(ours.output), 1, ours.output);
      assert.doesNotMatch(ours.output, /"stack"|\{"level"/);
    } finally {
      blocker.close();
    }
  });
});

describe('log format', () => {
  const TEXT = /^\d+: \S/;

  test('text lines on a pipe and in a log file, as mosquitto writes them', T, async () => {
    for (const program of ['mosquitto', 'heron'] as const) {
      const port = await freePort();
      const file = join(dir, `${program}.log`);
      const b = await running(program, 'log-text', port, [
        'log_dest stderr',
        `log_dest file ${file}`,
        ...KEEP_ROOT,
      ]);
      const c = await connect({ port, host: '127.0.0.1', clientId: 'fmt', reconnect: false });
      await c.end();
      assert.equal(await b.stop(), 0);
      for (const text of [b.output(), readFileSync(file, 'utf8')]) {
        const lines = text.trim().split('\n');
        assert.ok(lines.length >= 3, `${program}: ${text}`);
        for (const line of lines) assert.match(line, TEXT, `${program}: ${line}`);
      }
    }
  });

  test('log_format json: one JSON object per line, the same events as text', T, async () => {
    const events: Record<string, string[]> = {};
    for (const format of ['text', 'json'] as const) {
      const port = await freePort();
      const b = await running('heron', `log-${format}`, port, [
        `log_format ${format}`,
        ...KEEP_ROOT,
      ]);
      const c = await connect({ port, host: '127.0.0.1', clientId: 'same', reconnect: false });
      await c.end();
      // The broker logs the DISCONNECT once it has read it: stop it after that, not before.
      for (let i = 0; i < 200 && !/same disconnected/.test(b.output()); i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.equal(await b.stop(), 0);
      const lines = b.output().trim().split('\n');
      events[format] = lines.map((line) => {
        if (format === 'text') return line.replace(/^\d+: /, '');
        const rec = JSON.parse(line) as { msg: string; time: number };
        assert.equal(typeof rec.time, 'number');
        return rec.msg;
      });
    }
    // Sorted: the start-up probe's connection and the client's are logged in either order.
    const normal = (list: string[]) =>
      list.map((m) => m.replace(/\d{2,5}/g, 'N').replace(/log-(text|json)/g, 'log-F')).sort();
    assert.deepEqual(normal(events.json!), normal(events.text!));
  });
});

describe('privileges', () => {
  const mosquittoAccount = lookupAccount('mosquitto');
  const root = process.getuid?.() === 0;

  const cases: Array<[string, string[], number | undefined]> = [
    // Started as root without `user`: the 'mosquitto' account, as Mosquitto does.
    [
      'no user option',
      [],
      root ? (mosquittoAccount?.uid ?? lookupAccount('nobody')?.uid) : undefined,
    ],
    ['user root', ['user root'], root ? 0 : undefined],
  ];
  for (const [name, lines, expected] of cases) {
    test(`${name}: runs as the same user as mosquitto`, T, async () => {
      const uids: number[] = [];
      for (const program of ['mosquitto', 'heron'] as const) {
        const port = await freePort();
        const b = await running(program, `user-${name.replaceAll(' ', '-')}`, port, lines);
        try {
          // The switch happens once the listeners are open.
          let uid = uidOf(b.child.pid!);
          for (let i = 0; i < 40 && expected !== undefined && uid !== expected; i++) {
            await new Promise((r) => setTimeout(r, 50));
            uid = uidOf(b.child.pid!);
          }
          uids.push(uid);
        } finally {
          await b.stop();
        }
      }
      assert.equal(uids[1], uids[0]);
      assert.equal(uids[1], expected ?? process.getuid?.());
    });
  }

  test('a user that does not exist: both refuse to run (as root)', T, async () => {
    const port = await freePort();
    const lines = [`listener ${port} 127.0.0.1`, 'user no-such-user-here'];
    const theirs = await failing('mosquitto', 'nouser', lines);
    const ours = await failing('heron', 'nouser', lines);
    if (root) {
      assert.equal(theirs.code, 1);
      assert.equal(ours.code, theirs.code);
      assert.match(ours.output, /Unable to drop privileges to 'no-such-user-here'/);
    } else {
      // Not root: neither changes user, so the option does not matter.
      assert.equal(theirs.code, null);
      assert.equal(ours.code, null);
    }
  });
});

describe('$SYS', () => {
  test(
    'never stored: a restart with persistence restores no $SYS message, as mosquitto',
    T,
    async () => {
      const results: Record<string, { code: number; stdout: string }> = {};
      for (const program of ['mosquitto', 'heron'] as const) {
        const port = await freePort();
        const data = mkdtempSync(join(dir, `${program}-data-`));
        const persist = ['persistence true', `persistence_location ${data}/`, ...KEEP_ROOT];
        const first = await running(program, 'sys-1', port, [...persist, 'sys_interval 1']);
        // Wait until $SYS is published, then stop (mosquitto writes its store on exit).
        const seen = await run('mosquitto_sub', [
          ...[
            '-h',
            '127.0.0.1',
            '-p',
            String(port),
            '-t',
            '$SYS/broker/uptime',
            '-C',
            '1',
            '-W',
            '5',
          ],
        ]);
        assert.equal(seen.code, 0, seen.stderr);
        assert.equal(await first.stop(), 0);
        const second = await running(program, 'sys-2', port, [...persist, 'sys_interval 0']);
        const r = await run('mosquitto_sub', [
          ...['-h', '127.0.0.1', '-p', String(port), '-t', '$SYS/#', '-v', '-W', '1'],
        ]);
        await second.stop();
        results[program] = { code: r.code, stdout: r.stdout };
      }
      assert.deepEqual(results.mosquitto, { code: 27, stdout: '' });
      assert.deepEqual(results.heron, results.mosquitto);
    },
  );

  test('an embedded broker publishes "heron version <package version>"', T, async () => {
    const broker = createBroker({ sysInterval: 1, listeners: [{ port: 0, host: '127.0.0.1' }] });
    const [addr] = await broker.listen();
    try {
      const c = await connect({ port: addr!.port, host: '127.0.0.1', reconnect: false });
      const got = new Promise<string>((resolve) =>
        c.on('message', (_t, payload) => resolve(payload.toString())),
      );
      await c.subscribe('$SYS/broker/version');
      const version = await got;
      await c.end();
      assert.equal(version, `heron version ${VERSION}`);
      // The same shape as mosquitto's "mosquitto version 2.0.11".
      assert.match(version, /^\w+ version \d+\.\d+\.\d+$/);
    } finally {
      await broker.close();
    }
  });
});
