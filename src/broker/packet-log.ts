import { PacketType, PacketTypeName } from '../protocol/constants.js';
import type { Packet } from '../protocol/packets.js';

/**
 * Mosquitto-style one-line descriptions of packets for verbose (-v) logs,
 * e.g. "Received PUBLISH from sensor-1 (d0, q1, r0, m1, 'home/garden/fountain/2', ... (12 bytes))".
 * Only called when debug logging is on.
 */
export function describePacket(
  direction: 'Received' | 'Sending',
  clientId: string,
  p: Packet,
): string {
  const name = PacketTypeName[p.type] ?? `type ${p.type}`;
  const who = `${direction} ${name} ${direction === 'Received' ? 'from' : 'to'} ${clientId}`;
  switch (p.type) {
    case PacketType.PUBLISH:
      return `${who} (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.packetId}, '${p.topic}', ... (${p.payload.length} bytes))`;
    case PacketType.CONNACK:
      return `${who} (${p.sessionPresent ? 1 : 0}, ${p.reasonCode})`;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return `${who} (Mid: ${p.packetId}, RC:${p.reasonCode})`;
    case PacketType.SUBSCRIBE:
      return `${who}\n${p.subscriptions.map((s) => `\t${s.topic} (QoS ${s.qos})`).join('\n')}`;
    case PacketType.DISCONNECT:
      return p.reasonCode === 0 ? who : `${who} (${p.reasonCode})`;
    default:
      return who;
  }
}

/** Describes an outgoing PUBLISH without building a packet object. */
export function describePublishOut(
  clientId: string,
  dup: boolean,
  qos: number,
  retain: boolean,
  packetId: number,
  topic: string,
  bytes: number,
): string {
  return `Sending PUBLISH to ${clientId} (d${dup ? 1 : 0}, q${qos}, r${retain ? 1 : 0}, m${packetId}, '${topic}', ... (${bytes} bytes))`;
}
