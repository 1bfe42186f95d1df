/**
 * Command-line flags shared by `heron pub`, `heron sub` and `heron rr`, with
 * mosquitto_pub/_sub/_rr's names and meanings, turned into client options.
 */
import type { OutputStyle } from '../client/format.js';
import type { ClientScheme } from '../client/options.js';
import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import { isValidTopicFilter, isValidTopicName } from '../protocol/topic.js';
import { addProperty, type ToolProperties } from './property-flags.js';
import {
  atoi,
  type ClientTool,
  parseIntFlag,
  parseQos,
  parseVersion,
  SWITCHES,
  TOOL_ONLY,
  UsageError,
  VALUE_FLAGS,
} from './tool-flags.js';

export type { ToolProperties } from './property-flags.js';
export type { ClientTool } from './tool-flags.js';

/** Where pub/rr take the message from. */
export type MessageSource =
  | { kind: 'message'; payload: Buffer }
  | { kind: 'file'; path: string }
  | { kind: 'lines' }
  | { kind: 'null' }
  | { kind: 'stdin' };
/** Everything the three tools' command lines can say. */
export interface ClientToolConfig {
  help: boolean;
  /** --version: print the version and exit (code 1, as mosquitto_pub/_sub do). */
  version: boolean;
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
/** Parses a tool's arguments (argv without the program and subcommand names). */
export function parseClientArgs(tool: ClientTool, argv: readonly string[]): ClientToolConfig {
  const args = [...argv];
  const cfg: ClientToolConfig = {
    help: false,
    version: false,
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
        case '--version':
          cfg.version = true;
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
        cfg.topics.push(
          tool === 'sub' ? checkedFilter('subscription', value) : checkedName('publish', value),
        );
        break;
      case '-T':
      case '--filter-out':
        cfg.filterOut.push(checkedFilter('filter', value));
        break;
      case '-U':
      case '--unsubscribe':
        cfg.unsubscribeTopics.push(checkedFilter('unsubscribe', value));
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
        cfg.maxInflight = parseIntFlag(
          flag,
          value,
          1,
          65535,
          'Maximum inflight messages must be greater than 0.\n',
        );
        break;
      case '-C':
        cfg.count = atoi(value);
        if (cfg.count < 1) throw new UsageError(`Invalid message count "${cfg.count}".\n`);
        break;
      case '-W':
        cfg.timeout = atoi(value);
        if (cfg.timeout < 1 || cfg.timeout > 3600 * 24 * 365)
          throw new UsageError(`Invalid timeout "${cfg.timeout}".\n`);
        break;
      case '-F':
        cfg.output.format = value;
        break;
      case '-e':
        cfg.responseTopic = checkedName('response', value);
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
        cfg.will.topic = checkedName('will', value);
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
  if (cfg.help || cfg.version) return cfg;
  validate(cfg, tool);
  return cfg;
}

/** A topic name given on the command line; wildcards are refused before connecting. */
function checkedName(what: string, topic: string): string {
  if (!isValidTopicName(topic))
    throw new UsageError(`Invalid ${what} topic '${topic}', does it contain '+' or '#'?`);
  return topic;
}

/** A topic filter given on the command line, refused before connecting when malformed. */
function checkedFilter(what: string, filter: string): string {
  if (!isValidTopicFilter(filter))
    throw new UsageError(
      `Invalid ${what} topic '${filter}', are all '+' and '#' wildcards correct?`,
    );
  return filter;
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
