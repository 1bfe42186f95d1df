import { ReasonCode } from './constants.js';

/**
 * A violation of the MQTT wire format or protocol rules. Carries the v5 reason
 * code to send (in a DISCONNECT or CONNACK) and, where one applies, the spec's
 * normative statement id, e.g. "MQTT-3.3.1-4".
 */
export class ProtocolError extends Error {
  /** The v5 reason code that describes the failure (0x81 Malformed Packet, 0x82 Protocol Error, ...). */
  readonly reasonCode: number;
  /** Normative statement id from the spec, when one applies. */
  readonly statement: string | undefined;

  constructor(reasonCode: number, message: string, statement?: string) {
    super(statement ? `${message} [${statement}]` : message);
    this.name = 'ProtocolError';
    this.reasonCode = reasonCode;
    this.statement = statement;
  }
}

/** Shorthand for a ProtocolError with reason code 0x81 Malformed Packet. */
export function malformed(message: string, statement?: string): ProtocolError {
  return new ProtocolError(ReasonCode.MalformedPacket, message, statement);
}

/** Shorthand for a ProtocolError with reason code 0x82 Protocol Error. */
export function protocolError(message: string, statement?: string): ProtocolError {
  return new ProtocolError(ReasonCode.ProtocolError, message, statement);
}
