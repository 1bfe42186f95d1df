import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { freePort } from '../helpers/process.js';
import { connectRaw, RawClient } from '../helpers/raw-client.js';
import { kill9, startCrashBroker, storedState } from './support/heron-process.js';

/** The filters stored for a client, as the next start will restore them. */
async function storedFilters(dir: string, clientId: string): Promise<string[]> {
  const state = await storedState(dir);
  return state.subscriptions
    .filter((s) => s.clientId === clientId)
    .map((s) => s.data.filter)
    .sort();
}

// The broker is SIGKILLed the moment the client reads the SUBACK / UNSUBACK: without
// the reply waiting for the commit, the change is usually still in memory only.
test('kill -9 right after a SUBACK or UNSUBACK: the change the client was told about survives', {
  timeout: 30_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heron-subcrash-'));
  const port = await freePort();
  const expected = new Set<string>();
  let broker: ChildProcess | undefined;
  try {
    for (let cycle = 1; cycle <= 9; cycle++) {
      broker = await startCrashBroker(dir, port);
      const c = await RawClient.connect(port);
      const ack = await c.handshake({ clientId: 'durable', clean: false, keepalive: 0 });
      assert.equal(ack.sessionPresent, cycle > 1, `cycle ${cycle}: session present`);
      if (cycle % 3 !== 0) {
        const filter = `d/${cycle}`;
        c.send({
          type: PacketType.SUBSCRIBE,
          packetId: cycle,
          subscriptions: [
            { topic: filter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
          ],
        });
        await c.nextOfType(PacketType.SUBACK);
        broker.kill('SIGKILL');
        expected.add(filter);
      } else {
        const filter = `d/${cycle - 1}`;
        c.send({ type: PacketType.UNSUBSCRIBE, packetId: cycle, topics: [filter] });
        await c.nextOfType(PacketType.UNSUBACK);
        broker.kill('SIGKILL');
        expected.delete(filter);
      }
      await kill9(broker);
      c.destroy();
      assert.deepEqual(
        await storedFilters(dir, 'durable'),
        [...expected].sort(),
        `cycle ${cycle}: stored subscriptions after kill -9`,
      );
    }

    // After a last restart, the client receives exactly what its subscriptions say.
    broker = await startCrashBroker(dir, port);
    const sub = await connectRaw(port, { clientId: 'durable', clean: false, keepalive: 0 });
    const pub = await connectRaw(port);
    for (let i = 1; i <= 9; i++) {
      pub.send({
        type: PacketType.PUBLISH,
        topic: `d/${i}`,
        payload: Buffer.from(String(i)),
        qos: 1,
        retain: false,
        dup: false,
        packetId: i,
      });
      await pub.nextOfType(PacketType.PUBACK);
    }
    const got: string[] = [];
    for (let i = 0; i < expected.size; i++) {
      const p = (await sub.next((x) => x.type === PacketType.PUBLISH)) as PublishPacket;
      got.push(p.topic);
      sub.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
    }
    const more = await sub.quiet(200);
    assert.equal(
      more.filter((p) => p.type === PacketType.PUBLISH).length,
      0,
      'nothing unsubscribed',
    );
    assert.deepEqual(got.sort(), [...expected].sort());
    pub.destroy();
    sub.destroy();
  } finally {
    if (broker !== undefined) await kill9(broker);
    rmSync(dir, { recursive: true, force: true });
  }
});
