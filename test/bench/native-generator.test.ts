import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCENARIOS } from '../../bench/compare-scenarios.js';
import { buildNative, nativeArgs } from '../../bench/native-generator.js';
import type { BenchResult } from '../../src/bench/plan.js';
import { suiteBroker } from '../helpers/broker.js';

const b = suiteBroker();

for (const [id, what] of [
  ['4a', 'a QoS 1 run'],
  ['n5', 'a QoS 2 run with Nagle on'],
] as const)
  test(`bench:compare native generator: builds with cc (or says why not) and ${what} against Heron delivers everything acknowledged`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'heron-loadgen-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const built = buildNative(dir);
    if ('reason' in built) {
      // No compiler: bench:compare falls back to the Node generator with this message.
      assert.match(built.reason, /^cc (not found|failed)/);
      return;
    }
    const scenario = SCENARIOS.find((s) => s.id === id)!;
    const args = nativeArgs(scenario.plan(b.port, 1, 0));
    assert.ok(args, `scenario ${id} is one the native generator runs`);
    assert.equal(args.at(-1), id === 'n5' ? 'nagle' : 'nodelay');
    assert.equal(nativeArgs(SCENARIOS.find((s) => s.id === '1')!.plan(b.port, 1, 0)), undefined);
    const child = spawn(built.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, err);
    const result = JSON.parse(out) as BenchResult;
    assert.ok(result.acked > 0, out);
    assert.ok(result.received > 0, out);
    assert.deepEqual(result.errors, {});
    assert.ok(result.settled, out);
    assert.equal(
      result.settled.received,
      result.settled.acked,
      'every acknowledged message arrived',
    );
    assert.equal(result.connections.held, 2);
  });
