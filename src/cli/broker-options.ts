import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import type { PluginAuth } from '../auth/plugin-auth.js';
import { pluginAuthSettings } from '../auth/plugin-options.js';
import type { BrokerOptions, ListenerOptions, ListenerSecurityOptions } from '../broker/options.js';
import { ConfigError } from '../config/config-error.js';
import type { HeronConfig, ListenerConfig, SecurityConfig, TlsConfig } from '../config/types.js';
import type { LogSettings, TopicLogSink } from '../log/logger.js';
import { readCaBundle, secureVersion } from '../transport/tls-material.js';

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { option });
  }
}

/** Node TLS server options for a listener's TLS settings (files read now; re-run on SIGHUP). */
function tlsServerOptions(t: TlsConfig): tls.TlsOptions {
  const opts: tls.TlsOptions = {
    cert: readPem(t.certfile, 'certfile'),
    key: readPem(t.keyfile, 'keyfile'),
  };
  const ca = readCaBundle(t.cafile, t.capath, readPem);
  if (ca.length > 0) opts.ca = ca;
  if (t.requireCertificate || t.useIdentityAsUsername || t.useSubjectAsUsername) {
    opts.requestCert = true;
    opts.rejectUnauthorized = t.requireCertificate;
  }
  if (t.tlsVersion !== undefined) opts.minVersion = secureVersion(t.tlsVersion);
  const ciphers = [t.ciphers, t.ciphersTls13].filter((c) => c !== undefined).join(':');
  if (ciphers.length > 0) opts.ciphers = ciphers;
  if (t.crlfile !== undefined) opts.crl = readPem(t.crlfile, 'crlfile');
  if (t.dhparamfile !== undefined) opts.dhparam = readPem(t.dhparamfile, 'dhparamfile');
  return opts;
}

function interfaceAddress(name: string): string {
  const addrs = networkInterfaces()[name];
  const a = addrs?.find((x) => x.family === 'IPv4') ?? addrs?.[0];
  if (a === undefined)
    throw new ConfigError(`no network interface named '${name}'`, { option: 'bind_interface' });
  return a.address;
}

/** The broker listener for one configured listener. */
export function listenerOptions(l: ListenerConfig): ListenerOptions {
  let host = l.bindAddress;
  if (l.bindInterface !== undefined) host = interfaceAddress(l.bindInterface);
  if (host === undefined && l.socketDomain === 'ipv4') host = '0.0.0.0';
  if (host === undefined && l.socketDomain === 'ipv6') host = '::';
  const out: ListenerOptions = {
    port: l.port,
    protocol: l.protocol,
    proxyProtocol: l.proxyProtocol,
    maxConnections: l.maxConnections,
  };
  if (host !== undefined) out.host = host;
  if (l.socketDomain === 'ipv6') out.ipv6Only = true;
  if (l.mountPoint !== undefined) out.mountPoint = l.mountPoint;
  if (l.protocol === 'websockets' && l.websocketsStrictPath) out.websocketsPath = l.websocketsPath;
  if (l.tls !== undefined) {
    out.tls = tlsServerOptions(l.tls);
    if (l.tls.useSubjectAsUsername) out.certificateUsername = 'subject';
    else if (l.tls.useIdentityAsUsername) out.certificateUsername = 'cn';
  }
  return out;
}

/** The parts of a security block that decide who gets in and what they may do. */
function securityKey(s: SecurityConfig): string {
  return JSON.stringify([
    s.allowAnonymous,
    s.passwordFile,
    s.aclFile,
    s.allowZeroLengthClientid,
    s.autoIdPrefix,
  ]);
}

/**
 * The broker-level security, and with per_listener_settings the opened
 * listeners' own blocks. Listeners that all agree need no blocks (one set of
 * files, as without per_listener_settings).
 */
function securityPlan(
  cfg: HeronConfig,
  opened: ListenerConfig[],
): { global: SecurityConfig; perListener: boolean } {
  if (!cfg.perListenerSettings) return { global: cfg.security, perListener: false };
  const sets = opened.map((l) => l.security ?? cfg.security);
  const first = sets[0] ?? cfg.security;
  const key = securityKey(first);
  if (sets.every((s) => securityKey(s) === key)) return { global: first, perListener: false };
  return { global: cfg.security, perListener: true };
}

