import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OPTIONS } from '../../src/config/options.js';
import { parseConfigText } from '../../src/config/parse.js';
import type { HeronConfig } from '../../src/config/types.js';

const CWD = '/srv/heron';
const LISTENER = 'listener 1883\n';
const BRIDGE = 'connection b1\naddress 192.0.2.1\ntopic t/# out 0\n';

/** One option line, where it must be written, and what it must produce. */
interface Row {
  option: string;
  line: string;
  /** Text before the line (a listener or bridge block). */
  before?: string;
  get: (c: HeronConfig) => unknown;
  want: unknown;
}

const L = (c: HeronConfig) => c.listeners[0]!;
const B = (c: HeronConfig) => c.bridges[0]!;

// Every option Heron knows, with a non-default value, and the field it must set.
const rows: Row[] = [
  // general
  {
    option: 'allow_duplicate_messages',
    line: 'allow_duplicate_messages false',
    get: (c) => c.allowDuplicateMessages,
    want: false,
  },
  { option: 'persistence', line: 'persistence true', get: (c) => c.persistence, want: true },
  {
    option: 'retained_persistence',
    line: 'retained_persistence true',
    get: (c) => c.persistence,
    want: true,
  },
  {
    option: 'persistence_location',
    line: 'persistence_location db/',
    get: (c) => c.persistenceLocation,
    want: '/srv/heron/db',
  },
  {
    option: 'persistence_file',
    line: 'persistence_file state.db',
    get: (c) => c.persistenceFile,
    want: 'state.db',
  },
  {
    option: 'autosave_interval',
    line: 'autosave_interval 60',
    get: (c) => c.autosaveInterval,
    want: 60,
  },
  {
    option: 'autosave_on_changes',
    line: 'autosave_on_changes true',
    get: (c) => c.autosaveOnChanges,
    want: true,
  },
  {
    option: 'persistent_client_expiration',
    line: 'persistent_client_expiration 14d',
    get: (c) => c.persistentClientExpiration,
    want: 14 * 86400,
  },
  {
    option: 'max_inflight_messages',
    line: 'max_inflight_messages 5',
    get: (c) => c.maxInflightMessages,
    want: 5,
  },
  {
    option: 'max_inflight_bytes',
    line: 'max_inflight_bytes 4096',
    get: (c) => c.maxInflightBytes,
    want: 4096,
  },
  {
    option: 'max_queued_messages',
    line: 'max_queued_messages 7',
    get: (c) => c.maxQueuedMessages,
    want: 7,
  },
  {
    option: 'max_queued_bytes',
    line: 'max_queued_bytes 9000',
    get: (c) => c.maxQueuedBytes,
    want: 9000,
  },
  {
    option: 'queue_qos0_messages',
    line: 'queue_qos0_messages true',
    get: (c) => c.queueQos0Messages,
    want: true,
  },
  {
    option: 'message_size_limit',
    line: 'message_size_limit 268435455',
    get: (c) => c.messageSizeLimit,
    want: 268435455,
  },
  { option: 'max_packet_size', line: 'max_packet_size 20', get: (c) => c.maxPacketSize, want: 20 },
  { option: 'max_keepalive', line: 'max_keepalive 0', get: (c) => c.maxKeepalive, want: 0 },
  {
    option: 'retain_available',
    line: 'retain_available false',
    get: (c) => c.retainAvailable,
    want: false,
  },
  { option: 'sys_interval', line: 'sys_interval 0', get: (c) => c.sysInterval, want: 0 },
  {
    option: 'upgrade_outgoing_qos',
    line: 'upgrade_outgoing_qos true',
    get: (c) => c.upgradeOutgoingQos,
    want: true,
  },
  {
    option: 'set_tcp_nodelay',
    line: 'set_tcp_nodelay true',
    get: (c) => c.setTcpNodelay,
    want: true,
  },
  {
    option: 'check_retain_source',
    line: 'check_retain_source false',
    get: (c) => c.checkRetainSource,
    want: false,
  },
  {
    option: 'clientid_prefixes',
    line: 'clientid_prefixes secure-',
    get: (c) => c.clientidPrefixes,
    want: 'secure-',
  },
  {
    option: 'memory_limit',
    line: 'memory_limit 1000000',
    get: (c) => c.memoryLimit,
    want: 1000000,
  },
  {
    option: 'pid_file',
    line: 'pid_file /run/heron.pid',
    get: (c) => c.pidFile,
    want: '/run/heron.pid',
  },
  { option: 'user', line: 'user heron', get: (c) => c.user, want: 'heron' },
  {
    option: 'websockets_log_level',
    line: 'websockets_log_level 7',
    get: (c) => c.websocketsLogLevel,
    want: 7,
  },
  {
    option: 'websockets_headers_size',
    line: 'websockets_headers_size 4096',
    get: (c) => c.websocketsHeadersSize,
    want: 4096,
  },
  {
    option: 'per_listener_settings',
    line: 'per_listener_settings true',
    get: (c) => c.perListenerSettings,
    want: true,
  },
  {
    option: 'retry_interval',
    line: 'retry_interval 20',
    get: (c) => c.warnings.map((w) => w.option),
    want: ['retry_interval'],
  },
  {
    option: 'include_dir',
    line: '',
    get: () => 'covered by include-dir.test.ts',
    want: 'covered by include-dir.test.ts',
  },
  // logging
  { option: 'log_dest', line: 'log_dest syslog', get: (c) => c.log.dest, want: ['syslog'] },
  { option: 'log_type', line: 'log_type debug', get: (c) => c.log.types, want: ['debug'] },
  {
    option: 'log_timestamp',
    line: 'log_timestamp false',
    get: (c) => c.log.timestamp,
    want: false,
  },
  {
    option: 'log_timestamp_format',
    line: 'log_timestamp_format %Y-%m-%d %H:%M:%S',
    get: (c) => c.log.timestampFormat,
    want: '%Y-%m-%d %H:%M:%S',
  },
  { option: 'log_facility', line: 'log_facility 5', get: (c) => c.log.facility, want: 5 },
  { option: 'log_format', line: 'log_format json', get: (c) => c.log.format, want: 'json' },
  {
    option: 'connection_messages',
    line: 'connection_messages false',
    get: (c) => c.log.connectionMessages,
    want: false,
  },
  // security (global)
  {
    option: 'allow_anonymous',
    line: 'allow_anonymous true',
    before: LISTENER,
    get: (c) => c.security.allowAnonymous,
    want: true,
  },
  {
    option: 'allow_zero_length_clientid',
    line: 'allow_zero_length_clientid false',
    get: (c) => c.security.allowZeroLengthClientid,
    want: false,
  },
  {
    option: 'auto_id_prefix',
    line: 'auto_id_prefix gen-',
    get: (c) => c.security.autoIdPrefix,
    want: 'gen-',
  },
  {
    option: 'password_file',
    line: 'password_file pw',
    get: (c) => c.security.passwordFile,
    want: '/srv/heron/pw',
  },
  {
    option: 'acl_file',
    line: 'acl_file /etc/acl',
    get: (c) => c.security.aclFile,
    want: '/etc/acl',
  },
  {
    option: 'psk_file',
    line: 'psk_file psk.txt',
    get: (c) => c.security.pskFile,
    want: '/srv/heron/psk.txt',
  },
  {
    option: 'plugin',
    line: 'plugin /usr/lib/p.so',
    get: (c) => c.security.plugins.map((p) => p.path),
    want: ['/usr/lib/p.so'],
  },
  {
    option: 'auth_plugin',
    line: 'auth_plugin /usr/lib/a.so',
    get: (c) => c.security.plugins.map((p) => p.path),
    want: ['/usr/lib/a.so'],
  },
  {
    option: 'auth_plugin_deny_special_chars',
    line: 'auth_plugin_deny_special_chars false',
    before: 'plugin /p.so\n',
    get: (c) => c.security.plugins[0]!.denySpecialChars,
    want: false,
  },
  // listeners
  {
    option: 'listener',
    line: 'listener 8883 192.0.2.7',
    get: (c) => [L(c).port, L(c).bindAddress],
    want: [8883, '192.0.2.7'],
  },
  {
    option: 'port',
    line: 'port 1884',
    get: (c) => [L(c).port, L(c).origin],
    want: [1884, 'default'],
  },
  {
    option: 'bind_address',
    line: 'bind_address 127.0.0.1',
    get: (c) => [L(c).port, L(c).bindAddress],
    want: [1883, '127.0.0.1'],
  },
  {
    option: 'bind_interface',
    line: 'bind_interface eth0',
    before: LISTENER,
    get: (c) => L(c).bindInterface,
    want: 'eth0',
  },
  {
    option: 'socket_domain',
    line: 'socket_domain ipv6',
    before: LISTENER,
    get: (c) => L(c).socketDomain,
    want: 'ipv6',
  },
  {
    option: 'protocol',
    line: 'protocol websockets',
    before: LISTENER,
    get: (c) => L(c).protocol,
    want: 'websockets',
  },
  {
    option: 'mount_point',
    line: 'mount_point tenant/a/',
    before: LISTENER,
    get: (c) => L(c).mountPoint,
    want: 'tenant/a/',
  },
  {
    option: 'max_connections',
    line: 'max_connections 10',
    before: LISTENER,
    get: (c) => L(c).maxConnections,
    want: 10,
  },
  { option: 'max_qos', line: 'max_qos 1', before: LISTENER, get: (c) => L(c).maxQos, want: 1 },
  {
    option: 'maximum_qos',
    line: 'maximum_qos 0',
    before: LISTENER,
    get: (c) => L(c).maxQos,
    want: 0,
  },
  {
    option: 'max_topic_alias',
    line: 'max_topic_alias 0',
    before: LISTENER,
    get: (c) => L(c).maxTopicAlias,
    want: 0,
  },
  {
    option: 'use_username_as_clientid',
    line: 'use_username_as_clientid true',
    before: LISTENER,
    get: (c) => L(c).useUsernameAsClientid,
    want: true,
  },
  {
    option: 'http_dir',
    line: 'http_dir www',
    before: LISTENER,
    get: (c) => L(c).httpDir,
    want: '/srv/heron/www',
  },
  {
    option: 'psk_hint',
    line: 'psk_hint hello',
    before: LISTENER,
    get: (c) => L(c).pskHint,
    want: 'hello',
  },
  {
    option: 'proxy_protocol',
    line: 'proxy_protocol true',
    before: LISTENER,
    get: (c) => L(c).proxyProtocol,
    want: true,
  },
  {
    option: 'websockets_path',
    line: 'websockets_path /ws',
    before: LISTENER,
    get: (c) => L(c).websocketsPath,
    want: '/ws',
  },
  {
    option: 'websockets_strict_path',
    line: 'websockets_strict_path true',
    before: LISTENER,
    get: (c) => L(c).websocketsStrictPath,
    want: true,
  },
  // listener TLS (certfile + keyfile make the TLS block exist)
  ...(
    [
      ['cafile', 'cafile ca.pem', 'cafile', '/srv/heron/ca.pem'],
      ['capath', 'capath /etc/ssl/certs', 'capath', '/etc/ssl/certs'],
      ['crlfile', 'crlfile crl.pem', 'crlfile', '/srv/heron/crl.pem'],
      ['dhparamfile', 'dhparamfile dh.pem', 'dhparamfile', '/srv/heron/dh.pem'],
      ['ciphers', 'ciphers ECDHE-RSA-AES256-GCM-SHA384', 'ciphers', 'ECDHE-RSA-AES256-GCM-SHA384'],
      [
        'ciphers_tls1.3',
        'ciphers_tls1.3 TLS_AES_128_GCM_SHA256',
        'ciphersTls13',
        'TLS_AES_128_GCM_SHA256',
      ],
      ['tls_version', 'tls_version tlsv1.3', 'tlsVersion', 'tlsv1.3'],
      ['require_certificate', 'require_certificate true', 'requireCertificate', true],
      ['use_identity_as_username', 'use_identity_as_username true', 'useIdentityAsUsername', true],
      ['use_subject_as_username', 'use_subject_as_username true', 'useSubjectAsUsername', true],
      ['tls_keyform', 'tls_keyform engine', 'keyform', 'engine'],
      ['tls_engine', 'tls_engine pkcs11', 'engine', 'pkcs11'],
      [
        'tls_engine_kpass_sha1',
        `tls_engine_kpass_sha1 ${'ab'.repeat(20)}`,
        'engineKpassSha1',
        'ab'.repeat(20),
      ],
      ['certfile', 'certfile /c.pem', 'certfile', '/c.pem'],
      ['keyfile', 'keyfile /k.pem', 'keyfile', '/k.pem'],
    ] as const
  ).map(
    ([option, line, field, want]): Row => ({
      option,
      line,
      before: `${LISTENER}${option === 'certfile' ? '' : 'certfile /c.pem\n'}${option === 'keyfile' ? '' : 'keyfile /k.pem\n'}`,
      get: (c) => (L(c).tls as unknown as Record<string, unknown>)[field],
      want,
    }),
  ),
  // bridges
  {
    option: 'connection',
    line: 'connection upstream\naddress h\ntopic # both',
    get: (c) => B(c).name,
    want: 'upstream',
  },
  {
    option: 'address',
    line: 'connection x\naddress a.example:1884 [::1]:1885 c\ntopic t',
    get: (c) => B(c).addresses,
    want: [
      { host: 'a.example', port: 1884 },
      { host: '::1', port: 1885 },
      { host: 'c', port: 1883 },
    ],
  },
  {
    option: 'addresses',
    line: 'connection x\naddresses ::1:1886\ntopic t',
    get: (c) => B(c).addresses,
    want: [{ host: '::1', port: 1886 }],
  },
  {
    option: 'topic',
    line: 'topic a/# in 2 l/ r/',
    before: BRIDGE,
    get: (c) => B(c).topics[1],
    want: { pattern: 'a/#', direction: 'in', qos: 2, localPrefix: 'l/', remotePrefix: 'r/' },
  },
  ...(
    [
      ['remote_clientid', 'remote_clientid rc', 'clientId', 'rc'],
      ['clientid', 'clientid rc2', 'clientId', 'rc2'],
      ['remote_username', 'remote_username ru', 'username', 'ru'],
      ['username', 'username ru2', 'username', 'ru2'],
      ['remote_password', 'remote_password rp', 'password', 'rp'],
      ['password', 'password rp2', 'password', 'rp2'],
      ['local_clientid', 'local_clientid lc', 'localClientId', 'lc'],
      ['local_username', 'local_username lu', 'localUsername', 'lu'],
      ['local_password', 'local_password lp', 'localPassword', 'lp'],
      ['cleansession', 'cleansession true', 'cleanSession', true],
      ['local_cleansession', 'local_cleansession true', 'localCleanSession', true],
      ['keepalive_interval', 'keepalive_interval 120', 'keepalive', 120],
      ['bridge_protocol_version', 'bridge_protocol_version mqttv50', 'protocolVersion', 'mqttv50'],
      ['try_private', 'try_private false', 'tryPrivate', false],
      ['notifications', 'notifications false', 'notifications', false],
      ['notifications_local_only', 'notifications_local_only true', 'notificationsLocalOnly', true],
      ['notification_topic', 'notification_topic bridges/b1', 'notificationTopic', 'bridges/b1'],
      ['start_type', 'start_type lazy', 'startType', 'lazy'],
      ['restart_timeout', 'restart_timeout 20', 'restartTimeout', 20],
      ['round_robin', 'round_robin true', 'roundRobin', true],
      ['idle_timeout', 'idle_timeout 90', 'idleTimeout', 90],
      ['threshold', 'threshold 3', 'threshold', 3],
      [
        'bridge_attempt_unsubscribe',
        'bridge_attempt_unsubscribe false',
        'attemptUnsubscribe',
        false,
      ],
      ['bridge_outgoing_retain', 'bridge_outgoing_retain false', 'outgoingRetain', false],
      ['bridge_max_packet_size', 'bridge_max_packet_size 2048', 'maxPacketSize', 2048],
      ['bridge_bind_address', 'bridge_bind_address 192.0.2.9', 'bindAddress', '192.0.2.9'],
      ['bridge_identity', 'bridge_identity id\nbridge_psk 0a0b', 'pskIdentity', 'id'],
      ['bridge_psk', 'bridge_psk 0a0b\nbridge_identity id', 'psk', '0a0b'],
    ] as const
  ).map(
    ([option, line, field, want]): Row => ({
      option,
      line,
      before: BRIDGE,
      get: (c) => (B(c) as unknown as Record<string, unknown>)[field],
      want,
    }),
  ),
  ...(
    [
      ['bridge_cafile', 'bridge_cafile ca.pem', 'cafile', '/srv/heron/ca.pem'],
      ['bridge_capath', 'bridge_capath /etc/ssl/certs', 'capath', '/etc/ssl/certs'],
      ['bridge_certfile', 'bridge_certfile c.pem', 'certfile', '/srv/heron/c.pem'],
      ['bridge_keyfile', 'bridge_keyfile k.pem', 'keyfile', '/srv/heron/k.pem'],
      ['bridge_insecure', 'bridge_insecure true', 'insecure', true],
      ['bridge_tls_version', 'bridge_tls_version tlsv1.3', 'tlsVersion', 'tlsv1.3'],
      ['bridge_alpn', 'bridge_alpn mqtt', 'alpn', 'mqtt'],
      ['bridge_require_ocsp', 'bridge_require_ocsp true', 'requireOcsp', true],
    ] as const
  ).map(
    ([option, line, field, want]): Row => ({
      option,
      line,
      before: `${BRIDGE}${option === 'bridge_cafile' ? '' : 'bridge_cafile /ca.pem\n'}`,
      get: (c) => (B(c).tls as unknown as Record<string, unknown>)[field],
      want,
    }),
  ),
  // Heron extensions
  {
    option: 'persistence_backend',
    line: 'persistence true\npersistence_backend memory',
    get: (c) => c.persistenceBackend,
    want: 'memory',
  },
  {
    option: 'persistence_sync',
    line: 'persistence_sync none',
    get: (c) => c.persistenceSync,
    want: 'none',
  },
  {
    option: 'persistence_sync_interval',
    line: 'persistence_sync_interval 50',
    get: (c) => c.persistenceSyncInterval,
    want: 50,
  },
  { option: 'connect_timeout', line: 'connect_timeout 30', get: (c) => c.connectTimeout, want: 30 },
  {
    option: 'shared_subscription_strategy',
    line: 'shared_subscription_strategy sticky',
    get: (c) => c.sharedSubscriptionStrategy,
    want: 'sticky',
  },
  {
    option: 'max_queued_drop',
    line: 'max_queued_drop oldest',
    get: (c) => c.maxQueuedDrop,
    want: 'oldest',
  },
  {
    option: 'max_subscriptions_per_client',
    line: 'max_subscriptions_per_client 100',
    get: (c) => c.maxSubscriptionsPerClient,
    want: 100,
  },
  {
    option: 'overlap_delivery',
    line: 'overlap_delivery one-copy',
    get: (c) => c.overlapDelivery,
    want: 'one-copy',
  },
  {
    option: 'qos2_order',
    line: 'qos2_order deliver-first',
    get: (c) => c.qos2Order,
    want: 'deliver-first',
  },
  {
    option: 'max_topic_levels',
    line: 'max_topic_levels 16',
    get: (c) => c.maxTopicLevels,
    want: 16,
  },
  {
    option: 'publish_rate_limit',
    line: 'publish_rate_limit 100',
    get: (c) => c.publishRateLimit,
    want: 100,
  },
  {
    option: 'publish_byte_rate_limit',
    line: 'publish_byte_rate_limit 65536',
    get: (c) => c.publishByteRateLimit,
    want: 65536,
  },
  {
    option: 'connection_rate_limit',
    line: 'connection_rate_limit 20',
    get: (c) => c.connectionRateLimit,
    want: 20,
  },
  {
    option: 'max_pending_bytes',
    line: 'max_pending_bytes 1048576',
    get: (c) => c.maxPendingBytes,
    want: 1048576,
  },
  {
    option: 'backpressure',
    line: 'backpressure false',
    get: (c) => c.backpressure,
    want: false,
  },
  {
    option: 'slow_consumer_timeout',
    line: 'slow_consumer_timeout 3',
    get: (c) => c.slowConsumerTimeout,
    want: 3,
  },
  {
    option: 'max_incomplete_packet_bytes',
    line: 'max_incomplete_packet_bytes 1048576',
    get: (c) => c.maxIncompletePacketBytes,
    want: 1048576,
  },
  {
    option: 'server_reference',
    line: 'server_reference other.example:1883',
    get: (c) => c.serverReference,
    want: 'other.example:1883',
  },
  {
    option: 'server_redirect',
    line: 'server_reference o\nserver_redirect server_moved',
    get: (c) => c.serverRedirect,
    want: 'server_moved',
  },
  { option: 'sys_topics', line: 'sys_topics false', get: (c) => c.sysTopics, want: false },
  { option: 'receive_maximum', line: 'receive_maximum 20', get: (c) => c.receiveMaximum, want: 20 },
  {
    option: 'subscribe_denied_reason_code',
    line: 'subscribe_denied_reason_code 0x80',
    get: (c) => c.subscribeDeniedReasonCode,
    want: 0x80,
  },
  {
    option: 'acl_subscribe',
    line: 'acl_subscribe strict',
    get: (c) => c.aclSubscribe,
    want: 'strict',
  },
  {
    option: 'auth_order',
    line: 'auth_order hooks_first',
    get: (c) => c.authOrder,
    want: 'hooks_first',
  },
  {
    option: 'admin_listener',
    line: 'admin_listener 8080 0.0.0.0',
    get: (c) => c.admin,
    want: { port: 8080, bindAddress: '0.0.0.0' },
  },
  {
    option: 'http_api_port',
    line: 'http_api_port 8081',
    get: (c) => c.admin,
    want: { port: 8081, bindAddress: '127.0.0.1' },
  },
  {
    option: 'admin_token',
    line: 'admin_token t0k\nadmin_listener 8080',
    get: (c) => c.admin,
    want: { port: 8080, bindAddress: '127.0.0.1', token: 't0k' },
  },
  {
    option: 'admin_users_file',
    line: 'admin_listener 8080\nadmin_users_file conf/admin-users',
    get: (c) => c.admin?.usersFile,
    want: '/srv/heron/conf/admin-users',
  },
  {
    option: 'admin_latency_probe',
    line: 'admin_latency_probe mqtt://probe:pw@127.0.0.1:1883 2\nadmin_listener 8080',
    get: (c) => c.admin?.latencyProbe,
    want: { url: 'mqtt://probe:pw@127.0.0.1:1883', intervalSeconds: 2 },
  },
  {
    option: 'cluster_redis_url',
    line: 'cluster_redis_url redis://127.0.0.1:6379',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://127.0.0.1:6379' },
  },
  {
    option: 'cluster_node_id',
    line: 'cluster_node_id n1\ncluster_redis_url redis://r',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', nodeId: 'n1' },
  },
  {
    option: 'cluster_key_prefix',
    line: 'cluster_redis_url redis://r\ncluster_key_prefix p:',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', keyPrefix: 'p:' },
  },
  {
    option: 'cluster_node_ttl',
    line: 'cluster_redis_url redis://r\ncluster_node_ttl 3000',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', nodeTtl: 3000 },
  },
  {
    option: 'cluster_handover_timeout',
    line: 'cluster_redis_url redis://r\ncluster_handover_timeout 1500',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', handoverTimeout: 1500 },
  },
  {
    option: 'cluster_max_outbox',
    line: 'cluster_redis_url redis://r\ncluster_max_outbox 10',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', maxOutbox: 10 },
  },
  {
    option: 'cluster_link_advertise',
    line: 'cluster_redis_url redis://r\ncluster_link_advertise n1.example',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', advertiseHost: 'n1.example' },
  },
  {
    option: 'cluster_redis_sentinel_name',
    line: 'cluster_redis_url redis://r\ncluster_redis_sentinel_name m',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', sentinelName: 'm' },
  },
  {
    option: 'cluster_redis_sentinel',
    line: 'cluster_redis_url redis://r\ncluster_redis_sentinel s1:26379\ncluster_redis_sentinel s2:26379',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', redisSentinels: ['s1:26379', 's2:26379'] },
  },
  {
    option: 'cluster_redis_cluster',
    line: 'cluster_redis_url redis://r\ncluster_redis_cluster 10.0.0.1:7000\ncluster_redis_cluster 10.0.0.2:7000',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', redisClusterNodes: ['10.0.0.1:7000', '10.0.0.2:7000'] },
  },
  {
    option: 'cluster_link_listener',
    line: 'cluster_redis_url redis://r\ncluster_link_listener 7946 127.0.0.1',
    get: (c) => c.cluster,
    want: { redisUrl: 'redis://r', linkPort: 7946, linkHost: '127.0.0.1' },
  },
];

