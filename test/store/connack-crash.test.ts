import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import { freePort } from '../helpers/process.js';
import { connectRaw, RawClient } from '../helpers/raw-client.js';
import { kill9, startCrashBroker, storedState } from './support/heron-process.js';

// The broker is SIGKILLed the moment the client reads the CONNACK of a clean
// start over its stored session: had the CONNACK not waited for the commit,
// the deletion would usually still be in memory only, and the old session
// (subscriptions, queued messages) would come back after the restart.
test('kill -9 right after the CONNACK of a clean start: the discarded session stays gone', {
  timeout: 30_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heron-connackcrash-'));
  const port = await freePort();
  let broker: ChildProcess | undefined;
  try {
    for (let cycle = 1; cycle <= 6; cycle++) {
      const id = `phoenix-${cycle}`;
      broker = await startCrashBroker(dir, port);
      const old = await connectRaw(port, { clientId: id, clean: false, keepalive: 0 });
      old.send({
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [
          { topic: 'old/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      });
      await old.nextOfType(PacketType.SUBACK);
      old.destroy();
      const c = await RawClient.connect(port, cycle % 2 === 0 ? 5 : 4);
      const ack = await c.handshake({ clientId: id, clean: true, keepalive: 0 });
      broker.kill('SIGKILL');
      assert.equal(ack.sessionPresent, false);
      await kill9(broker);
      c.destroy();
      const state = await storedState(dir);
      assert.deepEqual(
        state.sessions.filter((s) => s.clientId === id).map((s) => s.expiryInterval),
        [],
        `cycle ${cycle}: no stored session after the clean start's CONNACK`,
      );
      assert.deepEqual(
        state.subscriptions.filter((s) => s.clientId === id).map((s) => s.data.filter),
        [],
        `cycle ${cycle}: no stored subscription`,
      );
    }

    // After a last restart, the clients come back with Session Present 0 and no old subscriptions.
    broker = await startCrashBroker(dir, port);
    const pub = await connectRaw(port);
    for (let cycle = 1; cycle <= 6; cycle++) {
      const c = await RawClient.connect(port);
      const ack = await c.handshake({ clientId: `phoenix-${cycle}`, clean: false, keepalive: 0 });
      assert.equal(ack.sessionPresent, false, `phoenix-${cycle}: session present`);
      pub.send({
        type: PacketType.PUBLISH,
        topic: 'old/x',
        payload: Buffer.from('x'),
        qos: 1,
        retain: false,
        dup: false,
        packetId: cycle,
      });
      await pub.nextOfType(PacketType.PUBACK);
      const got = await c.quiet(50);
      assert.equal(
        got.filter((p) => p.type === PacketType.PUBLISH).length,
        0,
        'no delivery to an old subscription',
      );
      c.destroy();
    }
    pub.destroy();
  } finally {
    if (broker !== undefined) await kill9(broker);
    rmSync(dir, { recursive: true, force: true });
  }
});
