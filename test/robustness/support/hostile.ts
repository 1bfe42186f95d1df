// Hostile clients for the chaos tests. Each scenario runs until the context's
// deadline with bounded concurrency and records what the broker should not have
// done (left a violator connected, never answered) in `ctx.findings`.
import net from 'node:net';
import tls from 'node:tls';
import { PacketType, type ProtocolVersion, type QoS } from '../../../src/protocol/constants.js';
import { encode } from '../../../src/protocol/encoder.js';
import type { Packet, Subscription } from '../../../src/protocol/packets.js';
import { delay as sleep } from '../../helpers/process.js';
import { Rng, randomPacket } from '../../protocol/support/random-packets.js';
import { connectBytes, Peer } from './peer.js';

/** Shared state of one chaos run. */
export interface ChaosContext {
  port: number;
  wsPort?: number;
  tlsPort?: number;
  rng: Rng;
  /** Scenarios stop starting new work after this time (ms since epoch). */
  until: number;
  /** Broker behaviour a scenario found wrong. */
  findings: string[];
  /** Client ids of persistent sessions that may legitimately outlive the run. */
  persistentIds: Set<string>;
}

function sub(topic: string, qos: QoS): Subscription {
  return { topic, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 };
}

/** Runs `worker` on `n` parallel lanes until the deadline. */
async function lanes(ctx: ChaosContext, n: number, worker: (rng: Rng) => Promise<void>) {
  const runs: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(ctx.rng.next());
    runs.push(
      (async () => {
        while (Date.now() < ctx.until) await worker(rng);
      })(),
    );
  }
  await Promise.all(runs);
}

/** Writes `bytes` split at random points, yielding to the event loop between pieces. */
async function writeSplit(rng: Rng, peer: Peer, bytes: Buffer): Promise<void> {
  let at = 0;
  while (at < bytes.length && !peer.closed) {
    const n = rng.range(1, Math.max(1, Math.min(bytes.length - at, 512)));
    peer.raw(bytes.subarray(at, at + n));
    at += n;
    if (rng.bool(0.3)) await new Promise((r) => setImmediate(r));
  }
}

function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  for (let e = rng.range(1, 4); e > 0; e--) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(5)) {
      case 0:
        if (b.length) b[at]! ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.length) b[at] = rng.pick([0, 0x7f, 0x80, 0xff, 0x23, 0x2b, 0xc0, rng.int(256)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 4)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 4))]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

/**
 * Random bytes and mutated valid packet streams, split at random points, at
 * v3.1.1 and v5; half of them after a valid CONNECT so that the damage reaches
 * the connected-state handlers.
 */
export async function garbage(ctx: ChaosContext): Promise<number> {
  let connections = 0;
  await lanes(ctx, 6, async (rng) => {
    const version = rng.pick([4, 5] as ProtocolVersion[]);
    let peer: Peer;
    try {
      peer = await Peer.tcp(ctx.port, version);
    } catch {
      return;
    }
    connections++;
    if (rng.bool(0.6)) {
      peer.raw(connectBytes(version, `junk-${rng.next().toString(36)}`));
      await peer.waitFor((p) => p.type === PacketType.CONNACK, 1000);
    }
    let stream: Buffer;
    if (rng.bool(0.2)) stream = rng.bytes(rng.range(1, 300));
    else {
      const parts: Buffer[] = [];
      for (let k = rng.range(1, 6); k > 0; k--)
        parts.push(encode(randomPacket(rng, version), version));
      stream = rng.bool(0.85) ? mutate(rng, Buffer.concat(parts)) : Buffer.concat(parts);
    }
    await writeSplit(rng, peer, stream);
    if (rng.bool(0.5)) await peer.waitClosed(rng.range(10, 150));
    peer.destroy();
  });
  return connections;
}

/** One protocol violation after a valid CONNECT, with what the broker must answer. */
interface Violation {
  name: string;
  version: ProtocolVersion;
  /** v5 DISCONNECT reason code expected, or undefined when only closing is checked. */
  code?: number;
  /** Connection must stay open (the packet is answered with a negative ack instead). */
  staysOpen?: (p: Packet) => boolean;
  /** Either this answer (connection open) or a close is right. */
  answered?: (p: Packet) => boolean;
  /** Sends the offending packet(s). */
  act(peer: Peer): void;
}

