import { ConfigError } from '../config/config-error.js';
import type { PluginConfig } from '../config/types.js';
import type { Pbkdf2Dialect, SaltEncoding } from './pbkdf2-hash.js';
import { compileSqlTemplate, type SqlStatement } from './sql-template.js';

/** How stored password hashes are checked (go-auth's `hasher`; auth-plug always PBKDF2). */
export interface HasherSettings {
  kind: 'pbkdf2' | 'bcrypt';
  saltEncoding: SaltEncoding;
  dialect: Pbkdf2Dialect;
}

/**
 * A MySQL/MariaDB authentication backend read from a Mosquitto auth plugin's
 * options: jpmens' mosquitto-auth-plug (`auth_opt_host`, `'%s'` templates) or
 * iegomez' mosquitto-go-auth (`auth_opt_mysql_host`, `?` placeholders).
 */
export interface MysqlAuthSettings {
  backend: 'mysql';
  /** Which plugin's option names and semantics the configuration follows. */
  flavour: 'auth-plug' | 'go-auth';
  /** The plugin's .so path (never loaded). */
  pluginPath: string;
  host: string;
  port: number;
  /** Unix socket instead of host/port (go-auth `mysql_protocol unix` + `mysql_socket`). */
  socketPath: string | undefined;
  database: string;
  user: string | undefined;
  password: string | undefined;
  userQuery: SqlStatement;
  superQuery: SqlStatement | undefined;
  aclQuery: SqlStatement | undefined;
  hasher: HasherSettings;
  /** Seconds a client's ACL rows are used before they are re-read in the background. */
  aclCacheSeconds: number;
  /** User name the ACL query gets for anonymous clients (auth-plug `anonusername`). */
  anonymousUsername: string;
  /** auth-plug's `superusers`: an fnmatch(3) pattern of user names exempt from ACL checks. */
  superusers: RegExp | undefined;
  /** Access number asked for a SUBSCRIBE: 4 (go-auth, MOSQ_ACL_SUBSCRIBE) or 1 (auth-plug: read). */
  subscribeAccess: number;
  /** What a missing aclquery means: go-auth allows everything, auth-plug allows nothing. */
  allowWithoutAclQuery: boolean;
  /** `auth_plugin_deny_special_chars`: clients with `+`/`#` in their id or name are denied every topic. */
  denySpecialChars: boolean;
}

/**
 * mosquitto-go-auth's HTTP backend: the broker asks the user's own web service
 * whether a password, a superuser or a topic access is allowed.
 */
export interface HttpAuthSettings {
  backend: 'http';
  flavour: 'go-auth';
  /** The plugin's .so path (never loaded). */
  pluginPath: string;
  host: string;
  port: number;
  /** https instead of http (`http_with_tls`). */
  tls: boolean;
  /** Check the service's certificate (`http_verify_peer`; go-auth's default is not to). */
  verifyPeer: boolean;
  /** Method of JSON requests; form requests are always POSTed, as go-auth does. */
  method: 'POST' | 'GET' | 'PUT';
  userUri: string;
  superuserUri: string | undefined;
  aclUri: string;
  /** How the request fields travel: a JSON body or an urlencoded form. */
  paramsMode: 'json' | 'form';
  /** What allows: any 2xx (status), 2xx with `{"ok":true}` (json), 2xx with body `ok` (text). */
  responseMode: 'status' | 'json' | 'text';
  /** Whole-request timeout in seconds (`http_timeout`). */
  timeoutSeconds: number;
  userAgent: string;
  /** Extra attempts after a request error (`auth_opt_retry_count`). */
  retryCount: number;
  /** Seconds an ACL answer is used before it is asked again (in the background). */
  aclCacheSeconds: number;
  /** `auth_plugin_deny_special_chars`: clients with `+`/`#` in their id or name are denied every topic. */
  denySpecialChars: boolean;
}

/** A built-in backend's settings, by the name `auth_opt_backends` gives it. */
export type PluginAuthSettings = MysqlAuthSettings | HttpAuthSettings;

/** Backends Heron builds in, by the names `auth_opt_backends` uses. */
const BUILT_IN = new Set(['mysql', 'http']);

