/**
 * Command-line flags shared by `heron pub`, `heron sub` and `heron rr`, with
 * mosquitto_pub/_sub/_rr's names and meanings, turned into client options.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { OutputStyle } from '../client/format.js';
import type { ClientOptions, ClientScheme } from '../client/options.js';
import {
  PacketType,
  PacketTypeName,
  type ProtocolVersion,
  type QoS,
} from '../protocol/constants.js';
import type { Packet } from '../protocol/packets.js';
import {
  PROPERTY_DEFINITIONS,
  type Properties,
  type PropertyDefinition,
  WILL_PROPERTIES,
} from '../protocol/properties.js';

/** Which tool is parsing (flags and defaults differ slightly). */
export type ClientTool = 'pub' | 'sub' | 'rr';

/** Streams a tool writes to and reads from; defaults to the process's. */
export interface ToolIO {
  stdout?: { write(chunk: string | Uint8Array): unknown };
  stderr?: { write(chunk: string | Uint8Array): unknown };
  stdin?: NodeJS.ReadableStream;
  /** Aborting stops a running tool as if interrupted (exit code 0). */
  signal?: AbortSignal;
}

/** A bad command line; the message is printed after "Error: ". */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where pub/rr take the message from. */
export type MessageSource =
  | { kind: 'message'; payload: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'lines' }
  | { kind: 'null' }
  | { kind: 'stdin' };

/** v5 properties given with -D, per packet. */
export interface ToolProperties {
  connect?: Properties;
  publish?: Properties;
  subscribe?: Properties;
  unsubscribe?: Properties;
  disconnect?: Properties;
  will?: Properties;
}

/** Everything the three tools' command lines can say. */
export interface ClientToolConfig {
  help: boolean;
  scheme: ClientScheme;
  host: string;
  port: number | undefined;
  wsPath: string | undefined;
  topics: string[];
  filterOut: string[];
  unsubscribeTopics: string[];
  clientId: string | undefined;
  idPrefix: string | undefined;
  username: string | undefined;
  password: string | undefined;
  keepalive: number;
  protocolVersion: ProtocolVersion;
  qos: QoS;
  retain: boolean;
  clean: boolean;
  sessionExpiry: number | undefined;
  debug: boolean;
  quiet: boolean;
  will: { topic?: string; payload?: string; qos: QoS; retain: boolean };
  tls: { cafile?: string; capath?: string; cert?: string; key?: string; insecure: boolean };
  properties: ToolProperties;
  message: MessageSource | undefined;
  repeat: number;
  repeatDelay: number;
  maxInflight: number | undefined;
  count: number;
  timeout: number;
  noRetained: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  exitAfterSubscribe: boolean;
  responseTopic: string | undefined;
  output: OutputStyle;
}

/** Option names that take a value, per tool (the rest are switches). */
const VALUE_FLAGS = new Set([
  '-h',
  '--host',
  '-p',
  '--port',
  '-t',
  '--topic',
  '-T',
  '--filter-out',
  '-U',
  '--unsubscribe',
  '-i',
  '--id',
  '-I',
  '--id-prefix',
  '-u',
  '--username',
  '-P',
  '--pw',
  '-k',
  '--keepalive',
  '-V',
  '--protocol-version',
  '-q',
  '--qos',
  '-x',
  '-L',
  '--url',
  '-m',
  '--message',
  '-f',
  '--file',
  '-M',
  '-C',
  '-W',
  '-F',
  '-e',
  '--repeat',
  '--repeat-delay',
  '--will-topic',
  '--will-payload',
  '--will-qos',
  '--cafile',
  '--capath',
  '--cert',
  '--key',
  '--ws-path',
  '-A',
  '--ciphers',
  '--tls-version',
  '--tls-alpn',
  '--proxy',
]);

/** Which tools accept each tool-specific flag (common flags are absent). */
const TOOL_ONLY: Record<string, readonly ClientTool[]> = {
  '-m': ['pub', 'rr'],
  '--message': ['pub', 'rr'],
  '-f': ['pub', 'rr'],
  '--file': ['pub', 'rr'],
  '-l': ['pub'],
  '--stdin-line': ['pub'],
  '-n': ['pub', 'rr'],
  '--null-message': ['pub', 'rr'],
  '-s': ['pub', 'rr'],
  '--stdin-file': ['pub', 'rr'],
  '-r': ['pub'],
  '--retain': ['pub'],
  '--repeat': ['pub'],
  '--repeat-delay': ['pub'],
  '-M': ['pub'],
  '-C': ['sub'],
  '-T': ['sub'],
  '--filter-out': ['sub'],
  '-U': ['sub'],
  '--unsubscribe': ['sub'],
  '-E': ['sub'],
  '--retained-only': ['sub'],
  '--remove-retained': ['sub'],
  '-R': ['sub', 'rr'],
  '-N': ['sub', 'rr'],
  '-v': ['sub', 'rr'],
  '--verbose': ['sub', 'rr'],
  '-F': ['sub', 'rr'],
  '-W': ['sub', 'rr'],
  '-e': ['rr'],
};

