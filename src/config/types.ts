/**
 * The one typed configuration object that every other part of Heron reads.
 * Produced by src/config/parse.ts from mosquitto.conf syntax (plus command-line
 * flags via src/config/args.ts); nothing else parses configuration. Every field
 * has its default applied, paths are absolute (relative ones are resolved
 * against the working directory at load time, as Mosquitto does), and each
 * field's doc names the option it comes from.
 */

export { ConfigError } from './config-error.js';

/** Where an option was written: used to point users at the line to change. */
export interface SourceLocation {
  /** The file as it was named (main file path, or include_dir path + file name). */
  file: string;
  /** 1-based line number. */
  line: number;
}

/** Why a warning was recorded, so callers (and tests) can filter. */
export type ConfigWarningKind =
  /** Mosquitto option that Heron accepts but does not act on. */
  | 'unimplemented'
  /** Mosquitto itself marks the option as deprecated. */
  | 'deprecated'
  /** A value was out of range and was adjusted the way Mosquitto adjusts it. */
  | 'adjusted'
  /** The option has no effect where it was written (wrong block, overridden, extra text...). */
  | 'ignored';

/** A non-fatal remark about the configuration, logged at startup. */
export interface ConfigWarning {
  /** File the option was read from ('' for command-line flags). */
  file: string;
  /** 1-based line number (0 when not tied to a line). */
  line: number;
  /** The option (or flag) concerned. */
  option: string;
  /** What Heron did about it, e.g. "not implemented by Heron, ignored". */
  message: string;
  /** Category of the warning. */
  kind: ConfigWarningKind;
}

/** log_type values. `all` and `none` are expanded when parsing. */
export type LogType =
  | 'error'
  | 'warning'
  | 'notice'
  | 'information'
  | 'subscribe'
  | 'unsubscribe'
  | 'websockets'
  | 'debug'
  | 'internal';

/** log_dest values (`file` carries its path in LogConfig.file). */
export type LogDestination = 'stdout' | 'stderr' | 'syslog' | 'topic' | 'file' | 'dlt';

/** Logging options. */
export interface LogConfig {
  /** log_dest (repeatable; `none` clears). Default ['stderr']. Empty = no logging. */
  dest: LogDestination[];
  /** Path given with `log_dest file PATH` (only one allowed). */
  file?: string;
  /** log_type (repeatable; `all`, `none`). Default error, warning, notice, information; `-v` sets all. */
  types: LogType[];
  /** log_timestamp. Default true. */
  timestamp: boolean;
  /** log_timestamp_format: a strftime format; unset = seconds since the epoch. */
  timestampFormat?: string;
  /** log_facility N: syslog facility local0..local7 (unset = daemon). */
  facility?: number;
  /** connection_messages: log client connects and disconnects. Default true. */
  connectionMessages: boolean;
  /**
   * log_format (Heron): 'text' writes Mosquitto's `<timestamp>: <message>` lines to every
   * destination (default); 'json' writes one JSON object per line, with the same events.
   */
  format: 'text' | 'json';
}

/** A Mosquitto auth plugin line (`plugin` / `auth_plugin`); never loaded, but database backends named by its options are built in (src/auth/plugin-options.ts). */
export interface PluginConfig {
  /** Path of the shared object. */
  path: string;
  /** plugin_opt_KEY / auth_opt_KEY values given after it. */
  options: Record<string, string>;
  /** auth_plugin_deny_special_chars. Default true. */
  denySpecialChars: boolean;
  /** Where the plugin line was. */
  source: SourceLocation;
}

/**
 * Authentication and access settings. Global (HeronConfig.security) unless
 * per_listener_settings is true, in which case each listener has its own.
 */
