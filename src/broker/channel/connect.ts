import { clientConnectedLine, refusedLine, willLines } from '../../log/mosquitto-lines.js';
import {
  ConnackReturnCode,
  connackCodeForV3,
  PacketType,
  ReasonCode,
} from '../../protocol/constants.js';
import { ProtocolError } from '../../protocol/errors.js';
import type {
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
} from '../../protocol/packets.js';
import type { Properties } from '../../protocol/properties.js';
import { AuthExchange, type AuthStep, ExchangePhase } from '../enhanced-auth.js';
import { redirectConnack } from '../redirect.js';
import type { ChannelContext } from './context.js';
import { encodeWithin } from './fit.js';
import { HeldReplies } from './held-replies.js';
import { State } from './state.js';

// The connection-level packets of one channel: CONNECT and its authentication
// (plain or v5 enhanced, with re-authentication), AUTH and DISCONNECT.

/** Handles CONNECT: checks it, authenticates (maybe asynchronously), then accepts or refuses. */
export function onConnect(ch: ChannelContext, p: ConnectPacket): void {
  const b = ch.broker;
  const o = b.options;
  ch.version = p.protocolVersion;
  ch.bridge = p.bridge === true;
  ch.state = State.Authenticating;
  const v5 = p.protocolVersion === 5;
  const props = p.properties;
  if (o.redirect !== undefined) {
    const r = redirectConnack(o.redirect, v5);
    refuse(ch, r.reasonCode, `redirected to ${o.redirect.serverReference}`, r.properties);
    return;
  }
  if (p.will !== undefined && v5) {
    if (p.will.qos > o.maxQos) {
      // [MQTT-3.2.2-12] a will QoS above Maximum QoS is refused.
      refuse(ch, ReasonCode.QoSNotSupported, `will QoS ${p.will.qos} not supported`);
      return;
    }
    if (p.will.retain && !o.retainAvailable) {
      // [MQTT-3.2.2-13] a retained will without retain support is refused.
      refuse(ch, ReasonCode.RetainNotSupported, 'retained will not supported');
      return;
    }
  }
  let clientId = p.clientId;
  let assigned = false;
  if (clientId.length === 0) {
    // [MQTT-3.1.3-7/8] an empty id needs clean session in 3.1.1; v5 always may get one assigned.
    if (p.protocolVersion === 3 || (!v5 && !p.clean) || !ch.access.allowZeroLengthClientId) {
      refuse(
        ch,
        v5 ? ReasonCode.ClientIdentifierNotValid : ConnackReturnCode.IdentifierRejected,
        'empty client id',
      );
      return;
    }
    clientId = b.assignClientId(ch.access.autoIdPrefix);
    assigned = true;
  }
  if (p.protocolVersion === 3 && clientId.length > 23) {
    // MQTT 3.1 limits identifiers to 23 characters.
    refuse(
      ch,
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
      refuse(
        ch,
        ConnackReturnCode.IdentifierRejected,
        `keep alive ${keepalive} above max_keepalive ${o.maxKeepalive}`,
      );
      return;
    }
  }
  ch.keepalive = keepalive;
  let username = p.username;
  if (ch.info.certificateAsUsername && ch.info.certificateSubject !== undefined)
    username = ch.info.certificateSubject;
  // From here on the channel's clientId and username are the ClientInfo's.
  ch.client = {
    clientId,
    username,
    protocolVersion: p.protocolVersion,
    remoteAddress: ch.info.remoteAddress,
    remotePort: ch.info.remotePort,
    listener: ch.info.listener,
    certificateSubject: ch.info.certificateSubject,
  };
  if (p.will !== undefined) {
    const mp = ch.info.mountPoint;
    ch.will = mp === undefined ? p.will : { ...p.will, topic: mp + p.will.topic };
  }
  if (v5 && props !== undefined) {
    if (props.receiveMaximum !== undefined) ch.receiveMaximum = props.receiveMaximum;
    if (props.maximumPacketSize !== undefined) ch.clientMaximumPacketSize = props.maximumPacketSize;
    if (props.topicAliasMaximum !== undefined) ch.clientTopicAliasMaximum = props.topicAliasMaximum;
    if (props.requestProblemInformation === 0) ch.problemInformation = false;
    if (props.authenticationMethod !== undefined) {
      if (!b.supportsAuthMethod(props.authenticationMethod)) {
        // [MQTT-4.12.0-1] an unknown method: CONNACK 0x8C and close.
        refuse(
          ch,
          ReasonCode.BadAuthenticationMethod,
          `unsupported authentication method ${props.authenticationMethod}`,
        );
        return;
      }
      ch.enhancedAuth = {
        method: props.authenticationMethod,
        exchange: undefined,
        pendingConnect: undefined,
        data: undefined,
      };
    }
  }
  // Hold further packets until authentication settles, so that they are
  // handled in order and only for an accepted client.
  if (ch.enhancedAuth !== undefined) {
    ch.backlog = [];
    startExchange(ch, p, assigned, serverKeepAlive, props?.authenticationData, false);
    return;
  }
  let verdict: number | Promise<number>;
  try {
    verdict = b.authenticate(ch, p, ch.will);
  } catch (err) {
    authError(ch, err);
    return;
  }
  if (typeof verdict === 'number') {
    authenticated(ch, verdict, p, assigned, serverKeepAlive);
    return;
  }
  ch.backlog = [];
  verdict.then(
    (code) => authenticated(ch, code, p, assigned, serverKeepAlive),
    (err) => authError(ch, err),
  );
}

