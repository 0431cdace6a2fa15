//! Linking two record sets and deduplicating one, at scale: blocking → comparison
//! vectors (parallel, rayon) → Fellegi–Sunter weights by EM → the embedded KcMF rules on
//! the scored pairs → optional one-to-one assignment (link) or clustering (dedup).
//!
//! These are the functions batch jobs call; they work on record numbers and never
//! build an all-pairs matrix.
//!
//! Layout: this file holds the options, the outputs, the fit and [`link`]; [`dedup`]
//! deduplicates one file (scoring rounds, clustering, the blocks of big entities);
//! `score` weighs every candidate and gives clustering its evidence.

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
    FieldSpec, FsModel, MISSING, Prepared, RandomPairs, TermFrequencies, compare, compare_into,
    infer_fields, prepare,
};
use super::labels::{self, LABEL_NO, LABEL_YES, LabelledPairs};
use super::local::{EmEvidence, GivenNamesConflict, IndividualKind, NameFields};
use super::{EntityExample, Record};

mod dedup;
mod own_ids;
mod score;

pub use dedup::{dedup, dedup_prepared, entity_blocks};
pub(crate) use score::score_all;

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
    /// on them; a million records give millions, so off by default). Link: return every
    /// candidate pair scored ([`LinkOutput::pairs`]), not the matches alone (5.8M pairs
    /// of a link of 840k records to 101k held half a GiB).
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
    /// leave no doubt; 0.9855 -> 0.9879 on person_tax_link). A small side of people
    /// ([`SMALL_SIDE`]) keeps the duplicates of its best match too. Any other side of one
    /// record per entity stays one-to-one. Two near-identical but different records count
    /// as duplicates only when no given name, birth date or identity known on both
    /// conflicts: twins with unlike names never; a father and son of one name at one
    /// address, one birth date missing, can.
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
    /// Roman id of the deciding rule; `label` for a pair a label decided
    /// ([`labels::LABEL_RULE`]), `own-id` for one matched through its record's own
    /// identity number ([`own_ids::OWN_ID_RULE`]).
    pub rule: String,
    pub is_match: bool,
}

/// Result of [`link`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkOutput {
    pub fields: Vec<FieldSpec>,
    pub model: FsModel,
    pub candidate_pairs: usize,
    /// [`link`]: every scored candidate pair, matched or not, in candidate order, with
    /// [`LinkOptions::keep_candidates`]; else the pairs that scored as matches and those
    /// the examples require (the one-to-one assignment or a label may then set
    /// `is_match` false on some: read them through [`Self::matches`]); [`dedup`]: only
    /// the matched ones.
    pub pairs: Vec<ScoredPair>,
    /// The fields compared ([`link`]: left and right column(s) of each, and the schema
    /// matcher's score; empty for [`dedup`]).
    #[serde(default)]
    pub alignment: Vec<super::align::AlignedPair>,
    /// How many of the examples named pairs of the input and decided them
    /// ([`super::labels`]).
    #[serde(default)]
    pub labels_used: usize,
    /// The identity-number column of each side that no compared field reads (the other
    /// side lacks it, or the column map leaves it out), read by the automatic assignment
    /// to tell which records of that side are one entity's ([`link`]: `right: ssn`; empty
    /// for [`dedup`], another assignment, or when neither side holds one).
    #[serde(default)]
    pub own_ids: Vec<String>,
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

/// Whether a side of a link holds one entity several times: at least 1% of its records
/// (and 2: one record written twice, in a small file) repeat another's values in every
/// compared field. A file of one record per entity (a register, a catalogue) has next to
/// none, so it stays one-to-one whatever the model would say of two similar records in
/// it (a small side of people aside, [`SMALL_SIDE`]); a file of events (tax forms,
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
    repeated >= 2 && repeated * 100 >= recs.len()
}

/// Most records of a side of people whose duplicates of a kept match may keep it too
/// though the side is not seen to repeat its entities ([`repeats_records`]): in a small
/// file one pair of alike records is no share to judge by, and the forms of one person
/// differ in a field or two (ten 10-row census–tax samples with birth dates: F1 0.8330
/// -> 0.9069; 100 rows 0.9760 -> 0.9914). Only the duplicate test applies there, not a
/// sure match's own right, and only to people: two items of a small catalogue alike
/// enough (two editions of one title) are no duplicates (product titles, 100 rows: F1
/// 0.9758 -> 0.9642 when things counted too).
const SMALL_SIDE: usize = 200;

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

/// Whether a name field or a given name of two records disagrees outright: two people,
/// whatever identity number they share (one copied from another of the household). Not a
/// birth date: two forms of one number whose birth dates differ outright were one
/// person's mistyped far more often than a son's form with his father's number and name
/// (counted, census-to-tax links with birth dates 0.9938 -> 0.9930, 0.9957 -> 0.9952).
fn person_differs(fields: &[FieldSpec], names: &NameFields, x: &Prepared, y: &Prepared) -> bool {
    const OUTRIGHT: u8 = (super::fs::LEVELS - 1) as u8;
    let v = compare(fields, x, y);
    let personal = names
        .individual
        .iter()
        .filter(|f| f.1 == IndividualKind::Given)
        .map(|f| f.0);
    names
        .names
        .iter()
        .copied()
        .chain(personal)
        .any(|f| v.get(f) == Some(&OUTRIGHT))
}

