import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * How the salt field of a `PBKDF2$...` string becomes bytes: used as the
 * characters written (mosquitto-auth-plug, go-auth's `utf-8`) or base64-decoded
 * (go-auth's default `base64`).
 */
export type SaltEncoding = 'utf-8' | 'base64';

/**
 * Which plugin wrote the hash: they read an unknown digest name differently
 * (auth-plug falls back to sha256, go-auth to sha512).
 */
export type Pbkdf2Dialect = 'auth-plug' | 'go-auth';

/** The pieces of a stored PBKDF2 hash. */
export interface Pbkdf2Parts {
  digest: 'sha1' | 'sha256' | 'sha512';
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

/** Iterations above this are refused rather than computed (a corrupt row must not stall the broker). */
const MAX_ITERATIONS = 10_000_000;

function digestFor(name: string, dialect: Pbkdf2Dialect): Pbkdf2Parts['digest'] {
  if (dialect === 'auth-plug')
    return name === 'sha1' ? 'sha1' : name === 'sha512' ? 'sha512' : 'sha256';
  return name === 'sha256' ? 'sha256' : 'sha512';
}

/**
 * Splits `PBKDF2$sha256$901$salt$base64hash` (both plugins) or go-auth's PHC
 * form `$pbkdf2-sha512$i=100000,l=64$salt$hash`; undefined when it is neither.
 */
function parsePbkdf2Hash(
  stored: string,
  saltEncoding: SaltEncoding,
  dialect: Pbkdf2Dialect,
): Pbkdf2Parts | undefined {
  // Empty fields are skipped, as go-auth does, so the PHC form's leading '$' is harmless.
  const f = stored.split('$').filter((x) => x.length > 0);
  let digest: Pbkdf2Parts['digest'];
  let iterations: number;
  let saltText: string;
  let hashText: string;
  if (f[0] === 'PBKDF2' && f.length === 5) {
    digest = digestFor(f[1]!, dialect);
    iterations = Number(f[2]);
    saltText = f[3]!;
    hashText = f[4]!;
  } else if (f[0] === 'pbkdf2-sha512' && f.length === 4 && dialect === 'go-auth') {
    digest = 'sha512';
    const params = new Map(f[1]!.split(',').map((kv) => kv.split('=', 2) as [string, string]));
    iterations = Number(params.get('i'));
    saltText = f[2]!;
    hashText = f[3]!;
  } else {
    return undefined;
  }
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS)
    return undefined;
  const salt = saltEncoding === 'base64' ? Buffer.from(saltText, 'base64') : Buffer.from(saltText);
  const hash = Buffer.from(hashText, 'base64');
  if (hash.length === 0 || salt.length === 0) return undefined;
  return { digest, iterations, salt, hash };
}

/**
 * Whether `password` matches a stored PBKDF2 hash. The key length is the
 * stored hash's, as both plugins derive it; the comparison is constant-time
 * and the derivation runs off the event loop.
 */
export async function verifyPbkdf2(
  password: Buffer,
  stored: string,
  saltEncoding: SaltEncoding,
  dialect: Pbkdf2Dialect,
): Promise<boolean> {
  const p = parsePbkdf2Hash(stored, saltEncoding, dialect);
  if (p === undefined) return false;
  const derived = await pbkdf2Async(password, p.salt, p.iterations, p.hash.length, p.digest);
  return timingSafeEqual(derived, p.hash);
}

/**
 * A new `PBKDF2$digest$iterations$salt$hash` string. The salt is 12 random
 * bytes written as 16 base64 characters: auth-plug uses those characters as
 * the salt, go-auth (salt encoding base64) their decoded bytes, so pass the
 * reader's `saltEncoding`.
 */
export async function makePbkdf2Hash(
  password: string,
  opts: {
    digest?: 'sha256' | 'sha512';
    iterations?: number;
    keyLength?: number;
    saltEncoding?: SaltEncoding;
  } = {},
): Promise<string> {
  const digest = opts.digest ?? 'sha256';
  const iterations = opts.iterations ?? 901;
  const saltText = randomBytes(12).toString('base64');
  const salt =
    opts.saltEncoding === 'base64' ? Buffer.from(saltText, 'base64') : Buffer.from(saltText);
  const key = await pbkdf2Async(password, salt, iterations, opts.keyLength ?? 24, digest);
  return `PBKDF2$${digest}$${iterations}$${saltText}$${key.toString('base64')}`;
}
