// Hand-written packets covering every packet type, every optional field and every
// property, per protocol version. Shared by the round-trip and chunking tests.
import { type Packet, PacketType, type ProtocolVersion } from '../../../src/protocol/index.js';
import type { PublishPacket } from '../../../src/protocol/packets.js';
import type { Properties } from '../../../src/protocol/properties.js';

const b = (s: string) => Buffer.from(s);

/** Every property allowed in CONNECT. */
const connectProps: Properties = {
  sessionExpiryInterval: 3600,
  receiveMaximum: 20,
  maximumPacketSize: 65536,
  topicAliasMaximum: 10,
  requestResponseInformation: 1,
  requestProblemInformation: 0,
  userProperties: [
    ['k', 'v1'],
    ['other', 'x'],
    ['k', 'v2'],
    ['k', 'v1'],
  ],
  authenticationMethod: 'SCRAM-SHA-1',
  authenticationData: b('client-first'),
};

/** Every will property. */
const willProps: Properties = {
  willDelayInterval: 30,
  payloadFormatIndicator: 1,
  messageExpiryInterval: 120,
  contentType: 'text/plain',
  responseTopic: 'replies/here',
  correlationData: b('corr'),
  userProperties: [['will', 'yes']],
};

/** Every property allowed in CONNACK. */
const connackProps: Properties = {
  sessionExpiryInterval: 0xffffffff,
  receiveMaximum: 65535,
  maximumQoS: 1,
  retainAvailable: 0,
  maximumPacketSize: 1_000_000,
  assignedClientIdentifier: 'auto-7f3a',
  topicAliasMaximum: 5,
  reasonString: 'welcome',
  userProperties: [['server', 'heron']],
  wildcardSubscriptionAvailable: 1,
  subscriptionIdentifiersAvailable: 0,
  sharedSubscriptionAvailable: 1,
  serverKeepAlive: 30,
  responseInformation: 'resp/',
  serverReference: 'other.example:1883',
  authenticationMethod: 'SCRAM-SHA-1',
  authenticationData: b('server-final'),
};

/** Every property allowed in PUBLISH, with several subscription identifiers. */
const publishProps: Properties = {
  payloadFormatIndicator: 1,
  messageExpiryInterval: 60,
  topicAlias: 3,
  responseTopic: 'reply/to/me',
  correlationData: b('\x00\x01\x02'),
  userProperties: [
    ['a', '1'],
    ['a', '1'],
    ['ü', 'ünïcödé ✓'],
  ],
  subscriptionIdentifiers: [1, 127, 128, 16_383, 16_384, 268_435_455],
  contentType: 'application/json',
};

const ackProps: Properties = { reasonString: 'because', userProperties: [['x', 'y']] };

