import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What a caller may do: viewers read, admins also change things (kick, publish, delete). */
export type Role = 'viewer' | 'admin';

/** An authenticated caller. */
export interface Principal {
  name: string;
  role: Role;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Decides who sends a request. Without any credential configured everyone is an
 * anonymous admin (the listener is loopback-only by default); with a token, its
 * bearer is an admin.
 */
export class AdminAuth {
  private readonly tokenDigest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.tokenDigest = token !== undefined && token !== '' ? digest(token) : undefined;
  }

  /** Whether any credential is required. */
  get required(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** The caller, or undefined when the request carries no valid credential. */
  async identify(req: IncomingMessage): Promise<Principal | undefined> {
    if (this.tokenDigest === undefined) return { name: 'anonymous', role: 'admin' };
    const h = req.headers.authorization;
    if (h === undefined || !/^Bearer /i.test(h)) return undefined;
    if (timingSafeEqual(digest(h.slice(7).trim()), this.tokenDigest)) {
      return { name: 'token', role: 'admin' };
    }
    return undefined;
  }
}
