// Jobs: the key's jobs with live progress (polled every 2 s while one is active), cancel,
// a CSV upload for a dedup job; a job's page: its state, the clusters (searchable by id
// and value), the cluster-size histogram and the scored pairs nearest the threshold.

import { api, el, num, chartImage, errorBox } from '/ui/dom.js';

const ACTIVE = new Set(['queued', 'running']);

function progressCell(j) {
  const p = j.progress || {};
  return el('td', {},
    el('progress', { max: 100, value: p.percent || 0, 'aria-label': `Progress of job ${j.id}` }),
    ` ${num(p.percent, 1)} %`);
}

function stateBadge(s) { return el('span', { class: `state state-${s}` }, s); }

async function cancel(id, after) {
  try { await api(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }); } catch (e) { alert(e.message); }
  after();
}

export async function jobsPage(view) {
  const table = el('tbody');
  const status = el('p', { class: 'note', role: 'status' });
  const file = el('input', { id: 'upload-file', type: 'file', accept: '.csv,text/csv', required: true });
  const idcol = el('input', { id: 'upload-id', type: 'text', value: 'id', size: 10 });
  const form = el('form', { class: 'row', id: 'upload-form' },
    el('label', { for: 'upload-file' }, 'CSV file'), file,
    el('label', { for: 'upload-id' }, 'Id column'), idcol,
    el('button', { type: 'submit' }, 'Start dedup job'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!file.files[0]) return;
    try {
      const q = `type=dedup&id_column=${encodeURIComponent(idcol.value || 'id')}`;
      const r = await api(`/api/v1/jobs?${q}`, { method: 'POST', body: file.files[0], headers: { 'Content-Type': 'text/csv' } });
      status.textContent = `Job ${r.id} queued.`;
      refresh();
    } catch (e) { status.textContent = `Upload refused: ${e.message}${e.field ? ` (${e.field})` : ''}`; }
  });
  view.append(
    el('h1', {}, 'Jobs'),
    el('details', {}, el('summary', {}, 'New dedup job from a CSV file'), form),
    status,
    el('div', { class: 'scroll' }, el('table', { id: 'jobs' },
      el('caption', { class: 'sr' }, 'Your jobs, newest first'),
      el('thead', {}, el('tr', {}, ['Job', 'Type', 'State', 'Progress', 'Created', 'Actions'].map((h) => el('th', { scope: 'col' }, h)))),
      table)));
  let timer = null;
  let stopped = false;
  async function refresh() {
    let jobs;
    try { jobs = await api('/api/v1/jobs?limit=100'); } catch (e) { status.replaceChildren(errorBox(e)); return; }
    if (stopped) return;
    table.replaceChildren(...jobs.map((j) => el('tr', { 'data-job': j.id, 'data-state': j.state },
      el('td', {}, el('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.id.slice(0, 8))),
      el('td', {}, j.type),
      el('td', {}, stateBadge(j.state)),
      progressCell(j),
      el('td', {}, new Date(j.created_at).toLocaleString()),
      el('td', {}, ACTIVE.has(j.state)
        ? el('button', { type: 'button', class: 'danger', onclick: () => cancel(j.id, refresh) }, 'Cancel')
        : j.type === 'dedup' && j.state === 'succeeded'
          ? el('a', { href: `#/review/${encodeURIComponent(j.id)}` }, 'Review') : ''))));
    if (!jobs.length) table.append(el('tr', {}, el('td', { colspan: 6 }, 'No jobs yet.')));
    clearTimeout(timer);
    if (jobs.some((j) => ACTIVE.has(j.state))) timer = setTimeout(refresh, 2000);
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

// The counts as a table (the numbers behind a chart, for reading and for screen readers).
function histogram(title, rows) {
  return el('table', { class: 'hist' },
    el('caption', {}, title),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, rows.label || 'Bin'), el('th', { scope: 'col' }, 'Count'))),
    el('tbody', {}, rows.map((r) => el('tr', {},
      el('th', { scope: 'row' }, r.label), el('td', { class: 'n' }, r.count)))));
}