export interface SecurityConfig {
  /**
   * allow_anonymous, with Mosquitto 2's rule applied: false unless set, except
   * in local-only mode (no listener configured) where it is forced to true.
   */
  allowAnonymous: boolean;
  /** True when allow_anonymous was written in the file (rather than defaulted). */
  allowAnonymousExplicit: boolean;
  /** password_file: Mosquitto password file (absolute path). */
  passwordFile?: string;
  /** acl_file: Mosquitto ACL file (absolute path). */
  aclFile?: string;
  /** psk_file (not implemented by Heron: recorded only). */
  pskFile?: string;
  /** allow_zero_length_clientid. Default true. */
  allowZeroLengthClientid: boolean;
  /** auto_id_prefix for generated client ids. Default 'auto-'. */
  autoIdPrefix: string;
  /** plugin / auth_plugin lines (database backends built in, others recorded with a warning). */
  plugins: PluginConfig[];
}

/** TLS versions accepted by tls_version / bridge_tls_version. */
export type TlsVersion = 'tlsv1.3' | 'tlsv1.2' | 'tlsv1.1';

/** Server-side TLS for a listener; present only when both certfile and keyfile are given. */
export interface TlsConfig {
  /** cafile: PEM CA bundle trusted for client certificates. */
  cafile?: string;
  /** capath: directory of PEM CA certificates. */
  capath?: string;
  /** certfile: PEM server certificate (chain). */
  certfile: string;
  /** keyfile: PEM private key. */
  keyfile: string;
  /** require_certificate: clients must present a valid certificate. Default false. */
  requireCertificate: boolean;
  /** use_identity_as_username: the certificate CN becomes the username. Default false. */
  useIdentityAsUsername: boolean;
  /** use_subject_as_username: the full subject becomes the username. Default false. */
  useSubjectAsUsername: boolean;
  /** tls_version: the minimum TLS version; unset = TLS 1.2 and 1.3. */
  tlsVersion?: TlsVersion;
  /** ciphers: OpenSSL cipher list for TLS <= 1.2. */
  ciphers?: string;
  /** ciphers_tls1.3: TLS 1.3 cipher suites. */
  ciphersTls13?: string;
  /** crlfile: PEM certificate revocation list. */
  crlfile?: string;
  /** dhparamfile: PEM DH parameters (Node's `dhparam`). */
  dhparamfile?: string;
  /** tls_keyform. Default 'pem'; 'engine' is not implemented. */
  keyform: 'pem' | 'engine';
  /** tls_engine (not implemented: recorded only). */
  engine?: string;
  /** tls_engine_kpass_sha1 (not implemented: recorded only). */
  engineKpassSha1?: string;
}

/** Where a listener came from. */
export type ListenerOrigin =
  /** A `listener PORT [ADDRESS]` line. */
  | 'listener'
  /** The deprecated implicit listener made by `port`, `bind_address` or options before any `listener`. */
  | 'default'
  /** Mosquitto 2's local-only mode: no listener configured, so loopback only. */
  | 'local-only';

/** One network listener. */
export interface ListenerConfig {
  /** TCP port (0 = any free port, a Heron extension, unless unixSocketPath is set). */
  port: number;
  /** Address/host to bind (second word of `listener`, or bind_address); unset = all addresses. */
  bindAddress?: string;
  /** bind_interface: bind to the addresses of this network interface only. */
  bindInterface?: string;
  /** `listener 0 PATH`: listen on a Unix domain socket at PATH. */
  unixSocketPath?: string;
  /** socket_domain: restrict to IPv4 or IPv6; unset = both. */
  socketDomain?: 'ipv4' | 'ipv6';
  /** protocol. Default 'mqtt'. */
  protocol: 'mqtt' | 'websockets';
  /** mount_point: topic prefix isolating this listener's clients. */
  mountPoint?: string;
  /** max_connections. Default -1 (unlimited). */
  maxConnections: number;
  /** max_qos (alias maximum_qos). Default 2. */
  maxQos: 0 | 1 | 2;
  /** max_topic_alias: topic aliases a v5 client may create. Default 10. */
  maxTopicAlias: number;
  /** use_username_as_clientid. Default false. */
  useUsernameAsClientid: boolean;
  /** proxy_protocol (Heron): expect a PROXY protocol v1/v2 header. Default false. */
  proxyProtocol: boolean;
  /** websockets_path (Heron): the HTTP path for MQTT over WebSockets. Default '/mqtt'. */
  websocketsPath: string;
  /** websockets_strict_path (Heron): reject other paths. Default false (any path accepted). */
  websocketsStrictPath: boolean;
  /** http_dir: directory served over plain HTTP on a websockets listener. */
  httpDir?: string;
  /** TLS settings; absent = plain TCP / WS. */
  tls?: TlsConfig;
  /** psk_hint (not implemented: recorded only). */
  pskHint?: string;
  /** This listener's security, present only when per_listener_settings is true. */
  security?: SecurityConfig;
  /** How the listener came to exist. */
  origin: ListenerOrigin;
  /** Failure to open it is not fatal (the ::1 local-only listener on a host without IPv6). */
  optional: boolean;
  /** Where the listener was defined (absent for local-only listeners). */
  source?: SourceLocation;
}

