// Repository habits that bite a Mosquitto user trying Heron (issue 15): examples that
// cannot run together, and CI that stops processes it does not own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/parse.js';

/** Ports the quick-start configuration listens on. */
function quickStartPorts(): number[] {
  const cfg = parseConfigText(readFileSync('config/heron.conf', 'utf8'), 'config/heron.conf');
  return cfg.listeners.map((l) => l.port);
}

test("docs/admin.md's admin_listener examples do not collide with the quick-start listeners", () => {
  const doc = readFileSync('docs/admin.md', 'utf8');
  const ports = [...doc.matchAll(/^#?admin_listener (\d+)/gm)].map((m) => Number(m[1]));
  assert.ok(ports.length > 0, 'docs/admin.md shows admin_listener');
  const taken = quickStartPorts();
  assert.ok(taken.includes(1883), `quick start listens on ${taken}`);
  for (const p of ports) assert.ok(!taken.includes(p), `admin_listener ${p} is a quick-start port`);
});

test('.ci/run stops only the packaged mosquitto service, never every mosquitto by name', () => {
  const script = readFileSync('.ci/run', 'utf8')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  assert.doesNotMatch(script, /\b(pkill|killall)\b/);
  assert.match(script, /systemctl stop mosquitto/);
});
