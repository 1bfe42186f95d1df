/**
 * An outgoing bridge, as Mosquitto's `connection` block defines it: one client
 * connection from this broker to a remote broker that copies `in` topics from
 * the remote to the local broker and `out` topics the other way.
 *
 * The local side is an in-process session of the broker (no socket, no codec):
 * the routing loop hands it matching messages synchronously, and messages from
 * the remote are published with that session as their origin, so its No Local
 * subscriptions never send them back out (no loops with `both`).
 *
 * With persistence and a persistent local session, QoS 1/2 messages towards
 * the remote are also kept in the broker's store until the remote
 * acknowledges them (bridge-store.ts); otherwise the queue is memory only.
 */
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { type DeliveryTarget, DropReason } from '../broker/delivery-target.js';
import type { Message } from '../broker/message.js';
import type { Session } from '../broker/session.js';
import { MqttClient, type PublishOptions, type SubscriptionRequest } from '../client/client.js';
import { PublishError } from '../client/errors.js';
import type { BridgeConfig } from '../config/types.js';
import type { ProtocolVersion, QoS } from '../protocol/constants.js';
import { forwardableProperties } from '../protocol/hop-properties.js';
import type { ConnackPacket, PublishPacket } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import { BridgeStore, discardBridgeSession } from './bridge-store.js';
import { bridgeTlsOptions } from './bridge-tls.js';
import { type OutgoingMessage, OutgoingQueue } from './outgoing-queue.js';
import {
  bridgeProtocolVersion,
  CLIENT_WINDOW,
  endWithin,
  NOTIFY_DOWN,
  remoteClientOptions,
} from './remote-client.js';
import { RemoteInput } from './remote-input.js';
import { TopicMap, toLocal, toRemote } from './topic-map.js';

/** Where a bridge is in its life. */
export type BridgeState =
  /** Not connected and not trying: a lazy bridge below its threshold, or a `once` bridge that ended. */
  | 'idle'
  | 'connecting'
  | 'connected'
  /** Waiting for restart_timeout before the next attempt. */
  | 'waiting'
  | 'stopped';

/** Counters of one bridge. */
export interface BridgeStats {
  /** Messages handed to the remote broker. */
  sent: number;
  /** Messages received from the remote broker and published locally. */
  received: number;
  /** Outgoing messages dropped (queue full, too large, refused by the remote). */
  dropped: number;
  /** Successful connections so far. */
  connects: number;
}

/** A bridge's most recent problem, as logged. */
export interface BridgeProblem {
  /** The warning, without the bridge's name. */
  message: string;
  /** When it happened (ms since the epoch). */
  at: number;
}

/** Tuning that the configuration file does not express (tests, embedding). */
export interface BridgeTuning {
  /** Milliseconds to wait for CONNACK. Default 10000. */
  connectTimeout?: number;
  /** Seconds between probes of the primary address while on a fallback. Default 5 (as Mosquitto). */
  primaryRetry?: number;
}

/** Socket bytes buffered towards a slow remote above which QoS 0 messages are dropped. */
const MAX_BUFFERED = 8 * 1024 * 1024;
const ONE = Buffer.from('1');

/** Publish options without properties, by QoS * 2 + retain, shared by every message. */
const PLAIN_OPTIONS: PublishOptions[] = [0, 1, 2].flatMap((qos) => [
  { qos: qos as QoS, retain: false },
  { qos: qos as QoS, retain: true },
]);