/** bridge topic direction. */
export type BridgeDirection = 'in' | 'out' | 'both';

/** One `topic` line of a bridge. */
export interface BridgeTopic {
  /** Topic pattern (may contain wildcards; '' when written as the "" marker). */
  pattern: string;
  /** Default 'out'. */
  direction: BridgeDirection;
  /** Default 0. */
  qos: 0 | 1 | 2;
  /** Prefix added on the local side (unset when absent or ""). */
  localPrefix?: string;
  /** Prefix added on the remote side (unset when absent or ""). */
  remotePrefix?: string;
}

/** One remote address of a bridge. */
export interface BridgeAddress {
  /** Host name or IP address. */
  host: string;
  /** Port. Default 1883. */
  port: number;
}

/** Bridge TLS (client side); present when bridge_cafile or bridge_capath is given. */
export interface BridgeTlsConfig {
  /** bridge_cafile. */
  cafile?: string;
  /** bridge_capath. */
  capath?: string;
  /** bridge_certfile: client certificate. */
  certfile?: string;
  /** bridge_keyfile: client key. */
  keyfile?: string;
  /** bridge_insecure: skip host name verification. Default false. */
  insecure: boolean;
  /** bridge_tls_version. Default 'tlsv1.2'. */
  tlsVersion: TlsVersion;
  /** bridge_alpn: ALPN protocol to offer. */
  alpn?: string;
  /** bridge_require_ocsp (not implemented: recorded only). Default false. */
  requireOcsp: boolean;
}

/** One `connection NAME` block. */
export interface BridgeConfig {
  /** connection NAME. */
  name: string;
  /** address / addresses (required). */
  addresses: BridgeAddress[];
  /** round_robin: treat addresses as equals rather than primary + fallbacks. Default false. */
  roundRobin: boolean;
  /** topic lines (at least one required). */
  topics: BridgeTopic[];
  /** remote_clientid (alias clientid). Default '<hostname>.<name>'. */
  clientId: string;
  /** remote_username (alias username). */
  username?: string;
  /** remote_password (alias password). */
  password?: string;
  /** local_clientid. Default 'local.<clientId>'. */
  localClientId: string;
  /** local_username. */
  localUsername?: string;
  /** local_password. */
  localPassword?: string;
  /** cleansession. Default false. */
  cleanSession: boolean;
  /** local_cleansession. Default = cleanSession. */
  localCleanSession: boolean;
  /** keepalive_interval in seconds (5..65535). Default 60. */
  keepalive: number;
  /** bridge_protocol_version. Default 'mqttv311'. */
  protocolVersion: 'mqttv31' | 'mqttv311' | 'mqttv50';
  /** try_private: announce the bridge to the remote broker. Default true. */
  tryPrivate: boolean;
  /** notifications: publish connection state messages. Default true. */
  notifications: boolean;
  /** notifications_local_only. Default false. */
  notificationsLocalOnly: boolean;
  /** notification_topic. Default '$SYS/broker/connection/<clientId>/state'. */
  notificationTopic: string;
  /** start_type. Default 'automatic'. */
  startType: 'automatic' | 'lazy' | 'once';
  /** restart_timeout CONSTANT: fixed reconnect delay in seconds; 0 = use the backoff below. */
  restartTimeout: number;
  /** restart_timeout BASE CAP: jittered backoff start. Default 5. */
  backoffBase: number;
  /** restart_timeout BASE CAP: jittered backoff cap. Default 30. */
  backoffCap: number;
  /** idle_timeout (lazy bridges), seconds. Default 60. */
  idleTimeout: number;
  /** threshold: queued messages that start a lazy bridge. Default 10. */
  threshold: number;
  /** bridge_attempt_unsubscribe. Default true. */
  attemptUnsubscribe: boolean;
  /** bridge_outgoing_retain. Default true. */
  outgoingRetain: boolean;
  /** bridge_max_packet_size, 0 = unlimited. Default 0. */
  maxPacketSize: number;
  /** bridge_bind_address: local address for the outgoing socket. */
  bindAddress?: string;
  /** TLS to the remote broker. */
  tls?: BridgeTlsConfig;
  /** bridge_identity (PSK, not implemented: recorded only). */
  pskIdentity?: string;
  /** bridge_psk (not implemented: recorded only). */
  psk?: string;
  /** Where the connection line was. */
  source: SourceLocation;
}

