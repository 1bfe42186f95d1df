import { createHash, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Hash algorithms understood in Mosquitto password files. */
export type PasswordAlgorithm = 'sha512-pbkdf2' | 'sha512';

/** The decoded parts of one password file hash, e.g. for SCRAM-SHA-512 (the PBKDF2 output is its SaltedPassword). */
export interface PasswordHashInfo {
  /** `sha512` is `$6$` (one SHA-512 of password+salt); `sha512-pbkdf2` is `$7$`. */
  readonly algorithm: PasswordAlgorithm;
  /** PBKDF2 iteration count; 1 for `sha512`, which has no iteration count. */
  readonly iterations: number;
  /** 12 random bytes. */
  readonly salt: Buffer;
  /** 64 bytes of SHA-512 or PBKDF2-HMAC-SHA512 output. */
  readonly hash: Buffer;
}

/** Options for hashPassword. */
export interface HashPasswordOptions {
  /** Defaults to `sha512-pbkdf2`, as mosquitto_passwd 2.x does. */
  algorithm?: PasswordAlgorithm;
  /** PBKDF2 iterations, default 101 (mosquitto_passwd's default). Ignored for `sha512`. */
  iterations?: number;
}

/** Salt length Mosquitto writes and insists on when reading. */
export const PASSWORD_SALT_BYTES = 12;
/** Digest length of SHA-512, the only one Mosquitto files carry. */
export const PASSWORD_HASH_BYTES = 64;
/** mosquitto_passwd's default PBKDF2 iteration count. */
export const DEFAULT_PBKDF2_ITERATIONS = 101;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Password bytes as Mosquitto sees them: it treats the password as a C string,
 * so anything from the first NUL byte on is ignored. Some clients send a
 * trailing NUL; mirroring this keeps them working after a switch to Heron.
 */
function passwordBytes(password: Buffer | string): Buffer {
  const buf = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  const nul = buf.indexOf(0);
  return nul === -1 ? buf : buf.subarray(0, nul);
}

function digestSha512(password: Buffer, salt: Buffer): Buffer {
  return createHash('sha512').update(password).update(salt).digest();
}

/** Hashes a password into Mosquitto's `$7$iterations$salt$hash` (or `$6$salt$hash`) form, with a fresh random salt. */
export function hashPassword(password: string, options: HashPasswordOptions = {}): string {
  const algorithm = options.algorithm ?? 'sha512-pbkdf2';
  const salt = randomBytes(PASSWORD_SALT_BYTES);
  const pw = passwordBytes(password);
  if (algorithm === 'sha512') {
    return `$6$${salt.toString('base64')}$${digestSha512(pw, salt).toString('base64')}`;
  }
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new RangeError(`PBKDF2 iterations must be a positive integer, got ${iterations}`);
  }
  const hash = pbkdf2Sync(pw, salt, iterations, PASSWORD_HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Why parsePasswordHash refused a hash string (the text is for logs and error messages). */
export class PasswordHashFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordHashFormatError';
  }
}

function decodeBase64(text: string, bytes: number, what: string): Buffer {
  if (!BASE64.test(text)) throw new PasswordHashFormatError(`${what} is not valid base64`);
  const buf = Buffer.from(text, 'base64');
  if (buf.length !== bytes) {
    throw new PasswordHashFormatError(`${what} decodes to ${buf.length} bytes, expected ${bytes}`);
  }
  return buf;
}

/**
 * Decodes a password file hash. Field splitting follows Mosquitto: runs of `$`
 * count as one separator and fields after the hash are ignored; the salt must
 * be 12 bytes and the hash 64, or the entry is unusable (plain-text passwords
 * fail here, as they do in Mosquitto 2).
 */
export function parsePasswordHash(text: string): PasswordHashInfo {
  const fields = text.split('$').filter((f) => f !== '');
  const type = fields[0];
  let i = 1;
  let algorithm: PasswordAlgorithm;
  let iterations = 1;
  if (type === '6') {
    algorithm = 'sha512';
  } else if (type === '7') {
    algorithm = 'sha512-pbkdf2';
    const it = fields[i++];
    if (it === undefined || !/^[0-9]+$/.test(it) || Number(it) < 1 || Number(it) > 0x7fffffff) {
      throw new PasswordHashFormatError('invalid PBKDF2 iteration count');
    }
    iterations = Number(it);
  } else {
    throw new PasswordHashFormatError('unknown hash type (plain-text passwords are not accepted)');
  }
  const saltText = fields[i++];
  const hashText = fields[i++];
  if (saltText === undefined || hashText === undefined) {
    throw new PasswordHashFormatError('hash is missing its salt or digest');
  }
  return {
    algorithm,
    iterations,
    salt: decodeBase64(saltText, PASSWORD_SALT_BYTES, 'salt'),
    hash: decodeBase64(hashText, PASSWORD_HASH_BYTES, 'digest'),
  };
}

/** Whether `text` is a hash Mosquitto would accept (used to leave hashed lines alone when converting plain text). */
export function isPasswordHash(text: string): boolean {
  try {
    parsePasswordHash(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a password against decoded hash parts in constant time. PBKDF2 runs
 * on the libuv thread pool so a burst of CONNECTs never stalls the event loop.
 */
export function verifyPasswordHash(
  info: PasswordHashInfo,
  password: Buffer | string,
): Promise<boolean> {
  const pw = passwordBytes(password);
  if (info.algorithm === 'sha512') {
    return Promise.resolve(timingSafeEqual(digestSha512(pw, info.salt), info.hash));
  }
  return new Promise((resolve, reject) => {
    pbkdf2(pw, info.salt, info.iterations, PASSWORD_HASH_BYTES, 'sha512', (err, derived) => {
      if (err) reject(err);
      else resolve(timingSafeEqual(derived, info.hash));
    });
  });
}
