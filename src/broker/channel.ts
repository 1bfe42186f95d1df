import type { Duplex } from 'node:stream';
import {
  closedBeforeConnectLine,
  protocolErrorLine,
  recipientName,
} from '../log/mosquitto-lines.js';
import {
  ConnackReturnCode,
  PacketType,
  type ProtocolVersion,
  type QoS,
  ReasonCode,
} from '../protocol/constants.js';
import { Decoder, type PacketSink } from '../protocol/decoder.js';
import { encode } from '../protocol/encoder.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Packet, SubackPacket, UnsubackPacket, Will } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type { ConnectionInfo } from '../transport/connection-info.js';
import { directReads } from '../transport/direct-read.js';
import type { AccessControl } from './access-control.js';
import { onPuback, onPubcomp } from './channel/acks.js';
import { onAuth, onConnect, onDisconnect } from './channel/connect.js';
import type {
  AckType,
  ChannelContext,
  ChannelHost,
  EnhancedAuthState,
  HeldReplyQueue,
} from './channel/context.js';
import { encodeWithin } from './channel/fit.js';
import { HeldInput, passesHold } from './channel/held-input.js';
import { publishOut, queueAck, writeAckNow } from './channel/outbound.js';
import { Outbox } from './channel/outbox.js';
import { onPublish, onPubrec, onPubrel } from './channel/publish.js';
import { State } from './channel/state.js';
import { onSubscribe, onUnsubscribe, sendHeldReply } from './channel/subscribe.js';
import { checkTimers, type TimedChannel } from './channel/timers.js';
import type { DeliveryTarget, DropReason } from './delivery-target.js';
import type { ListenerStats } from './listener-stats.js';
import type { Message } from './message.js';
import type { ClientInfo } from './options.js';
import { describePacket } from './packet-log.js';
import type { PublishQuota } from './publish-quota.js';
import type { Session, SubscriptionRecord } from './session.js';

function resumeReading(ch: Channel): void {
  ch.resumeReading();
}

// A connection's yes/no state in one small integer (a field each cost 8 bytes per connection).
const BRIDGE = 1;
const NO_PROBLEM_INFORMATION = 2;
const WILL_SENT = 4;
const READ_PAUSED = 8;
const OUTPUT_BLOCKED = 16;
const GATE_HELD = 32;
const GRACEFUL = 64;
/** Packets read while held by the flow gate wait in heldInput (hot-path check, no map lookup). */
const HAS_HELD = 128;
/** The packets kept reached a bound, or a DISCONNECT is among them (channel/held-input.ts): reading stopped too. */
const HELD_FULL = 256;
/** Held while owing no acknowledgement: not read at all (see holdInput). */
const GATE_STOPPED = 512;

function resumeHeldReading(ch: Channel): void {
  ch.readOnWhileHeld();
}

/** The packets each held connection keeps (only held connections have an entry). */
const heldInput = new WeakMap<Channel, HeldInput>();

/** A chunk this large means the client has more queued: yield to other sockets after it. */
const FAIR_CHUNK = 16 * 1024;

/** The channel reading a socket: socket events go to shared functions, not three closures per connection. */
const kChannel = Symbol('heron.channel');
type ChannelSocket = Duplex & { [kChannel]: Channel };

function onSocketData(this: ChannelSocket, chunk: Buffer): void {
  this[kChannel].onData(chunk);
}

/** A direct read (transport/direct-read.ts): the bytes are valid during this call only. */
function onSocketRead(this: unknown, bytes: number, buffer: Buffer): boolean {
  (this as ChannelSocket)[kChannel].onData(buffer.subarray(0, bytes));
  return true;
}

function onSocketError(this: ChannelSocket, err: Error): void {
  this[kChannel].onSocketError(err);
}

function onSocketClosed(this: ChannelSocket): void {
  this[kChannel].onSocketClose();
}

/**
 * One network connection speaking MQTT: the CONNECT handshake, keep alive,
 * topic aliases, flow control and reason codes. It holds nothing that must
 * survive a disconnect; that lives in the Session.
 */