/**
 * The built-in backend configured by plugin lines, or undefined when no plugin
 * line names one in `auth_opt_backends`. Throws ConfigError for a backend
 * Heron lacks (or several at once): running without the authentication the
 * file asks for would open the broker.
 */
export function pluginAuthSettings(
  plugins: readonly PluginConfig[],
): PluginAuthSettings | undefined {
  const withBackends = plugins.filter((p) => p.options.backends !== undefined);
  if (withBackends.length === 0) return undefined;
  if (withBackends.length > 1) {
    throw new ConfigError(
      'more than one auth plugin with auth_opt_backends; Heron builds in one backend',
      { ...withBackends[1]!.source, option: 'auth_opt_backends' },
    );
  }
  const plugin = withBackends[0]!;
  const o = plugin.options;
  const where = (key: string) => ({ ...plugin.source, option: `auth_opt_${key}` });
  const names = o
    .backends!.split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  const missing = names.filter((n) => !BUILT_IN.has(n));
  if (missing.length > 0 || names.length === 0) {
    throw new ConfigError(
      `backend ${missing.join(', ') || '(none)'} is not built into Heron (built in: ${[...BUILT_IN].join(', ')})`,
      where('backends'),
    );
  }
  if (names.length > 1) {
    throw new ConfigError(
      `backends ${names.join(', ')}: Heron builds in one backend at a time`,
      where('backends'),
    );
  }
  if (names[0] === 'http') return httpSettings(plugin, where);
  const goAuth =
    /go-auth/i.test(plugin.path) ||
    Object.keys(o).some(
      (k) => k.startsWith('mysql_') && k !== 'mysql_opt_reconnect' && k !== 'mysql_auto_connect',
    );
  return goAuth ? goAuthSettings(plugin, where) : authPlugSettings(plugin, where);
}

type Where = (key: string) => { file?: string; line?: number; option: string };

function required(o: Record<string, string>, key: string, where: Where): string {
  const v = o[key];
  if (v === undefined || v.length === 0) throw new ConfigError('is required', where(key));
  return v;
}

function port(v: string | undefined, key: string, where: Where, fallback = 3306): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new ConfigError(`expected a port number, got '${v}'`, where(key));
  return n;
}

function seconds(v: string | undefined, fallback: number, key: string, where: Where): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(`expected seconds, got '${v}'`, where(key));
  return n;
}

function authPlugSettings(plugin: PluginConfig, where: Where): MysqlAuthSettings {
  const o = plugin.options;
  const q = (key: string, args: Parameters<typeof compileSqlTemplate>[2]) =>
    o[key] === undefined
      ? undefined
      : compileSqlTemplate(o[key]!, 'printf', args, where(key).option);
  return {
    backend: 'mysql',
    flavour: 'auth-plug',
    pluginPath: plugin.path,
    host: o.host ?? 'localhost',
    port: port(o.port, 'port', where),
    socketPath: undefined,
    database: required(o, 'dbname', where),
    user: o.user,
    password: o.pass,
    userQuery: compileSqlTemplate(
      required(o, 'userquery', where),
      'printf',
      ['username', 'clientid'],
      where('userquery').option,
    ),
    superQuery: q('superquery', ['username']),
    aclQuery: q('aclquery', ['username', 'access']),
    hasher: { kind: 'pbkdf2', saltEncoding: 'utf-8', dialect: 'auth-plug' },
    aclCacheSeconds: seconds(o.acl_cacheseconds ?? o.cacheseconds, 300, 'acl_cacheseconds', where),
    anonymousUsername: o.anonusername ?? 'anonymous',
    superusers: o.superusers === undefined ? undefined : fnmatchRegExp(o.superusers),
    subscribeAccess: 1,
    allowWithoutAclQuery: false,
    denySpecialChars: plugin.denySpecialChars,
  };
}

