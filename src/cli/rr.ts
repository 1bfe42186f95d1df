/** `heron rr`: publish a request and print the first response, like mosquitto_rr (v5 request/response). */
import { readFileSync } from 'node:fs';
import { connect, type MqttClient } from '../client/client.js';
import { renderMessage } from '../client/format.js';
import type { PublishPacket } from '../protocol/packets.js';
import {
  COMMON_USAGE,
  clientOptionsFor,
  connectErrorText,
  debugTracer,
  parseOrReport,
  type ToolIO,
  toolStreams,
} from './client-args.js';
import { TIMEOUT_EXIT_CODE } from './sub.js';

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

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Runs `heron rr` with argv (flags only); resolves to the exit code. */
export async function rrMain(argv: string[], io: ToolIO = {}): Promise<number> {
  const parsed = parseOrReport('rr', argv, io, USAGE);
  if (typeof parsed === 'number') return parsed;
  const cfg = parsed;
  const { out, err } = toolStreams(io);
  const source = cfg.message!;
  let payload: Buffer;
  try {
    if (source.kind === 'message') payload = source.payload;
    else if (source.kind === 'file') payload = readFileSync(source.path);
    else if (source.kind === 'stdin') payload = await readAll(io.stdin ?? process.stdin);
    else payload = Buffer.alloc(0);
  } catch (e) {
    if (!cfg.quiet) err(`Error: Unable to read message: ${(e as Error).message}\n`);
    return 1;
  }
  let client: MqttClient | undefined;
  const trace = cfg.debug ? debugTracer(out, () => client?.clientId ?? '') : undefined;
  let finished = false;
  let resolveExit: (code: number) => void = () => {};
  const exit = new Promise<number>((r) => (resolveExit = r));
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    io.signal?.removeEventListener('abort', onAbort);
    if (client === undefined) resolveExit(code);
    else client.end({ properties: cfg.properties.disconnect }).then(() => resolveExit(code));
  };
  const onAbort = (): void => finish(0);
  io.signal?.addEventListener('abort', onAbort);
  const timer =
    cfg.timeout > 0
      ? setTimeout(() => {
          if (!cfg.quiet) err('Timed out\n');
          finish(TIMEOUT_EXIT_CODE);
        }, cfg.timeout * 1000)
      : undefined;
  try {
    client = await connect(clientOptionsFor(cfg, trace));
  } catch (e) {
    if (!finished && !cfg.quiet) err(connectErrorText(e));
    finish(1);
    return exit;
  }
  const c = client;
  if (finished) {
    await c.end();
    return exit;
  }
  const responseTopic = cfg.responseTopic!;
  c.on('message', (_topic: string, _payload: Buffer, packet: PublishPacket) => {
    if (finished || (cfg.noRetained && packet.retain)) return;
    out(renderMessage(cfg.output, packet));
    finish(0);
  });
  c.on('end', () => finish(1));
  try {
    const codes = await c.subscribe(responseTopic, {
      qos: cfg.qos,
      properties: cfg.properties.subscribe,
    });
    if (codes.every((code) => code >= 0x80)) {
      if (!cfg.quiet) err('All subscription requests were denied.\n');
      finish(1);
      return exit;
    }
    const properties =
      c.protocolVersion === 5 ? { ...cfg.properties.publish, responseTopic } : undefined;
    await c.publish(cfg.topics[0], payload, { qos: cfg.qos, retain: false, properties });
  } catch (e) {
    if (!finished && !cfg.quiet) err(`Error: ${(e as Error).message}\n`);
    finish(1);
  }
  return exit;
}
