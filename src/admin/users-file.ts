import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { type PasswordHashInfo, parsePasswordHash } from '../auth/password-hash.js';

/** What a caller may do: viewers read, admins also change things (kick, publish, delete). */
export type Role = 'viewer' | 'admin';

/** One dashboard user or API key from the users file. */
export interface AdminAccount {
  name: string;
  role: Role;
  hash: PasswordHashInfo;
  /** API keys are sent as a bearer token `<name>.<secret>`; users sign in with name and password. */
  apiKey: boolean;
}

/** The users file cannot be read or has a bad line (the message names file and line). */
export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/**
 * Parses an admin users file: `name:hash[:role]` for dashboard users and
 * `@name:hash[:role]` for API keys, hashes as in a Mosquitto password file
 * (`heron passwd`), role `viewer` (default) or `admin`; `#` starts a comment.
 */
export function parseUsersFile(text: string, file = 'admin users file'): Map<string, AdminAccount> {
  const accounts = new Map<string, AdminAccount>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const parts = line.split(':');
    if (parts.length < 2 || parts.length > 3) {
      throw new UsersFileError(`${where}: expected name:hash or name:hash:role`);
    }
    const [rawName, hashText, roleText = 'viewer'] = parts as [string, string, string?];
    if (roleText !== 'viewer' && roleText !== 'admin') {
      throw new UsersFileError(`${where}: role must be viewer or admin, not '${roleText}'`);
    }
    const apiKey = rawName.startsWith('@');
    const name = apiKey ? rawName.slice(1) : rawName;
    if (name === '' || (apiKey && name.includes('.'))) {
      throw new UsersFileError(
        `${where}: a name must be non-empty (and an API key's must not contain '.')`,
      );
    }
    let hash: PasswordHashInfo;
    try {
      hash = parsePasswordHash(hashText);
    } catch (e) {
      throw new UsersFileError(`${where}: ${(e as Error).message}`);
    }
    accounts.set(`${apiKey ? '@' : ''}${name}`, { name, role: roleText, hash, apiKey });
  });
  return accounts;
}

/** A users file that re-reads itself when it changes (checked at most every `checkMs`). */
export class UsersFile {
  private accounts = new Map<string, AdminAccount>();
  private mtime = 0;
  private checkedAt = 0;

  constructor(
    readonly path: string,
    private readonly checkMs = 2000,
  ) {}

  /** Reads the file now; throws when it is missing or malformed. */
  async load(): Promise<void> {
    let st: Stats;
    let text: string;
    try {
      st = await stat(this.path);
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      throw new UsersFileError(`unable to read '${this.path}': ${(e as Error).message}`);
    }
    this.accounts = parseUsersFile(text, this.path);
    this.mtime = st.mtimeMs;
    this.checkedAt = Date.now();
  }

  /** The account by key (`name` or `@name`), re-reading a changed file first; a broken edit keeps the old accounts. */
  async get(key: string): Promise<AdminAccount | undefined> {
    if (Date.now() - this.checkedAt >= this.checkMs) {
      this.checkedAt = Date.now();
      try {
        if ((await stat(this.path)).mtimeMs !== this.mtime) await this.load();
      } catch {
        // Keep serving the accounts last read: locking everyone out over a typo helps nobody.
      }
    }
    return this.accounts.get(key);
  }
}
