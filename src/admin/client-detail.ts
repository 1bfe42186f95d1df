import type { ClientConnection } from '../broker/broker.js';
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

/** Describes one client id, connected (`c` its connection) or with an offline session. */
export function clientDetail(s: Session, c: ClientConnection | undefined): ClientDetail {
  let will: WillView | null = null;
  if (c?.will !== undefined) will = willView(c.will, false);
  else if (s.pendingWill !== undefined) will = willView(s.pendingWill, true);
  return {
    client: clientRow(s, c),
    bytesIn: c?.bytesIn ?? null,
    bytesOut: c?.bytesOut ?? null,
    will,
  };
}
