//! Scoring the candidates: each comparison vector's weight (cached per agreement
//! pattern), the term-frequency adjustment, the embedded rules and the evidence a pair
//! brings to clustering.

use super::*;

/// Candidates per parallel task in [`score_all`].
const SCORE_CHUNK: usize = 4096;

/// Log2 odds a decided pair brings to clustering ([`evidence_clusters`]): positive for a
/// match, negative for a non-match, at most 10 either way; a pair whose individual fields
/// conflict (two members of one household) is a strong "no" (-6: still outweighed by the
/// strongest "yes" of a record to another member, so one mistyped given name among three
/// records of one person does not split them).
pub(super) fn edge_evidence(is_match: bool, probability: f64, conflict: bool) -> f32 {
    if conflict && !is_match {
        return CONFLICT_EVIDENCE;
    }
    let p = probability.clamp(1e-6, 1.0 - 1e-6);
    let lo = (p / (1.0 - p)).log2();
    // a plain "no" weighs little: mentions of one person at two employers disagree on
    // most fields, and are still linked through the mentions between them
    if is_match {
        lo.clamp(0.5, 10.0) as f32
    } else {
        lo.clamp(-2.0, -0.5) as f32
    }
}

/// Scores every candidate: the pairs kept (every pair with `keep_all`, else the matches)
/// and, with `want_evidence`, each candidate's [`edge_evidence`] in candidate order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn score_all(
    fields: &[FieldSpec],
    model: &FsModel,
    a: &[Prepared],
    b: &[Prepared],
    cand: &[(u32, u32)],
    flat: &[u8],
    threshold: f64,
    keep_all: bool,
    want_evidence: bool,
    tf: &TermFrequencies,
) -> (Vec<ScoredPair>, Vec<f32>) {
    let nf = fields.len().max(1);
    let names = NameFields::detect(fields)
        .with_close_levels(model)
        .with_given_counts(a.iter().chain(if std::ptr::eq(a, b) { &[][..] } else { b }));
    let catch_all = crate::engine::local::builtin_em()
        .map(|r| r.catch_all().id.clone())
        .unwrap_or_else(|| "V".to_string());
    let cache = PatternWeights::new(model, &names.names, flat, nf, fields.len());
    let eval = |k: usize, i: u32, j: u32| -> (f32, Option<ScoredPair>) {
        let v = &flat[k * nf..k * nf + fields.len()];
        let uncached;
        let (weight, rest_weight, field_weights) = match cache.get(v) {
            Some(w) => w,
            None => {
                uncached = model.field_weights(v);
                (
                    model.weight(v),
                    model.weight_without(v, &names.names),
                    uncached.as_slice(),
                )
            }
        };
        let (x, y) = (&a[i as usize], &b[j as usize]);
        let adj = tf.pair_adjustment_of(
            model,
            (x, Some(i as usize)),
            (y, Some(j as usize)),
            v,
            &names.names,
            field_weights,
        );
        let (weight, rest_weight) = (weight + adj.0, rest_weight + adj.1);
        let p = 1.0 / (1.0 + (-weight).exp2());
        let rest_known = v
            .iter()
            .enumerate()
            .any(|(f, &l)| l != MISSING && !names.names.contains(&f));
        if p < threshold && rest_known && rest_weight < 0.0 {
            // no rule can hold (II and III need the other fields to agree, IV the
            // threshold): the catch-all decides, without building the evidence; whether
            // its individual fields conflict is left to clustering, which asks only of the
            // pairs between two clusters it considers joining (UNCHECKED_NO)
            let ev = if want_evidence {
                UNCHECKED_NO
            } else {
                edge_evidence(false, p, false)
            };
            if !keep_all {
                return (ev, None);
            }
            return (
                ev,
                Some(ScoredPair {
                    left: i as usize,
                    right: j as usize,
                    weight,
                    probability: p,
                    rule: catch_all.clone(),
                    is_match: false,
                }),
            );
        }
        let ev = EmEvidence::compute_adjusted(model, &names, x, y, v, &[], adj);
        let mut d = ev.decide(threshold);
        if d.is_match
            && (lone_common_agreement(model, v, b.len() as f64)
                || common_name_alone(model, tf, &names.names, (x, y), v, b.len() as f64))
        {
            d.is_match = false;
        }
        let evidence = edge_evidence(d.is_match, d.score, ev.individual_conflict);
        let kept = (keep_all || d.is_match).then(|| ScoredPair {
            left: i as usize,
            right: j as usize,
            weight,
            probability: d.score,
            rule: d.rule.to_string(),
            is_match: d.is_match,
        });
        (evidence, kept)
    };
    let parts: Vec<(Vec<f32>, Vec<ScoredPair>)> = cand
        .par_chunks(SCORE_CHUNK)
        .enumerate()
        .map(|(c, cs)| {
            let (mut ev, mut out) = (Vec::new(), Vec::new());
            if want_evidence {
                ev.reserve(cs.len());
            }
            for (k, &(i, j)) in cs.iter().enumerate() {
                let (e, kept) = eval(c * SCORE_CHUNK + k, i, j);
                if want_evidence {
                    ev.push(e);
                }
                out.extend(kept);
            }
            (ev, out)
        })
        .collect();
    let evidence = parts.iter().flat_map(|p| p.0.iter().copied()).collect();
    let pairs = parts.into_iter().flat_map(|p| p.1).collect();
    (pairs, evidence)
}

