// Sessions: persistent sessions whose client is away, with queue and expiry.
import { api } from './api.js';
import {
  $,
  awaitingConfirm,
  confirmButton,
  el,
  fmtBytes,
  fmtInt,
  fmtSince,
  fmtUntil,
  setText,
} from './format.js';

function row(s) {
  const tr = el('tr');
  tr.dataset.clientId = s.clientId;
  const id = el('td');
  const link = el('a', 'mono', s.clientId);
  link.href = `#/clients/${encodeURIComponent(s.clientId)}`;
  id.append(link);
  const action = el('td', 'num');
  action.append(
    confirmButton(
      'Drop',
      'kick',
      'Discard this session with its subscriptions and queue',
      async () => {
        await api(`sessions/${encodeURIComponent(s.clientId)}`, { method: 'DELETE' });
        await refresh();
      },
    ),
  );
  tr.append(
    id,
    el('td', '', s.username ?? '–'),
    el('td', '', s.disconnectedAt ? fmtSince(s.disconnectedAt) : '–'),
    el('td', '', s.expiresAt ? fmtUntil(s.expiresAt) : 'never'),
    el('td', 'num', fmtInt(s.subscriptions)),
    el('td', 'num', fmtInt(s.queued)),
    el('td', 'num', fmtBytes(s.queuedBytes)),
    action,
  );
  return tr;
}

async function refresh() {
  const q = new URLSearchParams({ online: 'false', limit: '500' });
  const text = $('sessions-filter').value.trim();
  if (text) q.set('q', text);
  const page = await api(`sessions?${q}`);
  const tbody = $('sessions-table').tBodies[0];
  if (!awaitingConfirm(tbody)) tbody.replaceChildren(...page.items.map(row));
  $('sessions-empty').hidden = page.total > 0;
  setText('sessions-count', fmtInt(page.total));
}

$('sessions-filter').addEventListener('input', () => refresh());

export default { refresh };
