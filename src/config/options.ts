import {
  parseAdminListener,
  parseAdminToken,
  parseAdminUsersFile,
  parseHttpApiPort,
  parseLatencyProbe,
} from './admin-options.js';
import { ALL_LOG_TYPES, defaultBridge, defaultListener } from './defaults.js';
import {
  type BridgeDraft,
  type ListenerDraft,
  newListenerDraft,
  type OptionContext,
  once,
} from './parse-state.js';
import type {
  BridgeAddress,
  BridgeDirection,
  HeronConfig,
  LogDestination,
  LogType,
  SecurityConfig,
  TlsVersion,
} from './types.js';
import {
  bool,
  type ConfigLine,
  checkExtra,
  checkPublishTopic,
  duration,
  type IntSpec,
  int,
  intWord,
  lineError,
  oneOf,
  pathValue,
  portWord,
  text,
  word,
} from './values.js';

/** Which block an option belongs to (used for docs, tests and error hints). */
export type OptionScope = 'global' | 'listener' | 'security' | 'bridge';

/** How an option is read and where its value goes. */
export interface OptionDef {
  /** The block it configures; 'security' is global or per listener depending on per_listener_settings. */
  scope: OptionScope;
  /** True for options that Mosquitto does not have. */
  heron: boolean;
  /** True when Heron accepts the option but does not act on it (a warning is recorded). */
  unimplemented: boolean;
  /** Reads one line. */
  handle: (ctx: OptionContext, l: ConfigLine) => void;
}

const TLS_VERSIONS: readonly TlsVersion[] = ['tlsv1.3', 'tlsv1.2', 'tlsv1.1'];
const UINT16: IntSpec = { min: 0, max: 65535 };
const NON_NEGATIVE: IntSpec = { min: 0 };
/** Mosquitto turns negative limits into 0 ("no limit") rather than failing. */
const LIMIT: IntSpec = { min: 0, below: 0 };
/** The largest payload / packet the MQTT length prefix can describe. */
const MAX_PAYLOAD = 268435455;

/** The listener that listener-scope options apply to here, noting that it was configured. */
function currentListener(ctx: OptionContext, l: ConfigLine): ListenerDraft {
  ctx.fs.listener.touched.push(l);
  return ctx.fs.listener;
}

/** The security block that security options apply to here (global unless per_listener_settings). */
function currentSecurity(ctx: OptionContext, l: ConfigLine): { sec: SecurityConfig; key: string } {
  ctx.st.securitySeen = true;
  if (ctx.st.cfg.perListenerSettings) {
    const d = currentListener(ctx, l);
    return { sec: d.security, key: d.key };
  }
  return { sec: ctx.st.cfg.security, key: 'G' };
}

/** The bridge that bridge options apply to; an error outside a `connection` block. */
function currentBridge(ctx: OptionContext, l: ConfigLine): BridgeDraft {
  if (!ctx.fs.bridge) {
    throw lineError(l, "this is a bridge option: it must follow a 'connection NAME' line");
  }
  return ctx.fs.bridge;
}

/** Records that Heron accepts but does not act on this option. */
function notImplemented(ctx: OptionContext, l: ConfigLine, why = ''): void {
  ctx.warn(l, 'unimplemented', `not implemented by Heron, ignored${why}`);
}

/** Listener TLS option: duplicate check plus the line that first mentioned TLS. */
function listenerTls(ctx: OptionContext, l: ConfigLine, single = true): ListenerDraft {
  const d = currentListener(ctx, l);
  if (single) once(ctx, l, d.key);
  d.tlsLine ??= l;
  return d;
}

/** Bridge TLS option: duplicate check plus the line that first mentioned TLS. */
function bridgeTls(ctx: OptionContext, l: ConfigLine, single = true): BridgeDraft {
  const b = currentBridge(ctx, l);
  if (single) once(ctx, l, b.key);
  b.tlsLine ??= l;
  return b;
}

/** Reads `host[:port]` (IPv6 needs the port, or brackets: [::1]:1883). */
function parseAddress(l: ConfigLine, w: string): BridgeAddress {
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(w);
  if (bracket) {
    return {
      host: bracket[1]!,
      port: bracket[2] === undefined ? 1883 : portWord(l, bracket[2], false),
    };
  }
  const colon = w.lastIndexOf(':');
  if (colon < 0) return { host: w, port: 1883 };
  const host = w.slice(0, colon);
  if (host.length === 0) throw lineError(l, `expected host[:port], got '${w}'`);
  return { host, port: portWord(l, w.slice(colon + 1), false) };
}

