//! Linking two record sets and deduplicating one, at scale: blocking → comparison
//! vectors (parallel, rayon) → Fellegi–Sunter weights by EM → the embedded KcMF rules on
//! the scored pairs → optional one-to-one assignment (link) or clustering (dedup).
//!
//! These are the functions batch jobs call; they work on record numbers and never
//! build an all-pairs matrix.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::blocking::{BlockingOptions, dedup_candidates, link_candidates};
use super::fs::{
    FieldSpec, FsModel, MISSING, Prepared, compare, compare_into, infer_fields, prepare,
};
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
    /// At most one match per record on each side (link only).
    pub one_to_one: bool,
    pub em_iterations: usize,
    /// Random pairs drawn to estimate u-probabilities.
    pub u_samples: usize,
    pub seed: u64,
    /// Dedup: no cluster grows beyond this many records (0: no limit). Matched pairs join
    /// clusters strongest first, and a pair that would make a cluster larger is left out,
    /// so one weak link cannot chain two groups (or hundreds) into one.
    #[serde(default = "default_max_cluster")]
    pub max_cluster_size: usize,
    /// Dedup: a stricter threshold that splits clusters (`None`: off). Pairs at or above it
    /// form the clusters; a pair between `threshold` and it may only add a lone record to
    /// such a cluster: it never joins two clusters (one weak link does not merge two
    /// groups) nor two lone records.
    #[serde(default)]
    pub split_threshold: Option<f64>,
    /// Dedup: also return the blocked candidate pairs (evaluation measures blocking recall
    /// on them; a million records give millions, so off by default).
    #[serde(default)]
    pub keep_candidates: bool,
}

fn default_max_cluster() -> usize {
    DEFAULT_MAX_CLUSTER
}

/// Default [`LinkOptions::max_cluster_size`].
pub const DEFAULT_MAX_CLUSTER: usize = 16;

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            blocking: BlockingOptions::default(),
            threshold: 0.85,
            one_to_one: false,
            em_iterations: 30,
            u_samples: 20_000,
            seed: 42,
            max_cluster_size: DEFAULT_MAX_CLUSTER,
            split_threshold: None,
            keep_candidates: false,
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
}

