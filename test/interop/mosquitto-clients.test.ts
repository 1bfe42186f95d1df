import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { suiteBroker, type TestBroker } from '../helpers/broker.js';

const run = promisify(execFile);

/** Runs mosquitto_sub until it has printed `count` messages (-C), returning its output lines. */
function sub(
  port: number,
  args: string[],
  count: number,
): { proc: ChildProcess; done: Promise<string[]> } {
  const proc = spawn('mosquitto_sub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-C',
    String(count),
    '-W',
    '5',
    ...args,
  ]);
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  const done = new Promise<string[]>((resolve, reject) => {
    // 'close', not 'exit': stdout may still hold the last lines when the process exits.
    proc.on('close', (code) =>
      code === 0
        ? resolve(out.trim().split('\n'))
        : reject(new Error(`mosquitto_sub exit ${code}: ${out}`)),
    );
  });
  return { proc, done };
}

function pub(port: number, args: string[]): Promise<unknown> {
  return run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args]);
}

/** Waits until the broker has a connected session for `clientId` with a subscription. */
async function subscribed(tb: TestBroker, clientId?: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    for (const s of tb.broker.sessions.values()) {
      if (
        (clientId === undefined || s.clientId === clientId) &&
        s.online &&
        s.subscriptions.size > 0
      )
        return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('subscriber did not subscribe');
}

describe('Debian mosquitto_pub / mosquitto_sub against Heron', () => {
  const tb = suiteBroker();

  for (const version of ['mqttv311', 'mqttv31']) {
    for (const qos of ['0', '1', '2']) {
      test(`-V ${version} -q ${qos}: mosquitto_pub to mosquitto_sub through Heron`, async () => {
        const topic = `mc/${version}/${qos}`;
        const id = `ms${version}${qos}`;
        const s = sub(tb.port, ['-V', version, '-q', qos, '-i', id, '-t', topic, '-v'], 2);
        await subscribed(tb, id);
        await pub(tb.port, ['-V', version, '-q', qos, '-t', topic, '-m', 'hello']);
        await pub(tb.port, ['-V', version, '-q', qos, '-t', topic, '-m', 'world']);
        assert.deepEqual(await s.done, [`${topic} hello`, `${topic} world`]);
      });
    }
  }

  test('-r: a retained message reaches a later mosquitto_sub, -n -r clears it', async () => {
    await pub(tb.port, ['-q', '1', '-r', '-t', 'mc/retained', '-m', 'kept']);
    const s = sub(tb.port, ['-t', 'mc/retained', '-F', '%r %p'], 1);
    assert.deepEqual(await s.done, ['1 kept']);
    await pub(tb.port, ['-q', '1', '-r', '-n', '-t', 'mc/retained']);
    assert.equal(tb.broker.retained.get('mc/retained'), undefined);
  });

  test('-c -i: a persistent mosquitto_sub session receives QoS 1 messages published while it was away', async () => {
    const id = 'mcpersist';
    // Create the session and its subscription, then leave.
    const first = sub(tb.port, ['-c', '-i', id, '-q', '1', '-t', 'mc/persist'], 1);
    await subscribed(tb, id);
    await pub(tb.port, ['-q', '1', '-t', 'mc/persist', '-m', 'online']);
    assert.deepEqual(await first.done, ['online']);
    await pub(tb.port, ['-q', '1', '-t', 'mc/persist', '-m', 'while away']);
    const again = sub(tb.port, ['-c', '-i', id, '-q', '1', '-t', 'mc/persist'], 1);
    assert.deepEqual(await again.done, ['while away']);
  });

  test('Heron publishes to mosquitto_sub and receives from mosquitto_pub via its embedding API', async () => {
    const seen: string[] = [];
    tb.broker.on('publish', (m) => {
      if (m.topic === 'mc/api/in') seen.push(m.payload.toString());
    });
    const s = sub(tb.port, ['-t', 'mc/api/out'], 1);
    await subscribed(tb);
    tb.broker.publish({
      topic: 'mc/api/out',
      payload: Buffer.from('from heron'),
      qos: 1,
      retain: false,
    });
    assert.deepEqual(await s.done, ['from heron']);
    await pub(tb.port, ['-q', '2', '-t', 'mc/api/in', '-m', 'to heron']);
    assert.deepEqual(seen, ['to heron']);
  });
});
