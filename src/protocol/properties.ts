import { PacketType } from './constants.js';

/** Wire types of MQTT 5 property values (spec 2.2.2.2). */
export type PropertyWireType =
  | 'byte'
  | 'uint16'
  | 'uint32'
  | 'varint'
  | 'utf8'
  | 'binary'
  | 'utf8pair';

/**
 * MQTT 5 properties as a typed object. Every field is optional; a property
 * absent from the wire is absent here. `userProperties` keeps wire order and
 * duplicates; `subscriptionIdentifiers` may hold several values on PUBLISH and
 * at most one on SUBSCRIBE.
 */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  userProperties?: Array<[string, string]>;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

/** Pseudo packet type used in property tables for the will properties of CONNECT. */
export const WILL_PROPERTIES = 0;

/** Static description of one MQTT 5 property. */
export interface PropertyDefinition {
  /** Identifier byte on the wire. */
  readonly id: number;
  /** Field name in {@link Properties}. */
  readonly name: keyof Properties;
  /** How the value is encoded. */
  readonly type: PropertyWireType;
  /** Packet types that may carry it (WILL_PROPERTIES = 0 for the CONNECT will). */
  readonly packets: readonly number[];
  /** Whether it may appear more than once in one property list. */
  readonly repeatable: boolean;
}

const P = PacketType;

/** Every MQTT 5 property (spec table 2-4). */
export const PROPERTY_DEFINITIONS: readonly PropertyDefinition[] = [
  {
    id: 0x01,
    name: 'payloadFormatIndicator',
    type: 'byte',
    packets: [P.PUBLISH, WILL_PROPERTIES],
    repeatable: false,
  },
  {
    id: 0x02,
    name: 'messageExpiryInterval',
    type: 'uint32',
    packets: [P.PUBLISH, WILL_PROPERTIES],
    repeatable: false,
  },
  {
    id: 0x03,
    name: 'contentType',
    type: 'utf8',
    packets: [P.PUBLISH, WILL_PROPERTIES],
    repeatable: false,
  },
  {
    id: 0x08,
    name: 'responseTopic',
    type: 'utf8',
    packets: [P.PUBLISH, WILL_PROPERTIES],
    repeatable: false,
  },
  {
    id: 0x09,
    name: 'correlationData',
    type: 'binary',
    packets: [P.PUBLISH, WILL_PROPERTIES],
    repeatable: false,
  },
  {
    id: 0x0b,
    name: 'subscriptionIdentifiers',
    type: 'varint',
    packets: [P.PUBLISH, P.SUBSCRIBE],
    repeatable: true,
  },
  {
    id: 0x11,
    name: 'sessionExpiryInterval',
    type: 'uint32',
    packets: [P.CONNECT, P.CONNACK, P.DISCONNECT],
    repeatable: false,
  },
  {
    id: 0x12,
    name: 'assignedClientIdentifier',
    type: 'utf8',
    packets: [P.CONNACK],
    repeatable: false,
  },
  { id: 0x13, name: 'serverKeepAlive', type: 'uint16', packets: [P.CONNACK], repeatable: false },
  {
    id: 0x15,
    name: 'authenticationMethod',
    type: 'utf8',
    packets: [P.CONNECT, P.CONNACK, P.AUTH],
    repeatable: false,
  },
  {
    id: 0x16,
    name: 'authenticationData',
    type: 'binary',
    packets: [P.CONNECT, P.CONNACK, P.AUTH],
    repeatable: false,
  },
  {
    id: 0x17,
    name: 'requestProblemInformation',
    type: 'byte',
    packets: [P.CONNECT],
    repeatable: false,
  },
  {
    id: 0x18,
    name: 'willDelayInterval',
    type: 'uint32',
    packets: [WILL_PROPERTIES],
    repeatable: false,
  },
  {
    id: 0x19,
    name: 'requestResponseInformation',
    type: 'byte',
    packets: [P.CONNECT],
    repeatable: false,
  },
  { id: 0x1a, name: 'responseInformation', type: 'utf8', packets: [P.CONNACK], repeatable: false },
  {
    id: 0x1c,
    name: 'serverReference',
    type: 'utf8',
    packets: [P.CONNACK, P.DISCONNECT],
    repeatable: false,
  },
  {
    id: 0x1f,
    name: 'reasonString',
    type: 'utf8',
    packets: [
      P.CONNACK,
      P.PUBACK,
      P.PUBREC,
      P.PUBREL,
      P.PUBCOMP,
      P.SUBACK,
      P.UNSUBACK,
      P.DISCONNECT,
      P.AUTH,
    ],
    repeatable: false,
  },
  {
    id: 0x21,
    name: 'receiveMaximum',
    type: 'uint16',
    packets: [P.CONNECT, P.CONNACK],
    repeatable: false,
  },
  {
    id: 0x22,
    name: 'topicAliasMaximum',
    type: 'uint16',
    packets: [P.CONNECT, P.CONNACK],
    repeatable: false,
  },
  { id: 0x23, name: 'topicAlias', type: 'uint16', packets: [P.PUBLISH], repeatable: false },
  { id: 0x24, name: 'maximumQoS', type: 'byte', packets: [P.CONNACK], repeatable: false },
  { id: 0x25, name: 'retainAvailable', type: 'byte', packets: [P.CONNACK], repeatable: false },
  {
    id: 0x26,
    name: 'userProperties',
    type: 'utf8pair',
    packets: [
      P.CONNECT,
      P.CONNACK,
      P.PUBLISH,
      WILL_PROPERTIES,
      P.PUBACK,
      P.PUBREC,
      P.PUBREL,
      P.PUBCOMP,
      P.SUBSCRIBE,
      P.SUBACK,
      P.UNSUBSCRIBE,
      P.UNSUBACK,
      P.DISCONNECT,
      P.AUTH,
    ],
    repeatable: true,
  },
  {
    id: 0x27,
    name: 'maximumPacketSize',
    type: 'uint32',
    packets: [P.CONNECT, P.CONNACK],
    repeatable: false,
  },
  {
    id: 0x28,
    name: 'wildcardSubscriptionAvailable',
    type: 'byte',
    packets: [P.CONNACK],
    repeatable: false,
  },
  {
    id: 0x29,
    name: 'subscriptionIdentifiersAvailable',
    type: 'byte',
    packets: [P.CONNACK],
    repeatable: false,
  },
  {
    id: 0x2a,
    name: 'sharedSubscriptionAvailable',
    type: 'byte',
    packets: [P.CONNACK],
    repeatable: false,
  },
];

/** Property definitions indexed by identifier byte (undefined for unknown ids). */
export const PROPERTY_BY_ID: ReadonlyArray<PropertyDefinition | undefined> = (() => {
  const table: Array<PropertyDefinition | undefined> = new Array(256).fill(undefined);
  for (const def of PROPERTY_DEFINITIONS) table[def.id] = def;
  return table;
})();

/** Property definitions indexed by field name. */
export const PROPERTY_BY_NAME: ReadonlyMap<keyof Properties, PropertyDefinition> = new Map(
  PROPERTY_DEFINITIONS.map((d) => [d.name, d]),
);
