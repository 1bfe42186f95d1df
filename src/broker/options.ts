import type { Logger } from 'pino';
import type { AclFile, AclSubscribeMode } from '../auth/acl.js';
import type { PasswordFile } from '../auth/password-file.js';
import type { ClusterOptions } from '../cluster/options.js';
import type { QoS } from '../protocol/constants.js';
import type { Subscription } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type { PersistenceOptions } from '../store/store.js';
import type { ConnectionInfo } from '../transport/connection-info.js';
import type { TransportListenerOptions } from '../transport/listener-options.js';
import { VERSION } from '../version.js';
import type { ClientInfo } from './client-info.js';
import type { AuthMethod } from './enhanced-auth.js';
import type { RedirectOptions } from './redirect.js';

// Hooks are typed here, so their argument type is importable from here too.
export type { ClientInfo } from './client-info.js';

/** Credentials and connection facts handed to the `authenticate` hook. */
export interface AuthenticateRequest extends ClientInfo {
  readonly password: Buffer | undefined;
  /** CONNECT properties (v5), for custom checks. */
  readonly properties: Properties | undefined;
}

/**
 * Result of an authentication hook: `true` accepts, `false` refuses with
 * "bad user name or password" (v3 0x04 / v5 0x86), a number refuses with that
 * v5 reason code (mapped for v3 clients), and `undefined` defers to the next
 * authenticator (the password file), or accepts when there is none.
 */
export type AuthResult = boolean | number | undefined;

/** Asynchronous (or synchronous) hooks an embedding application can set. */
export interface BrokerHooks {
  /** Decides whether a client may connect. */
  authenticate?(req: AuthenticateRequest): AuthResult | Promise<AuthResult>;
  /** Decides whether a client may publish to a topic. Return false (or a v5 reason code) to refuse. */
  authorizePublish?(
    client: ClientInfo,
    topic: string,
    qos: QoS,
    retain: boolean,
  ): boolean | number | undefined | Promise<boolean | number | undefined>;
  /**
   * Decides whether a client may subscribe. Return false to refuse (0x80 / 0x87),
   * a QoS to grant at most that QoS, a v5 reason code >= 0x80 to refuse with it,
   * or true/undefined to allow as asked.
   */
  authorizeSubscribe?(
    client: ClientInfo,
    subscription: Subscription,
  ): boolean | number | undefined | Promise<boolean | number | undefined>;
  /**
   * Synchronous check on delivery: may this client read a message on this topic?
   * Runs on the routing hot path, so it must not do I/O; return false to skip,
   * undefined to leave the decision to the ACL file.
   */
  authorizeRead?(client: ClientInfo, topic: string): boolean | undefined;
}

/**
 * Security of one listener (Mosquitto's per_listener_settings): each field given
 * replaces the broker-level option of the same name for clients that connect
 * on that listener; fields left out take the broker-level value. Hooks stay
 * broker-wide.
 */
export interface ListenerSecurityOptions {
  /** Whether clients without a user name may connect on this listener. */
  allowAnonymous?: boolean;
  /** This listener's password file (path, loaded by listen()/reloadSecurity(), or loaded object); null: none here. */
  passwordFile?: string | PasswordFile | null;
  /** This listener's ACL file (path, loaded by listen()/reloadSecurity(), or loaded object); null: none here. */
  aclFile?: string | AclFile | null;
  /** Accept an empty client id on this listener (an id is assigned). */
  allowZeroLengthClientId?: boolean;
  /** Prefix for client ids assigned on this listener. */
  autoIdPrefix?: string;
}

/** One network listener of an embedded broker (its `security` block is the broker's kind). */
export type ListenerOptions = TransportListenerOptions<ListenerSecurityOptions>;

/** Connection facts for `broker.handleConnection()`, with a listener security block of the broker's kind. */
export type BrokerConnectionInfo = ConnectionInfo<ListenerSecurityOptions>;

