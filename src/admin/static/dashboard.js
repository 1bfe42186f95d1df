// Heron dashboard: polls the admin API (/api/v1/*) and renders it. Plain browser
// JavaScript, no build step; every value from the broker is inserted as text.

const TOKEN_KEY = 'heron.adminToken';
const HISTORY = 60;

const state = {
  token: localStorage.getItem(TOKEN_KEY) || '',
  needToken: false,
  last: undefined,
  rateIn: [],
  rateOut: [],
  clientFilter: '',
  topicFilter: '#',
};

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, init = {}) {
  const headers = Object.assign({}, init.headers);
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const res = await fetch(`/api/v1/${path}`, Object.assign({}, init, { headers }));
  let body;
  try {
    body = await res.json();
  } catch {
    body = {};
  }
  if (res.status === 401) showTokenPanel(state.token ? 'That token was refused.' : '');
  if (!res.ok) throw new ApiError(res.status, body.error || `HTTP ${res.status}`);
  return body;
}

// ---------------------------------------------------------------- formatting

function fmtInt(n) {
  return Number(n).toLocaleString('en-US');
}

function fmtRate(n) {
  if (n >= 100) return fmtInt(Math.round(n));
  return n.toFixed(n >= 10 ? 1 : 2).replace(/\.?0+$/, '') || '0';
}

function fmtBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function fmtDuration(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function fmtSince(iso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  return `${fmtDuration(s)} ago`;
}

const VERSIONS = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

function setText(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---------------------------------------------------------------- token

function showTokenPanel(message) {
  state.needToken = true;
  $('token-panel').hidden = false;
  const err = $('token-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('token-input').focus();
  setStatus(false);
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.token = $('token-input').value.trim();
  if (state.token) localStorage.setItem(TOKEN_KEY, state.token);
  else localStorage.removeItem(TOKEN_KEY);
  state.needToken = false;
  $('token-panel').hidden = true;
  refreshAll();
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

// ---------------------------------------------------------------- stats + sparkline

function renderStats(s) {
  const now = performance.now();
  if (state.last !== undefined) {
    const dt = (now - state.last.at) / 1000;
    if (dt > 0) {
      const inRate = Math.max(0, (s.messages.received - state.last.s.messages.received) / dt);
      const outRate = Math.max(0, (s.messages.sent - state.last.s.messages.sent) / dt);
      const bIn = Math.max(0, (s.bytes.received - state.last.s.bytes.received) / dt);
      const bOut = Math.max(0, (s.bytes.sent - state.last.s.bytes.sent) / dt);
      pushRate(state.rateIn, inRate);
      pushRate(state.rateOut, outRate);
      setText('rate-in', fmtRate(inRate));
      setText('rate-out', fmtRate(outRate));
      setText('bytes-in-rate', `${fmtBytes(bIn)}/s`);
      setText('bytes-out-rate', `${fmtBytes(bOut)}/s`);
    }
  }
  if (state.last !== undefined && state.last.s.connections.current !== s.connections.current) {
    refreshListeners();
  }
  state.last = { at: now, s };
  setText('version', s.version);
  setText('uptime', fmtDuration(s.uptime));
  setText('connections', fmtInt(s.connections.current));
  setText('connections-max', fmtInt(s.connections.maximum));
  setText('connections-total', fmtInt(s.connections.total));
  setText('messages-in', fmtInt(s.messages.received));
  setText('messages-out', fmtInt(s.messages.sent));
  setText('sessions', fmtInt(s.sessions.total));
  setText('sessions-online', fmtInt(s.sessions.online));
  setText('sessions-offline', fmtInt(s.sessions.offline));
  setText('subscriptions', fmtInt(s.subscriptions));
  setText('retained', fmtInt(s.retained));
  setText('dropped', fmtInt(s.messages.dropped));
  let errors = 0;
  for (const k in s.errors) errors += s.errors[k];
  setText('errors', fmtInt(errors));
  drawSparkline();
}

function pushRate(list, v) {
  list.push(v);
  if (list.length > HISTORY) list.shift();
}

function drawSparkline() {
  const canvas = $('sparkline');
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const line = css.getPropertyValue('--line').trim();
  const muted = css.getPropertyValue('--muted').trim();
  const max = Math.max(1, ...state.rateIn, ...state.rateOut) * 1.15;
  const pad = { top: 8, bottom: 16, left: 0, right: 48 };
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = muted;
  ctx.strokeStyle = line;
  ctx.lineWidth = 1;
  for (let i = 0; i <= 2; i++) {
    const y = Math.round(pad.top + (plotH * i) / 2) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + plotW, y);
    ctx.stroke();
    ctx.fillText(`${fmtRate((max * (2 - i)) / 2)}/s`, pad.left + plotW + 6, y + 4);
  }
  const x = (i) => pad.left + (plotW * i) / (HISTORY - 1);
  const y = (v) => pad.top + plotH - (plotH * v) / max;
  const series = [
    [state.rateIn, css.getPropertyValue('--accent').trim()],
    [state.rateOut, css.getPropertyValue('--out').trim()],
  ];
  for (const [values, color] of series) {
    if (values.length < 2) continue;
    const start = HISTORY - values.length;
    ctx.beginPath();
    values.forEach((v, i) => {
      if (i === 0) ctx.moveTo(x(start + i), y(v));
      else ctx.lineTo(x(start + i), y(v));
    });
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.stroke();
    ctx.lineTo(x(HISTORY - 1), pad.top + plotH);
    ctx.lineTo(x(start), pad.top + plotH);
    ctx.closePath();
    ctx.globalAlpha = 0.1;
    ctx.fillStyle = color;
    ctx.fill();
    ctx.globalAlpha = 1;
  }
}

// ---------------------------------------------------------------- clients

function renderClients(page) {
  const tbody = $('clients').tBodies[0];
  const rows = [];
  for (const c of page.items) {
    const tr = el('tr');
    tr.dataset.clientId = c.clientId;
    tr.append(
      el('td', 'mono', c.clientId),
      el('td', '', c.username ?? '–'),
      el('td', 'mono', `${c.address}:${c.port}`),
    );
    const v = el('td');
    v.append(el('span', 'pill', VERSIONS[c.protocolVersion] || String(c.protocolVersion)));
    const since = el('td', '', fmtSince(c.connectedAt));
    since.title = c.connectedAt;
    tr.append(
      v,
      el('td', '', c.keepalive ? `${c.keepalive}s` : 'off'),
      since,
      el('td', 'num', String(c.subscriptions)),
      el('td', 'num', `${c.inflight} / ${c.queued}`),
    );
    const action = el('td', 'num');
    const kick = el('button', 'kick', 'Kick');
    kick.type = 'button';
    kick.title = 'Disconnect this client (reason 0x98, administrative action)';
    kick.addEventListener('click', () => onKick(kick, c.clientId));
    action.append(kick);
    tr.append(action);
    rows.push(tr);
  }
  // Keep a row whose kick button awaits confirmation: re-rendering would reset it.
  if (tbody.querySelector('button.kick.confirm')) return;
  tbody.replaceChildren(...rows);
  $('clients-empty').hidden = page.total > 0;
  setText(
    'clients-count',
    page.total > page.items.length ? `${page.items.length} of ${page.total}` : String(page.total),
  );
}

async function onKick(button, clientId) {
  if (!button.classList.contains('confirm')) {
    button.classList.add('confirm');
    button.textContent = 'Confirm';
    setTimeout(() => {
      button.classList.remove('confirm');
      button.textContent = 'Kick';
    }, 4000);
    return;
  }
  button.disabled = true;
  button.classList.remove('confirm');
  try {
    await api(`clients/${encodeURIComponent(clientId)}`, { method: 'DELETE' });
  } catch (e) {
    alert(`Could not disconnect ${clientId}: ${e.message}`);
  }
  refreshClients();
}

$('clients-filter').addEventListener('input', (e) => {
  state.clientFilter = e.target.value.trim();
  refreshClients();
});

// ---------------------------------------------------------------- retained topics

function renderTopics(page) {
  const list = $('topics');
  list.replaceChildren(
    ...page.items.map((t) => {
      const li = el('li');
      li.title = 'Click to copy into the publish form';
      const text = t.encoding === 'base64' ? `base64:${t.payload}` : t.payload;
      li.append(
        el('span', 'topic', t.topic),
        el('span', 'size', `QoS ${t.qos} · ${fmtBytes(t.size)}`),
        el('span', 'payload', text + (t.truncated ? ' …' : '') || '(empty)'),
      );
      li.addEventListener('click', () => {
        $('publish-topic').value = t.topic;
        if (t.encoding === 'utf8' && !t.truncated) $('publish-payload').value = t.payload;
        $('publish-qos').value = String(t.qos);
        $('publish-retain').checked = true;
      });
      return li;
    }),
  );
  $('topics-empty').hidden = page.total > 0;
  setText('topics-count', String(page.total));
}

async function refreshTopics() {
  const err = $('topics-error');
  try {
    const q = new URLSearchParams({ filter: state.topicFilter, limit: '200', preview: '120' });
    renderTopics(await api(`topics?${q}`));
    err.hidden = true;
  } catch (e) {
    if (e.status === 401) return;
    err.textContent = e.message;
    err.hidden = false;
  }
}

$('topics-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.topicFilter = $('topics-filter').value.trim() || '#';
  refreshTopics();
});

// ---------------------------------------------------------------- publish

$('publish-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const result = $('publish-result');
  const body = {
    topic: $('publish-topic').value,
    payload: $('publish-payload').value,
    qos: Number($('publish-qos').value),
    retain: $('publish-retain').checked,
  };
  try {
    const r = await api('publish', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    result.className = 'result';
    result.textContent = `Published to ${r.topic}: reached ${r.delivered} subscriber${r.delivered === 1 ? '' : 's'}.`;
    if (body.retain) refreshTopics();
  } catch (err) {
    result.className = 'result error';
    result.textContent = err.message;
  }
  result.hidden = false;
});

// ---------------------------------------------------------------- listeners

async function refreshListeners() {
  try {
    const { items } = await api('listeners');
    $('listeners').replaceChildren(
      ...items.map((l) => {
        const li = el('li');
        li.append(
          el('span', 'mono', `${l.protocol} ${l.host}:${l.port}`),
          el('span', 'muted', `${l.connections} open`),
        );
        return li;
      }),
    );
  } catch {
    // shown by the status badge
  }
}

// ---------------------------------------------------------------- polling

async function refreshClients() {
  try {
    const q = new URLSearchParams({ limit: '100' });
    if (state.clientFilter) q.set('q', state.clientFilter);
    renderClients(await api(`clients?${q}`));
  } catch {
    // shown by the status badge
  }
}

async function tick() {
  if (state.needToken) return;
  try {
    renderStats(await api('stats'));
    setStatus(true);
    await refreshClients();
  } catch {
    setStatus(false);
  }
}

function refreshAll() {
  tick();
  refreshTopics();
  refreshListeners();
}

refreshAll();
setInterval(tick, 1000);
setInterval(() => {
  if (state.needToken) return;
  refreshTopics();
  refreshListeners();
}, 5000);
window.addEventListener('resize', drawSparkline);
