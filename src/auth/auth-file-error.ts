import { formatLocation } from '../config/config-error.js';

/**
 * A password or ACL file that cannot be read or has a line Heron cannot use.
 * Names the file and, where one is to blame, the 1-based line, so that an
 * operator can go straight to the culprit.
 */
export class AuthFileError extends Error {
  /** Path (or label) of the offending file. */
  readonly file: string;
  /** 1-based line number, or undefined when the whole file is at fault (e.g. unreadable). */
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, message: string, options?: ErrorOptions) {
    super(formatLocation(file, line) + message, options);
    this.name = 'AuthFileError';
    this.file = file;
    this.line = line;
  }
}
