// Retained messages: browse by filter, delete one, and publish (retained or not).
import { api, send } from './api.js';
import { $, awaitingConfirm, confirmButton, el, fmtBytes, fmtInt, setText } from './format.js';

let filter = '#';

function item(t) {
  const li = el('li');
  li.dataset.topic = t.topic;
  li.title = 'Click to copy into the publish form';
  const text = t.encoding === 'base64' ? `base64:${t.payload}` : t.payload;
  const head = el('div', 'head');
  head.append(
    el('span', 'topic', t.topic),
    el('span', 'size', `QoS ${t.qos} · ${fmtBytes(t.size)}`),
  );
  if (!t.topic.startsWith('$SYS/')) {
    head.append(
      confirmButton(
        'Delete',
        'kick',
        'Delete this retained message (as an empty retained publish)',
        async () => {
          await api(`topics?${new URLSearchParams({ topic: t.topic })}`, { method: 'DELETE' });
          await refresh();
        },
      ),
    );
  }
  li.append(head, el('span', 'payload', text + (t.truncated ? ' …' : '') || '(empty)'));
  li.addEventListener('click', () => {
    $('publish-topic').value = t.topic;
    if (t.encoding === 'utf8' && !t.truncated) $('publish-payload').value = t.payload;
    $('publish-qos').value = String(t.qos);
    $('publish-retain').checked = true;
  });
  return li;
}

async function refresh() {
  const err = $('topics-error');
  try {
    const q = new URLSearchParams({ filter, limit: '200', preview: '120' });
    const page = await api(`topics?${q}`);
    if (!awaitingConfirm($('topics'))) $('topics').replaceChildren(...page.items.map(item));
    $('topics-empty').hidden = page.total > 0;
    setText('topics-count', fmtInt(page.total));
    err.hidden = true;
  } catch (e) {
    if (e.status === 401 || e.status === 0) return;
    err.textContent = e.message;
    err.hidden = false;
  }
}

$('topics-form').addEventListener('submit', (e) => {
  e.preventDefault();
  filter = $('topics-filter').value.trim() || '#';
  refresh();
});

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
    const r = await send('publish', 'POST', body);
    result.className = 'result';
    result.textContent = `Published to ${r.topic}: reached ${r.delivered} subscriber${r.delivered === 1 ? '' : 's'}.`;
    if (body.retain) refresh();
  } catch (err) {
    result.className = 'result error';
    result.textContent = err.message;
  }
  result.hidden = false;
});

export default { refresh };