const pub = (
  topic: string,
  qos: QoS,
  packetId: number,
  properties?: Record<string, unknown>,
  payload: Buffer = Buffer.from('x'),
): Packet => ({
  type: PacketType.PUBLISH,
  topic,
  payload,
  qos,
  retain: false,
  dup: false,
  packetId,
  properties,
});

/** Violations of the brief; `maxPacket` and `receiveMaximum` are the broker's configured limits. */
function violations(maxPacket: number, receiveMaximum: number): Violation[] {
  const v: Violation[] = [];
  for (const version of [4, 5] as ProtocolVersion[]) {
    v.push(
      {
        name: 'second CONNECT',
        version,
        code: 0x82,
        act: (p) => p.raw(connectBytes(version, 'again')),
      },
      {
        name: 'SUBSCRIBE with a bad filter',
        version,
        act: (p) => {
          // Encoded by hand: our encoder would not write a '#' in the middle.
          const topic = Buffer.from('a/#/b');
          const body = Buffer.concat([
            Buffer.from([0, 7]),
            version === 5 ? Buffer.from([0]) : Buffer.alloc(0),
            Buffer.from([0, topic.length]),
            topic,
            Buffer.from([1]),
          ]);
          p.raw(Buffer.concat([Buffer.from([0x82, body.length]), body]));
        },
        // Refusing in the SUBACK or closing as malformed are both allowed [MQTT-4.7.3-1... 4.8].
        answered: (pk) => pk.type === PacketType.SUBACK && pk.reasonCodes[0]! >= 0x80,
      },
      {
        name: 'oversize PUBLISH',
        version,
        code: 0x95,
        act: (p) => p.send(pub('big', 0, 0, undefined, Buffer.alloc(maxPacket + 10))),
      },
      {
        name: 'QoS 3 PUBLISH',
        version,
        code: 0x81,
        act: (p) => p.raw(Buffer.from([0x36, 5, 0, 1, 0x61, 0, 1])),
      },
      {
        name: 'reserved packet type 0',
        version,
        code: 0x81,
        act: (p) => p.raw(Buffer.from([0x00, 0])),
      },
      {
        name: 'PUBREL for an unknown id',
        version,
        act: (p) => p.send({ type: PacketType.PUBREL, packetId: 777, reasonCode: 0 }),
        staysOpen: (pk) => pk.type === PacketType.PUBCOMP && pk.packetId === 777,
      },
      {
        name: 'PUBLISH with packet id 0 at QoS 1',
        version,
        code: 0x82,
        act: (p) => p.raw(Buffer.from([0x32, 5, 0, 1, 0x61, 0, 0])),
      },
      {
        name: 'CONNACK from a client',
        version,
        act: (p) => p.send({ type: PacketType.CONNACK, sessionPresent: false, reasonCode: 0 }),
      },
    );
  }
  v.push(
    {
      name: 'topic alias 0',
      version: 5,
      code: 0x94,
      act: (p) => p.send(pub('t', 0, 0, { topicAlias: 0 })),
    },
    {
      name: 'topic alias above the maximum',
      version: 5,
      code: 0x94,
      act: (p) => p.send(pub('t', 0, 0, { topicAlias: 60000 })),
    },
    {
      name: 'unknown topic alias',
      version: 5,
      code: 0x82,
      act: (p) => p.send(pub('', 0, 0, { topicAlias: 3 })),
    },
    {
      name: 'receive maximum overflow',
      version: 5,
      code: 0x93,
      act: (p) => {
        for (let i = 1; i <= receiveMaximum + 1; i++) p.send(pub('rm', 2, i));
      },
    },
    {
      name: 'AUTH without a method',
      version: 5,
      code: 0x82,
      act: (p) => p.send({ type: PacketType.AUTH, reasonCode: 0x18 }),
    },
    {
      name: 'subscription identifier in PUBLISH',
      version: 5,
      code: 0x82,
      act: (p) => p.send(pub('t', 0, 0, { subscriptionIdentifiers: [5] })),
    },
    {
      name: 'session expiry raised at DISCONNECT',
      version: 5,
      code: 0x82,
      act: (p) =>
        p.send({
          type: PacketType.DISCONNECT,
          reasonCode: 0,
          properties: { sessionExpiryInterval: 100 },
        }),
    },
  );
  return v;
}