const SWITCHES = new Set([
  '--help',
  '-c',
  '--disable-clean-session',
  '-d',
  '--debug',
  '--quiet',
  '--will-retain',
  '--insecure',
  '--nodelay',
  '--tls-use-os-certs',
  '-l',
  '--stdin-line',
  '-n',
  '--null-message',
  '-s',
  '--stdin-file',
  '-r',
  '--retain',
  '-E',
  '--retained-only',
  '--remove-retained',
  '-R',
  '-N',
  '-v',
  '--verbose',
  '--pretty',
]);

function parseIntFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`Invalid value '${value}' for ${flag}.`);
  }
  return n;
}

function parseQos(flag: string, value: string): QoS {
  return parseIntFlag(flag, value, 0, 2) as QoS;
}

function parseVersion(value: string): ProtocolVersion {
  switch (value) {
    case '5':
    case 'mqttv5':
      return 5;
    case '311':
    case 'mqttv311':
      return 4;
    case '31':
    case 'mqttv31':
      return 3;
    default:
      throw new UsageError(`Invalid protocol version '${value}' given.`);
  }
}

/** Names of -D property identifiers: kebab-case of the property, singular for repeatable lists. */
function cliPropertyName(def: PropertyDefinition): string {
  if (def.name === 'userProperties') return 'user-property';
  if (def.name === 'subscriptionIdentifiers') return 'subscription-identifier';
  return def.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const PROPERTY_BY_CLI_NAME = new Map(PROPERTY_DEFINITIONS.map((d) => [cliPropertyName(d), d]));

const PROPERTY_COMMANDS: Record<string, { key: keyof ToolProperties; packet: number }> = {
  connect: { key: 'connect', packet: PacketType.CONNECT },
  publish: { key: 'publish', packet: PacketType.PUBLISH },
  subscribe: { key: 'subscribe', packet: PacketType.SUBSCRIBE },
  unsubscribe: { key: 'unsubscribe', packet: PacketType.UNSUBSCRIBE },
  disconnect: { key: 'disconnect', packet: PacketType.DISCONNECT },
  will: { key: 'will', packet: WILL_PROPERTIES },
};

/** Applies one `-D command identifier value [value]`; returns how many extra args it used. */
function addProperty(props: ToolProperties, args: string[], i: number): number {
  const command = args[i + 1];
  const ident = args[i + 2];
  const value = args[i + 3];
  if (command === undefined || ident === undefined || value === undefined) {
    throw new UsageError('-D argument given but not enough arguments.');
  }
  const cmd = PROPERTY_COMMANDS[command.toLowerCase()];
  if (cmd === undefined) throw new UsageError(`Invalid command '${command}' given in -D.`);
  const def = PROPERTY_BY_CLI_NAME.get(ident.toLowerCase());
  if (def === undefined)
    throw new UsageError(`Invalid property identifier '${ident}' given in -D.`);
  if (!def.packets.includes(cmd.packet)) {
    throw new UsageError(`${ident} property not allowed for ${command} in -D.`);
  }
  const target = (props[cmd.key] ??= {}) as Record<string, unknown>;
  if (def.type === 'utf8pair') {
    const second = args[i + 4];
    if (second === undefined) throw new UsageError('-D argument given but not enough arguments.');
    (
      (target[def.name] as Array<[string, string]> | undefined) ??
      ((target[def.name] = [] as Array<[string, string]>) as Array<[string, string]>)
    ).push([value, second]);
    return 4;
  }
  if (def.type === 'utf8') target[def.name] = value;
  else if (def.type === 'binary') target[def.name] = Buffer.from(value);
  else {
    const max = def.type === 'byte' ? 0xff : def.type === 'uint16' ? 0xffff : 0xffffffff;
    const n = parseIntFlag(`-D ${command} ${ident}`, value, 0, max);
    if (def.repeatable) ((target[def.name] as number[] | undefined) ??= []).push(n);
    else target[def.name] = n;
  }
  return 3;
}

/** Parses a tool's arguments (argv without the program and subcommand names). */
export function parseClientArgs(tool: ClientTool, argv: readonly string[]): ClientToolConfig {
  const args = [...argv];
  const cfg: ClientToolConfig = {
    help: false,
    scheme: 'mqtt',
    host: 'localhost',
    port: undefined,
    wsPath: undefined,
    topics: [],
    filterOut: [],
    unsubscribeTopics: [],
    clientId: undefined,
    idPrefix: undefined,
    username: undefined,
    password: undefined,
    keepalive: 60,
    protocolVersion: tool === 'rr' ? 5 : 4,
    qos: 0,
    retain: false,
    clean: true,
    sessionExpiry: undefined,
    debug: false,
    quiet: false,
    will: { qos: 0, retain: false },
    tls: { insecure: false },
    properties: {},
    message: undefined,
    repeat: 1,
    repeatDelay: 0,
    maxInflight: undefined,
    count: 0,
    timeout: 0,
    noRetained: false,
    retainedOnly: false,
    removeRetained: false,
    exitAfterSubscribe: false,
    responseTopic: undefined,
    output: { verbose: false, eol: true, format: undefined },
  };
  const setMessage = (m: MessageSource): void => {
    if (cfg.message !== undefined) {
      throw new UsageError('Only one type of message can be sent at once.');
    }
    cfg.message = m;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const only = TOOL_ONLY[flag];
    if (only !== undefined && !only.includes(tool))
      throw new UsageError(`Unknown option '${flag}'.`);
    if (flag === '-D' || flag === '--property') {
      i += addProperty(cfg.properties, args, i);
      continue;
    }
    if (SWITCHES.has(flag)) {
      switch (flag) {
        case '--help':
          cfg.help = true;
          break;
        case '-c':
        case '--disable-clean-session':
          cfg.clean = false;
          break;
        case '-d':
        case '--debug':
          cfg.debug = true;
          break;
        case '--quiet':
          cfg.quiet = true;
          break;
        case '--will-retain':
          cfg.will.retain = true;
          break;
        case '--insecure':
          cfg.tls.insecure = true;
          break;
        case '-l':
        case '--stdin-line':
          setMessage({ kind: 'lines' });
          break;
        case '-n':
        case '--null-message':
          setMessage({ kind: 'null' });
          break;
        case '-s':
        case '--stdin-file':
          setMessage({ kind: 'stdin' });
          break;
        case '-r':
        case '--retain':
          cfg.retain = true;
          break;
        case '-E':
          cfg.exitAfterSubscribe = true;
          break;
        case '--retained-only':
          cfg.retainedOnly = true;
          break;
        case '--remove-retained':
          cfg.removeRetained = true;
          break;
        case '-R':
          cfg.noRetained = true;
          break;
        case '-N':
          cfg.output.eol = false;
          break;
        case '-v':
        case '--verbose':
          cfg.output.verbose = true;
          break;
        default:
          // --nodelay (always on), --tls-use-os-certs (default CAs), --pretty: accepted.
          break;
      }
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(`Unknown option '${flag}'.`);
    const value = args[++i];
    if (value === undefined) throw new UsageError(`${flag} argument given but no value specified.`);
    switch (flag) {
      case '-h':
      case '--host':
        cfg.host = value;
        break;
      case '-p':
      case '--port':
        cfg.port = parseIntFlag(flag, value, 1, 65535);
        break;
      case '-t':
      case '--topic':
        if (tool !== 'sub' && cfg.topics.length > 0) {
          throw new UsageError('Only one topic can be given.');
        }
        cfg.topics.push(value);
        break;
      case '-T':
      case '--filter-out':
        cfg.filterOut.push(value);
        break;
      case '-U':
      case '--unsubscribe':
        cfg.unsubscribeTopics.push(value);
        break;
      case '-i':
      case '--id':
        cfg.clientId = value;
        break;
      case '-I':
      case '--id-prefix':
        cfg.idPrefix = value;
        break;
      case '-u':
      case '--username':
        cfg.username = value;
        break;
      case '-P':
      case '--pw':
        cfg.password = value;
        break;
      case '-k':
      case '--keepalive':
        cfg.keepalive = parseIntFlag(flag, value, 0, 65535);
        break;
      case '-V':
      case '--protocol-version':
        cfg.protocolVersion = parseVersion(value);
        break;
      case '-q':
      case '--qos':
        cfg.qos = parseQos(flag, value);
        break;
      case '-x':
        cfg.sessionExpiry =
          value === '-1' || value === '∞' ? 0xffffffff : parseIntFlag(flag, value, 0, 0xffffffff);
        break;
      case '-L':
      case '--url':
        applyUrl(cfg, tool, value);
        break;
      case '-m':
      case '--message':
        setMessage({ kind: 'message', payload: Buffer.from(value) });
        break;
      case '-f':
      case '--file':
        setMessage({ kind: 'file', path: value });
        break;
      case '-M':
        cfg.maxInflight = parseIntFlag(flag, value, 1, 65535);
        break;
      case '-C':
        cfg.count = parseIntFlag(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case '-W':
        cfg.timeout = parseIntFlag(flag, value, 1, 3600 * 24 * 365);
        break;
      case '-F':
        cfg.output.format = value;
        break;
      case '-e':
        cfg.responseTopic = value;
        break;
      case '--repeat':
        cfg.repeat = parseIntFlag(flag, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--repeat-delay': {
        const d = Number(value);
        if (!Number.isFinite(d) || d < 0)
          throw new UsageError(`Invalid value '${value}' for ${flag}.`);
        cfg.repeatDelay = d;
        break;
      }
      case '--will-topic':
        cfg.will.topic = value;
        break;
      case '--will-payload':
        cfg.will.payload = value;
        break;
      case '--will-qos':
        cfg.will.qos = parseQos(flag, value);
        break;
      case '--cafile':
        cfg.tls.cafile = value;
        break;
      case '--capath':
        cfg.tls.capath = value;
        break;
      case '--cert':
        cfg.tls.cert = value;
        break;
      case '--key':
        cfg.tls.key = value;
        break;
      case '--ws-path':
        cfg.wsPath = value;
        break;
      default:
        // -A, --ciphers, --tls-version, --tls-alpn, --proxy: accepted and ignored.
        break;
    }
  }
  if (cfg.help) return cfg;
  validate(cfg, tool);
  return cfg;
}

/** -L mqtt(s)|ws(s)://[user[:password]@]host[:port]/topic */
function applyUrl(cfg: ClientToolConfig, tool: ClientTool, value: string): void {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`Invalid URL for -L: ${value}`);
  }
  const s = u.protocol.slice(0, -1);
  if (s !== 'mqtt' && s !== 'mqtts' && s !== 'ws' && s !== 'wss') {
    throw new UsageError('Unsupported URL scheme.');
  }
  cfg.scheme = s;
  cfg.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (u.port !== '') cfg.port = Number(u.port);
  if (u.username !== '') cfg.username = decodeURIComponent(u.username);
  if (u.password !== '') cfg.password = decodeURIComponent(u.password);
  const topic = decodeURIComponent(u.pathname.slice(1));
  if (topic === '') throw new UsageError('Invalid URL for -L: no topic given.');
  if (tool === 'sub') cfg.topics.push(topic);
  else cfg.topics = [topic];
}

function validate(cfg: ClientToolConfig, tool: ClientTool): void {
  if (cfg.tls.cafile || cfg.tls.capath || cfg.tls.cert) {
    if (cfg.scheme === 'mqtt') cfg.scheme = 'mqtts';
    else if (cfg.scheme === 'ws') cfg.scheme = 'wss';
  }
  if ((cfg.tls.cert === undefined) !== (cfg.tls.key === undefined)) {
    throw new UsageError('Both certfile and keyfile must be provided if one of them is set.');
  }
  if (cfg.will.payload !== undefined && cfg.will.topic === undefined) {
    throw new UsageError('Will payload given, but no will topic given.');
  }
  if (cfg.will.retain && cfg.will.topic === undefined) {
    throw new UsageError('Will retain given, but no will topic given.');
  }
  if (!cfg.clean && cfg.clientId === undefined && cfg.idPrefix === undefined) {
    throw new UsageError('You must provide a client id if you are using the -c option.');
  }
  if (tool === 'pub' && (cfg.topics.length === 0 || cfg.message === undefined)) {
    throw new UsageError('Both topic and message must be supplied.');
  }
  if (tool === 'sub' && cfg.topics.length === 0) {
    throw new UsageError('You must specify a topic to subscribe to.');
  }
  if (
    tool === 'rr' &&
    (cfg.topics.length === 0 || cfg.message === undefined || cfg.responseTopic === undefined)
  ) {
    throw new UsageError('All of topic, message, and response topic must be supplied.');
  }
  if (cfg.noRetained && cfg.retainedOnly) {
    throw new UsageError('Cannot use --retained-only and -R together.');
  }
}

function readCaPath(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => /\.(pem|crt)$/.test(f))
    .map((f) => readFileSync(join(dir, f)));
}

