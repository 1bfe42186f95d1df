import type { Will } from '../protocol/packets.js';
import type { Channel } from './channel.js';

/**
 * A copy of what one live connection says about itself, for operators' tools:
 * they read it without reaching into the Channel that owns the socket.
 */
export interface ClientConnection {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Name of the listener it came in on, e.g. "mqtt:1883". */
  readonly listener: string;
  readonly protocolVersion: number;
  /** Keep alive in seconds as granted (0 = none). */
  readonly keepalive: number;
  /** When the socket was accepted (ms since the epoch). */
  readonly openedAt: number;
  /** Whether CONNECT has been answered (false while authentication is still running). */
  readonly connected: boolean;
  /** The will the client registered, while the connection lasts. */
  readonly will: Will | undefined;
  /** Bytes read and written on the socket; null where the transport does not count them (WebSocket). */
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
}

function socketCount(ch: Channel, key: 'bytesRead' | 'bytesWritten'): number | null {
  // net.Socket counts bytes; the WebSocket stream wrapper is a plain Duplex and does not.
  const v = (ch.socket as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : null;
}

/** Takes the ClientConnection snapshot of a channel. */
export function describeConnection(ch: Channel): ClientConnection {
  return {
    clientId: ch.clientId,
    username: ch.username,
    remoteAddress: ch.info.remoteAddress,
    remotePort: ch.info.remotePort,
    listener: ch.info.listener,
    protocolVersion: ch.version,
    keepalive: ch.keepalive,
    openedAt: ch.openedAt,
    connected: ch.connected,
    will: ch.will,
    bytesIn: socketCount(ch, 'bytesRead'),
    bytesOut: socketCount(ch, 'bytesWritten'),
  };
}
