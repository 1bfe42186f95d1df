/**
 * Node-RED (the npm devDependency `node-red`, run headless on loopback) against
 * Heron: its MQTT nodes with a 3.1.1 and a 5.0 broker configuration, flows
 * deployed through the admin HTTP API, observed by an MQTT.js client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect } from './mqttjs-helpers.js';
import { type NodeRed, startNodeRed } from './node-red-helpers.js';

interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  props: Record<string, unknown> | undefined;
}

/** What a watching node reports of a message it received (published back on `seen/<tag>`). */
interface Report {
  tag: string;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  userProperties?: Record<string, string>;
  contentType?: string;
  responseTopic?: string;
  correlationData?: string;
  messageExpiryInterval?: number;
}

const VERSIONS = [4, 5] as const;

/** The flows: per protocol version a broker config, watching nodes, a publisher and a dynamic subscriber. */
function flows(port: number): unknown[] {
  const out: unknown[] = [{ id: 'tab', type: 'tab', label: 'heron interop' }];
  for (const v of VERSIONS) {
    const b = `b${v}`;
    out.push({
      id: b,
      type: 'mqtt-broker',
      name: `heron v${v}`,
      broker: '127.0.0.1',
      port: String(port),
      clientid: `nodered-v${v}`,
      autoConnect: true,
      usetls: false,
      protocolVersion: String(v),
      keepalive: '60',
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: `nr/v${v}/status`,
      birthQos: '1',
      birthRetain: 'false',
      birthPayload: 'online',
      birthMsg: {},
      closeTopic: `nr/v${v}/status`,
      closeQos: '1',
      closeRetain: 'false',
      closePayload: 'offline',
      closeMsg: {},
      willTopic: `nr/v${v}/status`,
      willQos: '1',
      willRetain: 'false',
      willPayload: 'gone',
      willMsg: {},
      userProps: '',
      sessionExpiry: '',
    });
    const seenOut = `seen${v}`;
    out.push(mqttOut(seenOut, b));
    const watch = (tag: string, topic: string, qos: number, dynamic = false): void => {
      out.push({
        id: `in-${tag}`,
        type: 'mqtt in',
        z: 'tab',
        name: tag,
        topic: dynamic ? '' : topic,
        qos: String(qos),
        datatype: 'utf8',
        broker: b,
        nl: false,
        rap: true,
        rh: 0,
        inputs: dynamic ? 1 : 0,
        wires: [[`report-${tag}`]],
      });
      out.push({
        id: `report-${tag}`,
        type: 'function',
        z: 'tab',
        name: `report ${tag}`,
        func: `const s = { tag: ${JSON.stringify(tag)}, topic: msg.topic, payload: String(msg.payload),
  qos: msg.qos, retain: msg.retain, userProperties: msg.userProperties, contentType: msg.contentType,
  responseTopic: msg.responseTopic, messageExpiryInterval: msg.messageExpiryInterval,
  correlationData: msg.correlationData ? msg.correlationData.toString() : undefined };
return { topic: 'seen/' + s.tag, payload: JSON.stringify(s), qos: 1, retain: false };`,
        outputs: 1,
        wires: [[seenOut]],
      });
    };
    watch(`plain${v}`, `in/v${v}/plain/+`, 2);
    watch(`deep${v}`, `in/v${v}/deep/#`, 1);
    watch(`overplus${v}`, `in/v${v}/over/+`, 1);
    watch(`overhash${v}`, `in/v${v}/over/#`, 2);
    watch(`shared${v}`, `$share/nr${v}/in/v${v}/shared`, 1);
    watch(`dyn${v}`, '', 1, true);
    // Last: its retained message arriving means every SUBSCRIBE before it was handled.
    watch(`ret${v}`, `in/v${v}/ret`, 1);
    // POST /pub<v>: Node-RED publishes what the body says (mqtt out takes topic, QoS, retain, v5 properties from msg).
    out.push(httpIn(`http-pub${v}`, `/pub${v}`, `fn-pub${v}`));
    out.push({
      id: `fn-pub${v}`,
      type: 'function',
      z: 'tab',
      name: `publish v${v}`,
      func: `const b = msg.payload;
const m = { topic: b.topic, payload: b.body, qos: b.qos, retain: b.retain };
for (const k of ['userProperties', 'contentType', 'responseTopic', 'messageExpiryInterval']) if (b[k] !== undefined) m[k] = b[k];
if (b.correlationData !== undefined) m.correlationData = Buffer.from(b.correlationData);
msg.payload = 'ok';
return [m, msg];`,
      outputs: 2,
      wires: [[`out-pub${v}`], [`resp${v}`]],
    });
    out.push(mqttOut(`out-pub${v}`, b));
    // POST /dyn<v>: subscribe / unsubscribe the dynamic node.
    out.push(httpIn(`http-dyn${v}`, `/dyn${v}`, `fn-dyn${v}`));
    out.push({
      id: `fn-dyn${v}`,
      type: 'function',
      z: 'tab',
      name: `dynamic v${v}`,
      func: `const m = { action: msg.payload.action, topic: msg.payload.topic };
msg.payload = 'ok';
return [m, msg];`,
      outputs: 2,
      wires: [[`in-dyn${v}`], [`resp${v}`]],
    });
    out.push({
      id: `resp${v}`,
      type: 'http response',
      z: 'tab',
      statusCode: '',
      headers: {},
      wires: [],
    });
  }
  return out;
}

