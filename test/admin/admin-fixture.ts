import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type AdminOptions, type AdminServer, startAdmin } from '../../src/admin/server.js';
import type { BrokerOptions } from '../../src/broker/options.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { type HeadlessChromium, launchChromium } from '../helpers/chromium.js';
import { waitFor } from '../helpers/process.js';

/** A broker with its admin server, both on loopback with kernel-chosen ports. */
export interface AdminFixture {
  tb: TestBroker;
  admin: AdminServer;
  /** Base URL of the admin server, ending in '/'. */
  base: string;
  /** Fetches a path of the admin server (no leading '/'); the token is sent when configured. */
  http(path: string, init?: RequestInit): Promise<Response>;
  /** Fetches and parses JSON, returning status and body. */
  json<T = Record<string, unknown>>(
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; body: T }>;
  /** Connects an MQTT.js client (v5 unless asked otherwise); it is ended by close(). */
  client(clientId: string, opts?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

/** Starts a broker and its admin server (process metrics off unless asked: they cost time). */
export async function startAdminFixture(
  brokerOptions: BrokerOptions = {},
  adminOptions: Partial<AdminOptions> = {},
): Promise<AdminFixture> {
  const tb = await startBroker(brokerOptions);
  const admin = await startAdmin(tb.broker, { port: 0, defaultMetrics: false, ...adminOptions });
  const base = admin.address().url;
  const clients: MqttClient[] = [];
  const http = (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (adminOptions.token !== undefined && !headers.has('authorization')) {
      headers.set('authorization', `Bearer ${adminOptions.token}`);
    }
    return fetch(base + path, { ...init, headers });
  };
  return {
    tb,
    admin,
    base,
    http,
    async json<T>(path: string, init?: RequestInit) {
      const res = await http(path, init);
      return { status: res.status, body: (await res.json()) as T };
    },
    async client(clientId, opts = {}) {
      const c = await mqtt.connectAsync(tb.url, {
        clientId,
        protocolVersion: 5,
        reconnectPeriod: 0,
        keepalive: 30,
        ...opts,
      });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await admin.close();
      await tb.close();
    },
  };
}

/** Polls `check` until it returns true; rejects after `ms` (default 3 s). */
export const until = (check: () => boolean | Promise<boolean>, ms = 3000) => waitFor(check, ms);

/** POSTs JSON. */
export function postJson(body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/**
 * Headless Chromium at desktop size for the dashboard pages. The page's CSP
 * forbids eval, and Playwright's string predicates need it, so CSP is bypassed.
 */
export function launchDashboardBrowser(prefix: string): Promise<HeadlessChromium> {
  return launchChromium(prefix, { viewport: { width: 1280, height: 900 }, bypassCSP: true });
}

/** Counts painted pixels inside the sparkline's plot, away from its baseline, grid line and labels. */
export const PLOT_INK = `(() => {
  const c = document.getElementById('sparkline');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let y = 12; y < 100; y++) {
    if (y >= 54 && y <= 58) continue;
    for (let x = 0; x < c.width - 60; x++) if (d[(y * c.width + x) * 4 + 3] > 0) n++;
  }
  return n;
})()`;
