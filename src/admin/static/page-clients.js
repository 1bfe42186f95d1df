// Clients: every client id (connected, offline or both), filtered and paged.
import { api } from './api.js';
import {
  $,
  awaitingConfirm,
  confirmButton,
  el,
  fmtInt,
  fmtSince,
  setText,
  VERSIONS,
} from './format.js';

const PAGE = 100;
const view = { offset: 0, total: 0 };

function query() {
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(view.offset) });
  const add = (name, id) => {
    const v = $(id).value.trim();
    if (v) q.set(name, v);
  };
  add('q', 'clients-filter');
  add('state', 'clients-state');
  add('listener', 'clients-listener');
  add('protocol', 'clients-protocol');
  add('username', 'clients-username');
  return q;
}

function row(c) {
  const tr = el('tr');
  tr.dataset.clientId = c.clientId;
  const link = el('a', 'mono', c.clientId);
  link.href = `#/clients/${encodeURIComponent(c.clientId)}`;
  const id = el('td');
  id.append(link);
  const v = el('td');
  v.append(el('span', 'pill', VERSIONS[c.protocolVersion] || String(c.protocolVersion)));
  const since = el(
    'td',
    '',
    c.connected
      ? fmtSince(c.connectedAt)
      : c.disconnectedAt
        ? `away ${fmtSince(c.disconnectedAt)}`
        : 'away',
  );
  since.title = c.connectedAt ?? c.disconnectedAt ?? '';
  tr.append(
    id,
    el('td', '', c.username ?? '–'),
    el('td', 'mono', c.connected ? `${c.address}:${c.port}` : '–'),
    el('td', 'mono', c.listener || '–'),
    v,
    since,
    el('td', 'num', String(c.subscriptions)),
    el('td', 'num', `${c.inflight} / ${c.queued}`),
  );
  const action = el('td', 'num');
  if (c.connected) {
    action.append(
      confirmButton(
        'Kick',
        'kick',
        'Disconnect this client (reason 0x98, administrative action)',
        async () => {
          await api(`clients/${encodeURIComponent(c.clientId)}`, { method: 'DELETE' });
        },
      ),
    );
  }
  tr.append(action);
  return tr;
}

async function refreshListenerChoices() {
  const select = $('clients-listener');
  if (select.options.length > 1) return;
  const { items } = await api('listeners');
  for (const l of items) {
    const o = el('option', '', l.name);
    o.value = l.name;
    select.append(o);
  }
}

function restart() {
  view.offset = 0;
  refresh();
}

async function refresh() {
  await refreshListenerChoices();
  const page = await api(`clients?${query()}`);
  view.total = page.total;
  if (page.total > 0 && view.offset >= page.total) {
    view.offset = Math.floor((page.total - 1) / PAGE) * PAGE;
    return refresh();
  }
  const tbody = $('clients').tBodies[0];
  if (!awaitingConfirm(tbody)) tbody.replaceChildren(...page.items.map(row));
  $('clients-empty').hidden = page.total > 0;
  setText('clients-count', fmtInt(page.total));
  const first = page.total === 0 ? 0 : view.offset + 1;
  setText(
    'clients-range',
    `${fmtInt(first)}–${fmtInt(view.offset + page.items.length)} of ${fmtInt(page.total)}`,
  );
  const [prev, next] = $('clients-pager').querySelectorAll('button');
  prev.disabled = view.offset === 0;
  next.disabled = view.offset + PAGE >= page.total;
}

for (const id of ['clients-filter', 'clients-username']) $(id).addEventListener('input', restart);
for (const id of ['clients-state', 'clients-listener', 'clients-protocol']) {
  $(id).addEventListener('change', restart);
}
$('clients-filters').addEventListener('submit', (e) => e.preventDefault());
$('clients-pager').addEventListener('click', (e) => {
  const step = Number(e.target.dataset?.step);
  if (!step) return;
  view.offset = Math.max(0, view.offset + step * PAGE);
  refresh();
});

export default { refresh };
