import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pubMain } from '../../src/cli/pub.js';
import { connect, type MqttClient } from '../../src/client/client.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { type MosquittoProcess, startMosquitto } from '../client/mosquitto-process.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { capture } from './capture.js';

let mosquitto: MosquittoProcess;
let heron: TestBroker;

before(async () => {
  mosquitto = await startMosquitto();
  heron = await startBroker();
});

after(async () => {
  await mosquitto.stop();
  await heron.close();
});

function collect(c: MqttClient, n: number): Promise<PublishPacket[]> {
  return new Promise((resolve) => {
    const got: PublishPacket[] = [];
    c.on('message', (_t, _p, pk) => {
      got.push(pk);
      if (got.length === n) resolve(got);
    });
  });
}

test('mosquitto_sub receives the retained message heron pub -r sent', async () => {
  const io = capture();
  const port = String(mosquitto.port);
  assert.equal(
    await pubMain(['-p', port, '-t', 'cross/pub', '-m', 'from heron', '-r', '-q', '1'], io),
    0,
  );
  assert.equal(io.err(), '');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('mosquitto_sub', ['-p', port, '-t', 'cross/#', '-C', '1', '-v', '-W', '5'], (e, so) =>
      e ? reject(e) : resolve(so),
    ),
  );
  assert.equal(out, 'cross/pub from heron\n');
});

test('-l publishes one message per stdin line; --repeat repeats; -D adds v5 properties', async () => {
  const sub = await connect({ url: heron.url, protocolVersion: 5, reconnect: false });
  await sub.subscribe('lines/#', { qos: 2 });
  const got = collect(sub, 6);
  const port = String(heron.port);
  const lines = capture({ stdin: Readable.from(['first\nsecond\n', 'third\n']) });
  assert.equal(await pubMain(['-p', port, '-t', 'lines/l', '-l', '-q', '2'], lines), 0);
  assert.equal(
    await pubMain(['-p', port, '-t', 'lines/r', '-m', 'again', '--repeat', '2'], capture()),
    0,
  );
  const props = [
    '-p',
    port,
    '-V',
    '5',
    '-t',
    'lines/p',
    '-n',
    '-q',
    '1',
    '-D',
    'publish',
    'user-property',
    'k',
    'v',
    '-D',
    'publish',
    'message-expiry-interval',
    '60',
  ];
  assert.equal(await pubMain(props, capture()), 0);
  const msgs = await got;
  assert.deepEqual(
    msgs.map((m) => [m.topic, m.payload.toString()]),
    [
      ['lines/l', 'first'],
      ['lines/l', 'second'],
      ['lines/l', 'third'],
      ['lines/r', 'again'],
      ['lines/r', 'again'],
      ['lines/p', ''],
    ],
  );
  assert.deepEqual(msgs[5].properties?.userProperties, [['k', 'v']]);
  assert.ok((msgs[5].properties?.messageExpiryInterval ?? 0) > 0);
  await sub.end();
});

test('errors: missing message, unknown option, refused connection, unreachable broker', async () => {
  const missing = capture();
  assert.equal(await pubMain(['-t', 'x'], missing), 1);
  assert.match(missing.err(), /^Error: Both topic and message must be supplied\.\n/);
  const unknown = capture();
  assert.equal(await pubMain(['-t', 'x', '-m', 'y', '-C', '3'], unknown), 1);
  assert.match(unknown.err(), /^Error: Unknown option '-C'\.\n/);
  const locked = await startBroker({ allowAnonymous: false });
  const refused = capture();
  try {
    // mosquitto_pub exits with the CONNACK code and prints two lines (see mosquitto-tool-habits).
    assert.equal(await pubMain(['-p', String(locked.port), '-t', 'x', '-m', 'y'], refused), 5);
    assert.equal(
      refused.err(),
      'Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n',
    );
  } finally {
    await locked.close();
  }
  const down = capture();
  assert.equal(await pubMain(['-p', '1', '-t', 'x', '-m', 'y'], down), 1);
  assert.equal(down.err(), 'Error: Connection refused\n');
  const quiet = capture();
  assert.equal(await pubMain(['-p', '1', '-t', 'x', '-m', 'y', '--quiet'], quiet), 1);
  assert.equal(quiet.err(), '');
});
