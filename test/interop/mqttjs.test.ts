import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startBroker, type TestBroker } from '../helpers/broker.js';

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** Collects messages of a client and lets a test wait for the n-th. */
function inbox(c: MqttClient): {
  list: Received[];
  wait(n: number, ms?: number): Promise<Received[]>;
} {
  const list: Received[] = [];
  let notify: (() => void) | undefined;
  c.on('message', (topic, payload, packet) => {
    list.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain });
    notify?.();
  });
  return {
    list,
    async wait(n, ms = 3000) {
      const deadline = Date.now() + ms;
      while (list.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${list.length} of ${n} messages`);
        await new Promise<void>((r) => {
          notify = r;
          setTimeout(r, 50);
        });
      }
      return list.slice(0, n);
    },
  };
}

for (const protocolVersion of [4, 3] as const) {
  describe(`MQTT.js interop (protocolVersion ${protocolVersion})`, () => {
    // MQTT 3.1 is "MQIsdp" level 3; MQTT.js needs to be told the name.
    const protocolId = protocolVersion === 3 ? 'MQIsdp' : 'MQTT';
    let tb: TestBroker;
    const clients: MqttClient[] = [];
    const open = async (opts: IClientOptions = {}): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(tb.url, {
        protocolVersion,
        protocolId,
        reconnectPeriod: 0,
        keepalive: 10,
        clientId: `js${protocolVersion}${Math.random().toString(16).slice(2, 10)}`,
        ...opts,
      });
      clients.push(c);
      return c;
    };
    before(async () => {
      tb = await startBroker();
    });
    after(async () => {
      for (const c of clients) c.end(true);
      await tb.close();
    });

    test('QoS 0, 1 and 2 publish/subscribe', async () => {
      const sub = await open();
      const box = inbox(sub);
      await sub.subscribeAsync('js/qos/+', { qos: 2 });
      const pub = await open();
      await pub.publishAsync('js/qos/0', 'zero', { qos: 0 });
      await pub.publishAsync('js/qos/1', 'one', { qos: 1 });
      await pub.publishAsync('js/qos/2', 'two', { qos: 2 });
      const got = await box.wait(3);
      assert.deepEqual(
        got.map((m) => [m.topic, m.payload, m.qos]),
        [
          ['js/qos/0', 'zero', 0],
          ['js/qos/1', 'one', 1],
          ['js/qos/2', 'two', 2],
        ],
      );
    });

    test('retained messages reach later subscribers with the retain flag', async () => {
      const pub = await open();
      await pub.publishAsync('js/retained', 'kept', { qos: 1, retain: true });
      const sub = await open();
      const box = inbox(sub);
      await sub.subscribeAsync('js/retained', { qos: 1 });
      const [m] = await box.wait(1);
      assert.equal(m!.payload, 'kept');
      assert.equal(m!.retain, true);
      await pub.publishAsync('js/retained', '', { qos: 1, retain: true });
    });

    test('the will is published when a client vanishes', async () => {
      const sub = await open();
      const box = inbox(sub);
      await sub.subscribeAsync('js/will', { qos: 1 });
      const dying = await open({
        will: { topic: 'js/will', payload: Buffer.from('bye'), qos: 1, retain: false },
      });
      dying.stream.destroy();
      const [m] = await box.wait(1);
      assert.equal(m!.payload, 'bye');
      assert.equal(m!.qos, 1);
    });

    test('a persistent session (clean false) receives what was queued while offline', async () => {
      const clientId = `jsp${protocolVersion}${Math.random().toString(16).slice(2, 8)}`;
      const first = await open({ clientId, clean: false });
      await first.subscribeAsync('js/persist', { qos: 2 });
      await first.endAsync();
      const pub = await open();
      await pub.publishAsync('js/persist', 'm1', { qos: 1 });
      await pub.publishAsync('js/persist', 'm2', { qos: 2 });
      const again = mqtt.connect(tb.url, {
        protocolVersion,
        protocolId,
        clientId,
        clean: false,
        reconnectPeriod: 0,
      });
      clients.push(again);
      const box = inbox(again);
      const connack = await new Promise<{ sessionPresent: boolean }>((r) =>
        again.once('connect', r),
      );
      // MQTT 3.1 has no Session Present flag: its CONNACK byte stays 0 (as in Mosquitto).
      assert.equal(connack.sessionPresent, protocolVersion !== 3);
      const got = await box.wait(2);
      assert.deepEqual(
        got.map((m) => [m.payload, m.qos]),
        [
          ['m1', 1],
          ['m2', 2],
        ],
      );
    });
  });
}
