// Overview: figure cards, the rate chart (server-side history, up to an hour) and listeners.
import { api } from './api.js';
import { drawRates } from './chart.js';
import { $, el, fmtBytes, fmtInt, fmtRate, setText } from './format.js';

const history = { samples: [], capacity: 1800, last: 0, loaded: false };
let previous;

function sumErrors(errors) {
  let n = 0;
  for (const k in errors) n += errors[k];
  return n;
}

function draw() {
  if ($('sparkline').offsetParent === null) return;
  const span = drawRates('sparkline', history.samples);
  setText('chart-span', `· last ${Math.max(1, Math.round(span / 60000))} min`);
}

async function loadHistory() {
  const since = history.loaded ? `?since=${history.last}` : '';
  const h = await api(`history${since}`);
  history.capacity = h.capacity;
  history.samples.push(...h.samples);
  if (history.samples.length > history.capacity) {
    history.samples.splice(0, history.samples.length - history.capacity);
  }
  if (history.samples.length > 0) history.last = history.samples.at(-1).t;
  history.loaded = true;
  draw();
}

async function refreshListeners() {
  const { items } = await api('listeners');
  $('listeners').replaceChildren(
    ...items.map((l) => {
      const li = el('li');
      li.append(
        el('span', 'mono', `${l.name} · ${l.host}:${l.port}`),
        el(
          'span',
          'muted',
          `${fmtInt(l.connections)} open · ${fmtInt(l.messagesReceived)} in · ${fmtInt(l.messagesSent)} out`,
        ),
      );
      return li;
    }),
  );
}

export default {
  /** Fills the cards from /stats (called on every tick, whatever page is shown). */
  stats(s) {
    const now = performance.now();
    if (previous !== undefined) {
      const dt = (now - previous.at) / 1000;
      if (dt > 0) {
        const d = (f) => Math.max(0, (f(s) - f(previous.s)) / dt);
        setText('rate-in', fmtRate(d((x) => x.messages.received)));
        setText('rate-out', fmtRate(d((x) => x.messages.sent)));
        setText('bytes-in-rate', `${fmtBytes(d((x) => x.bytes.received))}/s`);
        setText('bytes-out-rate', `${fmtBytes(d((x) => x.bytes.sent))}/s`);
      }
    }
    previous = { at: now, s };
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
    setText('retained-sys', fmtInt(s.retainedSys));
    setText('dropped', fmtInt(s.messages.dropped));
    setText('errors', fmtInt(sumErrors(s.errors)));
  },
  async refresh() {
    await loadHistory();
    await refreshListeners();
  },
};

window.addEventListener('resize', draw);
