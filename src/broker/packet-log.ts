import { filterLines, publishDetails } from '../log/mosquitto-lines.js';
import { PacketType, PacketTypeName } from '../protocol/constants.js';
import type { Packet } from '../protocol/packets.js';

/**
 * Mosquitto-style descriptions of packets for verbose (-v) logs, in Mosquitto 2.0's
 * words, e.g. "Received PUBLISH from sensor-1 (d0, q1, r0, m1, 'home/garden/fountain/2', ... (12 bytes))"
 * or "Sending PUBACK to sensor-1 (m1, rc0)". SUBSCRIBE and UNSUBSCRIBE add one line
 * per filter. Only called when debug logging is on.
 */
export function describePacket(
  direction: 'Received' | 'Sending',
  clientId: string,
  p: Packet,
): string {
  const name = PacketTypeName[p.type] ?? `type ${p.type}`;
  const sending = direction === 'Sending';
  const who = `${direction} ${name} ${sending ? 'to' : 'from'} ${clientId}`;
  switch (p.type) {
    case PacketType.PUBLISH:
      return `${who} ${publishDetails(p.dup, p.qos, p.retain, p.packetId, p.topic, p.payload.length)}`;
    case PacketType.CONNACK:
      return `${who} (${p.sessionPresent ? 1 : 0}, ${p.reasonCode})`;
    case PacketType.PUBACK:
      return sending
        ? `${who} (m${p.packetId}, rc${p.reasonCode})`
        : `${who} (Mid: ${p.packetId}, RC:${p.reasonCode})`;
    case PacketType.PUBREC:
      return sending ? `${who} (m${p.packetId}, rc${p.reasonCode})` : `${who} (Mid: ${p.packetId})`;
    case PacketType.PUBREL:
      return sending ? `${who} (m${p.packetId})` : `${who} (Mid: ${p.packetId})`;
    case PacketType.PUBCOMP:
      return sending
        ? `${who} (m${p.packetId})`
        : `${who} (Mid: ${p.packetId}, RC:${p.reasonCode})`;
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE:
      return `${who}\n${filterLines(clientId, p)}`;
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
  return `Sending PUBLISH to ${clientId} ${publishDetails(dup, qos, retain, packetId, topic, bytes)}`;
}
