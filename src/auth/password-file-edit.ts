import { AuthFileError } from './auth-file-error.js';
import { isPasswordHash } from './password-hash.js';
import { trimBlanks } from './trim-blanks.js';

/** One line of a password file being edited: kept verbatim unless it is the entry being changed. */
interface EditLine {
  /** The line as read, including its line ending. */
  readonly raw: string;
  /** Username (trimmed), or undefined for comment and blank lines. */
  readonly username: string | undefined;
  /** The second field, trimmed: a hash, or a plain-text password awaiting conversion. */
  readonly secret: string | undefined;
}

/**
 * The lines of a password file for `heron passwd`. Unlike mosquitto_passwd,
 * comment and blank lines are kept (the broker ignores them); any other line
 * must be `username:secret`, or the file is reported corrupt at that line.
 */
export class PasswordFileEdit {
  readonly #lines: EditLine[];

  private constructor(lines: EditLine[]) {
    this.#lines = lines;
  }

  /** Splits text into lines; a line that is neither comment, blank nor `user:secret` is an AuthFileError. */
  static parse(text: string, file: string): PasswordFileEdit {
    const lines: EditLine[] = [];
    const parts = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    for (let n = 0; n < parts.length; n++) {
      const raw = parts[n]!;
      const body = trimBlanks(raw);
      if (body === '' || raw.startsWith('#')) {
        lines.push({ raw, username: undefined, secret: undefined });
        continue;
      }
      const fields = raw.split(':').filter((f) => f !== '');
      const username = fields[0] === undefined ? '' : trimBlanks(fields[0]);
      const secret = fields[1] === undefined ? '' : trimBlanks(fields[1]);
      if (username === '' || secret === '') {
        throw new AuthFileError(
          file,
          n + 1,
          'password file is corrupt: expected username:password',
        );
      }
      lines.push({ raw, username, secret });
    }
    return new PasswordFileEdit(lines);
  }

  /** Gives `username` a new hash (fresh for each line it has), appending it if it is not there yet. */
  setPassword(username: string, makeHash: () => string): void {
    let found = false;
    for (let i = 0; i < this.#lines.length; i++) {
      if (this.#lines[i]!.username === username) {
        found = true;
        this.#lines[i] = entry(username, makeHash());
      }
    }
    if (!found) {
      this.#endLastLine();
      this.#lines.push(entry(username, makeHash()));
    }
  }

  /** Removes every line for `username`; false if there was none. */
  deleteUser(username: string): boolean {
    const before = this.#lines.length;
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      if (this.#lines[i]!.username === username) this.#lines.splice(i, 1);
    }
    return this.#lines.length !== before;
  }

  /**
   * Hashes every plain-text password. Lines that already hold a valid hash are
   * left alone, so running it twice does no harm (mosquitto_passwd -U would
   * hash the hash and lock everyone out).
   */
  hashPlainText(makeHash: (password: string) => string): number {
    let converted = 0;
    for (let i = 0; i < this.#lines.length; i++) {
      const line = this.#lines[i]!;
      if (line.username === undefined || isPasswordHash(line.secret!)) continue;
      this.#lines[i] = entry(line.username, makeHash(line.secret!));
      converted++;
    }
    return converted;
  }

  /** The file's new text. */
  toString(): string {
    return this.#lines.map((l) => l.raw).join('');
  }

  #endLastLine(): void {
    const last = this.#lines[this.#lines.length - 1];
    if (last !== undefined && !last.raw.endsWith('\n')) {
      this.#lines[this.#lines.length - 1] = { ...last, raw: `${last.raw}\n` };
    }
  }
}

function entry(username: string, hash: string): EditLine {
  return { raw: `${username}:${hash}\n`, username, secret: hash };
}
