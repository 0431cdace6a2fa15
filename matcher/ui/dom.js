// Small DOM and API helpers shared by the pages. Text is always written as text nodes
// (never parsed as HTML), so record values cannot inject markup.

const KEY = 'kcmf.key';
let header = 'X-API-Key';

export function setHeader(h) { header = h; }
export function key() { return sessionStorage.getItem(KEY); }
export function setKey(k) { sessionStorage.setItem(KEY, k); }
export function clearKey() { sessionStorage.removeItem(KEY); }

// el('div', {class: 'x', for: 'id'}, child, 'text', ...)
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export class ApiError extends Error {
  constructor(status, message, field) { super(message); this.status = status; this.field = field; }
}

// Calls the JSON API with the key; a 401 signs out (the key was revoked or is wrong).
export async function api(path, opts = {}) {
  const headers = new Headers(opts.headers || {});
  const k = opts.key ?? key();
  if (k) headers.set(header, k);
  let body = opts.body;
  if (opts.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(opts.json);
  }
  const r = await fetch(path, { method: opts.method || 'GET', headers, body });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(r.status, err.message || `HTTP ${r.status}`, err.field);
    if (r.status === 401 && !opts.key) document.dispatchEvent(new CustomEvent('kcmf:unauthorized'));
    throw e;
  }
  return data;
}

export function pct(x) { return x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`; }
export function num(x, d = 2) { return x === null || x === undefined ? '–' : Number(x).toFixed(d); }

// A horizontal bar whose length is `frac` of its track (width set through the CSSOM,
// which the CSP allows; no style attribute).
export function bar(frac, cls = '') {
  const fill = el('span', { class: `fill ${cls}` });
  fill.style.width = `${Math.max(0, Math.min(1, frac)) * 100}%`;
  return el('span', { class: 'track', 'aria-hidden': 'true' }, fill);
}

// A chart drawn on the server by plotters (an SVG from /api/v1/jobs/{id}/charts/…), shown
// as an image. An <img src> cannot send the key header, so the SVG is fetched like any API
// call and shown from a blob: URL (the CSP's img-src allows 'self' and blob: only).
export async function chartImage(path, alt) {
  const headers = new Headers();
  const k = key();
  if (k) headers.set(header, k);
  const r = await fetch(path, { headers });
  if (!r.ok) throw new ApiError(r.status, `chart: HTTP ${r.status}`);
  const url = URL.createObjectURL(await r.blob());
  const img = el('img', { src: url, alt, class: 'chart', width: 760 });
  img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
  return img;
}

export function errorBox(e) {
  return el('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e));
}
