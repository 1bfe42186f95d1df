/** What a benchmark run does: the target broker and the publisher, subscriber and connection plans. */
import type { ProtocolVersion, QoS } from '../protocol/constants.js';

/** How to reach the broker under test. */
export interface BenchTarget {
  host: string;
  port: number;
  transport: 'tcp' | 'tls' | 'ws' | 'wss';
  /** WebSocket path (default /mqtt). */
  wsPath: string;
  /** TLS: accept any server certificate. */
  insecure: boolean;
  version: ProtocolVersion;
  /** Keep alive sent in CONNECT, seconds; the tool pings at half of it. */
  keepalive: number;
  username: string | undefined;
  password: string | undefined;
  /** Client ids are this prefix followed by the role and the client number. */
  clientIdPrefix: string;
  /**
   * TCP: leave Nagle's algorithm on (no TCP_NODELAY), as libmosquitto, Paho and
   * MQTT.js leave their sockets unless told otherwise: a small write made while
   * an earlier segment is unacknowledged waits to share a segment. Off (the
   * default), every write is its own segment: the worst case for a broker.
   */
  nagle: boolean;
}

/** Publishers: `count` clients each publishing to `topic` (%i = client number). */
export interface PubPlan {
  count: number;
  qos: QoS;
  /** Payload bytes; the first 8 carry the send time when size >= 8. */
  size: number;
  topic: string;
  /** Messages per second per client; 0 publishes as fast as the connection takes them. */
  rate: number;
  /** QoS 1/2: unacknowledged messages allowed per publisher. */
  inflight: number;
  retain: boolean;
  /** Port the publishers connect to instead of the target's (another node of a cluster). */
  port?: number | undefined;
}

/** Subscribers: `count` clients each subscribing to `topic` (%i = client number). */
export interface SubPlan {
  count: number;
  qos: QoS;
  topic: string;
}

/** Idle connections: `count` clients connected at `rate` per second (0 = as fast as possible). */
export interface ConnPlan {
  count: number;
  rate: number;
}

/** A whole run. Subscribers connect and subscribe first, then publishers start the clock. */
export interface BenchPlan {
  target: BenchTarget;
  pub?: PubPlan | undefined;
  sub?: SubPlan | undefined;
  conn?: ConnPlan | undefined;
  /** Seconds of measurement after warm-up; 0 runs until interrupted. */
  duration: number;
  /** Seconds run before counters are reset. */
  warmup: number;
  /** New connections per second while setting up pub/sub clients (0 = as fast as possible). */
  connectRate: number;
  /** Run a client that sends PINGREQ every 100 ms and records the PINGRESP delay. */
  pinger: boolean;
  /** Print a progress line every second (to `progressOut`). */
  progress: boolean;
  /**
   * How clients write: 'packet' makes every acknowledgement and every QoS 1/2
   * PUBLISH its own write() (what MQTT.js, Paho and libmosquitto do); 'batched'
   * copies a connection's packets into one slab written once per loop turn.
   * Unset: see clientWrites().
   */
  writes?: ClientWrites | undefined;
}

/** How load-generator clients write their packets (see BenchPlan.writes). */
export type ClientWrites = 'packet' | 'batched';

/**
 * The write mode a plan runs with: as set, else per packet for QoS 1/2 and paced
 * (latency) runs, where real clients' one-write-per-packet is what the broker sees,
 * and batched for QoS 0 at max rate, where the generator must outrun the broker.
 */
export function clientWrites(plan: BenchPlan): ClientWrites {
  if (plan.writes !== undefined) return plan.writes;
  const pub = plan.pub;
  if (pub !== undefined && (pub.qos > 0 || pub.rate > 0)) return 'packet';
  if (plan.sub !== undefined && plan.sub.qos > 0) return 'packet';
  return 'batched';
}

/** Default target: a plain TCP broker on localhost:1883 speaking 3.1.1. */
export function defaultTarget(): BenchTarget {
  return {
    host: '127.0.0.1',
    port: 1883,
    transport: 'tcp',
    wsPath: '/mqtt',
    insecure: false,
    version: 4,
    keepalive: 60,
    username: undefined,
    password: undefined,
    // Random part: runs in one process (or pid reuse) must not take over each other's client ids.
    clientIdPrefix: `bench-${process.pid}-${Math.random().toString(36).slice(2, 6)}-`,
    nagle: false,
  };
}

/** Summary of a run; rates are per second of measurement. */
export interface BenchResult {
  /** Measured seconds (after warm-up). */
  seconds: number;
  /** How the clients wrote (per packet or batched per loop turn). */
  writes: ClientWrites;
  /** PUBLISH packets written by publishers. */
  sent: number;
  /** QoS 1/2 publishes completed (PUBACK / PUBCOMP received). */
  acked: number;
  /** PUBLISH packets received by subscribers. */
  received: number;
  /**
   * QoS 1/2 with subscribers in this run: over the whole run (warm-up included),
   * deliveries owed for acknowledged publishes (acknowledged × subscribers) and
   * deliveries received once the broker's queues had drained after publishing
   * stopped. received < acked means the broker lost acknowledged messages.
   */
  settled?: { acked: number; received: number };
  sentPerSecond: number;
  receivedPerSecond: number;
  latency: { count: number; mean: number; p50: number; p90: number; p99: number; max: number };
  connections: {
    attempted: number;
    connected: number;
    failed: number;
    /** Connected at the end of the run. */
    held: number;
    /** CONNACKs per second from first attempt to last CONNACK. */
    perSecond: number;
    /** Seconds from the first attempt to the last CONNACK. */
    setupSeconds: number;
  };
  /** PINGREQ → PINGRESP delays in ms (max includes a still-unanswered ping). */
  ping: { count: number; p99: number; max: number };
  /** Errors by kind (refused, socket, closed, protocol). */
  errors: Record<string, number>;
}
