// Schema: the source × target column matrix from POST /api/v1/match/schema, each matched
// cell with its score and deciding rule; accept or reject a matched pair → feedback
// (a schema example of this key).

import { api, el, num, errorBox } from '/ui/dom.js';

function columns(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean).map((s) => {
    const [name, type] = s.split(':').map((x) => x.trim());
    return type ? { name, type } : { name };
  });
}

export async function schemaPage(view) {
  const src = el('textarea', { id: 'src-cols', rows: 5 }, 'cust_name\nbirth_date:date\nzip');
  const tgt = el('textarea', { id: 'tgt-cols', rows: 5 }, 'client_name\ndob:date\npostcode');
  const thr = el('input', { id: 'sm-threshold', type: 'number', min: 0, max: 1, step: 0.05, value: 0.5 });
  const out = el('div', { id: 'matrix' });
  const msg = el('p', { role: 'status' });
  const form = el('form', { class: 'grid2' },
    el('div', {}, el('label', { for: 'src-cols' }, 'Source columns (one per line, name or name:type)'), src),
    el('div', {}, el('label', { for: 'tgt-cols' }, 'Target columns'), tgt),
    el('div', { class: 'row' }, el('label', { for: 'sm-threshold' }, 'Threshold'), thr, el('button', { type: 'submit' }, 'Match columns')));
  view.append(el('h1', {}, 'Schema'), form, msg, out);

  async function feedback(m, ok) {
    try {
      await api('/api/v1/feedback', { method: 'POST', json: { kind: 'schema', source: m.source, target: m.target, match: ok } });
      msg.textContent = `${ok ? 'Accepted' : 'Rejected'} ${m.source} → ${m.target}; later schema matching of this key uses it.`;
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = columns(src.value);
    const t = columns(tgt.value);
    let r;
    try {
      r = await api('/api/v1/match/schema', { method: 'POST', json: { source: { name: 'source', columns: s }, target: { name: 'target', columns: t }, options: { threshold: Number(thr.value) } } });
    } catch (e) { out.replaceChildren(errorBox(e)); return; }
    const at = new Map(r.matches.map((m) => [`${m.source}\u0000${m.target}`, m]));
    out.replaceChildren(el('div', { class: 'scroll' }, el('table', { class: 'matrix' },
      el('caption', {}, `${r.matches.length} column pairs matched`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Source \\ target'), t.map((c) => el('th', { scope: 'col' }, c.name)))),
      el('tbody', {}, s.map((sc) => el('tr', {}, el('th', { scope: 'row' }, sc.name), t.map((tc) => {
        const m = at.get(`${sc.name}\u0000${tc.name}`);
        if (!m) return el('td', { class: 'empty' }, '·');
        return el('td', { class: 'hit' },
          el('strong', {}, num(m.score)), ` rule ${m.rule} `,
          el('button', { type: 'button', class: 'good small', 'aria-label': `Accept ${m.source} → ${m.target}`, onclick: () => feedback(m, true) }, 'Accept'),
          el('button', { type: 'button', class: 'danger small', 'aria-label': `Reject ${m.source} → ${m.target}`, onclick: () => feedback(m, false) }, 'Reject'));
      })))))));
  });
  return null;
}
