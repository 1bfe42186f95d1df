import type { ProtocolVersion } from '../protocol/constants.js';

// A leaf of its own so that the option types and the auth method API, which
// both hand ClientInfo to user code, need not import each other.

/** What the broker knows about a connected (or connecting) client, passed to hooks and events. */
export interface ClientInfo {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly protocolVersion: ProtocolVersion;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Name of the listener the client came in on, e.g. "tcp:1883". */
  readonly listener: string;
  /** Distinguished name or identity from a TLS client certificate, if any. */
  readonly certificateSubject?: string | undefined;
}