/** `topic PATTERN [in|out|both [QOS [LOCAL_PREFIX [REMOTE_PREFIX]]]]`. */
function parseBridgeTopic(ctx: OptionContext, l: ConfigLine): void {
  const b = currentBridge(ctx, l);
  const w = l.words;
  if (w.length === 0) throw lineError(l, 'expected a topic pattern, got nothing');
  const pattern = w[0] === '""' ? '' : w[0]!;
  let direction: BridgeDirection = 'out';
  let qos: 0 | 1 | 2 = 0;
  let localPrefix: string | undefined;
  let remotePrefix: string | undefined;
  // After the pattern a word starting with '#' begins a comment (the pattern itself may be '#').
  const rest: string[] = [];
  for (let i = 1; i < w.length && !w[i]!.startsWith('#'); i++) rest.push(w[i]!);
  if (rest.length > 0) {
    const dir = rest[0]!.toLowerCase();
    if (dir !== 'in' && dir !== 'out' && dir !== 'both') {
      throw lineError(l, `expected the direction in, out or both, got '${rest[0]}'`);
    }
    direction = dir;
  }
  if (rest.length > 1) {
    if (!/^[012]$/.test(rest[1]!)) throw lineError(l, `expected QoS 0, 1 or 2, got '${rest[1]}'`);
    qos = Number(rest[1]) as 0 | 1 | 2;
  }
  if (rest.length > 2 && rest[2] !== '""') localPrefix = rest[2];
  if (rest.length > 3 && rest[3] !== '""') remotePrefix = rest[3];
  if (rest.length > 4) {
    ctx.warn(l, 'ignored', `extra text '${rest.slice(4).join(' ')}' ignored`);
  }
  if (localPrefix !== undefined) checkPublishTopic(l, localPrefix, 'local prefix');
  if (remotePrefix !== undefined) checkPublishTopic(l, remotePrefix, 'remote prefix');
  if (pattern === '' && (localPrefix === undefined || remotePrefix === undefined)) {
    throw lineError(l, 'an empty ("") topic needs both a local and a remote prefix');
  }
  b.bridge.topics.push({
    pattern,
    direction,
    qos,
    ...(localPrefix !== undefined ? { localPrefix } : {}),
    ...(remotePrefix !== undefined ? { remotePrefix } : {}),
  });
}

/** `log_dest` (repeatable; the first one replaces the stderr default). */
function parseLogDest(ctx: OptionContext, l: ConfigLine): void {
  const log = ctx.st.cfg.log;
  const dests = ['stdout', 'stderr', 'syslog', 'topic', 'file', 'dlt', 'none'] as const;
  const first = l.words[0];
  if (first === undefined) throw lineError(l, `expected one of ${dests.join(', ')}, got nothing`);
  if (!(dests as readonly string[]).includes(first)) {
    throw lineError(l, `expected one of ${dests.join(', ')}, got '${first}'`);
  }
  if (!ctx.st.logDestSet) {
    ctx.st.logDestSet = true;
    log.dest = [];
  }
  if (first === 'none') {
    log.dest = [];
    delete log.file;
    return;
  }
  if (first === 'file') {
    const p = l.rest.slice(4).trim();
    if (p.length === 0) throw lineError(l, "expected a file path after 'file', got nothing");
    if (log.file !== undefined) throw lineError(l, "only one 'log_dest file' is allowed");
    log.file = pathValue({ ...l, rest: p }, 'a file path', ctx.st.cwd);
  } else {
    checkExtra(l, 1, ctx.warn);
  }
  if (first === 'dlt') notImplemented(ctx, l, " (the 'dlt' destination)");
  if (!log.dest.includes(first as LogDestination)) log.dest.push(first as LogDestination);
}

/** `log_type` (repeatable; the first one replaces the default set). */
function parseLogType(ctx: OptionContext, l: ConfigLine): void {
  const log = ctx.st.cfg.log;
  const types = [...ALL_LOG_TYPES, 'none', 'all'] as const;
  const t = oneOf(l, types, ctx.warn);
  if (!ctx.st.logTypeSet) {
    ctx.st.logTypeSet = true;
    log.types = [];
  }
  if (t === 'none') log.types = [];
  else if (t === 'all') log.types = [...ALL_LOG_TYPES];
  else if (!log.types.includes(t)) log.types.push(t as LogType);
}

/** `listener PORT [ADDRESS | UNIX_SOCKET_PATH]`: starts a listener block. */
function parseListener(ctx: OptionContext, l: ConfigLine): void {
  const w = l.words;
  if (w.length === 0) throw lineError(l, 'expected a port number, got nothing');
  const port = portWord(l, w[0]!, true);
  const second = w[1] !== undefined && !w[1].startsWith('#') ? w[1] : undefined;
  checkExtra(l, second === undefined ? 1 : 2, ctx.warn);
  ctx.st.listenerConfigured = true;
  const listener = defaultListener(port, 'listener');
  listener.source = { file: l.file, line: l.line };
  if (second !== undefined) {
    if (port === 0)
      listener.unixSocketPath = pathValue({ ...l, rest: second }, 'a path', ctx.st.cwd);
    else listener.bindAddress = second;
  }
  const d = newListenerDraft(listener, `L${ctx.st.listeners.length + 1}`);
  ctx.st.listeners.push(d);
  ctx.fs.listener = d;
}

/** `connection NAME`: starts a bridge block. */
function parseConnection(ctx: OptionContext, l: ConfigLine): void {
  const name = word(l, 'a bridge name', ctx.warn);
  const dup = ctx.st.bridges.find((b) => b.bridge.name === name);
  if (dup) {
    const s = dup.bridge.source;
    throw lineError(l, `a bridge named '${name}' already exists (at ${s.file}:${s.line})`);
  }
  const d: BridgeDraft = {
    bridge: defaultBridge(name, { file: l.file, line: l.line }),
    tls: {},
    key: `B${ctx.st.bridges.length + 1}`,
  };
  ctx.st.bridges.push(d);
  ctx.fs.bridge = d;
}

