/** `heron pub`: publish one message, a file, stdin or stdin lines, like mosquitto_pub. */
import { createInterface } from 'node:readline';
import { connect, type MqttClient, type PublishOptions } from '../client/client.js';
import { PublishError, reasonCodeText } from '../client/errors.js';
import type { ClientToolConfig } from './client-args.js';
import { clientOptionsFor } from './client-options.js';
import { debugTracer } from './debug-trace.js';
import { readPayload } from './message-source.js';
import {
  COMMON_USAGE,
  connectErrorText,
  connectExitCode,
  parseOrReport,
  type ToolIO,
  toolStreams,
} from './tool-io.js';

const USAGE = `heron pub: publish a message and exit.

Usage: heron pub {-h host -p port -t topic | -L URL} {-m message | -f file | -s | -l | -n}
                 [-q qos] [-r] [--repeat N [--repeat-delay seconds]] [-M max_inflight] ...

  -t TOPIC     topic to publish to
  -m MESSAGE   message payload          -f FILE   file contents as the payload
  -s           all of stdin as one message
  -l           one message per line of stdin
  -n           zero-length message
  -q QOS       0, 1 or 2 (default 0)    -r        retain
  --repeat N   publish N times (with -m, -f, -s), --repeat-delay SECONDS between them
  -M N         most QoS 1/2 messages in flight
${COMMON_USAGE}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `heron pub` with argv (flags only); resolves to the exit code. */
export async function pubMain(argv: string[], io: ToolIO = {}): Promise<number> {
  const parsed = parseOrReport('pub', argv, io, USAGE);
  if (typeof parsed === 'number') return parsed;
  const cfg: ClientToolConfig = parsed;
  const { out, err } = toolStreams(io);
  const stdin = io.stdin ?? process.stdin;
  let payload: Buffer | undefined;
  try {
    payload = await readPayload(cfg.message!, stdin);
  } catch (e) {
    if (!cfg.quiet) err(`Error: Unable to read message: ${(e as Error).message}\n`);
    return 1;
  }
  const clientOptions = clientOptionsFor(cfg);
  if (cfg.debug) clientOptions.trace = debugTracer('pub', out, clientOptions.clientId ?? '');
  let c: MqttClient;
  try {
    c = await connect(clientOptions);
  } catch (e) {
    if (!cfg.quiet) err(connectErrorText(e, 'pub', cfg.protocolVersion));
    return connectExitCode(e);
  }
  const topic = cfg.topics[0];
  const options: PublishOptions = {
    qos: cfg.qos,
    retain: cfg.retain,
    properties: cfg.properties.publish,
  };
  const acks: Array<Promise<void>> = [];
  let failed: Error | undefined;
  // A refused publish is a warning, as in mosquitto_pub: the others still go out, exit 0.
  const track = (body: Buffer | string): void => {
    acks.push(
      new Promise<void>((resolve) => {
        try {
          c.send(topic, body, options, (e, packet) => {
            if (e instanceof PublishError) {
              if (!cfg.quiet)
                err(
                  `Warning: Publish ${packet.packetId} failed: ${reasonCodeText(e.reasonCode)}.\n`,
                );
            } else if (e !== undefined) failed ??= e;
            resolve();
          });
        } catch (e) {
          failed ??= e as Error;
          resolve();
        }
      }),
    );
  };
  try {
    if (payload !== undefined) {
      for (let i = 0; i < cfg.repeat; i++) {
        track(payload);
        if (cfg.repeatDelay > 0 && i < cfg.repeat - 1) {
          await Promise.all(acks);
          await sleep(cfg.repeatDelay * 1000);
        }
      }
    } else {
      const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        if (!c.connected && c.state === 'closed') break;
        track(line);
      }
    }
    await Promise.all(acks);
  } catch (e) {
    failed ??= e as Error;
  }
  if (c.state === 'closed' && failed === undefined) failed = new Error('connection lost');
  await c.end({ properties: cfg.properties.disconnect });
  if (failed !== undefined) {
    if (!cfg.quiet) err(`Error: ${failed.message}\n`);
    return 1;
  }
  return 0;
}
