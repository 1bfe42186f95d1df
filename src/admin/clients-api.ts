import { ReasonCode } from '../protocol/constants.js';
import type { ApiContext } from './api-context.js';
import { clientDetail } from './client-detail.js';
import { HttpError } from './http-error.js';
import { paginate } from './paging.js';
import { subscriptionsOf } from './subscriptions-api.js';
import { clientRow } from './views.js';

const STATES = ['connected', 'offline', 'all'] as const;

function contains(haystack: string | undefined, needle: string): boolean {
  return haystack?.includes(needle) === true;
}

/**
 * GET /clients: client ids by state (connected, offline with a persistent
 * session, or all), filtered by listener, exact user name, protocol version and a
 * substring of id, user or address.
 */
export function listClients({ broker, query }: ApiContext): unknown {
  const q = query.get('q') ?? '';
  const listener = query.get('listener') ?? '';
  const username = query.get('username') ?? '';
  const state = (query.get('state') || 'connected') as (typeof STATES)[number];
  if (!STATES.includes(state))
    throw new HttpError(400, "'state' must be connected, offline or all");
  const rawVersion = query.get('protocol') ?? '';
  if (rawVersion !== '' && !/^[345]$/.test(rawVersion)) {
    throw new HttpError(400, "'protocol' must be 3, 4 or 5");
  }
  const version = rawVersion === '' ? 0 : Number(rawVersion);
  return paginate(
    broker.sessions.values(),
    query,
    (s) => {
      if (state !== 'all' && s.online !== (state === 'connected')) return false;
      if (username !== '' && s.username !== username) return false;
      if (version !== 0 && s.protocolVersion !== version) return false;
      // A session keeps the name of the listener its client is (or was last) on.
      if (listener !== '' && s.listener !== listener) return false;
      if (q === '' || s.clientId.includes(q) || contains(s.username, q)) return true;
      // Only a search by address takes a connection snapshot, and only for rows still in doubt.
      return contains(broker.clientConnection(s.clientId)?.remoteAddress, q);
    },
    (s) => clientRow(s, broker.clientConnection(s.clientId)),
  );
}

/** GET /clients/:id: one client id, connected or offline, with subscriptions, will and traffic. */
export function getClient({ broker, id }: ApiContext): unknown {
  const s = broker.sessions.get(id);
  if (s === undefined) throw new HttpError(404, `no client or session '${id}'`);
  return { ...clientDetail(s, broker.clientConnection(id)), subscriptions: subscriptionsOf(s) };
}

/** DELETE /clients/:id: disconnects the client with v5 reason 0x98; its session stays. */
export function kickClient({ broker, id }: ApiContext): unknown {
  if (!broker.disconnectClient(id, ReasonCode.AdministrativeAction)) {
    throw new HttpError(404, `client '${id}' is not connected`);
  }
  return { clientId: id, disconnected: true, reasonCode: ReasonCode.AdministrativeAction };
}
