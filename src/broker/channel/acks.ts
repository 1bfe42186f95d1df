import { ReasonCode } from '../../protocol/constants.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ChannelContext } from './context.js';

// Acknowledgements of the PUBLISH packets this broker sent: each must be of the
// kind the delivery's QoS and stage call for. A wrong kind means the client and
// the broker disagree about the exchange; completing it anyway could drop a
// QoS 2 message the client never received, so the connection is closed instead
// and the delivery stays in flight (and stored) to be re-sent on resume.

/** The ack types a client sends for our PUBLISH packets. */
export type ClientAck = 'PUBACK' | 'PUBREC' | 'PUBCOMP';

/**
 * Whether an ack of `kind` fits the in-flight delivery `packetId`; closes the
 * connection for a protocol violation when it does not. Unknown ids fit (they
 * are answered as before: ignored, or PUBREL 0x92).
 */
export function ackFits(ch: ChannelContext, kind: ClientAck, packetId: number): boolean {
  const d = ch.session!.inflight.get(packetId);
  if (d === undefined) return true;
  let fits: boolean;
  if (d.held)
    fits = false; // never sent: no ack can answer it
  else if (kind === 'PUBACK') fits = d.qos === 1;
  else if (kind === 'PUBREC') fits = d.qos === 2;
  else fits = d.qos === 2 && d.released;
  if (fits) return true;
  const stage = d.qos === 1 ? 'QoS 1' : d.released ? 'QoS 2 after PUBREC' : 'QoS 2 before PUBREC';
  ch.violation(
    new ProtocolError(
      ReasonCode.ProtocolError,
      `${kind} for packet id ${packetId} of a ${stage} delivery`,
      ch.version === 5 ? 'MQTT-4.13.1-1' : 'MQTT-4.8.0-1',
    ),
  );
  return false;
}

/** Handles PUBACK of an outgoing QoS 1 message. */
export function onPuback(ch: ChannelContext, packetId: number): void {
  if (!ackFits(ch, 'PUBACK', packetId)) return;
  if (!ch.session!.complete(packetId, ch.broker.now))
    ch.broker.log?.debug({ clientId: ch.clientId, packetId }, 'PUBACK for unknown packet id');
}

/** Handles PUBCOMP of an outgoing QoS 2 message. */
export function onPubcomp(ch: ChannelContext, packetId: number): void {
  if (!ackFits(ch, 'PUBCOMP', packetId)) return;
  ch.session!.complete(packetId, ch.broker.now);
}
