import http from 'node:http';
import https from 'node:https';
import type { HttpAuthSettings } from './plugin-options.js';

/** The web service could not give an answer (unreachable, timed out, 5xx, unreadable body). */
export class HttpAuthServiceError extends Error {
  /** The HTTP status when the service answered with a server error. */
  readonly status: number | undefined;
  /** A kept-alive socket the service had already closed: the request never reached it. */
  readonly staleSocket: boolean;

  constructor(message: string, status?: number, cause?: unknown, staleSocket = false) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HttpAuthServiceError';
    this.status = status;
    this.staleSocket = staleSocket;
  }
}

/** Fields of one request, sent as JSON or as a form by the configured params mode. */
type Fields = Record<string, string | number>;

/** Access numbers of the plugin API: MOSQ_ACL_READ, MOSQ_ACL_WRITE, MOSQ_ACL_SUBSCRIBE. */
export type HttpAccess = 1 | 2 | 4;

/** A response body larger than this is not an auth answer; stop reading it. */
const MAX_BODY = 64 * 1024;

/**
 * The three questions of mosquitto-go-auth's HTTP backend, over one
 * keep-alive agent: getuser (username, password, clientid), superuser
 * (username) and aclcheck (username, clientid, topic, acc). Each answers
 * true (allowed) or false (refused: a non-2xx status below 500, a json
 * `ok: false`, a text body other than `ok`) and rejects with
 * HttpAuthServiceError when the service gives no answer, so the caller can
 * tell "no" from "cannot say".
 */
export class HttpAuthBackend {
  private readonly s: HttpAuthSettings;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;

  constructor(settings: HttpAuthSettings) {
    this.s = settings;
    // Idle sockets are dropped after 4 s, before a Node service's 5 s keep-alive timeout closes them.
    const opts = { keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 4_000 };
    this.agent = settings.tls
      ? new https.Agent({ ...opts, rejectUnauthorized: settings.verifyPeer })
      : new http.Agent(opts);
    this.request = settings.tls ? https.request : http.request;
  }

  /** Whether the service accepts this user name and password. */
  getUser(username: string, password: string, clientid: string): Promise<boolean> {
    return this.ask(this.s.userUri, { username, password, clientid });
  }

  /** Whether the user bypasses ACL checks (false without a superuser URI, as in go-auth). */
  isSuperuser(username: string): Promise<boolean> {
    if (this.s.superuserUri === undefined) return Promise.resolve(false);
    return this.ask(this.s.superuserUri, { username });
  }

  /** Whether the client may access the topic (or, for acc 4 and 1 at SUBSCRIBE, the filter). */
  checkAcl(username: string, clientid: string, topic: string, acc: HttpAccess): Promise<boolean> {
    return this.ask(this.s.aclUri, { username, clientid, topic, acc });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * One question, retried `retryCount` times when the service gives no answer,
   * and once more (uncounted) when a reused keep-alive socket turned out closed.
   */
  private async ask(path: string, fields: Fields): Promise<boolean> {
    let staleRetried = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(path, fields);
      } catch (err) {
        if ((err as HttpAuthServiceError).staleSocket && !staleRetried) {
          staleRetried = true;
          attempt--;
          continue;
        }
        if (attempt >= this.s.retryCount) throw err;
      }
    }
  }

  private once(path: string, fields: Fields): Promise<boolean> {
    const s = this.s;
    const form = s.paramsMode === 'form';
    const body = form ? formBody(fields) : JSON.stringify(fields);
    return new Promise<boolean>((resolve, reject) => {
      const req = this.request(
        {
          host: s.host,
          port: s.port,
          path,
          // go-auth posts forms whatever http_method says.
          method: form ? 'POST' : s.method,
          agent: this.agent,
          signal: AbortSignal.timeout(s.timeoutSeconds * 1000),
          headers: {
            'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': s.userAgent,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_BODY) {
              chunks.push(c);
              return;
            }
            // No auth answer is this long: stop reading now rather than until the timeout.
            reject(
              new HttpAuthServiceError(
                `${path} answered more than ${MAX_BODY} bytes (too large)`,
                status,
              ),
            );
            req.destroy();
          });
          res.on('error', (err) => reject(new HttpAuthServiceError(err.message, status, err)));
          res.on('end', () => {
            if (status >= 500)
              return reject(new HttpAuthServiceError(`${path} answered ${status}`, status));
            if (status < 200 || status >= 300) return resolve(false);
            const text = Buffer.concat(chunks).toString('utf8');
            if (s.responseMode === 'status') return resolve(true);
            if (s.responseMode === 'text') return resolve(text === 'ok');
            try {
              const answer = JSON.parse(text) as { ok?: unknown };
              resolve(answer !== null && answer.ok === true);
            } catch (err) {
              reject(new HttpAuthServiceError(`${path} answered no JSON`, status, err));
            }
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
        const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        reject(
          new HttpAuthServiceError(
            timedOut ? `${path} timed out after ${s.timeoutSeconds}s` : err.message,
            undefined,
            err,
            stale,
          ),
        );
      });
      req.end(body);
    });
  }
}

/** application/x-www-form-urlencoded, as an HTML form would post it. */
function formBody(fields: Fields): string {
  const p = new URLSearchParams();
  for (const k of Object.keys(fields)) p.append(k, String(fields[k]));
  return p.toString();
}