/** `restart_timeout CONSTANT` or `restart_timeout BASE CAP`. */
function parseRestartTimeout(ctx: OptionContext, l: ConfigLine): void {
  const b = currentBridge(ctx, l).bridge;
  const w = l.words.filter((x, i) => i < 2 && !x.startsWith('#'));
  if (w.length === 0) throw lineError(l, 'expected seconds, or a base and a cap, got nothing');
  checkExtra(l, w.length, ctx.warn);
  const first = intWord(l, w[0]!, { min: 1, below: 1 }, ctx.warn);
  if (w.length === 1) {
    b.restartTimeout = first;
    b.backoffBase = 0;
    b.backoffCap = 0;
    return;
  }
  const cap = intWord(l, w[1]!, { min: 1 }, ctx.warn);
  if (cap < first) throw lineError(l, `the cap (${cap}) is lower than the base (${first})`);
  b.restartTimeout = 0;
  b.backoffBase = first;
  b.backoffCap = cap;
}

type Handler = (ctx: OptionContext, l: ConfigLine) => void;

const table = new Map<string, OptionDef>();

/** Registers an option (and its aliases). */
function def(
  names: string | string[],
  scope: OptionScope,
  handle: Handler,
  flags: { heron?: boolean; unimplemented?: boolean } = {},
): void {
  const d: OptionDef = {
    scope,
    heron: flags.heron ?? false,
    unimplemented: flags.unimplemented ?? false,
    handle: flags.unimplemented
      ? (ctx, l) => {
          handle(ctx, l);
          notImplemented(ctx, l);
        }
      : handle,
  };
  for (const n of Array.isArray(names) ? names : [names]) table.set(n, d);
}

/** Registers a global option that sets one field of the config via `read`. */
function global<K extends keyof import('./types.js').HeronConfig>(
  name: string | string[],
  key: K,
  read: (ctx: OptionContext, l: ConfigLine) => import('./types.js').HeronConfig[K],
  flags: { heron?: boolean; unimplemented?: boolean; single?: boolean } = {},
): void {
  def(
    name,
    'global',
    (ctx, l) => {
      if (flags.single) once(ctx, l, 'G', Array.isArray(name) ? name[0] : name);
      ctx.st.cfg[key] = read(ctx, l);
    },
    flags,
  );
}

const b = (ctx: OptionContext, l: ConfigLine) => bool(l, ctx.warn);
const n = (spec: IntSpec) => (ctx: OptionContext, l: ConfigLine) => int(l, spec, ctx.warn);
const p = (what: string) => (ctx: OptionContext, l: ConfigLine) => pathValue(l, what, ctx.st.cwd);

// ---------------------------------------------------------------- general (Mosquitto)
global('allow_duplicate_messages', 'allowDuplicateMessages', (ctx, l) => {
  ctx.warn(l, 'deprecated', 'deprecated by Mosquitto');
  return bool(l, ctx.warn);
});
global(['persistence', 'retained_persistence'], 'persistence', b);
global('persistence_location', 'persistenceLocation', p('a directory'), { single: true });
global('persistence_file', 'persistenceFile', (_c, l) => text(l, 'a file name'), { single: true });
global('autosave_interval', 'autosaveInterval', (ctx, l) => {
  const v = int(l, { min: 0, below: 0 }, ctx.warn);
  ctx.warn(
    l,
    'ignored',
    'accepted for compatibility; Heron writes its store continuously (see persistence_sync)',
  );
  return v;
});
global('autosave_on_changes', 'autosaveOnChanges', (ctx, l) => {
  const v = bool(l, ctx.warn);
  ctx.warn(
    l,
    'ignored',
    'accepted for compatibility; Heron writes its store continuously (see persistence_sync)',
  );
  return v;
});
global('persistent_client_expiration', 'persistentClientExpiration', (ctx, l) =>
  duration(l, ctx.warn),
);
global('max_inflight_messages', 'maxInflightMessages', (ctx, l) => {
  const v = int(l, { min: 0, max: 65535, below: 0 }, ctx.warn);
  // Mosquitto treats 65535 as "no maximum" too.
  return v === 65535 ? 0 : v;
});
global('max_inflight_bytes', 'maxInflightBytes', n(LIMIT));
global('max_queued_messages', 'maxQueuedMessages', n(LIMIT));
global('max_queued_bytes', 'maxQueuedBytes', n(LIMIT));
global('queue_qos0_messages', 'queueQos0Messages', b);
global('message_size_limit', 'messageSizeLimit', n({ min: 0, max: MAX_PAYLOAD }));
global('max_packet_size', 'maxPacketSize', (ctx, l) => {
  const v = int(l, { min: 0, max: MAX_PAYLOAD + 5 }, ctx.warn);
  if (v > 0 && v < 20) throw lineError(l, `expected 0 (no limit) or at least 20 bytes, got '${v}'`);
  return v;
});
global('max_keepalive', 'maxKeepalive', n(UINT16));
global('retain_available', 'retainAvailable', b);
global('sys_interval', 'sysInterval', n(UINT16));
global('upgrade_outgoing_qos', 'upgradeOutgoingQos', b);
global('set_tcp_nodelay', 'setTcpNodelay', b);
global('check_retain_source', 'checkRetainSource', b);
global(
  'clientid_prefixes',
  'clientidPrefixes',
  (ctx, l) => {
    ctx.warn(l, 'deprecated', 'deprecated by Mosquitto');
    return text(l, 'a client id prefix');
  },
  { single: true },
);
global('memory_limit', 'memoryLimit', n(NON_NEGATIVE), { unimplemented: true });
global('pid_file', 'pidFile', p('a file path'), { single: true });
global('user', 'user', (ctx, l) => {
  ctx.st.cfg.userExplicit = true;
  return text(l, 'a user name');
});
global('websockets_log_level', 'websocketsLogLevel', n(NON_NEGATIVE), { unimplemented: true });
global('websockets_headers_size', 'websocketsHeadersSize', n(UINT16));
def('per_listener_settings', 'global', (ctx, l) => {
  const v = bool(l, ctx.warn);
  if (v && ctx.st.securitySeen) {
    throw lineError(
      l,
      'must be set before any other security option (password_file, acl_file, allow_anonymous, ...)',
    );
  }
  ctx.st.cfg.perListenerSettings = v;
});
def('retry_interval', 'global', (ctx, l) => {
  ctx.warn(l, 'ignored', 'no longer used by Mosquitto 2 or Heron, ignored');
});
def('include_dir', 'global', () => {
  // Handled by the file reader, which knows whether this is the main file.
});

