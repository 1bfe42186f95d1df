/** `heron sub`: subscribe and print messages, like mosquitto_sub (same output formats and exit codes). */
import { renderMessage } from '../client/format.js';
import { PacketType } from '../protocol/constants.js';
import type { PublishPacket } from '../protocol/packets.js';
import { topicMatches } from '../protocol/topic.js';
import type { ClientToolConfig } from './client-args.js';
import { clientOptionsFor } from './client-options.js';
import { debugTracer } from './debug-trace.js';
import { COMMON_USAGE, parseOrReport, type ToolIO, toolStreams } from './tool-io.js';
import { WaitingRun } from './waiting-run.js';

const USAGE = `heron sub: subscribe to topics and print the messages received.

Usage: heron sub {-h host -p port -t topic ... | -L URL} [-q qos] [-C count] [-W seconds]
                 [-v] [-N] [-F format] [-R] [-E] [-T filter_out] [-U topic] ...

  -t FILTER    topic filter to subscribe to (repeatable)
  -q QOS       subscription QoS (default 0)
  -C COUNT     exit after COUNT messages       -W SECONDS  exit with code 27 after SECONDS
  -v           print "topic payload"           -N          no newline after each message
  -F FORMAT    format string: %t topic, %p payload, %q qos, %r retain, %l length, %m message id,
               %x/%X hex payload, %I ISO time, %U unix time, %j/%J JSON, %P user properties,
               %C %D %E %F %R %S %A v5 properties, @X strftime, \\n \\0 \\e escapes
  -R           skip stale (retained) messages  --retained-only  exit at the first non-retained
  -T FILTER    don't print topics matching FILTER (repeatable)
  -U FILTER    unsubscribe from FILTER after connecting (repeatable)
  -E           exit once the subscriptions are acknowledged
  --remove-retained  clear each retained message received
${COMMON_USAGE}`;

/** Runs `heron sub` with argv (flags only); resolves to the exit code. */
export async function subMain(argv: string[], io: ToolIO = {}): Promise<number> {
  const parsed = parseOrReport('sub', argv, io, USAGE);
  if (typeof parsed === 'number') return parsed;
  return runSubscriber(parsed, io);
}

async function runSubscriber(cfg: ClientToolConfig, io: ToolIO): Promise<number> {
  const { out, err } = toolStreams(io);
  const run = new WaitingRun('sub', cfg, io.signal, err);
  const options = clientOptionsFor(cfg);
  if (cfg.debug) options.trace = debugTracer('sub', out, options.clientId ?? '');
  // mosquitto_sub keeps reconnecting after the first connection.
  options.reconnect = { initialDelay: 1000, maxDelay: 30_000, factor: 2 };
  // libmosquitto hands a QoS 2 message over once it has sent PUBCOMP: with -d its
  // PUBREC/PUBREL/PUBCOMP lines come first, so the message waits for its PUBCOMP here.
  const afterPubcomp = new Map<number, () => void>();
  const trace = options.trace;
  if (trace !== undefined) {
    options.trace = (direction, p) => {
      trace(direction, p);
      if (direction !== 'send' || p.type !== PacketType.PUBCOMP) return;
      const show = afterPubcomp.get(p.packetId);
      afterPubcomp.delete(p.packetId);
      show?.();
    };
  }
  const c = await run.connect(options);
  if (c === undefined) return run.exit;
  let printed = 0;
  let removed = 0;
  let processing = true;
  c.on('message', (topic: string, _payload: Buffer, packet: PublishPacket) => {
    if (run.finished || !processing) return;
    if (cfg.retainedOnly && !packet.retain) {
      // mosquitto_sub stops printing here; having cleared retained messages it then
      // waits (for -W or a signal) instead of exiting, and scripts rely on that code.
      processing = false;
      if (removed === 0) run.finish(0);
      return;
    }
    if (cfg.noRetained && packet.retain) return;
    for (const f of cfg.filterOut) if (topicMatches(f, topic)) return;
    if (cfg.removeRetained && packet.retain && packet.payload.length > 0) {
      removed++;
      c.send(topic, Buffer.alloc(0), { qos: 1, retain: true });
    }
    const show = (): void => {
      if (run.finished) return;
      out(renderMessage(cfg.output, packet, undefined, err));
      printed++;
      if (cfg.count > 0 && printed >= cfg.count) run.finish(0);
    };
    if (trace !== undefined && packet.qos === 2) afterPubcomp.set(packet.packetId, show);
    else show();
  });
  c.on('end', () => run.finish(1));
  try {
    const codes = await c.subscribe(
      cfg.topics.map((topic) => ({ topic, qos: cfg.qos })),
      { properties: cfg.properties.subscribe },
    );
    if (run.allDenied(codes)) return run.exit;
    if (cfg.unsubscribeTopics.length > 0) {
      await c.unsubscribe(cfg.unsubscribeTopics, cfg.properties.unsubscribe);
    }
    if (cfg.exitAfterSubscribe) run.finish(0);
  } catch (e) {
    run.fail(e);
  }
  return run.exit;
}
