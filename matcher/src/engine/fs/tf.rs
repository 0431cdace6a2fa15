//! Term frequencies: agreeing on `smith` or on the largest town says less than agreeing
//! on a rare surname or a village. Counted once over the records, applied per pair on
//! top of the model's field weights. A column of people's whole names is counted word by
//! word as well: a name held once is no rarer than one record in the file, while
//! `charles ichanstone` is as rare as `charles` and `ichanstone` together, as two
//! columns of a given name and a surname tell it.

use std::collections::HashMap;

use super::{FieldSpec, FsModel, Prepared};

/// Term frequencies of the values of each field: agreeing on `smith` or on the largest
/// town says less than agreeing on a rare surname or a village. The exact-agreement
/// weight of a pair is adjusted by `log2(u0 / p_value)`, where `u0` is the field's average
/// chance agreement and `p_value` the share of records holding the value (splink's term
/// frequency adjustment), bounded to ±[`TF_BOUND`] bits.
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    /// Per field: value hash → records holding it.
    counts: Vec<HashMap<u64, u32>>,
    /// Per field: records with a value.
    known: Vec<u32>,
    /// Per field of people's whole names ([`FieldSpec::person_name`]; empty for the
    /// others): word hash → records whose value holds the word.
    words: Vec<HashMap<u64, u32>>,
    /// The clusters of a first round ([`TermFrequencies::with_clusters`]), if any.
    own: Option<OwnClusters>,
}

/// One field's counts, as [`TermFrequencies::count`] gathers them.
#[derive(Debug, Default)]
struct FieldCounts {
    values: HashMap<u64, u32>,
    known: u32,
    words: HashMap<u64, u32>,
}

/// Records of one cluster holding each value: the holders a record's own entity adds.
#[derive(Debug, Clone, Default)]
struct OwnClusters {
    /// Record number → its cluster (`None`: in none).
    cluster_of: Vec<Option<u32>>,
    /// Per field: (cluster, value hash) → records of the cluster holding it.
    held: Vec<HashMap<(u32, u64), u32>>,
}

/// Largest term-frequency adjustment, in bits, either way.
pub const TF_BOUND: f64 = 5.0;

