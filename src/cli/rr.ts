/** `heron rr`: publish a request and print the first response, like mosquitto_rr (v5 request/response). */
import { PublishError } from '../client/errors.js';
import { renderMessage } from '../client/format.js';
import type { PublishPacket } from '../protocol/packets.js';
import { clientOptionsFor } from './client-options.js';
import { debugTracer } from './debug-trace.js';
import { readPayload } from './message-source.js';
import { COMMON_USAGE, parseOrReport, type ToolIO, toolStreams } from './tool-io.js';
import { WaitingRun } from './waiting-run.js';

const USAGE = `heron rr: publish a request and wait for the response (MQTT v5 request/response).

Usage: heron rr {-h host -p port -t topic | -L URL} -e response_topic {-m message | -f file | -s | -n}
                [-q qos] [-W seconds] [-v] [-N] [-F format] [-R] ...

  -t TOPIC     request topic              -e TOPIC  response topic (subscribed, and sent as the
                                                    v5 Response Topic property)
  -m MESSAGE   request payload            -f FILE   file contents   -s stdin   -n empty
  -q QOS       QoS of request and subscription
  -W SECONDS   give up after SECONDS (exit code 27)
  -v, -N, -F   output as for heron sub    -R        ignore retained responses
${COMMON_USAGE}`;

/** Runs `heron rr` with argv (flags only); resolves to the exit code. */
export async function rrMain(argv: string[], io: ToolIO = {}): Promise<number> {
  const parsed = parseOrReport('rr', argv, io, USAGE);
  if (typeof parsed === 'number') return parsed;
  const cfg = parsed;
  const { out, err } = toolStreams(io);
  let payload: Buffer;
  try {
    payload = (await readPayload(cfg.message!, io.stdin ?? process.stdin)) ?? Buffer.alloc(0);
  } catch (e) {
    if (!cfg.quiet) err(`Error: Unable to read message: ${(e as Error).message}\n`);
    return 1;
  }
  const run = new WaitingRun('rr', cfg, io.signal, err);
  const options = clientOptionsFor(cfg);
  if (cfg.debug) options.trace = debugTracer('rr', out, options.clientId ?? '');
  const c = await run.connect(options);
  if (c === undefined) return run.exit;
  const responseTopic = cfg.responseTopic!;
  c.on('message', (_topic: string, _payload: Buffer, packet: PublishPacket) => {
    if (run.finished || (cfg.noRetained && packet.retain)) return;
    out(renderMessage(cfg.output, packet, undefined, err));
    run.finish(0);
  });
  c.on('end', () => run.finish(1));
  try {
    const codes = await c.subscribe(responseTopic, {
      qos: cfg.qos,
      properties: cfg.properties.subscribe,
    });
    if (run.allDenied(codes)) return run.exit;
    const properties =
      c.protocolVersion === 5 ? { ...cfg.properties.publish, responseTopic } : undefined;
    // A refused request is not reported: like mosquitto_rr, wait for a response until -W.
    await c
      .publish(cfg.topics[0], payload, { qos: cfg.qos, retain: false, properties })
      .catch((e: unknown) => {
        if (!(e instanceof PublishError)) throw e;
      });
  } catch (e) {
    run.fail(e);
  }
  return run.exit;
}
