import type { Channel } from '../broker/channel.js';
import type { Session } from '../broker/session.js';
import type { Will } from '../protocol/packets.js';
import { type ClientRow, clientRow } from './views.js';

/** A client's will as the client page shows it (payload as UTF-8 text, cut to 256 bytes). */
export interface WillView {
  topic: string;
  qos: number;
  retain: boolean;
  payload: string;
  size: number;
  /** v5 Will Delay Interval in seconds (0 = published at once). */
  delay: number;
  /** Whether it waits for its delay to pass (client gone, will not yet published). */
  pending: boolean;
}

/** Everything the client page shows about one client id. */
export interface ClientDetail {
  client: ClientRow;
  /** Bytes on this connection since it opened; null when offline or not measurable (WebSocket). */
  bytesIn: number | null;
  bytesOut: number | null;
  will: WillView | null;
}

function willView(w: Will, pending: boolean): WillView {
  return {
    topic: w.topic,
    qos: w.qos,
    retain: w.retain,
    payload: w.payload.subarray(0, 256).toString('utf8'),
    size: w.payload.length,
    delay: w.properties?.willDelayInterval ?? 0,
    pending,
  };
}

/** The socket's own byte counts (net.Socket has them; other duplexes may not). */
function socketBytes(ch: Channel | undefined, key: 'bytesRead' | 'bytesWritten'): number | null {
  const v = (ch?.socket as unknown as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' ? v : null;
}

/**
 * The will a connected client registered. Channel keeps it private and offers no
 * accessor; reading it here keeps the admin view out of the broker's code.
 */
function channelWill(ch: Channel): Will | undefined {
  return (ch as unknown as { will?: Will }).will;
}

/** Describes one client id, connected or with an offline session. */
export function clientDetail(s: Session): ClientDetail {
  const ch = s.channel;
  const live = ch !== undefined ? channelWill(ch) : undefined;
  let will: WillView | null = null;
  if (live !== undefined) will = willView(live, false);
  else if (s.pendingWill !== undefined) will = willView(s.pendingWill, true);
  return {
    client: clientRow(s),
    bytesIn: socketBytes(ch, 'bytesRead'),
    bytesOut: socketBytes(ch, 'bytesWritten'),
    will,
  };
}
