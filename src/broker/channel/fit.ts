import { PacketType, type ProtocolVersion } from '../../protocol/constants.js';
import { encode } from '../../protocol/encoder.js';
import type { Packet } from '../../protocol/packets.js';

// [MQTT-3.1.2-24] nothing we send may exceed the Maximum Packet Size the client
// declared. Reason String and User Properties are the optional part of a
// non-PUBLISH packet ([MQTT-3.2.2-19] [MQTT-3.2.2-20] and their siblings for
// every packet type), so they go first; a packet still too large is not sent.

/**
 * Encodes `packet` within `max` bytes (0 = no limit): as is, else without its
 * Reason String and User Properties; undefined when even that does not fit.
 * PUBLISH packets are never trimmed: their properties belong to the message.
 */
export function encodeWithin(
  packet: Packet,
  version: ProtocolVersion,
  max: number,
): Buffer | undefined {
  const buf = encode(packet, version);
  if (max === 0 || buf.length <= max) return buf;
  const props = 'properties' in packet ? packet.properties : undefined;
  if (
    packet.type === PacketType.PUBLISH ||
    props === undefined ||
    (props.reasonString === undefined && props.userProperties === undefined)
  )
    return undefined;
  const { reasonString: _r, userProperties: _u, ...rest } = props;
  const trimmed = { ...packet, properties: Object.keys(rest).length > 0 ? rest : undefined };
  const small = encode(trimmed as Packet, version);
  return small.length <= max ? small : undefined;
}
