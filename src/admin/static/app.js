// Heron dashboard: a page per task (hash routes), polling the admin API every
// second. Plain browser modules, no build step; broker data is inserted as text.
import { api, onApi, savedUser, setCredentials } from './api.js';
import { $, fmtClock, fmtDuration, setText } from './format.js';
import alarms from './page-alarms.js';
import client from './page-client.js';
import clients from './page-clients.js';
import cluster from './page-cluster.js';
import overview from './page-overview.js';
import retained from './page-retained.js';
import sessions from './page-sessions.js';
import subscriptions from './page-subscriptions.js';
import trace from './page-trace.js';
import websocket from './page-websocket.js';

const PAGES = {
  overview,
  clients,
  client,
  sessions,
  subscriptions,
  retained,
  cluster,
  alarms,
  trace,
  websocket,
};

const state = { page: undefined, params: [], needLogin: false, downSince: 0 };

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  let name = parts[0] || 'overview';
  let params = parts.slice(1).map(decodeURIComponent);
  if (name === 'clients' && params.length > 0) {
    name = 'client';
    params = [params.join('/')];
  }
  if (!(name in PAGES)) name = 'overview';
  for (const s of document.querySelectorAll('section.page')) s.hidden = s.dataset.page !== name;
  const tab = name === 'client' ? 'clients' : name;
  for (const a of document.querySelectorAll('nav.tabs a')) {
    a.classList.toggle('active', a.dataset.page === tab);
  }
  if (state.page !== undefined && state.page !== PAGES[name]) state.page.leave?.();
  state.page = PAGES[name];
  state.params = params;
  state.page.enter?.(params);
  refreshPage();
}

async function refreshPage() {
  if (state.needLogin || state.page === undefined) return;
  try {
    await state.page.refresh?.(state.params);
  } catch {
    // shown by the status badge or the page's own error line
  }
}

// ---------------------------------------------------------------- sign in

function showLogin(message) {
  state.needLogin = true;
  $('token-panel').hidden = false;
  const err = $('token-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('user-input').value = savedUser();
  $('token-input').focus();
  setStatus(false);
}

onApi('unauthorized', (hadCredentials) =>
  showLogin(hadCredentials ? 'Those credentials were refused.' : ''),
);

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setCredentials($('user-input').value.trim(), $('token-input').value.trim());
  $('token-input').value = '';
  state.needLogin = false;
  $('token-panel').hidden = true;
  tick();
  whoami();
  refreshPage();
});

$('token-button').addEventListener('click', () => {
  const panel = $('token-panel');
  panel.hidden = !panel.hidden;
  if (!panel.hidden) $('token-input').focus();
});

function setStatus(live) {
  const s = $('status');
  s.className = `status ${live ? 'live' : 'offline'}`;
  s.textContent = live ? 'live' : 'offline';
}

// ---------------------------------------------------------------- broker down

onApi('reachable', (ok) => {
  const banner = $('down-banner');
  if (ok) {
    if (state.downSince) {
      banner.hidden = true;
      state.downSince = 0;
      route();
    }
    return;
  }
  state.downSince = Date.now();
  setStatus(false);
  banner.textContent =
    `The broker is not responding: its admin API at ${location.host} could not be reached ` +
    `since ${fmtClock(state.downSince)}. It may be stopped or restarting; the figures ` +
    'below are the last ones received. This page keeps trying every second.';
  banner.hidden = false;
});

// ---------------------------------------------------------------- polling

async function tick() {
  if (state.needLogin) return;
  try {
    const s = await api('stats');
    setText('version', s.version);
    setText('uptime', fmtDuration(s.uptime));
    setStatus(true);
    overview.stats(s);
    alarms.badge(s.alarms ?? 0);
  } catch {
    setStatus(false);
  }
}

async function whoami() {
  try {
    const me = await api('whoami');
    setText('whoami', me.name === 'anonymous' ? '' : `${me.name} (${me.role})`);
    // Nothing to sign in to when the API asks for no credentials.
    $('token-button').hidden = me.name === 'anonymous';
    setText('token-button', 'Switch user');
    document.body.classList.toggle('viewer', me.role !== 'admin');
  } catch {
    // not signed in yet
  }
}

window.addEventListener('hashchange', route);
route();
tick();
whoami();
setInterval(() => {
  tick();
  refreshPage();
}, 1000);
setInterval(whoami, 15000);
