import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { verifyPasswordHash } from '../auth/password-hash.js';
import { type Role, UsersFile } from './users-file.js';

export type { Role } from './users-file.js';

/** An authenticated caller. */
export interface Principal {
  name: string;
  role: Role;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** How long a verified credential is remembered: the dashboard polls every second. */
const REMEMBER_MS = 60_000;

/**
 * Decides who sends a request: the bearer of `admin_token` is an admin; users of
 * the users file sign in with HTTP Basic, API keys are bearer tokens
 * `<name>.<secret>`; each carries its file role. Without any credential configured
 * everyone is an anonymous admin (the listener is loopback-only by default).
 */
export class AdminAuth {
  private readonly tokenDigest: Buffer | undefined;
  private readonly users: UsersFile | undefined;
  /** Verified credentials by digest of the Authorization header, with when they were verified. */
  private readonly verified = new Map<string, { who: Principal; at: number }>();

  constructor(token: string | undefined, usersFile?: string) {
    this.tokenDigest = token !== undefined && token !== '' ? digest(token) : undefined;
    this.users = usersFile !== undefined ? new UsersFile(usersFile) : undefined;
  }

  /** Reads the users file (call once before serving). */
  async load(): Promise<void> {
    await this.users?.load();
  }

  /** Whether any credential is required. */
  get required(): boolean {
    return this.tokenDigest !== undefined || this.users !== undefined;
  }

  /** The caller, or undefined when the request carries no valid credential. */
  async identify(req: IncomingMessage): Promise<Principal | undefined> {
    if (!this.required) return { name: 'anonymous', role: 'admin' };
    const h = req.headers.authorization;
    if (h === undefined) return undefined;
    const key = digest(h).toString('base64');
    const known = this.verified.get(key);
    const now = Date.now();
    if (known !== undefined && now - known.at < REMEMBER_MS) return known.who;
    this.verified.delete(key);
    const who = await this.check(h);
    if (who !== undefined) {
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.set(key, { who, at: now });
    }
    return who;
  }

  private async check(h: string): Promise<Principal | undefined> {
    if (/^Bearer /i.test(h)) {
      const token = h.slice(7).trim();
      if (this.tokenDigest !== undefined && timingSafeEqual(digest(token), this.tokenDigest)) {
        return { name: 'token', role: 'admin' };
      }
      const dot = token.indexOf('.');
      if (dot <= 0) return undefined;
      const account = await this.users?.get(`@${token.slice(0, dot)}`);
      if (account === undefined) return undefined;
      if (!(await verifyPasswordHash(account.hash, token.slice(dot + 1)))) return undefined;
      return { name: `key:${account.name}`, role: account.role };
    }
    if (/^Basic /i.test(h)) {
      const text = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon <= 0) return undefined;
      const account = await this.users?.get(text.slice(0, colon));
      if (account === undefined) return undefined;
      if (!(await verifyPasswordHash(account.hash, text.slice(colon + 1)))) return undefined;
      return { name: account.name, role: account.role };
    }
    return undefined;
  }
}
