// The single page: sign-in, then hash routes (#/jobs, #/jobs/ID, #/review/ID, #/model/ID,
// #/schema). Each page module renders into #view and may return a cleanup function
// (stops its polling).

import { api, key, setKey, clearKey, setHeader, el } from '/ui/dom.js';
import { jobsPage, jobPage } from '/ui/jobs.js';
import { reviewPage } from '/ui/review.js';
import { modelPage } from '/ui/model.js';
import { schemaPage } from '/ui/schema.js';

const $ = (id) => document.getElementById(id);
let cleanup = null;

function showSignin(message) {
  $('signin').hidden = false;
  $('view').hidden = true;
  $('nav').hidden = true;
  $('signin-error').textContent = message || '';
  $('key').focus();
}

async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  if (!key()) { showSignin(); return; }
  $('signin').hidden = true;
  $('nav').hidden = false;
  const view = $('view');
  view.hidden = false;
  view.replaceChildren();
  const parts = (location.hash || '#/jobs').slice(2).split('/').map(decodeURIComponent);
  const [page, id] = parts;
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${page}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let r;
  if (page === 'jobs' && id) r = jobPage(view, id);
  else if (page === 'review' && id) r = reviewPage(view, id);
  else if (page === 'model' && id) r = modelPage(view, id);
  else if (page === 'schema') r = schemaPage(view);
  else r = jobsPage(view);
  cleanup = await r;
}

async function signin(ev) {
  ev.preventDefault();
  const k = $('key').value.trim();
  $('signin-error').textContent = '';
  if (!k) { $('signin-error').textContent = 'Enter an API key.'; return; }
  try {
    await api('/api/v1/jobs?limit=1', { key: k });
  } catch (e) {
    $('signin-error').textContent = e.status === 401
      ? 'That key was refused.'
      : e.status === 429 ? 'Too many attempts; wait a minute.' : `Sign-in failed: ${e.message}`;
    return;
  }
  setKey(k);
  $('key').value = '';
  if (!location.hash || location.hash === '#/') location.hash = '#/jobs';
  else route();
}

async function start() {
  try {
    const cfg = await (await fetch('/ui/config.json')).json();
    if (cfg && cfg.header) setHeader(cfg.header);
  } catch { /* the default header */ }
  $('signin-form').addEventListener('submit', signin);
  $('signout').addEventListener('click', () => { clearKey(); if (cleanup) cleanup(); cleanup = null; showSignin('Signed out.'); });
  document.addEventListener('kcmf:unauthorized', () => { clearKey(); showSignin('Your key was refused; sign in again.'); });
  window.addEventListener('hashchange', route);
  document.body.classList.add('ready');
  route();
}

start();
export { el };
