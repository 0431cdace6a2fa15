//! Linking two record sets and deduplicating one, at scale: blocking → comparison
//! vectors (parallel, rayon) → Fellegi–Sunter weights by EM → the embedded KcMF rules on
//! the scored pairs → optional one-to-one assignment (link) or clustering (dedup).
//!
//! These are the functions batch jobs call; they work on record numbers and never
//! build an all-pairs matrix.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::assign::one_to_one;
use super::blocking::{
    BigBlocks, BlockingOptions, dedup_candidates_and_big, link_candidates, link_rare_candidates,
};
pub use super::cluster::{
    CONFLICT_EVIDENCE, Constraints, FULL_EVIDENCE, UNCHECKED_NO, capped_clusters,
    capped_clusters_with, clusters, evidence_clusters, evidence_clusters_with,
};
use super::fs::{
    FieldSpec, FsModel, MISSING, Prepared, TermFrequencies, compare, compare_into, infer_fields,
    prepare,
};
use super::labels::{self, LABEL_NO, LABEL_YES, LabelledPairs};
use super::local::{EmEvidence, NameFields};
use super::{EntityExample, Record};

/// Fewer candidate pairs than this: the m-probabilities stay at their priors.
pub const MIN_EM_PAIRS: usize = 50;

/// Options of [`link`] and [`dedup`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkOptions {
    pub blocking: BlockingOptions,
    /// Match probability at or above which a pair is a match.
    pub threshold: f64,
    /// How many matches a record may have on the other side (link only).
    #[serde(default)]
    pub assignment: Assignment,
    pub em_iterations: usize,
    /// Random pairs drawn to estimate u-probabilities.
    pub u_samples: usize,
    pub seed: u64,
    /// Dedup: no cluster grows beyond this many records (0, the default: no limit; see
    /// [`capped_clusters`] for why one weak link cannot chain two groups without one).
    #[serde(default = "default_max_cluster")]
    pub max_cluster_size: usize,
    /// Dedup: a stricter threshold that splits clusters (`None`: off). Pairs at or above it
    /// form the clusters; a pair between `threshold` and it may only add a lone record to
    /// such a cluster: it never joins two clusters (one weak link does not merge two
    /// groups) nor two lone records.
    #[serde(default)]
    pub split_threshold: Option<f64>,
    /// Link: the columns to compare, as (left, right) column names; `None`: aligned by
    /// the schema matcher ([`super::align`]).
    #[serde(default)]
    pub column_map: Option<Vec<(String, String)>>,
    /// Dedup: also return the blocked candidate pairs (evaluation measures blocking recall
    /// on them; a million records give millions, so off by default).
    #[serde(default)]
    pub keep_candidates: bool,
    /// Dedup, with [`Self::keep_candidates`]: also return each candidate's match
    /// probability ([`DedupOutput::candidate_scores`]; `eval dedup --report` draws its
    /// precision/recall curve from them). Every scored pair is kept until then, so off by
    /// default.
    #[serde(default)]
    pub keep_scores: bool,
}

fn default_max_cluster() -> usize {
    DEFAULT_MAX_CLUSTER
}

/// Default [`LinkOptions::max_cluster_size`].
pub const DEFAULT_MAX_CLUSTER: usize = 0;

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            blocking: BlockingOptions::default(),
            threshold: 0.85,
            assignment: Assignment::Auto,
            em_iterations: 30,
            u_samples: 20_000,
            seed: 42,
            max_cluster_size: DEFAULT_MAX_CLUSTER,
            split_threshold: None,
            column_map: None,
            keep_candidates: false,
            keep_scores: false,
        }
    }
}

/// How many matches a record of a link may keep on the other side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    /// One match per record, best first, except on a side that repeats its entities
    /// ([`repeats_records`]: tax forms, visits): there a record keeps the further matches
    /// that are duplicates of its best one ([`same_side_duplicates`]: a census row and
    /// each of that person's forms), or sure matches in their own right (probability
    /// ≥ [`SAME_SIDE_SURE`]: a form whose given name is garbled beyond a typo is no
    /// duplicate of the person's other forms, yet its address, birth date and surname
    /// leave no doubt; 0.9855 -> 0.9879 on person_tax_link). A side of one record per
    /// entity stays one-to-one, and two near-identical but different records (twins, two
    /// of one name at one address) never count as duplicates.
    #[default]
    Auto,
    /// At most one match per record on each side.
    OneToOne,
    /// Every pair at or above the threshold.
    ManyToMany,
}

impl Assignment {
    /// From the command line's `--one-to-one` / `--many-to-many` (neither: auto).
    pub fn from_flags(one_to_one: bool, many_to_many: bool) -> Self {
        match (one_to_one, many_to_many) {
            (true, _) => Self::OneToOne,
            (false, true) => Self::ManyToMany,
            (false, false) => Self::Auto,
        }
    }
}

/// A scored candidate pair (record numbers into the inputs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    pub left: usize,
    pub right: usize,
    /// Fellegi–Sunter match weight (log2 odds).
    pub weight: f64,
    /// Match probability after the rules (1 for a pair decided by rule II/III).
    pub probability: f64,
    /// Roman id of the deciding rule.
    pub rule: String,
    pub is_match: bool,
}

/// Result of [`link`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkOutput {
    pub fields: Vec<FieldSpec>,
    pub model: FsModel,
    pub candidate_pairs: usize,
    /// Every scored candidate pair, matched or not, in candidate order ([`link`]); only
    /// the matched ones ([`dedup`]).
    pub pairs: Vec<ScoredPair>,
    /// The fields compared ([`link`]: left and right column(s) of each, and the schema
    /// matcher's score; empty for [`dedup`]).
    #[serde(default)]
    pub alignment: Vec<super::align::AlignedPair>,
    /// How many of the examples named pairs of the input and decided them
    /// ([`super::labels`]).
    #[serde(default)]
    pub labels_used: usize,
    /// The right-hand fields [`Self::fields`] are compared with ([`link`]; empty for
    /// [`dedup`], which compares the fields with themselves).
    #[serde(skip)]
    pub right_fields: Vec<FieldSpec>,
}

