import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ProtocolVersion, QoS } from '../../protocol/constants.js';
import type { ProtocolError } from '../../protocol/errors.js';
import type {
  ConnectPacket,
  Packet,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  Will,
} from '../../protocol/packets.js';
import type { Properties } from '../../protocol/properties.js';
import type { Persistence } from '../../store/persistence.js';
import type { ConnectionInfo } from '../../transport/connection-info.js';
import type { AccessControl, PublishVerdict } from '../access-control.js';
import type { AccessControls } from '../access-controls.js';
import type { DeliveryTarget } from '../delivery-target.js';
import type { AuthExchange } from '../enhanced-auth.js';
import type { ListenerStats } from '../listener-stats.js';
import type { Message } from '../message.js';
import type { ClientInfo, ResolvedBrokerOptions } from '../options.js';
import type { PartialPacketBudget } from '../partial-packet-budget.js';
import type { PublishQuota } from '../publish-quota.js';
import type { RouteResult } from '../router.js';
import type { Session, SubscriptionRecord } from '../session.js';
import type { BrokerStats } from '../stats.js';
import type { SubscribeOutcome, Subscriber, SubscribeVerdicts } from '../subscriptions.js';
import type { State } from './state.js';

// The two sides of a connection's packet handlers (connect.ts, publish.ts,
// outbound.ts, subscribe.ts, held-replies.ts): what they see of their
// connection, and of the broker. Channel and Broker satisfy these; the
// handlers import neither, so the channel's files form no import loop.

/** A PUBACK, PUBREC, PUBREL or PUBCOMP packet type. */
export type AckType = 4 | 5 | 6 | 7;

/** The replies a connection holds for the store's commit (see HeldReplies). */
export interface HeldReplyQueue {
  /** Holds an acknowledgement until the open commit window is durable. */
  ack(type: AckType, packetId: number, reasonCode: number): void;
  /** Holds the CONNACK (written, corked in the socket) and everything after it. */
  connack(): void;
  /** Holds a SUBACK/UNSUBACK; `retainedFor` get their retained messages right after it. */
  reply(packet: SubackPacket | UnsubackPacket, retainedFor: SubscriptionRecord[] | undefined): void;
}

/** Which session a CONNECT got, and whether its CONNACK waits for the store's commit. */
export interface SessionAttachment {
  session: Session;
  /** The Session Present flag of the CONNACK. */
  present: boolean;
  /** The CONNACK must wait for the commit of the stored session change. */
  waitsForCommit: boolean;
}

/**
 * The broker as a connection sees it. Calls that take the connection take it
 * as the Channel that makes them.
 */
export interface ChannelHost {
  readonly options: ResolvedBrokerOptions;
  readonly stats: BrokerStats;
  readonly log: Logger | undefined;
  /** Whether every packet is logged: checked before building any log text. */
  readonly packetLog: boolean;
  /** Current time in ms. */
  readonly now: number;
  readonly persistence: Persistence | undefined;
  readonly accessControls: AccessControls;
  /** Response Information for v5 clients that request it. */
  readonly responseInformation: string | undefined;
  /** Sessions by client id (a held SUBACK's retained messages go only to a session still here). */
  readonly sessions: ReadonlyMap<string, Session>;
  /** A client id for a client that sent an empty one. */
  assignClientId(prefix?: string): string;
  /** Whether an enhanced-authentication method is registered under this name. */
  supportsAuthMethod(method: string): boolean;
  /** v5 CONNACK properties describing the broker's limits (a fresh object). */
  connackProperties(): Properties;
  /** Runs the authentication chain; a v5 reason code (0 = accepted). */
  authenticate(
    ch: ChannelContext,
    p: ConnectPacket,
    will: Will | undefined,
  ): number | Promise<number>;
  /** Bytes held in incomplete packets, broker-wide. */
  readonly partialPackets: PartialPacketBudget;
  /** Binds an accepted connection to its session. */
  attachSession(ch: ChannelContext, p: ConnectPacket): SessionAttachment;
  /** CONNACK 0 went out. */
  onClientConnected(ch: ChannelContext, sessionPresent: boolean): void;
  /** The connection of an attached client ended; `will` unless it disconnected normally. */
  onClientDisconnected(ch: ChannelContext, will: Will | undefined, reason: string): void;
  /** Publishes a will now. */
  publishWill(session: Session | undefined, client: ClientInfo | undefined, will: Will): void;
  /** The connection's socket has closed. */
  channelClosed(ch: ChannelContext): void;
  /** Whether a topic or filter has more levels than allowed. */
  topicTooDeep(topic: string): boolean;
  /** Whether the client may publish to `topic`. */
  authorizePublish(
    ch: ChannelContext,
    topic: string,
    qos: QoS,
    retain: boolean,
  ): PublishVerdict | Promise<PublishVerdict>;
  /** The message of a client's PUBLISH, not routed yet. */
  messageFromClient(session: Session, topic: string, p: PublishPacket): Message;
  /** Routes a client's message: sessions reached, and how many of them were full. */
  publishReleased(session: Session, msg: Message): RouteResult;
  /** Asks the authorizeSubscribe hook; undefined when there is nothing to wait for. */
  subscribeVerdicts(sub: Subscriber, p: SubscribePacket): Promise<SubscribeVerdicts> | undefined;
  /** Checks, records and routes a SUBSCRIBE. */
  applySubscribe(
    sub: Subscriber,
    p: SubscribePacket,
    verdicts: SubscribeVerdicts | undefined,
  ): SubscribeOutcome;
  /** In a cluster: resolves once new routes are in force on every node (undefined: nothing to wait for). */
  routesSettled(): Promise<void> | undefined;
  /** The SUBACK went out (or is held): the `subscribe` event. */
  subscribeAnswered(client: ClientInfo, subscriptions: Subscription[], granted: number[]): void;
  /** Sends the retained messages matching new subscriptions. */
  sendRetained(session: Session, recs: SubscriptionRecord[]): void;
  /** Removes subscriptions by exact filter; v5 UNSUBACK codes. */
  unsubscribe(sub: Subscriber, filters: string[]): number[];
}

