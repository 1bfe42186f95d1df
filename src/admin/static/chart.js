// Draws the message-rate history (in and out per second) on a canvas, time-scaled.
import { $, fmtRate } from './format.js';

const MIN_SPAN = 60_000;

/** Draws `samples` ({t, in, out}) ending now; returns the span shown in ms. */
export function drawRates(canvasId, samples, now = Date.now()) {
  const canvas = $(canvasId);
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const first = samples.length > 0 ? samples[0].t : now;
  const span = Math.max(MIN_SPAN, now - first);
  let top = 1;
  for (const s of samples) top = Math.max(top, s.in, s.out);
  const max = top * 1.15;
  const pad = { top: 8, bottom: 16, right: 48 };
  const plotW = w - pad.right;
  const plotH = h - pad.top - pad.bottom;
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = css.getPropertyValue('--muted').trim();
  ctx.strokeStyle = css.getPropertyValue('--line').trim();
  ctx.lineWidth = 1;
  for (let i = 0; i <= 2; i++) {
    const y = Math.round(pad.top + (plotH * i) / 2) + 0.5;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(plotW, y);
    ctx.stroke();
    ctx.fillText(`${fmtRate((max * (2 - i)) / 2)}/s`, plotW + 6, y + 4);
  }
  const x = (t) => plotW - (plotW * (now - t)) / span;
  const y = (v) => pad.top + plotH - (plotH * v) / max;
  for (const [key, color] of [
    ['in', css.getPropertyValue('--accent').trim()],
    ['out', css.getPropertyValue('--out').trim()],
  ]) {
    if (samples.length < 2) continue;
    ctx.beginPath();
    samples.forEach((s, i) => {
      if (i === 0) ctx.moveTo(x(s.t), y(s[key]));
      else ctx.lineTo(x(s.t), y(s[key]));
    });
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.stroke();
    ctx.lineTo(x(samples.at(-1).t), pad.top + plotH);
    ctx.lineTo(x(samples[0].t), pad.top + plotH);
    ctx.closePath();
    ctx.globalAlpha = 0.1;
    ctx.fillStyle = color;
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  return span;
}
