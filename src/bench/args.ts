/** Command-line flags of `heron bench` → a BenchPlan. */
import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import { type BenchPlan, defaultTarget } from './plan.js';

/** The three modes of `heron bench`. */
export type BenchMode = 'pub' | 'sub' | 'conn';

/** A bad flag or value. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

/** Parsed command line: the plan plus output choices. */
export interface BenchArgs {
  mode: BenchMode;
  plan: BenchPlan;
  json: boolean;
  help: boolean;
}

/** Usage text of `heron bench`. */
export const BENCH_USAGE = `Usage: heron bench pub|sub|conn [options]

  pub   publishers send to -t (default bench/%i) as fast as the broker takes them, or at -I/-L
  sub   subscribers on -t (default bench/#) count messages and measure latency
  conn  -c idle connections opened at -R per second and held

  -h, --host HOST         broker host (default 127.0.0.1)
  -p, --port PORT         broker port (default 1883, 8883 with --tls)
  -c, --count N           clients (default 1; conn: 1000)
  -q, --qos 0|1|2         QoS of publishes and subscriptions (default 0)
  -s, --size BYTES        payload size (default 64; >= 8 carries the send time for latency)
  -t, --topic TOPIC       topic or filter; %i is replaced by the client number
  -I, --interval MS       pub: interval between publishes of each client (default 0: max rate)
  -L, --limit RATE        pub: total messages per second over all publishers
      --inflight N        pub QoS 1/2: unacknowledged messages per publisher (default 100)
      --retain            pub: set RETAIN
  -D, --duration S        seconds to measure (default 10; 0: until Ctrl-C)
  -w, --warmup S          seconds run before measuring (default 0)
  -R, --conn-rate N       new connections per second (default 0: as fast as possible)
  -i, --conn-interval MS  milliseconds between new connections (emqtt-bench style)
  -V, --mqtt-version V    3 (3.1), 4 (3.1.1, default) or 5
  -k, --keepalive S       keep alive (default 60)
  -u, --username U        -P, --password P
  -S, --tls               TLS          --ws  WebSocket (ws://HOST:PORT/mqtt)
      --insecure          TLS: do not verify the server certificate
      --ws-path PATH      WebSocket path (default /mqtt)
      --prefix ID         client id prefix (default bench-<pid>-<random>-)
      --per-packet        every ack and QoS 1/2 PUBLISH is its own write(), like MQTT.js,
                          Paho and libmosquitto (default for QoS 1/2 and -I/-L runs)
      --batched           each connection's packets go out in one write per loop turn
                          (default for QoS 0 at max rate)
      --nagle             TCP: leave Nagle's algorithm on, as libmosquitto, Paho and
                          MQTT.js do by default (default: TCP_NODELAY, a segment per write)
      --no-pinger         no PINGREQ probe client (it records the max PINGRESP delay)
      --json              print the summary as JSON
      --help              this text`;

function num(flag: string, v: string | undefined, min = 0): number {
  if (v === undefined) throw new BenchUsageError(`${flag} needs a value`);
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new BenchUsageError(`${flag}: invalid value ${v}`);
  return n;
}

/** Parses `heron bench` arguments (after the word `bench`). */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const mode = argv[0];
  if (mode === '--help' || mode === undefined) {
    return { mode: 'pub', plan: emptyPlan(), json: false, help: true };
  }
  if (mode !== 'pub' && mode !== 'sub' && mode !== 'conn')
    throw new BenchUsageError(`unknown mode ${mode}: expected pub, sub or conn`);
  const plan = emptyPlan();
  const t = plan.target;
  let count = mode === 'conn' ? 1000 : 1;
  let qos: QoS = 0;
  let size = 64;
  let topic = mode === 'sub' ? 'bench/#' : 'bench/%i';
  let interval = 0;
  let limit = 0;
  let inflight = 100;
  let retain = false;
  let connRate = 0;
  let portSet = false;
  let json = false;
  let help = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string | undefined => argv[++i];
    switch (a) {
      case '-h':
      case '--host':
        t.host = v() ?? '';
        break;
      case '-p':
      case '--port':
        t.port = num(a, v(), 1);
        portSet = true;
        break;
      case '-c':
      case '--count':
        count = num(a, v(), 1);
        break;
      case '-q':
      case '--qos': {
        const q = num(a, v());
        if (q > 2) throw new BenchUsageError(`${a}: QoS must be 0, 1 or 2`);
        qos = q as QoS;
        break;
      }
      case '-s':
      case '--size':
        size = num(a, v());
        break;
      case '-t':
      case '--topic':
        topic = v() ?? '';
        break;
      case '-I':
      case '--interval':
        interval = num(a, v());
        break;
      case '-L':
      case '--limit':
        limit = num(a, v());
        break;
      case '--inflight':
        inflight = num(a, v(), 1);
        break;
      case '--retain':
        retain = true;
        break;
      case '-D':
      case '--duration':
        plan.duration = num(a, v());
        break;
      case '-w':
      case '--warmup':
        plan.warmup = num(a, v());
        break;
      case '-R':
      case '--conn-rate':
        connRate = num(a, v());
        break;
      case '-i':
      case '--conn-interval': {
        const ms = num(a, v());
        connRate = ms > 0 ? 1000 / ms : 0;
        break;
      }
      case '-V':
      case '--mqtt-version': {
        const s = v();
        const ver = s === '3.1' ? 3 : s === '3.1.1' ? 4 : s === '5.0' ? 5 : Number(s);
        if (ver !== 3 && ver !== 4 && ver !== 5)
          throw new BenchUsageError(`${a}: expected 3, 4 or 5, got ${s}`);
        t.version = ver as ProtocolVersion;
        break;
      }
      case '-k':
      case '--keepalive':
        t.keepalive = num(a, v());
        break;
      case '-u':
      case '--username':
        t.username = v();
        break;
      case '-P':
      case '--password':
        t.password = v();
        break;
      case '-S':
      case '--tls':
        t.transport = t.transport === 'ws' ? 'wss' : 'tls';
        break;
      case '--ws':
        t.transport = t.transport === 'tls' ? 'wss' : 'ws';
        break;
      case '--insecure':
        t.insecure = true;
        break;
      case '--nagle':
        t.nagle = true;
        break;
      case '--ws-path':
        t.wsPath = v() ?? '/mqtt';
        break;
      case '--prefix':
        t.clientIdPrefix = v() ?? '';
        break;
      case '--per-packet':
        plan.writes = 'packet';
        break;
      case '--batched':
        plan.writes = 'batched';
        break;
      case '--no-pinger':
        plan.pinger = false;
        break;
      case '--json':
        json = true;
        break;
      case '-Q':
      case '--quiet':
        plan.progress = false;
        break;
      case '--help':
        help = true;
        break;
      default:
        throw new BenchUsageError(`unknown option ${a}`);
    }
  }
  if (!portSet && (t.transport === 'tls' || t.transport === 'wss')) t.port = 8883;
  if (mode === 'pub') {
    // -L spreads a total rate over the publishers; -I paces each one.
    const rate = limit > 0 ? limit / count : interval > 0 ? 1000 / interval : 0;
    plan.pub = { count, qos, size, topic, rate, inflight, retain };
  } else if (mode === 'sub') {
    plan.sub = { count, qos, topic };
  } else {
    plan.conn = { count, rate: connRate };
  }
  plan.connectRate = mode === 'conn' ? 0 : connRate;
  return { mode, plan, json, help };
}

function emptyPlan(): BenchPlan {
  return {
    target: defaultTarget(),
    duration: 10,
    warmup: 0,
    connectRate: 0,
    pinger: true,
    progress: true,
  };
}
