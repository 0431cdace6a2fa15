// Review: the job's unlabelled pairs nearest its threshold, side by side, each field
// coloured by its agreement level, with the linkage rule, KcMF's decision and reasoning.
// Match (m), not a match (n) or skip (s): a label goes to POST /api/v1/feedback, then the
// page asks for the review again — the model is refitted with the label, so the label
// count, the pairs and the threshold the labels suggest move at once. The label also
// decides its pair in the tenant's next dedup and link jobs (engine/labels.rs).

import { api, el, num, pct, errorBox } from '/ui/dom.js';

export async function reviewPage(view, id) {
  const stats = el('dl', { class: 'facts', id: 'review-stats', 'aria-live': 'polite' });
  const card = el('div', { id: 'pair' });
  const msg = el('p', { id: 'review-msg', role: 'status' });
  view.append(
    el('h1', {}, 'Review'),
    el('p', { class: 'row' }, el('a', { href: `#/jobs/${encodeURIComponent(id)}` }, '← Job'), el('a', { href: `#/model/${encodeURIComponent(id)}` }, 'Model')),
    stats, msg, card,
    el('p', { class: 'note' }, 'Keys: m = match, n = not a match, s = skip.'),
    el('p', { class: 'note', id: 'review-effect' }, 'A label decides its pair in the next dedup and link jobs of this key (or of its project): a pair marked not a match never ends in one cluster, a match always does. It also refines the model and the later /match answers.'));
  let data = null;
  let queue = [];
  let skipped = new Set();
  let busy = false;
  let previousBest;
  const pairKey = (p) => `${p.left_id}\u0000${p.right_id}`;

  function renderStats() {
    const moved = previousBest !== undefined && previousBest !== data.best_threshold
      ? `${num(previousBest)} → ${num(data.best_threshold)}` : num(data.best_threshold);
    stats.replaceChildren(
      el('dt', {}, 'Labels'), el('dd', { id: 'label-count' }, String(data.labels.entity)),
      el('dt', {}, 'Job threshold'), el('dd', {}, num(data.threshold)),
      el('dt', {}, 'Threshold the labels suggest'), el('dd', { id: 'best-threshold' }, moved),
      el('dt', {}, 'Prior match rate λ'), el('dd', {}, pct(data.model.lambda)),
      el('dt', {}, 'Candidate pairs'), el('dd', {}, `${data.candidate_pairs} (${data.matched_pairs} matched)`));
  }

  function renderPair() {
    const p = queue[0];
    if (!p) {
      card.replaceChildren(el('p', {}, 'No unlabelled pairs left near the threshold.'));
      return;
    }
    const rows = p.fields.map((f) => el('tr', { class: `lvl lvl-${f.agreement}` },
      el('th', { scope: 'row' }, f.name),
      el('td', {}, f.left || '—'),
      el('td', {}, f.right || '—'),
      el('td', {}, el('span', { class: 'chip' }, f.agreement)),
      el('td', { class: 'n' }, num(f.weight, 2))));
    const d = p.decision;
    card.replaceChildren(
      el('h2', {}, `${p.left_id} ↔ ${p.right_id}`),
      el('p', {},
        'Linkage: ', el('strong', {}, p.match ? 'match' : 'not a match'),
        ` · probability ${num(p.probability, 3)} · rule ${p.rule} · KcMF: `,
        el('strong', { id: 'decision' }, d.match ? 'match' : 'not a match'), ` (${num(d.score, 3)}, ${d.rule})`),
      el('div', { class: 'scroll' }, el('table', { class: 'pair' },
        el('caption', { class: 'sr' }, 'The two records field by field, with the agreement level and its weight'),
        el('thead', {}, el('tr', {}, ['Field', p.left_id, p.right_id, 'Agreement', 'Weight'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows))),
      el('div', { class: 'actions', role: 'group', 'aria-label': 'Label this pair' },
        el('button', { type: 'button', id: 'btn-match', class: 'good', 'aria-keyshortcuts': 'm', onclick: () => label(true) }, 'Match (m)'),
        el('button', { type: 'button', id: 'btn-nomatch', class: 'danger', 'aria-keyshortcuts': 'n', onclick: () => label(false) }, 'Not a match (n)'),
        el('button', { type: 'button', id: 'btn-skip', 'aria-keyshortcuts': 's', onclick: () => label(null) }, 'Skip (s)')),
      el('details', {}, el('summary', {}, 'Reasoning'), el('ol', { class: 'reasoning' }, d.reasoning.map((l) => el('li', {}, l)))));
  }

  async function load() {
    data = await api(`/api/v1/jobs/${encodeURIComponent(id)}/review?limit=30`);
    queue = data.pairs.filter((p) => !skipped.has(pairKey(p)));
    renderStats();
    renderPair();
  }

  async function label(isMatch) {
    const p = queue[0];
    if (!p || busy) return;
    busy = true;
    try {
      if (isMatch === null) {
        skipped.add(pairKey(p));
        queue.shift();
        msg.textContent = `Skipped ${p.left_id} ↔ ${p.right_id}.`;
        renderPair();
      } else {
        previousBest = data.best_threshold;
        await api('/api/v1/feedback', { method: 'POST', json: { kind: 'entity', left: p.left, right: p.right, match: isMatch } });
        msg.textContent = `Labelled ${p.left_id} ↔ ${p.right_id} as ${isMatch ? 'a match' : 'not a match'}.`;
        await load();
      }
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    } finally { busy = false; }
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
    const k = ev.key.toLowerCase();
    if (k === 'm') label(true);
    else if (k === 'n') label(false);
    else if (k === 's') label(null);
    else return;
    ev.preventDefault();
  }

  try { await load(); } catch (e) { card.replaceChildren(errorBox(e)); }
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
