import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import type { Packet } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';

/** Transport schemes a client can connect with. */
export type ClientScheme = 'mqtt' | 'mqtts' | 'ws' | 'wss';

/** The will message the broker publishes if the client vanishes. */
export interface ClientWill {
  topic: string;
  payload?: Buffer | string;
  qos?: QoS;
  retain?: boolean;
  /** v5 will properties (willDelayInterval, messageExpiryInterval, ...). */
  properties?: Properties;
}

/** Exponential backoff between reconnect attempts. */
export interface ReconnectOptions {
  /** First delay in ms. Default 1000. */
  initialDelay?: number;
  /** Longest delay in ms. Default 30000. */
  maxDelay?: number;
  /** Growth factor per failed attempt. Default 2. */
  factor?: number;
}

/** Options of `connect()`; anything also given by `url` is overridden by the explicit field. */
export interface ClientOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL; user:password@ in the URL set the credentials. */
  url?: string;
  scheme?: ClientScheme;
  host?: string;
  /** Default 1883 (mqtt), 8883 (mqtts), 80 (ws), 443 (wss). */
  port?: number;
  /** WebSocket path. Default '/mqtt' (or the URL's path). */
  path?: string;
  /** 3 = MQTT 3.1, 4 = 3.1.1 (default), 5 = 5.0. */
  protocolVersion?: ProtocolVersion;
  /** Client identifier. Default '' (the server assigns one; v3.1 gets a random id). */
  clientId?: string;
  /** Clean Session (v3) / Clean Start (v5) on the first connect. Default true. */
  clean?: boolean;
  /** Keep alive in seconds (0 disables pings). Default 60. */
  keepalive?: number;
  username?: string;
  password?: Buffer | string;
  will?: ClientWill;
  /** v5 CONNECT properties (sessionExpiryInterval, receiveMaximum, userProperties, ...). */
  properties?: Properties;
  /** false disables reconnecting; otherwise backoff settings (default enabled). */
  reconnect?: boolean | ReconnectOptions;
  /** Resubscribe after a reconnect when the server had no session. Default true. */
  resubscribe?: boolean;
  /** Milliseconds to wait for CONNACK. Default 30000. */
  connectTimeout?: number;
  /** Most outgoing QoS 1/2 publishes awaiting acknowledgement (also capped by the server's Receive Maximum). Default 65535. */
  maxInflight?: number;
  /** node:tls options for mqtts:// and wss:// (ca, cert, key, rejectUnauthorized, servername, ...). */
  tls?: TlsConnectionOptions;
  /** Called with every packet sent and received (for debugging tools); leave unset in production. */
  trace?: (direction: 'send' | 'receive', packet: Packet) => void;
  /** 3.1/3.1.1: announce a bridge (protocol level | 0x80, Mosquitto's try_private). Default false. */
  bridge?: boolean;
  /** Local address to connect from (a bridge's bridge_bind_address). */
  localAddress?: string;
}

/** ClientOptions with defaults filled in. */
export interface ResolvedClientOptions {
  scheme: ClientScheme;
  host: string;
  port: number;
  path: string;
  protocolVersion: ProtocolVersion;
  clientId: string;
  clean: boolean;
  keepalive: number;
  username: string | undefined;
  password: Buffer | undefined;
  will: ClientWill | undefined;
  properties: Properties | undefined;
  reconnect: Required<ReconnectOptions> | undefined;
  resubscribe: boolean;
  connectTimeout: number;
  maxInflight: number;
  tls: TlsConnectionOptions | undefined;
  trace: ((direction: 'send' | 'receive', packet: Packet) => void) | undefined;
  bridge: boolean;
  localAddress: string | undefined;
}

const DEFAULT_PORTS: Record<ClientScheme, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** Reads a connect URL (or options) into fully resolved options. */
export function resolveClientOptions(input: string | ClientOptions): ResolvedClientOptions {
  const o: ClientOptions = typeof input === 'string' ? { url: input } : input;
  let scheme: ClientScheme = 'mqtt';
  let host = 'localhost';
  let port: number | undefined;
  let path = '/mqtt';
  let username: string | undefined;
  let password: string | undefined;
  if (o.url !== undefined) {
    const u = new URL(o.url);
    const s = u.protocol.slice(0, -1);
    if (s === 'mqtt' || s === 'tcp') scheme = 'mqtt';
    else if (s === 'mqtts' || s === 'ssl' || s === 'tls') scheme = 'mqtts';
    else if (s === 'ws' || s === 'wss') scheme = s;
    else throw new TypeError(`unsupported URL scheme '${u.protocol}'`);
    host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    if (u.port !== '') port = Number(u.port);
    if (u.pathname !== '' && u.pathname !== '/') path = u.pathname + u.search;
    if (u.username !== '') username = decodeURIComponent(u.username);
    if (u.password !== '') password = decodeURIComponent(u.password);
  }
  if (o.scheme !== undefined) scheme = o.scheme;
  if (o.host !== undefined) host = o.host;
  if (o.port !== undefined) port = o.port;
  if (o.path !== undefined) path = o.path;
  const version = o.protocolVersion ?? 4;
  let clientId = o.clientId ?? '';
  // MQTT 3.1 servers reject an empty identifier, so make one up like other clients do.
  if (clientId === '' && version === 3)
    clientId = `heron-${Math.random().toString(16).slice(2, 10)}`;
  const pw = o.password ?? password;
  let reconnect: Required<ReconnectOptions> | undefined;
  if (o.reconnect !== false) {
    const r = typeof o.reconnect === 'object' ? o.reconnect : {};
    reconnect = {
      initialDelay: r.initialDelay ?? 1000,
      maxDelay: r.maxDelay ?? 30_000,
      factor: r.factor ?? 2,
    };
  }
  return {
    scheme,
    host,
    port: port ?? DEFAULT_PORTS[scheme],
    path,
    protocolVersion: version,
    clientId,
    clean: o.clean ?? true,
    keepalive: o.keepalive ?? 60,
    username: o.username ?? username,
    password: pw === undefined ? undefined : typeof pw === 'string' ? Buffer.from(pw) : pw,
    will: o.will,
    properties: o.properties,
    reconnect,
    resubscribe: o.resubscribe ?? true,
    connectTimeout: o.connectTimeout ?? 30_000,
    maxInflight: Math.max(1, Math.min(o.maxInflight ?? 65535, 65535)),
    tls: o.tls,
    trace: o.trace,
    bridge: o.bridge === true && version !== 5,
    localAddress: o.localAddress,
  };
}