/** One Mosquitto-style outgoing bridge; see the module comment. */
export class Bridge implements DeliveryTarget {
  /** The `connection` block this bridge runs. */
  readonly config: BridgeConfig;
  /** Topic rules and prefix translation. */
  readonly topics: TopicMap;
  /** Current state. */
  state: BridgeState = 'idle';
  /** Index in `config.addresses` of the address in use (or tried next). */
  addressIndex = 0;
  /** Counters. */
  readonly stats: BridgeStats = { sent: 0, received: 0, dropped: 0, connects: 0 };
  /** The last problem (failed or refused connection, remote error); kept after a reconnect. */
  lastError: BridgeProblem | undefined;
  private readonly broker: Broker;
  private readonly log: Logger | undefined;
  private readonly session: Session;
  private readonly queue: OutgoingQueue;
  /** Durable copies of QoS 1/2 messages, when the broker persists and the local session is not clean. */
  private readonly store: BridgeStore | undefined;
  private readonly version: ProtocolVersion;
  private readonly tls: ConnectionOptions | undefined;
  private readonly tuning: BridgeTuning;
  private client: MqttClient | undefined;
  /** Stops reading the remote while a local queue it feeds is full. */
  private readonly input = new RemoteInput();
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private primaryTimer: NodeJS.Timeout | undefined;
  private backoff: number;
  private tryPrivateAccepted = true;
  /** Limits the remote announced in a v5 CONNACK. */
  private remoteMaxQos: QoS = 2;
  private remoteRetain = true;
  private remoteMaxPacket = 0;
  private lastActivity = 0;
  /** The current connection ends on purpose (idle lazy bridge, switch to primary). */
  private closingOnPurpose: 'idle' | 'primary' | undefined;
  /** QoS 1/2 messages cut off by a lost connection, in send order, re-queued when it has ended. */
  private lost: OutgoingMessage[] = [];
  private readonly onSent: (err: Error | undefined, packet: PublishPacket, tag: unknown) => void;
  private readonly onRemoteMessage: (topic: string, payload: Buffer, p: PublishPacket) => void;

  constructor(broker: Broker, config: BridgeConfig, log?: Logger, tuning: BridgeTuning = {}) {
    this.broker = broker;
    this.config = config;
    this.log = log;
    this.tuning = tuning;
    this.topics = new TopicMap(config.topics);
    this.version = bridgeProtocolVersion(config);
    this.tls = config.tls !== undefined ? bridgeTlsOptions(config.tls) : undefined;
    this.backoff = config.backoffBase;
    const o = broker.options;
    this.queue = new OutgoingQueue(o.maxQueuedMessages, o.maxQueuedBytes);
    this.session = broker.createInternalSession(config.localClientId, this);
    const p = broker.persistence;
    this.store =
      p !== undefined && !config.localCleanSession
        ? new BridgeStore(p, config.localClientId)
        : undefined;
    // One function each for the whole life of the bridge: no closure per message.
    this.onSent = (err, packet, tag) => this.sent(err, packet, tag as OutgoingMessage);
    this.onRemoteMessage = (topic, payload, p) => this.fromRemote(topic, payload, p);
  }

  /** The bridge's name (`connection NAME`). */
  get name(): string {
    return this.config.name;
  }

  /** Messages waiting for the remote broker in the bridge's own queue. */
  get queued(): number {
    return this.queue.length;
  }

  /** QoS 1/2 messages handed to the bridge's client and not yet acknowledged by the remote. */
  get inflight(): number {
    const c = this.client;
    return c === undefined ? 0 : c.inflightCount + c.queuedCount;
  }

  /**
   * Takes back the messages a previous run stored (call after the broker's
   * `ready()`), subscribes the local side, publishes the initial "0" state and
   * connects (unless lazy and below its threshold).
   */
  start(): void {
    if (this.state !== 'idle' || this.client !== undefined) return;
    this.restoreQueue();
    for (const r of this.topics.outbound)
      this.broker.subscribeInternal(this.session, r.localFilter, r.qos);
    this.notifyLocal(false);
    if (this.config.startType !== 'lazy' || this.queue.length >= this.config.threshold)
      this.connect();
  }

