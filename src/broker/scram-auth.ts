/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method.
 *
 * Exchange: CONNECT carries client-first-message ("n,,n=user,r=nonce"); the broker
 * answers AUTH 0x18 with server-first-message ("r=nonce,s=salt,i=iterations"); the
 * client sends AUTH 0x18 with client-final-message ("c=biws,r=nonce,p=proof"); the
 * broker verifies the proof and sends CONNACK 0 with server-final-message
 * ("v=signature") so the client can verify the broker in turn.
 *
 * Credentials come from a provider, `(username) => ScramCredentials | password |
 * undefined`. Mosquitto-style password files ($6$/$7$ hashes) cannot feed SCRAM,
 * which needs the salted key material or the plain password; use
 * {@link scramCredentialsFromUsers} for a plain `{ name: password }` map, or store
 * ScramCredentials (derive them once with {@link deriveScramCredentials}).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ReasonCode } from '../protocol/constants.js';
import type { AuthMethod, AuthMethodSession, AuthStep } from './enhanced-auth.js';

/** Server-side SCRAM key material for one user (RFC 5802 section 3). */
export interface ScramCredentials {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Looks up a user's SCRAM credentials, or their plain password; undefined if unknown. */
export type ScramCredentialsProvider = (
  username: string,
) => ScramCredentials | string | undefined | Promise<ScramCredentials | string | undefined>;

/** Options of {@link scramSha256}. */
export interface ScramOptions {
  /** Where credentials come from. */
  credentials: ScramCredentialsProvider;
  /** Iterations used when the provider returns a plain password. Default 4096 (RFC 7677 minimum). */
  iterations?: number;
}

function hmac(key: Buffer, text: string | Buffer): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/** Derives SCRAM-SHA-256 credentials from a password (salt random unless given). */
export function deriveScramCredentials(
  password: string,
  iterations = 4096,
  salt: Buffer = randomBytes(16),
): ScramCredentials {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return {
    salt,
    iterations,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/**
 * A provider over a plain `{ name: password }` map (for embedding and tests).
 * Credentials are derived once per user, on first use, with a random salt.
 */
export function scramCredentialsFromUsers(
  users: Record<string, string>,
  iterations = 4096,
): ScramCredentialsProvider {
  const cache = new Map<string, ScramCredentials>();
  return (username) => {
    if (!Object.hasOwn(users, username)) return undefined;
    let c = cache.get(username);
    if (c === undefined) {
      c = deriveScramCredentials(users[username]!, iterations);
      cache.set(username, c);
    }
    return c;
  };
}

/** Parses "k=v,k=v" attributes; values may contain '='. */
function attributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    if (part.length < 2 || part[1] !== '=') continue;
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** Undoes SCRAM's "=2C" / "=3D" escaping of user names. */
function unescapeName(n: string): string {
  return n.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function fail(reason: string): AuthStep {
  return { status: 'failure', reasonCode: ReasonCode.BadUserNameOrPassword, reason };
}

class ScramSession implements AuthMethodSession {
  private readonly opts: ScramOptions;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private username = '';
  private creds: ScramCredentials | undefined;

  constructor(opts: ScramOptions) {
    this.opts = opts;
  }

  async start(data: Buffer | undefined): Promise<AuthStep> {
    if (data === undefined) return fail('SCRAM: no client-first-message');
    const msg = data.toString('utf8');
    // gs2 header: channel binding is not supported ("n" or "y"), no authzid.
    if (!msg.startsWith('n,,') && !msg.startsWith('y,,')) {
      return fail('SCRAM: unsupported gs2 header');
    }
    this.clientFirstBare = msg.slice(3);
    const a = attributes(this.clientFirstBare);
    const n = a.get('n');
    const r = a.get('r');
    if (n === undefined || r === undefined || r.length === 0) {
      return fail('SCRAM: malformed client-first-message');
    }
    this.username = unescapeName(n);
    const found = await this.opts.credentials(this.username);
    const iterations = this.opts.iterations ?? 4096;
    if (typeof found === 'string') this.creds = deriveScramCredentials(found, iterations);
    else this.creds = found;
    // Unknown users get a made-up salt so the exchange does not reveal that they don't exist.
    const salt =
      this.creds?.salt ?? createHash('sha256').update(this.username).digest().subarray(0, 16);
    this.nonce = r + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${this.creds?.iterations ?? iterations}`;
    return { status: 'continue', data: Buffer.from(this.serverFirst) };
  }

  continue(data: Buffer | undefined): AuthStep {
    if (data === undefined) return fail('SCRAM: no client-final-message');
    const msg = data.toString('utf8');
    const at = msg.lastIndexOf(',p=');
    if (at < 0) return fail('SCRAM: client-final-message without proof');
    const withoutProof = msg.slice(0, at);
    const a = attributes(msg);
    if (a.get('r') !== this.nonce) return fail('SCRAM: nonce mismatch');
    const c = a.get('c');
    if (c !== 'biws' && c !== 'eSws') return fail('SCRAM: unsupported channel binding');
    const creds = this.creds;
    if (creds === undefined) return fail('SCRAM: unknown user');
    const proof = Buffer.from(a.get('p') ?? '', 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(creds.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return fail('SCRAM: bad proof');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const stored = createHash('sha256').update(clientKey).digest();
    if (!timingSafeEqual(stored, creds.storedKey)) return fail('SCRAM: bad proof');
    const serverSignature = hmac(creds.serverKey, authMessage).toString('base64');
    return {
      status: 'success',
      data: Buffer.from(`v=${serverSignature}`),
      username: this.username,
    };
  }
}

/** The SCRAM-SHA-256 method, for `BrokerOptions.authMethods['SCRAM-SHA-256']`. */
export function scramSha256(opts: ScramOptions): AuthMethod {
  return () => new ScramSession(opts);
}
