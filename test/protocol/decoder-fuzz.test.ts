// 100k deterministic random and mutated byte streams: the decoder only yields
// packets or throws ProtocolError, and never buffers more than maxPacketSize.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from './support/fuzz.js';

test('fuzz: 100k random and mutated streams give only packets or ProtocolError', {
  timeout: 60_000,
}, () => {
  const stats = runFuzz(0xc0dec, 100_000);
  // Both outcomes must actually occur, or the fuzzer is not exercising the decoder.
  assert.ok(stats.packets > 10_000, `only ${stats.packets} packets decoded`);
  assert.ok(stats.protocolErrors > 10_000, `only ${stats.protocolErrors} errors`);
});
