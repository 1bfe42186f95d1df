import { ConfigError } from '../config/config-error.js';

/** A value a plugin's query template receives. */
export type SqlArgument = 'username' | 'clientid' | 'access';

/** A plugin's query template as a parameterized statement: `?` placeholders and what fills each. */
export interface SqlStatement {
  sql: string;
  args: SqlArgument[];
  /**
   * Indexes into `args` of values that are the pattern of a `LIKE`: they are
   * bound through escapeLike, so a user name `%` matches only itself. Absent
   * when there is none.
   */
  likeArgs?: number[];
}

/**
 * A value as a LIKE pattern matching only itself: `\`, `%` and `_` get a
 * backslash, the default LIKE escape character of MySQL and MariaDB (unless
 * the server runs with NO_BACKSLASH_ESCAPES).
 */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

/** SQL text ending where a LIKE's pattern starts: `LIKE `, `LIKE BINARY `, or inside `LIKE CONCAT(` after plain arguments. */
const LIKE_OPERAND =
  /\bLIKE\s*(?:BINARY\s+)?(?:CONCAT\s*\(\s*(?:(?:'[^'\\]*'|"[^"\\]*"|\?)\s*,\s*)*)?$/i;
/** A template naming its own escape character: backslash escaping would be wrong, so none is done. */
const ESCAPE_CLAUSE = /\bESCAPE\b/i;

/**
 * How a template marks its values: printf conversions (`'%s'`, `%d`, as
 * mosquitto-auth-plug formats them with sprintf) or `?` placeholders
 * (mosquitto-go-auth's driver).
 */
export type TemplateStyle = 'printf' | '?';

/**
 * Turns a query template into a parameterized statement, so user names are
 * never spliced into SQL text. printf conversions take `available` in order,
 * as sprintf does: `'%s'` becomes `?`, and a conversion inside a longer
 * literal (`'user_%s'`) becomes `CONCAT('user_', ?)`. `option` names the
 * configuration line for errors.
 */
export function compileSqlTemplate(
  template: string,
  style: TemplateStyle,
  available: readonly SqlArgument[],
  option: string,
): SqlStatement {
  const args: SqlArgument[] = [];
  const likeArgs: number[] = [];
  const escapes = ESCAPE_CLAUSE.test(template);
  /** Marks the arguments taken from `from` on as LIKE patterns when `sql` has just opened one. */
  const markLike = (from: number): void => {
    if (escapes || !LIKE_OPERAND.test(sql)) return;
    for (let k = from; k < args.length; k++) if (args[k] !== 'access') likeArgs.push(k);
  };
  const next = (): void => {
    const a = available[args.length];
    if (a === undefined)
      throw new ConfigError(
        `the query has more values than the plugin supplies (${available.join(', ')})`,
        { option },
      );
    args.push(a);
  };
  let sql = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = literalEnd(template, i, option);
      const body = template.slice(i + 1, end);
      const from = args.length;
      const text =
        style === 'printf' && c !== '`'
          ? literal(body, c, next, option)
          : template.slice(i, end + 1);
      markLike(from);
      sql += text;
      i = end + 1;
    } else if (style === 'printf' && c === '%') {
      const conv = template[i + 1];
      if (conv === '%') sql += '%';
      else if (conv === 's' || conv === 'd') {
        next();
        markLike(args.length - 1);
        sql += '?';
      } else throw badConversion(conv, option);
      i += 2;
    } else {
      if (style === '?' && c === '?') {
        next();
        markLike(args.length - 1);
      }
      sql += c;
      i++;
    }
  }
  return likeArgs.length > 0 ? { sql, args, likeArgs } : { sql, args };
}

/** Index of the quote closing the literal opened at `start` (doubled quotes and backslashes escape). */
function literalEnd(t: string, start: number, option: string): number {
  const q = t[start]!;
  let j = start + 1;
  while (j < t.length) {
    if (t[j] === '\\') j += 2;
    else if (t[j] === q && t[j + 1] === q) j += 2;
    else if (t[j] === q) return j;
    else j++;
  }
  throw new ConfigError(`unterminated ${q} in the query`, { option });
}

/** A quoted literal of a printf template: kept, or split around its conversions. */
function literal(body: string, q: string, next: () => void, option: string): string {
  const parts: string[] = [];
  let text = '';
  let i = 0;
  while (i < body.length) {
    if (body[i] !== '%') {
      text += body[i];
      i++;
      continue;
    }
    const conv = body[i + 1];
    if (conv === '%') text += '%';
    else if (conv === 's' || conv === 'd') {
      if (text.length > 0) parts.push(q + text + q);
      text = '';
      next();
      parts.push('?');
    } else throw badConversion(conv, option);
    i += 2;
  }
  if (text.length > 0 || parts.length === 0) parts.push(q + text + q);
  return parts.length === 1 ? parts[0]! : `CONCAT(${parts.join(', ')})`;
}

function badConversion(conv: string | undefined, option: string): ConfigError {
  return new ConfigError(
    `unsupported '%${conv ?? ''}' in the query (only %s, %d and %% are understood)`,
    { option },
  );
}
