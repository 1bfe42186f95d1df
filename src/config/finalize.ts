import { hostname } from 'node:os';
import { ConfigError } from './config-error.js';
import { defaultSecurity, localOnlyListeners } from './defaults.js';
import type { BridgeDraft, ListenerDraft, ParseState } from './parse-state.js';
import type {
  BridgeConfig,
  ConfigWarningKind,
  HeronConfig,
  ListenerConfig,
  TlsConfig,
} from './types.js';
import type { ConfigLine } from './values.js';

/** Listener-scope options whose mere presence before any `listener` does not create the default listener (as in Mosquitto). */
const NO_DEFAULT_LISTENER_TRIGGER = new Set([
  'max_topic_alias',
  'http_dir',
  'acl_file',
  'allow_anonymous',
  'auto_id_prefix',
  'port',
  'bind_address',
]);

/**
 * Applies the rules that need the whole file: the implicit default listener,
 * Mosquitto 2's local-only mode, anonymous access, TLS completeness, bridge
 * defaults, and conflicts between listeners.
 */
export function finalizeConfig(st: ParseState, commandLinePorts: number[]): HeronConfig {
  const cfg = st.cfg;
  const warn = (l: ConfigLine, kind: ConfigWarningKind, message: string) => {
    cfg.warnings.push({ file: l.file, line: l.line, option: l.option, message, kind });
  };

  // --- listeners
  const drafts: ListenerDraft[] = [...st.listeners];
  const dl = st.defaultListener;
  cfg.localOnly = !st.listenerConfigured;
  if (cfg.localOnly) {
    for (const l of dl.touched) {
      warn(
        l,
        'ignored',
        "no 'listener' is configured, so Heron (like Mosquitto 2) listens on the loopback addresses only and this option is ignored; add a 'listener' line to use it",
      );
    }
  } else {
    const triggers = dl.touched.filter((l) => !NO_DEFAULT_LISTENER_TRIGGER.has(l.option));
    if (st.portLine || st.bindAddressLine || defaultListenerDiffers(dl, cfg.perListenerSettings)) {
      for (const l of triggers) {
        if (st.portLine || st.bindAddressLine) continue;
        warn(
          l,
          'deprecated',
          `written before any 'listener' line, so it configures the implicit default listener on port ${dl.listener.port}, which is therefore opened too (as Mosquitto does)`,
        );
      }
      const src = st.portLine ?? st.bindAddressLine ?? triggers[0]!;
      dl.listener.source = { file: src.file, line: src.line };
      drafts.push(dl);
    } else {
      for (const l of dl.touched) {
        warn(
          l,
          'ignored',
          "written before any 'listener' line, so it applies to the implicit default listener, which is not opened; move it after a 'listener' line",
        );
      }
    }
  }

  const listeners: ListenerConfig[] = drafts.map((d) => finishListener(d, cfg, warn));
  if (cfg.localOnly) {
    const ports = commandLinePorts.length > 0 ? commandLinePorts : [1883];
    for (const port of ports) listeners.push(...localOnlyListeners(port));
    cfg.security.allowAnonymous = true;
    if (cfg.perListenerSettings) {
      for (const l of listeners) {
        l.security = defaultSecurity();
        l.security.allowAnonymous = true;
      }
    }
    if (
      st.allowAnonymousLine &&
      st.allowAnonymousLine.words[0] !== 'true' &&
      st.allowAnonymousLine.words[0] !== '1'
    ) {
      warn(
        st.allowAnonymousLine,
        'ignored',
        "no 'listener' is configured, so only local clients can connect and anonymous access is allowed (Mosquitto 2's local-only mode)",
      );
    }
  } else if (commandLinePorts.length > 0) {
    cfg.warnings.push({
      file: '',
      line: 0,
      option: '-p',
      message: 'ignored because the configuration file defines listeners (as Mosquitto does)',
      kind: 'ignored',
    });
  }
  checkListenerConflicts(listeners);
  cfg.listeners = listeners;

  // --- persistence
  const pb = st.persistenceBackendLine;
  if (!cfg.persistence) {
    if (pb && cfg.persistenceBackend === 'lmdb') {
      warn(pb, 'ignored', "'persistence' is false, so nothing is stored on disk; ignored");
    }
    cfg.persistenceBackend = 'memory';
  } else if (!pb) {
    cfg.persistenceBackend = 'lmdb';
  }

  // --- bridges
  cfg.bridges = st.bridges.map((d) => finishBridge(d, warn));
  const byLocalId = new Map<string, BridgeConfig>();
  for (const b of cfg.bridges) {
    const other = byLocalId.get(b.localClientId);
    if (other) {
      throw new ConfigError(
        `local client id '${b.localClientId}' is also used by bridge '${other.name}'; set local_clientid on one of them`,
        { file: b.source.file, line: b.source.line, option: 'connection' },
      );
    }
    byLocalId.set(b.localClientId, b);
  }

  // --- Heron services
  if (cfg.admin && cfg.admin.port < 0) {
    for (const l of st.adminOptionLines)
      warn(l, 'ignored', "no 'admin_listener' is configured; ignored");
    delete cfg.admin;
  }
  if (cfg.admin) {
    const a = cfg.admin;
    const clash = listeners.find(
      (l) => l.port === a.port && a.port !== 0 && addressesOverlap(l.bindAddress, a.bindAddress),
    );
    if (clash) {
      throw new ConfigError(
        `admin_listener port ${a.port} is also used by an MQTT listener${clash.source ? ` (at ${clash.source.file}:${clash.source.line})` : ''}`,
        { option: 'admin_listener' },
      );
    }
  }
  for (const { plugin, line } of st.pluginLines) {
    if (plugin.options.backends === undefined)
      warn(line, 'unimplemented', 'not implemented by Heron, ignored');
  }
  if (cfg.cluster && st.clusterExtra) Object.assign(cfg.cluster, st.clusterExtra);
  if (st.clusterNodeIdLine && !cfg.cluster) {
    warn(st.clusterNodeIdLine, 'ignored', "no 'cluster_redis_url' is configured; ignored");
  }
  if (cfg.serverRedirect !== 'off' && cfg.serverReference === undefined) {
    throw new ConfigError(`server_redirect ${cfg.serverRedirect} needs a server_reference`, {
      option: 'server_redirect',
    });
  }
  return cfg;
}