/** Acts on the authentication chain's answer to a CONNECT. */
function authenticated(
  ch: ChannelContext,
  code: number,
  p: ConnectPacket,
  assigned: boolean,
  serverKeepAlive: number | undefined,
): void {
  if (ch.state !== State.Authenticating) return;
  if (code !== ReasonCode.Success) {
    ch.broker.stats.authFailures++;
    refuse(ch, ch.version === 5 ? code : connackCodeForV3(code), 'authentication failed');
    return;
  }
  accept(ch, p, assigned, serverKeepAlive);
}

/** An authentication hook threw or rejected: the client gets "unspecified error" / "server unavailable". */
function authError(ch: ChannelContext, err: unknown): void {
  const b = ch.broker;
  b.stats.internalErrors++;
  b.log?.error({ err, clientId: ch.clientId }, 'authentication hook failed');
  if (ch.state === State.Authenticating)
    refuse(
      ch,
      ch.version === 5 ? ReasonCode.UnspecifiedError : ConnackReturnCode.ServerUnavailable,
      'authentication error',
    );
}

/** Starts an enhanced authentication exchange (at CONNECT, or AUTH 0x19 later). */
function startExchange(
  ch: ChannelContext,
  p: ConnectPacket | undefined,
  assigned: boolean,
  serverKeepAlive: number | undefined,
  data: Buffer | undefined,
  reauth: boolean,
): void {
  const ea = ch.enhancedAuth!;
  const method = ea.method;
  const ex = new AuthExchange(ch.broker.options.authMethods[method]!, {
    client: ch.client!,
    method,
    username: ch.username,
    password: p?.password,
    properties: p?.properties,
    reauthentication: reauth,
  });
  ea.exchange = ex;
  if (p !== undefined) ea.pendingConnect = { p, assigned, serverKeepAlive };
  ex.start(data).then(
    (step) => authStep(ch, ex, step),
    (err) => ch.onError(err),
  );
}

