// Number, size and time formatting plus small DOM helpers shared by the pages.

/** Looks an element up by id. */
export const $ = (id) => document.getElementById(id);

/** 12,345 */
export function fmtInt(n) {
  return Number(n).toLocaleString('en-US');
}

/** A rate with few digits: 0.25, 12.5, 1,234. */
export function fmtRate(n) {
  if (n >= 100) return fmtInt(Math.round(n));
  return n.toFixed(n >= 10 ? 1 : 2).replace(/\.?0+$/, '') || '0';
}

/** 1.5 KB */
export function fmtBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** 3d 4h, 5m 2s */
export function fmtDuration(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** "5m 2s ago" from an ISO date. */
export function fmtSince(iso) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  return `${fmtDuration(s)} ago`;
}

/** "in 5m 2s" from an ISO date. */
export function fmtUntil(iso) {
  const s = Math.max(0, Math.floor((Date.parse(iso) - Date.now()) / 1000));
  return `in ${fmtDuration(s)}`;
}

/** 10:04:05 */
export function fmtClock(ms) {
  return new Date(ms).toLocaleTimeString('en-GB');
}

/** MQTT protocol levels by number. */
export const VERSIONS = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

/** Sets an element's text only when it changed (keeps selections and avoids layout work). */
export function setText(id, text) {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
}

/** Creates an element with a class and text (always as text, never as HTML). */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A button that asks for a second click before doing `action` (kick, drop, delete). */
export function confirmButton(label, className, title, action) {
  const b = el('button', className, label);
  b.type = 'button';
  b.title = title;
  let timer;
  b.addEventListener('click', async (ev) => {
    ev.stopPropagation();
    if (!b.classList.contains('confirm')) {
      b.classList.add('confirm');
      b.textContent = 'Confirm';
      timer = setTimeout(() => {
        b.classList.remove('confirm');
        b.textContent = label;
      }, 4000);
      return;
    }
    clearTimeout(timer);
    b.disabled = true;
    b.classList.remove('confirm');
    b.textContent = label;
    try {
      await action();
    } catch (e) {
      alert(e.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** Whether a table holds a button waiting for its confirming click (do not re-render it then). */
export function awaitingConfirm(container) {
  return container.querySelector('button.confirm') !== null;
}
