import type {
  BridgeConfig,
  HeronConfig,
  ListenerConfig,
  LogType,
  SecurityConfig,
  SourceLocation,
} from './types.js';

/** The log types Mosquitto enables when log_type is never given. */
const DEFAULT_LOG_TYPES: readonly LogType[] = ['error', 'warning', 'notice', 'information'];

/** Every log type, what `log_type all` and `-v` select. */
export const ALL_LOG_TYPES: readonly LogType[] = [
  'error',
  'warning',
  'notice',
  'information',
  'subscribe',
  'unsubscribe',
  'websockets',
  'debug',
  'internal',
];

/** The port Mosquitto listens on when nothing says otherwise. */
const DEFAULT_PORT = 1883;

/** Fresh security settings with Mosquitto's defaults (anonymous resolved later). */
export function defaultSecurity(): SecurityConfig {
  return {
    allowAnonymous: false,
    allowAnonymousExplicit: false,
    allowZeroLengthClientid: true,
    autoIdPrefix: 'auto-',
    plugins: [],
  };
}

/** A listener with Mosquitto's per-listener defaults. */
export function defaultListener(port: number, origin: ListenerConfig['origin']): ListenerConfig {
  return {
    port,
    protocol: 'mqtt',
    maxConnections: -1,
    maxQos: 2,
    maxTopicAlias: 10,
    useUsernameAsClientid: false,
    proxyProtocol: false,
    websocketsPath: '/mqtt',
    websocketsStrictPath: false,
    origin,
    optional: false,
  };
}

/** A bridge with Mosquitto's defaults; client ids are filled in when the file is finished. */
export function defaultBridge(name: string, source: SourceLocation): BridgeConfig {
  return {
    name,
    addresses: [],
    roundRobin: false,
    topics: [],
    clientId: '',
    localClientId: '',
    cleanSession: false,
    localCleanSession: false,
    keepalive: 60,
    protocolVersion: 'mqttv311',
    tryPrivate: true,
    notifications: true,
    notificationsLocalOnly: false,
    notificationTopic: '',
    startType: 'automatic',
    restartTimeout: 0,
    backoffBase: 5,
    backoffCap: 30,
    idleTimeout: 60,
    threshold: 10,
    attemptUnsubscribe: true,
    outgoingRetain: true,
    maxPacketSize: 0,
    source,
  };
}

/** The two loopback listeners of Mosquitto 2's local-only mode for one port. */
export function localOnlyListeners(port: number): ListenerConfig[] {
  const v4 = defaultListener(port, 'local-only');
  v4.bindAddress = '127.0.0.1';
  const v6 = defaultListener(port, 'local-only');
  v6.bindAddress = '::1';
  // Mosquitto carries on when only one of the two can be opened (no IPv6).
  v4.optional = true;
  v6.optional = true;
  return [v4, v6];
}

/**
 * The configuration with no file at all: Mosquitto 2's defaults, loopback-only
 * listeners on 1883 and anonymous clients allowed.
 */
export function defaultConfig(): HeronConfig {
  const security = defaultSecurity();
  security.allowAnonymous = true;
  return {
    perListenerSettings: false,
    security,
    authOrder: 'hooks_first',
    aclSubscribe: 'mosquitto',
    receiveMaximum: 65535,
    qos2Order: 'pubrec-first',
    overlapDelivery: 'per-subscription',
    subscribeDeniedReasonCode: 0x87,
    checkRetainSource: true,
    allowDuplicateMessages: true,
    connectTimeout: 10,
    persistence: false,
    persistenceFile: 'mosquitto.db',
    persistenceBackend: 'memory',
    persistenceSync: 'commit',
    persistenceSyncInterval: 10,
    autosaveInterval: 1800,
    autosaveOnChanges: false,
    persistentClientExpiration: 0,
    maxInflightMessages: 20,
    maxInflightBytes: 0,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 0,
    maxQueuedDrop: 'newest',
    queueQos0Messages: false,
    backpressure: true,
    slowConsumerTimeout: 5,
    messageSizeLimit: 0,
    maxPacketSize: 0,
    maxKeepalive: 65535,
    retainAvailable: true,
    upgradeOutgoingQos: false,
    setTcpNodelay: false,
    memoryLimit: 0,
    maxSubscriptionsPerClient: 0,
    // Mosquitto's limit: 200 '/' separators, so 201 levels pass (checked against mosquitto 2.0.11).
    maxTopicLevels: 201,
    publishRateLimit: 0,
    publishByteRateLimit: 0,
    connectionRateLimit: 0,
    maxPendingBytes: 128 * 1024,
    maxIncompletePacketBytes: 256 * 1024 * 1024,
    sharedSubscriptionStrategy: 'round_robin',
    serverRedirect: 'off',
    sysInterval: 10,
    sysTopics: true,
    log: {
      dest: ['stderr'],
      types: [...DEFAULT_LOG_TYPES],
      timestamp: true,
      connectionMessages: true,
      format: 'text',
    },
    user: 'mosquitto',
    userExplicit: false,
    daemon: false,
    verbose: false,
    websocketsLogLevel: 0,
    websocketsHeadersSize: 0,
    listeners: localOnlyListeners(DEFAULT_PORT),
    bridges: [],
    localOnly: true,
    warnings: [],
    sources: [],
  };
}