/** A listener's security block for the broker; files it lacks are explicitly none (null). */
function brokerListenerSecurity(s: SecurityConfig): ListenerSecurityOptions {
  return {
    allowAnonymous: s.allowAnonymous,
    passwordFile: s.passwordFile ?? null,
    aclFile: s.aclFile ?? null,
    allowZeroLengthClientId: s.allowZeroLengthClientid,
    autoIdPrefix: s.autoIdPrefix,
  };
}

/**
 * The plugin lines that configure the built-in auth backend. Its hooks are
 * broker-wide, so with per_listener_settings every opened listener must have
 * the same backend configuration, or none may have one.
 */
function backendPlugins(cfg: HeronConfig): SecurityConfig['plugins'] {
  if (!cfg.perListenerSettings) return cfg.security.plugins;
  const sets = cfg.listeners
    .filter((l) => l.unixSocketPath === undefined)
    .map((l) => l.security ?? cfg.security);
  const keys = new Set(sets.map((s) => JSON.stringify(pluginAuthSettings(s.plugins) ?? null)));
  if (keys.size > 1) {
    throw new ConfigError(
      'per_listener_settings true with an auth_plugin backend (auth_opt_backends) on some listeners only (or different ones) is not supported: the backend applies to every listener; configure the same auth_opt_* lines on every listener',
      { option: 'auth_plugin' },
    );
  }
  return sets[0]?.plugins ?? cfg.security.plugins;
}

/** Turns the typed configuration into createBroker() options. */
export function brokerOptionsFromConfig(cfg: HeronConfig, version: string): BrokerOptions {
  const opened = cfg.listeners.filter((l) => l.unixSocketPath === undefined);
  const { global: sec, perListener } = securityPlan(cfg, opened);
  const maxQos = cfg.listeners.reduce<0 | 1 | 2>((q, l) => (l.maxQos < q ? l.maxQos : q), 2);
  const maxTopicAlias = cfg.listeners.reduce((m, l) => Math.max(m, l.maxTopicAlias), 0);
  return {
    listeners: opened.map((l) => {
      const out = listenerOptions(l);
      if (perListener) out.security = brokerListenerSecurity(l.security ?? cfg.security);
      return out;
    }),
    allowAnonymous: sec.allowAnonymous,
    ...(sec.passwordFile !== undefined ? { passwordFile: sec.passwordFile } : {}),
    ...(sec.aclFile !== undefined ? { aclFile: sec.aclFile } : {}),
    aclSubscribeMode: cfg.aclSubscribe,
    // Mosquitto asks password_file/acl_file before any plugin; a plugin backend config gets that order.
    authOrder:
      cfg.authOrderExplicit !== true && pluginAuthSettings(backendPlugins(cfg)) !== undefined
        ? 'files_first'
        : cfg.authOrder,
    publishRateLimit: cfg.publishRateLimit,
    publishByteRateLimit: cfg.publishByteRateLimit,
    allowZeroLengthClientId: sec.allowZeroLengthClientid,
    autoIdPrefix: sec.autoIdPrefix,
    connectTimeout: cfg.connectTimeout,
    maxInflightMessages: cfg.maxInflightMessages,
    maxQueuedMessages: cfg.maxQueuedMessages,
    maxQueuedBytes: cfg.maxQueuedBytes,
    maxQueuedDrop: cfg.maxQueuedDrop,
    queueQos0Messages: cfg.queueQos0Messages,
    backpressure: cfg.backpressure,
    slowConsumerTimeout: cfg.slowConsumerTimeout,
    messageSizeLimit: cfg.messageSizeLimit,
    ...(cfg.maxPacketSize > 0 ? { maxPacketSize: cfg.maxPacketSize } : {}),
    maxKeepalive: cfg.maxKeepalive,
    maxQos,
    retainAvailable: cfg.retainAvailable,
    sysInterval: cfg.sysTopics ? cfg.sysInterval : 0,
    persistentClientExpiration: cfg.persistentClientExpiration,
    maxPendingBytes: cfg.maxPendingBytes,
    maxIncompletePacketBytes: cfg.maxIncompletePacketBytes,
    maxSubscriptionsPerClient: cfg.maxSubscriptionsPerClient,
    maxTopicLevels: cfg.maxTopicLevels,
    maxTopicAlias: maxTopicAlias > 0 ? maxTopicAlias : 10,
    sharedSubscriptionStrategy: cfg.sharedSubscriptionStrategy,
    connectionRateLimit: cfg.connectionRateLimit,
    connectionMessages: cfg.log.connectionMessages,
    receiveMaximum: cfg.receiveMaximum,
    qos2Order: cfg.qos2Order,
    overlapDelivery: cfg.overlapDelivery,
    subscribeDeniedReasonCode: cfg.subscribeDeniedReasonCode,
    ...(cfg.serverRedirect !== 'off' && cfg.serverReference !== undefined
      ? {
          redirect: {
            serverReference: cfg.serverReference,
            permanent: cfg.serverRedirect === 'server_moved',
          },
        }
      : {}),
    version,
    // persistence_location + persistence_file name the store's directory (LMDB keeps data.mdb in it).
    persistence: cfg.persistence
      ? {
          backend: cfg.persistenceBackend,
          location: join(
            cfg.persistenceLocation ?? join(process.cwd(), 'data'),
            cfg.persistenceFile,
          ),
          sync: cfg.persistenceSync,
          syncInterval: cfg.persistenceSyncInterval,
        }
      : undefined,
    ...(cfg.cluster !== undefined
      ? {
          cluster: { ...cfg.cluster },
        }
      : {}),
  };
}