/** Runs every violation again and again; checks the close and the v5 reason code. */
export async function violators(
  ctx: ChaosContext,
  maxPacket: number,
  receiveMaximum: number,
): Promise<number> {
  const all = violations(maxPacket, receiveMaximum);
  let done = 0;
  await lanes(ctx, 3, async (rng) => {
    const v = rng.pick(all);
    const peer = await Peer.tcp(ctx.port, v.version).catch(() => undefined);
    if (peer === undefined) return;
    peer.autoAck = false;
    const code = await peer.connect({ clientId: `viol-${rng.next().toString(36)}` });
    if (code !== 0) {
      ctx.findings.push(`${v.name}: CONNACK ${code}`);
      peer.destroy();
      return;
    }
    v.act(peer);
    if (v.staysOpen !== undefined) {
      const ok = await peer.waitFor(v.staysOpen, 2000);
      if (ok === undefined || peer.closed)
        ctx.findings.push(`${v.name} (v${v.version}): no answer`);
      peer.destroy();
      done++;
      return;
    }
    if (v.answered !== undefined) {
      const ok = await peer.waitFor(v.answered, 2000);
      if (ok === undefined && !peer.closed)
        ctx.findings.push(`${v.name} (v${v.version}): no answer`);
      peer.destroy();
      done++;
      return;
    }
    if (!(await peer.waitClosed(2000)))
      ctx.findings.push(`${v.name} (v${v.version}): connection left open`);
    else if (v.version === 5 && v.code !== undefined && peer.disconnectCode !== v.code) {
      ctx.findings.push(
        `${v.name}: DISCONNECT ${peer.disconnectCode?.toString(16)}, expected ${v.code.toString(16)}`,
      );
    }
    peer.destroy();
    done++;
  });
  return done;
}

/**
 * Abrupt disconnects: mid-packet, mid-QoS-2 in both directions (sessions clean
 * and persistent), with a will to publish.
 */
export async function abrupt(ctx: ChaosContext): Promise<number> {
  let n = 0;
  await lanes(ctx, 3, async (rng) => {
    const version = rng.pick([4, 5] as ProtocolVersion[]);
    const persistent = rng.bool(0.3);
    const id = `abrupt-${rng.int(8)}`;
    const peer = await Peer.tcp(ctx.port, version).catch(() => undefined);
    if (peer === undefined) return;
    peer.autoAck = false;
    if (persistent) ctx.persistentIds.add(id);
    const code = await peer.connect({
      clientId: id,
      clean: !persistent,
      will: { topic: 'abrupt/will', payload: Buffer.from('gone'), qos: 1, retain: false },
      ...(version === 5 && persistent ? { properties: { sessionExpiryInterval: 60 } } : {}),
    });
    if (code !== 0) {
      peer.destroy();
      return;
    }
    n++;
    switch (rng.int(4)) {
      case 0: {
        // Half a PUBLISH, then gone.
        const b = encode(pub('abrupt/x', 1, 9, undefined, rng.bytes(200)), version);
        peer.raw(b.subarray(0, rng.range(1, b.length - 1)));
        break;
      }
      case 1:
        // Inbound QoS 2 without the PUBREL.
        peer.send(pub('abrupt/x', 2, rng.range(1, 100)));
        await peer.waitFor((p) => p.type === PacketType.PUBREC, 500);
        break;
      case 2: {
        // Outbound QoS 2: PUBREC sent, never PUBCOMP.
        peer.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [sub('abrupt/#', 2)] });
        await peer.waitFor((p) => p.type === PacketType.SUBACK, 500);
        const other = await Peer.tcp(ctx.port, 4).catch(() => undefined);
        if (other !== undefined && (await other.connect({ clientId: '' })) === 0) {
          other.send(pub('abrupt/y', 2, 5));
          const got = await peer.waitFor((p) => p.type === PacketType.PUBLISH, 500);
          if (got?.type === PacketType.PUBLISH)
            peer.send({ type: PacketType.PUBREC, packetId: got.packetId, reasonCode: 0 });
          await peer.waitFor((p) => p.type === PacketType.PUBREL, 300);
          other.destroy();
        }
        break;
      }
      default:
        peer.send({ type: PacketType.PINGREQ });
    }
    peer.destroy();
  });
  return n;
}

