import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectAsync } from 'mqtt';
import { startBroker } from '../helpers/broker.js';

/** Assigns like Aedes users do, from sloppy-mode code (a CommonJS app) where failed assignments can be silent. */
const sloppyAssign = new Function('target', 'name', 'value', 'target[name] = value;') as (
  target: object,
  name: string,
  value: unknown,
) => void;

test('assigning broker.authenticate Aedes-style throws a TypeError and CONNECT keeps using hooks.authenticate', async () => {
  const tb = await startBroker({
    hooks: {
      authenticate: ({ username, password }) =>
        username === 'alice' && password?.toString() === 'secret',
    },
  });
  try {
    const aedesStyle = (_client: unknown, _user: string, _pass: Buffer, done: Function) =>
      done(null, true);
    assert.throws(
      () => sloppyAssign(tb.broker, 'authenticate', aedesStyle),
      (err: unknown) => err instanceof TypeError && /hooks: \{ authenticate \}/.test(err.message),
    );
    const alice = await connectAsync(tb.url, {
      username: 'alice',
      password: 'secret',
      reconnectPeriod: 0,
    });
    assert.equal(alice.connected, true);
    await alice.endAsync();
    // The Aedes handler that accepts everyone did not take effect.
    await assert.rejects(
      connectAsync(tb.url, { username: 'mallory', password: 'guess', reconnectPeriod: 0 }),
    );
  } finally {
    await tb.close();
  }
});

test('the other Aedes handler names cannot be assigned either, so no check is silently skipped', async () => {
  const tb = await startBroker();
  try {
    const heirs: Record<string, RegExp> = {
      authorizePublish: /hooks: \{ authorizePublish \}/,
      authorizeSubscribe: /hooks: \{ authorizeSubscribe \}/,
      authorizeForward: /hooks: \{ authorizeRead \}/,
      preConnect: /hooks: \{ authenticate \}/,
      published: /broker\.on\('publish'/,
    };
    for (const [name, heir] of Object.entries(heirs)) {
      assert.throws(
        () => sloppyAssign(tb.broker, name, () => {}),
        (err: unknown) => err instanceof TypeError && heir.test(err.message),
        name,
      );
    }
    // Publishing still works end to end after the refused assignments.
    const sub = await connectAsync(tb.url, { reconnectPeriod: 0 });
    await sub.subscribeAsync('guard/t', { qos: 1 });
    const got = new Promise<string>((resolve) =>
      sub.on('message', (_t, payload) => resolve(payload.toString())),
    );
    const pub = await connectAsync(tb.url, { reconnectPeriod: 0 });
    await pub.publishAsync('guard/t', 'still routed', { qos: 1 });
    assert.equal(await got, 'still routed');
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  } finally {
    await tb.close();
  }
});