/** Heron's HTTP admin API / metrics / dashboard listener. */
export interface AdminConfig {
  /** admin_listener PORT (or http_api_port PORT). */
  port: number;
  /** admin_listener PORT BIND. Default '127.0.0.1'. */
  bindAddress: string;
  /** admin_token: bearer token required by the API; unset = no token. */
  token?: string;
  /** admin_users_file: dashboard users and API keys with roles; unset = none. */
  usersFile?: string;
  /** Where admin_users_file was given (a bad file is reported at this line). */
  usersFileSource?: SourceLocation;
  /** admin_latency_probe URL [SECONDS]: measure publish→delivery latency; unset = off. */
  latencyProbe?: AdminLatencyProbeConfig;
}

/** admin_latency_probe: a probe client on one of the broker's own listeners. */
export interface AdminLatencyProbeConfig {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the listener (user:password@ for credentials). */
  url: string;
  /** Seconds between probe messages. Default 5. */
  intervalSeconds: number;
}

/** Heron's Redis clustering. */
export interface ClusterConfig {
  /** cluster_redis_url, e.g. redis://127.0.0.1:6379. */
  redisUrl: string;
  /** cluster_node_id; unset = generated at startup. */
  nodeId?: string;
  /** cluster_redis_sentinel host:port (repeatable): find Redis through Sentinel. */
  redisSentinels?: string[];
  /** cluster_redis_cluster host:port (repeatable): seed nodes of a Redis Cluster. */
  redisClusterNodes?: string[];
  /** cluster_redis_sentinel_name: the monitored master's name. */
  sentinelName?: string;
  /** cluster_key_prefix. */
  keyPrefix?: string;
  /** cluster_node_ttl, ms. */
  nodeTtl?: number;
  /** cluster_handover_timeout, ms. */
  handoverTimeout?: number;
  /** cluster_link_listener PORT [BIND]: port of the node-to-node link. */
  linkPort?: number;
  /** cluster_link_listener PORT [BIND]: address it listens on. */
  linkHost?: string;
  /** cluster_link_advertise: the address other nodes dial. */
  advertiseHost?: string;
  /** cluster_max_outbox: frames kept per node until acknowledged. */
  maxOutbox?: number;
}

/** Shared-subscription member selection (shared_subscription_strategy). */
export type SharedSubscriptionStrategy =
  | 'round_robin'
  | 'random'
  | 'sticky'
  | 'hash_clientid'
  | 'hash_topic';

