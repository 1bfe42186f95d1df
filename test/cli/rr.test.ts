import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rrMain } from '../../src/cli/rr.js';
import { connect } from '../../src/client/client.js';
import { suiteBroker } from '../helpers/broker.js';
import { capture } from './capture.js';

const heron = suiteBroker();

test('heron rr publishes with a v5 Response Topic and prints the first response', async () => {
  const responder = await connect({ url: heron.url, protocolVersion: 5, reconnect: false });
  await responder.subscribe('svc/time', { qos: 1 });
  responder.on('message', (_t, payload, packet) => {
    const to = packet.properties?.responseTopic;
    if (to) responder.send(to, `pong:${payload}`, { qos: 1 });
  });
  const io = capture();
  const code = await rrMain(
    ['-p', String(heron.port), '-t', 'svc/time', '-e', 'reply/me', '-m', 'ping', '-v', '-q', '1'],
    io,
  );
  assert.equal(code, 0);
  assert.equal(io.out(), 'reply/me pong:ping\n');
  await responder.end();
});

test('heron rr gives up after -W seconds with code 27', async () => {
  const io = capture();
  const code = await rrMain(
    ['-p', String(heron.port), '-t', 'nobody', '-e', 'never', '-m', 'x', '-W', '1'],
    io,
  );
  assert.equal(code, 27);
  assert.equal(io.err(), 'Timed out\n');
  const usage = capture();
  assert.equal(await rrMain(['-t', 'a', '-m', 'b'], usage), 1);
  assert.match(usage.err(), /All of topic, message, and response topic must be supplied/);
});