/** Client options for a parsed command line (reads TLS files). */
export function clientOptionsFor(
  cfg: ClientToolConfig,
  trace?: ClientOptions['trace'],
): ClientOptions {
  const v5 = cfg.protocolVersion === 5;
  let clientId = cfg.clientId ?? '';
  if (cfg.clientId === undefined && cfg.idPrefix !== undefined)
    clientId = `${cfg.idPrefix}${process.pid}`;
  let tls: ConnectionOptions | undefined;
  if (cfg.scheme === 'mqtts' || cfg.scheme === 'wss') {
    tls = {};
    const ca: Buffer[] = [];
    if (cfg.tls.cafile) ca.push(readFileSync(cfg.tls.cafile));
    if (cfg.tls.capath) ca.push(...readCaPath(cfg.tls.capath));
    if (ca.length > 0) tls.ca = ca;
    if (cfg.tls.cert) tls.cert = readFileSync(cfg.tls.cert);
    if (cfg.tls.key) tls.key = readFileSync(cfg.tls.key);
    // Like mosquitto's --insecure: the chain is still verified, the host name is not.
    if (cfg.tls.insecure) tls.checkServerIdentity = () => undefined;
  }
  let properties = cfg.properties.connect;
  if (v5) {
    const expiry = cfg.sessionExpiry ?? (cfg.clean ? undefined : 0xffffffff);
    if (expiry !== undefined && expiry > 0) {
      properties = { ...properties, sessionExpiryInterval: expiry };
    }
  }
  return {
    scheme: cfg.scheme,
    host: cfg.host,
    port: cfg.port,
    path: cfg.wsPath,
    protocolVersion: cfg.protocolVersion,
    clientId,
    clean: cfg.clean,
    keepalive: cfg.keepalive,
    username: cfg.username,
    password: cfg.password,
    will:
      cfg.will.topic === undefined
        ? undefined
        : {
            topic: cfg.will.topic,
            payload: cfg.will.payload ?? '',
            qos: cfg.will.qos,
            retain: cfg.will.retain,
            properties: cfg.properties.will,
          },
    properties,
    tls,
    maxInflight: cfg.maxInflight,
    reconnect: false,
    trace,
  };
}