/** Acts on one step of an authentication exchange. */
function authStep(ch: ChannelContext, ex: AuthExchange, step: AuthStep): void {
  const ea = ch.enhancedAuth!;
  if (ea.exchange !== ex || ch.state === State.Closed) return;
  const method = ex.method;
  if (step.status === 'continue') {
    // [MQTT-4.12.0-2] more data needed: AUTH 0x18 with the method [MQTT-4.12.0-5].
    ch.send({
      type: PacketType.AUTH,
      reasonCode: ReasonCode.ContinueAuthentication,
      properties: { authenticationMethod: method, authenticationData: step.data },
    });
    return;
  }
  ea.exchange = undefined;
  if (step.status === 'failure') {
    const code = step.reasonCode ?? ReasonCode.NotAuthorized;
    ch.broker.stats.authFailures++;
    if (ex.reauthentication) {
      // [MQTT-4.12.1-2] a failed re-authentication closes the connection.
      ch.disconnectWith(code, step.reason ?? 're-authentication failed');
    } else {
      // [MQTT-4.12.0-4] a refused authentication closes the connection.
      refuse(ch, code, step.reason ?? 'enhanced authentication failed');
    }
    return;
  }
  if (step.username !== undefined) {
    ch.client = { ...ch.client!, username: step.username };
    const s = ch.session;
    if (s !== undefined) {
      // Re-authentication as someone else: deliveries (also while offline) and
      // later checks follow the new identity, not the session's old one.
      s.reidentify(ch.client, ch.access.checkerFor(ch.client));
      ch.broker.persistence?.sessionSaved(s);
    }
  }
  if (ex.reauthentication) {
    ch.send({
      type: PacketType.AUTH,
      reasonCode: ReasonCode.Success,
      properties: { authenticationMethod: method, authenticationData: step.data },
    });
    return;
  }
  const pc = ea.pendingConnect!;
  ea.pendingConnect = undefined;
  ea.data = step.data;
  accept(ch, pc.p, pc.assigned, pc.serverKeepAlive);
}

/** Binds the accepted client to its session and sends CONNACK 0 (held for the store's commit if need be). */
function accept(
  ch: ChannelContext,
  p: ConnectPacket,
  assigned: boolean,
  serverKeepAlive: number | undefined,
): void {
  const b = ch.broker;
  const connack: ConnackPacket = {
    type: PacketType.CONNACK,
    sessionPresent: false,
    reasonCode: 0,
    properties: ch.version === 5 ? connackProperties(ch, p, assigned, serverKeepAlive) : undefined,
  };
  if (
    ch.clientMaximumPacketSize > 0 &&
    encodeWithin(connack, ch.version, ch.clientMaximumPacketSize) === undefined
  ) {
    // [MQTT-3.1.2-24] a CONNACK the client cannot take is not sent, and a
    // connection without CONNACK is no connection: close before touching the session.
    ch.will = undefined;
    ch.close(`CONNACK larger than the client's Maximum Packet Size ${ch.clientMaximumPacketSize}`);
    return;
  }
  const { session, present, waitsForCommit } = b.attachSession(ch, p);
  ch.session = session;
  if (waitsForCommit) {
    // Everything written from the CONNACK on waits in the socket (an extra
    // cork level), in order, until connackDurable(); the client's pipelined
    // packets are handled meanwhile, their acks queue behind the CONNACK.
    ch.state = State.Held;
    ch.socket.cork();
    (ch.held ??= new HeldReplies(ch, b.persistence!)).connack();
  } else ch.state = State.Connected;
  // Mosquitto's order: who connected and their will, then the CONNACK line.
  if (b.options.connectionMessages)
    b.log?.info(
      clientConnectedLine({
        address: ch.info.remoteAddress,
        port: ch.info.remotePort,
        clientId: ch.clientId,
        protocolVersion: ch.client!.protocolVersion,
        clean: p.clean,
        keepalive: ch.keepalive,
        username: ch.username,
        bridge: ch.bridge,
      }),
    );
  if (b.packetLog) b.log?.debug(willLines(ch.will));
  // MQTT 3.1's first CONNACK byte is reserved (0): no Session Present flag before 3.1.1.
  connack.sessionPresent = present && ch.version !== 3;
  ch.send(connack);
  b.onClientConnected(ch, present);
  session.resume(b.now);
  ch.releaseBacklog();
}