/** TLS and WebSocket handshakes cut short or fed garbage. */
export async function handshakes(ctx: ChaosContext): Promise<number> {
  let n = 0;
  await lanes(ctx, 2, async (rng) => {
    const kind = rng.int(4);
    n++;
    if (kind === 0 && ctx.tlsPort !== undefined) {
      // A real ClientHello, cut off after a random delay.
      const s = tls.connect({ port: ctx.tlsPort, host: '127.0.0.1', rejectUnauthorized: false });
      s.on('error', () => {});
      await sleep(rng.range(0, 15));
      s.destroy();
      return;
    }
    const port = kind === 1 ? ctx.tlsPort : ctx.wsPort;
    if (port === undefined) return;
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r).once('close', r));
    let bytes: Buffer;
    if (kind === 1) bytes = rng.bytes(rng.range(1, 200));
    else {
      const upgrade = Buffer.from(
        'GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Protocol: mqtt\r\n\r\n',
      );
      // kind 2: the upgrade cut short; kind 3: upgrade then bad or partial frames.
      bytes =
        kind === 2
          ? upgrade.subarray(0, rng.int(upgrade.length))
          : Buffer.concat([upgrade, rng.bool() ? rng.bytes(rng.range(1, 40)) : wsFrame(rng)]);
    }
    s.write(bytes);
    await sleep(rng.range(0, 30));
    s.destroy();
  });
  return n;
}

/** A masked binary WebSocket frame carrying a CONNECT, cut at a random point. */
function wsFrame(rng: Rng): Buffer {
  const payload = connectBytes(4, `ws-${rng.int(100)}`);
  const mask = rng.bytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const frame = Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]);
  return frame.subarray(0, rng.range(1, frame.length));
}

/** Many connections at once with the same few client ids, clean and persistent. */
export async function takeoverStorm(ctx: ChaosContext): Promise<number> {
  let n = 0;
  await lanes(ctx, 2, async (rng) => {
    const id = `storm-${rng.int(3)}`;
    const persistent = rng.bool(0.5);
    if (persistent) ctx.persistentIds.add(id);
    const burst = await Promise.all(
      Array.from({ length: rng.range(3, 8) }, async (_, i) => {
        const version = rng.pick([4, 5] as ProtocolVersion[]);
        const peer = await Peer.tcp(ctx.port, version).catch(() => undefined);
        if (peer === undefined) return undefined;
        const clean = !(persistent && i % 2 === 0);
        const code = await peer.connect({
          clientId: id,
          clean,
          ...(version === 5 && !clean ? { properties: { sessionExpiryInterval: 60 } } : {}),
        });
        if (code === undefined && !peer.closed)
          ctx.findings.push(`storm ${id}: no CONNACK and not closed`);
        if (code === 0) {
          peer.send({
            type: PacketType.SUBSCRIBE,
            packetId: 1,
            subscriptions: [sub(`storm/${id}`, 1)],
          });
          peer.send(pub(`storm/${id}`, 1, 2));
        }
        return peer;
      }),
    );
    n += burst.length;
    await sleep(rng.range(0, 50));
    for (const p of burst) p?.destroy();
  });
  return n;
}

/** Subscribe/unsubscribe churn with wildcards and shared subscriptions while publishing. */
export async function churn(ctx: ChaosContext): Promise<number> {
  let ops = 0;
  const publisher = await Peer.tcp(ctx.port, 5);
  await publisher.connect({ clientId: 'churn-pub' });
  let pid = 1;
  const pubTimer = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      const qos = (pid % 3) as QoS;
      publisher.send(pub(`churn/${pid % 4}/x`, qos, qos === 0 ? 0 : pid));
      pid = (pid % 60000) + 1;
    }
  }, 5);
  const filters = [
    'churn/#',
    'churn/+/x',
    'churn/1/x',
    '$share/g1/churn/#',
    '$share/g2/churn/+/x',
    '+/+/x',
  ];
  await lanes(ctx, 4, async (rng) => {
    const version = rng.pick([4, 5] as ProtocolVersion[]);
    const peer = await Peer.tcp(ctx.port, version).catch(() => undefined);
    if (peer === undefined) return;
    if ((await peer.connect({ clientId: `churn-${rng.next().toString(36)}` })) !== 0) {
      peer.destroy();
      return;
    }
    for (let i = 0; i < 20 && Date.now() < ctx.until; i++) {
      const f = rng.pick(filters);
      if (rng.bool(0.6))
        peer.send({
          type: PacketType.SUBSCRIBE,
          packetId: i + 1,
          subscriptions: [sub(f, rng.int(3) as QoS)],
        });
      else peer.send({ type: PacketType.UNSUBSCRIBE, packetId: i + 1, topics: [f] });
      ops++;
      await sleep(rng.range(0, 10));
    }
    if (rng.bool(0.5)) peer.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    peer.destroy();
  });
  clearInterval(pubTimer);
  publisher.destroy();
  return ops;
}