impl LinkOutput {
    /// The matched pairs.
    pub fn matches(&self) -> impl Iterator<Item = &ScoredPair> {
        self.pairs.iter().filter(|p| p.is_match)
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
}

fn vectors(fields: &[FieldSpec], a: &[Prepared], b: &[Prepared], cand: &[(u32, u32)]) -> Vec<u8> {
    let nf = fields.len().max(1);
    let mut flat = vec![0u8; cand.len() * nf];
    flat.par_chunks_mut(nf)
        .zip(cand.par_iter())
        .for_each(|(out, &(i, j))| compare_into(fields, &a[i as usize], &b[j as usize], out));
    flat
}

fn examples_vectors(fields: &[FieldSpec], examples: &[EntityExample]) -> Vec<(Vec<u8>, bool)> {
    examples
        .iter()
        .map(|e| {
            (
                compare(
                    fields,
                    &prepare(fields, &e.left),
                    &prepare(fields, &e.right),
                ),
                e.is_match,
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn score_all(
    fields: &[FieldSpec],
    model: &FsModel,
    a: &[Prepared],
    b: &[Prepared],
    cand: &[(u32, u32)],
    flat: &[u8],
    threshold: f64,
    keep_all: bool,
) -> Vec<ScoredPair> {
    let nf = fields.len().max(1);
    let names = NameFields::detect(fields);
    let catch_all = super::local::builtin_em()
        .map(|r| r.catch_all().id.clone())
        .unwrap_or_else(|| "V".to_string());
    let cache = PatternWeights::new(model, &names.0, flat, nf, fields.len());
    cand.par_iter()
        .enumerate()
        .filter_map(|(k, &(i, j))| {
            let v = &flat[k * nf..k * nf + fields.len()];
            let (weight, rest_weight) = cache
                .get(v)
                .unwrap_or_else(|| (model.weight(v), model.weight_without(v, &names.0)));
            let p = 1.0 / (1.0 + (-weight).exp2());
            let rest_known = v
                .iter()
                .enumerate()
                .any(|(f, &l)| l != MISSING && !names.0.contains(&f));
            if p < threshold && rest_known && rest_weight < 0.0 {
                // no rule can hold (II and III need the other fields to agree, IV the
                // threshold): the catch-all decides, without building the evidence
                if !keep_all {
                    return None;
                }
                return Some(ScoredPair {
                    left: i as usize,
                    right: j as usize,
                    weight,
                    probability: p,
                    rule: catch_all.clone(),
                    is_match: false,
                });
            }
            let ev = EmEvidence::compute(model, &names, &a[i as usize], &b[j as usize], v, &[]);
            let d = ev.decide(threshold);
            (keep_all || d.is_match).then(|| ScoredPair {
                left: i as usize,
                right: j as usize,
                weight,
                probability: d.score,
                rule: d.rule.to_string(),
                is_match: d.is_match,
            })
        })
        .collect()
}

/// Match weight and weight without the name fields per distinct comparison vector: a few
/// thousand patterns among millions of candidate pairs, so the weights (logarithms, the
/// dependence correction) are computed once per pattern. Vectors are packed 3 bits a level
/// (at most 21 fields; more: no cache).
struct PatternWeights {
    keys: Vec<u64>,
    weights: Vec<(f64, f64)>,
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
        let weights = reps
            .par_iter()
            .map(|&(_, k)| {
                let v = &flat[k * nf..k * nf + used];
                (model.weight(v), model.weight_without(v, names))
            })
            .collect();
        Self {
            keys: reps.into_iter().map(|r| r.0).collect(),
            weights,
        }
    }

    fn get(&self, v: &[u8]) -> Option<(f64, f64)> {
        let k = Self::key(v)?;
        let at = self.keys.binary_search(&k).ok()?;
        self.weights.get(at).copied()
    }
}

/// Keeps at most one match per left and per right record, best first.
fn one_to_one(pairs: &mut [ScoredPair]) {
    let mut order: Vec<usize> = (0..pairs.len()).filter(|&k| pairs[k].is_match).collect();
    order.sort_by(|&x, &y| {
        pairs[y]
            .probability
            .total_cmp(&pairs[x].probability)
            .then(pairs[y].weight.total_cmp(&pairs[x].weight))
    });
    let mut used_l = std::collections::HashSet::new();
    let mut used_r = std::collections::HashSet::new();
    for k in order {
        let p = &mut pairs[k];
        if used_l.contains(&p.left) || used_r.contains(&p.right) {
            p.is_match = false;
            continue;
        }
        used_l.insert(p.left);
        used_r.insert(p.right);
    }
}

/// Links `left` to `right`: returns every blocked candidate pair with its score and
/// decision. `examples` (labelled pairs) refine the unsupervised weights.
pub fn link(
    left: &[Record],
    right: &[Record],
    examples: &[EntityExample],
    opts: &LinkOptions,
) -> LinkOutput {
    let t0 = std::time::Instant::now();
    let fields = infer_fields(left.iter().chain(right));
    let a: Vec<Prepared> = left.par_iter().map(|r| prepare(&fields, r)).collect();
    let b: Vec<Prepared> = right.par_iter().map(|r| prepare(&fields, r)).collect();
    let t1 = t0.elapsed();
    let cand = link_candidates(&fields, &a, &b, &opts.blocking);
    let t2 = t0.elapsed();
    let flat = vectors(&fields, &a, &b, &cand);
    let t3 = t0.elapsed();
    let model = fit(&fields, &a, &b, &flat, examples, opts, false);
    let t4 = t0.elapsed();
    let mut pairs = score_all(&fields, &model, &a, &b, &cand, &flat, opts.threshold, true);
    let t5 = t0.elapsed();
    tracing::debug!(prepare = ?t1, block = ?t2, vectors = ?t3, fit = ?t4, score = ?t5, candidates = cand.len(), "link timings (cumulative)");
    if opts.one_to_one {
        one_to_one(&mut pairs);
    }
    LinkOutput {
        fields,
        model,
        candidate_pairs: cand.len(),
        pairs,
    }
}

fn fit(
    fields: &[FieldSpec],
    a: &[Prepared],
    b: &[Prepared],
    flat: &[u8],
    examples: &[EntityExample],
    opts: &LinkOptions,
    same_set: bool,
) -> FsModel {
    let nf = fields.len().max(1);
    let mut model = FsModel::prior(fields.to_vec());
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
    }
    model.refine(&examples_vectors(fields, examples), 5.0);
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
    let cand = dedup_candidates(&fields, a, &opts.blocking);
    let t1 = t0.elapsed();
    let flat = vectors(&fields, a, a, &cand);
    let t2 = t0.elapsed();
    let model = fit(&fields, a, a, &flat, examples, opts, true);
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
    let pairs = score_all(&fields, &model, a, a, &cand, &flat, opts.threshold, false);
    let candidate_pairs = cand.len();
    drop(flat);
    let candidates = if opts.keep_candidates {
        cand
    } else {
        Vec::new()
    };
    let t4 = t0.elapsed();
    let clusters = capped_clusters(a.len(), &pairs, opts.max_cluster_size, opts.split_threshold);
    tracing::debug!(block = ?t1, vectors = ?t2, fit = ?t3, score = ?t4, cluster = ?t0.elapsed(), candidates = candidate_pairs, "dedup timings (cumulative)");
    DedupOutput {
        link: LinkOutput {
            fields,
            model,
            candidate_pairs,
            pairs,
        },
        clusters,
        candidates,
    }
}

/// Clusters of matched pairs, strongest pair first, never larger than `cap` records (0: no
/// limit, plain connected components).
///
/// With `split` (a stricter threshold), a pair below it only joins a lone record to a
/// cluster of two or more (pairs are taken strongest first, so every pair at or above
/// `split` has been taken by then, and the clusters it may join are theirs).
pub fn capped_clusters(
    n: usize,
    pairs: &[ScoredPair],
    cap: usize,
    split: Option<f64>,
) -> Vec<Vec<usize>> {
    if cap == 0 && split.is_none() {
        return clusters(n, pairs.iter().map(|p| (p.left, p.right)));
    }
    let mut order: Vec<&ScoredPair> = pairs.iter().collect();
    order.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then(y.weight.total_cmp(&x.weight))
    });
    let mut parent: Vec<usize> = (0..n).collect();
    let mut size = vec![1usize; n];
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut kept = Vec::with_capacity(order.len());
    for p in order {
        if p.left >= n || p.right >= n {
            continue;
        }
        let (a, b) = (find(&mut parent, p.left), find(&mut parent, p.right));
        if a == b {
            continue;
        }
        if cap > 0 && size[a] + size[b] > cap {
            continue;
        }
        // a weak pair: exactly one side a lone record
        if split.is_some_and(|s| p.probability < s) && (size[a] > 1) == (size[b] > 1) {
            continue;
        }
        let (root, child) = (a.min(b), a.max(b));
        parent[child] = root;
        size[root] += size[child];
        kept.push((p.left, p.right));
    }
    clusters(n, kept)
}

/// Connected components (size > 1) of the graph on `n` nodes with `edges`.
pub fn clusters(n: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (i, j) in edges {
        if i >= n || j >= n {
            continue;
        }
        let (a, b) = (find(&mut parent, i), find(&mut parent, j));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            one_to_one: true,
            u_samples: 2000,
            ..Default::default()
        };
        let out = link(&l, &r, &[], &opts);
        let found: Vec<(usize, usize)> = out.matches().map(|p| (p.left, p.right)).collect();
        let correct = found.iter().filter(|(a, b)| a == b).count();
        assert!(correct >= 27, "correct {correct} of {}", found.len());
        assert!(found.len() - correct <= 2, "{found:?}");
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
            let got = cache.get(v);
            let want = (model.weight(v), model.weight_without(v, &names));
            assert_eq!(got, Some(want), "{v:?}");
        }
        assert_eq!(cache.get(&[9; 22]), None);
    }

    #[test]
    fn capped_clusters_refuse_the_weak_link_that_would_chain_two_groups() {
        let p = |l: usize, r: usize, probability: f64| ScoredPair {
            left: l,
            right: r,
            weight: 0.0,
            probability,
            rule: "IV".into(),
            is_match: true,
        };
        // {0,1,2} and {3,4,5} strongly linked; one weak pair 2-3 between them
        let pairs = vec![
            p(0, 1, 0.99),
            p(1, 2, 0.98),
            p(2, 3, 0.86),
            p(3, 4, 0.99),
            p(4, 5, 0.97),
        ];
        assert_eq!(
            capped_clusters(6, &pairs, 0, None),
            vec![vec![0, 1, 2, 3, 4, 5]]
        );
        assert_eq!(
            capped_clusters(6, &pairs, 4, None),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        assert_eq!(capped_clusters(6, &pairs, 6, None).len(), 1);
        // a stricter split threshold: the weak pair 2-3 cannot join the two groups ...
        assert_eq!(
            capped_clusters(6, &pairs, 0, Some(0.9)),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        // ... but a weak pair still adds a lone record (6) to a group
        let mut more = pairs.clone();
        more.push(p(5, 6, 0.87));
        assert_eq!(
            capped_clusters(7, &more, 0, Some(0.9)),
            vec![vec![0, 1, 2], vec![3, 4, 5, 6]]
        );
        // below every pair's probability it changes nothing
        assert_eq!(capped_clusters(6, &pairs, 0, Some(0.5)).len(), 1);
        // weak pairs alone make no cluster, whatever their order
        let weak = vec![p(0, 1, 0.86), p(2, 3, 0.87), p(1, 2, 0.88)];
        assert!(capped_clusters(4, &weak, 0, Some(0.9)).is_empty());
    }
}