// ---------------------------------------------------------------- logging
def('log_dest', 'global', parseLogDest);
def('log_type', 'global', parseLogType);
def('log_timestamp', 'global', (ctx, l) => {
  ctx.st.cfg.log.timestamp = bool(l, ctx.warn);
});
def('log_timestamp_format', 'global', (ctx, l) => {
  once(ctx, l, 'G');
  ctx.st.cfg.log.timestampFormat = text(l, 'a strftime format');
});
def(
  'log_format',
  'global',
  (ctx, l) => {
    ctx.st.cfg.log.format = oneOf(l, ['text', 'json'] as const, ctx.warn);
  },
  { heron: true },
);
def('log_facility', 'global', (ctx, l) => {
  ctx.st.cfg.log.facility = int(l, { min: 0, max: 7 }, ctx.warn);
});
def('connection_messages', 'global', (ctx, l) => {
  ctx.st.cfg.log.connectionMessages = bool(l, ctx.warn);
});

// ---------------------------------------------------------------- security (global or per listener)
def('allow_anonymous', 'security', (ctx, l) => {
  const { sec, key } = currentSecurity(ctx, l);
  sec.allowAnonymous = bool(l, ctx.warn);
  sec.allowAnonymousExplicit = true;
  if (key === 'G') ctx.st.allowAnonymousLine = l;
});
def('allow_zero_length_clientid', 'security', (ctx, l) => {
  currentSecurity(ctx, l).sec.allowZeroLengthClientid = bool(l, ctx.warn);
});
def('auto_id_prefix', 'security', (ctx, l) => {
  const { sec, key } = currentSecurity(ctx, l);
  once(ctx, l, key);
  sec.autoIdPrefix = text(l, 'a client id prefix');
});
/** Records where a file-naming option was written (see HeronConfig.fileOptionLines). */
function noteFileLine(cfg: HeronConfig, path: string, l: ConfigLine): void {
  (cfg.fileOptionLines ??= {})[path] = { file: l.file, line: l.line, option: l.option };
}

def('password_file', 'security', (ctx, l) => {
  const { sec, key } = currentSecurity(ctx, l);
  once(ctx, l, key);
  sec.passwordFile = pathValue(l, 'a file path', ctx.st.cwd);
  noteFileLine(ctx.st.cfg, sec.passwordFile, l);
});
def('acl_file', 'security', (ctx, l) => {
  const { sec, key } = currentSecurity(ctx, l);
  once(ctx, l, key);
  sec.aclFile = pathValue(l, 'a file path', ctx.st.cwd);
  noteFileLine(ctx.st.cfg, sec.aclFile, l);
});
def(
  'psk_file',
  'security',
  (ctx, l) => {
    const { sec, key } = currentSecurity(ctx, l);
    once(ctx, l, key);
    sec.pskFile = pathValue(l, 'a file path', ctx.st.cwd);
  },
  { unimplemented: true },
);
def(['plugin', 'auth_plugin'], 'security', (ctx, l) => {
  const { sec } = currentSecurity(ctx, l);
  const plugin = {
    path: pathValue(l, 'a plugin path', ctx.st.cwd),
    options: {},
    denySpecialChars: true,
    source: { file: l.file, line: l.line },
  };
  sec.plugins.push(plugin);
  ctx.st.plugin = plugin;
  // Warned about at the end of parsing unless its auth_opt_backends names a built-in backend.
  ctx.st.pluginLines.push({ plugin, line: l });
});
def('auth_plugin_deny_special_chars', 'security', (ctx, l) => {
  if (!ctx.st.plugin) throw lineError(l, "must follow a 'plugin' (or 'auth_plugin') line");
  ctx.st.plugin.denySpecialChars = bool(l, ctx.warn);
});

