import type { IncomingMessage } from 'node:http';
import type { Broker } from '../broker/broker.js';
import type { Channel } from '../broker/channel.js';
import type { Message } from '../broker/message.js';
import type { Session, SubscriptionRecord } from '../broker/session.js';
import type { QoS } from '../protocol/constants.js';
import { ReasonCode } from '../protocol/constants.js';
import { isValidTopicFilter, isValidTopicName } from '../protocol/topic.js';
import { HttpError } from './http-error.js';
import { readJsonBody } from './http-json.js';
import { paginate } from './paging.js';
import { statsView } from './snapshot.js';
import {
  clientView,
  type ListenerView,
  retainedView,
  type SubscriptionView,
  sessionView,
  subscriptionView,
} from './views.js';

/** What a handler gets: the broker, the request, its query and the path parameter, if any. */
export interface ApiContext {
  broker: Broker;
  req: IncomingMessage;
  query: URLSearchParams;
  /** The decoded `:id` path segment, '' for routes without one. */
  id: string;
  /** Largest request body accepted. */
  maxBodyBytes: number;
}

/** A handler returns the JSON body of a 200 answer, or throws an HttpError. */
export type ApiHandler = (ctx: ApiContext) => unknown | Promise<unknown>;

/** Handlers of one path by HTTP method. */
export type ApiRoute = Partial<Record<'GET' | 'POST' | 'DELETE', ApiHandler>>;

/** Default and largest retained payload preview in bytes. */
const PREVIEW_DEFAULT = 256;
const PREVIEW_MAX = 1024 * 1024;

function contains(haystack: string | undefined, needle: string): boolean {
  return haystack?.includes(needle) === true;
}

function connectedChannel(ch: Channel): boolean {
  return ch.connected && ch.session !== undefined && ch.session.channel === ch;
}

function requireSession(broker: Broker, id: string): Session {
  const s = broker.sessions.get(id);
  if (s === undefined) throw new HttpError(404, `no session for client id '${id}'`);
  return s;
}

function requireClient(broker: Broker, id: string): Channel {
  const ch = broker.sessions.get(id)?.channel;
  if (ch === undefined) throw new HttpError(404, `client '${id}' is not connected`);
  return ch;
}

function* allSubscriptions(broker: Broker): Generator<SubscriptionRecord> {
  for (const s of broker.sessions.values()) {
    // Touching `subscriptions` would create an empty map for every idle session.
    if (s.subscriptionCount > 0) yield* s.subscriptions.values();
  }
}

function subscriptionsOf(s: Session): SubscriptionView[] {
  return s.subscriptionCount > 0 ? [...s.subscriptions.values()].map(subscriptionView) : [];
}

function booleanParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HttpError(400, `'${name}' must be true or false`);
}

function listClients({ broker, query }: ApiContext): unknown {
  const q = query.get('q') ?? '';
  return paginate(
    broker.channels,
    query,
    (ch) =>
      connectedChannel(ch) &&
      (q === '' ||
        ch.clientId.includes(q) ||
        contains(ch.username, q) ||
        ch.info.remoteAddress.includes(q)),
    clientView,
  );
}

function getClient({ broker, id }: ApiContext): unknown {
  const ch = requireClient(broker, id);
  return {
    client: clientView(ch),
    subscriptions: subscriptionsOf(ch.session!),
  };
}

function kickClient({ broker, id }: ApiContext): unknown {
  if (!broker.disconnectClient(id, ReasonCode.AdministrativeAction)) {
    throw new HttpError(404, `client '${id}' is not connected`);
  }
  return { clientId: id, disconnected: true, reasonCode: ReasonCode.AdministrativeAction };
}

function listSessions({ broker, query }: ApiContext): unknown {
  const q = query.get('q') ?? '';
  const online = booleanParam(query, 'online');
  return paginate(
    broker.sessions.values(),
    query,
    (s) =>
      (online === undefined || (s.channel !== undefined) === online) &&
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

function listSubscriptions({ broker, query }: ApiContext): unknown {
  const clientId = query.get('clientId');
  const q = query.get('q') ?? '';
  let source: Iterable<SubscriptionRecord>;
  if (clientId !== null && clientId !== '') {
    const s = broker.sessions.get(clientId);
    source = s !== undefined && s.subscriptionCount > 0 ? s.subscriptions.values() : [];
  } else {
    source = allSubscriptions(broker);
  }
  return paginate(source, query, (r) => q === '' || r.filter.includes(q), subscriptionView);
}

function listTopics({ broker, query }: ApiContext): unknown {
  const filter = query.get('filter') || '#';
  if (!isValidTopicFilter(filter)) throw new HttpError(400, `invalid topic filter '${filter}'`);
  const raw = query.get('preview');
  let preview = PREVIEW_DEFAULT;
  if (raw !== null && raw !== '') {
    if (!/^\d+$/.test(raw) || Number(raw) > PREVIEW_MAX) {
      throw new HttpError(400, `'preview' must be an integer from 0 to ${PREVIEW_MAX}`);
    }
    preview = Number(raw);
  }
  const found: Message[] = [];
  broker.retained.match(filter, found);
  const now = Date.now();
  found.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  const page = paginate(
    found,
    query,
    (m) => !m.isExpired(now),
    (m) => retainedView(m, preview),
  );
  return { filter, ...page };
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

function listListeners({ broker }: ApiContext): unknown {
  const counts = new Map<string, number>();
  for (const ch of broker.channels) {
    counts.set(ch.info.listener, (counts.get(ch.info.listener) ?? 0) + 1);
  }
  const items: ListenerView[] = broker
    .addresses()
    .map((a) => ({ ...a, connections: counts.get(a.name) ?? 0 }));
  return { items };
}

/** The API under /api/v1/, by path pattern (`:id` is one URL-encoded segment). */
export const API_ROUTES: ReadonlyMap<string, ApiRoute> = new Map<string, ApiRoute>([
  ['stats', { GET: ({ broker }) => statsView(broker) }],
  ['clients', { GET: listClients }],
  ['clients/:id', { GET: getClient, DELETE: kickClient }],
  ['sessions', { GET: listSessions }],
  ['sessions/:id', { GET: getSession, DELETE: deleteSession }],
  ['subscriptions', { GET: listSubscriptions }],
  ['topics', { GET: listTopics }],
  ['publish', { POST: publish }],
  ['listeners', { GET: listListeners }],
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
  if (segments.length === 2 && segments[1] !== '') {
    const route = API_ROUTES.get(`${segments[0]}/:id`);
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
