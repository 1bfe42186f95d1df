/**
 * A configuration problem that stops the broker before it listens. The message
 * names the file, line and option so a user can fix it without guessing, e.g.
 * "mosquitto.conf:12: max_inflight_messages: expected an integer, got 'abc'".
 */
export class ConfigError extends Error {
  /** The configuration file at fault, as the user named it (absent for command-line errors). */
  readonly file: string | undefined;
  /** 1-based line number in `file`, when the problem is on one line. */
  readonly line: number | undefined;
  /** The option (or command-line flag) at fault. */
  readonly option: string | undefined;
  /** What was wrong, without the location prefix. */
  readonly detail: string;

  constructor(detail: string, where: { file?: string; line?: number; option?: string } = {}) {
    super(formatLocation(where.file, where.line, where.option) + detail);
    this.name = 'ConfigError';
    this.file = where.file;
    this.line = where.line;
    this.option = where.option;
    this.detail = detail;
  }
}

/** "file:line: option: " (each part only when known), the prefix of every config message. */
export function formatLocation(file?: string, line?: number, option?: string): string {
  let out = '';
  if (file !== undefined) out += line !== undefined ? `${file}:${line}: ` : `${file}: `;
  if (option !== undefined) out += `${option}: `;
  return out;
}
