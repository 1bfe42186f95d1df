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
import { PacketType, type ProtocolVersion } from '../protocol/constants.js';
import { Decoder, type PacketSink } from '../protocol/decoder.js';
import { encode } from '../protocol/encoder.js';
import { ProtocolError } from '../protocol/errors.js';
import type {
  ConnackPacket,
  Packet,
  PublishPacket,
  SubscribePacket,
  UnsubscribePacket,
  Will,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type {
  ClientEvents,
  ClientState,
  PublishAck,
  PublishCallback,
  PublishOptions,
  SubscribeOptions,
  SubscriptionRequest,
} from './client-types.js';
import {
  ClientClosedError,
  ClientTimeoutError,
  ConnackError,
  connackMessage,
  reasonCodeText,
} from './errors.js';
import { KeepAlive } from './keepalive.js';
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.js';
import { Outbox } from './outbox.js';
import { Entry, publishPacket, Step, subscribePacket } from './outgoing.js';
import { type ClientTransport, openTransport, type TransportHandler } from './transport.js';

export type {
  ClientEvents,
  ClientState,
  PublishAck,
  PublishCallback,
  PublishOptions,
  SubscribeOptions,
  SubscriptionRequest,
} from './client-types.js';

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
  private readonly outbox: Outbox;
  /** Incoming QoS 2 ids received and not yet released. */
  private readonly incomingQos2 = new Set<number>();
  private readonly topicAliases = new Map<number, string>();
  private connectedOnce = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly keepAlive = new KeepAlive(
    () => this.sendPacket({ type: PacketType.PINGREQ }),
    () => {
      this.lastError = new ClientTimeoutError('no PINGRESP from the server');
      this.transport?.destroy();
    },
  );
  private lastError: Error | undefined;
  private ending = false;
  /** pauseInput() is in force. */
  private inputPaused = false;
  private firstConnect:
    | { resolve: (c: MqttClient) => void; reject: (e: Error) => void }
    | undefined;
  private endWaiters: Array<() => void> = [];
  /** The will as every CONNECT carries it (built once, not per reconnect). */
  private readonly will: Will | undefined;

  constructor(options: string | ClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    const client = this;
    this.protocolVersion = this.options.protocolVersion;
    this.clientId = this.options.clientId;
    this.outbox = new Outbox(
      {
        get connected() {
          return client.state === 'connected';
        },
        write: (buf, packet) => this.write(buf, packet),
        sendPacket: (p) => this.sendPacket(p),
        sendAck: (first, type, id) => this.sendAck(first, type, id),
      },
      this.protocolVersion,
      this.options.maxInflight,
    );
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
    return this.outbox.inflightCount;
  }

  /** Publishes held back: waiting for an inflight slot, or for the connection. */
  get queuedCount(): number {
    return this.outbox.queuedCount;
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
    const packet = publishPacket(topic, payload, options, this.protocolVersion);
    this.outbox.publish(packet, done, resolve, reject, tag);
  }

  /**
   * Subscribes; resolves to one code per filter (granted QoS 0-2, or a failure code >= 0x80).
   * Filters may be strings (taking `options`) or objects with their own options.
   */
  subscribe(
    filters: string | ReadonlyArray<string | SubscriptionRequest>,
    options: SubscribeOptions = {},
  ): Promise<number[]> {
    const packet = subscribePacket(filters, options, this.protocolVersion);
    if (packet instanceof TypeError) return Promise.reject(packet);
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
    this.outbox.forget(topics);
    return this.request(Entry.Unsubscribe, packet);
  }

  private request(
    kind: Entry.Subscribe | Entry.Unsubscribe,
    packet: SubscribePacket | UnsubscribePacket,
  ): Promise<number[]> {
    if (this.state === 'closed' || this.ending) return Promise.reject(new ClientClosedError());
    return this.outbox.request(kind, packet);
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

  /**
   * Stops handling incoming packets after the current one, and reading the
   * connection, until resumeInput(): the owner cannot take more now (a bridge
   * whose local subscribers' queues are full). Holds across reconnects.
   */
  pauseInput(): void {
    if (this.inputPaused) return;
    this.inputPaused = true;
    if (this.state === 'connected') this.stopReading();
  }

  /** Undoes pauseInput(): decodes what was held back and reads on. */
  resumeInput(): void {
    if (!this.inputPaused) return;
    this.inputPaused = false;
    this.transport?.setReading(true);
    try {
      this.decoder.resume();
    } catch (err) {
      this.decodeFailed(err as Error);
    }
  }

  private stopReading(): void {
    this.decoder.pause();
    this.transport?.setReading(false);
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
      this.decodeFailed(err as Error);
    }
  }

  /** Bad bytes from the server: v5 says why in a DISCONNECT, older versions just close. */
  private decodeFailed(err: Error): void {
    this.lastError = err;
    if (this.protocolVersion === 5 && this.state === 'connected' && err instanceof ProtocolError) {
      this.sendPacket({ type: PacketType.DISCONNECT, reasonCode: err.reasonCode });
      this.transport?.end();
    } else {
      this.transport?.destroy();
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
    this.keepAlive.stop();
    this.connectTimer = undefined;
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
    this.outbox.failAll(reason);
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
    this.topicAliases.clear();
    if (!p.sessionPresent) this.incomingQos2.clear();
    this.keepAlive.start(props?.serverKeepAlive ?? this.options.keepalive);
    this.outbox.connected(
      props?.receiveMaximum,
      resumed
        ? { sessionPresent: p.sessionPresent, resubscribe: this.options.resubscribe }
        : undefined,
    );
    const first = this.firstConnect;
    this.firstConnect = undefined;
    // Paused before this connection existed: the CONNACK was read, nothing after it is.
    if (this.inputPaused) this.stopReading();
    this.emit('connect', p);
    first?.resolve(this);
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
        this.outbox.acknowledged(p.packetId, Step.AwaitPuback, p);
        break;
      case PacketType.PUBREC:
        this.outbox.received(p.packetId, p.reasonCode, p);
        break;
      case PacketType.PUBREL:
        this.incomingQos2.delete(p.packetId);
        this.sendAck(0x70, PacketType.PUBCOMP, p.packetId);
        break;
      case PacketType.PUBCOMP:
        this.outbox.acknowledged(p.packetId, Step.AwaitPubcomp, p);
        break;
      case PacketType.SUBACK:
      case PacketType.UNSUBACK:
        this.outbox.answered(p);
        break;
      case PacketType.PINGRESP:
        this.keepAlive.noteResponse();
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

  // ---- packets out ----

  private write(buf: Buffer, packet: Packet): void {
    this.keepAlive.noteSent();
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
    this.keepAlive.noteSent();
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