pub(super) fn value_hash(s: &str) -> u64 {
    // FNV-1a: deterministic, and fast enough for a few million short values
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl TermFrequencies {
    /// Counts the values of every field over the records of both sides (one side in
    /// dedup: pass it once), and the words of the fields of people's whole names.
    pub fn count(fields: &[FieldSpec], sides: &[&[Prepared]]) -> Self {
        use rayon::prelude::*;
        let per_field: Vec<FieldCounts> = fields
            .par_iter()
            .enumerate()
            .map(|(f, spec)| {
                let mut c = FieldCounts::default();
                let mut held: Vec<u64> = Vec::new();
                for side in sides {
                    for r in side.iter() {
                        let v = r.value(f);
                        if v.is_empty() {
                            continue;
                        }
                        *c.values.entry(value_hash(v.norm)).or_default() += 1;
                        c.known += 1;
                        if spec.person_name {
                            held.clear();
                            held.extend(v.tokens().map(value_hash));
                            held.sort_unstable();
                            held.dedup();
                            for &w in &held {
                                *c.words.entry(w).or_default() += 1;
                            }
                        }
                    }
                }
                c
            })
            .collect();
        let mut out = Self::default();
        for c in per_field {
            out.counts.push(c.values);
            out.known.push(c.known);
            out.words.push(c.words);
        }
        out
    }

    /// The share of records holding a whole name as likely as its words make it: the
    /// product of each word's share (`None`: not a field of people's whole names, or a
    /// word never counted).
    fn word_share(&self, f: usize, norm: &str, known: u32) -> Option<f64> {
        let words = self.words.get(f).filter(|w| !w.is_empty())?;
        let mut p = 1.0;
        let mut any = false;
        for (k, t) in norm.split(' ').enumerate() {
            // a word twice in a name (`li li`) is counted once, as the records were
            if t.is_empty() || norm.split(' ').take(k).any(|u| u == t) {
                continue;
            }
            p *= f64::from(*words.get(&value_hash(t))?) / f64::from(known);
            any = true;
        }
        any.then_some(p)
    }

    /// These counts, told which records the first round put together (`clusters`: record
    /// numbers of `records`, one file). An entity of many records makes its own name
    /// look common: 425 mentions of one inventor are 3% of the file, and agreeing on the
    /// name then cost bits it should bring. With the clusters known, a value of the
    /// `names` fields is, for a record, as common as the records holding it outside the
    /// record's own cluster (and the record itself): a mention of that inventor meets
    /// only the other holders, a stranger still meets every one
    /// ([`TermFrequencies::pair_adjustment_of`]). Other fields keep their plain counts: a
    /// firm of fifty records at one postcode says nothing of how many other firms are
    /// there (with the postcode counted so, a second firm at it joined the first).
    pub fn with_clusters(
        mut self,
        records: &[Prepared],
        clusters: &[Vec<usize>],
        names: &[usize],
    ) -> Self {
        use rayon::prelude::*;
        let cluster_of = crate::engine::cluster::membership(records.len(), clusters);
        let held = (0..self.counts.len())
            .into_par_iter()
            .map(|f| {
                let mut m: HashMap<(u32, u64), u32> = HashMap::new();
                if !names.contains(&f) {
                    return m;
                }
                for (members, c) in clusters.iter().zip(0u32..) {
                    for &r in members {
                        if let Some(v) = records.get(r).map(|x| x.value(f))
                            && !v.is_empty()
                        {
                            *m.entry((c, value_hash(v.norm))).or_default() += 1;
                        }
                    }
                }
                m
            })
            .collect();
        self.own = Some(OwnClusters { cluster_of, held });
        self
    }

    /// The share of the records with a value in field `f` that hold `norm` (`None`: too
    /// few values counted, or `norm` not among them).
    pub fn share(&self, f: usize, norm: &str) -> Option<f64> {
        let (m, &known) = (self.counts.get(f)?, self.known.get(f)?);
        let &n = m.get(&value_hash(norm))?;
        (known >= 50 && n > 0).then(|| self.rarer_share(f, norm, n, known))
    }

    /// `n` holders of `norm` among the `known` values of field `f` as a share, or the
    /// share its words make ([`Self::word_share`]) when that is smaller. The words are
    /// counted over every record (no cluster's own holders left out): the smaller share
    /// keeps `n` when it is the rarer.
    fn rarer_share(&self, f: usize, norm: &str, n: u32, known: u32) -> f64 {
        let p = f64::from(n) / f64::from(known);
        self.word_share(f, norm, known).map_or(p, |w| p.min(w))
    }

    /// The adjustment (bits) of exact agreement on field `f` with the value `norm`.
    pub fn adjustment(&self, model: &FsModel, f: usize, norm: &str) -> f64 {
        self.adjustment_of(model, f, norm, None)
    }

    /// [`TermFrequencies::adjustment`] of the value `norm` held by record number `record`
    /// (with clusters, the holders in the record's own cluster but itself are not counted).
    fn adjustment_of(&self, model: &FsModel, f: usize, norm: &str, record: Option<usize>) -> f64 {
        let (Some(m), Some(&known)) = (self.counts.get(f), self.known.get(f)) else {
            return 0.0;
        };
        let h = value_hash(norm);
        let Some(&all) = m.get(&h) else {
            return 0.0;
        };
        let own = match (&self.own, record) {
            (Some(o), Some(r)) => o
                .cluster_of
                .get(r)
                .copied()
                .flatten()
                .and_then(|c| o.held.get(f)?.get(&(c, h)))
                .map_or(0, |&k| k.saturating_sub(1)),
            _ => 0,
        };
        let n = all.saturating_sub(own);
        if known < 50 || n == 0 {
            return 0.0;
        }
        let p = self.rarer_share(f, norm, n, known);
        let u0 = model.u.get(f).map_or(0.0, |u| u[0]);
        if u0 <= 0.0 {
            return 0.0;
        }
        (u0 / p).log2().clamp(-TF_BOUND, TF_BOUND)
    }

    /// The adjustments of a pair: over all fields agreeing exactly (or, for names,
    /// closely), and over those not in `skip` (the name fields).
    ///
    /// A close agreement (levels 1 and 2: a typo, a short form) of a common name is
    /// discounted as its exact agreement is (`smieh` / `smith` says as little as `smith`
    /// twice), by the more common of the two values; it is never raised: a rare typo says
    /// nothing about how rare the name meant is. Two product titles naming one model
    /// number, or one worded inside the other, are no typo at all and keep their weight.
    /// Other fields keep their close weights: a venue written two ways is common because
    /// few venues exist, not because the records are strangers.
    ///
    /// `weights` are the pair's field weights as [`FsModel::field_weights`] gives them
    /// (after the dependence correction): a discount never takes an agreeing field below
    /// zero, and of a group of dependent fields ([`FsModel::groups`]) only the agreeing
    /// member of greatest weight is adjusted (a rare town with its coordinates and place
    /// id, each +5 bits, made +19 bits of one fact and matched two inventors of one
    /// given name and different surnames at p 1.0). A town implied by the postcode
    /// already weighs nothing; that it is a big town must not then count against the pair.
    pub fn pair_adjustment(
        &self,
        model: &FsModel,
        a: &Prepared,
        b: &Prepared,
        v: &[u8],
        skip: &[usize],
        weights: &[f64],
    ) -> (f64, f64) {
        self.pair_adjustment_of(model, (a, None), (b, None), v, skip, weights)
    }

    /// [`TermFrequencies::pair_adjustment`] of two records of one file with their record
    /// numbers (which [`TermFrequencies::with_clusters`] needs). Of a value agreeing
    /// exactly, the rarer of the two records' counts is taken: whether a record belongs to
    /// an entity of many records turns on how many records outside that entity hold the
    /// name.
    pub fn pair_adjustment_of(
        &self,
        model: &FsModel,
        (a, ia): (&Prepared, Option<usize>),
        (b, ib): (&Prepared, Option<usize>),
        v: &[u8],
        skip: &[usize],
        weights: &[f64],
    ) -> (f64, f64) {
        if self.counts.is_empty() {
            return (0.0, 0.0);
        }
        let (mut all, mut rest) = (0.0, 0.0);
        let weight = |f: usize| weights.get(f).copied().unwrap_or(0.0);
        for (f, &l) in v.iter().enumerate() {
            let name = skip.contains(&f);
            if l > 2 || (l > 0 && !name) {
                continue;
            }
            // a group of dependent fields (a town, its coordinates and its place id) is one
            // fact: only the member that carries the group's weight is adjusted, once
            if let Some(g) = model.group_of(f) {
                let carrier = g
                    .iter()
                    .copied()
                    .filter(|&h| v.get(h).is_some_and(|&x| x <= 2))
                    .max_by(|&x, &y| weight(x).total_cmp(&weight(y)).then(y.cmp(&x)));
                if carrier.is_some_and(|c| c != f) {
                    continue;
                }
            }
            let floor = -weight(f).max(0.0);
            let (va, vb) = (a.value(f), b.value(f));
            let side_a = self.adjustment_of(model, f, va.norm, ia);
            let side_b = || self.adjustment_of(model, f, vb.norm, ib);
            let adj = if l > 0
                && (super::compare::same_model(va, vb)
                    || (!model.fields.get(f).is_some_and(|s| s.person_name)
                        && super::compare::contains_words(va, vb)))
            {
                // two titles naming one model number, or one worded inside the other with
                // words of its own, are no typo of a common value; a person's whole name
                // with a word more (`john william smith jr`) is the common name still
                0.0
            } else if l > 0 {
                // a close name (levels 1 and 2, names only: see the check above)
                side_a.min(side_b()).min(0.0)
            } else if self.own.is_some() {
                side_a.max(side_b())
            } else {
                side_a
            }
            .max(floor);
            all += adj;
            if !name {
                rest += adj;
            }
        }
        (all, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FieldKind, FieldSpec, FsModel, prepare};
    use super::*;
    use crate::engine::Record;
    use serde_json::json;

    fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_whole_name_of_rare_words_is_rarer_than_one_record_of_the_file() {
        // 400 names: `james` in 100 of them, `smith` in 80; `james smith` and `aurelio
        // ashardow` held once each
        let mut fields = vec![FieldSpec::new("name", FieldKind::Text)];
        fields[0].person_name = true;
        let name = |f: &[FieldSpec], v: &str| prepare(f, &rec(json!({"name": v})));
        let values: Vec<String> = (0..400)
            .map(|i| match i {
                0..100 => format!("james a{i}"),
                100..180 => format!("b{i} smith"),
                _ => format!("c{i} d{i}"),
            })
            .chain(["james smith".to_string(), "aurelio ashardow".to_string()])
            .collect();
        let recs: Vec<Prepared> = values.iter().map(|v| name(&fields, v)).collect();
        let mut m = FsModel::prior(fields.clone());
        m.u[0] = [0.01, 0.01, 0.01, 0.01, 0.96];
        let tf = TermFrequencies::count(&fields, &[recs.as_slice()]);
        let rare = tf.adjustment(&m, 0, "aurelio ashardow");
        let common = tf.adjustment(&m, 0, "james smith");
        // held once, `james smith` is as rare as one record (0.01 / (1/402): +2 bits);
        // `aurelio ashardow` is as rare as its two words together
        assert!((common - (0.01f64 * 402.0).log2()).abs() < 1e-9, "{common}");
        assert!(rare > common + 2.0, "{rare} {common}");
        // a column of anything else is counted by its whole values only
        let plain_fields = vec![FieldSpec::new("name", FieldKind::Text)];
        let plain_recs: Vec<Prepared> = values.iter().map(|v| name(&plain_fields, v)).collect();
        let plain = TermFrequencies::count(&plain_fields, &[plain_recs.as_slice()]);
        let mut pm = FsModel::prior(plain_fields.clone());
        pm.u[0] = m.u[0];
        assert_eq!(
            plain.adjustment(&pm, 0, "aurelio ashardow"),
            plain.adjustment(&pm, 0, "james smith")
        );
    }

    #[test]
    fn a_name_held_by_one_big_cluster_is_as_rare_as_its_other_holders() {
        // 60 records of one person named `yamazaki`, 2 strangers of that name, 400 others
        let fields = [FieldSpec::new("surname", FieldKind::Text)];
        let name = |v: &str| prepare(&fields, &rec(json!({"surname": v})));
        let mut recs: Vec<Prepared> = (0..62).map(|_| name("yamazaki")).collect();
        recs.extend((0..400).map(|i| name(&format!("rare{i}"))));
        let mut m = FsModel::prior(fields.to_vec());
        m.estimate_u(&recs, &recs, 20_000, 3, true);
        let plain = TermFrequencies::count(&fields, &[recs.as_slice()]);
        let common = plain.adjustment(&m, 0, "yamazaki");
        let person: Vec<usize> = (0..60).collect();
        let tf = plain
            .clone()
            .with_clusters(&recs, std::slice::from_ref(&person), &[0]);
        let (name_field, w) = (&[0usize][..], &[9.0][..]);
        let pair = |i: usize, j: usize| {
            tf.pair_adjustment_of(
                &m,
                (&recs[i], Some(i)),
                (&recs[j], Some(j)),
                &[0],
                name_field,
                w,
            )
            .0
        };
        // two mentions of the person: the name is as rare as its 2 other holders (+1)
        let within = pair(0, 1);
        assert!(within > common + 3.0, "{within} vs {common}");
        // a mention and a stranger: the mention's count (the rarer) decides, for the
        // question is whether the stranger is one more mention of the person
        assert_eq!(pair(0, 60), within);
        // two strangers: every holder counts, the person's 60 records too
        assert_eq!(pair(60, 61), common);
        // a field that is no name keeps its plain count
        let other = plain.clone().with_clusters(&recs, &[person], &[]);
        let other = other
            .pair_adjustment_of(&m, (&recs[0], Some(0)), (&recs[1], Some(1)), &[0], &[], w)
            .0;
        assert_eq!(other, common);
        // without record numbers (a link, an API pair), the plain count
        assert_eq!(
            tf.pair_adjustment(&m, &recs[0], &recs[1], &[0], name_field, w)
                .0,
            common
        );
    }

    #[test]
    fn two_titles_naming_one_model_number_are_no_typo_of_a_common_value() {
        // 400 titles held once each, in a field whose sampled chance agreement is under
        // one record's share: a close agreement of two of them reads as common
        let fields = [FieldSpec::new("title", FieldKind::Text)];
        let title = |v: &str| prepare(&fields, &rec(json!({"title": v})));
        let recs: Vec<Prepared> = (0..400)
            .map(|i| title(&format!("netgear prosafe switch fs{}", 1000 + i)))
            .collect();
        let tf = TermFrequencies::count(&fields, &[recs.as_slice()]);
        let mut m = FsModel::prior(fields.to_vec());
        m.u[0] = [0.0005, 0.0001, 0.0001, 0.01, 0.9893];
        let (name_field, w) = (&[0usize][..], &[9.0][..]);
        let close =
            |a: &Prepared, b: &Prepared| tf.pair_adjustment(&m, a, b, &[2], name_field, w).0;
        // the same code, the rest worded apart: no discount
        let other = title("netgear fs1001na ethernet switch");
        assert_eq!(close(&recs[1], &other), 0.0);
        // a close pair with no code in common keeps the discount
        let typo = title("netgear prosafe swtich fs1002");
        assert!(close(&recs[1], &typo) < -1.0, "{}", close(&recs[1], &typo));
        // titles with no code, one worded inside the other: no discount either
        let word = |i: usize| -> String {
            (0..4)
                .map(|k| char::from(b'a' + (i / 26usize.pow(k) % 26) as u8))
                .collect()
        };
        let recs: Vec<Prepared> = (0..400)
            .map(|i| title(&format!("prosafe desktop {} switch", word(i))))
            .collect();
        let tf = TermFrequencies::count(&fields, &[recs.as_slice()]);
        let close =
            |a: &Prepared, b: &Prepared| tf.pair_adjustment(&m, a, b, &[2], name_field, w).0;
        let inside = title(&format!(
            "netgear inc prosafe desktop {} switch kit",
            word(2)
        ));
        assert_eq!(close(&recs[2], &inside), 0.0);
        let typo = title(&format!("prosafe destkop {} switch", word(2)));
        assert!(close(&recs[2], &typo) < -1.0, "{}", close(&recs[2], &typo));
    }

    #[test]
    fn term_frequencies_weigh_common_values_less() {
        let fields = [FieldSpec::new("surname", FieldKind::Text)];
        let mut recs: Vec<Prepared> = Vec::new();
        for i in 0..400 {
            let v = if i % 4 == 0 {
                "smith".to_string()
            } else {
                format!("rare{i}")
            };
            recs.push(prepare(&fields, &rec(json!({"surname": v}))));
        }
        recs.push(prepare(&fields, &rec(json!({"surname": "rare1"}))));
        let mut m = FsModel::prior(fields.to_vec());
        m.estimate_u(&recs, &recs, 20_000, 3, true);
        let tf = TermFrequencies::count(&fields, &[recs.as_slice()]);
        let common = tf.adjustment(&m, 0, "smith");
        let rare = tf.adjustment(&m, 0, "rare1");
        assert!(common < 0.0 && rare > 0.0, "{common} {rare}");
        assert!(rare <= TF_BOUND && common >= -TF_BOUND);
        assert_eq!(
            tf.pair_adjustment(&m, &recs[1], &recs[1], &[4], &[], &[0.0]),
            (0.0, 0.0)
        );
        // a typo of the common name is discounted like the name, when the field is a
        // name (in `skip`); a typo of a rare one is not raised; other fields keep theirs
        let typo = prepare(&fields, &rec(json!({"surname": "smieh"})));
        let (all, rest) = tf.pair_adjustment(&m, &typo, &recs[0], &[2], &[0], &[9.0]);
        assert_eq!((all, rest), (common, 0.0));
        assert_eq!(
            tf.pair_adjustment(&m, &typo, &recs[1], &[2], &[0], &[9.0]),
            (0.0, 0.0)
        );
        assert_eq!(
            tf.pair_adjustment(&m, &typo, &recs[0], &[2], &[], &[9.0]),
            (0.0, 0.0)
        );
        // a common value whose field weighs little after the dependence correction is
        // discounted down to zero, never below
        assert!(common < -1.0, "{common}");
        assert_eq!(
            tf.pair_adjustment(&m, &recs[0], &recs[0], &[0], &[], &[1.0]),
            (-1.0, -1.0)
        );
        assert_eq!(
            tf.pair_adjustment(&m, &recs[0], &recs[0], &[0], &[], &[0.0]),
            (0.0, 0.0)
        );
    }

    #[test]
    fn a_rare_town_with_its_coordinates_and_id_is_raised_once() {
        // three columns of one fact: every record of a town holds the same three values
        let fields = [
            FieldSpec::new("city", FieldKind::Text),
            FieldSpec::new("latitude", FieldKind::Text),
            FieldSpec::new("location_id", FieldKind::Code),
        ];
        let recs: Vec<Prepared> = (0..400)
            .map(|i| {
                let t = if i < 2 { 999 } else { i % 20 };
                let r = json!({"city": format!("town{t}"), "latitude": format!("4{t}.5"),
                    "location_id": format!("L{t:04}")});
                prepare(&fields, &rec(r))
            })
            .collect();
        let mut m = FsModel::prior(fields.to_vec());
        m.estimate_u(&recs, &recs, 20_000, 3, true);
        let tf = TermFrequencies::count(&fields, &[recs.as_slice()]);
        let one = tf.adjustment(&m, 2, recs[0].value(2).norm);
        assert!(one > 2.0, "{one}");
        // the group correction left the place id alone carrying the town
        let weights = [0.0, 0.0, 6.0];
        let (all, _) = tf.pair_adjustment(&m, &recs[0], &recs[1], &[0, 0, 0], &[], &weights);
        assert!(all > 0.0, "{all}");
        let apart = all;
        m.groups = vec![vec![0, 1, 2]];
        let (all, _) = tf.pair_adjustment(&m, &recs[0], &recs[1], &[0, 0, 0], &[], &weights);
        assert_eq!(all, one, "once, by the member carrying the weight");
        assert!(apart > 2.0 * one, "{apart} {one}");
    }
}
