import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { dollarTopicAllowed } from '../auth/dollar-topics.js';
import {
  ConnackReturnCode,
  connackCodeForV3,
  PacketType,
  type ProtocolVersion,
  type QoS,
  ReasonCode,
} from '../protocol/constants.js';
import { Decoder, type PacketSink } from '../protocol/decoder.js';
import { encode, encodePublish, withPacketId } from '../protocol/encoder.js';
import { ProtocolError } from '../protocol/errors.js';
import type {
  AuthPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  UnsubackPacket,
  UnsubscribePacket,
  Will,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import { type AccessControl, publishAllowed } from './access-control.js';
import type { Broker } from './broker.js';
import { type AckType, HeldReplies } from './channel/held-replies.js';
import { AuthExchange, type AuthStep, ExchangePhase } from './enhanced-auth.js';
import { type Message, shapeIndex } from './message.js';
import type { ClientInfo, ListenerSecurityOptions } from './options.js';
import { describePacket, describePublishOut } from './packet-log.js';
import { PublishQuota } from './publish-quota.js';
import { reasonString } from './reason-strings.js';
import { redirectConnack } from './redirect.js';
import { DropReason, type Session, type SubscriptionRecord } from './session.js';

/** Connection facts a transport hands to the broker with each new byte stream. */
export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  /** Listener name, e.g. "tcp:1883". */
  listener: string;
  /** Topic prefix of the listener (Mosquitto's mount_point). */
  mountPoint?: string | undefined;
  /** TLS client certificate subject or identity, used as user name where configured. */
  certificateSubject?: string | undefined;
  /** Use the certificate identity as the user name (use_identity_as_username). */
  certificateAsUsername?: boolean | undefined;
  /** The listener's own security block, if it has one (must be one of the broker's listeners'). */
  security?: ListenerSecurityOptions | undefined;
}

enum State {
  /** Waiting for CONNECT. */
  Connecting = 0,
  /** CONNECT received, authentication running. */
  Authenticating = 1,
  /** CONNACK 0 sent. */
  Connected = 2,
  /** Socket closing or closed. */
  Closed = 3,
  /**
   * Attached to its session, CONNACK 0 written but held with everything after
   * it (the socket stays corked) until the commit of the stored session change.
   */
  Held = 4,
}

function uncorkChannel(ch: Channel): void {
  ch.flush();
}

function resumeReading(ch: Channel): void {
  ch.resumeReading();
}

/** A chunk this large means the client has more queued: yield to other sockets after it. */
const FAIR_CHUNK = 16 * 1024;

/**
 * Deliveries one connection's input may trigger per event-loop turn (about 10 ms of
 * work): past it, decoding stops at the next packet and the rest of the chunk waits
 * for the next turn, so a publisher fanning out to many subscribers can't hold
 * up other clients (their PINGRESPs) for a whole chunk's worth of deliveries.
 */
const DELIVERY_BUDGET = 32_768;

/** The channel reading a socket: socket events go to shared functions, not three closures per connection. */
const kChannel = Symbol('heron.channel');
type ChannelSocket = Duplex & { [kChannel]: Channel };

function onSocketData(this: ChannelSocket, chunk: Buffer): void {
  this[kChannel].onData(chunk);
}

function onSocketError(this: ChannelSocket, err: Error): void {
  this[kChannel].onSocketError(err);
}

function onSocketClosed(this: ChannelSocket): void {
  this[kChannel].onSocketClose();
}

function onSocketDrained(this: ChannelSocket): void {
  this[kChannel].onOutputDrained();
}

/**
 * One network connection speaking MQTT: the CONNECT handshake, keep alive,
 * topic aliases, flow control and reason codes. It holds nothing that must
 * survive a disconnect; that lives in the Session.
 */
export class Channel implements PacketSink {
  readonly broker: Broker;
  readonly socket: Duplex;
  readonly info: ConnectionInfo;
  readonly decoder: Decoder;
  /** Authentication and ACL of this connection's listener (chosen once, kept by its session). */
  readonly access: AccessControl;
  private state: State = State.Connecting;
  /** The protocol level from CONNECT (4 until then). */
  version: ProtocolVersion = 4;
  session: Session | undefined;
  client: ClientInfo | undefined;
  clientId = '';
  username: string | undefined;
  /** Keep alive in seconds as granted (0 = none). */
  keepalive = 0;
  /** A 3.1/3.1.1 bridge that announced itself (try_private): its subscriptions get No Local and Retain As Published. */
  bridge = false;
  /** Time of the last byte received (ms). */
  lastActivity: number;
  /** When the socket was accepted (ms). */
  readonly openedAt: number;
  /** v5: the client's Receive Maximum (limits our inflight towards it). */
  clientReceiveMaximum = 65535;
  /** v5: the largest packet the client accepts (0 = no limit). */
  clientMaximumPacketSize = 0;
  /** v5: how many topic aliases the client lets us assign. */
  private clientTopicAliasMaximum = 0;
  private outboundAliases: Map<string, number> | undefined;
  private inboundAliases: Map<number, string> | undefined;
  /** v5: whether reason strings / user properties may be sent on acks (Request Problem Information). */
  private problemInformation = true;
  private will: Will | undefined;
  private willSent = false;
  /** Packets that arrived while an asynchronous hook was running, replayed in order. */
  private backlog: Packet[] | undefined;
  private corked = false;
  private readPaused = false;
  /** Reading stopped until the client reads what we owe it (see onData). */
  private outputBlocked = false;
  /** Deliveries triggered by this connection's input in this turn (see DELIVERY_BUDGET). */
  private work = 0;
  private closeReason = 'connection closed';
  /** Whether the client ended with DISCONNECT (no will). */
  private graceful = false;
  /** v5 enhanced authentication: the method used at CONNECT and the exchange in progress. */
  private authMethod: string | undefined;
  private auth: AuthExchange | undefined;
  /** Publish rate limits, when configured. */
  private quota: PublishQuota | undefined;
  /** Replies waiting for the store's commit (`commit` mode), created on first use. */
  private held: HeldReplies | undefined;

