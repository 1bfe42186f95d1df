// One chaos run: a broker, witness pairs exchanging QoS 0/1/2 messages, and
// hostile scenarios all at once; then the promises of "Errors and bad input"
// are checked: nothing thrown, witnesses intact, damage counted and logged,
// structures back to their bounds, and the broker still answers promptly.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { BrokerOptions } from '../../../src/broker/options.js';
import { PacketType } from '../../../src/protocol/constants.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { Rng } from '../../protocol/support/random-packets.js';
import {
  abrupt,
  type ChaosContext,
  churn,
  garbage,
  halfOpen,
  handshakes,
  slowConsumers,
  takeoverStorm,
  violators,
} from './hostile.js';
import { Peer } from './peer.js';
import { WitnessPair } from './witness.js';

/** Limits the chaos broker runs with (small, so that the attacks reach them). */
const LIMITS = {
  maxPacketSize: 64 * 1024,
  receiveMaximum: 10,
  maxQueuedMessages: 100,
  maxInflightMessages: 20,
  maxPendingBytes: 256 * 1024,
  connectTimeout: 1,
  // The flooded slow consumers hold the flooder (backpressure) until they count as slow
  // consumers; at 1 s that happens well inside every run, so their drops are certain
  // rather than a race between a QoS 0 queue filling and a QoS 1 queue holding the flooder.
  slowConsumerTimeout: 1,
} as const;

/** Which hostile scenarios a run includes. */
export type Scenario =
  | 'garbage'
  | 'violations'
  | 'abrupt'
  | 'handshakes'
  | 'takeover'
  | 'churn'
  | 'slow'
  | 'halfOpen';

/** Options of one run. */
export interface ChaosOptions {
  seed: number;
  /** How long the hostile clients attack, in ms. */
  durationMs: number;
  scenarios: Scenario[];
  /** Extra broker options (persistence, listeners). */
  broker?: BrokerOptions;
  /** Ports of extra listeners by kind, given the addresses listen() returned. */
  extraPorts?: (tb: TestBroker) => { wsPort?: number; tlsPort?: number };
}

/** Uncaught errors in this process while a run was going (the broker runs in-process). */
const uncaught: unknown[] = [];
process.on('uncaughtException', (err) => uncaught.push(err));
process.on('unhandledRejection', (err) => uncaught.push(err));

