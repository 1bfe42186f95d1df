import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type MqttClient } from '../../src/client/client.js';
import { ConnackError } from '../../src/client/errors.js';
import { PacketType, type ProtocolVersion, type QoS } from '../../src/protocol/constants.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { type MosquittoProcess, startMosquitto } from './mosquitto-process.js';

/** Resolves with the next `count` messages the client receives. */
function nextMessages(c: MqttClient, count: number, ms = 3000): Promise<PublishPacket[]> {
  return new Promise((resolve, reject) => {
    const got: PublishPacket[] = [];
    const timer = setTimeout(() => {
      c.off('message', onMessage);
      reject(new Error(`timed out with ${got.length}/${count} messages`));
    }, ms);
    const onMessage = (_t: string, _p: Buffer, packet: PublishPacket): void => {
      got.push(packet);
      if (got.length === count) {
        clearTimeout(timer);
        c.off('message', onMessage);
        resolve(got);
      }
    };
    c.on('message', onMessage);
  });
}

let heron: TestBroker;
let mosquitto: MosquittoProcess;

before(async () => {
  heron = await startBroker();
  mosquitto = await startMosquitto();
});

after(async () => {
  await heron.close();
  await mosquitto.stop();
});

for (const target of ['heron', 'mosquitto'] as const) {
  for (const version of [4, 5] as ProtocolVersion[]) {
    describe(`client against ${target}, protocol level ${version}`, () => {
      const url = (): string => (target === 'heron' ? heron.url : mosquitto.url);

      test('publishes and receives at QoS 0, 1 and 2 with the QoS downgraded to the subscription', async () => {
        const sub = await connect({ url: url(), protocolVersion: version, reconnect: false });
        const pub = await connect({ url: url(), protocolVersion: version, reconnect: false });
        assert.deepEqual(await sub.subscribe('q/+', { qos: 2 }), [2]);
        assert.deepEqual(await sub.subscribe('low/#', { qos: 1 }), [1]);
        const got = nextMessages(sub, 5);
        for (const qos of [0, 1, 2] as QoS[]) {
          const ack = await pub.publish(`q/${qos}`, `m${qos}`, { qos });
          if (qos === 0) assert.equal(ack, undefined);
          else assert.equal(ack?.reasonCode, 0);
        }
        await pub.publish('low/x', 'a', { qos: 2 });
        await pub.publish('low/y', 'b', { qos: 0 });
        const msgs = await got;
        assert.deepEqual(
          msgs.map((m) => [m.topic, m.payload.toString(), m.qos]),
          [
            ['q/0', 'm0', 0],
            ['q/1', 'm1', 1],
            ['q/2', 'm2', 2],
            ['low/x', 'a', 1],
            ['low/y', 'b', 0],
          ],
        );
        assert.deepEqual(await sub.unsubscribe(['q/+', 'low/#']), version === 5 ? [0, 0] : []);
        await Promise.all([sub.end(), pub.end()]);
        assert.equal(sub.state, 'closed');
      });

      test('retained messages are delivered on subscribe with the retain flag', async () => {
        const pub = await connect({ url: url(), protocolVersion: version, reconnect: false });
        await pub.publish(`ret/${version}`, 'kept', { qos: 1, retain: true });
        const sub = await connect({ url: url(), protocolVersion: version, reconnect: false });
        const got = nextMessages(sub, 1);
        await sub.subscribe(`ret/${version}`, { qos: 1 });
        const [m] = await got;
        assert.equal(m.retain, true);
        assert.equal(m.payload.toString(), 'kept');
        await pub.publish(`ret/${version}`, '', { qos: 1, retain: true });
        await Promise.all([sub.end(), pub.end()]);
      });

      test('the will is published when the client vanishes, not when it ends', async () => {
        const watcher = await connect({ url: url(), protocolVersion: version, reconnect: false });
        await watcher.subscribe(`will/${version}/#`, { qos: 1 });
        const got = nextMessages(watcher, 1);
        const polite = await connect({
          url: url(),
          protocolVersion: version,
          reconnect: false,
          will: { topic: `will/${version}/polite`, payload: 'x', qos: 1 },
        });
        await polite.end();
        const rude = await connect({
          url: url(),
          protocolVersion: version,
          reconnect: false,
          will: { topic: `will/${version}/rude`, payload: 'gone', qos: 1 },
        });
        rude.destroy();
        const [m] = await got;
        assert.equal(m.topic, `will/${version}/rude`);
        assert.equal(m.payload.toString(), 'gone');
        await watcher.end();
      });

      test('fire-and-forget send() acknowledges every QoS 1 message within the inflight window', async () => {
        const sub = await connect({ url: url(), protocolVersion: version, reconnect: false });
        await sub.subscribe('bulk', { qos: 1 });
        const pub = await connect({
          url: url(),
          protocolVersion: version,
          reconnect: false,
          maxInflight: 10,
        });
        const n = 500;
        let acked = 0;
        let maxInflight = 0;
        const got = nextMessages(sub, n, 10_000);
        const allAcked = new Promise<void>((resolve, reject) => {
          const done = (err: Error | undefined): void => {
            if (err) reject(err);
            else if (++acked === n) resolve();
          };
          const opts = { qos: 1 as QoS };
          const payload = Buffer.from('x');
          for (let i = 0; i < n; i++) {
            pub.send('bulk', payload, opts, done);
            maxInflight = Math.max(maxInflight, pub.inflightCount);
          }
        });
        await allAcked;
        assert.equal(maxInflight, 10);
        assert.equal((await got).length, n);
        await Promise.all([sub.end(), pub.end()]);
      });
    });
  }
}

describe('client failures', () => {
  test('a refused CONNACK rejects connect() with ConnackError', async () => {
    const b = await startBroker({ allowAnonymous: false });
    await assert.rejects(connect({ url: b.url, reconnect: false }), (e: unknown) => {
      assert.ok(e instanceof ConnackError);
      assert.equal(e.reasonCode, 5);
      return true;
    });
    await assert.rejects(connect({ url: b.url, protocolVersion: 5, reconnect: false }), {
      name: 'ConnackError',
      reasonCode: 0x87,
    });
    await b.close();
  });

  test('an unreachable server rejects connect() with the network error', async () => {
    const port = mosquitto.port;
    const s = await startMosquitto();
    const p = s.port;
    await s.stop();
    assert.notEqual(p, port);
    await assert.rejects(connect({ url: `mqtt://127.0.0.1:${p}`, reconnect: false }), {
      code: 'ECONNREFUSED',
    });
  });

  test('publishing an invalid topic name is refused before anything is sent', async () => {
    const c = await connect({ url: heron.url, reconnect: false });
    await assert.rejects(c.publish('a/+', 'x'), TypeError);
    assert.throws(() => c.send('', 'x'), TypeError);
    await assert.rejects(c.subscribe('a/#/b'), TypeError);
    await c.end();
    await assert.rejects(c.publish('a', 'x'), { name: 'ClientClosedError' });
  });

  test('keepalive pings keep an idle connection open', async () => {
    let pings = 0;
    const c = await connect({
      url: heron.url,
      keepalive: 1,
      reconnect: false,
      trace: (dir, p) => {
        if (dir === 'send' && p.type === PacketType.PINGREQ) pings++;
      },
    });
    await new Promise((r) => setTimeout(r, 2300));
    assert.ok(pings >= 2, `only ${pings} pings`);
    assert.equal(c.connected, true);
    await c.end();
  });
});
