// Subscriptions by topic filter; shared groups with their members.
import { api } from './api.js';
import { $, el, fmtInt, setText } from './format.js';

function row(f) {
  const tr = el('tr');
  tr.dataset.filter = f.filter;
  tr.dataset.group = f.shareGroup ?? '';
  const members = el('td', 'members');
  for (const m of f.members) {
    const a = el('a', `member ${m.online ? '' : 'off'}`, `${m.clientId} (QoS ${m.qos})`);
    a.href = `#/clients/${encodeURIComponent(m.clientId)}`;
    a.title = m.online ? 'connected' : 'offline';
    members.append(a);
  }
  const group = el('td');
  if (f.shareGroup !== null) group.append(el('span', 'pill', f.shareGroup));
  else group.textContent = '–';
  tr.append(
    el('td', 'mono', f.filter),
    group,
    el('td', 'num', `${f.online} / ${f.subscribers}`),
    members,
  );
  return tr;
}

async function refresh() {
  const q = new URLSearchParams({ limit: '500' });
  const text = $('filters-filter').value.trim();
  if (text) q.set('q', text);
  if ($('filters-shared').checked) q.set('shared', 'true');
  const page = await api(`filters?${q}`);
  $('filters-table').tBodies[0].replaceChildren(...page.items.map(row));
  $('filters-empty').hidden = page.total > 0;
  setText('filters-count', fmtInt(page.total));
}

$('filters-filter').addEventListener('input', () => refresh());
$('filters-shared').addEventListener('change', () => refresh());
$('filters-form').addEventListener('submit', (e) => e.preventDefault());

export default { refresh };
