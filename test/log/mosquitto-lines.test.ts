// Heron's log lines for the events people grep, checked against Mosquitto's: one
// scenario (connections, a wrong password, an ACL refusal, a will, a takeover,
// subscriptions, abrupt closes) runs against a real mosquitto and against heron,
// and both logs must hold every line of the fixture written from Mosquitto 2.0.11.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/client/client.js';
import { run, scratchDir } from '../auth/mosquitto-helpers.js';
import { KEEP_ROOT } from '../helpers/keep-root.js';
import { freePort } from '../helpers/process.js';

interface Fixture {
  events: Array<{ event: string; line: string }>;
  sequences: string[][];
  /** Lines that must not appear. */
  absent: string[];
}

const FIXTURE = JSON.parse(
  readFileSync(join(process.cwd(), 'test/log/fixtures/mosquitto-2.0.11-lines.json'), 'utf8'),
) as Fixture;

const PLACEHOLDERS: Record<string, string> = {
  '{name}': '(?:mosquitto|heron)',
  '{version}': '\\S+',
  '{path}': '.+',
  '{port}': '\\d+',
  '{addr}': '(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)',
  '{n}': '\\d+',
};

/** A fixture line as a whole-line regular expression. */
function pattern(template: string): RegExp {
  let re = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  for (const [k, v] of Object.entries(PLACEHOLDERS)) re = re.replaceAll(k, v);
  return new RegExp(`^${re}$`);
}

const HERON = join(process.cwd(), 'bin/heron.js');
let dir: string;
let cleanup: () => Promise<void>;
let pw: string;
let acl: string;

before(async () => {
  ({ dir, cleanup } = await scratchDir());
  pw = join(dir, 'passwd');
  assert.equal((await run('mosquitto_passwd', ['-c', '-b', pw, 'alice', 'secret'])).code, 0);
  acl = join(dir, 'acl');
  writeFileSync(acl, 'user alice\ntopic readwrite home/#\n');
});
after(() => cleanup());

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Runs the scenario against `program` and returns its log lines without timestamps. */
async function logOf(program: 'mosquitto' | 'heron'): Promise<string[]> {
  const port = await freePort();
  const wsPort = await freePort();
  const conf = join(dir, `${program}.conf`);
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `listener ${wsPort} 127.0.0.1`,
      'protocol websockets',
      'allow_anonymous false',
      `password_file ${pw}`,
      `acl_file ${acl}`,
      'log_dest stderr',
      'log_type all',
      ...KEEP_ROOT,
      '',
    ].join('\n'),
  );
  const child: ChildProcess =
    program === 'heron'
      ? spawn(process.execPath, [HERON, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 200 && !(await listening(port)); i++) {
    if (child.exitCode !== null) throw new Error(`${program} exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    await scenario(port);
  } finally {
    const closed = once(child, 'close');
    child.kill('SIGTERM');
    await closed;
  }
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^\d+: /, ''));
}

async function scenario(port: number): Promise<void> {
  const conn = ['-h', '127.0.0.1', '-p', String(port)];
  const alice = [...conn, '-u', 'alice', '-P', 'secret'];
  const pub = (args: string[]) => run('mosquitto_pub', args);
  assert.equal(
    (await pub([...alice, '-t', 'home/x', '-m', 'hi', '-q', '1', '-i', 'pub1'])).code,
    0,
  );
  await pub([...conn, '-u', 'alice', '-P', 'wrong', '-t', 'home/x', '-m', 'hi', '-i', 'bad1']);
  await pub([...conn, '-V', '5', '-u', 'alice', '-P', 'no', '-t', 'home/x', '-m', 'x', '-i', 'b5']);
  await pub([...alice, '-V', '31', '-t', 'other/x', '-m', 'hi', '-q', '1', '-i', 'v31']);
  const will = ['--will-topic', 'home/will', '--will-payload', 'bye', '--will-qos', '1'];
  await pub([
    ...alice,
    '-V',
    '5',
    '-t',
    'home/w',
    '-m',
    'hi',
    '-i',
    'will5',
    '-k',
    '30',
    ...will,
    '--will-retain',
  ]);

  const as = (clientId: string) =>
    connect({
      host: '127.0.0.1',
      port,
      clientId,
      username: 'alice',
      password: 'secret',
      reconnect: false,
    });
  const filters = [
    { topic: 'home/#', qos: 1 as const },
    { topic: 'home/a', qos: 1 as const },
  ];
  const first = await as('subA');
  await first.subscribe(filters);
  const firstGone = once(first, 'end');
  const second = await as('subA');
  await firstGone;
  await second.subscribe(filters);
  const got = once(second, 'message');
  await pub([...alice, '-t', 'home/x', '-m', 'hi', '-q', '2', '-i', 'pub2']);
  await got;
  await second.end();

  const unsub = await as('unsub');
  await unsub.subscribe('home/#', { qos: 2 });
  await unsub.unsubscribe('home/#');
  await unsub.end();

  // raw1 connects, then drops the connection without DISCONNECT.
  const s16 = (t: string) => Buffer.concat([Buffer.from([0, t.length]), Buffer.from(t)]);
  const body = Buffer.concat([
    s16('MQTT'),
    Buffer.from([4, 0xc2, 0, 60]),
    s16('raw1'),
    s16('alice'),
    s16('secret'),
  ]);
  await rawSession(port, Buffer.concat([Buffer.from([0x10, body.length]), body]), true);
  // A CONNECT too short to parse; then a connection that never sends anything.
  await rawSession(port, Buffer.from([0x10, 0x02, 0x00, 0x00]), false);
  await rawSession(port, undefined, false);
  // Closes are logged asynchronously: give both brokers a moment before stopping them.
  await new Promise((r) => setTimeout(r, 200));
}

/** Opens a socket, writes `bytes`, waits for an answer if asked, then ends it. */
async function rawSession(port: number, bytes: Buffer | undefined, awaitReply: boolean) {
  const s = net.connect(port, '127.0.0.1');
  // Listened for from the start: the broker may close first (protocol error).
  const closed = once(s, 'close');
  await once(s, 'connect');
  s.on('error', () => {});
  if (bytes !== undefined) s.write(bytes);
  if (awaitReply) await once(s, 'data');
  else await new Promise((r) => setTimeout(r, 100));
  s.end();
  await closed;
}

/** Fixture events whose line is missing, sequences that do not appear in order, and absent lines that do. */
function mismatches(lines: string[]): string[] {
  const missing: string[] = [];
  for (const e of FIXTURE.events) {
    const re = pattern(e.line);
    if (!lines.some((l) => re.test(l))) missing.push(`${e.event}: ${e.line}`);
  }
  for (const seq of FIXTURE.sequences) {
    const res = seq.map(pattern);
    const found = lines.some((_, i) => res.every((re, j) => re.test(lines[i + j] ?? '')));
    if (!found) missing.push(`sequence: ${seq.join(' | ')}`);
  }
  for (const line of FIXTURE.absent) {
    const re = pattern(line);
    if (lines.some((l) => re.test(l))) missing.push(`absent, but written: ${line}`);
  }
  return missing;
}

describe("log lines in Mosquitto 2.0's words", () => {
  test('the fixture matches what mosquitto writes', { timeout: 60_000 }, async () => {
    const lines = await logOf('mosquitto');
    assert.deepEqual(mismatches(lines), [], lines.join('\n'));
  });

  test('heron writes every fixture line', { timeout: 60_000 }, async () => {
    const lines = await logOf('heron');
    assert.deepEqual(mismatches(lines), [], lines.join('\n'));
  });
});
