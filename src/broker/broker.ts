import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { Cluster } from '../cluster/cluster.js';
import { PacketType, type QoS, ReasonCode } from '../protocol/constants.js';
import { ProtocolError } from '../protocol/errors.js';
import { forwardableProperties } from '../protocol/hop-properties.js';
import type {
  ConnectPacket,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  Subscription,
  Will,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import { parseSharedSubscription } from '../protocol/topic.js';
import { Persistence } from '../store/persistence.js';
import { restoreState } from '../store/restore.js';
import { type Listener, openListener } from '../transport/listener.js';
import type { AccessControl, PublishVerdict } from './access-control.js';
import { AccessControls } from './access-controls.js';
import { Channel, type ConnectionInfo } from './channel.js';
import { Message } from './message.js';
import {
  type BrokerOptions,
  type ClientInfo,
  type ResolvedBrokerOptions,
  resolveBrokerOptions,
} from './options.js';
import { RetainedIndex } from './retained-index.js';
import {
  type DeliverySink,
  DropReason,
  SESSION_NEVER_EXPIRES,
  Session,
  type SessionLimits,
  type SubscriptionRecord,
} from './session.js';
import { SharedGroup } from './shared-group.js';
import { BrokerStats } from './stats.js';
import { SysTopics } from './sys.js';
import { TopicTrie } from './topic-trie.js';

/** An entry of the subscription index: one client's subscription, or a shared group. */
type RouteEntry = SubscriptionRecord | SharedGroup<SubscriptionRecord>;

/** A message as seen by the embedding API (events and `publish()`). */
export interface PublishedMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: Properties | undefined;
}

/** Typed events of a Broker. */
export interface BrokerEvents {
  /** A client completed CONNECT (CONNACK 0 sent). */
  clientConnected: (client: ClientInfo, sessionPresent: boolean) => void;
  /** A connected client went away; `reason` says why. */
  clientDisconnected: (client: ClientInfo, reason: string) => void;
  /** A client subscribed; `granted` holds the SUBACK codes. */
  subscribe: (client: ClientInfo, subscriptions: Subscription[], granted: number[]) => void;
  /** A client unsubscribed. */
  unsubscribe: (client: ClientInfo, filters: string[]) => void;
  /** A message was accepted for routing (client is undefined for broker-originated messages). */
  publish: (message: PublishedMessage, client: ClientInfo | undefined) => void;
  /** The broker started listening. */
  listening: (addresses: ListenerAddress[]) => void;
}

/** Where a listener ended up bound. */
export interface ListenerAddress {
  name: string;
  protocol: string;
  host: string;
  port: number;
}

/**
 * A filter as a session keys it on a listener with a mount point: the prefix
 * goes in front of the topic filter, inside a `$share/group/` when shared.
 */
function mountedFilter(
  mountPoint: string,
  shared: { group: string; filter: string } | undefined,
  filter: string,
): string {
  return shared !== undefined
    ? `$share/${shared.group}/${mountPoint}${shared.filter}`
    : mountPoint + filter;
}

function isOnlineMember(m: SubscriptionRecord): boolean {
  return m.session.channel !== undefined;
}

