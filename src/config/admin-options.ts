/** Heron's admin_* options: the HTTP admin listener, its credentials and its latency probe. */
import { type OptionContext, once } from './parse-state.js';
import type { AdminConfig } from './types.js';
import {
  type ConfigLine,
  checkExtra,
  intWord,
  lineError,
  pathValue,
  portWord,
  text,
} from './values.js';

/** `admin_listener PORT [BIND]` (Heron). */
export function parseAdminListener(ctx: OptionContext, l: ConfigLine): void {
  const w = l.words;
  if (w.length === 0) throw lineError(l, 'expected a port number, got nothing');
  const port = portWord(l, w[0]!, true);
  const bind = w[1] !== undefined && !w[1].startsWith('#') ? w[1] : '127.0.0.1';
  checkExtra(l, w[1] !== undefined && !w[1].startsWith('#') ? 2 : 1, ctx.warn);
  once(ctx, l, 'G', 'admin_listener');
  // admin_token and the other admin_* options may come first: keep what they set.
  ctx.st.cfg.admin = { ...ctx.st.cfg.admin, port, bindAddress: bind };
}

/** The admin block an admin_* option fills in (port -1 until an admin_listener line). */
function adminOption(ctx: OptionContext, l: ConfigLine): AdminConfig {
  once(ctx, l, 'G');
  ctx.st.adminOptionLines.push(l);
  ctx.st.cfg.admin ??= { port: -1, bindAddress: '127.0.0.1' };
  return ctx.st.cfg.admin;
}

const PROBE_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

/** `admin_latency_probe URL [SECONDS]` (Heron). */
export function parseLatencyProbe(ctx: OptionContext, l: ConfigLine): void {
  const a = adminOption(ctx, l);
  const w = l.words;
  const what = 'an mqtt://, mqtts://, ws:// or wss:// URL such as mqtt://127.0.0.1:1883';
  if (w.length === 0) throw lineError(l, `expected ${what}, got nothing`);
  const url = URL.canParse(w[0]!) ? new URL(w[0]!) : undefined;
  if (url === undefined || !PROBE_SCHEMES.includes(url.protocol) || url.hostname === '')
    throw lineError(l, `expected ${what}, got '${w[0]}'`);
  const interval = w[1] !== undefined && !w[1].startsWith('#');
  const intervalSeconds = interval ? intWord(l, w[1]!, { min: 1, max: 3600 }, ctx.warn) : 5;
  checkExtra(l, interval ? 2 : 1, ctx.warn);
  a.latencyProbe = { url: w[0]!, intervalSeconds };
}

/** `http_api_port PORT`: admin_listener with its default address. */
export function parseHttpApiPort(ctx: OptionContext, l: ConfigLine): void {
  parseAdminListener(ctx, { ...l, words: l.words.slice(0, 1) });
}

/** `admin_token TEXT`: the bearer token with the admin role. */
export function parseAdminToken(ctx: OptionContext, l: ConfigLine): void {
  adminOption(ctx, l).token = text(l, 'a token');
}

/** `admin_users_file PATH`: dashboard users and API keys with roles. */
export function parseAdminUsersFile(ctx: OptionContext, l: ConfigLine): void {
  const a = adminOption(ctx, l);
  a.usersFile = pathValue(l, 'a file path', ctx.st.cwd);
  a.usersFileSource = { file: l.file, line: l.line };
}
