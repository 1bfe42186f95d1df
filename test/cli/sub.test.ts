import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { subMain } from '../../src/cli/sub.js';
import { connect } from '../../src/client/client.js';
import { type MosquittoProcess, startMosquitto } from '../client/mosquitto-process.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { capture } from './capture.js';

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr: stderr.toString() });
    });
  });
}

let mosquitto: MosquittoProcess;
let heron: TestBroker;

before(async () => {
  mosquitto = await startMosquitto();
  heron = await startBroker();
  const p = String(mosquitto.port);
  await run('mosquitto_pub', ['-p', p, '-t', 'home/a', '-m', 'one', '-r', '-q', '1']);
  await run('mosquitto_pub', ['-p', p, '-t', 'home/b/c', '-m', 'two words\\', '-r']);
  await run('mosquitto_pub', [
    '-p',
    p,
    '-V',
    '5',
    '-t',
    'props/x',
    '-m',
    'hello "json"',
    '-r',
    '-D',
    'publish',
    'user-property',
    'k1',
    'v1',
    '-D',
    'publish',
    'user-property',
    'k2',
    'v2',
    '-D',
    'publish',
    'content-type',
    'text/plain',
    '-D',
    'publish',
    'response-topic',
    'r/t',
    '-D',
    'publish',
    'payload-format-indicator',
    '1',
    '-D',
    'publish',
    'correlation-data',
    'abc',
  ]);
});

after(async () => {
  await mosquitto.stop();
  await heron.close();
});

describe('heron sub prints exactly what mosquitto_sub prints', () => {
  const cases: Array<[string, string[]]> = [
    ['payload only', ['-t', 'home/#', '-C', '2']],
    ['-v', ['-t', 'home/#', '-C', '2', '-v']],
    ['-N', ['-t', 'home/#', '-C', '2', '-N']],
    ['-v -N with QoS 1', ['-t', 'home/#', '-C', '2', '-v', '-N', '-q', '1']],
    [
      '-F with widths, precision, padding and escapes',
      ['-t', 'home/#', '-C', '2', '-F', '%t|%p|%q|%r|%l|%x|%X|%5t|%-5l|%05l|%3.3t|%%|\\t|@@'],
    ],
    [
      '-F with v5 properties',
      ['-V', '5', '-t', 'props/#', '-C', '1', '-F', '%t %P|%C|%R|%F|%D|%A|%S|%l'],
    ],
    ['-R hides retained (with -W)', ['-t', 'home/#', '-R', '-W', '1']],
    ['-W times out with code 27', ['-t', 'nothing/here', '-W', '1']],
    ['-T filters a topic out', ['-t', 'home/#', '-T', 'home/a', '-C', '1', '-v']],
    ['-E exits after SUBACK', ['-t', 'home/#', '-E', '-q', '2', '-R']],
  ];
  for (const [name, flags] of cases) {
    test(name, async () => {
      const args = ['-p', String(mosquitto.port), ...flags];
      const io = capture();
      const [theirs, ours] = await Promise.all([run('mosquitto_sub', args), subMain(args, io)]);
      assert.equal(ours, theirs.code);
      assert.deepEqual(io.outBytes().toString('latin1'), theirs.stdout.toString('latin1'));
      assert.equal(io.err(), theirs.stderr);
    });
  }

  test('%j JSON output matches apart from the timestamp', async () => {
    const args = ['-p', String(mosquitto.port), '-V', '5', '-t', 'props/#', '-C', '1', '-F', '%j'];
    const io = capture();
    const [theirs, code] = await Promise.all([run('mosquitto_sub', args), subMain(args, io)]);
    assert.equal(code, 0);
    const strip = (s: string): unknown => {
      const o = JSON.parse(s);
      delete o.tst;
      return o;
    };
    assert.deepEqual(strip(io.out()), strip(theirs.stdout.toString()));
    assert.match(io.out(), /^\{"tst":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z[+-]\d{4}","topic"/);
  });
});

describe('heron sub with live messages', () => {
  test("heron sub -v -t 'home/#' prints what mosquitto_pub sends", async () => {
    const io = capture();
    let subscribed!: () => void;
    const ready = new Promise<void>((r) => (subscribed = r));
    const out: Buffer[] = [];
    io.stdout = {
      write: (c: string | Uint8Array) => {
        out.push(Buffer.from(c));
        if (Buffer.concat(out).includes('Subscribed')) subscribed();
      },
    };
    const running = subMain(
      ['-p', String(mosquitto.port), '-v', '-t', 'live/#', '-C', '2', '-d', '-q', '1'],
      io,
    );
    await ready;
    const p = String(mosquitto.port);
    await run('mosquitto_pub', ['-p', p, '-t', 'live/kitchen', '-m', '21.5', '-q', '1']);
    await run('mosquitto_pub', ['-p', p, '-t', 'live/hall', '-n', '-q', '2']);
    assert.equal(await running, 0);
    const text = Buffer.concat(out).toString();
    assert.match(text, /live\/kitchen 21\.5\n[\s\S]*live\/hall \(null\)\n/);
    assert.match(
      text,
      /received PUBLISH \(d0, q1, r0, m\d+, 'live\/kitchen', \.\.\. \(4 bytes\)\)/,
    );
  });

  test('aborting the signal ends a running sub with code 0, against Heron', async () => {
    const ac = new AbortController();
    const io = capture({ signal: ac.signal });
    const running = subMain(['-p', String(heron.port), '-t', 'x/#', '-v'], io);
    const c = await connect({ url: heron.url, reconnect: false });
    // Retained so delivery does not depend on when the subscription lands.
    await c.publish('x/1', 'kept', { qos: 1, retain: true });
    for (let i = 0; i < 50 && io.out() === ''; i++) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    assert.equal(await running, 0);
    assert.equal(io.out(), 'x/1 kept\n');
    await c.end();
  });

  test('usage errors exit 1 like mosquitto_sub', async () => {
    const io = capture();
    assert.equal(await subMain(['-p', '1', '-Z'], io), 1);
    assert.match(io.err(), /^Error: Unknown option '-Z'\.\n/);
    const io2 = capture();
    assert.equal(await subMain(['-t', 'a', '-c'], io2), 1);
    assert.match(io2.err(), /You must provide a client id if you are using the -c option/);
  });
});