// ---------------------------------------------------------------- listeners
def('listener', 'listener', parseListener);
def('port', 'listener', (ctx, l) => {
  ctx.warn(l, 'deprecated', "deprecated by Mosquitto: use 'listener PORT' instead");
  if (ctx.st.portLine) {
    ctx.warn(
      l,
      'ignored',
      `the default listener port was already set at ${ctx.st.portLine.file}:${ctx.st.portLine.line}; the last one is used`,
    );
  }
  const port = portWord(l, word(l, 'a port number', ctx.warn), false);
  ctx.st.listenerConfigured = true;
  ctx.st.portLine = l;
  ctx.st.defaultListener.listener.port = port;
});
def('bind_address', 'listener', (ctx, l) => {
  ctx.warn(l, 'deprecated', "deprecated by Mosquitto: use 'listener PORT ADDRESS' instead");
  once(ctx, l, 'L0');
  ctx.st.listenerConfigured = true;
  ctx.st.bindAddressLine = l;
  ctx.st.defaultListener.listener.bindAddress = text(l, 'an address');
});
def('bind_interface', 'listener', (ctx, l) => {
  const d = currentListener(ctx, l);
  once(ctx, l, d.key);
  d.listener.bindInterface = text(l, 'a network interface name');
});
def('socket_domain', 'listener', (ctx, l) => {
  currentListener(ctx, l).listener.socketDomain = oneOf(l, ['ipv4', 'ipv6'], ctx.warn);
});
def('protocol', 'listener', (ctx, l) => {
  currentListener(ctx, l).listener.protocol = oneOf(l, ['mqtt', 'websockets'], ctx.warn);
});
def('mount_point', 'listener', (ctx, l) => {
  if (ctx.st.listeners.length === 0) {
    throw lineError(l, "must follow a 'listener' line");
  }
  const d = currentListener(ctx, l);
  once(ctx, l, d.key);
  const v = text(l, 'a topic prefix');
  checkPublishTopic(l, v, 'mount point');
  d.listener.mountPoint = v;
});
def('max_connections', 'listener', (ctx, l) => {
  currentListener(ctx, l).listener.maxConnections = int(l, { min: -1, below: -1 }, ctx.warn);
});
def(['max_qos', 'maximum_qos'], 'listener', (ctx, l) => {
  currentListener(ctx, l).listener.maxQos = int(l, { min: 0, max: 2 }, ctx.warn) as 0 | 1 | 2;
});
def('max_topic_alias', 'listener', (ctx, l) => {
  currentListener(ctx, l).listener.maxTopicAlias = int(l, UINT16, ctx.warn);
});
def('use_username_as_clientid', 'listener', (ctx, l) => {
  currentListener(ctx, l).listener.useUsernameAsClientid = bool(l, ctx.warn);
});
def('http_dir', 'listener', (ctx, l) => {
  const d = currentListener(ctx, l);
  once(ctx, l, d.key);
  d.listener.httpDir = pathValue(l, 'a directory', ctx.st.cwd);
});