/**
 * The built-in backend that `auth_plugin` + `auth_opt_backends mysql|http`
 * lines ask for (mosquitto-auth-plug or mosquitto-go-auth options), or
 * undefined when the configuration names none. Its hooks go in
 * BrokerOptions.hooks; the caller closes it when the broker stops.
 */
export async function pluginAuthFromConfig(cfg: HeronConfig): Promise<PluginAuth | undefined> {
  const settings = pluginAuthSettings(backendPlugins(cfg));
  if (settings === undefined) return undefined;
  // Loaded only when configured: the backends are a dozen modules a plain broker never runs.
  const { createPluginAuth } = await import('../auth/create-plugin-auth.js');
  return createPluginAuth(settings);
}

/**
 * What the built-in auth backend's settings are, as comparable text: a reload
 * compares them to tell the operator that auth_opt_* changes need a restart.
 */
export function pluginAuthFingerprint(cfg: HeronConfig): string {
  return JSON.stringify(pluginAuthSettings(backendPlugins(cfg)) ?? null, (_k, v: unknown) =>
    v instanceof RegExp ? v.source : v,
  );
}

/** Log settings from log_dest / log_type / log_timestamp and -v; `topicSink` receives log_dest topic lines. */
export function logSettingsFromConfig(cfg: HeronConfig, topicSink?: TopicLogSink): LogSettings {
  const types = new Set(cfg.log.types);
  let level: LogSettings['level'] = 'silent';
  if (types.has('error')) level = 'error';
  if (types.has('warning')) level = 'warn';
  if (types.has('notice') || types.has('information')) level = 'info';
  if (types.has('debug') || cfg.verbose) level = 'debug';
  const destinations: LogSettings['destinations'] = [];
  for (const d of cfg.log.dest) {
    if (d === 'stdout' || d === 'stderr') destinations.push({ kind: d });
    else if (d === 'file' && cfg.log.file !== undefined)
      destinations.push({ kind: 'file', path: cfg.log.file });
    else if (d === 'syslog') destinations.push({ kind: 'syslog', facility: cfg.log.facility });
    else if (d === 'topic' && topicSink !== undefined)
      destinations.push({ kind: 'topic', sink: topicSink });
  }
  return {
    level,
    destinations,
    // Text unless log_format json: the same lines whether or not stderr is a terminal.
    format: cfg.log.format,
    timestamp: cfg.log.timestamp,
    timestampFormat: cfg.log.timestampFormat,
  };
}