export class Channel implements PacketSink, DeliveryTarget, ChannelContext, TimedChannel {
  /** The broker as this connection sees it. */
  readonly broker: ChannelHost;
  readonly socket: Duplex;
  readonly info: ConnectionInfo;
  readonly decoder: Decoder;
  /** Authentication and ACL of this connection's listener (chosen once, kept by its session). */
  readonly access: AccessControl;
  /** Message counters of this connection's listener. */
  readonly listenerStats: ListenerStats;
  /** Where the connection is in its life (the handlers under channel/ move it on). */
  state: State = State.Connecting;
  /** The protocol level from CONNECT (4 until then). */
  version: ProtocolVersion = 4;
  session: Session | undefined;
  /** Who the client is, from its CONNECT on (also its clientId and username, not kept twice). */
  client: ClientInfo | undefined;
  /** Keep alive in seconds as granted (0 = none). */
  keepalive = 0;
  /** Time of the last byte received (ms). */
  lastActivity: number;
  /** When the socket was accepted (ms). */
  readonly openedAt: number;
  /** v5: the client's Receive Maximum (limits our inflight towards it). */
  receiveMaximum = 65535;
  /** v5: the largest packet the client accepts (0 = no limit). */
  clientMaximumPacketSize = 0;
  /** v5: how many topic aliases the client lets us assign. */
  clientTopicAliasMaximum = 0;
  /** v5: topic aliases we assigned towards the client, by topic. */
  outboundAliases: Map<string, number> | undefined;
  /** v5: topic aliases the client set, by alias. */
  inboundAliases: Map<number, string> | undefined;
  /** The will from CONNECT (mount point applied), until the connection ends. */
  will: Will | undefined;
  /** Packets that arrived while an asynchronous hook was running, replayed in order. */
  backlog: Packet[] | undefined;
  /** What the client has not been sent yet (one pending socket write at most). */
  readonly outbox: Outbox;
  /**
   * BRIDGE, NO_PROBLEM_INFORMATION, WILL_SENT, GRACEFUL, and why reading is
   * stopped: READ_PAUSED (a fairness rule, until the next turn), OUTPUT_BLOCKED
   * (until the client reads what we owe it, see onData), GATE_HELD (by the flow
   * gate for a full subscriber queue, flow-gate.ts: its PUBLISHes wait), GATE_STOPPED
   * (held and owing no acknowledgement: not read), HAS_HELD (packets kept while
   * held wait to be handled) and HELD_FULL (too many kept: reading stops as well).
   */
  private flags = 0;
  /** Bytes of an incomplete packet this connection holds, as last told to the broker's budget. */
  private partialHeld = 0;
  /** Deliveries triggered by this connection's input in this turn (see yieldTurn). */
  work = 0;
  private closeReason = 'connection closed';
  /** v5 enhanced authentication (method, exchange in progress), for clients that use it. */
  enhancedAuth: EnhancedAuthState | undefined;
  /** Publish rate limits, when configured. */
  quota: PublishQuota | undefined;
  /** Replies waiting for the store's commit (`commit` mode), created on first use. */
  held: HeldReplyQueue | undefined;

