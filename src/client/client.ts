/**
 * The MQTT client: one logical connection to a server that survives network
 * loss (reconnect with backoff, session resume, re-sending unacknowledged
 * messages), speaking 3.1, 3.1.1 or 5.0 through Heron's codec.
 *
 * Hot path: `send()` publishes without allocating a promise; acks are matched by
 * packet id in a Map; outgoing packets are batched per event-loop turn by the
 * transport. `publish()` is the convenient promise form of the same thing.
 */
import { EventEmitter } from 'node:events';
import { PacketType, type ProtocolVersion, type QoS } from '../protocol/constants.js';
import { Decoder, type PacketSink } from '../protocol/decoder.js';
import { encode, encodePublish } from '../protocol/encoder.js';
import { ProtocolError } from '../protocol/errors.js';
import type {
  AckPacketBase,
  ConnackPacket,
  DisconnectPacket,
  Packet,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
  Will,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import { isValidTopicFilter, isValidTopicName } from '../protocol/topic.js';
import {
  ClientClosedError,
  ClientTimeoutError,
  ConnackError,
  connackMessage,
  PublishError,
  reasonCodeText,
} from './errors.js';
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.js';
import { PacketIdMap } from './packet-ids.js';
import { type ClientTransport, openTransport, type TransportHandler } from './transport.js';

/** Options of one publish. Reuse one object across calls on hot paths. */
export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /** v5 PUBLISH properties (messageExpiryInterval, responseTopic, userProperties, ...). */
  properties?: Properties;
}

/**
 * Completion of a `send()`: err is set when the publish failed or the client closed first;
 * `tag` is the value given to `send()` (lets one shared callback find its own record).
 */
export type PublishCallback = (err: Error | undefined, packet: PublishPacket, tag: unknown) => void;

/** Acknowledgement that completed a QoS 1 (PUBACK) or QoS 2 (PUBCOMP) publish. */
export type PublishAck = AckPacketBase & { type: number };

/** Options applied to every filter of one `subscribe()` call (a filter object can override them). */
export interface SubscribeOptions {
  qos?: QoS;
  /** v5: don't receive own publishes. */
  noLocal?: boolean;
  /** v5: keep the retain flag as published. */
  retainAsPublished?: boolean;
  /** v5: 0 send retained on subscribe, 1 only for new subscriptions, 2 never. */
  retainHandling?: 0 | 1 | 2;
  /** v5 SUBSCRIBE properties (subscriptionIdentifiers, userProperties). */
  properties?: Properties;
}

/** A filter with its own options, for `subscribe([...])`. */
export type SubscriptionRequest = { topic: string } & Omit<SubscribeOptions, 'properties'>;

/** Lifecycle of the client. */
export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Events and listener signatures of {@link MqttClient}. */
export interface ClientEvents {
  message: [topic: string, payload: Buffer, packet: PublishPacket];
  connect: [connack: ConnackPacket];
  /** The connection was lost or closed (a reconnect may follow). */
  close: [];
  /** The client is finished: ended by the caller, or lost with reconnect disabled. */
  end: [];
  /** Transport, protocol or refused-connection errors after the first connect. */
  error: [err: Error];
  /** A reconnect attempt is starting. */
  reconnect: [attempt: number];
  /** The server sent a v5 DISCONNECT. */
  disconnect: [packet: DisconnectPacket];
  /** The transport drained after `needDrain` was true. */
  drain: [];
}

enum Entry {
  Publish = 0,
  Subscribe = 1,
  Unsubscribe = 2,
}

/** States of an outgoing QoS>0 publish. */
enum Step {
  AwaitPuback = 1,
  AwaitPubrec = 2,
  AwaitPubcomp = 3,
}

interface OutgoingPublish {
  kind: Entry.Publish;
  packet: PublishPacket;
  step: Step;
  done: PublishCallback | undefined;
  tag: unknown;
  resolve: ((ack: PublishAck | undefined) => void) | undefined;
  reject: ((err: Error) => void) | undefined;
}

interface PendingRequest {
  kind: Entry.Subscribe | Entry.Unsubscribe;
  packet: SubscribePacket | UnsubscribePacket;
  /** Not sent on the current connection yet. */
  sent: boolean;
  resolve: ((codes: number[]) => void) | undefined;
  reject: ((err: Error) => void) | undefined;
}

