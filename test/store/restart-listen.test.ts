// Issue 17 item 6: a restart answers its first CONNECT without waiting for the
// fsync of what restoring changed; that commit still lands before anything a
// client is later told is durable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { startBroker } from '../helpers/broker.js';
import { connectRaw, delay } from '../helpers/raw-client.js';
import { GatedStore } from './support/gated-store.js';

const SESSIONS = 15;

test('a restarted broker with 15 stored sessions sends its first CONNACK while the restore commit waits on the disk; nothing is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heron-restart-'));
  try {
    const first = await startBroker({ persistence: { backend: 'lmdb', location: dir } });
    try {
      for (let i = 0; i < SESSIONS; i++) {
        const c = await connectRaw(first.port, { clientId: `s${i}`, clean: false });
        c.send({
          type: PacketType.SUBSCRIBE,
          packetId: 1,
          subscriptions: [
            { topic: 'all/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
          ],
        });
        await c.nextOfType(PacketType.SUBACK);
        c.destroy();
      }
      await delay(50);
      const p = await connectRaw(first.port);
      for (let i = 1; i <= 3; i++) {
        p.send({
          type: PacketType.PUBLISH,
          topic: 'all/x',
          payload: Buffer.from(String(i)),
          qos: 1,
          retain: false,
          dup: false,
          packetId: i,
        });
        await p.nextOfType(PacketType.PUBACK);
      }
      p.destroy();
    } finally {
      await first.close();
    }

    // The disk is slow now: every commit waits until released.
    const store = new GatedStore(dir);
    store.hold();
    const second = await startBroker({
      persistence: { backend: 'lmdb', location: dir, store, sync: 'commit' },
    });
    try {
      assert.equal(second.broker.sessions.size, SESSIONS);
      assert.ok(
        store.waiting > 0,
        'restoring wrote something (message ids) that waits at the gate',
      );
      // Before the change listen() itself waited for this commit.
      const fresh = await connectRaw(second.port, { clientId: 'fresh' });
      fresh.destroy();
      store.release();
      // The stored sessions come back with everything they were owed.
      const back = await connectRaw(second.port, { clientId: 's7', clean: false });
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = (await back.nextOfType(PacketType.PUBLISH)) as PublishPacket;
        got.push(m.payload.toString());
      }
      assert.deepEqual(got, ['1', '2', '3']);
      back.destroy();
    } finally {
      store.release();
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