/** The whole configuration: general options, listeners, bridges, and what was noticed. */
export interface HeronConfig {
  /**
   * Where each password_file / acl_file line was written, by the absolute path it names:
   * a file that cannot be read at startup is reported at its line.
   */
  fileOptionLines?: Record<string, SourceLocation & { option: string }>;
  // --- security and clients ---
  /** per_listener_settings. Default false. */
  perListenerSettings: boolean;
  /** Global security (used by every listener unless per_listener_settings is true). */
  security: SecurityConfig;
  /** auth_order (Heron): whether embedding hooks run before or after password/ACL files. Default 'hooks_first': an embedding application's hooks decide first, the files decide what they leave undecided. */
  authOrder: 'hooks_first' | 'files_first';
  /** True when auth_order was written (a database auth plugin otherwise gets Mosquitto's files-first order). */
  authOrderExplicit?: boolean;
  /**
   * acl_subscribe (Heron): 'mosquitto' grants every SUBSCRIBE and filters reads per message
   * (Mosquitto 2); 'strict' also refuses filters that reach outside the client's readable topics.
   * Default 'mosquitto'.
   */
  aclSubscribe: 'mosquitto' | 'strict';
  /** receive_maximum (Heron): v5 Receive Maximum advertised to clients (incoming QoS 1/2 in flight). Default 65535. */
  receiveMaximum: number;
  /** (Heron) When an incoming QoS 2 message goes onward: at PUBREL (Mosquitto's order) or on PUBLISH. */
  qos2Order: 'pubrec-first' | 'deliver-first';
  /** (Heron) v5 overlapping subscriptions: one PUBLISH per subscription (Mosquitto) or one copy. */
  overlapDelivery: 'per-subscription' | 'one-copy';
  /** subscribe_denied_reason_code (Heron): v5 SUBACK code for a refused filter, 0x80 or 0x87. Default 0x87. */
  subscribeDeniedReasonCode: number;
  /** check_retain_source. Default true. */
  checkRetainSource: boolean;
  /** clientid_prefixes (deprecated): only client ids with this prefix may connect. */
  clientidPrefixes?: string;
  /** allow_duplicate_messages (deprecated). Default true. */
  allowDuplicateMessages: boolean;
  /** connect_timeout (Heron): seconds a new connection has to send CONNECT. Default 10. */
  connectTimeout: number;

  // --- persistence ---
  /** persistence (alias retained_persistence). Default false. */
  persistence: boolean;
  /** persistence_location: directory of the store (absolute); unset = ./data (Heron; Mosquitto uses the working directory). */
  persistenceLocation?: string;
  /** persistence_file: file name inside persistenceLocation. Default 'mosquitto.db'. */
  persistenceFile: string;
  /** persistence_backend (Heron). 'lmdb' when persistence is true unless set, else 'memory'. */
  persistenceBackend: 'memory' | 'lmdb';
  /** persistence_sync (Heron): when durable writes are flushed. Default 'commit'. */
  persistenceSync: 'commit' | 'interval' | 'none';
  /** persistence_sync_interval (Heron), ms, for persistenceSync 'interval'. Default 10. */
  persistenceSyncInterval: number;
  /** autosave_interval (accepted, unused: Heron writes continuously). Default 1800. */
  autosaveInterval: number;
  /** autosave_on_changes (accepted, unused). Default false. */
  autosaveOnChanges: boolean;
  /** persistent_client_expiration in seconds; 0 = never expire. */
  persistentClientExpiration: number;

