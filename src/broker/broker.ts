import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { Cluster } from '../cluster/cluster.js';
import { clientGoneLine, listenerOpenedLines } from '../log/mosquitto-lines.js';
import { type QoS, ReasonCode } from '../protocol/constants.js';
import { forwardableProperties } from '../protocol/hop-properties.js';
import type {
  ConnectPacket,
  PublishPacket,
  SubscribePacket,
  Subscription,
  Will,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import { Persistence } from '../store/persistence.js';
import { type RestoreTarget, restoreState } from '../store/restore.js';
import { type Listener, openListener } from '../transport/listener.js';
import type { ListenerAddress } from '../transport/listener-options.js';
import type { PublishVerdict } from './access-control.js';
import { AccessControls } from './access-controls.js';
import { brokerAcceptor } from './broker-acceptor.js';
import { brokerFlowGate } from './broker-flow-gate.js';
import { Channel, channelOf } from './channel.js';
import { type ClientConnection, describeConnection } from './client-connection.js';
import { clusterHost } from './cluster-host.js';
import type { DeliveryTarget } from './delivery-target.js';
import type { BrokerEvents, PublishedMessage } from './events.js';
import { guardHandlerNames } from './hook-guard.js';
import type { Message } from './message.js';
import {
  type BrokerConnectionInfo,
  type BrokerOptions,
  type ClientInfo,
  connackProperties,
  type ResolvedBrokerOptions,
  resolveBrokerOptions,
} from './options.js';
import { PartialPacketBudget } from './partial-packet-budget.js';
import { Publisher } from './publisher.js';
import { RetainedIndex } from './retained-index.js';
import { type RouteEntry, type RouteResult, Router } from './router.js';
import { Session, type SubscriptionRecord } from './session.js';
import { type Attachment, SessionRegistry } from './session-registry.js';
import { publishShutdownWills } from './shutdown-wills.js';
import { BrokerStats } from './stats.js';
import {
  type SubscribeOutcome,
  type Subscriber,
  type SubscribeVerdicts,
  Subscriptions,
} from './subscriptions.js';
import { SysTopics } from './sys.js';
import type { TopicTrie } from './topic-trie.js';

export type { ListenerAddress } from '../transport/listener-options.js';
export type { ClientConnection } from './client-connection.js';
export type { BrokerEvents, PublishedMessage } from './events.js';

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
  /** Bytes held in incomplete packets, broker-wide (max_incomplete_packet_bytes). */
  readonly partialPackets: PartialPacketBudget;
  log: Logger | undefined;
  /** Whether every packet is logged (debug level, `-v`): checked before building any log text. */
  packetLog = false;
  /** That chain and one per listener with its own `security` block. */
  readonly accessControls: AccessControls;
  /** Response Information returned to v5 clients that request it. */
  responseInformation: string | undefined;
  /** Durable storage, when the `persistence` option is set. */
  readonly persistence: Persistence | undefined;
  /** Membership in a Redis cluster, when the `cluster` option is set. */
  readonly cluster: Cluster | undefined;
  // Internals are #private: an application assigning a same-named property
  // (Aedes style) gets its own property and cannot replace them.
  readonly #channels = new Set<Channel>();
  readonly #retained = new RetainedIndex<Message>();
  readonly #routing: Router;
  readonly #registry: SessionRegistry;
  readonly #subscriptions: Subscriptions;
  readonly #publisher: Publisher;
  readonly #sys: SysTopics;
  readonly #openListeners: Listener[] = [];
  readonly #acceptor = brokerAcceptor(this);
  #readying: Promise<void> | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(options: BrokerOptions = {}) {
    super();
    this.options = resolveBrokerOptions(options);
    this.partialPackets = new PartialPacketBudget(this.options.maxIncompletePacketBytes);
    this.setLogger(this.options.logger);
    this.responseInformation = this.options.responseInformation;
    this.accessControls = new AccessControls(this.options);
    const po = options.persistence;
    this.persistence = po !== undefined ? new Persistence(po, this.log) : undefined;
    const router = new Router({
      shareStrategy: this.options.sharedSubscriptionStrategy,
      copyPerSubscription: this.options.overlapDelivery === 'per-subscription',
      stats: this.stats,
      accessControls: this.accessControls,
      retained: this.#retained,
    });
    this.#routing = router;
    const publisher = new Publisher({
      router,
      retained: this.#retained,
      persistence: this.persistence,
      announce: (msg, client) => {
        if (this.listenerCount('publish') === 0) return;
        const { topic, payload, qos, retain, properties } = msg;
        this.emit('publish', { topic, payload, qos, retain, properties }, client);
      },
    });
    this.#publisher = publisher;
    const registry = new SessionRegistry({
      options: this.options,
      router,
      persistence: this.persistence,
      gate: this.options.backpressure
        ? brokerFlowGate(this.options, this.stats, () => this.log)
        : undefined,
      publishWill: (s, c, w) => this.publishWill(s, c, w),
    });
    this.#registry = registry;
    const broker = this;
    this.#subscriptions = new Subscriptions({
      options: this.options,
      stats: this.stats,
      router,
      persistence: this.persistence,
      get now() {
        return broker.now;
      },
      unsubscribed: (client, filters) => {
        if (this.listenerCount('unsubscribe') > 0) this.emit('unsubscribe', client, filters);
      },
    });
    this.cluster =
      options.cluster !== undefined
        ? new Cluster(
            clusterHost({
              broker: this,
              publisher,
              router,
              registry,
              retained: this.#retained,
              persistence: this.persistence,
            }),
            options.cluster,
          )
        : undefined;
    router.observer = this.cluster;
    publisher.forwarder = this.cluster;
    registry.observer = this.cluster;
    this.#sys = new SysTopics(this);
    this.#sweeper = setInterval(() => this.#sweep(), 1000);
    this.#sweeper.unref();
  }

  /** Sessions by client id, online and offline (read it; the broker changes it). */
  get sessions(): ReadonlyMap<string, Session> {
    return this.#registry.sessions;
  }

  /** Open connections, including those not yet past CONNECT. */
  get channels(): ReadonlySet<Channel> {
    return this.#channels;
  }

  /** The subscription index (read it; subscribe through clients or `subscribeInternal`). */
  get router(): TopicTrie<RouteEntry> {
    return this.#routing.trie;
  }

  /** Retained messages by topic. */
  get retained(): RetainedIndex<Message> {
    return this.#retained;
  }

  /** The id the next message gets; restored from the store so ids stay unique across restarts. */
  get nextMessageId(): number {
    return this.#publisher.nextMessageId;
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
    this.#readying ??= this.#restore().then(() => this.cluster?.start());
    return this.#readying;
  }

  async #restore(): Promise<void> {
    const p = this.persistence;
    if (p === undefined) return;
    const state = await p.store.open();
    const registry = this.#registry;
    const target: RestoreTarget = {
      log: this.log,
      sessions: registry.sessions,
      retained: this.#retained,
      sessionLimits: () => registry.limits(),
      addRoute: (rec) => this.#routing.add(rec),
      destroySession: (s) => registry.destroy(s),
      publishWill: (s, c, w) => this.publishWill(s, c, w),
      setMessageIds: (next, limit) => this.#publisher.setMessageIds(next, limit),
    };
    restoreState(target, p, state, this.options.persistence!.location);
    // What restoring changed (expired entries, wills, message ids) commits now,
    // but listening does not wait for its fsync: commits are applied in order,
    // so anything a client is later told is durable comes after it anyway.
    p.commitNow();
    this.log?.info(
      `Restored ${this.sessions.size} sessions and ${this.retained.size} retained messages from the ${p.store.backend} store.`,
    );
  }

  /** Opens every configured listener; resolves once all are bound. */
  async listen(): Promise<ListenerAddress[]> {
    if (this.accessControls.needsLoading) await this.accessControls.load();
    await this.ready();
    for (const l of this.options.listeners) {
      const listener = await openListener(this.#acceptor, l);
      this.#openListeners.push(listener);
      const a = listener.address();
      this.log?.info(listenerOpenedLines(a.protocol, a.host, a.port));
    }
    this.#sys.start();
    const addrs = this.addresses();
    this.emit('listening', addrs);
    return addrs;
  }

  /** Addresses of the open listeners (useful with port 0). */
  addresses(): ListenerAddress[] {
    return this.#openListeners.map((l) => l.address());
  }

  /**
   * Graceful shutdown: stop accepting, send v5 clients DISCONNECT 0x8B
   * (server shutting down), close every connection and release timers.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#sys.stop();
    const closing = this.#openListeners.map((l) => l.close());
    publishShutdownWills(this.#channels, this.#registry.sessions, this);
    const waits: Promise<void>[] = [];
    for (const ch of this.#channels) {
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
    if (this.persistence !== undefined && this.#readying !== undefined) {
      await this.#readying.catch(() => {});
      await this.persistence.close();
    }
  }

  /**
   * Hands a connected byte stream to the broker (transports call this; an
   * embedding application can pass any Duplex, e.g. an in-process pipe).
   */
  handleConnection(socket: Duplex, info: BrokerConnectionInfo): Channel {
    const ch = new Channel(this, socket, info);
    this.#channels.add(ch);
    if (this.#closing) ch.close('server shutting down');
    return ch;
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
        s.setAcl(s.client !== undefined && a !== undefined ? a.checkerFor(s.client) : undefined);
      }
    }
  }

  /**
   * Swaps the TLS certificates of one listener (by index in `options.listeners`)
   * or of all TLS listeners; new handshakes use them, open connections are kept.
   */
  reloadTls(listener: number | 'all', tlsOptions: tls.SecureContextOptions): void {
    if (listener === 'all') {
      for (const l of this.#openListeners) l.reloadTls(tlsOptions);
      return;
    }
    const l = this.#openListeners[listener];
    if (l === undefined) throw new RangeError(`no open listener at index ${listener}`);
    l.reloadTls(tlsOptions);
  }

  /** A snapshot of the connection a client id has now; undefined when it has none. */
  clientConnection(clientId: string): ClientConnection | undefined {
    const s = this.sessions.get(clientId);
    const ch = s === undefined ? undefined : channelOf(s);
    return ch === undefined ? undefined : describeConnection(ch);
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
    const s = this.sessions.get(clientId);
    const ch = s === undefined ? undefined : channelOf(s);
    if (ch === undefined) return false;
    ch.disconnectWith(reasonCode, 'disconnected by an administrator');
    return true;
  }

  /** Called by a channel once its socket has closed. */
  channelClosed(ch: Channel): void {
    this.#channels.delete(ch);
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
    return connackProperties(this.options);
  }

  /**
   * Binds an accepted connection to its session: takes over a live one,
   * discards or resumes an old one per Clean Session / Clean Start.
   * `waitsForCommit`: the CONNACK must wait for the store's commit.
   */
  attachSession(ch: Channel, p: ConnectPacket): Attachment {
    return this.#registry.attach(ch, p);
  }

  /** Called by a channel after CONNACK 0, with the Session Present flag it sent. */
  onClientConnected(ch: Channel, sessionPresent: boolean): void {
    const s = this.stats;
    s.connected++;
    s.connectionsTotal++;
    if (s.connected > s.maximumConnected) s.maximumConnected = s.connected;
    const c = ch.client!;
    // "New client connected" was logged before the CONNACK (see channel/connect.ts).
    if (this.listenerCount('clientConnected') > 0) this.emit('clientConnected', c, sessionPresent);
  }

  /** Called by a channel whose connection ended; `will` is set unless the client disconnected normally. */
  onClientDisconnected(ch: Channel, will: Will | undefined, reason: string): void {
    this.stats.connected--;
    const c = ch.client!;
    if (this.options.connectionMessages) this.log?.info(clientGoneLine(c.clientId, reason));
    this.#registry.detach(ch.session!, c, will, this.now);
    if (this.listenerCount('clientDisconnected') > 0) this.emit('clientDisconnected', c, reason);
  }

  /** Removes a session with its subscriptions and messages; a delayed will is published now. */
  destroySession(session: Session): void {
    this.#registry.destroy(session);
  }

  /**
   * Removes a session from the registry without ending it: its deliveries and
   * stored records pass to the caller (a bridge taking over what a restore left for it).
   */
  takeSession(clientId: string): Session | undefined {
    const s = this.#registry.sessions.get(clientId);
    if (s !== undefined) this.#registry.sessions.delete(clientId);
    return s;
  }

  /** Publishes a will (or a due delayed will); with backpressure, full online queues take it. */
  publishWill(session: Session | undefined, client: ClientInfo | undefined, will: Will): void {
    const gate = this.#registry.limits().gate;
    if (gate === undefined || !gate.beginWill()) {
      this.#publisher.publishWill(session, client, will);
      return;
    }
    try {
      this.#publisher.publishWill(session, client, will);
    } finally {
      gate.end();
    }
  }

  // ---------------------------------------------------------------- publish

  /** The message of a client's PUBLISH, made but not routed (a QoS 2 message held until PUBREL). */
  messageFromClient(session: Session, topic: string, p: PublishPacket): Message {
    const props = forwardableProperties(p.properties);
    return this.#publisher.makeMessage(topic, p.payload, p.qos, p.retain, props, session.clientId);
  }

  /** Routes a client's message (at once, or at the PUBREL of a held QoS 2 message); says how many sessions it reached and how many were full. */
  publishReleased(session: Session, msg: Message): RouteResult {
    return this.#publisher.publish(msg, session.online ? session.client : undefined);
  }

  /**
   * Publishes a message from the embedding application (origin: the broker).
   * Returns how many sessions it reached.
   */
  publish(message: PublishedMessage): number {
    return this.#publishWithOrigin(message, '');
  }

  /**
   * Creates an in-process session whose deliveries go to `sink` (a bridge's local
   * side). It is not in `sessions`, so no client takes it over, and it is never persisted.
   */
  createInternalSession(clientId: string, sink: DeliveryTarget): Session {
    const s = new Session(clientId, 5, 0, this.#registry.limits());
    s.deliverTo(sink, this.accessControls.global);
    return s;
  }

  /** Subscribes an internal session with No Local and Retain As Published; sends no retained messages. */
  subscribeInternal(session: Session, filter: string, qos: QoS): void {
    this.#subscriptions.subscribeInternal(session, filter, qos);
  }

  /** Removes every subscription of an internal session. */
  unsubscribeInternal(session: Session): void {
    this.#subscriptions.unsubscribeInternal(session);
  }

  /** Publishes on behalf of a session (a bridge's): its No Local subscriptions skip the message. */
  publishAs(session: Session, message: PublishedMessage): number {
    return this.#publishWithOrigin(message, session.clientId);
  }

  #publishWithOrigin(message: PublishedMessage, origin: string): number {
    const { topic, payload, qos, retain, properties } = message;
    const p = this.#publisher;
    return p.publish(p.makeMessage(topic, payload, qos, retain, properties, origin), undefined)
      .reached;
  }

  // ---------------------------------------------------------------- subscribe

  /** Whether a topic or filter has more levels than allowed. */
  topicTooDeep(topic: string): boolean {
    return this.#subscriptions.topicTooDeep(topic);
  }

  /**
   * Asks the authorizeSubscribe hook about each subscription of a SUBSCRIBE;
   * undefined when there is nothing to wait for.
   */
  subscribeVerdicts(sub: Subscriber, p: SubscribePacket): Promise<SubscribeVerdicts> | undefined {
    return this.#subscriptions.verdicts(sub, p);
  }

  /**
   * Checks, records and routes a SUBSCRIBE; the channel answers with the
   * SUBACK, then the retained messages (sendRetained).
   */
  applySubscribe(
    sub: Subscriber,
    p: SubscribePacket,
    verdicts: SubscribeVerdicts | undefined,
  ): SubscribeOutcome {
    return this.#subscriptions.apply(sub, p, verdicts);
  }

  /** In a cluster: resolves once the routes added so far are in force on every linked node. */
  routesSettled(): Promise<void> | undefined {
    return this.cluster?.routesSettled();
  }

  /** A client's SUBSCRIBE was answered (SUBACK sent or held for the commit): the `subscribe` event. */
  subscribeAnswered(client: ClientInfo, subscriptions: Subscription[], granted: number[]): void {
    if (this.listenerCount('subscribe') > 0) this.emit('subscribe', client, subscriptions, granted);
  }

  /** Sends the retained messages matching new subscriptions (after their SUBACK). */
  sendRetained(session: Session, recs: SubscriptionRecord[]): void {
    this.#routing.sendRetained(session, recs, this.now);
  }

  /** Removes a connected client's subscriptions by exact filter; returns v5 UNSUBACK codes. */
  unsubscribe(sub: Subscriber, filters: string[]): number[] {
    return this.#subscriptions.unsubscribe(sub, filters);
  }

  // ---------------------------------------------------------------- timers

  #sweep(): void {
    const now = this.now;
    for (const ch of this.#channels) {
      try {
        ch.checkTimers(now);
      } catch (err) {
        this.log?.error({ err }, 'timer check failed');
      }
    }
    this.#registry.sweep(now, (s) => this.log?.info(`Session ${s.clientId} expired.`));
  }
}

/** Typed event methods for Broker. */
export interface Broker {
  on<K extends keyof BrokerEvents>(event: K, listener: BrokerEvents[K]): this;
  once<K extends keyof BrokerEvents>(event: K, listener: BrokerEvents[K]): this;
  off<K extends keyof BrokerEvents>(event: K, listener: BrokerEvents[K]): this;
  emit<K extends keyof BrokerEvents>(event: K, ...args: Parameters<BrokerEvents[K]>): boolean;
}

guardHandlerNames(Broker.prototype);

/** Creates a broker; call `listen()` to open its listeners. */
export function createBroker(options?: BrokerOptions): Broker {
  return new Broker(options);
}
