import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

// The conversions are checked in a child process whose TZ is a daylight-saving zone,
// against GNU date(1) formatting the same instants in the same zone.
const ZONE = 'Europe/Berlin';
const FORMAT = '%Y-%m-%d %H:%M:%S %j %z %a %u %w';
const MODULE = new URL('../../src/log/strftime.js', import.meta.url).href;

/** Every half hour over three local days starting at `start` (local midnight in ZONE). */
function halfHours(start: string): number[] {
  const t0 = Number(
    execFileSync('date', ['-d', start, '+%s'], { env: { ...process.env, TZ: ZONE } })
      .toString()
      .trim(),
  );
  const out: number[] = [];
  for (let i = 0; i < 3 * 48; i++) out.push(t0 + i * 1800);
  return out;
}

function withDate(epochs: number[]): string[] {
  const input = epochs.map((e) => `@${e}`).join('\n');
  return execFileSync('date', ['-f', '-', `+${FORMAT}`], {
    input,
    env: { ...process.env, TZ: ZONE, LC_ALL: 'C' },
  })
    .toString()
    .trimEnd()
    .split('\n');
}

function withStrftime(epochs: number[]): string[] {
  const script = `import { strftime } from ${JSON.stringify(MODULE)};
for (const e of ${JSON.stringify(epochs)}) console.log(strftime(${JSON.stringify(FORMAT)}, new Date(e * 1000)));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TZ: ZONE },
  })
    .toString()
    .trimEnd()
    .split('\n');
}

function compare(start: string): void {
  const epochs = halfHours(start);
  const ours = withStrftime(epochs);
  const ref = withDate(epochs);
  assert.equal(ours.length, epochs.length);
  for (let i = 0; i < epochs.length; i++) assert.equal(ours[i], ref[i], `@${epochs[i]}`);
}

test('%j and the date conversions match GNU date across the spring DST change', () => {
  // 2026-03-29 02:00 CET becomes 03:00 CEST: after it, 00:xx is 23 hours after the day began.
  compare('2026-03-28 00:00');
});

test('%j and the date conversions match GNU date across the autumn DST change', () => {
  compare('2026-10-24 00:00');
});

test('%j and the date conversions match GNU date in midsummer and around New Year', () => {
  compare('2026-07-01 00:00');
  compare('2025-12-30 00:00');
  // A leap year's last day is day 366.
  compare('2024-12-30 00:00');
});
