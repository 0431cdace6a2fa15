// Model: the fitted m/u per field and agreement level with each level's weight, precision
// and recall of the labels against the threshold, and the match-weight waterfall of any
// of the pairs under review (prior, then each field, then the term-frequency adjustment).

import { api, el, num, bar, chartImage, errorBox } from '/ui/dom.js';

function waterfall(p) {
  const steps = [{ name: 'prior (λ)', w: p.prior }, ...p.fields.map((f) => ({ name: `${f.name} (${f.agreement})`, w: f.weight })), { name: 'term frequencies', w: p.adjustment }];
  const max = Math.max(1, ...steps.map((s) => Math.abs(s.w)));
  let total = 0;
  return el('table', { class: 'waterfall', id: 'waterfall' },
    el('caption', {}, `Match weight of ${p.left_id} ↔ ${p.right_id}: ${num(p.weight)} (probability ${num(p.probability, 3)}; rule ${p.rule})`),
    el('thead', {}, el('tr', {}, ['Step', 'Weight', 'Running total', 'Against | For'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, steps.map((s) => {
      total += s.w;
      return el('tr', {},
        el('th', { scope: 'row' }, s.name), el('td', { class: 'n' }, num(s.w)), el('td', { class: 'n' }, num(total)),
        el('td', { class: 'split' }, el('span', { class: 'neg' }, s.w < 0 ? bar(-s.w / max, 'no') : ''), el('span', { class: 'pos' }, s.w > 0 ? bar(s.w / max, 'yes') : '')));
    })));
}

export async function modelPage(view, id) {
  view.append(el('h1', {}, 'Model'), el('p', { class: 'row' }, el('a', { href: `#/jobs/${encodeURIComponent(id)}` }, '← Job'), el('a', { href: `#/review/${encodeURIComponent(id)}` }, 'Review')));
  let r;
  try { r = await api(`/api/v1/jobs/${encodeURIComponent(id)}/review?limit=50`); } catch (e) { view.append(errorBox(e)); return null; }
  const m = r.model;
  view.append(
    el('p', {}, `λ (prior match rate) ${num(m.lambda, 4)} · EM iterations ${m.iterations} · ${r.labels.entity} labels`),
    ...((m.notes || []).length ? [el('ul', { class: 'note', id: 'model-notes' }, m.notes.map((n) => el('li', {}, n)))] : []),
    el('div', { class: 'scroll' }, el('table', { id: 'mu' },
      el('caption', {}, 'm and u per field and agreement level'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Kind'), m.fields[0] ? m.fields[0].levels.map((l) => el('th', { scope: 'col' }, `${l.name}: m / u / weight`)) : [])),
      el('tbody', {}, m.fields.map((f) => el('tr', {},
        el('th', { scope: 'row' }, f.name), el('td', {}, f.kind),
        f.levels.map((l) => el('td', { class: 'n' }, `${num(l.m, 3)} / ${num(l.u, 3)} / ${num(l.weight, 1)}`))))))));
  const curve = r.curve.filter((c) => Math.round(c.threshold * 100) % 10 === 5 || Math.round(c.threshold * 100) % 10 === 0);
  const prChart = el('div', { id: 'pr-chart' });
  if (r.labelled.length) {
    chartImage(`/api/v1/jobs/${encodeURIComponent(id)}/charts/labels.svg`,
      `Precision, recall and F1 of the ${r.labelled.length} labels by threshold, the job's threshold marked; the numbers are in the table below.`)
      .then((img) => prChart.replaceChildren(img))
      .catch((e) => prChart.replaceChildren(errorBox(e)));
  }
  view.append(el('h2', {}, 'Precision and recall of the labels'), prChart,
    r.labelled.length
      ? el('div', { class: 'scroll' }, el('table', { id: 'pr' },
        el('caption', {}, `${r.labelled.length} labels scored by the model; best threshold ${num(r.best_threshold)}`),
        el('thead', {}, el('tr', {}, ['Threshold', 'Precision', 'Recall'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, curve.map((c) => el('tr', {},
          el('th', { scope: 'row' }, num(c.threshold)), el('td', { class: 'n' }, num(c.precision)), el('td', { class: 'n' }, num(c.recall)))))))
      : el('p', {}, 'No labels yet: label pairs on the Review page.'));
  const holder = el('div');
  const sel = el('select', { id: 'wf-pair' }, r.pairs.map((p, i) => el('option', { value: i }, `${p.left_id} ↔ ${p.right_id} (${num(p.probability, 3)})`)));
  sel.addEventListener('change', () => holder.replaceChildren(waterfall(r.pairs[Number(sel.value)])));
  view.append(el('h2', {}, 'Match-weight waterfall'), el('p', { class: 'row' }, el('label', { for: 'wf-pair' }, 'Pair'), sel), holder);
  if (r.pairs[0]) holder.append(waterfall(r.pairs[0]));
  return null;
}
