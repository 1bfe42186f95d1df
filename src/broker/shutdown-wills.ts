/** Wills when the broker stops: published before anyone is disconnected, delayed only where the session survives. */
import type { Will } from '../protocol/packets.js';
import type { Persistence } from '../store/persistence.js';
import type { ClientInfo } from './options.js';
import type { Session } from './session.js';

/** A connection as the shutdown sees it: its will and whether it has an attached session. */
export interface ClosingConnection {
  will: Will | undefined;
  readonly connected: boolean;
  readonly session: Session | undefined;
  readonly client: ClientInfo | undefined;
}

/** What publishing wills at shutdown needs of the broker. */
export interface ShutdownWillDeps {
  readonly persistence: Persistence | undefined;
  publishWill(session: Session | undefined, client: ClientInfo | undefined, will: Will): void;
}

/**
 * The broker is stopping, which closes every connection without DISCONNECT:
 * their wills are due [MQTT-3.1.2-8] at the earlier of the Will Delay Interval
 * and the end of the session. A session kept in the store survives the restart,
 * so a delayed will stays delayed (the restarted broker publishes it when due);
 * any other session ends now, so its will, and any delayed will it still holds,
 * is published now. All this happens before the first connection closes, so
 * that every connected subscriber receives every will.
 */
export function publishShutdownWills(
  connections: Iterable<ClosingConnection>,
  sessions: ReadonlyMap<string, Session>,
  deps: ShutdownWillDeps,
): void {
  const survives = (s: Session): boolean =>
    s.expiryInterval > 0 && deps.persistence?.isStored(s) === true;
  for (const ch of connections) {
    const will = ch.will;
    const s = ch.session;
    if (will === undefined || !ch.connected || s === undefined) continue;
    const delay = will.properties?.willDelayInterval ?? 0;
    // A delayed will of a surviving session is left to the ordinary close (delayed and stored).
    if (delay > 0 && survives(s)) continue;
    ch.will = undefined;
    deps.publishWill(s, ch.client, will);
  }
  for (const s of sessions.values()) {
    if (s.online || s.pendingWill === undefined || survives(s)) continue;
    deps.publishWill(s, undefined, s.takeWill()!);
  }
}
