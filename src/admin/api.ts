import type { Broker } from '../broker/broker.js';
import type { Session } from '../broker/session.js';
import type { QoS } from '../protocol/constants.js';
import { ReasonCode } from '../protocol/constants.js';
import { isValidTopicName } from '../protocol/topic.js';
import type { ApiContext, ApiRoute } from './api-context.js';
import { listBridges, restartBridge } from './bridges-api.js';
import { getClient, kickClient, listClients } from './clients-api.js';
import { getCluster, getOwner } from './cluster-api.js';
import { HttpError } from './http-error.js';
import { readJsonBody } from './http-json.js';
import { paginate } from './paging.js';
import { deleteRetained, listTopics } from './retained-api.js';
import { statsView } from './snapshot.js';
import { listFilters, listSubscriptions, subscriptionsOf } from './subscriptions-api.js';
import { listTraces, readTrace, startTrace, stopTrace } from './trace-api.js';
import { type ListenerView, sessionView } from './views.js';

export type { ApiRoute } from './api-context.js';

function contains(haystack: string | undefined, needle: string): boolean {
  return haystack?.includes(needle) === true;
}

function requireSession(broker: Broker, id: string): Session {
  const s = broker.sessions.get(id);
  if (s === undefined) throw new HttpError(404, `no session for client id '${id}'`);
  return s;
}

function booleanParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HttpError(400, `'${name}' must be true or false`);
}

function listSessions({ broker, query }: ApiContext): unknown {
  const q = query.get('q') ?? '';
  const online = booleanParam(query, 'online');
  return paginate(
    broker.sessions.values(),
    query,
    (s) =>
      (online === undefined || s.online === online) &&
      (q === '' || s.clientId.includes(q) || contains(s.username, q)),
    sessionView,
  );
}

function getSession({ broker, id }: ApiContext): unknown {
  const s = requireSession(broker, id);
  return {
    session: sessionView(s),
    subscriptions: subscriptionsOf(s),
  };
}

function deleteSession({ broker, id }: ApiContext): unknown {
  const s = requireSession(broker, id);
  const wasOnline = broker.disconnectClient(id, ReasonCode.AdministrativeAction);
  // A session with an expiry outlives the disconnect above: discard it explicitly.
  if (broker.sessions.get(id) === s) broker.destroySession(s);
  return { clientId: id, deleted: true, disconnected: wasOnline };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

async function publish({ broker, req, maxBodyBytes }: ApiContext): Promise<unknown> {
  const body = await readJsonBody(req, maxBodyBytes);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object');
  }
  const {
    topic,
    payload = '',
    encoding = 'utf8',
    qos = 0,
    retain = false,
  } = body as Record<string, unknown>;
  if (typeof topic !== 'string' || !isValidTopicName(topic)) {
    throw new HttpError(400, "'topic' must be a non-empty topic name without wildcards");
  }
  if (typeof payload !== 'string') throw new HttpError(400, "'payload' must be a string");
  if (encoding !== 'utf8' && encoding !== 'base64') {
    throw new HttpError(400, "'encoding' must be 'utf8' or 'base64'");
  }
  if (encoding === 'base64' && !BASE64.test(payload)) {
    throw new HttpError(400, "'payload' is not valid base64");
  }
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new HttpError(400, "'qos' must be 0, 1 or 2");
  if (typeof retain !== 'boolean') throw new HttpError(400, "'retain' must be true or false");
  if (retain && !broker.options.retainAvailable) {
    throw new HttpError(400, 'retained messages are disabled on this broker');
  }
  const delivered = broker.publish({
    topic,
    payload: Buffer.from(payload, encoding),
    qos: qos as QoS,
    retain,
  });
  return { topic, delivered };
}

function getHistory({ history, query }: ApiContext): unknown {
  const raw = query.get('since') ?? '';
  if (raw !== '' && !/^\d+$/.test(raw))
    throw new HttpError(400, "'since' must be ms since the epoch");
  return {
    intervalMs: history.intervalMs,
    capacity: history.capacity,
    samples: history.samples(raw === '' ? 0 : Number(raw)),
  };
}

function listListeners({ broker }: ApiContext): unknown {
  const counts = new Map<string, number>();
  for (const ch of broker.channels) {
    counts.set(ch.info.listener, (counts.get(ch.info.listener) ?? 0) + 1);
  }
  const items: ListenerView[] = broker.addresses().map((a) => {
    const s = broker.stats.listeners.of(a.name);
    return {
      ...a,
      connections: counts.get(a.name) ?? 0,
      messagesReceived: s.publishReceived,
      messagesSent: s.publishSent,
    };
  });
  return { items };
}

/** The API under /api/v1/, by path pattern (`:id` is one URL-encoded segment). */
const API_ROUTES: ReadonlyMap<string, ApiRoute> = new Map<string, ApiRoute>([
  ['stats', { GET: ({ broker, alarms }) => ({ ...statsView(broker), alarms: alarms.count }) }],
  ['alarms', { GET: ({ alarms }) => ({ active: alarms.list(), cleared: alarms.history() }) }],
  ['history', { GET: getHistory }],
  ['whoami', { GET: ({ principal, role }) => ({ name: principal, role }) }],
  ['clients', { GET: listClients }],
  ['clients/:id', { GET: getClient, DELETE: kickClient }],
  ['sessions', { GET: listSessions }],
  ['sessions/:id', { GET: getSession, DELETE: deleteSession }],
  ['subscriptions', { GET: listSubscriptions }],
  ['filters', { GET: listFilters }],
  ['topics', { GET: listTopics, DELETE: deleteRetained }],
  ['publish', { POST: publish }],
  ['listeners', { GET: listListeners }],
  ['traces', { GET: listTraces, POST: startTrace }],
  ['traces/:id', { GET: readTrace, DELETE: stopTrace }],
  ['bridges', { GET: listBridges }],
  ['bridges/:id/restart', { POST: restartBridge }],
  ['cluster', { GET: getCluster }],
  ['owners/:id', { GET: getOwner }],
]);

/**
 * Finds the route for a path below /api/v1/ (already split on '/'); returns the
 * route and the decoded id, or undefined when nothing matches.
 */
export function matchApiRoute(segments: string[]): { route: ApiRoute; id: string } | undefined {
  if (segments.length === 1) {
    const route = API_ROUTES.get(segments[0]!);
    return route && { route, id: '' };
  }
  if ((segments.length === 2 || segments.length === 3) && segments[1] !== '') {
    const verb = segments.length === 3 ? `/${segments[2]}` : '';
    const route = API_ROUTES.get(`${segments[0]}/:id${verb}`);
    if (route === undefined) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(segments[1]!);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the path');
    }
    return { route, id };
  }
  return undefined;
}