/// Match weight and weight without the name fields per distinct comparison vector: a few
/// thousand patterns among millions of candidate pairs, so the weights (logarithms, the
/// dependence correction) are computed once per pattern. Vectors are packed 3 bits a level
/// (at most 21 fields; more: no cache).
struct PatternWeights {
    keys: Vec<u64>,
    weights: Vec<(f64, f64)>,
    /// Each pattern's field weights ([`FsModel::field_weights`]), `used` apiece.
    fields: Vec<f64>,
    used: usize,
}

impl PatternWeights {
    const MAX_FIELDS: usize = 21;

    fn key(v: &[u8]) -> Option<u64> {
        if v.len() > Self::MAX_FIELDS {
            return None;
        }
        let mut k = 0u64;
        for &l in v {
            let code = if l == MISSING { 7 } else { u64::from(l.min(6)) };
            k = (k << 3) | code;
        }
        Some(k)
    }

    fn new(model: &FsModel, names: &[usize], flat: &[u8], nf: usize, used: usize) -> Self {
        if used > Self::MAX_FIELDS || used == 0 {
            return Self {
                keys: Vec::new(),
                weights: Vec::new(),
                fields: Vec::new(),
                used,
            };
        }
        // one representative vector per key
        let mut reps: Vec<(u64, usize)> = flat
            .par_chunks(nf)
            .enumerate()
            .filter_map(|(k, v)| Self::key(&v[..used]).map(|key| (key, k)))
            .collect();
        reps.par_sort_unstable_by_key(|r| r.0);
        reps.dedup_by_key(|r| r.0);
        let per: Vec<((f64, f64), Vec<f64>)> = reps
            .par_iter()
            .map(|&(_, k)| {
                let v = &flat[k * nf..k * nf + used];
                (
                    (model.weight(v), model.weight_without(v, names)),
                    model.field_weights(v),
                )
            })
            .collect();
        let mut weights = Vec::with_capacity(per.len());
        let mut fields = Vec::with_capacity(per.len() * used);
        for (w, f) in per {
            weights.push(w);
            fields.extend(f);
        }
        Self {
            keys: reps.into_iter().map(|r| r.0).collect(),
            weights,
            fields,
            used,
        }
    }

    /// The weight, the weight without the names and the field weights of `v`.
    fn get(&self, v: &[u8]) -> Option<(f64, f64, &[f64])> {
        let k = Self::key(v)?;
        let at = self.keys.binary_search(&k).ok()?;
        let (w, rest) = self.weights.get(at).copied()?;
        let fields = self.fields.get(at * self.used..(at + 1) * self.used)?;
        Some((w, rest, fields))
    }
}

/// Records a value may share by chance with the others of its file, at most, for that
/// value alone to make a match ([`lone_common_agreement`]). u comes from random pairs,
/// duplicates among them, so it overstates chance a little: a company name (u × n of
/// 1–5 in the generated company files) must still decide alone, a first or last name
/// (about 20 in Febrl) must not. 2 cost the company files up to 0.003 F1, 8 let a
/// mistyped birth date alone match again.
const LONE_CHANCE: f64 = 4.0;

