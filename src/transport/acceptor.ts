/** What a listener hands its connections to: the broker, seen from transport/ without importing it. */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ConnectionInfo } from './connection-info.js';

/**
 * The receiving end of every listener. `Security` is the listener's own
 * security block, which transports carry from the listener options into
 * ConnectionInfo without reading it.
 */
export interface ConnectionAcceptor<Security = unknown> {
  /** Takes a connected byte stream; from then on the acceptor owns it. */
  handleConnection(socket: Duplex, info: ConnectionInfo<Security>): void;
  /** Per-address rate check before any byte is read; false refuses the connection. */
  admitConnection(remoteAddress: string): boolean;
  /** Counts a connection a listener refused (its max_connections reached). */
  connectionRefused(): void;
  /** Counts a connection closed for a malformed PROXY protocol header. */
  protocolError(): void;
  /** Where listener errors go; undefined when logging is off. */
  readonly log: Logger | undefined;
  /** Seconds a new connection has to send its PROXY header. */
  readonly connectTimeout: number;
  /** The largest MQTT packet accepted, in bytes (bounds a WebSocket message). */
  readonly maxPacketSize: number;
}
