/** The scenarios of `npm run bench:compare`, as load-generator plans. */
import type { BenchPlan, PubPlan, SubPlan } from '../src/bench/plan.js';
import { defaultTarget } from '../src/bench/plan.js';

/** What a scenario reports in the table. */
export type Metric = 'delivered' | 'latency' | 'connections';

/** One comparison scenario. */
export interface Scenario {
  id: string;
  title: string;
  metric: Metric;
  /** QoS 1/2 publishers: the report shows messages acknowledged to them next to those delivered. */
  acked?: boolean;
  plan(port: number, seconds: number, warmup: number): BenchPlan;
}

/** Messages in flight from broker to each client, and queued per client, set alike on every broker. */
export const BROKER_LIMITS = { maxInflight: 100, maxQueued: 1000 };

/**
 * Scenario 7's second reading, after the last CONNACK: by then V8's memory
 * reducer has collected the connect storm's garbage and shrunk the young
 * generation (10-20 s after the storm in our runs), as an operator would see it.
 */
export const SETTLED_AFTER_MS = 30_000;
/** Scenario 7 waits this long before connecting, so that the settled reading starts from a settled idle broker. */
export const QUIET_BEFORE_MS = 12_000;

/**
 * Client ids of this run: two bench runs at once on one machine (a port reused
 * between them) must not take over each other's sessions.
 */
const ID_PREFIX = `cmp-${process.pid}-`;

function plan(
  port: number,
  seconds: number,
  warmup: number,
  pub: PubPlan | undefined,
  sub: SubPlan | undefined,
): BenchPlan {
  return {
    target: { ...defaultTarget(), port, clientIdPrefix: ID_PREFIX },
    pub,
    sub,
    duration: seconds,
    warmup,
    connectRate: 0,
    pinger: false,
    progress: false,
  };
}

const pub = (count: number, qos: 0 | 1 | 2, topic: string, rate = 0): PubPlan => ({
  count,
  qos,
  size: 64,
  topic,
  rate,
  inflight: 100,
  retain: false,
});

/** QoS 1/2 publishers at max rate into one subscriber, per-packet clients on TCP_NODELAY sockets. */
const PER_PACKET_QOS12: Scenario[] = [
  {
    id: '4a',
    title: 'QoS 1, 1 → 1, 100 in flight',
    metric: 'delivered',
    acked: true,
    plan: (p, s, w) =>
      plan(p, s, w, pub(1, 1, 'bench/q1'), { count: 1, qos: 1, topic: 'bench/q1' }),
  },
  {
    id: '4b',
    title: 'QoS 1, 4 → 1, 100 in flight each',
    metric: 'delivered',
    acked: true,
    plan: (p, s, w) =>
      plan(p, s, w, pub(4, 1, 'bench/q14/%i'), { count: 1, qos: 1, topic: 'bench/q14/+' }),
  },
  {
    id: '5',
    title: 'QoS 2, 1 → 1, 100 in flight',
    metric: 'delivered',
    acked: true,
    plan: (p, s, w) =>
      plan(p, s, w, pub(1, 2, 'bench/q2'), { count: 1, qos: 2, topic: 'bench/q2' }),
  },
  {
    id: '5b',
    title: 'QoS 2, 4 → 1, 100 in flight each',
    metric: 'delivered',
    acked: true,
    plan: (p, s, w) =>
      plan(p, s, w, pub(4, 2, 'bench/q24/%i'), { count: 1, qos: 2, topic: 'bench/q24/+' }),
  },
];

/**
 * The same load with the clients' sockets as libmosquitto, Paho and MQTT.js leave
 * them by default: Nagle's algorithm on, so a write made while an earlier segment
 * is unacknowledged waits to share the next one (still one write() per packet).
 */
function withNagle(sc: Scenario): Scenario {
  return {
    ...sc,
    id: `n${sc.id}`,
    plan: (p, s, w) => {
      const pl = sc.plan(p, s, w);
      pl.target.nagle = true;
      return pl;
    },
  };
}

/** All scenarios, in table order. */
export const SCENARIOS: Scenario[] = [
  {
    id: '1',
    title: 'QoS 0, 1 → 1, 64 B, max rate',
    metric: 'delivered',
    plan: (p, s, w) =>
      plan(p, s, w, pub(1, 0, 'bench/one'), { count: 1, qos: 0, topic: 'bench/one' }),
  },
  {
    id: '2',
    title: 'QoS 0 fan-in, 50 → 1 (wildcard)',
    metric: 'delivered',
    plan: (p, s, w) =>
      plan(p, s, w, pub(50, 0, 'bench/in/%i'), { count: 1, qos: 0, topic: 'bench/in/#' }),
  },
  {
    id: '3',
    title: 'QoS 0 fan-out, 1 → 500',
    metric: 'delivered',
    plan: (p, s, w) =>
      plan(p, s, w, pub(1, 0, 'bench/out'), { count: 500, qos: 0, topic: 'bench/out' }),
  },
  ...PER_PACKET_QOS12,
  ...PER_PACKET_QOS12.map(withNagle),
  {
    id: '6a',
    title: 'Latency, QoS 0 at 10,000 msg/s',
    metric: 'latency',
    plan: (p, s, w) =>
      plan(p, s, w, pub(1, 0, 'bench/lat0', 10_000), { count: 1, qos: 0, topic: 'bench/lat0' }),
  },
  {
    id: '6b',
    title: 'Latency, QoS 1 at 10,000 msg/s',
    metric: 'latency',
    plan: (p, s, w) =>
      plan(p, s, w, pub(1, 1, 'bench/lat1', 10_000), { count: 1, qos: 1, topic: 'bench/lat1' }),
  },
  {
    id: '7',
    title: '15,000 idle connections',
    metric: 'connections',
    // Held until the settled reading: the broker's RSS is read 4 s and 30 s after the last CONNACK.
    plan: (p, s) => ({
      ...plan(p, Math.max(s, SETTLED_AFTER_MS / 1000 + 2), 0, undefined, undefined),
      target: { ...defaultTarget(), port: p, clientIdPrefix: ID_PREFIX, keepalive: 300 },
      conn: { count: 15_000, rate: 0 },
    }),
  },
];
