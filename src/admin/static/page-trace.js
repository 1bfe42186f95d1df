// Live trace: follow a client id or a topic filter and watch its packets pass.
import { api, send } from './api.js';
import { $, el, fmtClock, setText } from './format.js';

const MAX_SHOWN = 1000;
const trace = { id: '', after: 0 };

function show(lines) {
  const list = $('trace-lines');
  for (const l of lines) {
    const li = el('li', '', `${fmtClock(l.t)}  ${l.text}`);
    li.dataset.seq = String(l.seq);
    list.append(li);
  }
  while (list.childElementCount > MAX_SHOWN) list.firstElementChild.remove();
  if (lines.length > 0) list.scrollTop = list.scrollHeight;
}

function running(on) {
  $('trace-start').disabled = on;
  $('trace-stop').disabled = !on;
  $('trace-kind').disabled = on;
  $('trace-value').disabled = on;
}

async function stop() {
  if (!trace.id) return;
  const id = trace.id;
  trace.id = '';
  running(false);
  setText('trace-note', 'Trace stopped.');
  try {
    await api(`traces/${id}`, { method: 'DELETE' });
  } catch {
    // it may have expired already
  }
}

$('trace-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const kind = $('trace-kind').value;
  const value = $('trace-value').value.trim();
  try {
    const t = await send('traces', 'POST', { kind, value });
    trace.id = t.id;
    trace.after = 0;
    $('trace-lines').replaceChildren();
    running(true);
    setText('trace-note', `Following ${kind === 'client' ? 'client' : 'topic filter'} ${value}…`);
  } catch (err) {
    setText('trace-note', err.message);
  }
});

$('trace-stop').addEventListener('click', stop);

async function refresh() {
  if (!trace.id) return;
  try {
    const r = await api(`traces/${trace.id}?after=${trace.after}`);
    show(r.lines);
    if (r.lines.length > 0) trace.after = r.lines.at(-1).seq;
    const note = `Following ${r.kind === 'client' ? 'client' : 'topic filter'} ${r.value}`;
    setText(
      'trace-note',
      r.skipped > 0 ? `${note} · ${r.skipped} lines skipped by the rate limit` : note,
    );
  } catch (e) {
    if (e.status === 404) {
      trace.id = '';
      running(false);
      setText('trace-note', 'The trace ended (it expires when nobody reads it).');
    }
  }
}

export default { refresh };
