import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { benchMain } from '../../src/cli/bench.js';
import { suiteBroker } from '../helpers/broker.js';

/** Collects what a command writes. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function bench(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Capture();
  const err = new Capture();
  const code = await benchMain(argv, out, err);
  return { code, out: out.text, err: err.text };
}

/** The number in a summary line such as "  received     1,234 msgs, ...". */
function count(text: string, label: string): number {
  const m = new RegExp(`^\\s+${label}\\s+([\\d,]+)`, 'm').exec(text);
  assert.ok(m, `no "${label}" line in:\n${text}`);
  return Number(m[1]!.replaceAll(',', ''));
}

const b = suiteBroker();

test('bench sub and pub: messages flow from publishers to subscribers and both print a summary', async () => {
  const port = String(b.port);
  const sub = bench(['sub', '-p', port, '-c', '2', '-t', 'smoke/#', '-D', '2', '-Q']);
  // Let the subscribers subscribe before publishing starts.
  while (b.broker.router.size === 0) await new Promise((r) => setTimeout(r, 20));
  const pub = await bench([
    'pub',
    '-p',
    port,
    '-c',
    '2',
    '-t',
    'smoke/%i',
    '-L',
    '2000',
    '-D',
    '1',
  ]);
  const s = await sub;
  assert.equal(pub.code, 0, pub.err);
  assert.equal(s.code, 0, s.err);
  assert.match(pub.out, /heron bench pub: 2 publisher\(s\)/);
  assert.match(pub.out, /sent [\d,]+\/s/, 'a progress line was printed');
  const sent = count(pub.out, 'sent');
  assert.ok(sent > 100, `sent ${sent}`);
  const received = count(s.out, 'received');
  // Two subscribers each get every message sent.
  assert.ok(received >= sent, `received ${received} of ${2 * sent}`);
  assert.match(s.out, /latency\s+p50 [\d.]+ ms\s+p90 [\d.]+ ms\s+p99 [\d.]+ ms\s+max/);
  assert.match(s.out, /errors\s+none/);
});

test('bench pub QoS 1 --json: every publish is acknowledged and the result is JSON', async () => {
  const r = await bench(['pub', '-p', String(b.port), '-q', '1', '-D', '1', '--json', '-Q']);
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out) as { sent: number; acked: number };
  assert.ok(result.sent > 0);
  assert.ok(result.acked > 0 && result.acked <= result.sent);
});

test('bench conn: opens and holds the asked number of connections', async () => {
  const r = await bench(['conn', '-p', String(b.port), '-c', '50', '-R', '200', '-D', '1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /connections\s+50 connected, 0 failed, 50 held; [\d,]+ conn\/s/);
  assert.match(r.out, /ping\s+max PINGRESP delay [\d.]+ ms \(\d+ pings\)/);
});

test('bench: a bad option is a usage error', async () => {
  const r = await bench(['pub', '--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option --frobnicate/);
});
