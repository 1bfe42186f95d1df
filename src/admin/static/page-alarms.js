// Alarms: active ones with when they were raised, and recently cleared ones.
import { api } from './api.js';
import { $, el, fmtClock, fmtInt, fmtSince, setText } from './format.js';

const LABELS = {
  slow_consumer: 'slow consumer',
  queue_drops: 'queue drops',
  auth_failures: 'auth failures',
  memory_high: 'memory',
  auth_backend: 'auth backend',
  cluster_redis: 'cluster Redis',
};

function item(a) {
  const li = el('li');
  li.dataset.kind = a.kind;
  if (a.subject) li.dataset.subject = a.subject;
  const when = a.clearedAt
    ? `${fmtClock(Date.parse(a.raisedAt))} → ${fmtClock(Date.parse(a.clearedAt))}`
    : `since ${fmtClock(Date.parse(a.raisedAt))} (${fmtSince(a.raisedAt)})`;
  const time = el('span', 'muted', when);
  time.title = a.clearedAt ? `${a.raisedAt} → ${a.clearedAt}` : a.raisedAt;
  li.append(
    el('span', `pill ${a.clearedAt ? '' : 'off'}`, LABELS[a.kind] || a.kind),
    el('span', '', a.message),
    time,
  );
  return li;
}

async function refresh() {
  const { active, cleared } = await api('alarms');
  $('alarms-active').replaceChildren(...active.map(item));
  $('alarms-cleared').replaceChildren(...cleared.map(item));
  $('alarms-none').hidden = active.length > 0;
  setText('alarms-count', fmtInt(active.length));
}

export default {
  /** Shows the number of active alarms on the tab (from /stats, on every tick). */
  badge(n) {
    setText('alarms-badge', n > 0 ? String(n) : '');
  },
  refresh,
};
