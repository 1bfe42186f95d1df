// heron pub / sub / rr against mosquitto_pub / _sub / _rr on the same command lines,
// both talking to one real Mosquitto broker with a password file and an ACL: exit
// codes, stderr and -d output must be what the Mosquitto tools print (issue 15).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pubMain } from '../../src/cli/pub.js';
import { rrMain } from '../../src/cli/rr.js';
import { subMain } from '../../src/cli/sub.js';
import type { ToolIO } from '../../src/cli/tool-io.js';
import {
  type MosquittoBroker,
  run,
  scratchDir,
  startMosquitto,
} from '../auth/mosquitto-helpers.js';
import { capture } from './capture.js';

type Tool = 'pub' | 'sub' | 'rr';
const MAINS: Record<Tool, (argv: string[], io: ToolIO) => Promise<number>> = {
  pub: pubMain,
  sub: subMain,
  rr: rrMain,
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Tool names and broker-assigned client ids written the same way for both tools. */
function normal(tool: Tool, text: string): string {
  return text
    .replaceAll(`mosquitto_${tool}`, `heron ${tool}`)
    .replace(/auto-[0-9A-F-]{36}/g, 'auto-ID');
}

function mosquittoTool(tool: Tool, args: string[], input?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(`mosquitto_${tool}`, args, { timeout: 10_000 }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === 'number' ? e.code : 255) : 0;
      resolve({ code, stdout: normal(tool, stdout), stderr: normal(tool, stderr) });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

async function heronTool(tool: Tool, args: string[], input?: string): Promise<Outcome> {
  const io = capture(input === undefined ? {} : { stdin: Readable.from([input]) });
  const code = await MAINS[tool](args, io);
  return { code, stdout: normal(tool, io.out()), stderr: normal(tool, io.err()) };
}

/** Runs both tools one after the other (they share retained state) and returns both outcomes. */
async function both(tool: Tool, args: string[], input?: string): Promise<[Outcome, Outcome]> {
  const theirs = await mosquittoTool(tool, args, input);
  const ours = await heronTool(tool, args, input);
  return [theirs, ours];
}

let mosq: MosquittoBroker;
let cleanup: () => Promise<void>;
let conn: string[];

before(async () => {
  const s = await scratchDir();
  cleanup = s.cleanup;
  const pw = join(s.dir, 'passwd');
  assert.equal((await run('mosquitto_passwd', ['-c', '-b', pw, 'alice', 'secret'])).code, 0);
  const acl = join(s.dir, 'acl');
  await writeFile(acl, 'user alice\ntopic readwrite home/#\n');
  mosq = await startMosquitto(s.dir, [
    'allow_anonymous false',
    `password_file ${pw}`,
    `acl_file ${acl}`,
  ]);
  conn = ['-h', '127.0.0.1', '-p', String(mosq.port), '-u', 'alice', '-P', 'secret'];
});

after(async () => {
  await mosq?.stop();
  await cleanup?.();
});

/** Connection flags with a wrong password. */
const wrong = (): string[] => [...conn.slice(0, 6), '-P', 'wrong'];

describe('connection refused: exit code and text as the Mosquitto tools', () => {
  const cases: Array<[Tool, string[]]> = [
    ['pub', ['-V', '311', '-t', 'home/x', '-m', 'x']],
    ['pub', ['-V', '31', '-t', 'home/x', '-m', 'x']],
    ['pub', ['-V', '5', '-t', 'home/x', '-m', 'x']],
    ['sub', ['-V', '311', '-t', 'home/x']],
    ['sub', ['-V', '5', '-t', 'home/x']],
    ['rr', ['-t', 'home/x', '-e', 'home/r', '-m', 'x']],
    ['pub', ['-V', '5', '-t', 'home/x', '-m', 'x', '--quiet']],
  ];
  for (const [tool, args] of cases) {
    test(`${tool} ${args.join(' ')} with a wrong password`, async () => {
      const [theirs, ours] = await both(tool, [...wrong(), ...args]);
      assert.notEqual(theirs.code, 0);
      assert.equal(ours.code, theirs.code);
      assert.equal(ours.stderr, theirs.stderr);
    });
  }
});

describe('publishing', () => {
  test('v5 publish refused by the ACL: a warning, exit 0', async () => {
    const args = [...conn, '-V', '5', '-q', '1', '-t', 'other/x', '-m', 'x'];
    const [theirs, ours] = await both('pub', args);
    assert.equal(theirs.stderr, 'Warning: Publish 1 failed: Not authorized.\n');
    assert.deepEqual(ours, theirs);
  });

  const debugCases: Array<[string, string[], string?]> = [
    ['-d -i X, QoS 1: client id and PUBACK as libmosquitto prints them', ['-i', 'X', '-q', '1']],
    ['-d QoS 2: PUBREC, PUBREL, PUBCOMP', ['-i', 'X', '-q', '2']],
    ['-d QoS 0 --repeat 3: numbered publishes', ['-q', '0', '--repeat', '3']],
    ['-d -V 5 QoS 1: assigned client id from the CONNACK', ['-V', '5', '-q', '1']],
    ['-d -l: one PUBLISH line per stdin line', ['-l', '-q', '0'], 'one\ntwo\n'],
  ];
  for (const [name, flags, input] of debugCases) {
    test(name, async () => {
      const m = input === undefined ? ['-m', 'hello'] : [];
      const args = [...conn, '-d', '-t', 'home/debug', ...m, ...flags];
      const [theirs, ours] = await both('pub', args, input);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.deepEqual(ours, theirs);
    });
  }
});

describe('subscribing', () => {
  before(async () => {
    for (const [topic, payload] of [
      ['home/json', '{"a": 1, "b": [true, null]}'],
      ['home/text', 'not json'],
    ]) {
      const r = await run('mosquitto_pub', [
        ...conn,
        '-r',
        '-q',
        '1',
        '-t',
        topic!,
        '-m',
        payload!,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  for (const qos of ['1', '2']) {
    test(`-d QoS ${qos}: the acknowledgements are printed before the message`, async () => {
      const topic = `home/live${qos}`;
      const sub = (tool: 'm' | 'h', id: string) => {
        const args = [...conn, '-d', '-q', qos, '-t', topic, '-C', '1', '-W', '5', '-i', id];
        return tool === 'm' ? mosquittoTool('sub', args) : heronTool('sub', args);
      };
      const running = [sub('m', 'SUBM'), sub('h', 'SUBH')];
      // Both subscriptions are in place once the broker logged them.
      const subscribed = () => mosq.log().split(`\t${topic} (QoS ${qos})`).length - 1;
      for (let i = 0; i < 250 && subscribed() < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(subscribed(), 2, mosq.log());
      const p = await run('mosquitto_pub', [...conn, '-q', qos, '-t', topic, '-m', 'now']);
      assert.equal(p.code, 0);
      const [theirs, ours] = await Promise.all(running);
      assert.match(theirs.stdout, /sending PUB(ACK|COMP) \(m1(, rc0)?\)\nnow\n/);
      assert.equal(ours.code, theirs.code);
      assert.equal(ours.stdout.replaceAll('SUBH', 'SUBM'), theirs.stdout);
    });
  }

  test('%J with a payload that is not JSON: an error and an empty line', async () => {
    const args = [...conn, '-t', 'home/text', '-F', '%J', '-C', '1'];
    const [theirs, ours] = await both('sub', args);
    assert.match(theirs.stderr, /not valid JSON/);
    assert.deepEqual(ours, theirs);
  });

  test('%J with JSON payload: the payload embedded as JSON', async () => {
    const args = [...conn, '-t', 'home/json', '-F', '%J', '-C', '1'];
    const [theirs, ours] = await both('sub', args);
    const strip = (s: string) => s.replace(/"tst":"[^"]*",/, '');
    assert.equal(strip(ours.stdout), strip(theirs.stdout));
  });

  test('%j %I %U @N: the same shapes, with sub-millisecond digits', async () => {
    const args = [...conn, '-t', 'home/json', '-F', '%j|%I|%U|@N', '-C', '1'];
    const digits = (s: string) => s.replace(/"payload".*/, '').replace(/\d/g, 'D');
    const subMs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [theirs, ours] = await both('sub', args);
      assert.equal(digits(ours.stdout), digits(theirs.stdout));
      subMs.push(/\|\d+\.\d{3}(\d{6})\|/.exec(ours.stdout)![1]!);
    }
    // Three readings all on whole milliseconds would mean the digits are padding.
    assert.ok(
      subMs.some((d) => d !== '000000'),
      subMs.join(','),
    );
  });

  test('--remove-retained --retained-only -W 1: the retained messages, then the timeout code', async () => {
    const seed = async () => {
      for (const [topic, payload] of [
        ['home/r/a', 'one'],
        ['home/r/b', 'two'],
      ])
        await run('mosquitto_pub', [...conn, '-r', '-q', '1', '-t', topic!, '-m', payload!]);
    };
    const args = [...conn, '-t', 'home/r/#', '--remove-retained', '--retained-only', '-W', '1'];
    await seed();
    const theirs = await mosquittoTool('sub', args);
    await seed();
    const ours = await heronTool('sub', args);
    assert.equal(theirs.code, 27);
    assert.deepEqual(ours, theirs);
  });
});

describe('command lines', () => {
  for (const tool of ['pub', 'sub', 'rr'] as const) {
    test(`${tool} --version and --help exit 1`, async () => {
      const [theirs, ours] = await both(tool, ['--version']);
      assert.equal(ours.code, theirs.code);
      const shape = /^heron \w+ version \S+ running on .+\.\n$/;
      assert.match(theirs.stdout, shape);
      assert.match(ours.stdout, shape);
      const [theirHelp, ourHelp] = await both(tool, ['--help']);
      assert.equal(theirHelp.code, 1);
      assert.equal(ourHelp.code, theirHelp.code);
    });
  }

  const usage: Array<[Tool, string[]]> = [
    ['pub', ['-t', 'home/#', '-m', 'x']],
    ['pub', ['-t', 'home/+/x', '-m', 'x']],
    ['pub', ['-t', 'a', '-m', 'x', '-q', '3']],
    ['pub', ['-t', 'a', '-m', 'x', '--will-topic', 'w/#']],
    ['pub', ['-t', 'a', '-m', 'x', '--will-topic', 'w', '--will-qos', '5']],
    ['pub', ['-t', 'a', '-m', 'x', '-M', '0']],
    ['sub', ['-t', 'a', '-q', '3']],
    ['sub', ['-t', 'a', '-q', '-1']],
    ['sub', ['-t', 'home/#/x']],
    ['sub', ['-t', 'home/+x']],
    ['sub', ['-t', 'a', '-T', 'b/#/c']],
    ['sub', ['-t', 'a', '-U', 'b/#/c']],
    ['sub', ['-t', 'a', '-C', '0']],
    ['sub', ['-t', 'a', '-W', '0']],
    ['sub', ['-t', 'a', '-V', '6']],
    ['sub', ['-t', 'a', '-Z']],
    ['sub', []],
    ['rr', ['-t', 'q/#', '-e', 'r', '-m', 'x']],
    ['rr', ['-t', 'q', '-e', 'r/+', '-m', 'x']],
  ];
  for (const [tool, args] of usage) {
    test(`${tool} ${args.join(' ')}: refused before connecting, in the same words`, async () => {
      // Port 1 has no broker: an error about connecting would mean the check came too late.
      const [theirs, ours] = await both(tool, ['-p', '1', ...args]);
      assert.equal(theirs.code, 1);
      assert.deepEqual(ours, theirs);
    });
  }
});
