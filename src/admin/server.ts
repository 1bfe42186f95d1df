import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import type { Broker } from '../broker/broker.js';
import { matchApiRoute } from './api.js';
import { HttpError } from './http-error.js';
import { sendError, sendJson } from './http-json.js';
import { BrokerMetrics } from './metrics.js';
import { loadDashboard, type StaticFile } from './static-files.js';

/** How to run the admin HTTP server (HTTP API, /metrics, dashboard). */
export interface AdminOptions {
  /** TCP port; 0 picks a free one (see `address()`). */
  port: number;
  /** Address to bind; default 127.0.0.1 (the API can kick clients and publish). */
  host?: string;
  /** Bearer token required by /api and /metrics; unset or empty: no token. */
  token?: string | undefined;
  /** Export Node process metrics (CPU, memory, event loop, GC) too; default true. */
  defaultMetrics?: boolean;
  /** Serve the web dashboard at /; default true. */
  dashboard?: boolean;
  /** Largest request body accepted (POST /api/v1/publish); default 1 MiB. */
  maxBodyBytes?: number;
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
  /** Stops listening and closes open HTTP connections. */
  close(): Promise<void>;
}

const API_PREFIX = '/api/v1/';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

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
  const tokenDigest = token !== undefined ? digest(token) : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const metrics = new BrokerMetrics(broker, { defaultMetrics: options.defaultMetrics !== false });
  const files = options.dashboard !== false ? await loadDashboard() : new Map<string, StaticFile>();
  // Without a token, a loopback-only API must refuse DNS-rebound names: a web page
  // on evil.example resolving to 127.0.0.1 would otherwise read it.
  const checkHost = token === undefined && isLoopback(host);

  const authorized = (req: IncomingMessage): boolean => {
    if (tokenDigest === undefined) return true;
    const h = req.headers.authorization;
    if (h === undefined || !/^Bearer /i.test(h)) return false;
    return timingSafeEqual(digest(h.slice(7).trim()), tokenDigest);
  };

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
    if (path === '/metrics' || path.startsWith('/api/')) {
      if (!authorized(req)) {
        res.setHeader('www-authenticate', 'Bearer realm="heron"');
        throw new HttpError(401, 'missing or wrong bearer token (admin_token)');
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
      const body = await handler({
        broker,
        req,
        query: url.searchParams,
        id: found.id,
        maxBodyBytes,
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
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
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
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): HttpError {
  res.setHeader('allow', allow);
  return new HttpError(405, `method not allowed (allowed: ${allow})`);
}
