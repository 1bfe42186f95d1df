// Bridges (state, counters, restart) and the cluster (nodes, Redis health, session owners).
import { api } from './api.js';
import { $, awaitingConfirm, confirmButton, el, fmtInt, fmtSince, setText } from './format.js';

/** The bridge's last error on a full-width row under it: a message is too long for a column. */
function errorRow(b) {
  const tr = el('tr', 'bridge-error');
  tr.dataset.bridgeError = b.name;
  const td = el('td', 'last-error');
  td.colSpan = 9;
  td.title = b.lastError.at;
  td.append(
    el('span', 'muted', `Last error, ${fmtSince(b.lastError.at)}: `),
    el('span', 'message', b.lastError.message),
  );
  tr.append(td);
  return tr;
}

function bridgeRows(b) {
  const tr = el('tr');
  tr.dataset.bridge = b.name;
  const state = el('td');
  state.append(el('span', `pill ${b.state === 'connected' ? '' : 'off'}`, b.state));
  const action = el('td', 'num');
  action.append(
    confirmButton(
      'Restart',
      'kick',
      'Stop this bridge and start it again from its configuration',
      async () => {
        await api(`bridges/${encodeURIComponent(b.name)}/restart`, { method: 'POST' });
        await refresh();
      },
    ),
  );
  tr.append(
    el('td', 'mono', b.name),
    state,
    el('td', 'mono', b.address),
    el('td', 'num', fmtInt(b.sent)),
    el('td', 'num', fmtInt(b.received)),
    el('td', 'num', fmtInt(b.dropped)),
    el('td', 'num', fmtInt(b.reconnects)),
    el('td', 'num', fmtInt(b.queued)),
    action,
  );
  return b.lastError === null ? [tr] : [tr, errorRow(b)];
}

function fact(name, value) {
  const d = el('div');
  d.append(el('dt', '', name), el('dd', '', value));
  return d;
}

function renderCluster(c) {
  $('cluster-off').hidden = c.enabled;
  $('cluster-on').hidden = !c.enabled;
  if (!c.enabled) {
    setText('cluster-node', '');
    $('cluster-redis').hidden = true;
    return;
  }
  setText('cluster-node', c.nodeId);
  const redis = $('cluster-redis');
  redis.hidden = false;
  redis.className = `pill ${c.redis.ok ? '' : 'off'}`;
  redis.textContent = c.redis.ok
    ? `Redis ok · ${c.redis.latencyMs} ms`
    : `Redis down: ${c.redis.error}`;
  $('cluster-facts').replaceChildren(
    fact('Forwarded', fmtInt(c.stats.forwarded)),
    fact('Received', fmtInt(c.stats.received)),
    fact('Taken over', fmtInt(c.stats.takenOver)),
    fact('Sessions received', fmtInt(c.stats.sessionsReceived)),
  );
  $('cluster-nodes').tBodies[0].replaceChildren(
    ...c.nodes.map((n) => {
      const tr = el('tr');
      tr.dataset.node = n.id;
      const state = el('td');
      state.append(el('span', `pill ${n.alive ? '' : 'off'}`, n.alive ? 'alive' : 'gone'));
      tr.append(
        el('td', 'mono', n.self ? `${n.id} (this node)` : n.id),
        state,
        el('td', 'num', fmtInt(n.routes)),
      );
      return tr;
    }),
  );
}

async function refresh() {
  const { items } = await api('bridges');
  const tbody = $('bridges-table').tBodies[0];
  if (!awaitingConfirm(tbody)) tbody.replaceChildren(...items.flatMap(bridgeRows));
  $('bridges-empty').hidden = items.length > 0;
  setText('bridges-count', fmtInt(items.length));
  renderCluster(await api('cluster'));
}

$('owner-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = $('owner-id').value.trim();
  const out = $('owner-result');
  try {
    const o = await api(`owners/${encodeURIComponent(id)}`);
    out.className = 'result';
    out.textContent = o.owner
      ? `${id} is owned by node ${o.owner} (epoch ${o.epoch})${o.here ? '; its session is on this node' : ''}.`
      : `No node owns a session for ${id}.`;
  } catch (err) {
    out.className = 'result error';
    out.textContent = err.message;
  }
  out.hidden = false;
});

export default { refresh };
