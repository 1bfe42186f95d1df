/**
 * Why the broker could not start, already logged once in Mosquitto's words: the
 * entry point only exits with `exitCode`, so each problem is reported a single time.
 */
import { AuthFileError } from '../auth/auth-file-error.js';
import type { HeronConfig } from '../config/types.js';

/** A startup failure that has been reported; exit with `exitCode`. */
export class StartupError extends Error {
  /** Process exit status, Mosquitto's for the same failure. */
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
    this.exitCode = exitCode;
  }
}

/** Exit status for a configuration error (Mosquitto's MOSQ_ERR_INVAL). */
export const CONFIG_ERROR_EXIT = 3;
/** Exit status when a password or ACL file cannot be opened (Mosquitto's MOSQ_ERR_ERRNO). */
const AUTH_FILE_EXIT = 13;

/** strerror's text for the common errno codes, as Mosquitto prints them. */
export function strerror(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  switch (e?.code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'EADDRINUSE':
      return 'Address already in use';
    case 'EADDRNOTAVAIL':
      return 'Cannot assign requested address';
    default:
      return e?.message ?? String(err);
  }
}

/**
 * The one line that reports why the broker could not start, and its exit status.
 * A password or ACL file is named with the config line that set it.
 */
export function describeStartupFailure(
  err: unknown,
  config: HeronConfig,
): { message: string; exitCode: number } {
  if (err instanceof AuthFileError && err.line === undefined) {
    const at = config.fileOptionLines?.[err.file];
    const what = at?.option === 'acl_file' || /ACL/.test(err.message) ? 'acl_file' : 'pwfile';
    const where = at === undefined ? '' : `${at.file}:${at.line}: ${at.option}: `;
    return {
      message: `Error: ${where}Unable to open ${what} "${err.file}": ${strerror(err.cause)}.`,
      exitCode: AUTH_FILE_EXIT,
    };
  }
  if (err instanceof AuthFileError) {
    return { message: `Error: ${err.message}`, exitCode: AUTH_FILE_EXIT };
  }
  const x = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (x.syscall === 'listen' || x.code === 'EADDRINUSE' || x.code === 'EACCES') {
    const at = x.port === undefined ? '' : ` (${x.address ?? ''}:${x.port})`;
    return { message: `Error: ${strerror(x)}${at}`, exitCode: 1 };
  }
  return { message: `Error: unable to start: ${x?.message ?? String(err)}`, exitCode: 1 };
}
