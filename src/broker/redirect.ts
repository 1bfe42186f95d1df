/**
 * Server redirection (MQTT 5 section 4.11): a broker configured to send its
 * clients elsewhere refuses every CONNECT with 0x9C Use another server (temporary)
 * or 0x9D Server moved (permanent), carrying the Server Reference.
 */
import { ConnackReturnCode, ReasonCode } from '../protocol/constants.js';
import type { Properties } from '../protocol/properties.js';

/** Redirection settings (`BrokerOptions.redirect`). */
export interface RedirectOptions {
  /** Where clients should go: a space separated list of "host[:port]" (Server Reference). */
  serverReference: string;
  /** true: 0x9D Server moved (permanent); false (default): 0x9C Use another server. */
  permanent?: boolean;
}

/** The CONNACK a redirecting broker sends: reason code (in the client's version's terms) and properties. */
export function redirectConnack(
  r: RedirectOptions,
  v5: boolean,
): { reasonCode: number; properties: Properties | undefined } {
  if (!v5) {
    // 3.1.1 has no redirection: the closest is "server unavailable".
    return { reasonCode: ConnackReturnCode.ServerUnavailable, properties: undefined };
  }
  return {
    reasonCode: r.permanent ? ReasonCode.ServerMoved : ReasonCode.UseAnotherServer,
    properties: { serverReference: r.serverReference },
  };
}