/**
 * A connection's v5 enhanced authentication (one object, made only for clients
 * that use it: four fields of every connection before).
 */
export interface EnhancedAuthState {
  /** The method chosen at CONNECT (re-authentication must use it too). */
  readonly method: string;
  /** The exchange in progress. */
  exchange: AuthExchange | undefined;
  /** The CONNECT waiting for its exchange to finish. */
  pendingConnect:
    | { p: ConnectPacket; assigned: boolean; serverKeepAlive: number | undefined }
    | undefined;
  /** Authentication Data for the CONNACK of a successful exchange. */
  data: Buffer | undefined;
}

/** What the packet handlers of a connection read and change of it (Channel implements it). */
export interface ChannelContext extends DeliveryTarget {
  readonly broker: ChannelHost;
  readonly socket: Duplex;
  readonly info: ConnectionInfo;
  /** Authentication and ACL of the connection's listener. */
  readonly access: AccessControl;
  /** Message counters of the connection's listener. */
  readonly listenerStats: ListenerStats;
  state: State;
  version: ProtocolVersion;
  session: Session | undefined;
  client: ClientInfo | undefined;
  /** The client id from CONNECT ('' before it): the ClientInfo's. */
  readonly clientId: string;
  /** The user name the client is authenticated as: the ClientInfo's. */
  readonly username: string | undefined;
  keepalive: number;
  bridge: boolean;
  /** v5: the client's Receive Maximum (limits our inflight towards it). */
  receiveMaximum: number;
  clientMaximumPacketSize: number;
  clientTopicAliasMaximum: number;
  outboundAliases: Map<string, number> | undefined;
  inboundAliases: Map<number, string> | undefined;
  problemInformation: boolean;
  will: Will | undefined;
  backlog: Packet[] | undefined;
  work: number;
  graceful: boolean;
  /** v5 enhanced authentication, for a client that chose a method at CONNECT. */
  enhancedAuth: EnhancedAuthState | undefined;
  quota: PublishQuota | undefined;
  held: HeldReplyQueue | undefined;
  /** Closes the connection for a protocol violation. */
  violation(err: ProtocolError): void;
  /** Handles anything thrown while processing the client's input. */
  onError(err: unknown): void;
  /** Encodes and queues a packet; false when it exceeds the client's Maximum Packet Size (not sent). */
  send(packet: Packet): boolean;
  /** Queues an encoded packet. */
  write(buf: Buffer): void;
  /** Handles the packets that waited for an asynchronous hook. */
  releaseBacklog(): void;
  /** Server-initiated disconnect (v5: DISCONNECT with the reason first). */
  disconnectWith(reasonCode: number, why: string, properties?: Properties): void;
  /** Closes the socket. */
  close(why: string): void;
  /** Stops decoding until the next event-loop turn. */
  yieldTurn(): void;
  /** Stops reading for full subscriber queues (the flow gate calls it on the first). */
  holdInput(): void;
  /** Undoes holdInput() (the flow gate calls it once the last such queue drained). */
  releaseInput(): void;
  /** Writes an acknowledgement now. */
  writeAck(type: AckType, packetId: number, reasonCode: number): void;
  /** Sends a SUBACK/UNSUBACK whose change is durable, then its retained messages. */
  sendHeldReply(
    packet: SubackPacket | UnsubackPacket,
    retainedFor: SubscriptionRecord[] | undefined,
  ): void;
  /** The CONNACK's commit is durable. */
  connackDurable(): void;
}