type Tracked = OutgoingPublish | PendingRequest;

interface QueuedQos0 {
  buffer: Buffer;
  packet: PublishPacket;
  done: PublishCallback | undefined;
}

const NO_OPTIONS: PublishOptions = {};

/** An MQTT client; create it with {@link connect}. */
export class MqttClient extends EventEmitter<ClientEvents> implements PacketSink, TransportHandler {
  /** The resolved options this client runs with. */
  readonly options: ResolvedClientOptions;
  /** Protocol version spoken. */
  readonly protocolVersion: ProtocolVersion;
  /** Client id in use (the server's assigned id once a v5 CONNACK carries one). */
  clientId: string;
  /** Current lifecycle state. */
  state: ClientState = 'connecting';
  /** The last CONNACK received. */
  connack: ConnackPacket | undefined;

  private transport: ClientTransport | undefined;
  private decoder: Decoder;
  private readonly tracked = new PacketIdMap<Tracked>();
  /** QoS>0 publishes waiting for an inflight slot (or for the connection). */
  private waiting: OutgoingPublish[] = [];
  private waitingHead = 0;
  private inflight = 0;
  private quota: number;
  private offline: QueuedQos0[] = [];
  /** Incoming QoS 2 ids received and not yet released. */
  private readonly incomingQos2 = new Set<number>();
  private readonly topicAliases = new Map<number, string>();
  /** Granted subscriptions, replayed when a reconnect finds no session. */
  private readonly subscriptions = new Map<string, Subscription & { properties?: Properties }>();
  private connectedOnce = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingOutstanding = false;
  private missedPings = 0;
  private sentSinceTick = false;
  private lastError: Error | undefined;
  private ending = false;
  private firstConnect:
    | { resolve: (c: MqttClient) => void; reject: (e: Error) => void }
    | undefined;
  private endWaiters: Array<() => void> = [];
  /** The will as every CONNECT carries it (built once, not per reconnect). */
  private readonly will: Will | undefined;

  constructor(options: string | ClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    this.protocolVersion = this.options.protocolVersion;
    this.clientId = this.options.clientId;
    this.quota = this.options.maxInflight;
    this.decoder = new Decoder(this, { protocolVersion: this.protocolVersion });
    const will = this.options.will;
    this.will =
      will === undefined
        ? undefined
        : {
            topic: will.topic,
            payload:
              typeof will.payload === 'string'
                ? Buffer.from(will.payload)
                : (will.payload ?? Buffer.alloc(0)),
            qos: will.qos ?? 0,
            retain: will.retain === true,
            properties: this.protocolVersion === 5 ? will.properties : undefined,
          };
  }

