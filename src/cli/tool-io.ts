/** Streams, usage errors and connection-error text shared by the client tools. */

import { ConnackError, connackMessage, reasonCodeText } from '../client/errors.js';
import { type ClientToolConfig, parseClientArgs } from './client-args.js';
import { type ClientTool, UsageError } from './tool-flags.js';
import { VERSION } from './version.js';

/** Streams a tool writes to and reads from; defaults to the process's. */
export interface ToolIO {
  stdout?: { write(chunk: string | Uint8Array): unknown };
  stderr?: { write(chunk: string | Uint8Array): unknown };
  stdin?: NodeJS.ReadableStream;
  /** Aborting stops a running tool as if interrupted (exit code 0). */
  signal?: AbortSignal;
}

/** Output streams of a tool run, with the process's as defaults. */
export function toolStreams(io: ToolIO): {
  out: (chunk: string | Uint8Array) => void;
  err: (chunk: string | Uint8Array) => void;
} {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  return { out: (c) => stdout.write(c), err: (c) => stderr.write(c) };
}

/** Exit code for a failed connection: the CONNACK's refusal code, as mosquitto's tools exit with, else 1. */
export function connectExitCode(err: unknown): number {
  return err instanceof ConnackError ? err.reasonCode : 1;
}

/**
 * What a tool prints when it cannot connect, in mosquitto_pub/_sub/_rr's words: a refused
 * CONNACK reads as the v3 return code text (with a full stop) or the v5 reason; pub adds
 * the line its network loop prints when it gives up.
 */
export function connectErrorText(err: unknown, tool?: ClientTool, version?: number): string {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof ConnackError) {
    const v5 = version === 5;
    const text = v5
      ? reasonCodeText(err.reasonCode)
      : `${connackMessage(err.reasonCode, version ?? 4)}.`;
    if (tool !== 'pub') return `Connection error: ${text}\n`;
    const then = v5
      ? 'A network protocol error occurred when communicating with the broker.'
      : 'The connection was refused.';
    return `Connection error: ${text}\nError: ${then}\n`;
  }
  if (e?.code === 'ECONNREFUSED') return 'Error: Connection refused\n';
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return 'Error: Lookup error.\n';
  return `Error: ${e?.message ?? String(err)}\n`;
}

/** Parses argv for a tool, printing usage errors; returns the config or an exit code. */
export function parseOrReport(
  tool: ClientTool,
  argv: readonly string[],
  io: ToolIO,
  usage: string,
): ClientToolConfig | number {
  const { out, err } = toolStreams(io);
  try {
    const cfg = parseClientArgs(tool, argv);
    // Both exit 1, as mosquitto_pub/_sub/_rr do: scripts test for it.
    if (cfg.help) {
      out(usage);
      return 1;
    }
    if (cfg.version) {
      out(`heron ${tool} version ${VERSION} running on Node.js ${process.version}.\n`);
      return 1;
    }
    return cfg;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`Error: ${e.message}\n\nUse 'heron ${tool} --help' to see usage.\n`);
    return 1;
  }
}

/** Text of the connection flags every tool shares, for the usage screens. */
export const COMMON_USAGE = `Connection:
  -h HOST            broker host (default localhost)
  -p PORT            port (default 1883, 8883 with TLS)
  -L URL             mqtt|mqtts|ws|wss://[user[:pass]@]host[:port]/topic
  --ws-path PATH     WebSocket path for ws:// and wss:// (default /mqtt)
  -V VERSION         5|mqttv5, 311|mqttv311, 31|mqttv31
  -i ID, -I PREFIX   client id, or PREFIX followed by the process id
  -u USER, -P PASS   credentials
  -k SECONDS         keep alive (default 60)
  -c                 persistent session (needs -i or -I); -x SECONDS session expiry (v5)
  -D CMD PROP VALUE  v5 property, CMD one of connect publish subscribe unsubscribe disconnect will
  --will-topic T --will-payload P --will-qos Q --will-retain
  --cafile F --capath D --cert F --key F --insecure
  -d                 debug output     --quiet  no error messages     --help  this text
`;