/** Options of `createBroker()`. Every field has a Mosquitto-compatible default. */
export interface BrokerOptions {
  /** Listeners opened by `listen()`. Default: none (call `handleConnection` yourself or add one). */
  listeners?: ListenerOptions[];
  /** Hooks for authentication and authorization. */
  hooks?: BrokerHooks;
  /** A pino logger; default silent. */
  logger?: Logger;
  /** Whether clients without a user name may connect (default true for embedded use). */
  allowAnonymous?: boolean;
  /** Accept an empty client id with clean session (an id is assigned). Default true. */
  allowZeroLengthClientId?: boolean;
  /** Prefix for assigned client ids. Default "auto-". */
  autoIdPrefix?: string;
  /** Seconds a new socket may take to send CONNECT. Default 10. */
  connectTimeout?: number;
  /** Outgoing QoS 1/2 messages unacknowledged at once per client; 0 = 65535. Default 20. */
  maxInflightMessages?: number;
  /** Offline/overflow queue bound per session, in messages (0 = unlimited). Default 1000. */
  maxQueuedMessages?: number;
  /** Offline/overflow queue bound per session, in payload bytes (0 = unlimited). Default 0. */
  maxQueuedBytes?: number;
  /** Which message a full queue drops: the new one (Mosquitto) or the oldest queued. */
  maxQueuedDrop?: 'newest' | 'oldest';
  /** Also queue QoS 0 messages for offline persistent sessions. Default false. */
  queueQos0Messages?: boolean;
  /**
   * A QoS 1/2 message for an online client whose queue is full: true stops reading
   * the publisher until the queue drains (nothing acknowledged is dropped); false
   * drops it at once, as Mosquitto does. Default true.
   */
  backpressure?: boolean;
  /**
   * Seconds an online client with a full queue may go without acknowledging
   * anything before it counts as a slow consumer: its publishers resume and its
   * full queue drops again. 0 = never. Default 5.
   */
  slowConsumerTimeout?: number;
  /** Largest PUBLISH payload accepted (0 = no limit besides the packet size). */
  messageSizeLimit?: number;
  /** Largest packet accepted from clients, in bytes. Default 268435460 (the protocol maximum). */
  maxPacketSize?: number;
  /** Largest keep alive accepted (v5 Server Keep Alive; v3 clients above it are refused). 0/65535 = no limit. */
  maxKeepalive?: number;
  /** Highest QoS supported (v5 Maximum QoS). Default 2. */
  maxQos?: QoS;
  /** Whether retained messages are supported. Default true. */
  retainAvailable?: boolean;
  /** Seconds between $SYS updates; 0 disables $SYS. Default 10. */
  sysInterval?: number;
  /** Expiry, in seconds, of persistent v3 sessions (0 = never). Default 0. */
  persistentClientExpiration?: number;
  /** Unsent bytes a connection may hold before its QoS 0 messages wait in its session queue. Default 128 KiB. */
  maxPendingBytes?: number;
  /** Bytes all connections together may hold in incomplete packets; past it the largest holders are closed (0 = no budget). Default 256 MiB. */
  maxIncompletePacketBytes?: number;
  /** Subscriptions one client may hold (0 = unlimited). */
  maxSubscriptionsPerClient?: number;
  /**
   * When an incoming QoS 2 message goes on to subscribers: `pubrec-first` (the
   * default, as Mosquitto: PUBREC at once, delivery at PUBREL, the message held
   * meanwhile) or `deliver-first` (delivered on PUBLISH, only the packet id held
   * until PUBREL). A cluster always uses `deliver-first`: a session that moves
   * to another node takes its packet ids along, not held messages.
   * See docs/persistence.md for how each meets the store's exactly-once guarantee.
   */
  qos2Order?: 'pubrec-first' | 'deliver-first';
  /**
   * What a v5 client with several subscriptions matching one message gets:
   * `per-subscription` (the default, as Mosquitto: one PUBLISH per subscription,
   * each with its QoS and Subscription Identifier; Node-RED relies on it) or
   * `one-copy` (one PUBLISH at the highest QoS carrying every identifier, what
   * the Eclipse Paho test suite expects). 3.1/3.1.1 clients always get one copy.
   */
  overlapDelivery?: 'per-subscription' | 'one-copy';
  /** Topic levels allowed in names and filters. Default 201, Mosquitto's limit of 200 separators. */
  maxTopicLevels?: number;
  /** v5 Receive Maximum the broker advertises (incoming QoS 1/2 in flight). Default 65535. */
  receiveMaximum?: number;
  /** v5 Topic Alias Maximum the broker accepts from clients. Default 10. */
  maxTopicAlias?: number;
  /** Shared subscription distribution strategy. Default round_robin. */
  sharedSubscriptionStrategy?: 'round_robin' | 'random' | 'sticky' | 'hash_clientid' | 'hash_topic';
  /** Version published on $SYS/broker/version as "heron version X". Default: Heron's package version. */
  version?: string;
  /** Log each client connect and disconnect (connection_messages). Default true. */
  connectionMessages?: boolean;
  /** New connections per second accepted from one source address (0 = unlimited). */
  connectionRateLimit?: number;
  /** password_file: a Mosquitto password file (path, loaded by listen()/reloadSecurity(), or loaded object). */
  passwordFile?: string | PasswordFile;
  /** acl_file: a Mosquitto ACL file (path, loaded by listen()/reloadSecurity(), or loaded object). */
  aclFile?: string | AclFile;
  /** How an aclFile given as a path judges SUBSCRIBE filters (acl_subscribe_mode). Default 'mosquitto'. */
  aclSubscribeMode?: AclSubscribeMode;
  /** auth_order: whether hooks or the password/ACL files answer first (first decisive answer wins). Default 'hooks_first'. */
  authOrder?: 'hooks_first' | 'files_first';
  /** publish_rate_limit: PUBLISH packets per second one client may send (0 = unlimited). */
  publishRateLimit?: number;
  /** publish_byte_rate_limit: PUBLISH payload bytes per second one client may send (0 = unlimited). */
  publishByteRateLimit?: number;
  /** Durable storage of sessions and messages (default: none, everything in memory). */
  persistence?: PersistenceOptions;
  /** v5 Response Information sent to clients that ask for it (Request Response Information 1). */
  responseInformation?: string;
  /** Whether wildcard subscriptions are allowed (else SUBACK 0xA2). Default true. */
  wildcardSubscriptionAvailable?: boolean;
  /** Whether v5 subscription identifiers are allowed (else SUBACK 0xA1). Default true. */
  subscriptionIdentifiersAvailable?: boolean;
  /** Whether `$share/` subscriptions are allowed (else SUBACK 0x9E). Default true. */
  sharedSubscriptionAvailable?: boolean;
  /** SUBACK code for a subscription the authorizer refuses (v5; v3 always gets 0x80). Default 0x87. */
  subscribeDeniedReasonCode?: number;
  /** Send every client to another server (CONNACK 0x9C / 0x9D with Server Reference). */
  redirect?: RedirectOptions;
  /** v5 enhanced authentication methods by name (see enhanced-auth.ts), e.g. { 'SCRAM-SHA-256': scramSha256(...) }. */
  authMethods?: Record<string, AuthMethod>;
  /** Join a Redis-backed cluster of Heron nodes (default: a single node). See docs/cluster.md. */
  cluster?: ClusterOptions;
}

