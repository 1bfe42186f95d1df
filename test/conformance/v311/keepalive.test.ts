import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType } from '../../../src/protocol/constants.js';
import { assertClosed, delay, suiteHarness } from './support.js';

describe('MQTT 3.1.1 keep alive and PINGREQ', () => {
  const h = suiteHarness();

  test('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const c = await h.connect();
    for (let i = 0; i < 3; i++) {
      c.send({ type: PacketType.PINGREQ });
      await c.nextOfType(PacketType.PINGRESP);
    }
  });

  test('[MQTT-3.1.2-24] a silent client is disconnected after 1.5 x keep alive, not before', async () => {
    const c = await h.connect({ keepalive: 1 });
    const t0 = Date.now();
    await assertClosed(c, 4000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1450, `closed after ${elapsed} ms`);
  });

  test('[MQTT-3.1.2-24] any control packet within the keep alive keeps the connection open', async () => {
    const c = await h.connect({ keepalive: 1 });
    for (let i = 0; i < 5; i++) {
      await delay(500);
      c.send({ type: PacketType.PINGREQ });
      await c.nextOfType(PacketType.PINGRESP);
    }
    assert.equal(c.closed, false);
  });

  test('keep alive 0 turns the mechanism off', async () => {
    const c = await h.connect({ keepalive: 0 });
    await delay(2100);
    assert.equal(c.closed, false);
  });
});