/**
 * Mosquitto opens the implicit default listener when one of these settings
 * differs from its default, even without `port`; writing a default value
 * (say `max_connections -1`) must not open an extra port.
 */
function defaultListenerDiffers(d: ListenerDraft, perListener: boolean): boolean {
  const l = d.listener;
  const t = d.tls;
  const s = d.security;
  return (
    l.bindInterface !== undefined ||
    l.socketDomain !== undefined ||
    l.mountPoint !== undefined ||
    l.pskHint !== undefined ||
    l.protocol !== 'mqtt' ||
    l.maxConnections !== -1 ||
    l.maxQos !== 2 ||
    l.useUsernameAsClientid ||
    l.proxyProtocol ||
    l.websocketsStrictPath ||
    l.websocketsPath !== '/mqtt' ||
    t.cafile !== undefined ||
    t.capath !== undefined ||
    t.certfile !== undefined ||
    t.keyfile !== undefined ||
    t.ciphers !== undefined ||
    t.ciphersTls13 !== undefined ||
    t.crlfile !== undefined ||
    t.dhparamfile !== undefined ||
    t.engine !== undefined ||
    t.engineKpassSha1 !== undefined ||
    t.keyform === 'engine' ||
    t.requireCertificate === true ||
    t.useIdentityAsUsername === true ||
    t.useSubjectAsUsername === true ||
    (perListener &&
      (s.passwordFile !== undefined ||
        s.pskFile !== undefined ||
        s.plugins.length > 0 ||
        !s.allowZeroLengthClientid))
  );
}