  // --- limits and delivery ---
  /** max_inflight_messages per client, 0 = unlimited. Default 20. */
  maxInflightMessages: number;
  /** max_inflight_bytes per client, 0 = unlimited. Default 0. */
  maxInflightBytes: number;
  /** max_queued_messages per client, 0 = unlimited. Default 1000. */
  maxQueuedMessages: number;
  /** max_queued_bytes per client, 0 = unlimited. Default 0. */
  maxQueuedBytes: number;
  /** max_queued_drop (Heron): which message goes when the queue is full. Default 'newest' (Mosquitto drops the incoming one). */
  maxQueuedDrop: 'oldest' | 'newest';
  /** queue_qos0_messages. Default false. */
  queueQos0Messages: boolean;
  /** backpressure (Heron): pause publishers of an online client's full queue instead of dropping. Default true. */
  backpressure: boolean;
  /** slow_consumer_timeout (Heron): seconds without progress before a full online client drops again. Default 5. */
  slowConsumerTimeout: number;
  /** message_size_limit: max PUBLISH payload bytes, 0 = no limit. Default 0. */
  messageSizeLimit: number;
  /** max_packet_size: max packet bytes, 0 = no limit. Default 0. */
  maxPacketSize: number;
  /** max_keepalive seconds (0..65535). Default 65535. */
  maxKeepalive: number;
  /** retain_available. Default true. */
  retainAvailable: boolean;
  /** upgrade_outgoing_qos. Default false. */
  upgradeOutgoingQos: boolean;
  /** set_tcp_nodelay. Default false. */
  setTcpNodelay: boolean;
  /** memory_limit bytes, 0 = none (not implemented: recorded only). */
  memoryLimit: number;
  /** max_subscriptions_per_client (Heron), 0 = unlimited. Default 0. */
  maxSubscriptionsPerClient: number;
  /** max_topic_levels (Heron): levels allowed in a topic or filter. Default 128. */
  maxTopicLevels: number;
  /** publish_rate_limit (Heron): PUBLISH packets/s per client, 0 = off. */
  publishRateLimit: number;
  /** publish_byte_rate_limit (Heron): payload bytes/s per client, 0 = off. */
  publishByteRateLimit: number;
  /** connection_rate_limit (Heron): new connections/s per source address, 0 = off. */
  connectionRateLimit: number;
  /** max_pending_bytes (Heron): unsent bytes per connection before QoS 0 waits in the session queue. Default 128 KiB. */
  maxPendingBytes: number;
  /** max_incomplete_packet_bytes (Heron): bytes held in incomplete packets, broker-wide (0 = no budget). Default 256 MiB. */
  maxIncompletePacketBytes: number;
  /** shared_subscription_strategy (Heron). Default 'round_robin'. */
  sharedSubscriptionStrategy: SharedSubscriptionStrategy;
  /** server_reference (Heron): the server named in v5 redirects. */
  serverReference?: string;
  /** server_redirect (Heron). Default 'off'. */
  serverRedirect: 'use_another_server' | 'server_moved' | 'off';

  // --- $SYS ---
  /** sys_interval seconds, 0 = no periodic $SYS updates. Default 10. */
  sysInterval: number;
  /** sys_topics (Heron): publish the $SYS tree at all. Default true. */
  sysTopics: boolean;

  // --- logging and process ---
  /** Logging options. */
  log: LogConfig;
  /** pid_file (absolute path). */
  pidFile?: string;
  /** user to switch to when started as root (`root` stays root). Default 'mosquitto'. */
  user: string;
  /** Whether `user` was written in the file (else Mosquitto's default 'mosquitto' applies). */
  userExplicit: boolean;
  /** `-d`: run in the background. */
  daemon: boolean;
  /** `-v`: log everything. */
  verbose: boolean;
  /** websockets_log_level (libwebsockets-specific; not implemented). Default 0. */
  websocketsLogLevel: number;
  /** websockets_headers_size: max HTTP header bytes, 0 = default. */
  websocketsHeadersSize: number;

  // --- Heron services ---
  /** admin_listener / http_api_port / admin_token: unset = no admin API. */
  admin?: AdminConfig;
  /** cluster_redis_url / cluster_node_id: unset = single node. */
  cluster?: ClusterConfig;

  // --- the blocks ---
  /** Listeners to open, in file order; the implicit default listener, if any, comes last (as in Mosquitto). */
  listeners: ListenerConfig[];
  /** Bridges, in file order. */
  bridges: BridgeConfig[];
  /** True when no listener/port/bind_address was configured: Mosquitto 2's loopback-only mode. */
  localOnly: boolean;

  // --- provenance ---
  /** Non-fatal remarks, in the order found. */
  warnings: ConfigWarning[];
  /** Files read, in order (main file first, then include_dir files). */
  sources: string[];
}
