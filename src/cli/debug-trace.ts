/** mosquitto_pub/sub/rr's -d output: one line per packet sent or received, in libmosquitto's words. */
import { PacketType, PacketTypeName } from '../protocol/constants.js';
import type { Packet } from '../protocol/packets.js';
import type { ClientTool } from './tool-flags.js';

/** A client trace hook (see ClientOptions.trace). */
export type PacketTracer = (direction: 'send' | 'receive', packet: Packet) => void;

/**
 * A trace function printing mosquitto-style debug lines ("Client x sending PUBLISH (...)").
 * `clientId` is the id the CONNECT carries ('' when the server assigns one): until a v5
 * CONNACK names the assigned id, lines say "(null)" as libmosquitto's do.
 */
export function debugTracer(
  tool: ClientTool,
  write: (line: string) => void,
  clientId: string,
): PacketTracer {
  let id = clientId === '' ? '(null)' : clientId;
  // libmosquitto numbers every publish, QoS 0 included, from the counter packet ids come from.
  let lastMid = 0;
  return (direction, p) => {
    if (direction === 'receive' && p.type === PacketType.CONNACK) {
      const assigned = p.properties?.assignedClientIdentifier;
      if (assigned !== undefined) id = assigned;
    }
    if (direction === 'send' && 'packetId' in p && p.packetId > lastMid) lastMid = p.packetId;
    const who = `Client ${id} ${direction === 'send' ? 'sending' : 'received'}`;
    for (const line of describe(tool, direction, p, () => ++lastMid))
      write(line.startsWith('Subscribed') ? `${line}\n` : `${who} ${line}\n`);
  };
}

/** The lines for one packet: text after "Client X sending|received ", or a "Subscribed" line. */
function describe(
  tool: ClientTool,
  direction: 'send' | 'receive',
  p: Packet,
  nextMid: () => number,
): string[] {
  const name = PacketTypeName[p.type];
  switch (p.type) {
    case PacketType.PUBLISH: {
      const mid = p.qos === 0 && direction === 'send' ? nextMid() : p.packetId;
      return [
        `PUBLISH (d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${mid}, '${p.topic}', ... (${p.payload.length} bytes))`,
      ];
    }
    case PacketType.CONNACK:
      return [`CONNACK (${p.reasonCode})`];
    case PacketType.SUBSCRIBE:
      return p.subscriptions.map((s) => {
        const opts = (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (s.retainHandling << 4);
        return `SUBSCRIBE (Mid: ${p.packetId}, Topic: ${s.topic}, QoS: ${s.qos}, Options: 0x${opts.toString(16).padStart(2, '0')})`;
      });
    case PacketType.PUBACK:
      return [
        direction === 'send'
          ? `${name} (m${p.packetId}, rc${p.reasonCode})`
          : `${name} (Mid: ${p.packetId}, RC:${p.reasonCode})`,
      ];
    case PacketType.PUBREC:
      return [
        direction === 'send'
          ? `${name} (m${p.packetId}, rc${p.reasonCode})`
          : `${name} (Mid: ${p.packetId})`,
      ];
    case PacketType.PUBREL:
      return [direction === 'send' ? `${name} (m${p.packetId})` : `${name} (Mid: ${p.packetId})`];
    case PacketType.PUBCOMP:
      return [
        direction === 'send'
          ? `${name} (m${p.packetId})`
          : `${name} (Mid: ${p.packetId}, RC:${p.reasonCode})`,
      ];
    case PacketType.SUBACK:
      // mosquitto_sub's subscribe callback adds the granted QoS list; mosquitto_rr's does not.
      return tool === 'sub'
        ? ['SUBACK', `Subscribed (mid: ${p.packetId}): ${p.reasonCodes.join(', ')}`]
        : ['SUBACK'];
    case PacketType.UNSUBSCRIBE:
      return p.topics.map((t) => `UNSUBSCRIBE (Mid: ${p.packetId}, Topic: ${t})`);
    default:
      return [name];
  }
}
