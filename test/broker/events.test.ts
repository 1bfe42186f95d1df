import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientInfo } from '../../src/broker/options.js';
import { PacketType } from '../../src/protocol/constants.js';
import { startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

test('clientConnected reports the Session Present flag sent in CONNACK', async () => {
  const tb = await startBroker();
  try {
    const seen: Array<[string, boolean]> = [];
    tb.broker.on('clientConnected', (c: ClientInfo, present: boolean) =>
      seen.push([c.clientId, present]),
    );
    const acks: boolean[] = [];
    // A persistent session without subscriptions is still present when its client returns.
    for (let i = 0; i < 2; i++) {
      const c = await RawClient.connect(tb.port);
      const ack = await c.handshake({ clientId: 'ev-1', clean: false });
      acks.push(ack.sessionPresent);
      c.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
      await c.waitClosed();
    }
    assert.deepEqual(acks, [false, true]);
    assert.deepEqual(seen, [
      ['ev-1', false],
      ['ev-1', true],
    ]);
  } finally {
    await tb.close();
  }
});