/**
 * The broker: wires sessions, the router, retained messages, wills and $SYS,
 * and is the public embedding API. Create one with {@link createBroker}.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed EventEmitter overloads are declared in the merged interface below.
export class Broker extends EventEmitter {
  /** Options with defaults applied. */
  readonly options: ResolvedBrokerOptions;
  /** Counters behind $SYS and metrics. */
  readonly stats = new BrokerStats();
  log: Logger | undefined;
  /** Whether every packet is logged (debug level, `-v`): checked before building any log text. */
  packetLog = false;
  /** Sessions by client id, online and offline. */
  readonly sessions = new Map<string, Session>();
  /** Open connections, including those not yet past CONNECT. */
  readonly channels = new Set<Channel>();
  /** Subscription index. */
  readonly router = new TopicTrie<RouteEntry>();
  /** Retained messages by topic. */
  readonly retained = new RetainedIndex<Message>();
  /** Authentication and authorization chain of the broker-level settings: hooks, password file, ACL file. */
  readonly access: AccessControl;
  /** That chain and one per listener with its own `security` block. */
  readonly accessControls: AccessControls;
  /** Response Information returned to v5 clients that request it. */
  responseInformation: string | undefined;
  /** Durable storage, when the `persistence` option is set. */
  readonly persistence: Persistence | undefined;
  /** Membership in a Redis cluster, when the `cluster` option is set. */
  readonly cluster: Cluster | undefined;
  /** Next message id; restored from the store so ids stay unique across restarts. */
  nextMessageId = 1;
  /** Ids below this are reserved in the store; crossing it reserves the next block. */
  messageIdLimit = Number.POSITIVE_INFINITY;
  private readying: Promise<void> | undefined;
  private readonly openListeners: Listener[] = [];
  private readonly sys: SysTopics;
  private sweeper: NodeJS.Timeout | undefined;
  private routeStamp = 0;
  private readonly matchScratch: RouteEntry[] = [];
  private readonly targetScratch: Session[] = [];
  private closing = false;
  /** Deliveries of the last `route()` that a full queue refused (for PUBACK 0x97). */
  lastRouteQueueFull = 0;
  private rateSecond = 0;
  private readonly rateCounts = new Map<string, number>();

  constructor(options: BrokerOptions = {}) {
    super();
    this.options = resolveBrokerOptions(options);
    this.setLogger(this.options.logger);
    this.responseInformation = this.options.responseInformation;
    this.accessControls = new AccessControls(this.options);
    this.access = this.accessControls.global;
    const po = options.persistence;
    this.persistence = po !== undefined ? new Persistence(po, this.log) : undefined;
    this.cluster = options.cluster !== undefined ? new Cluster(this, options.cluster) : undefined;
    this.sys = new SysTopics(this);
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** Replaces the logger (SIGHUP re-reads logging settings). */
  setLogger(log: Logger | undefined): void {
    // A silent logger is dropped so that `log?.info(`...`)` does not even build its message.
    this.log = log?.level === 'silent' ? undefined : log;
    this.packetLog = log?.isLevelEnabled('debug') === true;
  }

  /** Current time in ms (one place to read the clock). */
  get now(): number {
    return Date.now();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Opens the store and restores sessions, subscriptions, messages, retained
   * messages and wills (once; `listen()` calls it). Rejects with a StoreError
   * when the store cannot be used.
   */
  ready(): Promise<void> {
    this.readying ??= this.restore().then(() => this.cluster?.start());
    return this.readying;
  }

  private async restore(): Promise<void> {
    const p = this.persistence;
    if (p === undefined) return;
    const state = await p.store.open();
    restoreState(this, p, state, this.options.persistence!.location);
    await p.flush();
    this.log?.info(
      `Restored ${this.sessions.size} sessions and ${this.retained.size} retained messages from the ${p.store.backend} store.`,
    );
  }

  /** Opens every configured listener; resolves once all are bound. */
  async listen(): Promise<ListenerAddress[]> {
    if (this.accessControls.needsLoading) await this.accessControls.load();
    await this.ready();
    for (const l of this.options.listeners) {
      const listener = await openListener(this, l);
      this.openListeners.push(listener);
      const a = listener.address();
      this.log?.info(`Opening ${a.protocol} listen socket on ${a.host}:${a.port}.`);
    }
    this.sys.start();
    const addrs = this.addresses();
    this.emit('listening', addrs);
    return addrs;
  }

  /** Addresses of the open listeners (useful with port 0). */
  addresses(): ListenerAddress[] {
    return this.openListeners.map((l) => l.address());
  }

  /**
   * Graceful shutdown: stop accepting, send v5 clients DISCONNECT 0x8B
   * (server shutting down), close every connection and release timers.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.sys.stop();
    const closing = this.openListeners.map((l) => l.close());
    const waits: Promise<void>[] = [];
    for (const ch of this.channels) {
      waits.push(
        new Promise<void>((resolve) => {
          if (ch.socket.destroyed) resolve();
          else ch.socket.once('close', () => resolve());
        }),
      );
      ch.disconnectWith(ReasonCode.ServerShuttingDown, 'server shutting down');
    }
    await Promise.all([...closing, ...waits]);
    await this.cluster?.stop();
    if (this.persistence !== undefined && this.readying !== undefined) {
      await this.readying.catch(() => {});
      await this.persistence.close();
    }
  }

  /**
   * Hands a connected byte stream to the broker (transports call this; an
   * embedding application can pass any Duplex, e.g. an in-process pipe).
   */
  handleConnection(socket: Duplex, info: ConnectionInfo): Channel {
    const ch = new Channel(this, socket, info);
    this.channels.add(ch);
    if (this.closing) ch.close('server shutting down');
    return ch;
  }

  /**
   * Per-address connection rate limit (connectionRateLimit per second), checked
   * by transports before any MQTT byte is read. Returns false to refuse.
   */
  admitConnection(address: string): boolean {
    const limit = this.options.connectionRateLimit;
    if (limit <= 0) return true;
    const second = Math.floor(this.now / 1000);
    if (second !== this.rateSecond) {
      this.rateSecond = second;
      this.rateCounts.clear();
    }
    const n = (this.rateCounts.get(address) ?? 0) + 1;
    this.rateCounts.set(address, n);
    if (n > limit) {
      this.stats.connectionsRefused++;
      this.log?.warn(
        `Refusing connection from ${address}: connection rate limit ${limit}/s exceeded.`,
      );
      return false;
    }
    return true;
  }

  /**
   * Re-reads the password and ACL files given by path (SIGHUP), the
   * broker-level ones and every listener's. Connected clients stay connected;
   * their next checks use the new files. Where a file is broken, the previous
   * files of that listener (or of the broker level) stay in effect, the others
   * are reloaded, and the error is thrown.
   */
  async reloadSecurity(): Promise<void> {
    try {
      await this.accessControls.load();
    } finally {
      for (const s of this.sessions.values()) {
        // Restored sessions without a ClientInfo recompile lazily on their next delivery.
        const a = s.access;
        s.acl = s.client !== undefined && a !== undefined ? a.checkerFor(s.client) : undefined;
      }
    }
  }

  /**
   * Swaps the TLS certificates of one listener (by index in `options.listeners`)
   * or of all TLS listeners; new handshakes use them, open connections are kept.
   */
  reloadTls(listener: number | 'all', tlsOptions: tls.SecureContextOptions): void {
    if (listener === 'all') {
      for (const l of this.openListeners) l.reloadTls(tlsOptions);
      return;
    }
    const l = this.openListeners[listener];
    if (l === undefined) throw new RangeError(`no open listener at index ${listener}`);
    l.reloadTls(tlsOptions);
  }

  /** The open listeners (for TLS reloads and addresses). */
  get listenerHandles(): readonly Listener[] {
    return this.openListeners;
  }

  /**
   * Disconnects a connected client (v5 clients first get DISCONNECT with
   * `reasonCode`, default 0x98 administrative action). Its will is published as
   * for any server-side close. Returns false when no such client is connected.
   */
  disconnectClient(
    clientId: string,
    reasonCode: number = ReasonCode.AdministrativeAction,
  ): boolean {
    const ch = this.sessions.get(clientId)?.channel;
    if (ch === undefined) return false;
    ch.disconnectWith(reasonCode, 'disconnected by an administrator');
    return true;
  }

  /** Called by a channel once its socket has closed. */
  channelClosed(ch: Channel): void {
    this.channels.delete(ch);
  }

  // ---------------------------------------------------------------- connect

  /** Generates a client id for a client that sent an empty one. */
  assignClientId(prefix: string = this.options.autoIdPrefix): string {
    return `${prefix}${randomBytes(12).toString('hex')}`;
  }

  /** Whether an enhanced-authentication method is registered under this name. */
  supportsAuthMethod(method: string): boolean {
    return Object.hasOwn(this.options.authMethods, method);
  }

  /**
   * Runs the authentication chain; answers a v5 reason code (0 = accepted),
   * synchronously when no hook, password check or cluster claim has to wait.
   */
  authenticate(ch: Channel, p: ConnectPacket, will: Will | undefined): number | Promise<number> {
    const auth = ch.access.authenticate(
      ch.client!,
      p.password,
      p.properties,
      ch.info.certificateAsUsername === true,
      will,
    );
    const c = this.cluster;
    if (c === undefined) return auth;
    // In a cluster the client id is claimed (and its session fetched) before CONNACK.
    return Promise.resolve(auth).then((code) =>
      code === 0 ? c.claim(ch.clientId, p.clean).then(() => code) : code,
    );
  }

  /** Whether a connected client may publish to `topic` (mount point applied); see AccessControl. */
  authorizePublish(
    ch: Channel,
    topic: string,
    qos: QoS,
    retain: boolean,
  ): PublishVerdict | Promise<PublishVerdict> {
    return ch.access.authorizePublish(ch.client!, ch.session!.acl, topic, qos, retain);
  }

  /** v5 CONNACK properties describing this broker's limits (a fresh object). */
  connackProperties(): Properties {
    const o = this.options;
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

  /** One limits object shared by every session (read-only for them): none per connection. */
  private sharedLimits: SessionLimits | undefined;

  /** Limits of a new session, from the broker options (one shared, read-only object). */
  sessionLimits(): SessionLimits {
    const o = this.options;
    return (this.sharedLimits ??= {
      maxInflight: o.maxInflightMessages === 0 ? 65535 : o.maxInflightMessages,
      maxQueuedMessages: o.maxQueuedMessages,
      maxQueuedBytes: o.maxQueuedBytes,
      dropOldest: o.maxQueuedDrop === 'oldest',
      queueQos0: o.queueQos0Messages,
    });
  }

  /**
   * Binds an accepted connection to its session: takes over a live one,
   * discards or resumes an old one per Clean Session / Clean Start.
   * `waitsForCommit`: the CONNACK must wait for the store's commit.
   */
  attachSession(
    ch: Channel,
    p: ConnectPacket,
  ): { session: Session; present: boolean; waitsForCommit: boolean } {
    const id = ch.clientId;
    let existing = this.sessions.get(id);
    if (existing?.channel !== undefined) {
      // Client take-over: the old connection is closed (its will is published).
      existing.channel.takenOver();
      existing = this.sessions.get(id);
    }
    let expiry: number;
    if (p.protocolVersion === 5) {
      expiry = p.properties?.sessionExpiryInterval ?? 0;
    } else if (p.clean) {
      expiry = 0;
    } else {
      const pce = this.options.persistentClientExpiration;
      expiry = pce > 0 ? pce : SESSION_NEVER_EXPIRES;
    }
    let discarded = false;
    if (existing !== undefined && p.clean) {
      discarded = this.persistence?.isStored(existing) === true;
      this.destroySession(existing);
      existing = undefined;
    }
    let session: Session;
    let present = false;
    if (existing !== undefined) {
      session = existing;
      present = true;
      session.expiryInterval = expiry;
      session.protocolVersion = p.protocolVersion;
      // The client came back in time: a delayed will is cancelled.
      session.pendingWill = undefined;
      session.pendingWillAt = 0;
    } else {
      session = new Session(id, p.protocolVersion, expiry, this.sessionLimits());
      this.sessions.set(id, session);
    }
    session.username = ch.username;
    session.client = ch.client;
    session.access = ch.access;
    session.listener = ch.info.listener;
    session.acl = ch.access.checkerFor(ch.client!);
    session.channel = ch;
    session.disconnectedAt = 0;
    // In `commit` mode a CONNECT that changed the stored session gets its CONNACK after the commit.
    const waitsForCommit = this.persistence?.sessionAttached(session, p.will, discarded) === true;
    return { session, present, waitsForCommit };
  }

  /** Called by a channel after CONNACK 0, with the Session Present flag it sent. */
  onClientConnected(ch: Channel, sessionPresent: boolean): void {
    const s = this.stats;
    s.connected++;
    s.connectionsTotal++;
    if (s.connected > s.maximumConnected) s.maximumConnected = s.connected;
    const c = ch.client!;
    if (this.options.connectionMessages)
      this.log?.info(
        `New ${ch.bridge ? 'bridge' : 'client'} connected from ${c.remoteAddress}:${c.remotePort} as ${c.clientId} (p${c.protocolVersion}, c${ch.session!.expiryInterval === 0 ? 1 : 0}, k${ch.keepalive}${c.username !== undefined ? `, u'${c.username}'` : ''}).`,
      );
    if (this.listenerCount('clientConnected') > 0) this.emit('clientConnected', c, sessionPresent);
  }

  /** Called by a channel whose connection ended; `will` is set unless the client disconnected normally. */
  onClientDisconnected(ch: Channel, will: Will | undefined, reason: string): void {
    const session = ch.session!;
    session.channel = undefined;
    this.stats.connected--;
    const now = this.now;
    const c = ch.client!;
    if (this.options.connectionMessages)
      this.log?.info(`Client ${c.clientId} disconnected: ${reason}.`);
    // Shared-subscription messages this member had not completed go to another member.
    if (session.inflightCount > 0 || session.queuedCount > 0)
      this.handOverShared(session, session.expiryInterval !== 0);
    if (will !== undefined) {
      const delay = will.properties?.willDelayInterval ?? 0;
      if (delay > 0 && session.expiryInterval > 0) {
        session.pendingWill = will;
        session.pendingWillAt = now + Math.min(delay, session.expiryInterval) * 1000;
      } else {
        this.publishWill(session, c, will);
      }
    }
    if (session.expiryInterval === 0) this.destroySession(session);
    else {
      session.disconnectedAt = now;
      this.persistence?.sessionSaved(session);
    }
    if (this.listenerCount('clientDisconnected') > 0) this.emit('clientDisconnected', c, reason);
  }

  /** Removes a session with its subscriptions and messages; a delayed will is published now. */
  destroySession(session: Session): void {
    this.persistence?.sessionDestroyed(session);
    this.cluster?.sessionEnded(session.clientId);
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    for (const sub of session.subscriptions.values()) this.removeRoute(sub);
    session.subscriptions.clear();
    this.handOverShared(session, false);
    session.clearMessages();
    if (session.pendingWill !== undefined) {
      const will = session.pendingWill;
      session.pendingWill = undefined;
      this.publishWill(session, undefined, will);
    }
  }

  /**
   * Gives the shared-subscription deliveries a leaving member had not completed to
   * another member of the same group, online ones first. When no other member
   * exists, a session that `survives` keeps them for its own return.
   */
  private handOverShared(session: Session, survives: boolean): void {
    const moved = session.takeShared();
    const other = (m: SubscriptionRecord): boolean => m.session !== session;
    const otherOnline = (m: SubscriptionRecord): boolean =>
      m.session !== session && isOnlineMember(m);
    for (const d of moved) {
      const group = d.group!;
      const member =
        group.pick(d.msg.topic, d.msg.origin, otherOnline) ??
        group.pick(d.msg.topic, d.msg.origin, other);
      if (member === undefined) {
        if (survives) session.redeliver(d);
        continue;
      }
      const qos = (d.msg.qos < member.qos ? d.msg.qos : member.qos) as QoS;
      d.qos = qos;
      member.session.redeliver(d);
    }
  }

  /** Publishes a will (or a due delayed will). */
  publishWill(session: Session | undefined, client: ClientInfo | undefined, will: Will): void {
    const origin = session?.clientId ?? client?.clientId ?? '';
    const props = will.properties;
    let fwd: Properties | undefined;
    if (props !== undefined) {
      fwd = { ...props };
      delete fwd.willDelayInterval;
      if (Object.keys(fwd).length === 0) fwd = undefined;
    }
    this.publishMessage(
      this.makeMessage(will.topic, will.payload, will.qos, will.retain, fwd, origin),
      undefined,
    );
  }

  // ---------------------------------------------------------------- publish

  /**
   * A new message with the next message id. Its expiry comes from its properties,
   * unless `expiresAt` (absolute, ms; 0 = never) carries one already set elsewhere
   * (a message from another cluster node or handed over with a session).
   */
  makeMessage(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    props: Properties | undefined,
    origin: string,
    expiresAt?: number,
  ): Message {
    if (expiresAt === undefined) {
      expiresAt = 0;
      if (props !== undefined && props.messageExpiryInterval !== undefined) {
        expiresAt = this.now + props.messageExpiryInterval * 1000;
      }
    }
    const id = this.nextMessageId++;
    if (id >= this.messageIdLimit) this.messageIdLimit = this.persistence!.reserveMessageIds(id);
    return new Message(id, topic, payload, qos, retain, props, expiresAt, origin);
  }

  /** Routes a PUBLISH received from a client; returns how many sessions it reached. */
  publishFrom(session: Session, topic: string, p: PublishPacket): number {
    const props = forwardableProperties(p.properties);
    const msg = this.makeMessage(topic, p.payload, p.qos, p.retain, props, session.clientId);
    return this.publishMessage(msg, session.channel?.client);
  }

  /**
   * Publishes a message from the embedding application (origin: the broker).
   * Returns how many sessions it reached.
   */
  publish(message: PublishedMessage): number {
    return this.publishWithOrigin(message, '');
  }

  /**
   * Creates an in-process session whose deliveries go to `sink` (a bridge's local
   * side). It is not in `sessions`, so no client takes it over, and it is never persisted.
   */
  createInternalSession(clientId: string, sink: DeliverySink): Session {
    const s = new Session(clientId, 5, 0, this.sessionLimits());
    s.sink = sink;
    s.access = this.access;
    return s;
  }

  /** Subscribes an internal session with No Local and Retain As Published; sends no retained messages. */
  subscribeInternal(session: Session, filter: string, qos: QoS): void {
    const existing = session.subscriptions.get(filter);
    if (existing !== undefined) this.removeRoute(existing);
    const rec: SubscriptionRecord = {
      session,
      filter,
      topicFilter: filter,
      shareGroup: undefined,
      qos,
      noLocal: true,
      retainAsPublished: true,
      retainHandling: 2,
      subscriptionId: undefined,
    };
    session.subscriptions.set(filter, rec);
    this.addRoute(rec);
  }

  /** Removes every subscription of an internal session. */
  unsubscribeInternal(session: Session): void {
    for (const rec of session.subscriptions.values()) this.removeRoute(rec);
    session.subscriptions.clear();
  }

  /** Publishes on behalf of a session (a bridge's): its No Local subscriptions skip the message. */
  publishAs(session: Session, message: PublishedMessage): number {
    return this.publishWithOrigin(message, session.clientId);
  }

  private publishWithOrigin(message: PublishedMessage, origin: string): number {
    const { topic, payload, qos, retain, properties } = message;
    return this.publishMessage(
      this.makeMessage(topic, payload, qos, retain, properties, origin),
      undefined,
    );
  }

  /** Stores (if retained) and routes one message. */
  publishMessage(msg: Message, client: ClientInfo | undefined): number {
    if (msg.retain) {
      if (msg.payload.length === 0) this.retained.delete(msg.topic);
      else this.retained.set(msg.topic, msg);
      this.persistence?.retainedChanged(msg);
      this.cluster?.retainedChanged(msg);
    }
    if (this.listenerCount('publish') > 0) {
      this.emit(
        'publish',
        {
          topic: msg.topic,
          payload: msg.payload,
          qos: msg.qos,
          retain: msg.retain,
          properties: msg.properties,
        },
        client,
      );
    }
    const reached = this.route(msg);
    this.cluster?.forward(msg);
    return reached;
  }

  /**
   * The routing loop: finds matching subscriptions, keeps one delivery per
   * session at the highest granted QoS (overlapping subscriptions), picks one
   * member per shared group, and hands each session its delivery. Allocation
   * free unless subscription identifiers are in play. `shares` (messages from
   * another cluster node) limits shared groups to those that node assigned here.
   */
  route(msg: Message, shares?: ReadonlySet<string>): number {
    const out = this.matchScratch;
    const n = this.router.matchInto(msg.topic, out);
    this.lastRouteQueueFull = 0;
    if (n === 0) return 0;
    const stamp = ++this.routeStamp;
    // Scratch arrays are reused without truncation (truncating frees their backing store in V8).
    const targets = this.targetScratch;
    let nt = 0;
    const guarded = this.accessControls.readsGuarded;
    let reached = 0;
    let full = 0;
    for (let i = 0; i < n; i++) {
      const e = out[i]!;
      if (e instanceof SharedGroup) {
        if (shares !== undefined && !shares.has(`${e.name}/${e.filter}`)) continue;
        const member =
          e.pick(msg.topic, msg.origin, isOnlineMember) ?? e.pick(msg.topic, msg.origin);
        if (member === undefined) continue;
        if (guarded && !this.mayRead(member.session, msg.topic)) continue;
        const q = (msg.qos < member.qos ? msg.qos : member.qos) as QoS;
        const subIds = member.subscriptionId !== undefined ? [member.subscriptionId] : undefined;
        if (this.deliverCounted(member.session, msg, q, false, subIds, e) === DropReason.QueueFull)
          full++;
        reached++;
        continue;
      }
      const s = e.session;
      if (e.noLocal && s.clientId === msg.origin) continue;
      if (s.routeStamp !== stamp) {
        s.routeStamp = stamp;
        s.routeQos = e.qos;
        s.routeRetainAsPublished = e.retainAsPublished;
        s.routeSubIds = e.subscriptionId !== undefined ? [e.subscriptionId] : undefined;
        targets[nt++] = s;
      } else {
        if (e.qos > s.routeQos) s.routeQos = e.qos;
        if (e.retainAsPublished) s.routeRetainAsPublished = true;
        if (e.subscriptionId !== undefined) (s.routeSubIds ??= []).push(e.subscriptionId);
      }
    }
    for (let i = 0; i < nt; i++) {
      const s = targets[i]!;
      if (guarded && !this.mayRead(s, msg.topic)) continue;
      const q = (msg.qos < s.routeQos ? msg.qos : s.routeQos) as QoS;
      // [MQTT-3.3.1-9] forwarded to existing subscriptions with RETAIN 0, unless v5 Retain As Published.
      const r = s.routeRetainAsPublished && msg.retain;
      if (this.deliverCounted(s, msg, q, r, s.routeSubIds, undefined) === DropReason.QueueFull)
        full++;
      reached++;
    }
    this.lastRouteQueueFull = full;
    return reached;
  }

  /**
   * A delivery's read check (only when `readsGuarded`), by the rules of the
   * listener the session's client came in on; a restored session whose
   * listener is unknown while listeners have their own rules reads nothing.
   */
  private mayRead(s: Session, topic: string): boolean {
    const a = s.access ?? (s.access = this.accessControls.forListenerName(s.listener));
    return a?.mayRead(s, topic) === true;
  }

  /**
   * Hands a delivery to a session and counts what it dropped: the new message
   * (queue full, offline QoS 0) or older ones evicted to make room. The channel
   * counts its own drops (slow consumer, too large). Routed and retained-on-subscribe
   * deliveries both go through here so `publishDropped` sees every refusal.
   */
  private deliverCounted(
    s: Session,
    msg: Message,
    q: QoS,
    r: boolean,
    subIds: number[] | undefined,
    group: SharedGroup<SubscriptionRecord> | undefined,
  ): DropReason {
    const before = s.dropped;
    const res = s.deliver(msg, q, r, subIds, group);
    if (res === DropReason.Offline) this.stats.publishDropped++;
    else this.stats.publishDropped += s.dropped - before;
    return res;
  }

  // ---------------------------------------------------------------- subscribe

  /** Whether a topic or filter has more levels than allowed. */
  topicTooDeep(topic: string): boolean {
    const max = this.options.maxTopicLevels;
    if (max <= 0) return false;
    let levels = 1;
    for (let i = topic.indexOf('/'); i !== -1; i = topic.indexOf('/', i + 1)) {
      if (++levels > max) {
        this.stats.topicLevelsExceeded++;
        return true;
      }
    }
    return false;
  }

  /** Handles a SUBSCRIBE: authorizes, records, sends SUBACK, then matching retained messages. */
  subscribe(ch: Channel, p: SubscribePacket): void | Promise<void> {
    const hook = this.options.hooks.authorizeSubscribe;
    if (hook === undefined || !ch.access.asksSubscribeHook(ch.session!.acl)) {
      this.completeSubscribe(ch, p, undefined);
      return;
    }
    return (async () => {
      const verdicts: Array<boolean | number | undefined> = [];
      for (const sub of p.subscriptions) verdicts.push(await hook(ch.client!, sub));
      if (ch.session?.channel !== ch) return;
      this.completeSubscribe(ch, p, verdicts);
    })();
  }

  private completeSubscribe(
    ch: Channel,
    p: SubscribePacket,
    verdicts: Array<boolean | number | undefined> | undefined,
  ): void {
    const session = ch.session!;
    const v5 = ch.version === 5;
    const o = this.options;
    const codes: number[] = [];
    const subId = p.properties?.subscriptionIdentifiers?.[0];
    const retainedFor: SubscriptionRecord[] = [];
    const mp = ch.info.mountPoint;
    for (let i = 0; i < p.subscriptions.length; i++) {
      const sub = p.subscriptions[i]!;
      let verdict = verdicts?.[i];
      let filter = sub.topic;
      let topicFilter = filter;
      let group: string | undefined;
      const shared = parseSharedSubscription(filter);
      if (shared === 'invalid') {
        codes.push(v5 ? ReasonCode.TopicFilterInvalid : 0x80);
        continue;
      }
      const unsupported = this.unsupportedFeature(sub.topic, shared !== undefined, subId);
      if (unsupported !== 0) {
        codes.push(v5 ? unsupported : 0x80);
        continue;
      }
      if (shared !== undefined) {
        if (v5 && sub.noLocal) {
          // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
          throw new ProtocolError(
            ReasonCode.ProtocolError,
            'No Local on a shared subscription',
            'MQTT-3.8.3-4',
          );
        }
        group = shared.group;
        topicFilter = shared.filter;
      }
      if (mp !== undefined) {
        topicFilter = mp + topicFilter;
        filter = mountedFilter(mp, shared, filter);
      }
      if (this.topicTooDeep(topicFilter)) {
        codes.push(v5 ? ReasonCode.TopicFilterInvalid : 0x80);
        continue;
      }
      if (verdict === undefined && !ch.access.maySubscribe(session.acl, filter)) verdict = false;
      if (verdict === false || (typeof verdict === 'number' && verdict >= 0x80)) {
        this.stats.authzDenied++;
        const code = typeof verdict === 'number' ? verdict : o.subscribeDeniedReasonCode;
        codes.push(v5 ? code : 0x80);
        continue;
      }
      const existing = session.subscriptions.get(filter);
      if (
        existing === undefined &&
        o.maxSubscriptionsPerClient > 0 &&
        session.subscriptions.size >= o.maxSubscriptionsPerClient
      ) {
        this.stats.subscriptionsRefused++;
        codes.push(v5 ? ReasonCode.QuotaExceeded : 0x80);
        continue;
      }
      let qos = sub.qos;
      if (qos > o.maxQos) qos = o.maxQos;
      if (typeof verdict === 'number' && verdict < qos) qos = verdict as QoS;
      const rec: SubscriptionRecord = {
        session,
        filter,
        topicFilter,
        shareGroup: group,
        qos,
        // Like Mosquitto, an announced v3 bridge never gets its own messages back, retain flags intact.
        noLocal: sub.noLocal || ch.bridge,
        retainAsPublished: sub.retainAsPublished || ch.bridge,
        retainHandling: sub.retainHandling,
        subscriptionId: subId,
      };
      if (existing !== undefined) this.removeRoute(existing);
      session.subscriptions.set(filter, rec);
      this.addRoute(rec);
      this.persistence?.subscribed(rec);
      codes.push(qos);
      if (
        group === undefined &&
        (sub.retainHandling === 0 || (sub.retainHandling === 1 && existing === undefined))
      ) {
        retainedFor.push(rec);
      }
    }
    const suback: SubackPacket = {
      type: PacketType.SUBACK,
      packetId: p.packetId,
      reasonCodes: codes,
    };
    // A stored session's SUBACK (and the retained messages after it) may wait for the commit.
    const held = this.persistence?.holdReply(ch, suback, retainedFor) === true;
    if (!held) ch.send(suback);
    if (this.listenerCount('subscribe') > 0)
      this.emit('subscribe', ch.client!, p.subscriptions, codes);
    if (!held && retainedFor.length > 0) this.sendRetained(session, retainedFor);
  }

  /** SUBACK code for a subscription using a feature this broker has switched off, or 0. */
  private unsupportedFeature(filter: string, shared: boolean, subId: number | undefined): number {
    const o = this.options;
    if (shared && !o.sharedSubscriptionAvailable) return ReasonCode.SharedSubscriptionsNotSupported;
    if (subId !== undefined && !o.subscriptionIdentifiersAvailable)
      return ReasonCode.SubscriptionIdentifiersNotSupported;
    if (!o.wildcardSubscriptionAvailable && (filter.includes('+') || filter.includes('#')))
      return ReasonCode.WildcardSubscriptionsNotSupported;
    return 0;
  }

  /** Sends the retained messages matching new subscriptions (after their SUBACK). */
  sendRetained(session: Session, recs: SubscriptionRecord[]): void {
    const now = this.now;
    const found: Message[] = [];
    const guarded = this.accessControls.readsGuarded;
    for (const rec of recs) {
      found.length = 0;
      this.retained.match(rec.topicFilter, found);
      for (const msg of found) {
        if (msg.isExpired(now)) {
          this.retained.delete(msg.topic);
          continue;
        }
        if (guarded && !this.mayRead(session, msg.topic)) continue;
        const q = (msg.qos < rec.qos ? msg.qos : rec.qos) as QoS;
        // [MQTT-3.3.1-8] retained messages sent on subscribe carry RETAIN 1.
        const subIds = rec.subscriptionId !== undefined ? [rec.subscriptionId] : undefined;
        this.deliverCounted(session, msg, q, true, subIds, undefined);
      }
    }
  }

  /** Adds a subscription to the router (also used when restoring from the store). */
  addRoute(rec: SubscriptionRecord): void {
    this.cluster?.routeAdded(rec);
    if (rec.shareGroup === undefined) {
      this.router.add(rec.topicFilter, rec.session.clientId, rec);
      return;
    }
    const key = `$share/${rec.shareGroup}`;
    let group = this.router.get(rec.topicFilter, key) as
      | SharedGroup<SubscriptionRecord>
      | undefined;
    if (group === undefined) {
      group = new SharedGroup<SubscriptionRecord>(
        rec.shareGroup,
        rec.topicFilter,
        this.options.sharedSubscriptionStrategy,
      );
      this.router.add(rec.topicFilter, key, group);
    }
    group.add(rec.session.clientId, rec);
  }

  private removeRoute(rec: SubscriptionRecord): void {
    if (rec.shareGroup === undefined) {
      if (this.router.get(rec.topicFilter, rec.session.clientId) === rec) {
        this.router.remove(rec.topicFilter, rec.session.clientId);
        this.cluster?.routeRemoved(rec);
      }
      return;
    }
    const key = `$share/${rec.shareGroup}`;
    const group = this.router.get(rec.topicFilter, key) as
      | SharedGroup<SubscriptionRecord>
      | undefined;
    if (group === undefined) return;
    if (group.remove(rec.session.clientId)) this.cluster?.routeRemoved(rec);
    if (group.size === 0) this.router.remove(rec.topicFilter, key);
  }

  /** Removes subscriptions by exact filter; returns v5 UNSUBACK codes. */
  unsubscribe(session: Session, filters: string[]): number[] {
    const codes: number[] = [];
    const mp = session.channel?.info.mountPoint;
    for (const f of filters) {
      const shared = parseSharedSubscription(f);
      if (shared === 'invalid') {
        codes.push(ReasonCode.TopicFilterInvalid);
        continue;
      }
      const filter = mp === undefined ? f : mountedFilter(mp, shared, f);
      const rec = session.subscriptions.get(filter);
      if (rec === undefined) {
        codes.push(ReasonCode.NoSubscriptionExisted);
        continue;
      }
      session.subscriptions.delete(filter);
      this.removeRoute(rec);
      this.persistence?.unsubscribed(session, filter);
      codes.push(ReasonCode.Success);
    }
    const c = session.channel?.client;
    if (c !== undefined && this.listenerCount('unsubscribe') > 0)
      this.emit('unsubscribe', c, filters);
    return codes;
  }

  // ---------------------------------------------------------------- timers

  private sweep(): void {
    const now = this.now;
    for (const ch of this.channels) {
      try {
        ch.checkTimers(now);
      } catch (err) {
        this.log?.error({ err }, 'timer check failed');
      }
    }
    for (const s of this.sessions.values()) {
      if (s.channel !== undefined) continue;
      if (s.pendingWill !== undefined && now >= s.pendingWillAt) {
        const will = s.pendingWill;
        s.pendingWill = undefined;
        this.publishWill(s, undefined, will);
        this.persistence?.sessionSaved(s);
      }
      if (
        s.expiryInterval !== SESSION_NEVER_EXPIRES &&
        s.disconnectedAt > 0 &&
        now - s.disconnectedAt >= s.expiryInterval * 1000
      ) {
        this.log?.info(`Session ${s.clientId} expired.`);
        this.destroySession(s);
      }
    }
  }
}

/** Typed event methods for Broker. */
export interface Broker {
  on<K extends keyof BrokerEvents>(event: K, listener: BrokerEvents[K]): this;
  once<K extends keyof BrokerEvents>(event: K, listener: BrokerEvents[K]): this;
  off<K extends keyof BrokerEvents>(event: K, listener: BrokerEvents[K]): this;
  emit<K extends keyof BrokerEvents>(event: K, ...args: Parameters<BrokerEvents[K]>): boolean;
}

/** Creates a broker; call `listen()` to open its listeners. */
export function createBroker(options?: BrokerOptions): Broker {
  return new Broker(options);
}