  constructor(broker: Broker, socket: Duplex, info: ConnectionInfo) {
    this.broker = broker;
    this.socket = socket;
    this.info = info;
    this.access = broker.accessControls.forConnection(info);
    this.openedAt = this.lastActivity = Date.now();
    this.decoder = new Decoder(this, { maxPacketSize: broker.options.maxPacketSize });
    (socket as ChannelSocket)[kChannel] = this;
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClosed);
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
    // Output other clients' messages queued for this one counts too.
    if (this.outputOverLimit()) {
      this.blockOutput();
      return;
    }
    if (chunk.length >= FAIR_CHUNK && !this.readPaused && (this.state as State) !== State.Closed) {
      // A flooding client: read its next chunk on the next loop turn, after every
      // other socket had its turn, so that nobody waits behind its backlog.
      this.readPaused = true;
      this.socket.pause();
      setImmediate(resumeReading, this);
    }
  }

  /** Resumes a socket paused by a fairness rule: first the packets the decoder held back. */
  resumeReading(): void {
    this.readPaused = false;
    this.work = 0;
    if (this.state === State.Closed) return;
    try {
      this.decoder.resume();
    } catch (err) {
      this.onError(err);
    }
    // The held-back packets may have spent the budget again (then reading stays paused).
    if (!this.readPaused && !this.outputBlocked && (this.state as State) !== State.Closed)
      this.socket.resume();
  }

  /** Whether more than maxPendingBytes wait unread in this socket (and reading is not stopped yet). */
  private outputOverLimit(): boolean {
    return (
      !this.outputBlocked &&
      this.state !== State.Closed &&
      this.socket.writableLength > this.broker.options.maxPendingBytes
    );
  }

  /**
   * A client that sends but never reads (PINGREQ, QoS 1 floods...) would make us
   * buffer its answers without bound: stop decoding (after the current packet, so
   * one read of many small packets cannot overshoot) and reading it until it
   * drains them.
   */
  private blockOutput(): void {
    this.outputBlocked = true;
    this.decoder.pause();
    this.socket.pause();
    this.socket.once('drain', onSocketDrained);
  }

  /** Socket `drain` handler after reading stopped for unread output: first the packets held back. */
  onOutputDrained(): void {
    this.outputBlocked = false;
    if (this.state === State.Closed) return;
    try {
      this.decoder.resume();
    } catch (err) {
      this.onError(err);
    }
    if (!this.readPaused && !this.outputBlocked && (this.state as State) !== State.Closed)
      this.socket.resume();
  }

  /** Stops decoding after the current packet until the next loop turn (DELIVERY_BUDGET). */
  private yieldTurn(): void {
    this.decoder.pause();
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
    setImmediate(resumeReading, this);
  }

  /** Decoder callback: one whole packet. */
  onPacket(packet: Packet): void {
    this.broker.stats.packetsReceived++;
    if (this.broker.packetLog)
      this.broker.log?.debug(describePacket('Received', this.clientId || '(unknown)', packet));
    // AUTH packets drive a running exchange, so they never wait in the backlog.
    if (
      this.backlog !== undefined &&
      !(packet.type === PacketType.AUTH && this.auth !== undefined)
    ) {
      this.backlog.push(packet);
      return;
    }
    this.handle(packet);
    if (this.outputOverLimit()) this.blockOutput();
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
      this.onConnect(packet);
      return;
    }
    switch (packet.type) {
      case PacketType.PUBLISH:
        this.onPublish(packet);
        return;
      case PacketType.PUBACK:
        if (!this.session!.complete(packet.packetId, this.broker.now))
          this.broker.log?.debug(
            { clientId: this.clientId, packetId: packet.packetId },
            'PUBACK for unknown packet id',
          );
        return;
      case PacketType.PUBREC:
        this.onPubrec(packet.packetId, packet.reasonCode);
        return;
      case PacketType.PUBREL:
        this.onPubrel(packet.packetId);
        return;
      case PacketType.PUBCOMP:
        this.session!.complete(packet.packetId, this.broker.now);
        return;
      case PacketType.SUBSCRIBE:
        this.onSubscribe(packet);
        return;
      case PacketType.UNSUBSCRIBE:
        this.onUnsubscribe(packet);
        return;
      case PacketType.PINGREQ:
        this.send({ type: PacketType.PINGRESP });
        return;
      case PacketType.DISCONNECT:
        this.onDisconnect(packet);
        return;
      case PacketType.AUTH:
        this.onAuth(packet);
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

  // ---------------------------------------------------------------- CONNECT

  private onConnect(p: ConnectPacket): void {
    const b = this.broker;
    const o = b.options;
    this.version = p.protocolVersion;
    this.bridge = p.bridge === true;
    this.state = State.Authenticating;
    const v5 = p.protocolVersion === 5;
    const props = p.properties;
    if (o.redirect !== undefined) {
      const r = redirectConnack(o.redirect, v5);
      this.refuse(r.reasonCode, `redirected to ${o.redirect.serverReference}`, r.properties);
      return;
    }
    if (p.will !== undefined && v5) {
      if (p.will.qos > o.maxQos) {
        // [MQTT-3.2.2-12] a will QoS above Maximum QoS is refused.
        this.refuse(ReasonCode.QoSNotSupported, `will QoS ${p.will.qos} not supported`);
        return;
      }
      if (p.will.retain && !o.retainAvailable) {
        // [MQTT-3.2.2-13] a retained will without retain support is refused.
        this.refuse(ReasonCode.RetainNotSupported, 'retained will not supported');
        return;
      }
    }
    let clientId = p.clientId;
    let assigned = false;
    if (clientId.length === 0) {
      // [MQTT-3.1.3-7/8] an empty id needs clean session in 3.1.1; v5 always may get one assigned.
      if (p.protocolVersion === 3 || (!v5 && !p.clean) || !this.access.allowZeroLengthClientId) {
        this.refuse(
          v5 ? ReasonCode.ClientIdentifierNotValid : ConnackReturnCode.IdentifierRejected,
          'empty client id',
        );
        return;
      }
      clientId = b.assignClientId(this.access.autoIdPrefix);
      assigned = true;
    }
    if (p.protocolVersion === 3 && clientId.length > 23) {
      // MQTT 3.1 limits identifiers to 23 characters.
      this.refuse(
        ConnackReturnCode.IdentifierRejected,
        'client id longer than 23 characters (MQTT 3.1)',
      );
      return;
    }
    let keepalive = p.keepalive;
    let serverKeepAlive: number | undefined;
    if (
      o.maxKeepalive > 0 &&
      o.maxKeepalive < 65535 &&
      (keepalive > o.maxKeepalive || keepalive === 0)
    ) {
      if (v5) {
        keepalive = o.maxKeepalive;
        serverKeepAlive = keepalive;
      } else if (keepalive > o.maxKeepalive) {
        this.refuse(
          ConnackReturnCode.IdentifierRejected,
          `keep alive ${keepalive} above max_keepalive ${o.maxKeepalive}`,
        );
        return;
      }
    }
    this.keepalive = keepalive;
    this.clientId = clientId;
    let username = p.username;
    if (this.info.certificateAsUsername && this.info.certificateSubject !== undefined)
      username = this.info.certificateSubject;
    this.username = username;
    if (p.will !== undefined) {
      const mp = this.info.mountPoint;
      this.will = mp === undefined ? p.will : { ...p.will, topic: mp + p.will.topic };
    }
    if (v5 && props !== undefined) {
      if (props.receiveMaximum !== undefined) this.clientReceiveMaximum = props.receiveMaximum;
      if (props.maximumPacketSize !== undefined)
        this.clientMaximumPacketSize = props.maximumPacketSize;
      if (props.topicAliasMaximum !== undefined)
        this.clientTopicAliasMaximum = props.topicAliasMaximum;
      if (props.requestProblemInformation === 0) this.problemInformation = false;
      if (props.authenticationMethod !== undefined) {
        if (!b.supportsAuthMethod(props.authenticationMethod)) {
          // [MQTT-4.12.0-1] an unknown method: CONNACK 0x8C and close.
          this.refuse(
            ReasonCode.BadAuthenticationMethod,
            `unsupported authentication method ${props.authenticationMethod}`,
          );
          return;
        }
        this.authMethod = props.authenticationMethod;
      }
    }
    this.client = {
      clientId,
      username,
      protocolVersion: p.protocolVersion,
      remoteAddress: this.info.remoteAddress,
      remotePort: this.info.remotePort,
      listener: this.info.listener,
      certificateSubject: this.info.certificateSubject,
    };
    // Hold further packets until authentication settles, so that they are
    // handled in order and only for an accepted client.
    if (this.authMethod !== undefined) {
      this.backlog = [];
      this.startExchange(p, assigned, serverKeepAlive, props?.authenticationData, false);
      return;
    }
    let verdict: number | Promise<number>;
    try {
      verdict = b.authenticate(this, p, this.will);
    } catch (err) {
      this.authError(err);
      return;
    }
    if (typeof verdict === 'number') {
      this.authenticated(verdict, p, assigned, serverKeepAlive);
      return;
    }
    this.backlog = [];
    verdict.then(
      (code) => this.authenticated(code, p, assigned, serverKeepAlive),
      (err) => this.authError(err),
    );
  }

  /** Acts on the authentication chain's answer to a CONNECT. */
  private authenticated(
    code: number,
    p: ConnectPacket,
    assigned: boolean,
    serverKeepAlive: number | undefined,
  ): void {
    if (this.state !== State.Authenticating) return;
    if (code !== ReasonCode.Success) {
      this.broker.stats.authFailures++;
      this.refuse(this.version === 5 ? code : connackCodeForV3(code), 'authentication failed');
      return;
    }
    this.accept(p, assigned, serverKeepAlive);
  }

  /** An authentication hook threw or rejected: the client gets "unspecified error" / "server unavailable". */
  private authError(err: unknown): void {
    const b = this.broker;
    b.stats.internalErrors++;
    b.log?.error({ err, clientId: this.clientId }, 'authentication hook failed');
    if (this.state === State.Authenticating)
      this.refuse(
        this.version === 5 ? ReasonCode.UnspecifiedError : ConnackReturnCode.ServerUnavailable,
        'authentication error',
      );
  }

  /** Starts an enhanced authentication exchange (at CONNECT, or AUTH 0x19 later). */
  private startExchange(
    p: ConnectPacket | undefined,
    assigned: boolean,
    serverKeepAlive: number | undefined,
    data: Buffer | undefined,
    reauth: boolean,
  ): void {
    const method = this.authMethod!;
    const ex = new AuthExchange(this.broker.options.authMethods[method]!, {
      client: this.client!,
      method,
      username: this.username,
      password: p?.password,
      properties: p?.properties,
      reauthentication: reauth,
    });
    this.auth = ex;
    if (p !== undefined) this.pendingConnect = { p, assigned, serverKeepAlive };
    ex.start(data).then(
      (step) => this.authStep(ex, step),
      (err) => this.onError(err),
    );
  }

  /** The CONNECT waiting for its enhanced authentication to finish. */
  private pendingConnect:
    | { p: ConnectPacket; assigned: boolean; serverKeepAlive: number | undefined }
    | undefined;

  /** Acts on one step of an authentication exchange. */
  private authStep(ex: AuthExchange, step: AuthStep): void {
    if (this.auth !== ex || this.state === State.Closed) return;
    const method = ex.method;
    if (step.status === 'continue') {
      // [MQTT-4.12.0-2] more data needed: AUTH 0x18 with the method [MQTT-4.12.0-5].
      this.send({
        type: PacketType.AUTH,
        reasonCode: ReasonCode.ContinueAuthentication,
        properties: { authenticationMethod: method, authenticationData: step.data },
      });
      return;
    }
    this.auth = undefined;
    if (step.status === 'failure') {
      const code = step.reasonCode ?? ReasonCode.NotAuthorized;
      this.broker.stats.authFailures++;
      if (ex.reauthentication) {
        // [MQTT-4.12.1-2] a failed re-authentication closes the connection.
        this.disconnectWith(code, step.reason ?? 're-authentication failed');
      } else {
        // [MQTT-4.12.0-4] a refused authentication closes the connection.
        this.refuse(code, step.reason ?? 'enhanced authentication failed');
      }
      return;
    }
    if (step.username !== undefined) {
      this.username = step.username;
      this.client = { ...this.client!, username: step.username };
      const s = this.session;
      if (s !== undefined) {
        // Re-authentication as someone else: deliveries (also while offline) and
        // later checks follow the new identity, not the session's old one.
        s.username = step.username;
        s.client = this.client;
        s.acl = this.access.checkerFor(this.client);
        this.broker.persistence?.sessionSaved(s);
      }
    }
    if (ex.reauthentication) {
      this.send({
        type: PacketType.AUTH,
        reasonCode: ReasonCode.Success,
        properties: { authenticationMethod: method, authenticationData: step.data },
      });
      return;
    }
    const pc = this.pendingConnect!;
    this.pendingConnect = undefined;
    this.authData = step.data;
    this.accept(pc.p, pc.assigned, pc.serverKeepAlive);
  }

  /** Authentication Data for the CONNACK of a successful enhanced authentication. */
  private authData: Buffer | undefined;

  private accept(p: ConnectPacket, assigned: boolean, serverKeepAlive: number | undefined): void {
    const b = this.broker;
    const v5 = this.version === 5;
    const { session, present, waitsForCommit } = b.attachSession(this, p);
    this.session = session;
    if (waitsForCommit) {
      // Everything written from the CONNACK on waits in the socket (an extra
      // cork level), in order, until connackDurable(); the client's pipelined
      // packets are handled meanwhile, their acks queue behind the CONNACK.
      this.state = State.Held;
      this.socket.cork();
      const p = b.persistence!;
      (this.held ??= new HeldReplies(this, p)).connack();
    } else this.state = State.Connected;
    let props: Properties | undefined;
    if (v5) {
      props = b.connackProperties();
      if (assigned) props.assignedClientIdentifier = this.clientId;
      if (serverKeepAlive !== undefined) props.serverKeepAlive = serverKeepAlive;
      if (p.properties?.requestResponseInformation === 1 && b.responseInformation !== undefined) {
        props.responseInformation = b.responseInformation;
      }
      if (this.authMethod !== undefined) {
        // [MQTT-4.12.0-5] a successful CONNACK repeats the Authentication Method.
        props.authenticationMethod = this.authMethod;
        if (this.authData !== undefined) props.authenticationData = this.authData;
        this.authData = undefined;
      }
      if (Object.keys(props).length === 0) props = undefined;
    }
    this.send({
      type: PacketType.CONNACK,
      sessionPresent: present,
      reasonCode: 0,
      properties: props,
    });
    b.onClientConnected(this, present);
    session.resume(b.now);
    this.releaseBacklog();
  }

  /** The commit covering this CONNECT's stored change is durable: out go CONNACK and what followed it. */
  connackDurable(): void {
    if (this.state !== State.Held) return;
    this.state = State.Connected;
    this.socket.uncork();
  }

  private releaseBacklog(): void {
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
  }

  /** Sends a refusing CONNACK and closes. `code` is already in the client's version's terms. */
  private refuse(code: number, why: string, properties?: Properties): void {
    this.send({ type: PacketType.CONNACK, sessionPresent: false, reasonCode: code, properties });
    this.broker.log?.info(
      { clientId: this.clientId, remote: this.info.remoteAddress, code },
      `connection refused: ${why}`,
    );
    this.will = undefined;
    this.close(why);
  }

  // ---------------------------------------------------------------- PUBLISH in

  private onPublish(p: PublishPacket): void {
    const b = this.broker;
    const v5 = this.version === 5;
    let topic = p.topic;
    const props = p.properties;
    if (props?.subscriptionIdentifiers !== undefined) {
      this.violation(
        new ProtocolError(
          ReasonCode.ProtocolError,
          'subscription identifier in a PUBLISH from a client',
          'MQTT-3.3.4-6',
        ),
      );
      return;
    }
    if (v5 && props !== undefined && props.topicAlias !== undefined) {
      const alias = props.topicAlias;
      if (alias === 0 || alias > b.options.maxTopicAlias) {
        this.violation(
          new ProtocolError(
            ReasonCode.TopicAliasInvalid,
            `topic alias ${alias} out of range`,
            'MQTT-3.3.2-9',
          ),
        );
        return;
      }
      if (topic.length === 0) {
        const known = this.inboundAliases?.get(alias);
        if (known === undefined) {
          this.violation(
            new ProtocolError(ReasonCode.ProtocolError, `unknown topic alias ${alias}`),
          );
          return;
        }
        topic = known;
      } else {
        this.inboundAliases ??= new Map();
        this.inboundAliases.set(alias, topic);
      }
    }
    if (p.qos > b.options.maxQos) {
      // [MQTT-3.2.2-11] a QoS above Maximum QoS is a protocol error.
      this.violation(
        new ProtocolError(
          ReasonCode.QoSNotSupported,
          `QoS ${p.qos} above maximum ${b.options.maxQos}`,
          'MQTT-3.2.2-11',
        ),
      );
      return;
    }
    if (p.retain && !b.options.retainAvailable) {
      this.violation(
        new ProtocolError(ReasonCode.RetainNotSupported, 'retain not available', 'MQTT-3.2.2-14'),
      );
      return;
    }
    b.stats.publishReceived++;
    if (p.qos === 1 && this.session!.incomingQos2.has(p.packetId)) {
      // The id still belongs to an unreleased QoS 2 exchange.
      this.publishRefused(p, ReasonCode.PacketIdentifierInUse);
      return;
    }
    if (
      this.quota !== undefined ||
      b.options.publishRateLimit > 0 ||
      b.options.publishByteRateLimit > 0
    ) {
      if (this.overQuota(p)) return;
    }
    if (p.qos === 2) {
      const s = this.session!;
      if (s.incomingQos2.has(p.packetId)) {
        // A re-sent QoS 2 PUBLISH before PUBREL: acknowledge again, deliver nothing.
        this.sendAck(PacketType.PUBREC, p.packetId, 0);
        return;
      }
      if (s.incomingQos2.size >= b.options.receiveMaximum) {
        this.violation(
          new ProtocolError(
            ReasonCode.ReceiveMaximumExceeded,
            'receive maximum exceeded',
            'MQTT-3.3.4-7',
          ),
        );
        return;
      }
    }
    let reason = 0;
    if (v5 && props !== undefined && props.payloadFormatIndicator === 1 && !isUtf8(p.payload)) {
      reason = ReasonCode.PayloadFormatInvalid;
    } else if (b.options.messageSizeLimit > 0 && p.payload.length > b.options.messageSizeLimit) {
      b.stats.messagesTooLarge++;
      reason = ReasonCode.PacketTooLarge;
    } else if (topic.charCodeAt(0) === 0x24 /* $ */ && !dollarTopicAllowed(topic, 'write')) {
      // Clients may not publish into $SYS (Mosquitto's fixed rule, before any ACL).
      reason = ReasonCode.NotAuthorized;
    } else if (b.topicTooDeep(topic)) {
      reason = ReasonCode.TopicNameInvalid;
    }
    if (reason !== 0) {
      this.publishRefused(p, reason);
      return;
    }
    if (this.info.mountPoint !== undefined) topic = this.info.mountPoint + topic;
    if (b.options.hooks.authorizePublish !== undefined || this.session!.acl !== undefined) {
      let r: ReturnType<Broker['authorizePublish']>;
      try {
        r = b.authorizePublish(this, topic, p.qos, p.retain);
      } catch (err) {
        this.onError(err);
        return;
      }
      if (r instanceof Promise) {
        this.backlog = [];
        r.then(
          (res) => {
            if (this.state === State.Closed) return;
            this.publishAuthorized(p, topic, res);
            this.releaseBacklog();
          },
          (err) => this.onError(err),
        );
        return;
      }
      this.publishAuthorized(p, topic, r);
      return;
    }
    this.publishAccepted(p, topic);
  }

  private publishAuthorized(
    p: PublishPacket,
    topic: string,
    r: boolean | number | undefined,
  ): void {
    if (!publishAllowed(r)) {
      this.broker.stats.authzDenied++;
      this.publishRefused(p, typeof r === 'number' ? r : ReasonCode.NotAuthorized);
      return;
    }
    this.publishAccepted(p, topic);
  }

  /**
   * Applies publishRateLimit / publishByteRateLimit; returns true when the
   * PUBLISH was refused. v5 QoS 1/2: negative PUBACK/PUBREC (0x96 rate, 0x97
   * bytes) and the connection stays; v5 QoS 0: DISCONNECT with that code (QoS 0
   * has no acknowledgement to carry it); v3: the connection is closed.
   */
  private overQuota(p: PublishPacket): boolean {
    const b = this.broker;
    const q = (this.quota ??= new PublishQuota(
      b.options.publishRateLimit,
      b.options.publishByteRateLimit,
    ));
    const code = q.take(b.now, p.payload.length);
    if (code === 0) return false;
    if (code === ReasonCode.MessageRateTooHigh) b.stats.publishRateLimited++;
    else b.stats.publishQuotaExceeded++;
    const why =
      code === ReasonCode.MessageRateTooHigh ? 'publish rate limit' : 'publish byte quota';
    if (this.version === 5 && p.qos > 0) {
      this.publishRefused(p, code);
      return true;
    }
    b.log?.info(
      { clientId: this.clientId, remote: this.info.remoteAddress },
      `disconnecting: ${why}`,
    );
    this.disconnectWith(code, why);
    return true;
  }

  private publishRefused(p: PublishPacket, reason: number): void {
    this.broker.log?.debug({ clientId: this.clientId, topic: p.topic, reason }, 'PUBLISH refused');
    this.broker.stats.publishDropped++;
    // 3.1.1 has no negative acknowledgement: the message is acknowledged and dropped.
    if (p.qos === 1) this.sendAck(PacketType.PUBACK, p.packetId, reason);
    else if (p.qos === 2) this.sendAck(PacketType.PUBREC, p.packetId, reason);
  }

  private publishAccepted(p: PublishPacket, topic: string): void {
    const b = this.broker;
    const matched = b.publishFrom(this.session!, topic, p);
    if ((this.work += matched) >= DELIVERY_BUDGET) this.yieldTurn();
    if (p.qos === 0) return;
    // 0x97: every subscriber's queue was full, so nobody will get it.
    const code =
      matched === 0
        ? ReasonCode.NoMatchingSubscribers
        : b.lastRouteQueueFull === matched
          ? ReasonCode.QuotaExceeded
          : 0;
    if (p.qos === 1) {
      this.sendAck(PacketType.PUBACK, p.packetId, code);
    } else {
      if (code < 0x80) {
        this.session!.incomingQos2.add(p.packetId);
        this.session!.persist?.incoming(p.packetId, true);
      }
      this.sendAck(PacketType.PUBREC, p.packetId, code);
    }
  }

  private onPubrel(packetId: number): void {
    const found = this.session!.incomingQos2.delete(packetId);
    if (found) this.session!.persist?.incoming(packetId, false);
    this.sendAck(PacketType.PUBCOMP, packetId, found ? 0 : ReasonCode.PacketIdentifierNotFound);
  }

  private onPubrec(packetId: number, reasonCode: number): void {
    const s = this.session!;
    if (reasonCode >= 0x80) {
      // v5: a PUBREC with an error ends the exchange [MQTT-4.3.3-4 semantics].
      s.complete(packetId, this.broker.now);
      return;
    }
    const known = s.received(packetId);
    this.sendAck(PacketType.PUBREL, packetId, known ? 0 : ReasonCode.PacketIdentifierNotFound);
  }

  // ---------------------------------------------------------------- SUBSCRIBE

  private onSubscribe(p: SubscribePacket): void {
    const b = this.broker;
    const result = b.subscribe(this, p);
    if (result instanceof Promise) {
      this.backlog = [];
      result.then(
        () => this.releaseBacklog(),
        (err) => this.onError(err),
      );
    }
  }

  private onUnsubscribe(p: UnsubscribePacket): void {
    const codes = this.broker.unsubscribe(this.session!, p.topics);
    const reply: UnsubackPacket = {
      type: PacketType.UNSUBACK,
      packetId: p.packetId,
      reasonCodes: this.version === 5 ? codes : [],
    };
    if (!this.holdReply(reply, undefined)) this.send(reply);
  }

  /**
   * In `commit` mode, holds the SUBACK / UNSUBACK of a session whose
   * subscriptions are stored (it outlives its connection) until the commit
   * that covers the change, in order with the acknowledgements held before it,
   * so that a crash never loses a subscription the client was told it has.
   * Returns false when the reply can go at once.
   */
  holdReply(
    packet: SubackPacket | UnsubackPacket,
    retainedFor: SubscriptionRecord[] | undefined,
  ): boolean {
    const p = this.broker.persistence;
    const s = this.session;
    if (p === undefined || !p.defersAcks || s === undefined || !p.isStored(s)) return false;
    (this.held ??= new HeldReplies(this, p)).reply(packet, retainedFor);
    return true;
  }

  /**
   * Sends a SUBACK / UNSUBACK whose change is durable (a no-op on a closed
   * connection), then the retained messages answering the SUBSCRIBE, as when
   * nothing waits.
   */
  sendHeldReply(
    packet: SubackPacket | UnsubackPacket,
    retainedFor: SubscriptionRecord[] | undefined,
  ): void {
    this.send(packet);
    const session = this.session;
    if (retainedFor === undefined || retainedFor.length === 0 || session === undefined) return;
    // The subscription is in the session whatever became of this connection: its
    // retained messages go to the session (queued, or to a connection that took
    // it over), as they would have had the SUBACK gone out at once; not to a
    // session discarded meanwhile. They are looked up now, not at SUBSCRIBE time,
    // so a retained message set meanwhile is never followed by an older one.
    const b = this.broker;
    if (b.sessions.get(session.clientId) === session) b.sendRetained(session, retainedFor);
  }

  // ---------------------------------------------------------------- DISCONNECT / AUTH

  private onDisconnect(p: DisconnectPacket): void {
    const s = this.session!;
    const requested = p.properties?.sessionExpiryInterval;
    if (this.version === 5 && requested !== undefined) {
      if (s.expiryInterval === 0 && requested !== 0) {
        // [MQTT-3.14.2-2] cannot turn a 0 expiry into a non-zero one at DISCONNECT.
        this.violation(
          new ProtocolError(
            ReasonCode.ProtocolError,
            'session expiry changed from 0 at DISCONNECT',
            'MQTT-3.14.2-2',
          ),
        );
        return;
      }
      s.expiryInterval = requested;
    }
    // [MQTT-3.14.4-3] a normal DISCONNECT discards the will; v5 0x04 asks for it.
    this.graceful = !(this.version === 5 && p.reasonCode === ReasonCode.DisconnectWithWillMessage);
    if (this.graceful) this.will = undefined;
    this.close('client disconnected');
  }

  private onAuth(p: AuthPacket): void {
    const method = p.properties?.authenticationMethod;
    if (this.authMethod === undefined || method !== this.authMethod) {
      // [MQTT-4.12.0-7] [MQTT-4.12.1-1] AUTH needs the method chosen at CONNECT.
      this.violation(
        new ProtocolError(
          ReasonCode.ProtocolError,
          this.authMethod === undefined
            ? 'AUTH without an authentication method'
            : 'AUTH with a different authentication method',
          'MQTT-4.12.0-7',
        ),
      );
      return;
    }
    const data = p.properties?.authenticationData;
    const ex = this.auth;
    if (p.reasonCode === ReasonCode.ContinueAuthentication) {
      if (ex === undefined || ex.phase !== ExchangePhase.WaitingForClient) {
        this.violation(new ProtocolError(ReasonCode.ProtocolError, 'unexpected AUTH 0x18'));
        return;
      }
      ex.continue(data).then(
        (step) => this.authStep(ex, step),
        (err) => this.onError(err),
      );
      return;
    }
    if (p.reasonCode === ReasonCode.ReAuthenticate && this.state === State.Connected) {
      if (ex !== undefined) {
        this.violation(
          new ProtocolError(ReasonCode.ProtocolError, 're-authentication in progress'),
        );
        return;
      }
      this.startExchange(undefined, false, undefined, data, true);
      return;
    }
    this.violation(
      new ProtocolError(ReasonCode.ProtocolError, `AUTH with reason code ${p.reasonCode}`),
    );
  }

  // ---------------------------------------------------------------- outgoing

  /** Queues an encoded packet; writes are flushed once per event-loop turn. */
  write(buf: Buffer): void {
    if (this.state === State.Closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncorkChannel, this);
    }
    this.broker.stats.packetsSent++;
    this.broker.stats.bytesSent += buf.length;
    this.socket.write(buf);
  }

  /** Flushes queued writes (one writev). */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** Encodes and queues any packet in this connection's protocol version. */
  send(packet: Packet): void {
    if (this.broker.packetLog)
      this.broker.log?.debug(describePacket('Sending', this.clientId, packet));
    this.write(encode(packet, this.version));
  }

  private sendAck(type: AckType, packetId: number, reasonCode: number): void {
    // With `commit` persistence every acknowledgement waits, in order, for the
    // group commit that made its message (or state change) durable.
    const p = this.broker.persistence;
    if (p?.defersAcks) (this.held ??= new HeldReplies(this, p)).ack(type, packetId, reasonCode);
    else this.writeAck(type, packetId, reasonCode);
  }

  /** Writes a PUBACK/PUBREC/PUBREL/PUBCOMP now (held ones once their commit is durable). */
  writeAck(type: AckType, packetId: number, reasonCode: number): void {
    if (this.version !== 5) reasonCode = 0;
    // [MQTT-3.1.2-29] a Reason String only when the client did not opt out of problem information.
    // [MQTT-3.4.2-2] and siblings: never grow an ack past a small client Maximum Packet Size.
    const roomy = this.clientMaximumPacketSize === 0 || this.clientMaximumPacketSize >= 64;
    const why =
      reasonCode >= 0x80 && this.problemInformation && roomy ? reasonString(reasonCode) : undefined;
    const properties = why === undefined ? undefined : { reasonString: why };
    const p = { type, packetId, reasonCode, properties } as Packet;
    if (this.broker.packetLog) this.broker.log?.debug(describePacket('Sending', this.clientId, p));
    this.write(encode(p, this.version));
  }

  /** Sends PUBREL for an outgoing QoS 2 message (on resume). */
  sendPubrel(packetId: number): void {
    this.sendAck(PacketType.PUBREL, packetId, 0);
  }

  /**
   * Sends a PUBLISH of a routed message. Uses the message's cached encoding for
   * this shape when nothing per-subscriber applies; v5 subscription ids,
   * topic aliases and message expiry need a per-subscriber encoding.
   */
  sendPublish(
    msg: Message,
    qos: QoS,
    retain: boolean,
    packetId: number,
    dup: boolean,
    subIds: number[] | undefined,
  ): DropReason {
    const b = this.broker;
    if (qos === 0 && this.socket.writableLength > b.options.maxPendingBytes) {
      b.stats.publishDropped++;
      return DropReason.SlowConsumer;
    }
    const v5 = this.version === 5;
    let buf: Buffer;
    if (v5 && (subIds !== undefined || msg.expiresAt !== 0 || this.clientTopicAliasMaximum > 0)) {
      buf = this.encodeCustom(msg, qos, retain, packetId, dup, subIds);
    } else {
      const idx = shapeIndex(v5, qos, retain);
      const cache = (msg.encoded ??= new Array(12));
      // Mount points change the topic per listener: such channels neither read nor fill the cache.
      let enc = this.info.mountPoint === undefined ? cache[idx] : undefined;
      if (enc === undefined) {
        enc = encodePublish(
          {
            type: PacketType.PUBLISH,
            topic: this.outTopic(msg.topic),
            payload: msg.payload,
            qos,
            retain,
            dup: false,
            packetId: qos === 0 ? 0 : 1,
            properties: msg.properties,
          },
          this.version,
        );
        // A mount point changes the topic per listener, so such encodings are not shared.
        if (this.info.mountPoint === undefined) cache[idx] = enc;
      }
      buf = qos === 0 ? enc.buffer : withPacketId(enc, packetId, dup);
    }
    if (this.clientMaximumPacketSize > 0 && buf.length > this.clientMaximumPacketSize) {
      b.stats.publishDropped++;
      return DropReason.TooLarge;
    }
    b.stats.publishSent++;
    if (b.packetLog)
      b.log?.debug(
        describePublishOut(
          this.clientId,
          dup,
          qos,
          retain,
          packetId,
          msg.topic,
          msg.payload.length,
        ),
      );
    this.write(buf);
    return DropReason.None;
  }

  private outTopic(topic: string): string {
    const mp = this.info.mountPoint;
    return mp === undefined ? topic : topic.slice(mp.length);
  }

  private encodeCustom(
    msg: Message,
    qos: QoS,
    retain: boolean,
    packetId: number,
    dup: boolean,
    subIds: number[] | undefined,
  ): Buffer {
    let props: Properties | undefined =
      msg.properties === undefined ? undefined : { ...msg.properties };
    if (msg.expiresAt !== 0) {
      props ??= {};
      // Forward the remaining lifetime, not the original interval [MQTT-3.3.2-6].
      props.messageExpiryInterval = Math.max(
        0,
        Math.ceil((msg.expiresAt - this.broker.now) / 1000),
      );
    }
    if (subIds !== undefined) {
      props ??= {};
      props.subscriptionIdentifiers = subIds;
    }
    let topic = this.outTopic(msg.topic);
    if (this.clientTopicAliasMaximum > 0) {
      const aliases = (this.outboundAliases ??= new Map());
      const alias = aliases.get(topic);
      if (alias !== undefined) {
        props ??= {};
        props.topicAlias = alias;
        topic = '';
      } else if (aliases.size < this.clientTopicAliasMaximum) {
        const next = aliases.size + 1;
        aliases.set(topic, next);
        props ??= {};
        props.topicAlias = next;
      }
    }
    return encode(
      {
        type: PacketType.PUBLISH,
        topic,
        payload: msg.payload,
        qos,
        retain,
        dup,
        packetId: qos === 0 ? 0 : packetId,
        properties: props,
      },
      5,
    );
  }

  // ---------------------------------------------------------------- errors & closing

  /** Handles anything thrown while processing this client's input: only this client is affected. */
  private onError(err: unknown): void {
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
      `protocol error: ${err.message}`,
    );
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
    if (held) {
      // A CONNACK not yet durable never goes out, nor anything behind it
      // (end() would uncork it): the client sees the connection fail.
      this.socket.destroy();
    } else {
      this.flush();
      this.socket.end();
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
      this.state = State.Closed;
      this.decoder.destroy();
      this.detach();
    }
    this.broker.channelClosed(this);
  }

  private detach(): void {
    if (this.willSent) return;
    this.willSent = true;
    const will = this.graceful ? undefined : this.will;
    this.will = undefined;
    if (this.session !== undefined && this.session.channel === this) {
      this.broker.onClientDisconnected(this, will, this.closeReason);
    } else if (will !== undefined && this.client !== undefined) {
      this.broker.publishWill(this.session, this.client, will);
    }
  }

  /** Called by the broker's sweeper: enforces the connect timeout and keep alive. Returns true if closed. */
  checkTimers(now: number): boolean {
    if (this.state === State.Connecting) {
      if (now - this.openedAt > this.broker.options.connectTimeout * 1000) {
        this.broker.stats.connectTimeouts++;
        this.close('no CONNECT within connect timeout');
        return true;
      }
      return false;
    }
    // [MQTT-3.1.2-24] 1.5 times the keep alive without a packet: disconnect.
    if (
      this.state === State.Connected &&
      this.keepalive > 0 &&
      now - this.lastActivity > this.keepalive * 1500
    ) {
      this.broker.stats.keepaliveTimeouts++;
      this.disconnectWith(ReasonCode.KeepAliveTimeout, 'keep alive timeout');
      return true;
    }
    return false;
  }

  /** Whether to include reason strings and user properties on acks (v5 Request Problem Information). */
  get wantsProblemInformation(): boolean {
    return this.problemInformation;
  }
}

function destroyLater(socket: Duplex): void {
  if (!socket.destroyed) socket.destroy();
}
