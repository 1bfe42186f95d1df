import type { PacketType, ProtocolVersion, QoS } from './constants.js';
import type { Properties } from './properties.js';

/** The will message carried in a CONNECT. */
export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** v5 will properties (will delay, message expiry, ...). */
  properties?: Properties;
}

/** CONNECT: the first packet a client sends. */
export interface ConnectPacket {
  type: typeof PacketType.CONNECT;
  /** "MQIsdp" for level 3, "MQTT" for levels 4 and 5. */
  protocolName: string;
  protocolVersion: ProtocolVersion;
  /** Clean Session (3.1.x) / Clean Start (5.0). */
  clean: boolean;
  keepalive: number;
  clientId: string;
  will?: Will;
  username?: string;
  password?: Buffer;
  properties?: Properties;
  /**
   * 3.1/3.1.1 only: the protocol level carried bit 0x80, Mosquitto's `try_private`
   * announcement that the client is a bridge (it then gets No Local and Retain As Published).
   */
  bridge?: boolean;
}

/** CONNACK: the server's answer to CONNECT. `reasonCode` is the v3 return code for levels 3-4. */
export interface ConnackPacket {
  type: typeof PacketType.CONNACK;
  sessionPresent: boolean;
  reasonCode: number;
  properties?: Properties;
}

/** PUBLISH: an application message. `packetId` is 0 for QoS 0. */
export interface PublishPacket {
  type: typeof PacketType.PUBLISH;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  packetId: number;
  properties?: Properties;
}

/** Shape shared by PUBACK, PUBREC, PUBREL and PUBCOMP. `reasonCode` is 0 for v3. */
export interface AckPacketBase {
  packetId: number;
  reasonCode: number;
  properties?: Properties;
}

/** PUBACK: QoS 1 acknowledgement. */
export interface PubackPacket extends AckPacketBase {
  type: typeof PacketType.PUBACK;
}
/** PUBREC: QoS 2, step 1. */
export interface PubrecPacket extends AckPacketBase {
  type: typeof PacketType.PUBREC;
}
/** PUBREL: QoS 2, step 2. */
export interface PubrelPacket extends AckPacketBase {
  type: typeof PacketType.PUBREL;
}
/** PUBCOMP: QoS 2, step 3. */
export interface PubcompPacket extends AckPacketBase {
  type: typeof PacketType.PUBCOMP;
}

/** One topic filter of a SUBSCRIBE with its options (v5 options are false/0 for v3). */
export interface Subscription {
  topic: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
}

/** SUBSCRIBE: one or more topic filters. */
export interface SubscribePacket {
  type: typeof PacketType.SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

/** SUBACK: granted QoS (or failure code) per filter, in order. */
export interface SubackPacket {
  type: typeof PacketType.SUBACK;
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

/** UNSUBSCRIBE: one or more topic filters. */
export interface UnsubscribePacket {
  type: typeof PacketType.UNSUBSCRIBE;
  packetId: number;
  topics: string[];
  properties?: Properties;
}

/** UNSUBACK: v5 carries a reason code per filter; v3 has none (empty array). */
export interface UnsubackPacket {
  type: typeof PacketType.UNSUBACK;
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

/** PINGREQ: keep-alive probe from the client. */
export interface PingreqPacket {
  type: typeof PacketType.PINGREQ;
}

/** PINGRESP: the server's answer to PINGREQ. */
export interface PingrespPacket {
  type: typeof PacketType.PINGRESP;
}

/** DISCONNECT: v5 has a reason code and properties; v3 has neither (reasonCode 0). */
export interface DisconnectPacket {
  type: typeof PacketType.DISCONNECT;
  reasonCode: number;
  properties?: Properties;
}

/** AUTH: v5 enhanced authentication exchange. */
export interface AuthPacket {
  type: typeof PacketType.AUTH;
  reasonCode: number;
  properties?: Properties;
}

/** Any MQTT control packet. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;
