import type { IncomingMessage } from 'node:http';
import type { BridgeHandle } from '../bridge/index.js';
import type { Broker } from '../broker/broker.js';
import type { Alarms } from './alarms.js';
import type { ClusterProbe } from './cluster-probe.js';
import type { History } from './history.js';
import type { TraceHub } from './trace.js';
import type { Role } from './users.js';

/** What a handler gets: the broker, the request, its query and the path parameter, if any. */
export interface ApiContext {
  broker: Broker;
  req: IncomingMessage;
  query: URLSearchParams;
  /** The decoded `:id` path segment, '' for routes without one. */
  id: string;
  /** Largest request body accepted. */
  maxBodyBytes: number;
  /** The caller's role (handlers of mutating routes only run for admins). */
  role: Role;
  /** Who is calling: a dashboard user, an API key's name, 'token' or 'anonymous'. */
  principal: string;
  /** The server-side rate history. */
  history: History;
  /** The broker's alarms. */
  alarms: Alarms;
  /** Live traces. */
  traces: TraceHub;
  /** The application's bridges (restart replaces entries in place). */
  bridges: BridgeHandle[];
  /** The admin server's own connection to the cluster's Redis. */
  cluster: ClusterProbe;
}

/** A handler returns the JSON body of a 200 answer, or throws an HttpError. */
export type ApiHandler = (ctx: ApiContext) => unknown | Promise<unknown>;

/** Handlers of one path by HTTP method. */
export type ApiRoute = Partial<Record<'GET' | 'POST' | 'DELETE', ApiHandler>>;