impl LinkOutput {
    /// The matched pairs.
    pub fn matches(&self) -> impl Iterator<Item = &ScoredPair> {
        self.pairs.iter().filter(|p| p.is_match)
    }

    /// Why a pair scored as it did: each field's agreement level ([`super::fs::MISSING`]
    /// when a side lacks it) and its weight in the model, before term frequencies.
    pub fn explain_pair(&self, left: &Record, right: &Record) -> Vec<(u8, f64)> {
        let right_fields = if self.right_fields.is_empty() {
            &self.fields
        } else {
            &self.right_fields
        };
        let (a, b) = (prepare(&self.fields, left), prepare(right_fields, right));
        let levels = compare(&self.fields, &a, &b);
        let weights = self.model.field_weights(&levels);
        levels.into_iter().zip(weights).collect()
    }
}

/// Result of [`dedup`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupOutput {
    pub link: LinkOutput,
    /// Clusters (record numbers, sorted) with more than one member, sorted.
    pub clusters: Vec<Vec<usize>>,
    /// The blocked candidate pairs, when [`LinkOptions::keep_candidates`] (else empty).
    pub candidates: Vec<(u32, u32)>,
    /// The match probability of each of [`Self::candidates`] (same order), when
    /// [`LinkOptions::keep_scores`] (else empty).
    #[serde(default)]
    pub candidate_scores: Vec<f64>,
    /// The pairs the examples decided ([`super::labels`]), for clustering done elsewhere
    /// (the LLM-backed dedup).
    #[serde(skip)]
    pub labels: LabelledPairs,
}

pub(super) fn vectors(
    fields: &[FieldSpec],
    a: &[Prepared],
    b: &[Prepared],
    cand: &[(u32, u32)],
) -> Vec<u8> {
    let nf = fields.len().max(1);
    let mut flat = vec![0u8; cand.len() * nf];
    flat.par_chunks_mut(nf)
        .zip(cand.par_iter())
        .for_each(|(out, &(i, j))| compare_into(fields, &a[i as usize], &b[j as usize], out));
    flat
}

pub(super) fn examples_vectors(
    fields: &[FieldSpec],
    right_fields: &[FieldSpec],
    examples: &[EntityExample],
) -> Vec<(Vec<u8>, bool)> {
    examples
        .iter()
        .map(|e| {
            (
                compare(
                    fields,
                    &prepare(fields, &e.left),
                    &prepare(right_fields, &e.right),
                ),
                e.is_match,
            )
        })
        .collect()
}

/// Candidates per parallel task in [`score_all`].
const SCORE_CHUNK: usize = 4096;

