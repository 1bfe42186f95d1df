import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../auth/atomic-file.js';
import { AuthFileError } from '../auth/auth-file-error.js';
import { PasswordFileEdit } from '../auth/password-file-edit.js';
import {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  type PasswordAlgorithm,
} from '../auth/password-hash.js';

/** The streams `heron passwd` talks through; tests pass their own, the CLI passes process's. */
export interface PasswdIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `heron passwd manages Mosquitto-compatible password files for Heron.

Usage: heron passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] [-c | -D] passwordfile username
       heron passwd [-H sha512 | -H sha512-pbkdf2] [-I iterations] [-c] -b passwordfile username password
       heron passwd [-I iterations] -U passwordfile
 -b : batch mode: take the password from the command line (it will show in process lists and shell history).
 -c : create the password file, replacing any existing one.
 -D : delete the user instead of setting a password.
 -H : hash algorithm: sha512-pbkdf2 (default, recommended) or sha512 (for Mosquitto 1.6 and older).
 -I : PBKDF2 iteration count (default ${DEFAULT_PBKDF2_ITERATIONS}).
 -U : hash the plain-text passwords of an existing file; lines already hashed are left as they are.
`;

const MAX_FIELD = 65535;

/** Thrown by the prompt when the user presses Ctrl-C. */
class PromptAborted extends Error {}