  /** Opens the first connection; resolves on a successful CONNACK, rejects if it fails. */
  start(): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      this.open();
    });
  }

  /** True while a session is established with the server. */
  get connected(): boolean {
    return this.state === 'connected';
  }

  /** QoS 1/2 publishes sent and not yet fully acknowledged. */
  get inflightCount(): number {
    return this.inflight;
  }

  /** Publishes held back: waiting for an inflight slot, or for the connection. */
  get queuedCount(): number {
    return this.waiting.length - this.waitingHead + this.offline.length;
  }

  /** Bytes written but not yet taken by the kernel; compare with a limit for backpressure. */
  get bufferedAmount(): number {
    return this.transport?.bufferedAmount ?? 0;
  }

  /** True when the transport asked to wait for 'drain'. */
  get needDrain(): boolean {
    return this.transport?.needDrain ?? false;
  }

  /**
   * Publishes; resolves when acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP) with that ack,
   * or with undefined once handed to the transport (QoS 0). Rejects with PublishError on a
   * v5 failure reason code and ClientClosedError if the client ends first.
   */
  publish(
    topic: string,
    payload: Buffer | Uint8Array | string,
    options: PublishOptions = NO_OPTIONS,
  ): Promise<PublishAck | undefined> {
    return new Promise((resolve, reject) => {
      try {
        this.enqueue(topic, payload, options, undefined, resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * Fire-and-forget publish: no promise. `done` (pass one shared function on hot paths)
   * runs when the publish is acknowledged (QoS>0) or handed to the transport (QoS 0),
   * and receives `tag` back. Throws TypeError for an invalid topic and ClientClosedError
   * after end().
   */
  send(
    topic: string,
    payload: Buffer | Uint8Array | string,
    options: PublishOptions = NO_OPTIONS,
    done?: PublishCallback,
    tag?: unknown,
  ): void {
    this.enqueue(topic, payload, options, done, undefined, undefined, tag);
  }

  private enqueue(
    topic: string,
    payload: Buffer | Uint8Array | string,
    options: PublishOptions,
    done: PublishCallback | undefined,
    resolve: ((ack: PublishAck | undefined) => void) | undefined,
    reject: ((err: Error) => void) | undefined,
    tag?: unknown,
  ): void {
    if (this.state === 'closed' || this.ending) throw new ClientClosedError();
    const aliased = options.properties?.topicAlias !== undefined;
    if (!(topic === '' && aliased) && !isValidTopicName(topic)) {
      throw new TypeError(`invalid topic name '${topic}'`);
    }
    const qos = options.qos ?? 0;
    const packet: PublishPacket = {
      type: PacketType.PUBLISH,
      topic,
      payload:
        typeof payload === 'string'
          ? Buffer.from(payload)
          : Buffer.isBuffer(payload)
            ? payload
            : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      qos,
      retain: options.retain === true,
      dup: false,
      packetId: 0,
      properties: this.protocolVersion === 5 ? options.properties : undefined,
    };
    if (qos === 0) {
      const buffer = encodePublish(packet, this.protocolVersion).buffer;
      if (this.state === 'connected') {
        this.write(buffer, packet);
        done?.(undefined, packet, undefined);
        resolve?.(undefined);
      } else {
        this.offline.push({
          buffer,
          packet,
          done: resolve ? (_e, _p) => resolve(undefined) : done,
        });
      }
      return;
    }
    const entry: OutgoingPublish = {
      kind: Entry.Publish,
      packet,
      step: qos === 1 ? Step.AwaitPuback : Step.AwaitPubrec,
      done,
      tag,
      resolve,
      reject,
    };
    if (
      this.state === 'connected' &&
      this.inflight < this.quota &&
      this.waitingHead === this.waiting.length
    ) {
      this.transmit(entry);
    } else {
      this.waiting.push(entry);
    }
  }

  /** Gives a publish an id and writes it (caller checked the inflight quota). */
  private transmit(entry: OutgoingPublish): boolean {
    const id = this.tracked.allocate(entry);
    if (id === 0) return false;
    entry.packet.packetId = id;
    this.inflight++;
    this.write(encodePublish(entry.packet, this.protocolVersion).buffer, entry.packet);
    return true;
  }

  /** Sends waiting publishes while the inflight window has room. */
  private pump(): void {
    const w = this.waiting;
    while (
      this.waitingHead < w.length &&
      this.inflight < this.quota &&
      this.state === 'connected'
    ) {
      if (!this.transmit(w[this.waitingHead])) break;
      w[this.waitingHead++] = undefined as unknown as OutgoingPublish;
    }
    if (this.waitingHead === w.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else if (this.waitingHead > 1024 && this.waitingHead * 2 > w.length) {
      this.waiting = w.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /**
   * Subscribes; resolves to one code per filter (granted QoS 0-2, or a failure code >= 0x80).
   * Filters may be strings (taking `options`) or objects with their own options.
   */
  subscribe(
    filters: string | ReadonlyArray<string | SubscriptionRequest>,
    options: SubscribeOptions = {},
  ): Promise<number[]> {
    const list = typeof filters === 'string' ? [filters] : filters;
    const subscriptions: Subscription[] = [];
    for (const f of list) {
      const r = typeof f === 'string' ? { topic: f } : f;
      if (!isValidTopicFilter(r.topic)) {
        return Promise.reject(new TypeError(`invalid topic filter '${r.topic}'`));
      }
      subscriptions.push({
        topic: r.topic,
        qos: r.qos ?? options.qos ?? 0,
        noLocal: r.noLocal ?? options.noLocal ?? false,
        retainAsPublished: r.retainAsPublished ?? options.retainAsPublished ?? false,
        retainHandling: r.retainHandling ?? options.retainHandling ?? 0,
      });
    }
    if (subscriptions.length === 0) return Promise.reject(new TypeError('no topic filter given'));
    const packet: SubscribePacket = {
      type: PacketType.SUBSCRIBE,
      packetId: 0,
      subscriptions,
      properties: this.protocolVersion === 5 ? options.properties : undefined,
    };
    return this.request(Entry.Subscribe, packet);
  }

  /** Unsubscribes; resolves to the v5 reason codes (an empty array for v3). */
  unsubscribe(filters: string | readonly string[], properties?: Properties): Promise<number[]> {
    const topics = typeof filters === 'string' ? [filters] : [...filters];
    const packet: UnsubscribePacket = {
      type: PacketType.UNSUBSCRIBE,
      packetId: 0,
      topics,
      properties: this.protocolVersion === 5 ? properties : undefined,
    };
    for (const t of topics) this.subscriptions.delete(t);
    return this.request(Entry.Unsubscribe, packet);
  }

  private request(
    kind: Entry.Subscribe | Entry.Unsubscribe,
    packet: SubscribePacket | UnsubscribePacket,
  ): Promise<number[]> {
    if (this.state === 'closed' || this.ending) return Promise.reject(new ClientClosedError());
    return new Promise((resolve, reject) => {
      const entry: PendingRequest = { kind, packet, sent: false, resolve, reject };
      const id = this.tracked.allocate(entry);
      if (id === 0) {
        reject(new Error('no free packet identifier'));
        return;
      }
      packet.packetId = id;
      if (this.state === 'connected') {
        entry.sent = true;
        this.sendPacket(packet);
      }
    });
  }

  /**
   * Disconnects cleanly (DISCONNECT, then close) and stops reconnecting. Operations still
   * pending reject with ClientClosedError. v5: pass a reason code (0x04 sends the will)
   * and properties (e.g. sessionExpiryInterval).
   */
  end(options: { reasonCode?: number; properties?: Properties } = {}): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const wait = new Promise<void>((resolve) => this.endWaiters.push(resolve));
    if (this.ending) return wait;
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const t = this.transport;
    if (t === undefined) {
      this.finish(new ClientClosedError());
    } else if (this.state === 'connected') {
      this.sendPacket({
        type: PacketType.DISCONNECT,
        reasonCode: options.reasonCode ?? 0,
        properties: this.protocolVersion === 5 ? options.properties : undefined,
      });
      t.end();
    } else {
      t.destroy();
    }
    return wait;
  }

  /** Drops the connection at once without DISCONNECT (the server publishes the will). */
  destroy(): void {
    if (this.state === 'closed') return;
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    if (this.transport) this.transport.destroy();
    else this.finish(new ClientClosedError());
  }

  // ---- connection lifecycle ----

  private open(): void {
    this.decoder = new Decoder(this, { protocolVersion: this.protocolVersion });
    this.lastError = undefined;
    this.transport = openTransport(this.options, this);
    const ms = this.options.connectTimeout;
    if (ms > 0) {
      this.connectTimer = setTimeout(() => {
        this.lastError = new ClientTimeoutError(`no CONNACK within ${ms} ms`);
        this.transport?.destroy();
      }, ms);
    }
  }

  /** @internal transport callback */
  onTransportOpen(): void {
    const o = this.options;
    const v = this.protocolVersion;
    // A reconnect keeps the session the first connect created: v5 asks to resume it.
    const clean = this.connectedOnce && v === 5 ? false : o.clean;
    this.sendPacket({
      type: PacketType.CONNECT,
      protocolName: v === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: v,
      clean,
      keepalive: o.keepalive,
      clientId: this.clientId,
      will: this.will,
      username: o.username,
      password: o.password,
      properties: v === 5 ? o.properties : undefined,
      bridge: o.bridge,
    });
  }

  /** @internal transport callback */
  onTransportData(chunk: Buffer): void {
    try {
      this.decoder.feed(chunk);
    } catch (err) {
      this.lastError = err as Error;
      if (
        this.protocolVersion === 5 &&
        this.state === 'connected' &&
        err instanceof ProtocolError
      ) {
        this.sendPacket({ type: PacketType.DISCONNECT, reasonCode: err.reasonCode });
        this.transport?.end();
      } else {
        this.transport?.destroy();
      }
    }
  }

  /** @internal transport callback */
  onTransportError(err: Error): void {
    this.lastError = err;
  }

  /** @internal transport callback */
  onTransportDrain(): void {
    this.emit('drain');
  }

  /** @internal transport callback */
  onTransportClose(): void {
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    this.connectTimer = undefined;
    this.pingTimer = undefined;
    this.transport = undefined;
    const wasConnected = this.state === 'connected';
    if (this.ending) {
      this.finish(new ClientClosedError());
      return;
    }
    if (this.firstConnect !== undefined) {
      const err = this.lastError ?? new Error('connection closed before CONNACK');
      this.finish(new ClientClosedError(err.message), err);
      return;
    }
    if (this.options.reconnect === undefined) {
      if (this.lastError !== undefined && this.listenerCount('error') > 0) {
        this.emit('error', this.lastError);
      }
      this.finish(new ClientClosedError('connection lost'));
      return;
    }
    this.state = 'reconnecting';
    if (wasConnected) this.emit('close');
    if (this.lastError !== undefined && this.listenerCount('error') > 0) {
      this.emit('error', this.lastError);
    }
    if (this.state !== 'reconnecting') return;
    const r = this.options.reconnect;
    const delay = Math.min(r.maxDelay, r.initialDelay * r.factor ** this.attempt);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.state = 'connecting';
      this.emit('reconnect', this.attempt);
      this.open();
    }, delay);
  }

  /** Final close: rejects everything pending, settles the first connect, emits 'end'. */
  private finish(reason: Error, firstError?: Error): void {
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    for (const e of this.tracked.drain()) {
      if (e.kind === Entry.Publish) this.settle(e, reason, undefined);
      else e.reject?.(reason);
    }
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      this.settle(this.waiting[i], reason, undefined);
    }
    this.waiting = [];
    this.waitingHead = 0;
    for (const q of this.offline) q.done?.(reason, q.packet, undefined);
    this.offline = [];
    this.inflight = 0;
    const first = this.firstConnect;
    this.firstConnect = undefined;
    if (first !== undefined) first.reject(firstError ?? reason);
    if (wasConnected) this.emit('close');
    this.emit('end');
    for (const w of this.endWaiters.splice(0)) w();
  }

  private onConnack(p: ConnackPacket): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (p.reasonCode !== 0) {
      const err = new ConnackError(
        p.reasonCode,
        connackMessage(p.reasonCode, this.protocolVersion),
      );
      this.lastError = err;
      this.transport?.destroy();
      return;
    }
    const resumed = this.connectedOnce;
    this.connack = p;
    this.state = 'connected';
    this.connectedOnce = true;
    this.attempt = 0;
    const props = p.properties;
    if (props?.assignedClientIdentifier !== undefined)
      this.clientId = props.assignedClientIdentifier;
    this.quota = Math.min(this.options.maxInflight, props?.receiveMaximum ?? 65535);
    this.topicAliases.clear();
    if (!p.sessionPresent) this.incomingQos2.clear();
    this.startKeepalive(props?.serverKeepAlive ?? this.options.keepalive);
    if (resumed) this.resume(p.sessionPresent);
    if (this.offline.length > 0) {
      const q = this.offline;
      this.offline = [];
      for (const m of q) {
        this.write(m.buffer, m.packet);
        m.done?.(undefined, m.packet, undefined);
      }
    }
    // Requests made while the first connection was opening.
    for (const e of this.tracked.values()) {
      if (e.kind !== Entry.Publish && !e.sent) {
        e.sent = true;
        this.sendPacket(e.packet);
      }
    }
    this.pump();
    const first = this.firstConnect;
    this.firstConnect = undefined;
    this.emit('connect', p);
    first?.resolve(this);
  }

  /** After a reconnect: replay subscriptions if the session is gone, re-send what is unacknowledged. */
  private resume(sessionPresent: boolean): void {
    if (!sessionPresent && this.options.resubscribe && this.subscriptions.size > 0) {
      // One SUBSCRIBE per distinct property set keeps subscription identifiers right.
      const groups = new Map<Properties | undefined, Subscription[]>();
      for (const s of this.subscriptions.values()) {
        let g = groups.get(s.properties);
        if (g === undefined) groups.set(s.properties, (g = []));
        g.push({
          topic: s.topic,
          qos: s.qos,
          noLocal: s.noLocal,
          retainAsPublished: s.retainAsPublished,
          retainHandling: s.retainHandling,
        });
      }
      for (const [properties, subscriptions] of groups) {
        const packet: SubscribePacket = {
          type: PacketType.SUBSCRIBE,
          packetId: 0,
          subscriptions,
          properties,
        };
        const entry: PendingRequest = {
          kind: Entry.Subscribe,
          packet,
          sent: true,
          resolve: undefined,
          reject: undefined,
        };
        packet.packetId = this.tracked.allocate(entry);
        if (packet.packetId !== 0) this.sendPacket(packet);
      }
    }
    let inflight = 0;
    const finished: OutgoingPublish[] = [];
    for (const e of this.tracked.values()) {
      if (e.kind !== Entry.Publish) {
        e.sent = true;
        this.sendPacket(e.packet);
        continue;
      }
      if (e.step === Step.AwaitPubcomp) {
        if (sessionPresent) {
          inflight++;
          this.sendAck(0x62, PacketType.PUBREL, e.packet.packetId);
        } else {
          // The server received it (PUBREC) and has since forgotten the exchange.
          finished.push(e);
        }
        continue;
      }
      inflight++;
      e.packet.dup = true;
      this.write(encodePublish(e.packet, this.protocolVersion).buffer, e.packet);
    }
    this.inflight = inflight;
    for (const e of finished) {
      this.tracked.delete(e.packet.packetId);
      this.settle(e, undefined, undefined);
    }
  }

  private startKeepalive(seconds: number): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.pingOutstanding = false;
    this.missedPings = 0;
    if (seconds <= 0) return;
    // Ticking at half the keep alive guarantees a packet at least once per keep alive.
    this.pingTimer = setInterval(() => this.keepaliveTick(), seconds * 500);
    this.pingTimer.unref();
  }

  private keepaliveTick(): void {
    if (this.pingOutstanding) {
      if (++this.missedPings >= 2) {
        this.lastError = new ClientTimeoutError('no PINGRESP from the server');
        this.transport?.destroy();
      }
      return;
    }
    if (!this.sentSinceTick) {
      this.pingOutstanding = true;
      this.missedPings = 0;
      this.sendPacket({ type: PacketType.PINGREQ });
    }
    this.sentSinceTick = false;
  }

  // ---- packets in ----

  /** @internal decoder callback */
  onPacket(p: Packet): void {
    this.options.trace?.('receive', p);
    switch (p.type) {
      case PacketType.PUBLISH:
        this.onPublish(p);
        break;
      case PacketType.PUBACK:
        this.onPublishAck(p.packetId, Step.AwaitPuback, p);
        break;
      case PacketType.PUBREC: {
        const e = this.tracked.get(p.packetId);
        if (e?.kind === Entry.Publish && e.step === Step.AwaitPubrec) {
          if (p.reasonCode >= 0x80) {
            this.onPublishAck(p.packetId, Step.AwaitPubrec, p);
            break;
          }
          e.step = Step.AwaitPubcomp;
        }
        if (e === undefined && this.protocolVersion === 5) {
          this.sendPacket({ type: PacketType.PUBREL, packetId: p.packetId, reasonCode: 0x92 });
        } else {
          this.sendAck(0x62, PacketType.PUBREL, p.packetId);
        }
        break;
      }
      case PacketType.PUBREL:
        this.incomingQos2.delete(p.packetId);
        this.sendAck(0x70, PacketType.PUBCOMP, p.packetId);
        break;
      case PacketType.PUBCOMP:
        this.onPublishAck(p.packetId, Step.AwaitPubcomp, p);
        break;
      case PacketType.SUBACK:
      case PacketType.UNSUBACK:
        this.onRequestAck(p);
        break;
      case PacketType.PINGRESP:
        this.pingOutstanding = false;
        this.missedPings = 0;
        break;
      case PacketType.CONNACK:
        this.onConnack(p);
        break;
      case PacketType.DISCONNECT:
        this.lastError = new Error(`server disconnected: ${reasonCodeText(p.reasonCode)}`);
        this.emit('disconnect', p);
        this.transport?.destroy();
        break;
      default:
        break;
    }
  }

  private onPublish(p: PublishPacket): void {
    const alias = p.properties?.topicAlias;
    if (alias !== undefined) {
      if (p.topic === '') p.topic = this.topicAliases.get(alias) ?? '';
      else this.topicAliases.set(alias, p.topic);
    }
    if (p.qos === 0) {
      this.emit('message', p.topic, p.payload, p);
    } else if (p.qos === 1) {
      // Acknowledged first, as libmosquitto does: the ack only joins this turn's write
      // batch, so the handler still runs before it reaches the wire.
      this.sendAck(0x40, PacketType.PUBACK, p.packetId);
      this.emit('message', p.topic, p.payload, p);
    } else {
      if (!this.incomingQos2.has(p.packetId)) {
        this.incomingQos2.add(p.packetId);
        this.emit('message', p.topic, p.payload, p);
      }
      this.sendAck(0x50, PacketType.PUBREC, p.packetId);
    }
  }

  private onPublishAck(id: number, step: Step, ack: PublishAck): void {
    const e = this.tracked.get(id);
    if (e === undefined || e.kind !== Entry.Publish || e.step !== step) return;
    this.tracked.delete(id);
    this.inflight--;
    const err =
      ack.reasonCode >= 0x80
        ? new PublishError(ack.reasonCode, `publish refused: ${reasonCodeText(ack.reasonCode)}`)
        : undefined;
    this.settle(e, err, ack);
    if (this.waitingHead < this.waiting.length) this.pump();
  }

  private settle(e: OutgoingPublish, err: Error | undefined, ack: PublishAck | undefined): void {
    e.done?.(err, e.packet, e.tag);
    if (err !== undefined) e.reject?.(err);
    else e.resolve?.(ack);
  }

  private onRequestAck(p: SubackPacket | UnsubackPacket): void {
    const e = this.tracked.get(p.packetId);
    if (e === undefined || e.kind === Entry.Publish) return;
    const expected = p.type === PacketType.SUBACK ? Entry.Subscribe : Entry.Unsubscribe;
    if (e.kind !== expected) return;
    this.tracked.delete(p.packetId);
    if (p.type === PacketType.SUBACK) {
      const sp = e.packet as SubscribePacket;
      for (let i = 0; i < sp.subscriptions.length; i++) {
        const code = p.reasonCodes[i];
        if (code !== undefined && code < 0x80) {
          const s = sp.subscriptions[i];
          this.subscriptions.set(s.topic, { ...s, properties: sp.properties });
        }
      }
    }
    e.resolve?.(p.reasonCodes);
  }

  // ---- packets out ----

  private write(buf: Buffer, packet: Packet): void {
    this.sentSinceTick = true;
    this.options.trace?.('send', packet);
    this.transport?.send(buf);
  }

  private sendPacket(p: Packet): void {
    this.write(encode(p, this.protocolVersion), p);
  }

  /** PUBACK/PUBREC/PUBREL/PUBCOMP with reason Success: the same 4 bytes in every version. */
  private sendAck(first: number, type: number, id: number): void {
    const buf = Buffer.allocUnsafe(4);
    buf[0] = first;
    buf[1] = 2;
    buf[2] = id >> 8;
    buf[3] = id & 0xff;
    this.sentSinceTick = true;
    if (this.options.trace) {
      this.options.trace('send', { type, packetId: id, reasonCode: 0 } as Packet);
    }
    this.transport?.send(buf);
  }
}

/** Connects to an MQTT server; resolves once the CONNACK accepts the connection. */
export function connect(options: string | ClientOptions): Promise<MqttClient> {
  return new MqttClient(options).start();
}