/// Log2 odds a decided pair brings to clustering ([`evidence_clusters`]): positive for a
/// match, negative for a non-match, at most 10 either way; a pair whose individual fields
/// conflict (two members of one household) is a strong "no" (-6: still outweighed by the
/// strongest "yes" of a record to another member, so one mistyped given name among three
/// records of one person does not split them).
fn edge_evidence(is_match: bool, probability: f64, conflict: bool) -> f32 {
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
pub(super) fn score_all(
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
    let names = NameFields::detect(fields);
    let catch_all = super::local::builtin_em()
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

/// Whether a side of a link holds one entity several times: at least 1% of its records
/// (and 3) repeat another's values in every compared field. A file of one record per
/// entity (a register, a catalogue) has next to none, so it stays one-to-one whatever
/// the model would say of two similar records in it; a file of events (tax forms,
/// visits, orders) repeats its people.
fn repeats_records(recs: &[Prepared]) -> bool {
    let mut seen: HashMap<Vec<&str>, u32> = HashMap::new();
    for r in recs {
        let key: Vec<&str> = r.values().map(|v| v.norm).collect();
        if key.iter().filter(|v| !v.is_empty()).count() >= 2 {
            *seen.entry(key).or_insert(0) += 1;
        }
    }
    let repeated: usize = seen.values().filter(|&&c| c > 1).map(|&c| c as usize).sum();
    repeated >= 3 && repeated * 100 >= recs.len()
}

/// Match probability two records of one side need to count as duplicates of each other
/// ([`Assignment::Auto`]): far above the link threshold, because the model was fitted
/// on pairs across the sides and a wrongly kept extra match costs precision.
const SAME_SIDE_SURE: f64 = 0.99;

/// Whether two records of one side of a link are duplicates: the model and rules match
/// them at [`SAME_SIDE_SURE`], and no name or individual field (given name, birth date,
/// identity number, e-mail) known on both disagrees outright — two of a household share
/// the surname and address, and one date of birth apart tells them apart.
fn same_side_duplicates(
    fields: &[FieldSpec],
    model: &FsModel,
    names: &NameFields,
    x: &Prepared,
    y: &Prepared,
) -> bool {
    const OUTRIGHT: u8 = 4;
    let v = compare(fields, x, y);
    let identity = names
        .names
        .iter()
        .copied()
        .chain(names.individual.iter().map(|f| f.0));
    if identity.into_iter().any(|f| v[f] == OUTRIGHT) {
        return false;
    }
    EmEvidence::compute(model, names, x, y, &v, &[])
        .decide(SAME_SIDE_SURE)
        .is_match
}

/// Links `left` to `right`: returns every blocked candidate pair with its score and
/// decision. The columns are aligned first ([`super::align`], or `opts.column_map`);
/// `examples` (labelled pairs) refine the unsupervised weights.
pub fn link(
    left: &[Record],
    right: &[Record],
    examples: &[EntityExample],
    opts: &LinkOptions,
) -> Result<LinkOutput, super::EngineError> {
    let t0 = std::time::Instant::now();
    let aligned = super::align::align(left, right, opts.column_map.as_deref())?;
    let (mut fields, mut right_fields, mut alignment) =
        (aligned.left, aligned.right, aligned.pairs);
    let mut a: Vec<Prepared> = left.par_iter().map(|r| prepare(&fields, r)).collect();
    let mut b: Vec<Prepared> = right
        .par_iter()
        .map(|r| prepare(&right_fields, r))
        .collect();
    let t1 = t0.elapsed();
    let mut cand = link_candidates(&fields, &a, &b, &opts.blocking);
    let t2 = t0.elapsed();
    let mut flat = vectors(&fields, &a, &b, &cand);
    let t3 = t0.elapsed();
    let labelled = examples_vectors(&fields, &right_fields, examples);
    let mut model = fit(&fields, &a, &b, &flat, &labelled, opts, false);
    if let Some(m) = Unrelated::find(&model, &flat, &fields) {
        fields = m.fields(&fields);
        right_fields = m.fields(&right_fields);
        alignment = m.keep.iter().map(|&k| alignment[k].clone()).collect();
        a = m.records(&a);
        b = m.records(&b);
        flat = m.vectors(&flat);
        let labelled = examples_vectors(&fields, &right_fields, examples);
        model = fit(&fields, &a, &b, &flat, &labelled, opts, false);
        model.unrelated = m.names;
    }
    // the rare-token pairs are scored by the model fitted without them
    let extra: Vec<(u32, u32)> = link_rare_candidates(&fields, &a, &b, &opts.blocking)
        .into_iter()
        .filter(|p| cand.binary_search(p).is_err())
        .collect();
    add_candidates(&fields, &a, &b, extra, &mut cand, &mut flat);
    let t4 = t0.elapsed();
    let tf = TermFrequencies::count(fields.len(), &[&a, &b]);
    let (mut pairs, _) = score_all(
        &fields,
        &model,
        &a,
        &b,
        &cand,
        &flat,
        opts.threshold,
        true,
        false,
        &tf,
    );
    let t5 = t0.elapsed();
    tracing::debug!(prepare = ?t1, block = ?t2, vectors = ?t3, fit = ?t4, score = ?t5, candidates = cand.len(), "link timings (cumulative)");
    let labelled = labels::link_labels(&fields, &right_fields, &a, &b, examples);
    labelled.apply(&mut pairs, false, |i, j| {
        model.weight(&compare(&fields, &a[i], &b[j]))
    });
    match opts.assignment {
        Assignment::ManyToMany => {}
        Assignment::OneToOne => one_to_one(&mut pairs, true, |_, _, _, _| false),
        Assignment::Auto => {
            let names = NameFields::detect(&fields);
            let dup = [repeats_records(&a), repeats_records(&b)];
            one_to_one(&mut pairs, !dup[0] && !dup[1], |side, x, y, p| {
                let recs = if side == 0 { &a } else { &b };
                dup[side]
                    && (p >= SAME_SIDE_SURE
                        || same_side_duplicates(&fields, &model, &names, &recs[x], &recs[y]))
            });
        }
    }
    Ok(LinkOutput {
        fields,
        model,
        candidate_pairs: cand.len(),
        pairs,
        alignment,
        labels_used: labelled.used,
        right_fields,
    })
}

/// The columns [`super::relevance`] leaves out of a comparison, and how to drop them from
/// the fields, the prepared records and the candidates' vectors alike.
pub(super) struct Unrelated {
    /// The fields kept, in order.
    pub(super) keep: Vec<usize>,
    /// The names of those left out.
    pub(super) names: Vec<String>,
    /// How many fields there were.
    width: usize,
}

impl Unrelated {
    /// `None` when every field is related (nothing to drop).
    pub(super) fn find(model: &FsModel, flat: &[u8], fields: &[FieldSpec]) -> Option<Self> {
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let out = super::relevance::unrelated(&names, &model.u, flat);
        if out.is_empty() || out.len() >= fields.len() {
            return None;
        }
        Some(Self {
            keep: (0..fields.len()).filter(|f| !out.contains(f)).collect(),
            names: out.iter().map(|&f| fields[f].name.clone()).collect(),
            width: fields.len(),
        })
    }

    pub(super) fn fields(&self, fields: &[FieldSpec]) -> Vec<FieldSpec> {
        self.keep.iter().map(|&f| fields[f].clone()).collect()
    }

    pub(super) fn records(&self, records: &[Prepared]) -> Vec<Prepared> {
        records.par_iter().map(|p| p.project(&self.keep)).collect()
    }

    /// A dedup's fields, records and candidates' vectors without the unrelated columns,
    /// and the model fitted on them (naming the columns left out).
    pub(super) fn refit_dedup(
        self,
        fields: &[FieldSpec],
        a: &[Prepared],
        flat: &[u8],
        examples: &[EntityExample],
        opts: &LinkOptions,
    ) -> (Vec<FieldSpec>, Vec<Prepared>, Vec<u8>, FsModel) {
        let (fields, a, flat) = (self.fields(fields), self.records(a), self.vectors(flat));
        let labelled = examples_vectors(&fields, &fields, examples);
        let mut model = fit(&fields, &a, &a, &flat, &labelled, opts, true);
        model.unrelated = self.names;
        (fields, a, flat, model)
    }

    pub(super) fn vectors(&self, flat: &[u8]) -> Vec<u8> {
        flat.chunks(self.width)
            .flat_map(|v| self.keep.iter().map(|&f| v[f]))
            .collect()
    }
}

/// Appends candidates found after the fit (scored by it, never fitted on) to `cand`
/// and their comparison vectors to `flat`.
fn add_candidates(
    fields: &[FieldSpec],
    a: &[Prepared],
    b: &[Prepared],
    extra: Vec<(u32, u32)>,
    cand: &mut Vec<(u32, u32)>,
    flat: &mut Vec<u8>,
) {
    if !extra.is_empty() {
        flat.extend(vectors(fields, a, b, &extra));
        cand.extend(extra);
    }
}

pub(super) fn fit(
    fields: &[FieldSpec],
    a: &[Prepared],
    b: &[Prepared],
    flat: &[u8],
    labelled: &[(Vec<u8>, bool)],
    opts: &LinkOptions,
    same_set: bool,
) -> FsModel {
    let nf = fields.len().max(1);
    let mut m_pairs = 10.0;
    let mut model = FsModel::prior(fields.to_vec());
    let detected = NameFields::detect(fields);
    model.individual = detected.individual;
    model.names = detected.names;
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    model.groups = super::lexicon::dependency_groups(&names);
    model.estimate_u(a, b, opts.u_samples, opts.seed, same_set);
    if flat.len() / nf >= MIN_EM_PAIRS && !fields.is_empty() {
        // at most one match per record of the smaller side (link), about one per record
        // (dedup): bounds the prior so EM cannot take a frequent agreement pattern
        // (same city, same type) for the match class
        let cands = (flat.len() / nf).max(1) as f64;
        let most = if same_set {
            a.len() as f64
        } else {
            a.len().min(b.len()) as f64
        };
        model.estimate_m(flat.chunks(nf), opts.em_iterations, (most / cands).min(0.9));
        m_pairs = (model.lambda * cands).max(m_pairs);
        // u again, without the random pairs the fitted model takes for matches
        let fitted = model.clone();
        model.groups = super::lexicon::dependency_groups(&names);
        model.estimate_u_without(a, b, opts.u_samples, opts.seed, same_set, &|v| {
            fitted.probability(v) >= 0.5
        });
    }
    // The labels count as what they are, a few more pairs of their class, against the
    // pairs each estimate rests on: u on the random pairs drawn, m on the matches EM
    // found among the candidates. A labelled pair is hand-picked (a hard case near the
    // threshold, twins that agree on everything): weighed as ten pairs, one "not a match"
    // on two identical-looking records made agreement look common among non-matches and
    // undid every match of the run. The pairs the labels name are decided by them instead
    // ([`super::labels`]).
    let u_pairs = a.len().saturating_mul(b.len()).min(opts.u_samples).max(10) as f64;
    model.refine_against(labelled, 1.0, m_pairs, u_pairs);
    model
}

/// Deduplicates `records`: the matched pairs and their clusters (connected components).
pub fn dedup(records: &[Record], examples: &[EntityExample], opts: &LinkOptions) -> DedupOutput {
    let fields = infer_fields(records.iter());
    let a: Vec<Prepared> = records.par_iter().map(|r| prepare(&fields, r)).collect();
    dedup_prepared(fields, &a, examples, opts)
}

/// [`dedup`] on records already prepared against `fields` (large inputs are read straight
/// into this compact form). Only matched pairs are kept (`link.pairs`); a million records
/// give millions of candidates, and the rest only ever counted.
pub fn dedup_prepared(
    fields: Vec<FieldSpec>,
    a: &[Prepared],
    examples: &[EntityExample],
    opts: &LinkOptions,
) -> DedupOutput {
    let t0 = std::time::Instant::now();
    let (mut cand, big) = dedup_candidates_and_big(&fields, a, &opts.blocking);
    let blocked = cand.len();
    let t1 = t0.elapsed();
    let mut flat = vectors(&fields, a, a, &cand);
    let t2 = t0.elapsed();
    let labelled = examples_vectors(&fields, &fields, examples);
    let mut model = fit(&fields, a, a, &flat, &labelled, opts, true);
    let (mut fields, mut a) = (fields, a);
    let projected: Vec<Prepared>;
    if let Some(m) = Unrelated::find(&model, &flat, &fields) {
        let refit = m.refit_dedup(&fields, a, &flat, examples, opts);
        (fields, projected, flat, model) = refit;
        a = &projected;
    }
    let forced = labels::dedup_labels(&fields, a, examples);
    let extra = entity_blocks(&fields, &model, a, &big, &cand, opts.threshold);
    add_candidates(&fields, a, a, extra, &mut cand, &mut flat);
    let t3 = t0.elapsed();
    if tracing::enabled!(tracing::Level::TRACE) {
        for (f, spec) in fields.iter().enumerate() {
            tracing::trace!(field = %spec.name, m = ?model.m[f], u = ?model.u[f], "dedup model");
        }
        tracing::trace!(
            lambda = model.lambda,
            iterations = model.iterations,
            "dedup model"
        );
    }
    let tf = TermFrequencies::count(fields.len(), &[a]);
    let keep_scores = opts.keep_candidates && opts.keep_scores;
    let scoring = Scoring {
        fields: &fields,
        model: &model,
        a,
        cand: &cand,
        flat: &flat,
        blocked,
        forced: &forced,
        opts,
        keep_scores,
    };
    let mut round = scoring.round(&tf);
    // An entity of many records makes its own name look common: 425 mentions of one
    // inventor are 3% of the file, and agreeing on the name then costs bits it should
    // bring. Counted again with each cluster holding a value once, the name is as rare
    // as the people who hold it, and the pairs are scored once more.
    if round.clusters.iter().map(Vec::len).max().unwrap_or(0) >= HEAVY_CLUSTER {
        let tf = tf.with_clusters(a, &round.clusters);
        round = scoring.round(&tf);
    }
    let Round {
        pairs,
        candidate_scores,
        clusters,
    } = round;
    let candidate_pairs = cand.len();
    let t4 = t0.elapsed();
    drop(flat);
    let candidates = if opts.keep_candidates {
        cand
    } else {
        Vec::new()
    };
    tracing::debug!(block = ?t1, vectors = ?t2, fit = ?t3, score_and_cluster = ?t4, candidates = candidate_pairs, "dedup timings (cumulative)");
    DedupOutput {
        link: LinkOutput {
            fields,
            model,
            candidate_pairs,
            pairs,
            alignment: Vec::new(),
            labels_used: forced.used,
            right_fields: Vec::new(),
        },
        clusters,
        candidates,
        candidate_scores,
        labels: forced,
    }
}

/// Records in the largest cluster from which term frequencies are counted again, once per
/// cluster ([`TermFrequencies::count_clustered`]).
const HEAVY_CLUSTER: usize = 20;

/// What scoring and clustering a dedup's candidates read: the fitted model, the
/// candidates with their comparison vectors, the labels.
struct Scoring<'a> {
    fields: &'a [FieldSpec],
    model: &'a FsModel,
    a: &'a [Prepared],
    cand: &'a [(u32, u32)],
    flat: &'a [u8],
    blocked: usize,
    forced: &'a LabelledPairs,
    opts: &'a LinkOptions,
    keep_scores: bool,
}

/// One round of [`Scoring::round`]: the matched pairs, every candidate's probability
/// (when asked for) and the clusters.
struct Round {
    pairs: Vec<ScoredPair>,
    candidate_scores: Vec<f64>,
    clusters: Vec<Vec<usize>>,
}

impl Scoring<'_> {
    /// Scores every candidate with the term frequencies `tf`, applies the labels and
    /// clusters the matches.
    fn round(&self, tf: &TermFrequencies) -> Round {
        let (fields, model, a, opts) = (self.fields, self.model, self.a, self.opts);
        let (mut pairs, mut evidence) = score_all(
            fields,
            model,
            a,
            a,
            self.cand,
            self.flat,
            opts.threshold,
            self.keep_scores,
            true,
            tf,
        );
        // every pair is kept (in candidate order) only when the scores are asked for;
        // clustering takes the matched ones either way
        let candidate_scores: Vec<f64> = if self.keep_scores {
            pairs.iter().map(|p| p.probability).collect()
        } else {
            Vec::new()
        };
        self.forced.apply(&mut pairs, true, |i, j| {
            model.weight(&compare(fields, &a[i], &a[j]))
        });
        label_evidence(self.forced, self.cand, self.blocked, &mut evidence);
        pairs.retain(|p| p.is_match);
        let names = NameFields::detect(fields);
        let threshold = opts.threshold;
        let table = model.weights_table();
        let decided = self.forced.decided();
        let scorer = |i: usize, j: usize| -> f32 {
            if !decided.is_empty() {
                let k = (i.min(j) as u32, i.max(j) as u32);
                if let Some(&m) = decided.get(&k) {
                    return if m { LABEL_YES } else { LABEL_NO };
                }
            }
            let v = compare(fields, &a[i], &a[j]);
            let field_weights = model.field_weights_with(&table, &v);
            let (all, _) = tf.pair_adjustment_of(
                model,
                (&a[i], Some(i)),
                (&a[j], Some(j)),
                &v,
                &names.names,
                &field_weights,
            );
            let w = model.weight_from(&field_weights) + all;
            let p = 1.0 / (1.0 + (-w).exp2());
            let conflict = names.individual_conflict(&a[i], &a[j], &v);
            edge_evidence(p >= threshold && !conflict, p, conflict)
        };
        let clusters = evidence_clusters_with(
            a.len(),
            self.cand,
            &evidence,
            &pairs,
            opts.max_cluster_size,
            opts.split_threshold,
            Some(&scorer),
            Constraints {
                must: &self.forced.must,
                cannot: &self.forced.cannot,
            },
        );
        Round {
            pairs,
            candidate_scores,
            clusters,
        }
    }
}