/** Consumers that subscribe and then never read, while a publisher floods them. */
export async function slowConsumers(ctx: ChaosContext): Promise<Peer[]> {
  const slow: Peer[] = [];
  for (const qos of [0, 1, 2] as QoS[]) {
    const p = await Peer.tcp(ctx.port, 5);
    await p.connect({ clientId: `slow-${qos}` });
    p.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [sub('flood/#', qos)] });
    await p.waitFor((pk) => pk.type === PacketType.SUBACK);
    p.socket.pause();
    slow.push(p);
  }
  // A client that floods PINGREQs and never reads the PINGRESPs.
  const deaf = await Peer.tcp(ctx.port, 4);
  await deaf.connect({ clientId: 'deaf' });
  deaf.socket.pause();
  slow.push(deaf);
  const pings = Buffer.alloc(32 * 1024);
  for (let i = 0; i < pings.length; i += 2) pings[i] = 0xc0;
  const deafTimer = setInterval(() => {
    if (deaf.socket.writableLength < 1 << 20) deaf.raw(pings);
  }, 2);
  const flooder = await Peer.tcp(ctx.port, 4);
  await flooder.connect({ clientId: 'flooder' });
  const payload = Buffer.alloc(16 * 1024, 0x61);
  let id = 1;
  // At least 32 MB, whatever the clock says: more than a paused reader's socket
  // buffers, pending bytes and queue can hold, so drops must follow even when a
  // loaded machine spent the whole attack time connecting the peers above.
  let sent = 0;
  while ((Date.now() < ctx.until || sent < 2048) && !flooder.closed) {
    sent++;
    // QoS 0 and 1 only: unreleased QoS 2 beyond Receive Maximum is a violation, even at v3.1.1.
    const qos = (id % 2) as QoS;
    flooder.send(pub('flood/x', qos, qos === 0 ? 0 : id, undefined, payload));
    id = (id % 60000) + 1;
    if (flooder.socket.writableLength > 256 * 1024)
      // Bounded: a closed socket never drains.
      await new Promise<void>((r) => {
        const done = () => {
          flooder.socket.off('drain', done).off('close', done);
          clearTimeout(timer);
          r();
        };
        const timer = setTimeout(done, 100);
        flooder.socket.once('drain', done).once('close', done);
      });
    else if (id % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  clearInterval(deafTimer);
  if (flooder.closed) ctx.findings.push('the flooding (but legal) publisher was disconnected');
  flooder.destroy();
  return slow;
}

/** Connections that never send CONNECT (or half of one) and clients that stop sending. */
export async function halfOpen(ctx: ChaosContext): Promise<void> {
  const silent: Peer[] = [];
  for (let i = 0; i < 6; i++) {
    const p = await Peer.tcp(ctx.port, 4);
    if (i % 2 === 1) p.raw(connectBytes(4, 'half').subarray(0, 5));
    silent.push(p);
  }
  const idle: Peer[] = [];
  for (const version of [4, 5] as ProtocolVersion[]) {
    const p = await Peer.tcp(ctx.port, version);
    await p.connect({ clientId: `idle-${version}`, keepalive: 1 });
    idle.push(p);
  }
  for (const p of silent)
    if (!(await p.waitClosed(4000))) ctx.findings.push('silent socket outlived connect timeout');
  for (const p of idle) {
    if (!(await p.waitClosed(4000)))
      ctx.findings.push(`v${p.version} idle client outlived keep alive`);
    else if (p.version === 5 && p.disconnectCode !== 0x8d)
      ctx.findings.push(`keep alive DISCONNECT ${p.disconnectCode}, expected 0x8d`);
  }
}