  /** Stored messages go back in the queue ahead of new ones; a clean local session discards them. */
  private restoreQueue(): void {
    const st = this.store;
    if (st === undefined) {
      if (this.broker.persistence !== undefined)
        discardBridgeSession(this.broker, this.config.localClientId);
      return;
    }
    const back: OutgoingMessage[] = [];
    const now = Date.now();
    for (const r of st.adopt(this.broker)) {
      const m = r.source.isExpired(now) ? undefined : this.outgoing(r.source, r.qos, r.retain);
      // Expired meanwhile, or no `out` rule matches it any more.
      if (m === undefined) st.removed(r);
      else {
        m.seq = r.seq;
        back.push(m);
      }
    }
    if (back.length > 0) {
      this.log?.info(`Bridge ${this.config.name}: ${back.length} stored messages to send.`);
      this.queue.requeue(back);
    }
  }

  /**
   * Stops for good: "0" on the notification topic (remote too, before a clean
   * DISCONNECT), local subscriptions removed, queued messages discarded.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasConnected = this.state === 'connected';
    this.state = 'stopped';
    this.clearTimers();
    this.broker.unsubscribeInternal(this.session);
    const c = this.client;
    this.client = undefined;
    if (c !== undefined) {
      if (wasConnected) this.notifyRemote(c, false);
      await endWithin(c, 2000);
    }
    if (wasConnected) this.notifyLocal(false);
    // Stored copies stay on disk for the next start.
    this.queue.clear();
  }

  // ---------------------------------------------------------------- connection

  private connect(): void {
    if (this.state === 'stopped') return;
    const cfg = this.config;
    const addr = cfg.addresses[this.addressIndex]!;
    const opts = remoteClientOptions(cfg, addr, {
      version: this.version,
      tls: this.tls,
      tryPrivate: cfg.tryPrivate && this.tryPrivateAccepted,
      connectTimeout: this.tuning.connectTimeout ?? 10_000,
      maxInflightMessages: this.broker.options.maxInflightMessages,
    });
    this.state = 'connecting';
    this.log?.info(`Connecting bridge ${cfg.name} (${addr.host}:${addr.port})`);
    const client = new MqttClient(opts);
    this.client = client;
    this.input.attach(client);
    client.on('message', this.onRemoteMessage);
    client.on('connect', (connack) => this.connected(client, connack));
    client.on('error', (err) => this.problem(err.message));
    client.once('end', () => this.ended(client));
    client.start().catch((err: Error & { reasonCode?: number }) => {
      this.problem(`connection to ${addr.host}:${addr.port} failed: ${err.message}`);
      // 0x01 (unacceptable protocol version) to an announced bridge: try again as a plain client.
      if (opts.bridge === true && err.reasonCode === 0x01) this.tryPrivateAccepted = false;
    });
  }

  private connected(client: MqttClient, connack: ConnackPacket): void {
    if (client !== this.client) return;
    const cfg = this.config;
    this.state = 'connected';
    this.stats.connects++;
    this.backoff = cfg.backoffBase;
    this.lastActivity = Date.now();
    const p = connack.properties;
    this.remoteMaxQos = (p?.maximumQoS ?? 2) as QoS;
    this.remoteRetain = p?.retainAvailable !== 0;
    this.remoteMaxPacket = p?.maximumPacketSize ?? 0;
    this.log?.info(`Bridge ${cfg.name} connected to ${client.options.host}:${client.options.port}`);
    this.notifyRemote(client, true);
    this.notifyLocal(true);
    const v5 = this.version === 5;
    const subs: SubscriptionRequest[] = [];
    for (const r of this.topics.inbound) {
      subs.push({
        topic: r.remoteFilter,
        qos: (r.qos < this.remoteMaxQos ? r.qos : this.remoteMaxQos) as QoS,
        // v5 says it in the SUBSCRIBE; a v3 remote learns it from try_private.
        noLocal: v5,
        retainAsPublished: v5,
        retainHandling: 0 as const,
      });
    }
    if (subs.length > 0) {
      client.subscribe(subs).then(
        (codes) => {
          codes.forEach((c, i) => {
            if (c >= 0x80) this.problem(`remote refused subscription ${subs[i]!.topic}`);
          });
        },
        () => {},
      );
    }
    if (cfg.attemptUnsubscribe) {
      // An `out` line may have been `in` before, and the remote session remembers it.
      const stale = this.topics.rules
        .filter((r) => r.direction === 'out')
        .map((r) => r.remoteFilter);
      if (stale.length > 0) client.unsubscribe(stale).catch(() => {});
    }
    this.sendRetained();
    this.pump();
    if (cfg.startType === 'lazy') this.armIdleTimer();
    if (!cfg.roundRobin && this.addressIndex !== 0) this.armPrimaryProbe();
  }

  /** Logs a warning and keeps it as the last error operators see. */
  private problem(message: string): void {
    this.lastError = { message, at: Date.now() };
    this.log?.warn(`Bridge ${this.config.name}: ${message}`);
  }