/// Sets the clustering evidence of the labelled candidate pairs ([`LABEL_YES`],
/// [`LABEL_NO`]). `cand[..blocked]` and `cand[blocked..]` are each sorted (blocking's
/// pairs, then the entity blocks' extra pairs): two binary searches per label.
fn label_evidence(labelled: &LabelledPairs, cand: &[(u32, u32)], blocked: usize, ev: &mut [f32]) {
    if ev.len() != cand.len() {
        return;
    }
    let (head, tail) = cand.split_at(blocked.min(cand.len()));
    let at = |p: &(u32, u32)| {
        head.binary_search(p)
            .ok()
            .or_else(|| tail.binary_search(p).ok().map(|k| k + head.len()))
    };
    for (list, e) in [(&labelled.must, LABEL_YES), (&labelled.cannot, LABEL_NO)] {
        for p in list {
            if let Some(k) = at(p) {
                ev[k] = e;
            }
        }
    }
}

/// Fewest and most pairs per member of a big block too big for all its pairs
/// ([`entity_blocks`]): enough to hold it together, few enough to leave budget for the
/// next.
const RING_PAIRS: usize = 8;
const RING_MAX: usize = 32;

/// Pairs of a big block sampled to tell one entity from a shared value.
const BLOCK_SAMPLE: usize = 24;