/** Runs the chaos and asserts every promise; returns the broker's counters for extra checks. */
export async function runChaos(o: ChaosOptions): Promise<TestBroker['broker']['stats']> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  const tb = await startBroker({
    ...LIMITS,
    logger: pino({ level: 'info' }, sink),
    connectionMessages: false,
    ...o.broker,
  });
  const { broker } = tb;
  try {
    const ctx: ChaosContext = {
      port: tb.port,
      ...o.extraPorts?.(tb),
      rng: new Rng(o.seed),
      until: 0,
      findings: [],
      persistentIds: new Set(),
    };
    const pairs = [
      new WitnessPair(tb.url, 'a', 4),
      new WitnessPair(tb.url, 'b', 5),
      new WitnessPair(tb.url, 'c', 5),
    ];
    for (const [i, w] of pairs.entries()) await w.start(i === 2);
    for (const w of pairs) w.run(8, LIMITS.receiveMaximum);
    ctx.until = Date.now() + o.durationMs;
    const s = new Set(o.scenarios);
    const runs: Array<Promise<unknown>> = [];
    let slow: Peer[] = [];
    if (s.has('garbage')) runs.push(garbage(ctx));
    if (s.has('violations')) runs.push(violators(ctx, LIMITS.maxPacketSize, LIMITS.receiveMaximum));
    if (s.has('abrupt')) runs.push(abrupt(ctx));
    if (s.has('handshakes')) runs.push(handshakes(ctx));
    if (s.has('takeover')) runs.push(takeoverStorm(ctx));
    if (s.has('churn')) runs.push(churn(ctx));
    if (s.has('slow')) runs.push(slowConsumers(ctx).then((p) => (slow = p)));
    if (s.has('halfOpen')) runs.push(halfOpen(ctx));
    const counts = await Promise.all(runs);
    if (process.env.CHAOS_DEBUG) console.log('scenario counts', counts);

    // Bounded structures while the slow consumers are still attached and unread.
    // Backpressure lets an online queue take one message past its bound per publishing
    // connection (which then stops being read), so the bound is the limit plus connections.
    const overshoot = broker.channels.size;
    for (const session of broker.sessions.values()) {
      assert.ok(
        session.queuedCount <= LIMITS.maxQueuedMessages + overshoot,
        `${session.clientId} queued ${session.queuedCount}`,
      );
      assert.ok(
        session.inflightCount <= LIMITS.maxInflightMessages,
        `${session.clientId} inflight ${session.inflightCount}`,
      );
    }
    for (const ch of broker.channels) {
      // Unread output and read-ahead input stay near maxPendingBytes per connection.
      const held = ch.socket.writableLength + ch.socket.readableLength;
      assert.ok(held <= LIMITS.maxPendingBytes + (1 << 20), `${ch.clientId} holds ${held} bytes`);
    }
    for (const p of slow) p.destroy();

    for (const w of pairs) await w.stop();
    const problems = pairs.flatMap((w) => w.check());
    assert.deepEqual(problems, [], 'witnesses');
    assert.ok(
      pairs.every((w) => w.connected),
      'a witness was disconnected',
    );
    assert.deepEqual(
      [...new Set(ctx.findings)],
      [],
      'broker behaviour the hostile clients found wrong',
    );

    // The broker still answers promptly.
    const probe = await Peer.tcp(tb.port, 5);
    assert.equal(await probe.connect({ clientId: 'probe' }, 1000), 0);
    const t0 = Date.now();
    probe.send({ type: PacketType.PINGREQ });
    assert.ok(await probe.waitFor((p) => p.type === PacketType.PINGRESP, 1000), 'no PINGRESP');
    assert.ok(Date.now() - t0 < 500, `PINGRESP took ${Date.now() - t0} ms`);
    probe.send({ type: PacketType.DISCONNECT, reasonCode: 0 });
    await probe.waitClosed(1000);

    // Only the witnesses stay connected; clean sessions are gone.
    const witnessIds = new Set(pairs.flatMap((w) => w.clientIds));
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && broker.channels.size > witnessIds.size)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(broker.channels.size, witnessIds.size, 'channels left open');
    assert.equal(broker.stats.connected, witnessIds.size, 'stats.connected');
    // Random CONNECTs may legitimately leave persistent sessions; a session with
    // expiry 0 and no connection, or a connection nobody holds, is a leak.
    const stray = [...broker.sessions.values()]
      .filter((x) => !witnessIds.has(x.clientId))
      .filter((x) => x.online || x.expiryInterval === 0)
      .map((x) => x.clientId);
    assert.deepEqual(stray, [], 'sessions of clean clients left behind');

    assert.deepEqual(uncaught, [], 'uncaught exceptions or rejections');
    assert.equal(broker.stats.internalErrors, 0, 'internal errors (caught bugs)');
    const st = broker.stats;
    if (s.has('garbage') || s.has('violations')) {
      assert.ok(st.protocolErrors > 0, 'protocol errors counted');
      assert.ok(
        logLines.some((l) => l.includes('protocol error')),
        'protocol errors logged',
      );
    }
    if (s.has('violations')) assert.ok(st.packetsTooLarge > 0, 'oversize packets counted');
    if (s.has('slow')) assert.ok(st.publishDropped > 0, 'slow consumer drops counted');
    if (s.has('halfOpen')) {
      assert.ok(st.connectTimeouts > 0, 'connect timeouts counted');
      assert.ok(st.keepaliveTimeouts > 0, 'keep alive timeouts counted');
    }
    if (process.env.CHAOS_DEBUG)
      console.log(
        st,
        pairs.map((w) => w.sent),
      );
    for (const w of pairs) await w.end();
    return st;
  } finally {
    await tb.close();
  }
}