/** Named sample packets valid in `version`, as the decoder returns them. */
export function samplePackets(version: ProtocolVersion): Array<[string, Packet]> {
  const v5 = version === 5;
  const name = version === 3 ? 'MQIsdp' : 'MQTT';
  const out: Array<[string, Packet]> = [];
  const add = (label: string, p: Packet) => out.push([label, p]);

  add('CONNECT minimal', {
    type: PacketType.CONNECT,
    protocolName: name,
    protocolVersion: version,
    clean: true,
    keepalive: 60,
    clientId: 'c1',
  });
  add('CONNECT empty client id, no clean', {
    type: PacketType.CONNECT,
    protocolName: name,
    protocolVersion: version,
    clean: false,
    keepalive: 0,
    clientId: '',
  });
  add('CONNECT with will, user name and password', {
    type: PacketType.CONNECT,
    protocolName: name,
    protocolVersion: version,
    clean: true,
    keepalive: 65535,
    clientId: 'client-ünï',
    will: {
      topic: 'status/c1',
      payload: b('offline'),
      qos: 2,
      retain: true,
      ...(v5 ? { properties: willProps } : {}),
    },
    username: 'user',
    password: b('secret\x00bytes'),
    ...(v5 ? { properties: connectProps } : {}),
  });
  add('CONNECT will QoS 1 empty payload, user name only', {
    type: PacketType.CONNECT,
    protocolName: name,
    protocolVersion: version,
    clean: false,
    keepalive: 10,
    clientId: 'c2',
    will: { topic: 'w', payload: Buffer.alloc(0), qos: 1, retain: false },
    username: '',
  });
  if (v5) {
    add('CONNECT password without user name (v5)', {
      type: PacketType.CONNECT,
      protocolName: name,
      protocolVersion: 5,
      clean: true,
      keepalive: 5,
      clientId: 'c3',
      password: b('token'),
    });
  }

  add('CONNACK accepted', { type: PacketType.CONNACK, sessionPresent: false, reasonCode: 0 });
  add('CONNACK session present', { type: PacketType.CONNACK, sessionPresent: true, reasonCode: 0 });
  add('CONNACK refused', {
    type: PacketType.CONNACK,
    sessionPresent: false,
    reasonCode: v5 ? 0x87 : 5,
  });
  if (v5) {
    add('CONNACK all properties', {
      type: PacketType.CONNACK,
      sessionPresent: true,
      reasonCode: 0,
      properties: connackProps,
    });
  }

  const pub = (label: string, fields: Partial<PublishPacket>) =>
    add(label, {
      type: PacketType.PUBLISH,
      topic: 'a/b',
      payload: b('hello'),
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
      ...fields,
    } as Packet);
  pub('PUBLISH QoS 0', {});
  pub('PUBLISH QoS 0 retain empty payload', { retain: true, payload: Buffer.alloc(0) });
  pub('PUBLISH QoS 1', { qos: 1, packetId: 1 });
  pub('PUBLISH QoS 2 dup retain', { qos: 2, packetId: 65535, dup: true, retain: true });
  pub('PUBLISH unicode topic, 200-byte payload', {
    topic: 'sensors/température/✓',
    payload: Buffer.alloc(200, 7),
    qos: 1,
    packetId: 300,
  });
  pub('PUBLISH 20000-byte payload (3-byte length)', { payload: Buffer.alloc(20_000, 1) });
  if (v5) {
    pub('PUBLISH every property', { qos: 1, packetId: 9, properties: publishProps });
    pub('PUBLISH empty topic with topic alias', {
      topic: '',
      properties: { topicAlias: 4 },
    });
  }

  for (const [t, n] of [
    [PacketType.PUBACK, 'PUBACK'],
    [PacketType.PUBREC, 'PUBREC'],
    [PacketType.PUBREL, 'PUBREL'],
    [PacketType.PUBCOMP, 'PUBCOMP'],
  ] as const) {
    add(`${n}`, { type: t, packetId: 42, reasonCode: 0 } as Packet);
    if (v5) {
      add(`${n} reason code only`, { type: t, packetId: 43, reasonCode: 0x92 } as Packet);
      add(`${n} reason code and properties`, {
        type: t,
        packetId: 44,
        reasonCode: t === PacketType.PUBREL || t === PacketType.PUBCOMP ? 0x92 : 0x10,
        properties: ackProps,
      } as Packet);
      add(`${n} success with properties`, {
        type: t,
        packetId: 45,
        reasonCode: 0,
        properties: { userProperties: [['only', 'props']] },
      } as Packet);
    }
  }

  const sub = (topic: string, qos: 0 | 1 | 2, more = {}) => ({
    topic,
    qos,
    noLocal: false,
    retainAsPublished: false,
    retainHandling: 0 as const,
    ...more,
  });
  add('SUBSCRIBE one filter', {
    type: PacketType.SUBSCRIBE,
    packetId: 1,
    subscriptions: [sub('a/+', 1)],
  });
  add('SUBSCRIBE several filters', {
    type: PacketType.SUBSCRIBE,
    packetId: 2,
    subscriptions: [sub('#', 0), sub('+/+/x', 2), sub('$SYS/#', 1), sub('a/b/ü', 0)],
  });
  if (v5) {
    add('SUBSCRIBE options and properties', {
      type: PacketType.SUBSCRIBE,
      packetId: 3,
      subscriptions: [
        sub('a', 2, { noLocal: true, retainAsPublished: true, retainHandling: 2 }),
        sub('$share/g/a/#', 1, { retainHandling: 1 }),
      ],
      properties: { subscriptionIdentifiers: [77], userProperties: [['s', '1']] },
    });
  }

  add('SUBACK', {
    type: PacketType.SUBACK,
    packetId: 1,
    reasonCodes: [0, 1, 2, 0x80],
  });
  if (v5) {
    add('SUBACK v5 codes and properties', {
      type: PacketType.SUBACK,
      packetId: 2,
      reasonCodes: [0x00, 0x8f, 0x97, 0xa1],
      properties: ackProps,
    });
  }

  add('UNSUBSCRIBE', { type: PacketType.UNSUBSCRIBE, packetId: 5, topics: ['a/+', '#'] });
  if (v5) {
    add('UNSUBSCRIBE with properties', {
      type: PacketType.UNSUBSCRIBE,
      packetId: 6,
      topics: ['x'],
      properties: { userProperties: [['u', 'v']] },
    });
  }
  add('UNSUBACK', { type: PacketType.UNSUBACK, packetId: 5, reasonCodes: v5 ? [0, 0x11] : [] });
  if (v5) {
    add('UNSUBACK with properties', {
      type: PacketType.UNSUBACK,
      packetId: 6,
      reasonCodes: [0x87],
      properties: ackProps,
    });
  }

  add('PINGREQ', { type: PacketType.PINGREQ });
  add('PINGRESP', { type: PacketType.PINGRESP });
  add('DISCONNECT', { type: PacketType.DISCONNECT, reasonCode: 0 });
  if (v5) {
    add('DISCONNECT reason only', { type: PacketType.DISCONNECT, reasonCode: 0x04 });
    add('DISCONNECT with properties', {
      type: PacketType.DISCONNECT,
      reasonCode: 0x9c,
      properties: {
        sessionExpiryInterval: 0,
        reasonString: 'moving',
        userProperties: [['a', 'b']],
        serverReference: 'elsewhere',
      },
    });
    add('AUTH short form', { type: PacketType.AUTH, reasonCode: 0 });
    add('AUTH continue', {
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: 'SCRAM-SHA-1',
        authenticationData: b('data'),
        reasonString: 'continue',
        userProperties: [['a', 'b']],
      },
    });
  }
  return out;
}

/** Drops keys whose value is undefined, recursively, so shapes compare by content. */
export function normalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map(normalize) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = normalize(v);
  return out as T;
}