/// The pairs of the blocks over the cap ([`BigBlocks`]) that the fitted model finds to
/// be mostly one entity: of [`BLOCK_SAMPLE`] pairs drawn from the block (seeded by the
/// block), at least a third match. A block of strangers sharing a common value has few
/// such pairs; the 300 mentions of one inventor have many. Blocks are taken smallest
/// first within a budget of `max(200k, 20 n)` pairs (a block whose pairs no longer fit
/// gives each member a few partners), and pairs already candidates are left out.
/// Sorted, unique.
pub fn entity_blocks(
    fields: &[FieldSpec],
    model: &FsModel,
    a: &[Prepared],
    big: &BigBlocks,
    cand: &[(u32, u32)],
    threshold: f64,
) -> Vec<(u32, u32)> {
    let blocks = big.blocks();
    if blocks.is_empty() || fields.is_empty() {
        return Vec::new();
    }
    let table = model.weights_table();
    let accepted: Vec<bool> = blocks
        .par_iter()
        .map(|b| {
            let n = b.len() as u64;
            let mut x = b.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &i| {
                (h ^ u64::from(i)).wrapping_mul(0x1000_0000_01b3)
            });
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let mut v = vec![0u8; fields.len()];
            let mut hits = 0;
            for k in 0..BLOCK_SAMPLE {
                // a block of strangers shows itself early: no match in the first eight
                if k == 8 && hits == 0 {
                    return false;
                }
                let (i, j) = ((next() % n) as usize, (next() % n) as usize);
                if i == j {
                    continue;
                }
                compare_into(fields, &a[b[i] as usize], &a[b[j] as usize], &mut v);
                let w = model.weight_with(&table, &v);
                if 1.0 / (1.0 + (-w).exp2()) >= threshold {
                    hits += 1;
                }
            }
            hits * 3 >= BLOCK_SAMPLE
        })
        .collect();
    let budget = (20 * a.len()).max(200_000);
    let mut out: Vec<u64> = Vec::new();
    let pair = |x: u32, y: u32| super::blocking::pack(x.min(y), x.max(y));
    for (b, ok) in blocks.iter().zip(accepted) {
        let n = b.len();
        let left = budget.saturating_sub(out.len());
        if !ok || left < n * RING_PAIRS {
            continue;
        }
        if n <= 2 * RING_MAX + 1 && n * (n - 1) / 2 <= left {
            for x in 0..n {
                for y in (x + 1)..n {
                    out.push(pair(b[x], b[y]));
                }
            }
            continue;
        }
        // a big block: each member with the next `k` of a ring in a seeded order (64
        // partners, or fewer when the budget is short). Matches among them still join
        // the whole entity, and clustering scores samples between its parts. (With all
        // their pairs, the accepted blocks of towns and employers of a 13k-mention file,
        // 400-800 records each and taken smallest first, spent the budget before the
        // 425 mentions of one inventor came: he ended as two clusters of 200, one per
        // employer, F1 0.936.)
        let k = (left / n).min(RING_MAX).min(n - 1);
        let mut ring: Vec<u32> = b.to_vec();
        ring.sort_by_key(|&i| {
            (u64::from(i) ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xff51_afd7_ed55_8ccd)
        });
        for x in 0..n {
            for d in 1..=k {
                out.push(pair(ring[x], ring[(x + d) % n]));
            }
        }
    }
    out.par_sort_unstable();
    out.dedup();
    // `cand` is sorted and unique (blocking's order)
    let extra: Vec<(u32, u32)> = out
        .into_iter()
        .map(super::blocking::unpack)
        .filter(|p| cand.binary_search(p).is_err())
        .collect();
    tracing::debug!(
        big_blocks = blocks.len(),
        extra = extra.len(),
        "entity blocks"
    );
    extra
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
    for (f, &l) in v.iter().enumerate() {
        if l == MISSING || model.level_weight(f, l as usize) <= 0.0 {
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
    use serde_json::json;

    #[test]
    fn a_common_full_name_alone_makes_no_match() {
        use super::super::fs::{FieldKind, FieldSpec, Prepared};
        let fields: Vec<FieldSpec> = ["first_name", "last_name", "city"]
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect();
        let mut m = FsModel::prior(fields);
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
        let tf = TermFrequencies::count(3, &[&recs]);
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
        use super::super::fs::{FieldKind, FieldSpec, LEVELS};
        let fields: Vec<FieldSpec> = ["first_name", "title", "dob"]
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect();
        let mut m = FsModel::prior(fields);
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

    fn people() -> (Vec<Record>, Vec<Record>) {
        let first = [
            "michaela", "courtney", "jack", "olivia", "liam", "noah", "emma", "ava", "lucas",
            "mia", "ethan", "zoe", "harper", "james", "ella", "henry", "grace", "oscar", "ruby",
            "leo",
        ];
        let last = [
            "neumann", "painter", "smith", "brown", "wilson", "taylor", "white", "martin",
            "clarke", "young", "king", "wright", "scott", "green", "baker", "adams", "hill",
            "ward", "hughes", "price",
        ];
        let mut l = Vec::new();
        let mut r = Vec::new();
        for i in 0..40usize {
            let f = first[i % 20];
            let s = last[(i * 7 + i / 20) % 20];
            let dob = format!("19{:02}{:02}{:02}", 30 + i, 1 + i % 12, 1 + i % 28);
            let pc = format!("{}", 2000 + i * 37);
            l.push(
                json!({"given_name": f, "surname": s, "dob": dob, "postcode": pc})
                    .as_object()
                    .cloned()
                    .unwrap(),
            );
            // a typo'd duplicate for the first 30
            if i < 30 {
                let f2 = if i % 3 == 0 {
                    format!("{}x", f)
                } else {
                    f.to_string()
                };
                let pc2 = if i % 4 == 0 {
                    format!("{}", 2001 + i * 37)
                } else {
                    pc.clone()
                };
                r.push(
                    json!({"given_name": f2, "surname": s, "dob": dob, "postcode": pc2})
                        .as_object()
                        .cloned()
                        .unwrap(),
                );
            }
        }
        (l, r)
    }

    #[test]
    fn links_typod_duplicates() {
        let (l, r) = people();
        let opts = LinkOptions {
            assignment: Assignment::OneToOne,
            u_samples: 2000,
            ..Default::default()
        };
        let out = link(&l, &r, &[], &opts).unwrap();
        let found: Vec<(usize, usize)> = out.matches().map(|p| (p.left, p.right)).collect();
        let correct = found.iter().filter(|(a, b)| a == b).count();
        assert!(correct >= 27, "correct {correct} of {}", found.len());
        assert!(found.len() - correct <= 2, "{found:?}");
    }

    /// Auto: a right file that repeats its people (two forms of one person) keeps every
    /// form's link, a form's own sure match too when it is no duplicate of the best one; a right file of one record per person stays one-to-one; strict
    /// one-to-one and many-to-many do as they say.
    #[test]
    fn auto_assignment_keeps_the_duplicates_of_a_best_match_and_nothing_else() {
        let (mut l, mut r) = people();
        // a street and a phone each (record i of either side is person i): enough
        // agreement that a garbled given name leaves a sure match
        for side in [&mut l, &mut r] {
            for (i, rec) in side.iter_mut().enumerate() {
                let street = ["elm", "oak", "ash", "bay"][i % 4];
                rec.insert(
                    "street".into(),
                    json!(format!("{} {street} road", 3 + i * 7)),
                );
                rec.insert(
                    "phone".into(),
                    json!(format!("0{}", 412_000_000 + i * 7919)),
                );
            }
        }
        // a second form of people 0-4 (30-34 on the right): one with a typo'd surname
        for i in 0..5usize {
            let mut form = r[i].clone();
            if i == 0 {
                let s = form["surname"].as_str().unwrap_or_default().to_string();
                form.insert("surname".into(), json!(format!("{s}e")));
            }
            if i == 1 {
                // a given name garbled beyond a typo: no duplicate of the first form, yet a
                // sure match of the person (surname, birth date, address, phone)
                form.insert("given_name".into(), json!("qzx"));
            }
            r.push(form);
        }
        let run = |assignment: Assignment, r: &[Record]| -> Vec<(usize, usize)> {
            let opts = LinkOptions {
                assignment,
                u_samples: 2000,
                ..Default::default()
            };
            let out = link(&l, r, &[], &opts).unwrap();
            out.matches().map(|p| (p.left, p.right)).collect()
        };
        let auto = run(Assignment::Auto, &r);
        for i in 0..5 {
            assert!(
                auto.contains(&(i, i)) && auto.contains(&(i, 30 + i)),
                "{i}: {auto:?}"
            );
        }
        let strict = run(Assignment::OneToOne, &r);
        for i in 0..5 {
            let n = strict.iter().filter(|p| p.0 == i).count();
            assert_eq!(n, 1, "{i}: {strict:?}");
        }
        let all = run(Assignment::ManyToMany, &r);
        assert!(all.len() >= auto.len(), "{all:?} vs {auto:?}");
        // one record per person: auto is one-to-one
        let (l1, r1) = people();
        let once = link(
            &l1,
            &r1,
            &[],
            &LinkOptions {
                u_samples: 2000,
                ..Default::default()
            },
        )
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        assert!(
            once.matches().all(|p| seen.insert(p.left)),
            "a left record matched twice"
        );
    }

    #[test]
    fn dedups_into_clusters() {
        let (l, r) = people();
        let all: Vec<Record> = l.iter().chain(&r).cloned().collect();
        let opts = LinkOptions {
            u_samples: 2000,
            ..Default::default()
        };
        let out = dedup(&all, &[], &opts);
        let good = out
            .clusters
            .iter()
            .filter(|c| c.len() == 2 && c[1] == c[0] + 40)
            .count();
        assert!(good >= 25, "{:?}", out.clusters);
        assert!(out.clusters.len() <= 32);
        assert_eq!(
            clusters(4, [(0, 1), (2, 3), (1, 0)]),
            vec![vec![0, 1], vec![2, 3]]
        );
    }

    #[test]
    fn dedup_scores_every_candidate_when_asked_and_clusters_alike() {
        let (l, r) = people();
        let all: Vec<Record> = l.iter().chain(&r).cloned().collect();
        let opts = LinkOptions {
            u_samples: 2000,
            keep_candidates: true,
            ..Default::default()
        };
        let plain = dedup(&all, &[], &opts);
        assert!(plain.candidate_scores.is_empty());
        let scored = dedup(
            &all,
            &[],
            &LinkOptions {
                keep_scores: true,
                ..opts.clone()
            },
        );
        assert_eq!(scored.candidates, plain.candidates);
        assert_eq!(scored.candidate_scores.len(), scored.candidates.len());
        assert!(
            scored.candidate_scores.iter().any(|&p| p < opts.threshold),
            "non-matches are scored too"
        );
        // the same matched pairs and clusters: keeping the scores changes nothing else
        assert_eq!(scored.link.pairs, plain.link.pairs);
        assert_eq!(scored.clusters, plain.clusters);
        // each matched pair's probability is its candidate's score
        for p in &scored.link.pairs {
            let k = scored
                .candidates
                .iter()
                .position(|&(i, j)| (i as usize, j as usize) == (p.left, p.right))
                .unwrap();
            assert_eq!(scored.candidate_scores[k], p.probability);
        }
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

    #[test]
    fn capped_clusters_refuse_the_weak_link_that_would_chain_two_groups() {
        let p = scored;
        // {0,1,2} and {3,4,5} strongly linked; one weak pair 2-3 between them
        let pairs = vec![
            p(0, 1, 0.99),
            p(1, 2, 0.98),
            p(2, 3, 0.86),
            p(3, 4, 0.99),
            p(4, 5, 0.97),
        ];
        // one pair between two groups of three is not enough support
        assert_eq!(
            capped_clusters(6, &pairs, 0, None),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        // a second pair between them is
        let mut two = pairs.clone();
        two.push(p(0, 4, 0.9));
        assert_eq!(
            capped_clusters(6, &two, 0, None),
            vec![vec![0, 1, 2, 3, 4, 5]]
        );
        let pairs = two;
        assert_eq!(
            capped_clusters(6, &pairs, 4, None),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        assert_eq!(capped_clusters(6, &pairs, 6, None).len(), 1);
        // a stricter split threshold: the weak pair 2-3 cannot join the two groups ...
        assert_eq!(
            capped_clusters(6, &pairs, 0, Some(0.95)),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        // ... but a weak pair still adds a lone record (6) to a group
        let mut more = pairs.clone();
        more.push(p(5, 6, 0.87));
        assert_eq!(
            capped_clusters(7, &more, 0, Some(0.95)),
            vec![vec![0, 1, 2], vec![3, 4, 5, 6]]
        );
        // below every pair's probability it changes nothing
        assert_eq!(capped_clusters(6, &pairs, 0, Some(0.5)).len(), 1);
        // weak pairs alone make no cluster, whatever their order
        let weak = vec![p(0, 1, 0.86), p(2, 3, 0.87), p(1, 2, 0.88)];
        assert!(capped_clusters(4, &weak, 0, Some(0.95)).is_empty());
    }

    fn scored(l: usize, r: usize, probability: f64) -> ScoredPair {
        ScoredPair {
            left: l,
            right: r,
            weight: 0.0,
            probability,
            rule: "IV".into(),
            is_match: true,
        }
    }

    #[test]
    fn two_big_clusters_chained_by_one_strong_pair_stay_apart() {
        // {0..50} and {50..100}: each a chain of strong matches, one strong matched pair
        // 49-50 between them; 2,500 pairs between them, too many to score them all
        let mut cand = Vec::new();
        let mut matched = Vec::new();
        for i in 0..99u32 {
            if i != 49 {
                cand.push((i, i + 1));
                matched.push(scored(i as usize, i as usize + 1, 0.99));
            }
        }
        cand.push((49, 50));
        matched.push(scored(49, 50, 0.95));
        let evidence = vec![9.0f32; cand.len()];
        let same_half = |x: usize, y: usize| (x < 50) == (y < 50);
        // two entities: no pair across says yes
        let apart = move |x: usize, y: usize| if same_half(x, y) { 9.0f32 } else { -1.0 };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&apart));
        assert_eq!(
            c.len(),
            2,
            "{:?}",
            c.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // one heavy entity: a tenth of the pairs across say yes (the same employer)
        let one = move |x: usize, y: usize| {
            if same_half(x, y) || (x + y).is_multiple_of(10) {
                9.0f32
            } else {
                -1.0
            }
        };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&one));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn unchecked_noes_are_scored_again_when_two_clusters_may_join() {
        // {0, 1} and {2, 3}, one strong match across (1, 2); the other three pairs across
        // were decided "no" on their weights without their individual fields checked
        let cand = vec![(0, 1), (2, 3), (1, 2), (0, 2), (0, 3), (1, 3)];
        let matched = vec![scored(0, 1, 0.99), scored(2, 3, 0.99), scored(1, 2, 0.9)];
        let across = |x: usize, y: usize| (x < 2) != (y < 2) && (x.min(y), x.max(y)) != (1, 2);
        // checked, they conflict (namesakes born years apart)
        let checked = move |x: usize, y: usize| {
            if across(x, y) {
                CONFLICT_EVIDENCE
            } else {
                9.0f32
            }
        };
        let unchecked = vec![9.0, 9.0, 9.0, UNCHECKED_NO, UNCHECKED_NO, UNCHECKED_NO];
        let c = evidence_clusters(4, &cand, &unchecked, &matched, 0, None, Some(&checked));
        assert_eq!(c.len(), 2, "{c:?}");
        // plain noes are taken as they are: 9 - 3 x 2 > 0 joins
        let plain = vec![9.0, 9.0, 9.0, -2.0, -2.0, -2.0];
        let c = evidence_clusters(4, &cand, &plain, &matched, 0, None, Some(&checked));
        assert_eq!(c.len(), 1, "{c:?}");
    }

    #[test]
    fn big_clusters_join_on_a_sample_with_matches_and_no_conflicts() {
        // {0..50} and {50..100}, chained inside; blocking proposed 60 pairs across (a
        // shared name) that say a plain "no" (-2: other employer, other town) and one
        // match: the known pairs add up to a no, the sample of all pairs across decides
        let mut cand = Vec::new();
        let mut matched = Vec::new();
        for i in 0..99u32 {
            if i != 49 {
                cand.push((i, i + 1));
                matched.push(scored(i as usize, i as usize + 1, 0.99));
            }
        }
        let mut evidence = vec![9.0f32; cand.len()];
        for k in 0..60u32 {
            cand.push((k % 50, 50 + (k * 7) % 50));
            evidence.push(-2.0);
        }
        cand.push((49, 50));
        evidence.push(1.0);
        matched.push(scored(49, 50, 0.9));
        let same_half = |x: usize, y: usize| (x < 50) == (y < 50);
        // one person at two employers: a twentieth of the pairs across match, none conflicts
        let one = move |x: usize, y: usize| {
            if same_half(x, y) || (x + y).is_multiple_of(20) {
                9.0f32
            } else {
                -1.0
            }
        };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&one));
        assert_eq!(
            c.len(),
            1,
            "{:?}",
            c.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // a household: as many matches, but a third of the pairs across conflict
        let household = move |x: usize, y: usize| {
            if same_half(x, y) || (x + y).is_multiple_of(20) {
                9.0f32
            } else if (x + y).is_multiple_of(3) {
                CONFLICT_EVIDENCE
            } else {
                -1.0
            }
        };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&household));
        assert_eq!(
            c.len(),
            2,
            "{:?}",
            c.iter().map(Vec::len).collect::<Vec<_>>()
        );
    }

    #[test]
    fn evidence_between_clusters_decides_whether_they_join() {
        // {0,1} and {2,3}: one matched pair 1-2 between them, and the other pairs between
        // them candidates found *not* to match (a household with one mistaken link)
        let cand = vec![(0, 1), (2, 3), (1, 2), (0, 2), (0, 3), (1, 3)];
        let evidence = vec![8.0, 8.0, 1.0, -6.0, -6.0, -2.0];
        let matched = vec![scored(0, 1, 0.99), scored(2, 3, 0.99), scored(1, 2, 0.9)];
        assert_eq!(
            evidence_clusters(4, &cand, &evidence, &matched, 0, None, None),
            vec![vec![0, 1], vec![2, 3]]
        );
        // the same pairs saying yes: one cluster
        let yes = vec![8.0, 8.0, 1.0, 3.0, 3.0, 2.0];
        assert_eq!(
            evidence_clusters(4, &cand, &yes, &matched, 0, None, None),
            vec![vec![0, 1, 2, 3]]
        );
        // pairs that were never candidates are scored one by one when a scorer is given
        let sparse = vec![(0, 1), (2, 3), (1, 2)];
        let ev = vec![8.0, 8.0, 1.0];
        assert_eq!(
            evidence_clusters(4, &sparse, &ev, &matched, 0, None, None),
            vec![vec![0, 1, 2, 3]]
        );
        let no = |_: usize, _: usize| -5.0f32;
        assert_eq!(
            evidence_clusters(4, &sparse, &ev, &matched, 0, None, Some(&no)),
            vec![vec![0, 1], vec![2, 3]]
        );
        // a cap still bounds the size
        assert_eq!(
            evidence_clusters(4, &cand, &yes, &matched, 3, None, None),
            vec![vec![0, 1], vec![2, 3]]
        );
    }

    #[test]
    fn one_entity_with_hundreds_of_records_is_found_and_kept_whole() {
        // 300 mentions of one person (typos in a few) among 3000 strangers from 40 towns
        // and 8 states; every single-field block of the entity is over the cap
        let mut recs: Vec<Record> = Vec::new();
        for i in 0..300 {
            let first = if i % 17 == 0 { "jonathon" } else { "jonathan" };
            recs.push(
                serde_json::json!({"name_first": first, "name_last": "quixotic",
                    "city": "springfield", "state": "il", "org": "acme corp"})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
        // letters only: a name is no number
        let word = |mut i: usize, salt: usize| -> String {
            let mut w = String::new();
            i = (i * 2_654_435_761 + salt * 97) % 11_881_376;
            for _ in 0..5 {
                w.push(char::from(b'a' + (i % 26) as u8));
                i /= 26;
            }
            w
        };
        for i in 0..3000 {
            recs.push(
                serde_json::json!({"name_first": word(i, 3), "name_last": word(i, 11),
                    "city": format!("town{}", i % 40), "state": format!("s{}", i % 8),
                    "org": format!("org{}", i % 300)})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
        let out = dedup(&recs, &[], &LinkOptions::default());
        let sizes: Vec<usize> = out.clusters.iter().map(Vec::len).collect();
        assert_eq!(
            out.clusters.len(),
            1,
            "{:?} {sizes:?}",
            out.link.model.unrelated
        );
        assert_eq!(out.clusters[0], (0..300).collect::<Vec<_>>());
    }
}