function clustersBlock(id) {
  const box = el('div', { id: 'clusters' });
  const q = el('input', { id: 'cluster-q', type: 'search', placeholder: 'id or value' });
  const list = el('div');
  const form = el('form', { class: 'row', role: 'search' },
    el('label', { for: 'cluster-q' }, 'Search clusters'), q, el('button', { type: 'submit' }, 'Search'));
  const sizes = el('div');
  const chart = el('div', { id: 'sizes-chart' });
  chartImage(`/api/v1/jobs/${encodeURIComponent(id)}/charts/sizes.svg`,
    'Histogram of the cluster sizes (lone records count as clusters of one); the counts are in the table below.')
    .then((img) => chart.replaceChildren(img))
    .catch((e) => chart.replaceChildren(errorBox(e)));
  async function load() {
    let r;
    try { r = await api(`/api/v1/jobs/${encodeURIComponent(id)}/clusters?limit=100&q=${encodeURIComponent(q.value)}`); }
    catch (e) { list.replaceChildren(errorBox(e)); return; }
    const rows = r.sizes.map((s) => ({ label: `${s.size} records`, count: s.clusters }));
    rows.label = 'Size';
    sizes.replaceChildren(histogram('Cluster sizes', rows));
    list.replaceChildren(
      el('p', { role: 'status' }, `${r.matching} of ${r.total} clusters (${r.records} records)`),
      ...r.clusters.map((c) => el('table', { class: 'cluster' },
        el('caption', {}, `Cluster ${c.cluster}`),
        el('tbody', {}, c.members.map((m) => el('tr', {},
          el('th', { scope: 'row' }, m.id),
          el('td', {}, Object.entries(m.record).filter(([k]) => k !== 'id').map(([k, v]) => `${k}: ${v ?? ''}`).join(' · '))))))));
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  box.append(el('h2', {}, 'Clusters'), chart, sizes, form, list);
  load();
  return box;
}

function pairsBlock(id) {
  const box = el('div', { id: 'pairs' }, el('h2', {}, 'Pairs nearest the threshold'), el('p', { class: 'note' }, 'Scoring…'));
  api(`/api/v1/jobs/${encodeURIComponent(id)}/review?limit=50`).then((r) => {
    const bins = r.histogram.map((count, i) => ({ label: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`, count }));
    bins.label = 'Probability';
    box.replaceChildren(
      el('h2', {}, 'Scored pairs'),
      el('p', {}, `${r.candidate_pairs} candidate pairs, ${r.matched_pairs} matched at threshold ${num(r.threshold)}.`),
      histogram('Candidate pairs by match probability', bins),
      el('div', { class: 'scroll' }, el('table', {},
        el('caption', {}, 'Unlabelled pairs nearest the threshold'),
        el('thead', {}, el('tr', {}, ['Left', 'Right', 'Probability', 'Rule', 'Linkage'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, r.pairs.map((p) => el('tr', {},
          el('td', {}, p.left_id), el('td', {}, p.right_id), el('td', { class: 'n' }, num(p.probability, 3)),
          el('td', {}, p.rule), el('td', {}, p.match ? 'match' : 'no match')))))));
  }).catch((e) => box.replaceChildren(el('h2', {}, 'Scored pairs'), errorBox(e)));
  return box;
}

export async function jobPage(view, id) {
  const head = el('div');
  const body = el('div');
  view.append(el('h1', {}, `Job ${id.slice(0, 8)}`), head, body);
  let timer = null;
  let stopped = false;
  let shown = false;
  async function refresh() {
    let j;
    try { j = await api(`/api/v1/jobs/${encodeURIComponent(id)}`); } catch (e) { head.replaceChildren(errorBox(e)); return; }
    if (stopped) return;
    head.replaceChildren(el('dl', { class: 'facts' },
      el('dt', {}, 'Type'), el('dd', {}, j.type),
      el('dt', {}, 'State'), el('dd', {}, stateBadge(j.state)),
      el('dt', {}, 'Progress'), el('dd', {}, el('progress', { max: 100, value: j.progress.percent, 'aria-label': 'Progress' }), ` ${num(j.progress.percent, 1)} %`),
      el('dt', {}, 'Results'), el('dd', {}, String(j.result_count)),
      j.error ? [el('dt', {}, 'Error'), el('dd', {}, j.error)] : []),
    el('p', { class: 'row' },
      ACTIVE.has(j.state) ? el('button', { type: 'button', class: 'danger', onclick: () => cancel(id, refresh) }, 'Cancel job') : null,
      j.type === 'dedup' ? el('a', { class: 'button', href: `#/review/${encodeURIComponent(id)}` }, 'Review uncertain pairs') : null,
      j.type === 'dedup' ? el('a', { class: 'button', href: `#/model/${encodeURIComponent(id)}` }, 'Model') : null));
    if (ACTIVE.has(j.state)) { timer = setTimeout(refresh, 2000); return; }
    if (shown) return;
    shown = true;
    if (j.type === 'dedup' && j.state === 'succeeded') body.append(clustersBlock(id), pairsBlock(id));
    else if (j.state === 'succeeded') {
      const r = await api(`/api/v1/jobs/${encodeURIComponent(id)}/results?limit=100`);
      body.append(el('h2', {}, 'Results'), el('pre', { class: 'results' }, r.results.map((x) => JSON.stringify(x)).join('\n')));
    }
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}