// ---------------------------------------------------------------- listener TLS
def('cafile', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.cafile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('capath', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.capath = pathValue(l, 'a directory', ctx.st.cwd);
});
def('certfile', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.certfile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('keyfile', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.keyfile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('crlfile', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.crlfile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('dhparamfile', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.dhparamfile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('ciphers', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.ciphers = text(l, 'a cipher list');
});
def('ciphers_tls1.3', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.ciphersTls13 = text(l, 'a cipher suite list');
});
def('tls_version', 'listener', (ctx, l) => {
  listenerTls(ctx, l).tls.tlsVersion = oneOf(l, TLS_VERSIONS, ctx.warn);
});
def('require_certificate', 'listener', (ctx, l) => {
  listenerTls(ctx, l, false).tls.requireCertificate = bool(l, ctx.warn);
});
def('use_identity_as_username', 'listener', (ctx, l) => {
  listenerTls(ctx, l, false).tls.useIdentityAsUsername = bool(l, ctx.warn);
});
def('use_subject_as_username', 'listener', (ctx, l) => {
  listenerTls(ctx, l, false).tls.useSubjectAsUsername = bool(l, ctx.warn);
});
def('tls_keyform', 'listener', (ctx, l) => {
  const v = oneOf(l, ['pem', 'engine'], ctx.warn);
  listenerTls(ctx, l, false).tls.keyform = v;
  if (v === 'engine') notImplemented(ctx, l, ' (engine keys)');
});
def(
  'tls_engine',
  'listener',
  (ctx, l) => {
    listenerTls(ctx, l).tls.engine = text(l, 'an OpenSSL engine id');
  },
  { unimplemented: true },
);
def(
  'tls_engine_kpass_sha1',
  'listener',
  (ctx, l) => {
    const v = text(l, 'a hex SHA-1');
    if (!/^[0-9a-fA-F]{40}$/.test(v)) throw lineError(l, `expected 40 hex digits, got '${v}'`);
    listenerTls(ctx, l).tls.engineKpassSha1 = v;
  },
  { unimplemented: true },
);
def(
  'psk_hint',
  'listener',
  (ctx, l) => {
    const d = currentListener(ctx, l);
    once(ctx, l, d.key);
    d.listener.pskHint = text(l, 'a hint');
  },
  { unimplemented: true },
);

// ---------------------------------------------------------------- listener (Heron)
def(
  'proxy_protocol',
  'listener',
  (ctx, l) => {
    currentListener(ctx, l).listener.proxyProtocol = bool(l, ctx.warn);
  },
  { heron: true },
);
def(
  'websockets_path',
  'listener',
  (ctx, l) => {
    const v = word(l, 'a path starting with /', ctx.warn);
    if (!v.startsWith('/')) throw lineError(l, `expected a path starting with /, got '${v}'`);
    currentListener(ctx, l).listener.websocketsPath = v;
  },
  { heron: true },
);
def(
  'websockets_strict_path',
  'listener',
  (ctx, l) => {
    currentListener(ctx, l).listener.websocketsStrictPath = bool(l, ctx.warn);
  },
  { heron: true },
);

// ---------------------------------------------------------------- bridges
def('connection', 'bridge', parseConnection);
def(['address', 'addresses'], 'bridge', (ctx, l) => {
  const br = currentBridge(ctx, l).bridge;
  if (br.addresses.length > 0) {
    throw lineError(l, 'addresses already given for this bridge: list them all on one line');
  }
  for (const w of l.words) {
    if (w.startsWith('#')) break;
    br.addresses.push(parseAddress(l, w));
  }
  if (br.addresses.length === 0) throw lineError(l, 'expected host[:port] ..., got nothing');
});
def('topic', 'bridge', parseBridgeTopic);
/** Registers a bridge text option that may be given once. */
function bridgeText(names: string[], what: string, set: (d: BridgeDraft, v: string) => void): void {
  def(names, 'bridge', (ctx, l) => {
    const d = currentBridge(ctx, l);
    once(ctx, l, d.key, names[names.length - 1]);
    set(d, text(l, what));
  });
}
bridgeText(['clientid', 'remote_clientid'], 'a client id', (d, v) => {
  d.bridge.clientId = v;
});
bridgeText(['username', 'remote_username'], 'a user name', (d, v) => {
  d.bridge.username = v;
});
bridgeText(['password', 'remote_password'], 'a password', (d, v) => {
  d.bridge.password = v;
});
bridgeText(['local_clientid'], 'a client id', (d, v) => {
  d.bridge.localClientId = v;
});
bridgeText(['local_username'], 'a user name', (d, v) => {
  d.bridge.localUsername = v;
});
bridgeText(['local_password'], 'a password', (d, v) => {
  d.bridge.localPassword = v;
});
bridgeText(['notification_topic'], 'a topic', (d, v) => {
  d.bridge.notificationTopic = v;
});
bridgeText(['bridge_bind_address'], 'an address', (d, v) => {
  d.bridge.bindAddress = v;
});
def('cleansession', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.cleanSession = bool(l, ctx.warn);
});
def('local_cleansession', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).localCleanSession = bool(l, ctx.warn);
});
def('keepalive_interval', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.keepalive = int(l, { min: 5, max: 65535, below: 5 }, ctx.warn);
});
def('bridge_protocol_version', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.protocolVersion = oneOf(
    l,
    ['mqttv31', 'mqttv311', 'mqttv50'],
    ctx.warn,
  );
});
def('try_private', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.tryPrivate = bool(l, ctx.warn);
});
def('notifications', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.notifications = bool(l, ctx.warn);
});
def('notifications_local_only', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.notificationsLocalOnly = bool(l, ctx.warn);
});
def('start_type', 'bridge', (ctx, l) => {
  const br = currentBridge(ctx, l).bridge;
  if (l.words[0] === 'manual') throw lineError(l, "the 'manual' start type is not supported");
  br.startType = oneOf(l, ['automatic', 'lazy', 'once'], ctx.warn);
});
def('restart_timeout', 'bridge', parseRestartTimeout);
def('round_robin', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.roundRobin = bool(l, ctx.warn);
});
def('idle_timeout', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.idleTimeout = int(l, { min: 1, below: 1 }, ctx.warn);
});
def('threshold', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.threshold = int(l, { min: 1, below: 1 }, ctx.warn);
});
def('bridge_attempt_unsubscribe', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.attemptUnsubscribe = bool(l, ctx.warn);
});
def('bridge_outgoing_retain', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.outgoingRetain = bool(l, ctx.warn);
});
def('bridge_max_packet_size', 'bridge', (ctx, l) => {
  currentBridge(ctx, l).bridge.maxPacketSize = int(
    l,
    { min: 0, max: MAX_PAYLOAD + 5, below: 0 },
    ctx.warn,
  );
});
def('bridge_cafile', 'bridge', (ctx, l) => {
  bridgeTls(ctx, l).tls.cafile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('bridge_capath', 'bridge', (ctx, l) => {
  bridgeTls(ctx, l).tls.capath = pathValue(l, 'a directory', ctx.st.cwd);
});
def('bridge_certfile', 'bridge', (ctx, l) => {
  bridgeTls(ctx, l).tls.certfile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('bridge_keyfile', 'bridge', (ctx, l) => {
  bridgeTls(ctx, l).tls.keyfile = pathValue(l, 'a file path', ctx.st.cwd);
});
def('bridge_insecure', 'bridge', (ctx, l) => {
  const v = bool(l, ctx.warn);
  bridgeTls(ctx, l, false).tls.insecure = v;
});
def('bridge_tls_version', 'bridge', (ctx, l) => {
  bridgeTls(ctx, l).tls.tlsVersion = oneOf(l, TLS_VERSIONS, ctx.warn);
});
def('bridge_alpn', 'bridge', (ctx, l) => {
  bridgeTls(ctx, l).tls.alpn = text(l, 'an ALPN protocol name');
});
def(
  'bridge_require_ocsp',
  'bridge',
  (ctx, l) => {
    bridgeTls(ctx, l, false).tls.requireOcsp = bool(l, ctx.warn);
  },
  { unimplemented: true },
);
def(
  'bridge_identity',
  'bridge',
  (ctx, l) => {
    const d = currentBridge(ctx, l);
    once(ctx, l, d.key);
    d.bridge.pskIdentity = text(l, 'a PSK identity');
  },
  { unimplemented: true },
);
def(
  'bridge_psk',
  'bridge',
  (ctx, l) => {
    const d = currentBridge(ctx, l);
    once(ctx, l, d.key);
    const v = text(l, 'a hex key');
    if (!/^[0-9a-fA-F]+$/.test(v)) throw lineError(l, `expected a hexadecimal key, got '${v}'`);
    d.bridge.psk = v;
  },
  { unimplemented: true },
);

// ---------------------------------------------------------------- Heron extensions (global)
const H = { heron: true };
global(
  'persistence_backend',
  'persistenceBackend',
  (ctx, l) => {
    ctx.st.persistenceBackendLine = l;
    return oneOf(l, ['memory', 'lmdb'], ctx.warn);
  },
  H,
);
global(
  'persistence_sync',
  'persistenceSync',
  (ctx, l) => oneOf(l, ['commit', 'interval', 'none'], ctx.warn),
  H,
);
global('persistence_sync_interval', 'persistenceSyncInterval', n({ min: 1, max: 60000 }), H);
global('connect_timeout', 'connectTimeout', n({ min: 1, max: 3600 }), H);
global(
  'shared_subscription_strategy',
  'sharedSubscriptionStrategy',
  (ctx, l) =>
    oneOf(l, ['round_robin', 'random', 'sticky', 'hash_clientid', 'hash_topic'], ctx.warn),
  H,
);
global('max_queued_drop', 'maxQueuedDrop', (ctx, l) => oneOf(l, ['oldest', 'newest'], ctx.warn), H);
global('max_subscriptions_per_client', 'maxSubscriptionsPerClient', n(NON_NEGATIVE), H);
global('max_topic_levels', 'maxTopicLevels', n({ min: 1, max: 65535 }), H);
global('publish_rate_limit', 'publishRateLimit', n(NON_NEGATIVE), H);
global('publish_byte_rate_limit', 'publishByteRateLimit', n(NON_NEGATIVE), H);
global('connection_rate_limit', 'connectionRateLimit', n(NON_NEGATIVE), H);
global('max_pending_bytes', 'maxPendingBytes', n({ min: 1024 }), H);
global('backpressure', 'backpressure', b, H);
global('slow_consumer_timeout', 'slowConsumerTimeout', n(NON_NEGATIVE), H);
global('max_incomplete_packet_bytes', 'maxIncompletePacketBytes', n(NON_NEGATIVE), H);
global('server_reference', 'serverReference', (_c, l) => text(l, 'a server reference'), {
  heron: true,
  single: true,
});
global(
  'server_redirect',
  'serverRedirect',
  (ctx, l) => oneOf(l, ['use_another_server', 'server_moved', 'off'], ctx.warn),
  H,
);
global('sys_topics', 'sysTopics', b, H);
global('receive_maximum', 'receiveMaximum', n({ min: 1, max: 65535 }), H);
global(
  'overlap_delivery',
  'overlapDelivery',
  (ctx, l) => oneOf(l, ['per-subscription', 'one-copy'], ctx.warn),
  H,
);
global(
  'qos2_order',
  'qos2Order',
  (ctx, l) => oneOf(l, ['pubrec-first', 'deliver-first'], ctx.warn),
  H,
);
global(
  'subscribe_denied_reason_code',
  'subscribeDeniedReasonCode',
  (ctx, l) => {
    const w = word(l, '0x80 or 0x87', ctx.warn);
    const v = /^0x[0-9a-f]+$/i.test(w)
      ? Number.parseInt(w, 16)
      : /^\d+$/.test(w)
        ? Number(w)
        : Number.NaN;
    if (v !== 0x80 && v !== 0x87) throw lineError(l, `expected 0x80 or 0x87, got '${w}'`);
    return v;
  },
  H,
);
global('acl_subscribe', 'aclSubscribe', (ctx, l) => oneOf(l, ['mosquitto', 'strict'], ctx.warn), H);
global(
  'auth_order',
  'authOrder',
  (ctx, l) => {
    ctx.st.cfg.authOrderExplicit = true;
    return oneOf(l, ['hooks_first', 'files_first'], ctx.warn);
  },
  H,
);
def('admin_listener', 'global', parseAdminListener, H);
def('http_api_port', 'global', parseHttpApiPort, H);
def('admin_token', 'global', parseAdminToken, H);
def('admin_users_file', 'global', parseAdminUsersFile, H);
def('admin_latency_probe', 'global', parseLatencyProbe, H);
def(
  'cluster_redis_url',
  'global',
  (ctx, l) => {
    once(ctx, l, 'G');
    const url = word(l, 'a redis:// URL', ctx.warn);
    if (!/^rediss?:\/\//.test(url))
      throw lineError(l, `expected a redis:// or rediss:// URL, got '${url}'`);
    ctx.st.cfg.cluster = { redisUrl: url };
  },
  H,
);
/** Records a cluster_* value; it joins the cluster config once cluster_redis_url is known. */
function clusterOption(
  name: string,
  set: (
    extra: NonNullable<OptionContext['st']['clusterExtra']>,
    ctx: OptionContext,
    l: ConfigLine,
  ) => void,
  repeatable = false,
): void {
  def(
    name,
    'global',
    (ctx, l) => {
      if (!repeatable) once(ctx, l, 'G');
      ctx.st.clusterNodeIdLine ??= l;
      set((ctx.st.clusterExtra ??= {}), ctx, l);
    },
    H,
  );
}
clusterOption('cluster_node_id', (x, ctx, l) => {
  x.nodeId = word(l, 'a node id', ctx.warn);
});
clusterOption('cluster_key_prefix', (x, ctx, l) => {
  x.keyPrefix = word(l, 'a key prefix', ctx.warn);
});
clusterOption('cluster_node_ttl', (x, ctx, l) => {
  x.nodeTtl = int(l, { min: 300 }, ctx.warn);
});
clusterOption('cluster_handover_timeout', (x, ctx, l) => {
  x.handoverTimeout = int(l, { min: 1 }, ctx.warn);
});
clusterOption('cluster_max_outbox', (x, ctx, l) => {
  x.maxOutbox = int(l, { min: 1 }, ctx.warn);
});
clusterOption('cluster_link_advertise', (x, ctx, l) => {
  x.advertiseHost = word(l, 'a host name or address', ctx.warn);
});
clusterOption('cluster_redis_sentinel_name', (x, ctx, l) => {
  x.sentinelName = word(l, 'a master name', ctx.warn);
});
/** A `host:port` word of a cluster_redis_sentinel / cluster_redis_cluster line. */
function redisAddress(ctx: OptionContext, l: ConfigLine): string {
  const w = word(l, 'host:port', ctx.warn);
  const i = w.lastIndexOf(':');
  if (i <= 0) throw lineError(l, `expected host:port, got '${w}'`);
  portWord(l, w.slice(i + 1), false);
  return w;
}
const SENTINEL_OR_CLUSTER = 'cluster_redis_sentinel and cluster_redis_cluster exclude each other';
clusterOption(
  'cluster_redis_sentinel',
  (x, ctx, l) => {
    if (x.redisClusterNodes !== undefined) throw lineError(l, SENTINEL_OR_CLUSTER);
    (x.redisSentinels ??= []).push(redisAddress(ctx, l));
  },
  true,
);
clusterOption(
  'cluster_redis_cluster',
  (x, ctx, l) => {
    if (x.redisSentinels !== undefined) throw lineError(l, SENTINEL_OR_CLUSTER);
    (x.redisClusterNodes ??= []).push(redisAddress(ctx, l));
  },
  true,
);
clusterOption('cluster_link_listener', (x, ctx, l) => {
  const [port, bind] = l.words;
  if (port === undefined) throw lineError(l, 'expected a port and an optional bind address');
  x.linkPort = portWord(l, port, true);
  if (bind !== undefined && !bind.startsWith('#')) x.linkHost = bind;
  checkExtra(l, bind !== undefined && !bind.startsWith('#') ? 2 : 1, ctx.warn);
});

/** Every option Heron reads, by name (aliases included). */
export const OPTIONS: ReadonlyMap<string, OptionDef> = table;

/** Prefixes of plugin option families (`plugin_opt_KEY VALUE`, `auth_opt_KEY VALUE`). */
export const PLUGIN_OPTION_PREFIXES = ['plugin_opt_', 'auth_opt_'] as const;

/** Reads `plugin_opt_KEY VALUE` / `auth_opt_KEY VALUE` for the most recent plugin. */
export function handlePluginOption(ctx: OptionContext, l: ConfigLine, prefix: string): void {
  if (!ctx.st.plugin) throw lineError(l, "must follow a 'plugin' (or 'auth_plugin') line");
  const key = l.option.slice(prefix.length);
  if (key.length === 0) throw lineError(l, `expected ${prefix}KEY VALUE`);
  ctx.st.plugin.options[key] = text(l, 'a value');
}

/** The known option closest to a misspelt one, for "did you mean" hints. */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const known of table.keys()) {
    const d = editDistance(name, known, bestDist);
    if (d < bestDist) {
      bestDist = d;
      best = known;
    }
  }
  return best;
}

/** Levenshtein distance, giving up once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length]!;
}