/// Whether the only evidence for a match in `v` (the one field, or group of dependent
/// fields such as an address's parts, whose level weighs for a match) is a value that
/// each record shares by chance with more than [`LONE_CHANCE`] of the `n` records it is
/// compared with (u × n). Such a pair is no match, whatever its weight.
///
/// Why: u is the chance agreement of two random records, but candidates are not random;
/// blocking chose them for sharing a name. With the other fields missing (a file with a
/// third of its values blank), a pair that shares only a first name such as `brianna`
/// weighed +7.4 bits and matched, though each record shares that name with twenty
/// others. A value rarer than that (a product title, an identity number, a birth date in
/// a small file) still decides alone, and so does any second agreeing field.
fn lone_common_agreement(model: &FsModel, v: &[u8], n: f64) -> bool {
    // each agreeing field, or group, by its first field
    let mut units: Vec<usize> = Vec::new();
    let mut best_u = f64::INFINITY;
    // an age beside a birth date known on both sides is that date read on a day, no
    // second field ([`FsModel::correct_ages`])
    let birth_known = model.births_known(v).next().is_some();
    for (f, &l) in v.iter().enumerate() {
        if l == MISSING || model.level_weight(f, l as usize) <= 0.0 {
            continue;
        }
        if birth_known && model.ages.contains(&f) {
            continue;
        }
        let unit = model.group_of(f).map_or(f, |g| g[0]);
        if !units.contains(&unit) {
            units.push(unit);
        }
        let u = model.u.get(f).map_or(1.0, |u| u[l as usize]);
        best_u = best_u.min(u);
    }
    units.len() == 1 && best_u * n > LONE_CHANCE
}

