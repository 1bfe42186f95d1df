/** mosquitto_pub/sub/rr's -d output: one line per packet sent or received. */
import { PacketType, PacketTypeName } from '../protocol/constants.js';
import type { Packet } from '../protocol/packets.js';

/** A trace function printing mosquitto-style debug lines ("Client x sending PUBLISH (...)"). */
export function debugTracer(
  write: (line: string) => void,
  clientId: () => string,
): (direction: 'send' | 'receive', packet: Packet) => void {
  return (direction, p) => {
    const who = `Client ${clientId() || '(null)'} ${direction === 'send' ? 'sending' : 'received'}`;
    switch (p.type) {
      case PacketType.PUBLISH:
        write(
          `${who} PUBLISH (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.packetId}, '${p.topic}', ... (${p.payload.length} bytes))\n`,
        );
        break;
      case PacketType.CONNACK:
        write(`${who} CONNACK (${p.reasonCode})\n`);
        break;
      case PacketType.SUBSCRIBE:
        for (const s of p.subscriptions) {
          const opts =
            (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (s.retainHandling << 4);
          write(
            `${who} SUBSCRIBE (Mid: ${p.packetId}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${opts.toString(16).padStart(2, '0')})\n`,
          );
        }
        break;
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBREL:
      case PacketType.PUBCOMP:
        write(`${who} ${PacketTypeName[p.type]} (m${p.packetId}, rc${p.reasonCode})\n`);
        break;
      case PacketType.SUBACK:
        write(`${who} SUBACK\nSubscribed (mid: ${p.packetId}): ${p.reasonCodes.join(', ')}\n`);
        break;
      case PacketType.UNSUBSCRIBE:
        for (const t of p.topics) write(`${who} UNSUBSCRIBE (Mid: ${p.packetId}, Topic: ${t})\n`);
        break;
      default:
        write(`${who} ${PacketTypeName[p.type]}\n`);
    }
  };
}