/** A trace function printing mosquitto-style debug lines ("Client x sending PUBLISH (...)"). */
export function debugTracer(
  write: (line: string) => void,
  clientId: () => string,
): (direction: 'send' | 'receive', packet: Packet) => void {
  return (direction, p) => {
    const who = `Client ${clientId() || '(null)'} ${direction === 'send' ? 'sending' : 'received'}`;
    switch (p.type) {
      case PacketType.PUBLISH:
        write(
          `${who} PUBLISH (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.packetId}, '${p.topic}', ... (${p.payload.length} bytes))\n`,
        );
        break;
      case PacketType.CONNACK:
        write(`${who} CONNACK (${p.reasonCode})\n`);
        break;
      case PacketType.SUBSCRIBE:
        for (const s of p.subscriptions) {
          const opts =
            (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (s.retainHandling << 4);
          write(
            `${who} SUBSCRIBE (Mid: ${p.packetId}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${opts.toString(16).padStart(2, '0')})\n`,
          );
        }
        break;
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBREL:
      case PacketType.PUBCOMP:
        write(`${who} ${PacketTypeName[p.type]} (m${p.packetId}, rc${p.reasonCode})\n`);
        break;
      case PacketType.SUBACK:
        write(`${who} SUBACK\nSubscribed (mid: ${p.packetId}): ${p.reasonCodes.join(', ')}\n`);
        break;
      case PacketType.UNSUBSCRIBE:
        for (const t of p.topics) write(`${who} UNSUBSCRIBE (Mid: ${p.packetId}, Topic: ${t})\n`);
        break;
      default:
        write(`${who} ${PacketTypeName[p.type]}\n`);
    }
  };
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

/** The line a tool prints when it cannot connect (mosquitto's wording). */
export function connectErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'ConnackError') return `Connection error: ${e.message}\n`;
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
    if (cfg.help) {
      out(usage);
      return 0;
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