/** Turns a draft into a listener: TLS only when complete, security only per listener. */
function finishListener(
  d: ListenerDraft,
  cfg: HeronConfig,
  warn: (l: ConfigLine, kind: ConfigWarningKind, message: string) => void,
): ListenerConfig {
  const l = d.listener;
  const t = d.tls;
  const where = l.source;
  if (t.certfile !== undefined && t.keyfile === undefined) {
    throw new ConfigError('certfile is given but keyfile is missing (TLS needs both)', {
      ...where,
      option: 'certfile',
    });
  }
  if (t.keyfile !== undefined && t.certfile === undefined) {
    throw new ConfigError('keyfile is given but certfile is missing (TLS needs both)', {
      ...where,
      option: 'keyfile',
    });
  }
  if (t.certfile !== undefined && t.keyfile !== undefined) {
    const tls: TlsConfig = {
      certfile: t.certfile,
      keyfile: t.keyfile,
      requireCertificate: t.requireCertificate ?? false,
      useIdentityAsUsername: t.useIdentityAsUsername ?? false,
      useSubjectAsUsername: t.useSubjectAsUsername ?? false,
      keyform: t.keyform ?? 'pem',
    };
    for (const k of [
      'cafile',
      'capath',
      'tlsVersion',
      'ciphers',
      'ciphersTls13',
      'crlfile',
      'dhparamfile',
      'engine',
      'engineKpassSha1',
    ] as const) {
      if (t[k] !== undefined) (tls as unknown as Record<string, unknown>)[k] = t[k];
    }
    l.tls = tls;
  } else if (d.tlsLine && l.pskHint === undefined) {
    warn(
      d.tlsLine,
      'ignored',
      'TLS options without certfile and keyfile have no effect; this listener is not encrypted',
    );
  }
  if (cfg.perListenerSettings) {
    const s = d.security;
    if (!s.allowAnonymousExplicit) s.allowAnonymous = false;
    l.security = s;
  }
  return l;
}

/** Fills a bridge's derived defaults and checks it is usable. */
function finishBridge(
  d: BridgeDraft,
  warn: (l: ConfigLine, kind: ConfigWarningKind, message: string) => void,
): BridgeConfig {
  const b = d.bridge;
  const where = { file: b.source.file, line: b.source.line, option: 'connection' };
  if (b.addresses.length === 0) {
    throw new ConfigError(`bridge '${b.name}' has no 'address' line`, where);
  }
  if (b.topics.length === 0) {
    throw new ConfigError(`bridge '${b.name}' has no 'topic' line`, where);
  }
  if ((b.psk === undefined) !== (b.pskIdentity === undefined)) {
    throw new ConfigError(`bridge '${b.name}' needs both bridge_identity and bridge_psk`, where);
  }
  if (b.clientId === '') b.clientId = `${hostname()}.${b.name}`;
  if (b.localClientId === '') b.localClientId = `local.${b.clientId}`;
  if (b.notificationTopic === '')
    b.notificationTopic = `$SYS/broker/connection/${b.clientId}/state`;
  b.localCleanSession = d.localCleanSession ?? b.cleanSession;
  const t = d.tls;
  if (t.cafile !== undefined || t.capath !== undefined) {
    b.tls = {
      insecure: t.insecure ?? false,
      tlsVersion: t.tlsVersion ?? 'tlsv1.2',
      requireOcsp: t.requireOcsp ?? false,
    };
    for (const k of ['cafile', 'capath', 'certfile', 'keyfile', 'alpn'] as const) {
      if (t[k] !== undefined) b.tls[k] = t[k];
    }
  } else if (d.tlsLine) {
    warn(
      d.tlsLine,
      'ignored',
      'bridge TLS needs bridge_cafile or bridge_capath; without one the bridge connection is not encrypted',
    );
  }
  return b;
}

/** Whether two bind addresses can collide (an unset address means every address). */
function addressesOverlap(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** Two listeners on the same port and overlapping addresses can never both open. */
function checkListenerConflicts(listeners: ListenerConfig[]): void {
  for (let i = 0; i < listeners.length; i++) {
    const a = listeners[i]!;
    for (let j = 0; j < i; j++) {
      const b = listeners[j]!;
      const clash =
        a.unixSocketPath !== undefined
          ? a.unixSocketPath === b.unixSocketPath
          : b.unixSocketPath === undefined &&
            a.port !== 0 &&
            a.port === b.port &&
            addressesOverlap(a.bindAddress, b.bindAddress) &&
            (a.socketDomain === undefined ||
              b.socketDomain === undefined ||
              a.socketDomain === b.socketDomain);
      if (clash) {
        const what =
          a.unixSocketPath ?? `port ${a.port}${a.bindAddress ? ` on ${a.bindAddress}` : ''}`;
        const first = b.source ? ` by the listener at ${b.source.file}:${b.source.line}` : '';
        throw new ConfigError(`${what} is already used${first}`, {
          ...a.source,
          option: 'listener',
        });
      }
    }
  }
}