  /** The client finished: lost, refused, or ended by us. */
  private ended(client: MqttClient): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.queue.requeue(this.lost);
    this.lost = [];
    const cfg = this.config;
    const wasConnected = this.state === 'connected';
    this.clearTimers();
    if (wasConnected) {
      this.log?.info(`Bridge ${cfg.name} disconnected.`);
      // Mosquitto's local copy of the bridge will.
      this.notifyLocal(false);
    }
    const purpose = this.closingOnPurpose;
    this.closingOnPurpose = undefined;
    if (this.state === 'stopped') return;
    if (purpose === 'idle' || cfg.startType === 'once') {
      this.state = 'idle';
      return;
    }
    if (purpose === 'primary') {
      this.addressIndex = 0;
      this.state = 'waiting';
      this.timer = setTimeout(() => this.connect(), 0);
      return;
    }
    this.addressIndex = (this.addressIndex + 1) % cfg.addresses.length;
    if (cfg.startType === 'lazy' && this.queue.length < cfg.threshold) {
      this.state = 'idle';
      return;
    }
    this.state = 'waiting';
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, this.nextDelay());
  }

  /** Seconds → ms until the next attempt: restart_timeout, or Mosquitto's jittered backoff. */
  private nextDelay(): number {
    const cfg = this.config;
    if (cfg.restartTimeout > 0 || cfg.backoffCap === 0) return cfg.restartTimeout * 1000;
    const base = cfg.backoffBase;
    const hi = Math.max(base, this.backoff * 3);
    this.backoff = Math.min(cfg.backoffCap, base + Math.random() * (hi - base));
    return this.backoff * 1000;
  }

  private clearTimers(): void {
    clearTimeout(this.timer);
    clearInterval(this.idleTimer);
    clearInterval(this.primaryTimer);
    this.timer = this.idleTimer = this.primaryTimer = undefined;
  }

  /** Lazy bridges hang up after idle_timeout seconds without traffic. */
  private armIdleTimer(): void {
    const ms = this.config.idleTimeout * 1000;
    this.idleTimer = setInterval(
      () => {
        if (Date.now() - this.lastActivity < ms || this.queue.length > 0) return;
        const c = this.client;
        if (c === undefined || this.state !== 'connected') return;
        if (c.inflightCount > 0 || c.queuedCount > 0) return;
        this.log?.info(
          `Bridge ${this.config.name} idle for ${this.config.idleTimeout} s: disconnecting.`,
        );
        this.closingOnPurpose = 'idle';
        this.notifyRemote(c, false);
        void c.end();
      },
      Math.min(ms, 1000),
    );
    this.idleTimer.unref();
  }

  /** On a fallback address (no round_robin), go back to the primary once it accepts connections. */
  private armPrimaryProbe(): void {
    const primary = this.config.addresses[0]!;
    this.primaryTimer = setInterval(
      () => {
        const s = net.connect({ host: primary.host, port: primary.port });
        s.once('error', () => s.destroy());
        s.once('connect', () => {
          s.destroy();
          const c = this.client;
          if (c === undefined || this.state !== 'connected' || this.addressIndex === 0) return;
          this.log?.info(`Bridge ${this.config.name}: primary broker is back, switching.`);
          this.closingOnPurpose = 'primary';
          c.destroy();
        });
      },
      (this.tuning.primaryRetry ?? 5) * 1000,
    );
    this.primaryTimer.unref();
  }

  // ---------------------------------------------------------------- notifications

  private notifyLocal(up: boolean): void {
    const cfg = this.config;
    if (!cfg.notifications) return;
    this.broker.publishAs(this.session, {
      topic: cfg.notificationTopic,
      payload: up ? ONE : NOTIFY_DOWN,
      qos: 1,
      retain: true,
    });
  }

  private notifyRemote(client: MqttClient, up: boolean): void {
    const cfg = this.config;
    if (!cfg.notifications || cfg.notificationsLocalOnly) return;
    const qos = (this.remoteMaxQos > 0 ? 1 : 0) as QoS;
    const retain = this.remoteRetain && cfg.outgoingRetain;
    client.send(
      cfg.notificationTopic,
      up ? ONE : NOTIFY_DOWN,
      PLAIN_OPTIONS[qos * 2 + (retain ? 1 : 0)],
    );
  }

  // ---------------------------------------------------------------- local → remote

  /** The local session takes no window from the bridge: it queues and paces on its own. */
  readonly receiveMaximum = 65535;

  /** @internal Called by the broker's routing loop for every local message an `out` rule matches. */
  sendPublish(msg: Message, qos: QoS, retain: boolean): DropReason {
    const m = this.outgoing(msg, qos, retain);
    return m === undefined ? DropReason.None : this.forward(m);
  }

  /** The remote form of a local message; undefined when no `out` rule matches or it has expired. */
  private outgoing(msg: Message, qos: QoS, retain: boolean): OutgoingMessage | undefined {
    const rule = this.topics.outboundRule(msg.topic);
    if (rule === undefined) return undefined;
    let properties: Properties | undefined;
    if (this.version === 5) {
      properties = msg.properties;
      if (msg.expiresAt !== 0) {
        const left = Math.ceil((msg.expiresAt - Date.now()) / 1000);
        if (left <= 0) return undefined;
        properties = { ...properties, messageExpiryInterval: left };
      }
    }
    return {
      topic: toRemote(rule, msg.topic),
      payload: msg.payload,
      qos,
      retain,
      properties,
      source: msg,
      seq: 0,
    };
  }

  /** Sends now when connected with room, else queues (or drops, counting it). */
  private forward(m: OutgoingMessage): DropReason {
    const c = this.client;
    if (
      c !== undefined &&
      this.state === 'connected' &&
      this.queue.length === 0 &&
      c.inflightCount + c.queuedCount < CLIENT_WINDOW
    ) {
      // Stored before it leaves: the routing pass that brought it is still in the commit window.
      if (this.store !== undefined && m.qos > 0) this.store.stored(m);
      this.transmit(c, m);
      return DropReason.None;
    }
    if (m.qos === 0 && this.state !== 'connected') {
      // Like a persistent client: QoS 0 waits only with queue_qos0_messages (lazy bridges always).
      if (!this.broker.options.queueQos0Messages && this.config.startType !== 'lazy') {
        return this.drop();
      }
    }
    if (!this.queue.push(m)) return this.drop();
    if (this.store !== undefined && m.qos > 0) this.store.stored(m);
    if (this.state === 'idle' && this.config.startType === 'lazy') {
      if (this.queue.length >= this.config.threshold) this.connect();
    }
    return DropReason.None;
  }

  /** @internal Never called: an in-process session gives its sink no packet ids, so no PUBREL. */
  sendPubrel(): void {}

  private drop(): DropReason {
    this.stats.dropped++;
    this.session.countDrop();
    return DropReason.QueueFull;
  }

  private transmit(c: MqttClient, m: OutgoingMessage): void {
    let qos = m.qos;
    if (qos > this.remoteMaxQos) qos = this.remoteMaxQos;
    const retain = m.retain && this.config.outgoingRetain && this.remoteRetain;
    const max = this.maxPacket();
    if (max > 0 && m.payload.length + Buffer.byteLength(m.topic) + 8 > max) {
      this.forget(m);
      this.drop();
      return;
    }
    if (qos === 0 && c.bufferedAmount > MAX_BUFFERED) {
      this.forget(m);
      this.drop();
      return;
    }
    this.lastActivity = Date.now();
    this.stats.sent++;
    const options =
      m.properties === undefined
        ? PLAIN_OPTIONS[qos * 2 + (retain ? 1 : 0)]!
        : { qos, retain, properties: m.properties };
    c.send(m.topic, m.payload, options, qos === 0 ? undefined : this.onSent, m);
    // A remote that takes only QoS 0 gives nothing to wait for.
    if (qos === 0) this.forget(m);
  }

  /** The message is done with (delivered, refused or dropped): its stored copy goes. */
  private forget(m: OutgoingMessage): void {
    if (m.seq !== 0) this.store!.removed(m);
  }

  private maxPacket(): number {
    const a = this.config.maxPacketSize;
    const b = this.remoteMaxPacket;
    if (a === 0) return b;
    if (b === 0) return a;
    return a < b ? a : b;
  }

  /** A QoS 1/2 publish finished: acknowledged, refused, or cut off by a lost connection. */
  private sent(err: Error | undefined, p: PublishPacket, m: OutgoingMessage): void {
    if (err !== undefined) {
      const refused = err instanceof PublishError;
      if (refused || this.state === 'stopped') {
        this.stats.dropped++;
        this.log?.debug(`Bridge ${this.config.name}: ${p.topic} not delivered: ${err.message}`);
        // Refused by the remote: final. Cut off by stop(): the stored copy waits for the next start.
        if (refused) this.forget(m);
        return;
      }
      // The connection went away before the acknowledgement: send it again on the next one.
      this.stats.sent--;
      this.lost.push(m);
      return;
    }
    this.forget(m);
    if (this.queue.length > 0) this.pump();
  }

  /** Moves queued messages to the client while it has room. */
  private pump(): void {
    const c = this.client;
    while (
      c !== undefined &&
      this.state === 'connected' &&
      this.queue.length > 0 &&
      c.inflightCount + c.queuedCount < CLIENT_WINDOW
    ) {
      this.transmit(c, this.queue.shift()!);
    }
  }

  /** On connect, the local retained messages of `out` topics go to the remote (as Mosquitto does). */
  private sendRetained(): void {
    const found: Message[] = [];
    const now = Date.now();
    for (const r of this.topics.outbound) {
      found.length = 0;
      this.broker.retained.match(r.localFilter, found);
      for (const msg of found) {
        if (msg.isExpired(now) || msg.origin === this.session.clientId) continue;
        // Only the first matching rule carries a topic, like live messages.
        if (this.topics.outboundRule(msg.topic) !== r) continue;
        this.sendPublish(msg, (msg.qos < r.qos ? msg.qos : r.qos) as QoS, true);
      }
    }
  }

  // ---------------------------------------------------------------- remote → local

  private fromRemote(topic: string, payload: Buffer, p: PublishPacket): void {
    const rule = this.topics.inboundRule(topic);
    if (rule === undefined) return;
    this.lastActivity = Date.now();
    this.stats.received++;
    const message = {
      topic: toLocal(rule, topic),
      payload,
      qos: p.qos,
      retain: p.retain,
      properties: forwardableProperties(p.properties),
    };
    // QoS 1/2: our client has acknowledged it, so a full local queue takes it and
    // the remote stops being read (as a publishing client would), not a drop.
    const gate = p.qos > 0 ? this.session.limits.gate : undefined;
    if (gate === undefined) {
      this.broker.publishAs(this.session, message);
      return;
    }
    gate.begin(this.input, this.session);
    try {
      this.broker.publishAs(this.session, message);
    } finally {
      gate.end();
    }
  }
}
