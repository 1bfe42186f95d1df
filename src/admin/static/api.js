// The admin API client: credentials, the live/down state and the down banner.

const TOKEN_KEY = 'heron.adminToken';
const USER_KEY = 'heron.adminUser';

/** An API answer that was not 2xx. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const listeners = { unauthorized: [], reachable: [] };

/** Registers a handler for 'unauthorized' (401) or 'reachable' (true/false) events. */
export function onApi(event, fn) {
  listeners[event].push(fn);
}

let credentials = {
  user: localStorage.getItem(USER_KEY) || '',
  secret: localStorage.getItem(TOKEN_KEY) || '',
};

/** Saves the credentials the page sends (a user name selects Basic, none a bearer token). */
export function setCredentials(user, secret) {
  credentials = { user, secret };
  if (secret) localStorage.setItem(TOKEN_KEY, secret);
  else localStorage.removeItem(TOKEN_KEY);
  if (user) localStorage.setItem(USER_KEY, user);
  else localStorage.removeItem(USER_KEY);
}

/** The saved user name, if any. */
export function savedUser() {
  return credentials.user;
}

function authorization() {
  if (!credentials.secret) return undefined;
  if (credentials.user) {
    const bytes = new TextEncoder().encode(`${credentials.user}:${credentials.secret}`);
    return `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  return `Bearer ${credentials.secret}`;
}

let reachable;
function setReachable(ok) {
  if (reachable === ok) return;
  reachable = ok;
  for (const fn of listeners.reachable) fn(ok);
}

/** Calls /api/v1/<path>; resolves to the JSON body or throws an ApiError. */
export async function api(path, init = {}) {
  const headers = Object.assign({}, init.headers);
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  let res;
  try {
    res = await fetch(`/api/v1/${path}`, Object.assign({}, init, { headers }));
  } catch {
    setReachable(false);
    throw new ApiError(0, 'the admin API is not reachable');
  }
  setReachable(true);
  let body;
  try {
    body = await res.json();
  } catch {
    body = {};
  }
  if (res.status === 401) for (const fn of listeners.unauthorized) fn(Boolean(credentials.secret));
  if (!res.ok) throw new ApiError(res.status, body.error || `HTTP ${res.status}`);
  return body;
}

/** Sends a JSON body with `method`. */
export function send(path, method, body) {
  return api(path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}
