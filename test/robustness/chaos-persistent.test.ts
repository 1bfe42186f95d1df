// The chaos run against a broker persisting to LMDB (acknowledgements wait for
// group commits), with the scenarios that touch durable state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runChaos } from './support/run.js';

const dir = mkdtempSync(join(tmpdir(), 'heron-chaos-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('chaos with LMDB persistence: durable state survives the abuse', {
  timeout: 30_000,
}, async () => {
  await runChaos({
    seed: Number(process.env.CHAOS_SEED ?? 0x5707e),
    durationMs: 4000,
    scenarios: ['garbage', 'violations', 'abrupt', 'takeover', 'churn'],
    broker: { persistence: { backend: 'lmdb', location: dir } },
  });
});