describe('every option', () => {
  test('the table covers every option Heron knows', () => {
    const covered = new Set(rows.map((r) => r.option));
    const missing = [...OPTIONS.keys()].filter((o) => !covered.has(o));
    assert.deepEqual(missing, []);
  });

  for (const r of rows) {
    if (r.line === '') continue;
    test(`${r.option} is read into its field`, () => {
      const c = parseConfigText(`${r.before ?? ''}${r.line}\n`, 'test.conf', { cwd: CWD });
      assert.deepEqual(r.get(c), r.want);
    });
  }
});

describe('defaults match Mosquitto', () => {
  test('an empty file gives Mosquitto 2 defaults', () => {
    const c = parseConfigText('', 'empty.conf');
    assert.equal(c.maxInflightMessages, 20);
    assert.equal(c.maxQueuedMessages, 1000);
    assert.equal(c.maxKeepalive, 65535);
    assert.equal(c.sysInterval, 10);
    assert.equal(c.persistence, false);
    assert.equal(c.persistenceBackend, 'memory');
    assert.equal(c.persistenceFile, 'mosquitto.db');
    assert.equal(c.autosaveInterval, 1800);
    assert.equal(c.security.allowZeroLengthClientid, true);
    assert.equal(c.security.autoIdPrefix, 'auto-');
    assert.deepEqual(c.log.dest, ['stderr']);
    assert.deepEqual(c.log.types, ['error', 'warning', 'notice', 'information']);
    assert.equal(c.user, 'mosquitto');
    assert.deepEqual(c.warnings, []);
  });

  test('a listener has Mosquitto per-listener defaults and Heron websockets_path /mqtt', () => {
    const l = parseConfigText('listener 1883\n', 't.conf').listeners[0]!;
    assert.equal(l.maxConnections, -1);
    assert.equal(l.maxQos, 2);
    assert.equal(l.maxTopicAlias, 10);
    assert.equal(l.protocol, 'mqtt');
    assert.equal(l.websocketsPath, '/mqtt');
    assert.equal(l.tls, undefined);
  });

  test('a bridge has Mosquitto defaults, derived client ids and notification topic', () => {
    const b = parseConfigText(`${BRIDGE}remote_clientid edge1\n`, 't.conf').bridges[0]!;
    assert.equal(b.localClientId, 'local.edge1');
    assert.equal(b.notificationTopic, '$SYS/broker/connection/edge1/state');
    assert.equal(b.keepalive, 60);
    assert.equal(b.protocolVersion, 'mqttv311');
    assert.equal(b.cleanSession, false);
    assert.equal(b.localCleanSession, false);
    assert.equal(b.startType, 'automatic');
    assert.deepEqual([b.restartTimeout, b.backoffBase, b.backoffCap], [0, 5, 30]);
    assert.deepEqual(b.topics, [{ pattern: 't/#', direction: 'out', qos: 0 }]);
  });

  test('persistence true selects the lmdb backend unless persistence_backend says otherwise', () => {
    assert.equal(parseConfigText('persistence true\n', 't.conf').persistenceBackend, 'lmdb');
  });
});
