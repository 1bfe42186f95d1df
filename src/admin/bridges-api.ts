import { Bridge, type BridgeHandle } from '../bridge/index.js';
import type { ApiContext } from './api-context.js';
import { HttpError } from './http-error.js';

/** A bridge as the API shows it. */
export interface BridgeView {
  name: string;
  state: string;
  /** The remote address in use (host:port). */
  address: string;
  addresses: string[];
  /** Messages sent to / received from the remote, and outgoing ones dropped. */
  sent: number;
  received: number;
  dropped: number;
  /** Successful connections, and reconnections after the first. */
  connects: number;
  reconnects: number;
  queued: number;
  inflight: number;
  /** The last problem logged for it (kept after a reconnect), with its time; null if none yet. */
  lastError: { message: string; at: string } | null;
}

function bridgeView(b: Bridge): BridgeView {
  const addrs = b.config.addresses.map((a) => `${a.host}:${a.port}`);
  return {
    name: b.name,
    state: b.state,
    address: addrs[b.addressIndex] ?? addrs[0] ?? '',
    addresses: addrs,
    sent: b.stats.sent,
    received: b.stats.received,
    dropped: b.stats.dropped,
    connects: b.stats.connects,
    reconnects: Math.max(0, b.stats.connects - 1),
    queued: b.queued,
    inflight: b.inflight,
    lastError:
      b.lastError === undefined
        ? null
        : { message: b.lastError.message, at: new Date(b.lastError.at).toISOString() },
  };
}

/** GET /bridges: every configured bridge. */
export function listBridges({ bridges }: ApiContext): unknown {
  return { items: bridges.map((h) => bridgeView(h.bridge)) };
}

/**
 * POST /bridges/:id/restart: stops the bridge and starts a fresh one from the same
 * configuration. The handle is replaced in place in the list the application
 * passed, so its shutdown stops the new bridge, not the old one.
 */
export async function restartBridge({ broker, bridges, id }: ApiContext): Promise<unknown> {
  const i = bridges.findIndex((h) => h.bridge.name === id);
  if (i < 0) throw new HttpError(404, `no bridge '${id}'`);
  const old = bridges[i]!;
  await old.stop();
  const fresh = new Bridge(broker, old.bridge.config, broker.log);
  const handle: BridgeHandle = { bridge: fresh, stop: () => fresh.stop() };
  bridges[i] = handle;
  fresh.start();
  return bridgeView(fresh);
}
