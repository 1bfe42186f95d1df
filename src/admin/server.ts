import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import type { BridgeHandle } from '../bridge/index.js';
import type { Broker } from '../broker/broker.js';
import { type AlarmOptions, Alarms } from './alarms.js';
import { matchApiRoute } from './api.js';
import { ClusterProbe } from './cluster-probe.js';
import { refuseCrossSite } from './cross-site.js';
import { History } from './history.js';
import { HttpError } from './http-error.js';
import { sendError, sendJson } from './http-json.js';
import type { LatencyProbeOptions } from './latency-probe.js';
import { BrokerMetrics, registerAlarmGauge } from './metrics.js';
import { loadDashboard, type StaticFile } from './static-files.js';
import { TraceHub, type TraceLimits } from './trace.js';
import { AdminAuth, type Principal } from './users.js';

/** How to run the admin HTTP server (HTTP API, /metrics, dashboard). */
export interface AdminOptions {
  /** TCP port; 0 picks a free one (see `address()`). */
  port: number;
  /** Address to bind; default 127.0.0.1 (the API can kick clients and publish). */
  host?: string;
  /** Bearer token required by /api and /metrics (an admin); unset or empty: no token. */
  token?: string | undefined;
  /**
   * Dashboard users and API keys with roles (`name:hash:role`, `@key:hash:role`,
   * hashes as `heron passwd` writes them); when set, every request needs credentials.
   */
  usersFile?: string | undefined;
  /** Export Node process metrics (CPU, memory, event loop, GC) too; default true. */
  defaultMetrics?: boolean;
  /** Measure publish→delivery latency with a probe client on this listener (off by default). */
  latencyProbe?: LatencyProbeOptions | undefined;
  /** Serve the web dashboard at /; default true. */
  dashboard?: boolean;
  /** Largest request body accepted (POST /api/v1/publish); default 1 MiB. */
  maxBodyBytes?: number;
  /** Alarm thresholds and check interval (alarms always run). */
  alarms?: AlarmOptions;
  /**
   * The bridges the application started (`startBridges`), shown and restartable on
   * the dashboard. Pass the very array it will stop at shutdown: a restart replaces
   * its entry in place.
   */
  bridges?: BridgeHandle[];
  /** Bounds of live traces (rate, lines kept, idle expiry, how many at once). */
  trace?: TraceLimits;
  /** Milliseconds between samples of the rate history (kept for an hour); default 2000. */
  historyIntervalMs?: number;
  /**
   * Browser origins besides the server's own allowed to call the API, e.g. the
   * public URL of a reverse proxy that rewrites the Host header.
   */
  allowedOrigins?: string[];
}

/** Where the admin server is bound. */
export interface AdminAddress {
  host: string;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:8088/ */
  url: string;
}

/** A running admin server. */
export interface AdminServer {
  /** Where it is bound (useful with port 0). */
  address(): AdminAddress;
  /** The broker's Prometheus metrics (its registry can be scraped by other means too). */
  readonly metrics: BrokerMetrics;
  /** The rate history (last hour) the dashboard draws. */
  readonly history: History;
  /** Active and recently cleared alarms. */
  readonly alarms: Alarms;
  /** Stops listening and closes open HTTP connections. */
  close(): Promise<void>;
}

const API_PREFIX = '/api/v1/';

/** Whether a Host header names an IP literal or localhost (not a DNS name that could be rebound). */
function hostIsLiteral(host: string | undefined): boolean {
  if (host === undefined) return true;
  let name = host;
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']'));
  else if (name.includes(':')) name = name.slice(0, name.lastIndexOf(':'));
  return name === 'localhost' || isIP(name) !== 0;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Starts the admin HTTP server for a broker: JSON API under /api/v1/, Prometheus
 * metrics at /metrics, liveness at /healthz and the dashboard at /. It reads the
 * broker through its public API only.
 */
