// One client id: its connection, session, will and subscriptions; kick it or drop its session.
import { api } from './api.js';
import { $, confirmButton, el, fmtBytes, fmtInt, fmtSince, setText, VERSIONS } from './format.js';

let current = '';

function fact(name, value) {
  const wrap = el('div');
  wrap.append(el('dt', '', name), el('dd', '', value));
  return wrap;
}

function expiryText(seconds) {
  if (seconds === null) return 'never';
  if (seconds === 0) return 'at disconnect';
  return `${fmtInt(seconds)} s after disconnect`;
}

function render(d) {
  const c = d.client;
  setText('client-id', c.clientId);
  const badge = $('client-state');
  badge.textContent = c.connected ? 'connected' : 'offline';
  badge.className = `pill ${c.connected ? '' : 'off'}`;
  $('client-facts').replaceChildren(
    fact('User', c.username ?? '–'),
    fact('Address', c.connected ? `${c.address}:${c.port}` : '–'),
    fact('Listener', c.listener || '–'),
    fact('MQTT', VERSIONS[c.protocolVersion] || String(c.protocolVersion)),
    fact('Keep alive', c.keepalive === null ? '–' : c.keepalive ? `${c.keepalive} s` : 'off'),
    fact(
      c.connected ? 'Connected' : 'Away',
      c.connected ? fmtSince(c.connectedAt) : c.disconnectedAt ? fmtSince(c.disconnectedAt) : '–',
    ),
    fact('Session expiry', expiryText(c.sessionExpiry)),
    fact('In flight', fmtInt(c.inflight)),
    fact('Queued', fmtInt(c.queued)),
    fact('Bytes in', d.bytesIn === null ? '–' : fmtBytes(d.bytesIn)),
    fact('Bytes out', d.bytesOut === null ? '–' : fmtBytes(d.bytesOut)),
  );
  const w = d.will;
  setText(
    'client-will',
    w === null
      ? 'none'
      : `${w.topic} · QoS ${w.qos}${w.retain ? ' · retained' : ''}${w.delay ? ` · delay ${w.delay} s` : ''}${w.pending ? ' · pending' : ''} · "${w.payload}"`,
  );
  $('client-subs').tBodies[0].replaceChildren(
    ...d.subscriptions.map((s) => {
      const tr = el('tr');
      const opts = [];
      if (s.noLocal) opts.push('no local');
      if (s.retainAsPublished) opts.push('retain as published');
      if (s.retainHandling) opts.push(`retain handling ${s.retainHandling}`);
      if (s.subscriptionId !== null) opts.push(`id ${s.subscriptionId}`);
      tr.append(
        el('td', 'mono', s.filter),
        el('td', '', String(s.qos)),
        el('td', 'mono', s.shareGroup ?? '–'),
        el('td', 'muted', opts.join(', ') || '–'),
      );
      return tr;
    }),
  );
  $('client-kick').hidden = !c.connected;
}

function showError(message) {
  const e = $('client-error');
  e.textContent = message;
  e.hidden = !message;
}

const kick = confirmButton(
  'Kick',
  'danger-ghost',
  'Disconnect (reason 0x98); the session stays',
  async () => {
    await api(`clients/${encodeURIComponent(current)}`, { method: 'DELETE' });
    await refresh();
  },
);
kick.id = 'client-kick';
$('client-kick').replaceWith(kick);
const drop = confirmButton(
  'Drop session',
  'danger-ghost',
  'Disconnect if connected and discard the session: subscriptions and queued messages',
  async () => {
    await api(`sessions/${encodeURIComponent(current)}`, { method: 'DELETE' });
    location.hash = '#/clients';
  },
);
drop.id = 'client-drop';
$('client-drop').replaceWith(drop);

async function refresh() {
  try {
    render(await api(`clients/${encodeURIComponent(current)}`));
    showError('');
  } catch (e) {
    if (e.status === 404) showError(`No client or session '${current}' (any more).`);
    else throw e;
  }
}

export default {
  enter([id]) {
    current = id;
    setText('client-id', id);
    $('client-facts').replaceChildren();
    $('client-subs').tBodies[0].replaceChildren();
  },
  refresh,
};
