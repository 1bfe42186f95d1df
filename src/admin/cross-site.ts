import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * Refuses API requests a browser sends on behalf of another site. Browsers label
 * every request with `Sec-Fetch-Site`; older ones at least send `Origin` on
 * anything but a simple GET. Tools (curl, Prometheus, scripts) send neither and pass.
 * `allowedOrigins` lists extra origins, e.g. a reverse proxy's public address.
 */
export function refuseCrossSite(req: IncomingMessage, allowedOrigins: readonly string[]): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    if (allowedOrigins.includes(origin)) return;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new HttpError(403, 'cross-site request refused (malformed Origin)');
    }
    if (host !== req.headers.host) {
      throw new HttpError(403, `cross-site request refused (Origin ${origin})`);
    }
    return;
  }
  if (origin === 'null') throw new HttpError(403, 'cross-site request refused (Origin null)');
  // same-site is refused too: another port or subdomain is another application.
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, `cross-site request refused (Sec-Fetch-Site: ${site})`);
  }
}
