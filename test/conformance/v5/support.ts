import { PacketType } from '../../../src/protocol/constants.js';
import type {
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  PubackPacket,
  PublishPacket,
  SubackPacket,
  Subscription,
  UnsubackPacket,
} from '../../../src/protocol/packets.js';
import type { Properties } from '../../../src/protocol/properties.js';
import { RawClient } from '../../helpers/raw-client.js';

/** CONNECT fields for a v5 raw client. */
export type ConnectFields = Partial<ConnectPacket>;

/** Opens a v5 raw client and completes CONNECT; throws unless CONNACK is 0. */
export async function v5(port: number, fields: ConnectFields = {}): Promise<RawClient> {
  const c = await RawClient.connect(port, 5);
  const ack = await c.handshake(fields);
  if (ack.reasonCode !== 0) throw new Error(`CONNACK 0x${ack.reasonCode.toString(16)}`);
  return c;
}

/** Opens a v5 raw client, sends CONNECT and returns it with the CONNACK, whatever its code. */
export async function v5Connack(
  port: number,
  fields: ConnectFields = {},
): Promise<{ c: RawClient; ack: ConnackPacket }> {
  const c = await RawClient.connect(port, 5);
  const ack = await c.handshake(fields);
  return { c, ack };
}

let nextId = 1;

/** Subscribes and returns the SUBACK reason codes. */
export async function subscribe(
  c: RawClient,
  filters: Array<string | Partial<Subscription>>,
  properties?: Properties,
): Promise<number[]> {
  const packetId = nextId++;
  const defaults: Omit<Subscription, 'topic'> = {
    qos: 2,
    noLocal: false,
    retainAsPublished: false,
    retainHandling: 0,
  };
  const subscriptions = filters.map(
    (f): Subscription =>
      ({ ...defaults, ...(typeof f === 'string' ? { topic: f } : f) }) as Subscription,
  );
  c.send({ type: PacketType.SUBSCRIBE, packetId, subscriptions, properties });
  const ack = await c.next<SubackPacket>(
    (p) => p.type === PacketType.SUBACK && p.packetId === packetId,
  );
  return ack.reasonCodes;
}

/** Unsubscribes and returns the UNSUBACK reason codes. */
export async function unsubscribe(c: RawClient, topics: string[]): Promise<number[]> {
  const packetId = nextId++;
  c.send({ type: PacketType.UNSUBSCRIBE, packetId, topics });
  const ack = await c.next<UnsubackPacket>(
    (p) => p.type === PacketType.UNSUBACK && p.packetId === packetId,
  );
  return ack.reasonCodes;
}

/** Publishes; for QoS 1 resolves with the PUBACK code, for QoS 2 with the PUBREC code (then completes). */
export async function publish(
  c: RawClient,
  topic: string,
  payload: string | Buffer,
  qos: 0 | 1 | 2 = 0,
  extra: Partial<PublishPacket> = {},
): Promise<number> {
  const packetId = qos === 0 ? 0 : nextId++ % 65535 || 1;
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    qos,
    retain: false,
    dup: false,
    packetId,
    ...extra,
  });
  if (qos === 0) return 0;
  const ackType = qos === 1 ? PacketType.PUBACK : PacketType.PUBREC;
  const ack = await c.next<PubackPacket>(
    (p) => p.type === ackType && (p as { packetId: number }).packetId === packetId,
  );
  if (qos === 2 && ack.reasonCode < 0x80) {
    c.send({ type: PacketType.PUBREL, packetId, reasonCode: 0 });
    await c.next(
      (p) => p.type === PacketType.PUBCOMP && (p as { packetId: number }).packetId === packetId,
    );
  }
  return ack.reasonCode;
}

/** Waits for the next PUBLISH (acknowledging QoS 1/2 unless told not to). */
export async function nextPublish(c: RawClient, ms = 3000, ack = true): Promise<PublishPacket> {
  const p = await c.nextOfType<PublishPacket>(PacketType.PUBLISH, ms);
  if (ack && p.qos === 1) c.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
  if (ack && p.qos === 2) {
    c.send({ type: PacketType.PUBREC, packetId: p.packetId, reasonCode: 0 });
    await c.nextOfType(PacketType.PUBREL, ms);
    c.send({ type: PacketType.PUBCOMP, packetId: p.packetId, reasonCode: 0 });
  }
  return p;
}

/** Resolves with the DISCONNECT the broker sends before closing (or rejects). */
export async function serverDisconnect(c: RawClient, ms = 3000): Promise<number> {
  const d = await c.nextOfType<DisconnectPacket>(PacketType.DISCONNECT, ms);
  return d.reasonCode;
}

/** A unique topic prefix per test. */
export function uniq(name: string): string {
  return `${name}/${Math.random().toString(36).slice(2, 8)}`;
}