  constructor(broker: ChannelHost, socket: Duplex, info: ConnectionInfo) {
    this.broker = broker;
    this.socket = socket;
    this.info = info;
    this.access = broker.accessControls.forConnection(info);
    this.listenerStats = broker.stats.listeners.of(info.listener);
    this.openedAt = this.lastActivity = Date.now();
    this.decoder = new Decoder(this, { maxPacketSize: broker.options.maxPacketSize });
    this.outbox = new Outbox(socket, this);
    (socket as ChannelSocket)[kChannel] = this;
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClosed);
    // Plain TCP skips the stream machinery per read; the decoder then copies what it keeps.
    if (directReads(socket, onSocketRead)) this.decoder.reusedInput = true;
  }

  /** A 3.1/3.1.1 bridge that announced itself (try_private): its subscriptions get No Local and Retain As Published. */
  get bridge(): boolean {
    return (this.flags & BRIDGE) !== 0;
  }

  set bridge(on: boolean) {
    this.setFlag(BRIDGE, on);
  }

  /** v5: whether reason strings / user properties may be sent on acks (Request Problem Information). */
  get problemInformation(): boolean {
    return (this.flags & NO_PROBLEM_INFORMATION) === 0;
  }

  set problemInformation(on: boolean) {
    this.setFlag(NO_PROBLEM_INFORMATION, !on);
  }

  /** Whether the client ended with DISCONNECT (no will). */
  get graceful(): boolean {
    return (this.flags & GRACEFUL) !== 0;
  }

  set graceful(on: boolean) {
    this.setFlag(GRACEFUL, on);
  }

  private setFlag(flag: number, on: boolean): void {
    this.flags = on ? this.flags | flag : this.flags & ~flag;
  }

  /** The client id from CONNECT ('' before it). */
  get clientId(): string {
    const c = this.client;
    return c === undefined ? '' : c.clientId;
  }

  /** The user name the client is authenticated as (CONNECT, certificate or enhanced authentication). */
  get username(): string | undefined {
    return this.client?.username;
  }

  /** Whether CONNACK 0 has been sent and the socket is open. */
  get connected(): boolean {
    return this.state === State.Connected;
  }

  /** Socket `data` handler. */
  onData(chunk: Buffer): void {
    this.lastActivity = this.broker.now;
    this.broker.stats.bytesReceived += chunk.length;
    if (this.state === State.Closed) return;
    this.work = 0;
    try {
      this.decoder.feed(chunk);
    } catch (err) {
      this.onError(err);
    }
    // Most chunks end on a packet boundary: the budget hears only of changes.
    const partial = this.decoder.bufferedBytes;
    if (partial !== this.partialHeld) this.holdPartial(partial);
    // Output other clients' messages queued for this one counts too.
    if (this.outputOverLimit()) {
      this.blockOutput();
      return;
    }
    if (
      chunk.length >= FAIR_CHUNK &&
      (this.flags & READ_PAUSED) === 0 &&
      (this.state as State) !== State.Closed
    ) {
      // A flooding client: read its next chunk on the next loop turn, after every
      // other socket had its turn, so that nobody waits behind its backlog.
      this.flags |= READ_PAUSED;
      this.socket.pause();
      setImmediate(resumeReading, this);
    }
  }

  private holdPartial(bytes: number): void {
    this.partialHeld = bytes;
    this.broker.partialPackets.update(this, bytes);
  }

  /** The broker's budget for incomplete packets ran out and this connection holds the most. */
  closeForBudget(bytes: number): void {
    this.partialHeld = 0;
    const b = this.broker;
    b.stats.incompletePacketCloses++;
    const why = `incomplete packet budget exceeded: held ${bytes} bytes of an unfinished packet`;
    b.log?.warn({ clientId: this.clientId, remote: this.info.remoteAddress }, why);
    // No DISCONNECT: its packet is unfinished, the client could not read one in order anyway.
    this.close(why);
  }

  /** Resumes a socket paused by a fairness rule: first the packets the decoder held back. */
  resumeReading(): void {
    this.flags &= ~READ_PAUSED;
    this.work = 0;
    this.resumeInput();
  }

  /** Decodes what the decoder held back and reads on, unless another rule still stops reading. */
  private resumeInput(): void {
    if (this.state === State.Closed || (this.flags & GATE_STOPPED) !== 0) return;
    // Packets kept while held come before anything read after them.
    if ((this.flags & HAS_HELD) !== 0) this.replayHeld();
    if ((this.flags & HELD_FULL) !== 0) return;
    try {
      this.decoder.resume();
    } catch (err) {
      this.onError(err);
    }
    // The held-back packets may have spent the budget again (then reading stays paused).
    if (
      (this.flags & (READ_PAUSED | OUTPUT_BLOCKED | HELD_FULL)) === 0 &&
      (this.state as State) !== State.Closed
    )
      this.socket.resume();
  }

  /** Whether more than maxPendingBytes wait unsent for this client (and reading is not stopped yet). */
  private outputOverLimit(): boolean {
    return (this.flags & OUTPUT_BLOCKED) === 0 && this.state !== State.Closed && this.congested;
  }

  /**
   * Whether more than maxPendingBytes wait unsent for this client: its session
   * then keeps further QoS 0 deliveries as queue entries (shared messages,
   * bounded by the queue limits) instead of encoded bytes here.
   */
  get congested(): boolean {
    return this.outbox.pendingBytes > this.broker.options.maxPendingBytes;
  }

  /** The socket took a write: resume what waited for room. */
  outputWritten(): void {
    if (this.state === State.Closed || this.congested) return;
    if ((this.flags & OUTPUT_BLOCKED) !== 0) this.onOutputDrained();
    const s = this.session;
    if (s !== undefined && s.target === this && (s.queuedCount > 0 || s.retainedWaiting > 0))
      s.drain(this.broker.now);
  }

  /**
   * A client that sends but never reads (PINGREQ, QoS 1 floods...) would make us
   * buffer its answers without bound: stop decoding (after the current packet, so
   * one read of many small packets cannot overshoot) and reading it until it
   * drains them.
   */
  private blockOutput(): void {
    this.flags |= OUTPUT_BLOCKED;
    this.decoder.pause();
    this.socket.pause();
  }

  /** Output fell below the limit after reading stopped for it: first the packets held back. */
  onOutputDrained(): void {
    this.flags &= ~OUTPUT_BLOCKED;
    this.resumeInput();
  }

  /**
   * A subscriber's queue this client publishes into is full (flow-gate.ts): its
   * PUBLISHes, and whatever follows one, wait from the next packet on.
   *
   * A client that has deliveries of ours to acknowledge is read on meanwhile, so
   * that its PUBACKs/PUBRECs/PUBCOMPs and PINGREQs are handled: a client held
   * while its own queue is full (two clients publishing into each other's full
   * queues) drains that queue only by acknowledging. Past a bound
   * (channel/held-input.ts), reading stops too. A client that owes us nothing
   * (a pure publisher) is not read at all, as TCP holding its PUBLISHes costs
   * the broker nothing; it is read on as soon as a QoS 1/2 delivery goes out to
   * it (readOnWhileHeld).
   */
  holdInput(): void {
    this.flags |= GATE_HELD;
    const s = this.session;
    if (s !== undefined && s.inflightCount > 0) return;
    this.flags |= GATE_STOPPED;
    this.decoder.pause();
    this.socket.pause();
  }

  /** Every queue that held it drained (or gave up): the packets it kept first, then read on. */
  releaseInput(): void {
    this.flags &= ~(GATE_HELD | GATE_STOPPED);
    // Not reading was our doing, not the client's silence: keep alive counts from now.
    this.lastActivity = this.broker.now;
    this.resumeInput();
  }

  /** A held client that owed nothing now owes an acknowledgement: read it on (holdInput). */
  readOnWhileHeld(): void {
    if ((this.flags & GATE_STOPPED) !== 0) return;
    this.resumeInput();
  }

  /** Stops decoding after the current packet until the next loop turn (DELIVERY_BUDGET). */
  yieldTurn(): void {
    this.decoder.pause();
    if ((this.flags & READ_PAUSED) !== 0) return;
    this.flags |= READ_PAUSED;
    this.socket.pause();
    setImmediate(resumeReading, this);
  }

  /** Decoder callback: one whole packet. */
  onPacket(packet: Packet): void {
    this.broker.stats.packetsReceived++;
    // Mosquitto logs no "Received CONNECT": its "New client connected" line says it all.
    // "Received PUBLISH" comes once the PUBLISH is allowed (channel/publish.ts), as in Mosquitto.
    if (
      this.broker.packetLog &&
      packet.type !== PacketType.CONNECT &&
      packet.type !== PacketType.PUBLISH
    )
      this.broker.log?.debug(describePacket('Received', this.clientId || '(unknown)', packet));
    this.dispatch(packet);
  }

  /** Handles a packet now, or keeps it behind a flow-gate hold or an asynchronous hook (backlog). */
  private dispatch(packet: Packet): void {
    // AUTH packets drive a running exchange, so they never wait.
    const exchange = packet.type === PacketType.AUTH && this.enhancedAuth?.exchange !== undefined;
    if ((this.flags & (GATE_HELD | HAS_HELD)) !== 0 && !exchange && !passesHold(packet)) {
      this.keepHeld(packet);
      return;
    }
    if (this.backlog !== undefined && !exchange) {
      this.backlog.push(packet);
      return;
    }
    this.handle(packet);
    if (this.outputOverLimit()) this.blockOutput();
  }

  /** Keeps a packet read while held (or behind packets kept so); at a bound, reading stops. */
  private keepHeld(packet: Packet): void {
    let h = heldInput.get(this);
    if (h === undefined) {
      h = new HeldInput();
      heldInput.set(this, h);
      this.flags |= HAS_HELD;
    }
    if (h.keep(packet) && (this.flags & HELD_FULL) === 0) {
      this.flags |= HELD_FULL;
      this.decoder.pause();
      this.socket.pause();
    }
  }

  /**
   * Handles the packets kept while held, in order, until the gate holds this
   * connection again or another rule stops its input (they resume it).
   */
  private replayHeld(): void {
    const h = heldInput.get(this)!;
    const stop = GATE_HELD | READ_PAUSED | OUTPUT_BLOCKED;
    while (!h.empty) {
      if ((this.flags & stop) !== 0 || this.backlog !== undefined || this.state === State.Closed)
        break;
      this.handle(h.take()!);
      if (this.outputOverLimit()) this.blockOutput();
    }
    if (h.empty) this.dropHeld();
    else if (!h.full) this.flags &= ~HELD_FULL;
  }

  /** Forgets the packets kept while held (all handled, or the connection closed). */
  private dropHeld(): void {
    if ((this.flags & HAS_HELD) === 0) return;
    heldInput.get(this)!.release();
    heldInput.delete(this);
    this.flags &= ~(HAS_HELD | HELD_FULL);
  }

  private handle(packet: Packet): void {
    if (this.state === State.Closed) return;
    if (this.state === State.Connecting) {
      if (packet.type !== PacketType.CONNECT) {
        // [MQTT-3.1.0-1] the first packet must be CONNECT.
        this.violation(
          new ProtocolError(
            ReasonCode.ProtocolError,
            'first packet was not CONNECT',
            'MQTT-3.1.0-1',
          ),
        );
        return;
      }
      onConnect(this, packet);
      return;
    }
    switch (packet.type) {
      case PacketType.PUBLISH:
        onPublish(this, packet);
        return;
      case PacketType.PUBACK:
        onPuback(this, packet.packetId);
        return;
      case PacketType.PUBREC:
        onPubrec(this, packet.packetId, packet.reasonCode);
        return;
      case PacketType.PUBREL:
        onPubrel(this, packet.packetId);
        return;
      case PacketType.PUBCOMP:
        onPubcomp(this, packet.packetId);
        return;
      case PacketType.SUBSCRIBE:
        onSubscribe(this, packet);
        return;
      case PacketType.UNSUBSCRIBE:
        onUnsubscribe(this, packet);
        return;
      case PacketType.PINGREQ:
        this.send({ type: PacketType.PINGRESP });
        return;
      case PacketType.DISCONNECT:
        onDisconnect(this, packet);
        return;
      case PacketType.AUTH:
        onAuth(this, packet);
        return;
      case PacketType.CONNECT:
        // [MQTT-3.1.0-2] a second CONNECT is a protocol violation.
        this.violation(
          new ProtocolError(ReasonCode.ProtocolError, 'second CONNECT', 'MQTT-3.1.0-2'),
        );
        return;
      default:
        this.violation(
          new ProtocolError(
            ReasonCode.ProtocolError,
            `unexpected packet type ${packet.type} from a client`,
          ),
        );
    }
  }

  /** The commit covering this CONNECT's stored change is durable: out go CONNACK and what followed it. */
  connackDurable(): void {
    if (this.state !== State.Held) return;
    this.state = State.Connected;
    this.socket.uncork();
  }

  /** Handles the packets that waited for an asynchronous hook, until one goes asynchronous again. */
  releaseBacklog(): void {
    const backlog = this.backlog;
    this.backlog = undefined;
    if (backlog === undefined) return;
    for (let i = 0; i < backlog.length; i++) {
      const again = this.backlog as Packet[] | undefined;
      if (again !== undefined) {
        // A hook went asynchronous again: keep the rest, in order.
        for (let j = i; j < backlog.length; j++) again.push(backlog[j]!);
        return;
      }
      this.handle(backlog[i]!);
    }
    // Packets kept behind a flow-gate hold waited for the backlog too.
    if ((this.flags & HAS_HELD) !== 0 && (this.flags & GATE_HELD) === 0) this.resumeInput();
  }

  // ---------------------------------------------------------------- outgoing

  /** Queues an encoded packet; the packets of one turn go to the socket as one write. */
  write(buf: Buffer): void {
    if (this.state === State.Closed) return;
    this.broker.stats.packetsSent++;
    this.broker.stats.bytesSent += buf.length;
    this.outbox.push(buf);
  }

  /** Hands queued packets to the socket now (unless it still holds the previous write). */
  flush(): void {
    this.outbox.flush();
  }

  /**
   * Encodes and queues any packet in this connection's protocol version, within
   * the client's Maximum Packet Size (see encodeWithin); returns false when it
   * could not be sent for its size.
   */
  send(packet: Packet): boolean {
    const buf =
      this.clientMaximumPacketSize === 0
        ? encode(packet, this.version)
        : encodeWithin(packet, this.version, this.clientMaximumPacketSize);
    if (buf === undefined) {
      this.broker.log?.debug(
        { clientId: this.clientId, type: packet.type, max: this.clientMaximumPacketSize },
        'packet larger than the client accepts: not sent',
      );
      return false;
    }
    if (this.broker.packetLog)
      this.broker.log?.debug(
        describePacket(
          'Sending',
          recipientName(packet, this.clientId, this.info.remoteAddress),
          packet,
        ),
      );
    this.write(buf);
    return true;
  }

  /** Writes a PUBACK/PUBREC/PUBREL/PUBCOMP now (held ones once their commit is durable). */
  writeAck(type: AckType, packetId: number, reasonCode: number): void {
    writeAckNow(this, type, packetId, reasonCode);
  }

  /** Sends PUBREL for an outgoing QoS 2 message (on resume). */
  sendPubrel(packetId: number): void {
    queueAck(this, PacketType.PUBREL, packetId, 0);
  }

  /** Sends a PUBLISH of a routed message (see publishOut); returns why it was not sent, if so. */
  sendPublish(
    msg: Message,
    qos: QoS,
    retain: boolean,
    packetId: number,
    dup: boolean,
    subIds: number[] | undefined,
  ): DropReason {
    if (qos > 0 && (this.flags & GATE_STOPPED) !== 0) {
      // It now owes an acknowledgement: read it on, once this routing is over.
      this.flags &= ~GATE_STOPPED;
      setImmediate(resumeHeldReading, this);
    }
    return publishOut(this, msg, qos, retain, packetId, dup, subIds);
  }

  /** Sends a SUBACK/UNSUBACK whose change is durable, then the retained messages it answers. */
  sendHeldReply(
    packet: SubackPacket | UnsubackPacket,
    retainedFor: SubscriptionRecord[] | undefined,
  ): void {
    sendHeldReply(this, packet, retainedFor);
  }

  // ---------------------------------------------------------------- errors & closing

  /** Handles anything thrown while processing this client's input: only this client is affected. */
  onError(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.violation(err);
      return;
    }
    this.broker.stats.internalErrors++;
    this.broker.log?.error(
      { err, clientId: this.clientId },
      'internal error handling client; closing it',
    );
    this.disconnectWith(ReasonCode.UnspecifiedError, 'internal error');
  }

  /** Closes the connection for a protocol violation (v5: DISCONNECT with the reason first). */
  violation(err: ProtocolError): void {
    const b = this.broker;
    b.stats.protocolErrors++;
    if (err.reasonCode === ReasonCode.PacketTooLarge) b.stats.packetsTooLarge++;
    b.log?.info(
      { clientId: this.clientId, remote: this.info.remoteAddress, reasonCode: err.reasonCode },
      protocolErrorLine(this.clientId),
    );
    b.log?.debug(`Protocol error from ${this.info.remoteAddress}: ${err.message}.`);
    if (this.state === State.Connecting || this.state === State.Authenticating) {
      if (err.reasonCode === ReasonCode.UnsupportedProtocolVersion) {
        // [MQTT-3.1.2-2] unacceptable protocol level: CONNACK 0x01 (v3) / 0x84 (v5), then close.
        const v = this.decoder.protocolVersion;
        this.version = v === 5 ? 5 : 4;
        this.send({
          type: PacketType.CONNACK,
          sessionPresent: false,
          reasonCode:
            v === 5
              ? ReasonCode.UnsupportedProtocolVersion
              : ConnackReturnCode.UnacceptableProtocolVersion,
        });
      } else if (this.version === 5 && this.state === State.Authenticating) {
        this.send({ type: PacketType.CONNACK, sessionPresent: false, reasonCode: err.reasonCode });
      }
      this.close(err.message);
      return;
    }
    this.disconnectWith(err.reasonCode, err.message);
  }

  /** Server-initiated disconnect: v5 clients get a DISCONNECT with the reason code first. */
  disconnectWith(reasonCode: number, why: string, properties?: Properties): void {
    if (this.state === State.Closed) return;
    if (this.version === 5 && this.state === State.Connected) {
      this.send({ type: PacketType.DISCONNECT, reasonCode, properties });
    }
    this.close(why);
  }

  /** Closes the socket (after flushing what is queued); the rest happens in onSocketClose. */
  close(why: string): void {
    if (this.state === State.Closed) return;
    const wasConnected = this.state === State.Connected;
    const held = this.state === State.Held;
    this.state = State.Closed;
    this.closeReason = why;
    this.decoder.destroy();
    this.dropHeld();
    if (this.partialHeld !== 0) this.holdPartial(0);
    if (held) {
      // A CONNACK not yet durable never goes out, nor anything behind it
      // (end() would uncork it): the client sees the connection fail.
      this.outbox.discard();
      this.socket.destroy();
    } else {
      this.outbox.end();
      // Read on (and discard, as closed) so that the peer's FIN or reset is seen even
      // if reading had stopped for it: the socket then closes without waiting.
      this.socket.resume();
      // Don't wait for a peer that never reads: destroy soon after ending.
      setTimeout(destroyLater, 1000, this.socket).unref();
    }
    if (wasConnected || this.session !== undefined) this.detach();
  }

  /** A newer connection took this client id over. */
  takenOver(): void {
    this.disconnectWith(ReasonCode.SessionTakenOver, 'session taken over');
  }

  /** Socket `error` handler: the close that follows reports this reason. */
  onSocketError(err: Error): void {
    this.closeReason = `socket error: ${err.message}`;
  }

  /** Socket `close` handler. */
  onSocketClose(): void {
    if (this.state !== State.Closed) {
      if (this.session === undefined && this.broker.options.connectionMessages)
        this.broker.log?.info(closedBeforeConnectLine());
      this.state = State.Closed;
      this.decoder.destroy();
      this.dropHeld();
      if (this.partialHeld !== 0) this.holdPartial(0);
      this.detach();
    }
    this.broker.channelClosed(this);
  }

  private detach(): void {
    if ((this.flags & WILL_SENT) !== 0) return;
    this.flags |= WILL_SENT;
    const will = this.graceful ? undefined : this.will;
    this.will = undefined;
    if (this.session !== undefined && this.session.target === this) {
      this.broker.onClientDisconnected(this, will, this.closeReason);
    } else if (will !== undefined && this.client !== undefined) {
      this.broker.publishWill(this.session, this.client, will);
    }
  }

  /** Called by the broker's sweeper: enforces the connect timeout and keep alive. Returns true if closed. */
  checkTimers(now: number): boolean {
    return checkTimers(this, now);
  }

  /** Reading stopped because the client does not read what it is owed. */
  get readingStoppedForOutput(): boolean {
    return (this.flags & OUTPUT_BLOCKED) !== 0;
  }

  /** Reading stopped by backpressure from full subscriber queues. */
  get heldByBackpressure(): boolean {
    return (this.flags & GATE_HELD) !== 0;
  }

  /** Bytes the client has not been sent yet. */
  get unsentBytes(): number {
    return this.outbox.pendingBytes;
  }
}

/** The connection attached to a session, if the client is online over the network. */
export function channelOf(session: Session): Channel | undefined {
  const t = session.target;
  return t instanceof Channel ? t : undefined;
}

function destroyLater(socket: Duplex): void {
  if (!socket.destroyed) socket.destroy();
}