function mqttOut(id: string, broker: string): unknown {
  return {
    id,
    type: 'mqtt out',
    z: 'tab',
    topic: '',
    qos: '',
    retain: '',
    respTopic: '',
    contentType: '',
    userProps: '',
    correl: '',
    expiry: '',
    broker,
    wires: [],
  };
}

function httpIn(id: string, url: string, to: string): unknown {
  return {
    id,
    type: 'http in',
    z: 'tab',
    url,
    method: 'post',
    upload: false,
    swaggerDoc: '',
    wires: [[to]],
  };
}

describe('Node-RED MQTT nodes against Heron (3.1.1 and 5.0 broker configs)', () => {
  let tb: TestBroker;
  let red: NodeRed;
  let watcher: MqttClient;
  const seen: Seen[] = [];
  const waiters: Array<() => void> = [];

  /** Resolves with the first message matching `pred` (already received or to come). */
  const waitFor = async (pred: (s: Seen) => boolean, what: string, ms = 20_000): Promise<Seen> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = seen.find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  const reports = (tag: string): Report[] =>
    seen.filter((s) => s.topic === `seen/${tag}`).map((s) => JSON.parse(s.payload) as Report);
  const report = async (
    tag: string,
    pred: (r: Report) => boolean = () => true,
  ): Promise<Report> => {
    const s = await waitFor(
      (x) => x.topic === `seen/${tag}` && pred(JSON.parse(x.payload) as Report),
      `a report from ${tag}`,
    );
    return JSON.parse(s.payload) as Report;
  };
  const pub = (topic: string, payload: string, qos: 0 | 1 | 2, extra: object = {}): Promise<void> =>
    new Promise((resolve, reject) =>
      watcher.publish(topic, payload, { qos, ...extra }, (err) => (err ? reject(err) : resolve())),
    );

  before(async () => {
    tb = await startBroker();
    watcher = await connect(tb.url, { clientId: 'nr-watcher' });
    watcher.on('message', (topic, payload, packet) => {
      seen.push({
        topic,
        payload: payload.toString(),
        qos: packet.qos,
        retain: packet.retain,
        props: packet.properties as Record<string, unknown> | undefined,
      });
      for (const w of waiters.splice(0)) w();
    });
    await watcher.subscribeAsync(['seen/#', 'nr/+/status'], { qos: 1 });
    await watcher.subscribeAsync('out/#', { qos: 2 });
    for (const v of VERSIONS) await pub(`in/v${v}/ret`, `kept v${v}`, 1, { retain: true });
    red = await startNodeRed();
    await red.deploy(flows(tb.port));
    for (const v of VERSIONS) {
      await waitFor((s) => s.topic === `nr/v${v}/status` && s.payload === 'online', `v${v} birth`);
      await report(`ret${v}`);
    }
  });

  after(async () => {
    await red?.stop();
    watcher?.end(true);
    await tb?.close();
  });

  for (const v of VERSIONS) {
    test(`v${v}: birth message on connect; retained message delivered on subscribe with RETAIN 1`, async () => {
      const birth = seen.find((s) => s.topic === `nr/v${v}/status`);
      assert.equal(birth?.payload, 'online');
      const r = await report(`ret${v}`);
      assert.equal(r.payload, `kept v${v}`);
      assert.equal(r.retain, true);
    });

    test(`v${v}: QoS 0, 1 and 2 through a + filter arrive at the QoS published`, async () => {
      for (const q of [0, 1, 2] as const) await pub(`in/v${v}/plain/q${q}`, `qos ${q}`, q);
      for (const q of [0, 1, 2]) {
        const r = await report(`plain${v}`, (x) => x.topic === `in/v${v}/plain/q${q}`);
        assert.equal(r.payload, `qos ${q}`);
        assert.equal(r.qos, q);
        assert.equal(r.retain, false);
      }
    });

    test(`v${v}: a # filter matches several levels`, async () => {
      await pub(`in/v${v}/deep/a/b/c`, 'deep', 1);
      const r = await report(`deep${v}`);
      assert.equal(r.topic, `in/v${v}/deep/a/b/c`);
    });

    test(`v${v}: overlapping filters of two nodes on one connection: each node gets the message once`, async () => {
      await pub(`in/v${v}/over/x`, 'overlap', 2);
      // Also QoS 2: a node's copies then share one QoS, so MQTT.js hands them over in order.
      await pub(`in/v${v}/over/x`, 'end', 2);
      for (const tag of [`overplus${v}`, `overhash${v}`])
        await report(tag, (r) => r.payload === 'end');
      for (const tag of [`overplus${v}`, `overhash${v}`])
        assert.deepEqual(
          reports(tag).map((r) => r.payload),
          ['overlap', 'end'],
          tag,
        );
    });

    test(`v${v}: a shared subscription splits messages between Node-RED and another member`, async () => {
      const other = await connect(tb.url, { clientId: `nr-share-${v}` });
      const got: string[] = [];
      other.on('message', (_t, p) => got.push(p.toString()));
      await other.subscribeAsync(`$share/nr${v}/in/v${v}/shared`, { qos: 1 });
      const sent = Array.from({ length: 6 }, (_, i) => `s${i}`);
      for (const s of sent) await pub(`in/v${v}/shared`, s, 1);
      await waitFor(
        () => got.length + reports(`shared${v}`).length >= sent.length,
        'all shared messages',
      );
      const all = [...got, ...reports(`shared${v}`).map((r) => r.payload)].sort();
      assert.deepEqual(all, sent, 'each message to exactly one member');
      assert.ok(reports(`shared${v}`).length > 0, 'Node-RED got its share');
      other.end(true);
    });

    test(`v${v}: dynamic subscribe and unsubscribe`, async () => {
      await red.post(`/dyn${v}`, { action: 'subscribe', topic: `in/v${v}/dyn` });
      // The SUBSCRIBE goes out asynchronously: publish until the first copy comes back.
      let n = 0;
      const first = waitFor((s) => s.topic === `seen/dyn${v}`, 'a dynamic subscription');
      const poke = setInterval(() => void pub(`in/v${v}/dyn`, `probe ${n++}`, 1), 100);
      await first.finally(() => clearInterval(poke));
      await red.post(`/dyn${v}`, { action: 'unsubscribe', topic: `in/v${v}/dyn` });
      await red.post(`/dyn${v}`, { action: 'subscribe', topic: `in/v${v}/dyn2` });
      const second = report(`dyn${v}`, (r) => r.topic === `in/v${v}/dyn2`);
      const poke2 = setInterval(() => void pub(`in/v${v}/dyn2`, 'marker', 1), 100);
      await second.finally(() => clearInterval(poke2));
      const before = reports(`dyn${v}`).filter((r) => r.topic === `in/v${v}/dyn`).length;
      await pub(`in/v${v}/dyn`, 'after unsubscribe', 1);
      await pub(`in/v${v}/dyn2`, 'last', 1);
      await report(`dyn${v}`, (r) => r.payload === 'last');
      assert.equal(reports(`dyn${v}`).filter((r) => r.topic === `in/v${v}/dyn`).length, before);
    });

    test(`v${v}: Node-RED publishes at QoS 0, 1 and 2, and retained`, async () => {
      for (const q of [0, 1, 2])
        await red.post(`/pub${v}`, {
          topic: `out/v${v}/q${q}`,
          body: `from red ${q}`,
          qos: q,
          retain: false,
        });
      for (const q of [0, 1, 2]) {
        const m = await waitFor((s) => s.topic === `out/v${v}/q${q}`, `Node-RED's QoS ${q}`);
        assert.equal(m.payload, `from red ${q}`);
        assert.equal(m.qos, q);
      }
      await red.post(`/pub${v}`, {
        topic: `out/v${v}/ret`,
        body: 'retained by red',
        qos: 1,
        retain: true,
      });
      await waitFor((s) => s.topic === `out/v${v}/ret`, "Node-RED's retained message");
      const late = await connect(tb.url, { clientId: `nr-late-${v}` });
      const retained = new Promise<[string, boolean]>((resolve) =>
        late.once('message', (_t, p, packet) => resolve([p.toString(), packet.retain])),
      );
      await late.subscribeAsync(`out/v${v}/ret`, { qos: 1 });
      assert.deepEqual(await retained, ['retained by red', true]);
      late.end(true);
    });
  }

  test('v5: properties pass both ways (user properties, content type, response topic, correlation data, expiry)', async () => {
    await pub('in/v5/plain/props', 'with props', 1, {
      properties: {
        userProperties: { a: '1' },
        contentType: 'text/plain',
        responseTopic: 'reply/x',
        correlationData: Buffer.from('cid'),
        messageExpiryInterval: 60,
      },
    });
    const r = await report('plain5', (x) => x.topic === 'in/v5/plain/props');
    assert.deepEqual(r.userProperties, { a: '1' });
    assert.equal(r.contentType, 'text/plain');
    assert.equal(r.responseTopic, 'reply/x');
    assert.equal(r.correlationData, 'cid');
    assert.ok(r.messageExpiryInterval !== undefined && r.messageExpiryInterval <= 60);

    await red.post('/pub5', {
      topic: 'out/v5/props',
      body: 'red props',
      qos: 1,
      retain: false,
      userProperties: { b: '2' },
      contentType: 'application/json',
      responseTopic: 'reply/y',
      correlationData: 'c2',
      messageExpiryInterval: 120,
    });
    const m = await waitFor((s) => s.topic === 'out/v5/props', "Node-RED's v5 PUBLISH");
    assert.deepEqual({ ...(m.props?.userProperties as object) }, { b: '2' });
    assert.equal(m.props?.contentType, 'application/json');
    assert.equal(m.props?.responseTopic, 'reply/y');
    assert.equal(String(m.props?.correlationData), 'c2');
    assert.ok(Number(m.props?.messageExpiryInterval) <= 120);
  });

  test('close message on a clean stop, will message when Node-RED dies', async () => {
    await red.deploy([]);
    for (const v of VERSIONS)
      await waitFor(
        (s) => s.topic === `nr/v${v}/status` && s.payload === 'offline',
        `v${v} close message`,
      );
    const births = (v: number): number =>
      seen.filter((s) => s.topic === `nr/v${v}/status` && s.payload === 'online').length;
    const before = VERSIONS.map(births);
    await red.deploy(flows(tb.port));
    for (const [i, v] of VERSIONS.entries())
      await waitFor(() => births(v) > before[i]!, `v${v} birth after redeploy`);
    await red.kill();
    for (const v of VERSIONS)
      await waitFor((s) => s.topic === `nr/v${v}/status` && s.payload === 'gone', `v${v} will`);
  });
});
