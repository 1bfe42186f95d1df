import { ConfigError } from '../config/config-error.js';

/** A value a plugin's query template receives. */
export type SqlArgument = 'username' | 'clientid' | 'access';

/** A plugin's query template as a parameterized statement: `?` placeholders and what fills each. */
export interface SqlStatement {
  sql: string;
  args: SqlArgument[];
}

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
      sql +=
        style === 'printf' && c !== '`'
          ? literal(body, c, next, option)
          : template.slice(i, end + 1);
      i = end + 1;
    } else if (style === 'printf' && c === '%') {
      const conv = template[i + 1];
      if (conv === '%') sql += '%';
      else if (conv === 's' || conv === 'd') {
        next();
        sql += '?';
      } else throw badConversion(conv, option);
      i += 2;
    } else {
      if (style === '?' && c === '?') next();
      sql += c;
      i++;
    }
  }
  return { sql, args };
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