/// Whether the only evidence for a match in `v` is a name written over several fields
/// (given name and surname) that, taken together, each record shares by chance with more
/// than [`LONE_CHANCE`] of the `n` others: n × the product of each agreeing name
/// field's chance (the share of records holding the value when it agrees exactly; when
/// it agrees closely, a typo or a short form, u of the level or the share of the more
/// common of the two values, whichever is larger). Two `david johnson`s with nothing else
/// known are two people in a file where that name is common; two `aurelio ashardow`s are
/// one; and `jaes dvais` against `james davis` says no more than `james davis` twice (such
/// pairs matched at p 0.97 in a file where one record in ten is a `james`).
fn common_name_alone(
    model: &FsModel,
    tf: &TermFrequencies,
    names: &[usize],
    (x, y): (&Prepared, &Prepared),
    v: &[u8],
    n: f64,
) -> bool {
    let mut chance = n;
    let mut agreeing = 0;
    for (f, &l) in v.iter().enumerate() {
        if l == MISSING || model.level_weight(f, l as usize) <= 0.0 {
            continue;
        }
        if !names.contains(&f) {
            return false;
        }
        agreeing += 1;
        let u = model.u.get(f).map_or(1.0, |u| u[l as usize]);
        let share = match l {
            0 => tf.share(f, x.value(f).norm).unwrap_or(u),
            1 | 2 => {
                let common = |r: &Prepared| tf.share(f, r.value(f).norm).unwrap_or(0.0);
                u.max(common(x)).max(common(y))
            }
            _ => u,
        };
        chance *= share;
    }
    agreeing >= 2 && chance > LONE_CHANCE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::linkage::tests::people;

    #[test]
    fn a_common_full_name_alone_makes_no_match() {
        use crate::engine::fs::{FieldKind, FieldSpec, Prepared};
        let fields: Vec<FieldSpec> = ["first_name", "last_name", "city"]
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect();
        let mut m = FsModel::prior(fields.clone());
        m.m = vec![[0.9, 0.05, 0.03, 0.01, 0.01]; 3];
        m.u = vec![[0.01, 0.002, 0.002, 0.01, 0.976]; 3];
        // 1,000 records: 10% named david, 8% johnson; one aurelio, one ashardow
        let rec = |f: &str, l: &str| Prepared::from_raw([f, l, ""]);
        let mut recs: Vec<Prepared> = (0..1000)
            .map(|i| {
                let f = if i < 100 { "david" } else { "x" };
                let l = if (900..980).contains(&i) {
                    "johnson"
                } else {
                    "y"
                };
                rec(f, l)
            })
            .collect();
        recs.push(rec("aurelio", "ashardow"));
        let tf = TermFrequencies::count(&fields, &[&recs]);
        let names = [0, 1];
        let n = recs.len() as f64;
        let both = [0, 0, MISSING];
        // n × 10% × 8% = 8 chance namesakes
        assert!(common_name_alone(
            &m,
            &tf,
            &names,
            (&rec("david", "johnson"), &rec("david", "johnson")),
            &both,
            n
        ));
        assert!(!common_name_alone(
            &m,
            &tf,
            &names,
            (&rec("aurelio", "ashardow"), &rec("aurelio", "ashardow")),
            &both,
            n
        ));
        // anything beyond the name agreeing decides as before
        assert!(!common_name_alone(
            &m,
            &tf,
            &names,
            (&rec("david", "johnson"), &rec("david", "johnson")),
            &[0, 0, 0],
            n
        ));
        // a typo of each part of a common name is that name (the more common value's
        // share), not a rare agreement; of a rare name it stays rare (u of the level)
        let close = [1, 1, MISSING];
        assert!(common_name_alone(
            &m,
            &tf,
            &names,
            (&rec("dvaid", "jonhson"), &rec("david", "johnson")),
            &close,
            n
        ));
        assert!(!common_name_alone(
            &m,
            &tf,
            &names,
            (&rec("aurelio", "ashardow"), &rec("aurelo", "ashardwo")),
            &close,
            n
        ));
        // one name field alone is the lone-value rule's
        assert!(!common_name_alone(
            &m,
            &tf,
            &names,
            (&rec("david", "johnson"), &rec("david", "johnson")),
            &[0, MISSING, MISSING],
            n
        ));
    }

    #[test]
    fn a_common_value_alone_makes_no_match() {
        use crate::engine::fs::{FieldKind, FieldSpec, LEVELS};
        let fields: Vec<FieldSpec> = ["first_name", "title", "dob"]
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect();
        let mut m = FsModel::prior(fields.clone());
        m.m = vec![[0.9, 0.05, 0.03, 0.01, 0.01]; 3];
        // a first name two random records share once in 250, a title once in 100,000
        m.u = vec![
            [0.004, 0.002, 0.002, 0.01, 0.982],
            [0.00001, 0.00001, 0.0001, 0.001, 0.99888],
            [0.001, 0.001, 0.001, 0.01, 0.987],
        ];
        let far = (LEVELS - 1) as u8;
        // among 5,000 records, a shared first name alone: twenty chance namesakes each
        assert!(lone_common_agreement(&m, &[0, MISSING, MISSING], 5000.0));
        // a title alone is specific; so is the name with a second agreeing field
        assert!(!lone_common_agreement(&m, &[MISSING, 0, MISSING], 5000.0));
        assert!(!lone_common_agreement(&m, &[0, MISSING, 0], 5000.0));
        // a disagreeing field adds nothing; in a small file the name is specific enough
        assert!(lone_common_agreement(&m, &[0, far, MISSING], 5000.0));
        assert!(!lone_common_agreement(&m, &[0, far, MISSING], 100.0));
    }

    #[test]
    fn pattern_weights_equal_the_model_weights() {
        let (l, _) = people();
        let fields = infer_fields(l.iter());
        let a: Vec<Prepared> = l.iter().map(|r| prepare(&fields, r)).collect();
        let mut model = FsModel::prior(fields.clone());
        model.estimate_u(&a, &a, 2000, 1, true);
        let nf = fields.len();
        let flat: Vec<u8> = (0..a.len() - 1)
            .flat_map(|i| compare(&fields, &a[i], &a[i + 1]))
            .chain([0, MISSING, 4, 1])
            .collect();
        let names = [1usize];
        let cache = PatternWeights::new(&model, &names, &flat, nf, nf);
        for v in flat.chunks(nf) {
            let got = cache.get(v).map(|(w, r, f)| (w, r, f.to_vec()));
            let want = (
                model.weight(v),
                model.weight_without(v, &names),
                model.field_weights(v),
            );
            assert_eq!(got, Some(want), "{v:?}");
        }
        assert_eq!(cache.get(&[9; 22]), None);
    }
}
