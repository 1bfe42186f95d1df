// A configured `out` bridge is subscribed before Heron accepts its first client:
// a QoS 1 message published the moment the port opens is acknowledged as
// routed and reaches the remote, not "no matching subscribers" and dropped.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PacketType } from '../../src/protocol/constants.js';
import { encode } from '../../src/protocol/encoder.js';
import type { PubackPacket } from '../../src/protocol/packets.js';
import { startMosquitto } from '../client/mosquitto-process.js';
import { KEEP_ROOT } from '../helpers/keep-root.js';
import { freePort, delay as sleep, waitFor } from '../helpers/process.js';
import { RawClient } from '../helpers/raw-client.js';
import { payloads, record } from './bridge-helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Connects to `port` as soon as something accepts there (every 2 ms until `ms` pass). */
async function firstConnection(child: ChildProcess, port: number, ms: number): Promise<RawClient> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await RawClient.connect(port, 5);
    } catch {
      if (child.exitCode !== null) throw new Error(`heron exited with ${child.exitCode}`);
      if (Date.now() > end) throw new Error('heron did not start');
      await sleep(2);
    }
  }
}

test('a QoS 1 message published as soon as heron accepts connections goes over its out bridge', async () => {
  const mosq = await startMosquitto();
  cleanups.push(() => mosq.stop());
  const atRemote = await record(mosq.url, ['early/#']);
  cleanups.push(() => atRemote.close());
  const dir = mkdtempSync(join(tmpdir(), 'heron-bridge-startup-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const conf = join(dir, 'heron.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...KEEP_ROOT,
      'connection early',
      `address 127.0.0.1:${mosq.port}`,
      'restart_timeout 1',
      'topic # out 1',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['bin/heron.js', '-c', conf], { stdio: 'ignore' });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  });
  const c = await firstConnection(child, port, 10_000);
  // CONNECT and PUBLISH in one write: they are read in the broker's first turns.
  c.socket.write(
    Buffer.concat([
      encode(
        {
          type: PacketType.CONNECT,
          protocolName: 'MQTT',
          protocolVersion: 5,
          clean: true,
          keepalive: 60,
          clientId: 'early-bird',
        },
        5,
      ),
      encode(
        {
          type: PacketType.PUBLISH,
          topic: 'early/x',
          payload: Buffer.from('first'),
          qos: 1,
          retain: false,
          dup: false,
          packetId: 1,
        },
        5,
      ),
    ]),
  );
  const ack = await c.nextOfType<PubackPacket>(PacketType.PUBACK, 10_000);
  // 0x10 (no matching subscribers) would say the bridge was not subscribed yet.
  assert.equal(ack.reasonCode, 0);
  await waitFor(() => payloads(atRemote, 'early/x').length > 0, 10_000, 'the message at mosquitto');
  assert.deepEqual(payloads(atRemote, 'early/x'), ['first']);
  c.destroy();
});