/// Links `left` to `right`: returns the matches, or every blocked candidate pair with its
/// score and decision ([`LinkOptions::keep_candidates`]). The columns are aligned first
/// ([`super::align`], or `opts.column_map`); `examples` (labelled pairs) refine the
/// unsupervised weights.
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
    let own_ids = own_ids::OwnIds::find(left, right, [&fields, &right_fields]);
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
    let tf = TermFrequencies::count(&fields, &[&a, &b]);
    let (mut pairs, _) = score_all(
        &fields,
        &model,
        &a,
        &b,
        &cand,
        &flat,
        opts.threshold,
        opts.keep_candidates,
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
            let names = NameFields::detect(&fields)
                .with_close_levels(&model)
                .with_given_counts(a.iter().chain(&b));
            let dup = [repeats_records(&a), repeats_records(&b)];
            // people: a given name or a birth date tells two of one household apart
            let people = names
                .individual
                .iter()
                .any(|(_, k)| matches!(k, IndividualKind::Given | IndividualKind::Birth));
            one_to_one(&mut pairs, !dup[0] && !dup[1], |side, x, y, p| {
                let recs = if side == 0 { &a } else { &b };
                // the side's own identity number first: one number is one person (unless
                // a name differs outright: a number copied from another of the household,
                // or a name garbled, which the fields below still judge), two numbers are
                // two
                match own_ids.same(side, x, y) {
                    Some(true) if !person_differs(&fields, &names, &recs[x], &recs[y]) => {
                        return true;
                    }
                    Some(false) => return false,
                    _ => {}
                }
                let small = people && recs.len() <= SMALL_SIDE;
                (dup[side] && p >= SAME_SIDE_SURE)
                    || ((dup[side] || small)
                        && same_side_duplicates(&fields, &model, &names, &recs[x], &recs[y]))
            });
            // a side of events: a person's further records by their own number (never a
            // pair labelled a non-match)
            let refused: std::collections::HashSet<(u32, u32)> =
                labelled.cannot.iter().copied().collect();
            for side in [0, 1] {
                if dup[side] {
                    own_ids.spread(&mut pairs, side, |l, r| {
                        let (x, y) = (a.get(l)?, b.get(r)?);
                        let key = (u32::try_from(l).ok()?, u32::try_from(r).ok()?);
                        (!refused.contains(&key) && !person_differs(&fields, &names, x, y))
                            .then(|| model.weight(&compare(&fields, x, y)))
                    });
                }
            }
        }
    }
    Ok(LinkOutput {
        fields,
        model,
        candidate_pairs: cand.len(),
        pairs,
        alignment,
        labels_used: labelled.used,
        // read only by the automatic assignment
        own_ids: if opts.assignment == Assignment::Auto {
            own_ids.columns()
        } else {
            Vec::new()
        },
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
    let mut found = false;
    let mut model = FsModel::prior(fields.to_vec());
    let detected = NameFields::detect(fields);
    model.individual = detected.individual;
    model.names = detected.names;
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    model.groups = super::lexicon::dependency_groups(&names);
    let random = RandomPairs::compare(fields, a, b, opts.u_samples, opts.seed, same_set);
    model.estimate_u_from(&random, &|_| false);
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
        found = model.estimate_m(flat.chunks(nf), opts.em_iterations, (most / cands).min(0.9));
        // two sources of things (products, not people: no birth date, identity number,
        // e-mail, given name or whole name of a person among the fields; a register of
        // firms with a tax id or an e-mail is skipped too) write their descriptions and
        // set their prices each its own way: see `estimate_m_apart`
        let people = !model.individual.is_empty() || fields.iter().any(|f| f.person_name);
        if !same_set && found && !people {
            model.estimate_m_apart(flat.chunks(nf));
        }
        m_pairs = (model.lambda * cands).max(m_pairs);
        // u again, without the random pairs the fitted model takes for matches, but for
        // those whose given names differ outright ([`GivenNamesConflict`]):
        // two of a household are two people, and left out, a shared address looked ten
        // times rarer among non-matches than it is
        // a given name replaced, or twins: the file's households say which
        let households = model.estimate_households(flat.chunks(nf));
        tracing::debug!(
            members = households.members,
            one_birth = households.one_birth,
            households = model.households,
            "households among the candidates"
        );
        let fitted = model.clone();
        let conflict = GivenNamesConflict::new(&fitted.individual);
        model.groups = super::lexicon::dependency_groups(&names);
        model.estimate_u_from(&random, &|v| {
            fitted.probability(v) >= 0.5 && !conflict.test(v)
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
    // a prior EM estimated on the candidates (not the starting value of a file with too
    // few of them, which no share of candidates stands behind)
    if found {
        let all_pairs = if same_set {
            a.len() as f64 * (a.len() as f64 - 1.0) / 2.0
        } else {
            a.len() as f64 * b.len() as f64
        };
        model.scale_prior(all_pairs, (flat.len() / nf) as f64);
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(super) fn people() -> (Vec<Record>, Vec<Record>) {
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

    /// [`people`] with a street and a phone each (record i of either side is person i):
    /// enough agreement that a garbled given name leaves a sure match.
    fn people_at_home() -> (Vec<Record>, Vec<Record>) {
        let (mut l, mut r) = people();
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
        (l, r)
    }

    /// A file with more pairs per candidate than the engine is calibrated for gets the
    /// prior EM found lowered; a file too small for EM keeps its starting prior, which no
    /// share of candidates stands behind (400 records, 79,800 pairs, 40 or 60 candidates).
    #[test]
    fn only_a_prior_em_estimated_is_lowered_for_a_large_file() {
        let fields = vec![
            FieldSpec::new("given", crate::engine::fs::FieldKind::Text),
            FieldSpec::new("surname", crate::engine::fs::FieldKind::Text),
        ];
        let recs: Vec<Record> = (0..400)
            .map(|i| {
                let r = json!({"given": format!("g{}", i / 2), "surname": format!("s{}", i / 2)});
                r.as_object().cloned().unwrap_or_default()
            })
            .collect();
        let a: Vec<Prepared> = recs.iter().map(|r| prepare(&fields, r)).collect();
        let fit_on = |n: u32| {
            let cand: Vec<(u32, u32)> = (0..n).map(|k| (2 * k, 2 * k + 1)).collect();
            let flat = vectors(&fields, &a, &a, &cand);
            fit(&fields, &a, &a, &flat, &[], &LinkOptions::default(), true)
        };
        let small = fit_on(40);
        assert_eq!(small.iterations, 0);
        assert!(small.prior_note.is_none(), "{:?}", small.prior_note);
        let fitted = fit_on(60);
        assert!(fitted.iterations > 0);
        let note = fitted.prior_note.as_deref().unwrap_or_default();
        assert!(note.contains("1330 pairs"), "{note}");
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

    /// One record written twice is a side that repeats its entities, however small the
    /// file (30 census rows against their 37 tax forms: two forms of one person alike in
    /// every field; strict one-to-one there dropped that person's sure second form: ten
    /// such samples, F1 0.88 -> 0.97); a big file needs one in a hundred.
    #[test]
    fn a_side_repeats_its_entities_from_one_record_written_twice() {
        let rec = |k: usize| {
            Prepared::from_raw([
                format!("name{k}").as_str(),
                format!("{} main st", k + 1).as_str(),
            ])
        };
        let mut small: Vec<Prepared> = (0..30).map(rec).collect();
        assert!(!repeats_records(&small));
        small.push(rec(7));
        assert!(repeats_records(&small));
        let mut big: Vec<Prepared> = (0..1000).map(rec).collect();
        big.push(rec(7));
        assert!(!repeats_records(&big), "2 of 1,001 records");
        big.extend((0..8).map(rec));
        assert!(repeats_records(&big), "17 of 1,009 records");
        // a record of one known value repeats nothing
        let thin = vec![Prepared::from_raw(["x", ""]); 5];
        assert!(!repeats_records(&thin));
    }

    /// Auto: a right file that repeats its people (two forms of one person) keeps every
    /// form's link, a form's own sure match too when it is no duplicate of the best one; a right file of one record per person stays one-to-one; strict
    /// one-to-one and many-to-many do as they say.
    #[test]
    fn auto_assignment_keeps_the_duplicates_of_a_best_match_and_nothing_else() {
        let (l, mut r) = people_at_home();
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

    /// A small file of people whose forms of one person each differ in a field (no two
    /// alike in every field, so the side is not seen to repeat its entities) keeps each
    /// person's forms; one of another given name at the same address is no second form.
    #[test]
    fn a_small_file_keeps_a_persons_forms_that_differ_in_a_field() {
        let (l, mut r) = people_at_home();
        // second forms of people 1, 2, 5, 6 (right 30-33), each unlike the first in a field
        let seconds = [1usize, 2, 5, 6];
        for (k, &i) in seconds.iter().enumerate() {
            let mut form = r[i].clone();
            let field = ["surname", "street", "phone", "postcode"][k];
            let v = form[field].as_str().unwrap_or_default().to_string();
            let changed = match field {
                "surname" => format!("{v}e"),
                "street" => format!("1{v}"),
                _ => format!("{}9", &v[..v.len() - 1]),
            };
            form.insert(field.into(), json!(changed));
            r.push(form);
        }
        // person 10's household: another given name at the same address
        let mut other = r[10].clone();
        other.insert("given_name".into(), json!("beatrix"));
        r.push(other);
        let opts = LinkOptions {
            u_samples: 2000,
            ..Default::default()
        };
        let out = link(&l, &r, &[], &opts).unwrap();
        let found: Vec<(usize, usize)> = out.matches().map(|p| (p.left, p.right)).collect();
        for (k, &i) in seconds.iter().enumerate() {
            assert!(
                found.contains(&(i, i)) && found.contains(&(i, 30 + k)),
                "{i}: {found:?}"
            );
        }
        assert!(!found.contains(&(10, 34)), "{found:?}");
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
}
