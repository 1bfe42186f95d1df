import { readFile } from 'node:fs/promises';
import { AuthFileError } from './auth-file-error.js';
import {
  DEFAULT_PBKDF2_ITERATIONS,
  PASSWORD_HASH_BYTES,
  PASSWORD_SALT_BYTES,
  PasswordHashFormatError,
  type PasswordHashInfo,
  parsePasswordHash,
  verifyPasswordHash,
} from './password-hash.js';
import { trimBlanks } from './trim-blanks.js';

/** Options for PasswordFile.parse / load. */
export interface PasswordFileOptions {
  /**
   * Throw on the first unusable entry instead of skipping it. Mosquitto skips
   * (logging an error) and keeps running without that user, which is the default
   * here too so that any file Mosquitto starts with also starts Heron.
   */
  strict?: boolean;
}

const MAX_FIELD = 65535;

/** A fixed hash checked for unknown users, so a miss costs as long as a wrong password. */
const DECOY: PasswordHashInfo = {
  algorithm: 'sha512-pbkdf2',
  iterations: DEFAULT_PBKDF2_ITERATIONS,
  salt: Buffer.alloc(PASSWORD_SALT_BYTES, 0x5a),
  hash: Buffer.alloc(PASSWORD_HASH_BYTES, 0xa5),
};

/** A Mosquitto-format password file (`username:hash` lines), loaded for checking CONNECT credentials. */
export class PasswordFile {
  /** Entries Mosquitto would drop (with the line and reason), for the caller to log. Empty in strict mode. */
  readonly warnings: readonly AuthFileError[];
  readonly #users: Map<string, PasswordHashInfo>;

  private constructor(users: Map<string, PasswordHashInfo>, warnings: AuthFileError[]) {
    this.#users = users;
    this.warnings = warnings;
  }

  /** Reads and parses a password file; an unreadable file is an AuthFileError naming it. */
  static async load(path: string, options?: PasswordFileOptions): Promise<PasswordFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new AuthFileError(
        path,
        undefined,
        `cannot read password file: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return PasswordFile.parse(text, path, options);
  }

  /**
   * Parses password file text the way the Mosquitto 2 broker does: lines starting
   * with `#` and lines without `:` are ignored; the username is the text before
   * the first `:` and the hash the next `:`-separated field, both trimmed; when a
   * username repeats, the last usable entry wins.
   */
  static parse(text: string, file: string, options: PasswordFileOptions = {}): PasswordFile {
    const users = new Map<string, PasswordHashInfo>();
    const warnings: AuthFileError[] = [];
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n]!;
      if (line.charCodeAt(0) === 35 /* # */ || !line.includes(':')) continue;
      const fields = line.split(':').filter((f) => f !== '');
      if (fields.length === 0) continue;
      const problem = (message: string): void => {
        const err = new AuthFileError(file, n + 1, message);
        if (options.strict) throw err;
        warnings.push(err);
      };
      const username = trimBlanks(fields[0]!);
      if (username.length > MAX_FIELD) {
        problem('username too long');
        continue;
      }
      const hashText = fields[1] === undefined ? undefined : trimBlanks(fields[1]);
      if (hashText === undefined) {
        problem(`no password hash for user "${username}"`);
        continue;
      }
      try {
        users.set(username, parsePasswordHash(hashText));
      } catch (err) {
        if (!(err instanceof PasswordHashFormatError)) throw err;
        problem(`unusable password hash for user "${username}": ${err.message}`);
      }
    }
    return new PasswordFile(users, warnings);
  }

  /** Number of users with a usable hash. */
  get size(): number {
    return this.#users.size;
  }

  /** Whether the file holds a usable entry for this user. */
  has(username: string): boolean {
    return this.#users.has(username);
  }

  /** Usernames with a usable entry, in file order of their first appearance. */
  usernames(): IterableIterator<string> {
    return this.#users.keys();
  }

  /** The decoded hash parts for a user (algorithm, iterations, salt, hash), e.g. for SCRAM; undefined if unknown. */
  getHashInfo(username: string): PasswordHashInfo | undefined {
    return this.#users.get(username);
  }

  /**
   * Constant-time comparison; async because PBKDF2 runs on the libuv pool, never
   * blocking the event loop. Unknown users cost the same as a wrong password.
   */
  async verify(username: string, password: Buffer | string): Promise<boolean> {
    const info = this.#users.get(username);
    if (info === undefined) {
      await verifyPasswordHash(DECOY, password);
      return false;
    }
    return verifyPasswordHash(info, password);
  }
}