export async function startAdmin(broker: Broker, options: AdminOptions): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token !== undefined && options.token !== '' ? options.token : undefined;
  const auth = new AdminAuth(token, options.usersFile);
  await auth.load();
  const allowedOrigins = options.allowedOrigins ?? [];
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const metrics = new BrokerMetrics(broker, {
    defaultMetrics: options.defaultMetrics !== false,
    latencyProbe: options.latencyProbe,
    bridges: options.bridges,
  });
  const files = options.dashboard !== false ? await loadDashboard() : new Map<string, StaticFile>();
  // Without a token, a loopback-only API must refuse DNS-rebound names: a web page
  // on evil.example resolving to 127.0.0.1 would otherwise read it.
  const checkHost = !auth.required && isLoopback(host);
  const history = new History(broker, options.historyIntervalMs);
  const cluster = new ClusterProbe(broker);
  const alarms = new Alarms(broker, options.alarms, cluster);
  const traces = new TraceHub(broker, options.trace);
  // The metrics read this same array, so a restarted bridge is scraped too.
  const bridges = options.bridges ?? [];
  registerAlarmGauge(metrics.registry, alarms);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const reading = method === 'GET' || method === 'HEAD';
    if (checkHost && !hostIsLiteral(req.headers.host)) {
      throw new HttpError(421, 'use an IP address or localhost to reach this server');
    }
    if (path === '/healthz') {
      if (!reading) throw methodNotAllowed(res, 'GET, HEAD');
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    let who: Principal | undefined;
    if (path === '/metrics' || path.startsWith('/api/')) {
      refuseCrossSite(req, allowedOrigins);
      who = await auth.identify(req);
      if (who === undefined) {
        // No Basic challenge: the browser's own login box would replace the dashboard's.
        res.setHeader('www-authenticate', 'Bearer realm="heron"');
        throw new HttpError(401, 'missing or wrong credentials (admin token, user or API key)');
      }
    }
    if (path === '/metrics') {
      if (!reading) throw methodNotAllowed(res, 'GET, HEAD');
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    if (path.startsWith(API_PREFIX)) {
      const found = matchApiRoute(path.slice(API_PREFIX.length).split('/'));
      if (found === undefined) throw new HttpError(404, `no such endpoint: ${path}`);
      const handler = found.route[(method === 'HEAD' ? 'GET' : method) as 'GET'];
      if (handler === undefined) {
        throw methodNotAllowed(res, Object.keys(found.route).join(', '));
      }
      if (!reading && who!.role !== 'admin') {
        throw new HttpError(403, `'${who!.name}' is a viewer: changes need the admin role`);
      }
      const body = await handler({
        broker,
        req,
        query: url.searchParams,
        id: found.id,
        maxBodyBytes,
        role: who!.role,
        principal: who!.name,
        history,
        alarms,
        traces,
        bridges,
        cluster,
      });
      sendJson(res, 200, body);
      return;
    }
    const file = files.get(path);
    if (file === undefined) throw new HttpError(404, `not found: ${path}`);
    if (!reading) throw methodNotAllowed(res, 'GET, HEAD');
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      // connect-src admits WebSockets: the MQTT client page talks to the broker's WS listener.
      'content-security-policy':
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    });
    res.end(file.body);
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendError(res, err.status, err.message);
        return;
      }
      broker.log?.error({ err }, 'admin API request failed');
      sendError(res, 500, 'internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      history.stop();
      alarms.stop();
      traces.close();
      cluster.close();
      void metrics.close();
      reject(err);
    };
    server.once('error', failed);
    server.listen(options.port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (err) => broker.log?.error({ err }, 'admin server error'));
  const bound = server.address() as AddressInfo;
  const address: AdminAddress = {
    host: bound.address,
    port: bound.port,
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}/`,
  };
  return {
    address: () => address,
    metrics,
    history,
    alarms,
    async close() {
      history.stop();
      alarms.stop();
      traces.close();
      cluster.close();
      await metrics.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): HttpError {
  res.setHeader('allow', allow);
  return new HttpError(405, `method not allowed (allowed: ${allow})`);
}