/** The properties of a v5 CONNACK accepting `p` (undefined when there are none). */
function connackProperties(
  ch: ChannelContext,
  p: ConnectPacket,
  assigned: boolean,
  serverKeepAlive: number | undefined,
): Properties | undefined {
  const b = ch.broker;
  const props = b.connackProperties();
  if (assigned) props.assignedClientIdentifier = ch.clientId;
  if (serverKeepAlive !== undefined) props.serverKeepAlive = serverKeepAlive;
  if (p.properties?.requestResponseInformation === 1 && b.responseInformation !== undefined) {
    props.responseInformation = b.responseInformation;
  }
  const ea = ch.enhancedAuth;
  if (ea !== undefined) {
    // [MQTT-4.12.0-5] a successful CONNACK repeats the Authentication Method.
    props.authenticationMethod = ea.method;
    if (ea.data !== undefined) props.authenticationData = ea.data;
    ea.data = undefined;
  }
  return Object.keys(props).length === 0 ? undefined : props;
}

/** Sends a refusing CONNACK and closes. `code` is already in the client's version's terms. */
function refuse(ch: ChannelContext, code: number, why: string, properties?: Properties): void {
  ch.send({ type: PacketType.CONNACK, sessionPresent: false, reasonCode: code, properties });
  ch.broker.log?.info(
    { clientId: ch.clientId, remote: ch.info.remoteAddress, code, reason: why },
    refusedLine(code, why),
  );
  ch.will = undefined;
  ch.close(why);
}

/** Handles DISCONNECT: a v5 session expiry update, the will kept or discarded, then close. */
export function onDisconnect(ch: ChannelContext, p: DisconnectPacket): void {
  const s = ch.session!;
  const requested = p.properties?.sessionExpiryInterval;
  if (ch.version === 5 && requested !== undefined) {
    if (s.expiryInterval === 0 && requested !== 0) {
      // [MQTT-3.14.2-2] cannot turn a 0 expiry into a non-zero one at DISCONNECT.
      ch.violation(
        new ProtocolError(
          ReasonCode.ProtocolError,
          'session expiry changed from 0 at DISCONNECT',
          'MQTT-3.14.2-2',
        ),
      );
      return;
    }
    s.setExpiry(requested);
  }
  // [MQTT-3.14.4-3] a normal DISCONNECT discards the will; v5 0x04 asks for it.
  ch.graceful = !(ch.version === 5 && p.reasonCode === ReasonCode.DisconnectWithWillMessage);
  if (ch.graceful) ch.will = undefined;
  ch.close('client disconnected');
}

/** Handles AUTH: continues an enhanced authentication exchange or starts a re-authentication. */
export function onAuth(ch: ChannelContext, p: AuthPacket): void {
  const method = p.properties?.authenticationMethod;
  const ea = ch.enhancedAuth;
  if (ea === undefined || method !== ea.method) {
    // [MQTT-4.12.0-7] [MQTT-4.12.1-1] AUTH needs the method chosen at CONNECT.
    ch.violation(
      new ProtocolError(
        ReasonCode.ProtocolError,
        ea === undefined
          ? 'AUTH without an authentication method'
          : 'AUTH with a different authentication method',
        'MQTT-4.12.0-7',
      ),
    );
    return;
  }
  const data = p.properties?.authenticationData;
  const ex = ea.exchange;
  if (p.reasonCode === ReasonCode.ContinueAuthentication) {
    if (ex === undefined || ex.phase !== ExchangePhase.WaitingForClient) {
      ch.violation(new ProtocolError(ReasonCode.ProtocolError, 'unexpected AUTH 0x18'));
      return;
    }
    ex.continue(data).then(
      (step) => authStep(ch, ex, step),
      (err) => ch.onError(err),
    );
    return;
  }
  if (p.reasonCode === ReasonCode.ReAuthenticate && ch.state === State.Connected) {
    if (ex !== undefined) {
      ch.violation(new ProtocolError(ReasonCode.ProtocolError, 're-authentication in progress'));
      return;
    }
    startExchange(ch, undefined, false, undefined, data, true);
    return;
  }
  ch.violation(
    new ProtocolError(ReasonCode.ProtocolError, `AUTH with reason code ${p.reasonCode}`),
  );
}