/** BrokerOptions with every default filled in. */
export type ResolvedBrokerOptions = Required<
  Omit<
    BrokerOptions,
    | 'hooks'
    | 'logger'
    | 'listeners'
    | 'persistence'
    | 'passwordFile'
    | 'aclFile'
    | 'responseInformation'
    | 'redirect'
    | 'authMethods'
    | 'cluster'
  >
> & {
  persistence: PersistenceOptions | undefined;
  cluster: ClusterOptions | undefined;
  hooks: BrokerHooks;
  logger: Logger | undefined;
  listeners: ListenerOptions[];
  passwordFile: string | PasswordFile | undefined;
  aclFile: string | AclFile | undefined;
  responseInformation: string | undefined;
  redirect: RedirectOptions | undefined;
  authMethods: Record<string, AuthMethod>;
};

/** Fills in defaults for every broker option. */
export function resolveBrokerOptions(o: BrokerOptions = {}): ResolvedBrokerOptions {
  return {
    listeners: o.listeners ?? [],
    hooks: o.hooks ?? {},
    logger: o.logger,
    persistence: o.persistence,
    cluster: o.cluster,
    allowAnonymous: o.allowAnonymous ?? true,
    allowZeroLengthClientId: o.allowZeroLengthClientId ?? true,
    autoIdPrefix: o.autoIdPrefix ?? 'auto-',
    connectTimeout: o.connectTimeout ?? 10,
    maxInflightMessages: o.maxInflightMessages ?? 20,
    maxQueuedMessages: o.maxQueuedMessages ?? 1000,
    maxQueuedBytes: o.maxQueuedBytes ?? 0,
    maxQueuedDrop: o.maxQueuedDrop ?? 'newest',
    queueQos0Messages: o.queueQos0Messages ?? false,
    backpressure: o.backpressure ?? true,
    slowConsumerTimeout: o.slowConsumerTimeout ?? 5,
    messageSizeLimit: o.messageSizeLimit ?? 0,
    maxPacketSize: o.maxPacketSize ?? 268_435_460,
    maxKeepalive: o.maxKeepalive ?? 65535,
    maxQos: o.maxQos ?? 2,
    retainAvailable: o.retainAvailable ?? true,
    sysInterval: o.sysInterval ?? 10,
    persistentClientExpiration: o.persistentClientExpiration ?? 0,
    maxPendingBytes: o.maxPendingBytes ?? 128 * 1024,
    maxIncompletePacketBytes: o.maxIncompletePacketBytes ?? 256 * 1024 * 1024,
    maxSubscriptionsPerClient: o.maxSubscriptionsPerClient ?? 0,
    maxTopicLevels: o.maxTopicLevels ?? 201,
    overlapDelivery: o.overlapDelivery ?? 'per-subscription',
    qos2Order: o.cluster !== undefined ? 'deliver-first' : (o.qos2Order ?? 'pubrec-first'),
    receiveMaximum: o.receiveMaximum ?? 65535,
    maxTopicAlias: o.maxTopicAlias ?? 10,
    sharedSubscriptionStrategy: o.sharedSubscriptionStrategy ?? 'round_robin',
    version: o.version ?? VERSION,
    connectionRateLimit: o.connectionRateLimit ?? 0,
    connectionMessages: o.connectionMessages ?? true,
    passwordFile: o.passwordFile,
    aclFile: o.aclFile,
    aclSubscribeMode: o.aclSubscribeMode ?? 'mosquitto',
    authOrder: o.authOrder ?? 'hooks_first',
    publishRateLimit: o.publishRateLimit ?? 0,
    publishByteRateLimit: o.publishByteRateLimit ?? 0,
    responseInformation: o.responseInformation,
    wildcardSubscriptionAvailable: o.wildcardSubscriptionAvailable ?? true,
    subscriptionIdentifiersAvailable: o.subscriptionIdentifiersAvailable ?? true,
    sharedSubscriptionAvailable: o.sharedSubscriptionAvailable ?? true,
    subscribeDeniedReasonCode: o.subscribeDeniedReasonCode ?? 0x87,
    redirect: o.redirect,
    authMethods: o.authMethods ?? {},
  };
}

/** v5 CONNACK properties describing a broker's limits (a fresh object per CONNACK). */
export function connackProperties(o: ResolvedBrokerOptions): Properties {
  const props: Properties = {};
  if (o.receiveMaximum < 65535) props.receiveMaximum = o.receiveMaximum;
  if (o.maxPacketSize < 268_435_460) props.maximumPacketSize = o.maxPacketSize;
  props.topicAliasMaximum = o.maxTopicAlias;
  if (o.maxQos < 2) props.maximumQoS = o.maxQos;
  if (!o.retainAvailable) props.retainAvailable = 0;
  if (!o.wildcardSubscriptionAvailable) props.wildcardSubscriptionAvailable = 0;
  if (!o.subscriptionIdentifiersAvailable) props.subscriptionIdentifiersAvailable = 0;
  if (!o.sharedSubscriptionAvailable) props.sharedSubscriptionAvailable = 0;
  return props;
}