function goAuthSettings(plugin: PluginConfig, where: Where): MysqlAuthSettings {
  const o = plugin.options;
  const q = (key: string, args: Parameters<typeof compileSqlTemplate>[2]) =>
    o[key] === undefined ? undefined : compileSqlTemplate(o[key]!, '?', args, where(key).option);
  const unix = o.mysql_protocol === 'unix';
  // go-auth reads mysql_hasher* when mysql_hasher is set, the global hasher* otherwise.
  const hp = o.mysql_hasher !== undefined ? 'mysql_hasher' : 'hasher';
  const kind = o[hp] ?? 'pbkdf2';
  if (kind !== 'pbkdf2' && kind !== 'bcrypt') {
    throw new ConfigError(
      `hasher '${kind}' is not supported by Heron (pbkdf2 and bcrypt are)`,
      where(hp),
    );
  }
  return {
    backend: 'mysql',
    flavour: 'go-auth',
    pluginPath: plugin.path,
    host: o.mysql_host ?? 'localhost',
    port: port(o.mysql_port, 'mysql_port', where),
    socketPath: unix ? required(o, 'mysql_socket', where) : undefined,
    database: required(o, 'mysql_dbname', where),
    user: required(o, 'mysql_user', where),
    password: required(o, 'mysql_password', where),
    userQuery: compileSqlTemplate(
      required(o, 'mysql_userquery', where),
      '?',
      ['username'],
      where('mysql_userquery').option,
    ),
    superQuery: q('mysql_superquery', ['username']),
    aclQuery: q('mysql_aclquery', ['username', 'access']),
    hasher: {
      kind,
      saltEncoding: o[`${hp}_salt_encoding`] === 'utf-8' ? 'utf-8' : 'base64',
      dialect: 'go-auth',
    },
    aclCacheSeconds: seconds(o.acl_cache_seconds, 30, 'acl_cache_seconds', where),
    anonymousUsername: '',
    superusers: undefined,
    subscribeAccess: 4,
    allowWithoutAclQuery: true,
    denySpecialChars: plugin.denySpecialChars,
  };
}

/** One of a few lower-case words, or a ConfigError naming the choices. */
function choice<T extends string>(
  v: string | undefined,
  choices: readonly T[],
  key: string,
  where: Where,
): T {
  if (v === undefined) return choices[0]!;
  const w = v.toLowerCase() as T;
  if (!choices.includes(w))
    throw new ConfigError(`expected one of ${choices.join(', ')}, got '${v}'`, where(key));
  return w;
}

function httpSettings(plugin: PluginConfig, where: Where): HttpAuthSettings {
  const o = plugin.options;
  const flag = (key: string) => choice(o[key], ['false', 'true'], key, where) === 'true';
  const paramsMode = choice(o.http_params_mode, ['json', 'form'], 'http_params_mode', where);
  const method = choice(o.http_method, ['post', 'get', 'put'], 'http_method', where);
  if (paramsMode === 'form' && method === 'get') {
    // go-auth refuses every request in this combination; say so before listening.
    throw new ConfigError('form params are only sent with POST or PUT', where('http_method'));
  }
  const timeout = seconds(o.http_timeout, 5, 'http_timeout', where);
  if (timeout === 0) throw new ConfigError('expected seconds, got 0', where('http_timeout'));
  const retries = o.retry_count === undefined ? 0 : Number(o.retry_count);
  if (!Number.isInteger(retries) || retries < 0)
    throw new ConfigError(`expected a count, got '${o.retry_count}'`, where('retry_count'));
  return {
    backend: 'http',
    flavour: 'go-auth',
    pluginPath: plugin.path,
    host: required(o, 'http_host', where),
    port: port(required(o, 'http_port', where), 'http_port', where),
    tls: flag('http_with_tls'),
    verifyPeer: flag('http_verify_peer'),
    method: method.toUpperCase() as HttpAuthSettings['method'],
    userUri: required(o, 'http_getuser_uri', where),
    superuserUri: o.http_superuser_uri || undefined,
    aclUri: required(o, 'http_aclcheck_uri', where),
    paramsMode,
    responseMode: choice(
      o.http_response_mode,
      ['status', 'json', 'text'],
      'http_response_mode',
      where,
    ),
    timeoutSeconds: timeout,
    userAgent: o.http_user_agent ?? 'mosquitto',
    retryCount: retries,
    aclCacheSeconds: seconds(o.acl_cache_seconds, 30, 'acl_cache_seconds', where),
    denySpecialChars: plugin.denySpecialChars,
  };
}

/** An fnmatch(3) pattern (`*`, `?`, `[...]`) as an anchored regular expression. */
function fnmatchRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[\\^$.|+(){}[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