/** Reads one line at a time from stdin, without echo on a terminal. */
class LineReader {
  readonly #stdin: PasswdIO['stdin'];
  readonly #tty: boolean;
  #buffer = '';
  #ended = false;
  #aborted = false;
  #wake: (() => void) | undefined;
  readonly #onData = (chunk: string | Buffer): void => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.#tty) this.#typed(text);
    else this.#buffer += text;
    this.#notify();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#notify();
  };

  constructor(stdin: PasswdIO['stdin']) {
    this.#stdin = stdin;
    this.#tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
    if (this.#tty) stdin.setRawMode!(true);
    stdin.on('data', this.#onData);
    stdin.on('end', this.#onEnd);
    stdin.on('error', this.#onEnd);
    stdin.resume();
  }

  /** The next line without its line ending, or undefined at end of input. */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      if (this.#aborted) throw new PromptAborted('interrupted');
      const nl = this.#buffer.indexOf('\n');
      if (nl !== -1) {
        const line = this.#buffer.slice(0, nl).replace(/\r+$/, '');
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (this.#ended) {
        const rest = this.#buffer.replace(/\r+$/, '');
        this.#buffer = '';
        return rest === '' ? undefined : rest;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Restores the terminal and lets go of stdin so the process can exit. */
  close(): void {
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('end', this.#onEnd);
    this.#stdin.off('error', this.#onEnd);
    if (this.#tty) this.#stdin.setRawMode!(false);
    this.#stdin.pause();
  }

  // Raw mode delivers keystrokes; this does the little line editing a password prompt needs.
  #typed(text: string): void {
    for (const ch of text) {
      if (ch === '\r' || ch === '\n') this.#buffer += '\n';
      else if (ch === '\u0003') this.#aborted = true;
      else if (ch === '\u0004') {
        if (this.#buffer === '' || this.#buffer.endsWith('\n')) this.#ended = true;
      } else if (ch === '\u007f' || ch === '\b') {
        if (this.#buffer !== '' && !this.#buffer.endsWith('\n')) {
          this.#buffer = this.#buffer.slice(0, -1);
        }
      } else this.#buffer += ch;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** Asks for the password twice, as mosquitto_passwd does: exit status 1 for none given, 2 for a mismatch. */
async function promptPassword(io: PasswdIO): Promise<{ password?: string; code: number }> {
  const reader = new LineReader(io.stdin);
  try {
    io.stdout.write('Password: ');
    const first = await reader.readLine();
    if (first === undefined || first === '') {
      io.stderr.write('Error: Empty password.\n');
      return { code: 1 };
    }
    io.stdout.write('\nReenter password: ');
    const second = await reader.readLine();
    if (second === undefined || second === '') {
      io.stderr.write('Error: Empty password.\n');
      return { code: 1 };
    }
    io.stdout.write('\n');
    if (first !== second) {
      io.stderr.write('Error: Passwords do not match.\n');
      return { code: 2 };
    }
    return { password: first, code: 0 };
  } catch (err) {
    if (err instanceof PromptAborted) {
      io.stdout.write('\n');
      return { code: 130 };
    }
    throw err;
  } finally {
    reader.close();
  }
}

/** Parsed command line, mirroring mosquitto_passwd's flags. */
interface PasswdArgs {
  algorithm: PasswordAlgorithm;
  iterations: number;
  batch: boolean;
  create: boolean;
  remove: boolean;
  upgrade: boolean;
  file: string;
  username: string | undefined;
  password: string | undefined;
}

function fail(io: PasswdIO, message: string): number {
  io.stderr.write(`Error: ${message}\n`);
  return 1;
}

/** Parses argv; a number is the exit status to return at once (after an error or the usage text). */
function parseArgs(argv: string[], io: PasswdIO): PasswdArgs | number {
  if (argv.length === 0) {
    io.stdout.write(USAGE);
    return 1;
  }
  let algorithm: PasswordAlgorithm = 'sha512-pbkdf2';
  let iterations = DEFAULT_PBKDF2_ITERATIONS;
  let batch = false;
  let create = false;
  let remove = false;
  let upgrade = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-H') {
      const value = argv[++i];
      if (value === undefined) return fail(io, '-H argument given but not enough other arguments.');
      if (value !== 'sha512' && value !== 'sha512-pbkdf2') {
        return fail(io, `Unknown hash type '${value}'`);
      }
      algorithm = value;
    } else if (arg === '-I') {
      const value = argv[++i];
      if (value === undefined) return fail(io, '-I argument given but not enough other arguments.');
      // Like atoi: leading digits count, anything else is zero.
      iterations = Number.parseInt(value, 10) || 0;
      if (iterations < 1) return fail(io, 'Number of iterations must be > 0.');
    } else if (arg === '-b') batch = true;
    else if (arg === '-c') create = true;
    else if (arg === '-D') remove = true;
    else if (arg === '-U') upgrade = true;
    else break;
  }
  if (create && remove) return fail(io, '-c and -D cannot be used together.');
  if (create && upgrade) return fail(io, '-c and -U cannot be used together.');
  if (remove && upgrade) return fail(io, '-D and -U cannot be used together.');
  if (remove && batch) return fail(io, '-b and -D cannot be used together.');
  const rest = argv.slice(i);
  const args: PasswdArgs = {
    algorithm,
    iterations,
    batch,
    create,
    remove,
    upgrade,
    file: rest[0] ?? '',
    username: rest[1],
    password: undefined,
  };
  if (create) {
    if (rest.length < (batch ? 3 : 2)) {
      return fail(
        io,
        batch
          ? '-c argument given but password file, username, or password missing.'
          : '-c argument given but password file or username missing.',
      );
    }
    if (batch) args.password = rest[2];
  } else if (remove) {
    if (rest.length < 2)
      return fail(io, '-D argument given but password file or username missing.');
  } else if (upgrade) {
    if (rest.length !== 1) return fail(io, '-U argument given but password file missing.');
  } else if (batch && rest.length === 3) {
    args.password = rest[2];
  } else if (batch || rest.length !== 2) {
    io.stdout.write(USAGE);
    return 1;
  }
  const username = args.username;
  if (username !== undefined) {
    if (username.length > MAX_FIELD)
      return fail(io, 'Username must be less than 65536 characters long.');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(username)) {
      return fail(io, 'Username must not contain control characters.');
    }
    if (username.includes(':')) return fail(io, "Username must not contain the ':' character.");
  }
  if (args.password !== undefined && args.password.length > MAX_FIELD) {
    return fail(io, 'Password must be less than 65536 characters long.');
  }
  return args;
}

/** The -b password, or the one typed at the prompt; a number is the exit status when none was. */
async function givenOrPrompted(args: PasswdArgs, io: PasswdIO): Promise<string | number> {
  if (args.password !== undefined) return args.password;
  const answer = await promptPassword(io);
  return answer.password ?? answer.code;
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // strerror's words, as mosquitto_passwd prints them.
  if (e.code === 'ENOENT') return 'No such file or directory';
  if (e.code === 'EACCES') return 'Permission denied';
  if (e.code === 'EISDIR') return 'Is a directory';
  return e.message;
}

/**
 * `heron passwd`: creates and edits Mosquitto-compatible password files, with
 * mosquitto_passwd's flags and exit statuses. Returns the exit status.
 */
export async function passwdMain(
  argv: string[],
  io: PasswdIO = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const args = parseArgs(argv, io);
  if (typeof args === 'number') return args;
  const hash = (password: string): string =>
    hashPassword(password, { algorithm: args.algorithm, iterations: args.iterations });

  if (args.create) {
    const password = await givenOrPrompted(args, io);
    if (typeof password === 'number') return password;
    try {
      await writeFileAtomic(args.file, `${args.username}:${hash(password)}\n`);
    } catch (err) {
      return fail(io, `Unable to open file ${args.file} for writing. ${errorText(err)}.`);
    }
    return 0;
  }

  let text: string;
  try {
    text = await readFile(args.file, 'utf8');
  } catch (err) {
    return fail(io, `Unable to open password file ${args.file}. ${errorText(err)}.`);
  }
  let edit: PasswordFileEdit;
  try {
    edit = PasswordFileEdit.parse(text, args.file);
  } catch (err) {
    if (err instanceof AuthFileError) return fail(io, `Corrupt password file at line ${err.line}.`);
    throw err;
  }

  if (args.remove) {
    if (!edit.deleteUser(args.username!)) {
      io.stderr.write(`Warning: User ${args.username} not found in password file.\n`);
      return 1;
    }
  } else if (args.upgrade) {
    edit.hashPlainText(hash);
  } else {
    const password = await givenOrPrompted(args, io);
    if (typeof password === 'number') return password;
    edit.setPassword(args.username!, () => hash(password));
  }
  try {
    await writeFileAtomic(args.file, edit.toString());
  } catch (err) {
    return fail(io, `Unable to open file ${args.file} for writing. ${errorText(err)}.`);
  }
  return 0;
}
