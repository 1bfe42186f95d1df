import { defaultConfig, defaultListener, defaultSecurity } from './defaults.js';
import type {
  BridgeConfig,
  BridgeTlsConfig,
  ConfigWarningKind,
  HeronConfig,
  ListenerConfig,
  PluginConfig,
  SecurityConfig,
  SourceLocation,
  TlsConfig,
} from './types.js';
import { type ConfigLine, lineError } from './values.js';

/** A listener being read: TLS and security are collected loosely and checked when the files are done. */
export interface ListenerDraft {
  /** The listener, filled in as lines arrive. */
  listener: ListenerConfig;
  /** TLS options seen so far (a TlsConfig once certfile and keyfile are both known). */
  tls: Partial<TlsConfig>;
  /** First TLS option line, for "TLS options without certfile" warnings. */
  tlsLine?: ConfigLine;
  /** This listener's security (used when per_listener_settings is true). */
  security: SecurityConfig;
  /** Listener-scope options written for it, in order (matters for the default listener). */
  touched: ConfigLine[];
  /** Short key for duplicate-value detection. */
  key: string;
}

/** A bridge being read. */
export interface BridgeDraft {
  /** The bridge, filled in as lines arrive. */
  bridge: BridgeConfig;
  /** bridge_* TLS options seen so far. */
  tls: Partial<BridgeTlsConfig>;
  /** First bridge TLS option line. */
  tlsLine?: ConfigLine;
  /** Explicitly written local_cleansession (else it follows cleansession). */
  localCleanSession?: boolean;
  /** Short key for duplicate-value detection. */
  key: string;
}

/** Everything shared across the main file and its include_dir files. */
export interface ParseState {
  /** The configuration being built (listeners and bridges are filled at the end). */
  cfg: HeronConfig;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Listeners from `listener` lines, in order. */
  listeners: ListenerDraft[];
  /** The implicit default listener (port / bind_address / options before any listener). */
  defaultListener: ListenerDraft;
  /** Where `port` was last given. */
  portLine?: ConfigLine;
  /** Where `bind_address` was given. */
  bindAddressLine?: ConfigLine;
  /** Bridges, in order. */
  bridges: BridgeDraft[];
  /** A listener, port or bind_address line was seen: not local-only mode. */
  listenerConfigured: boolean;
  /** A security option was given (per_listener_settings must come before any). */
  securitySeen: boolean;
  /** log_dest was given (the first one replaces the default). */
  logDestSet: boolean;
  /** log_type was given (the first one replaces the default). */
  logTypeSet: boolean;
  /** The most recent plugin line (plugin_opt_* attach to it). */
  plugin?: PluginConfig;
  /** Every plugin line with the plugin it made (for the end-of-parse warning). */
  pluginLines: { plugin: PluginConfig; line: ConfigLine }[];
  /** Where single-valued string options were first set, by scope and option. */
  seen: Map<string, SourceLocation>;
  /** Explicit persistence_backend line. */
  persistenceBackendLine?: ConfigLine;
  /** Explicit allow_anonymous lines in global scope. */
  allowAnonymousLine?: ConfigLine;
  /** admin_* lines that need an admin_listener (checked at the end). */
  adminOptionLines: ConfigLine[];
  /** First cluster_* line other than cluster_redis_url (they need it). */
  clusterNodeIdLine?: ConfigLine;
  /** cluster_* values other than the URL, merged once the URL is known. */
  clusterExtra?: Omit<import('./types.js').ClusterConfig, 'redisUrl'>;
}

/** Per-file state: each file starts on the default listener with no bridge, as in Mosquitto. */
export interface FileState {
  /** 0 for the main file, 1 for include_dir files. */
  level: number;
  /** The listener that listener-scope options apply to. */
  listener: ListenerDraft;
  /** The bridge that bridge options apply to. */
  bridge?: BridgeDraft;
}

/** What an option handler gets. */
export interface OptionContext {
  /** Shared state. */
  st: ParseState;
  /** This file's state. */
  fs: FileState;
  /** Records a warning for this line. */
  warn: (l: ConfigLine, kind: ConfigWarningKind, message: string) => void;
}

/** Creates a listener draft. */
export function newListenerDraft(listener: ListenerConfig, key: string): ListenerDraft {
  return { listener, tls: {}, security: defaultSecurity(), touched: [], key };
}

/** Creates the state for a fresh parse. */
export function newParseState(cwd: string): ParseState {
  const cfg = defaultConfig();
  cfg.security.allowAnonymous = false;
  cfg.listeners = [];
  cfg.localOnly = false;
  return {
    cfg,
    cwd,
    listeners: [],
    defaultListener: newListenerDraft(defaultListener(1883, 'default'), 'L0'),
    bridges: [],
    listenerConfigured: false,
    securitySeen: false,
    logDestSet: false,
    logTypeSet: false,
    pluginLines: [],
    seen: new Map(),
    adminOptionLines: [],
  };
}

/**
 * Mosquitto refuses a single-valued text option given twice in the same
 * block (a likely copy-paste mistake); Heron does the same, naming both lines.
 */
export function once(ctx: OptionContext, l: ConfigLine, scopeKey: string, name = l.option): void {
  const key = `${scopeKey}:${name}`;
  const first = ctx.st.seen.get(key);
  if (first) {
    throw lineError(l, `given twice in the same block (first at ${first.file}:${first.line})`);
  }
  ctx.st.seen.set(key, { file: l.file, line: l.line });
}
