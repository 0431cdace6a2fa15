//! Review of a deduplication by a person (the loop of KcMF's Example as Knowledge, and of
//! dedupe's and Zingg's labelling): every blocked candidate pair is scored, matched or not,
//! and the pairs nearest the threshold — those the model is least sure of — are picked for
//! labelling, each with its per-field agreement levels and weights (a match-weight
//! waterfall). The labels given so far (the key's entity feedback) refine the fitted model
//! exactly as they do in [`super::linkage::link`], and are scored against it for a
//! precision/recall curve and the threshold that separates them best.
//!
//! This recomputes the whole model (blocking, EM) on each call: it is meant for the review
//! page of a job, not for the matching path.

use rayon::prelude::*;
use serde::Serialize;

use super::blocking::dedup_candidates_and_big;
use super::fs::{FieldSpec, FsModel, LEVELS, MISSING, Prepared, TermFrequencies, compare};
use super::fs::{infer_fields, prepare};
use super::linkage::{LinkOptions, examples_vectors, fit, score_all, vectors};
use super::{EntityExample, Record};

/// Names of the agreement levels, 0 (exact) to `LEVELS - 1` (disagree).
pub const LEVEL_NAMES: [&str; LEVELS] = ["exact", "close", "similar", "weak", "different"];

/// The name of level `l` (`missing` for a value absent on either side).
pub fn level_name(l: u8) -> &'static str {
    if l == MISSING {
        return "missing";
    }
    LEVEL_NAMES.get(l as usize).copied().unwrap_or("different")
}

/// A candidate pair picked for review.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewPair {
    /// Record numbers into the input.
    pub left: usize,
    pub right: usize,
    /// Match probability after the rules.
    pub probability: f64,
    /// Fellegi–Sunter match weight (log2 odds), term-frequency adjustment included.
    pub weight: f64,
    /// The linkage rule that decided.
    pub rule: String,
    pub is_match: bool,
    /// Agreement level per field ([`MISSING`] where a side has no value).
    pub levels: Vec<u8>,
    /// Weight per field (log2 m/u of its level, dependence-corrected).
    pub field_weights: Vec<f64>,
    /// Log2 prior odds (λ).
    pub prior: f64,
    /// What the fields and prior do not explain: term frequencies (a rare value agreeing
    /// counts more than a common one).
    pub adjustment: f64,
}

/// A label scored by the fitted model.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LabelScore {
    /// Probability of the labelled pair from its fields (before the rules).
    pub probability: f64,
    pub is_match: bool,
}

/// Precision and recall of the labels at one threshold (`None`: no pair predicted, or no
/// match labelled).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurvePoint {
    pub threshold: f64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ReviewOutput {
    pub fields: Vec<FieldSpec>,
    pub model: FsModel,
    pub candidate_pairs: usize,
    pub matched_pairs: usize,
    /// Candidate pairs per tenth of probability (0–0.1, …, 0.9–1).
    pub histogram: [usize; 10],
    /// The pairs nearest the threshold that are not labelled yet, nearest first.
    pub pairs: Vec<ReviewPair>,
    pub labels: Vec<LabelScore>,
    pub curve: Vec<CurvePoint>,
    /// The threshold of the curve with the best F1 on the labels (`None` without both a
    /// match and a non-match labelled).
    pub best_threshold: Option<f64>,
}

/// Whether the example labels records `x` and `y` (either way round).
fn labels(e: &EntityExample, x: &Record, y: &Record) -> bool {
    (&e.left == x && &e.right == y) || (&e.left == y && &e.right == x)
}

/// Scores every candidate of `records` and picks the `limit` unlabelled pairs nearest
/// `opts.threshold`; `examples` refine the model and are scored for the curve.
pub fn review(
    records: &[Record],
    examples: &[EntityExample],
    opts: &LinkOptions,
    limit: usize,
) -> ReviewOutput {
    let mut fields = infer_fields(records.iter());
    let mut a: Vec<Prepared> = records.par_iter().map(|r| prepare(&fields, r)).collect();
    let (cand, _) = dedup_candidates_and_big(&fields, &a, &opts.blocking);
    let mut flat = vectors(&fields, &a, &a, &cand);
    let labelled = examples_vectors(&fields, &fields, examples);
    let mut model = fit(&fields, &a, &a, &flat, &labelled, opts, true);
    // the columns dedup leaves out, left out here too: the same model
    if let Some(m) = super::linkage::Unrelated::find(&model, &flat, &fields) {
        (fields, a, flat, model) = m.refit_dedup(&fields, &a, &flat, examples, opts);
    }
    let tf = TermFrequencies::count(&fields, &[&a]);
    let (mut scored, _) = score_all(
        &fields,
        &model,
        &a,
        &a,
        &cand,
        &flat,
        opts.threshold,
        true,
        false,
        &tf,
    );
    let mut histogram = [0usize; 10];
    for p in &scored {
        histogram[((p.probability * 10.0) as usize).min(9)] += 1;
    }
    let matched_pairs = scored.iter().filter(|p| p.is_match).count();
    scored.retain(|p| {
        !examples
            .iter()
            .any(|e| labels(e, &records[p.left], &records[p.right]))
    });
    let t = opts.threshold;
    scored.sort_by(|x, y| {
        (x.probability - t)
            .abs()
            .total_cmp(&(y.probability - t).abs())
            .then(x.left.cmp(&y.left))
            .then(x.right.cmp(&y.right))
    });
    scored.truncate(limit);
    let prior = (model.lambda / (1.0 - model.lambda)).log2();
    let pairs = scored
        .into_iter()
        .map(|p| {
            let levels = compare(&fields, &a[p.left], &a[p.right]);
            let field_weights = model.field_weights(&levels);
            let adjustment = p.weight - prior - field_weights.iter().sum::<f64>();
            ReviewPair {
                left: p.left,
                right: p.right,
                probability: p.probability,
                weight: p.weight,
                rule: p.rule,
                is_match: p.is_match,
                levels,
                field_weights,
                prior,
                adjustment,
            }
        })
        .collect();
    let label_scores: Vec<LabelScore> = labelled
        .iter()
        .map(|(v, m)| LabelScore {
            probability: model.probability(v),
            is_match: *m,
        })
        .collect();
    let (curve, best_threshold) = curve(&label_scores);
    ReviewOutput {
        fields,
        model,
        candidate_pairs: cand.len(),
        matched_pairs,
        histogram,
        pairs,
        labels: label_scores,
        curve,
        best_threshold,
    }
}

/// Precision and recall of `labels` at thresholds 0.05, 0.10, …, 0.95, and the threshold
/// of best F1 (the lowest of equals).
pub fn curve(labels: &[LabelScore]) -> (Vec<CurvePoint>, Option<f64>) {
    let positives = labels.iter().filter(|l| l.is_match).count();
    let negatives = labels.len() - positives;
    let mut points = Vec::with_capacity(19);
    let mut best: Option<(f64, f64)> = None;
    for k in 1..20 {
        let threshold = k as f64 / 20.0;
        let predicted: Vec<&LabelScore> = labels
            .iter()
            .filter(|l| l.probability >= threshold)
            .collect();
        let tp = predicted.iter().filter(|l| l.is_match).count();
        let precision = (!predicted.is_empty()).then(|| tp as f64 / predicted.len() as f64);
        let recall = (positives > 0).then(|| tp as f64 / positives as f64);
        if let (Some(p), Some(r)) = (precision, recall)
            && p + r > 0.0
            && negatives > 0
        {
            let f1 = 2.0 * p * r / (p + r);
            if best.is_none_or(|(_, b)| f1 > b + 1e-12) {
                best = Some((threshold, f1));
            }
        }
        points.push(CurvePoint {
            threshold,
            precision,
            recall,
        });
    }
    (points, best.map(|(t, _)| t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: serde_json::Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    fn people() -> Vec<Record> {
        let names = [
            ("john smith", "boston", "1980-01-02"),
            ("jon smith", "boston", "1980-01-02"),
            ("mary jones", "perth", "1975-03-04"),
            ("marie jones", "perth", "1975-03-14"),
            ("alice brown", "hobart", "1990-05-06"),
            ("alice browne", "sydney", "1991-05-06"),
            ("bob white", "darwin", "1960-07-08"),
        ];
        names
            .iter()
            .map(|(n, c, d)| rec(json!({"name": n, "city": c, "dob": d})))
            .collect()
    }

    /// Review leaves out the columns dedup leaves out, so that its pairs and curve come
    /// from the model the clusters came from.
    #[test]
    fn review_leaves_out_the_columns_dedup_leaves_out() {
        let mut recs = Vec::new();
        let mut x: u64 = 7;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        };
        for i in 0..150 {
            for copy in 0..2 {
                let name = format!("{} lee{i}", ["ann", "bob", "cy", "di"][i % 4]);
                let name = if copy == 1 && i % 5 == 0 {
                    name.replace("lee", "le")
                } else {
                    name
                };
                let status = ["open", "closed", "paid"][next(3) as usize];
                recs.push(rec(json!({
                    "name": name,
                    "dob": format!("19{}-0{}-1{}", 40 + i % 50, 1 + i % 9, i % 10),
                    "city": format!("town{}", i % 30),
                    "amount": format!("{}.{:02}", next(5000), next(100)),
                    "status": status,
                })));
            }
        }
        let opts = LinkOptions::default();
        let out = review(&recs, &[], &opts, 10);
        let dedup = super::super::linkage::dedup(&recs, &[], &opts);
        assert!(!out.model.unrelated.is_empty(), "{:?}", out.fields);
        assert_eq!(out.model.unrelated, dedup.link.model.unrelated);
        assert!(
            out.fields
                .iter()
                .all(|f| !out.model.unrelated.contains(&f.name))
        );
    }

    /// The pairs come nearest the threshold first, with one level and weight per field,
    /// and a labelled pair is not offered again.
    #[test]
    fn uncertain_pairs_come_first_and_labelled_ones_leave() {
        let recs = people();
        let opts = LinkOptions {
            threshold: 0.85,
            ..LinkOptions::default()
        };
        let out = review(&recs, &[], &opts, 50);
        assert!(out.candidate_pairs >= 3, "{}", out.candidate_pairs);
        assert_eq!(out.histogram.iter().sum::<usize>(), out.candidate_pairs);
        let dist: Vec<f64> = out
            .pairs
            .iter()
            .map(|p| (p.probability - 0.85).abs())
            .collect();
        assert!(dist.windows(2).all(|w| w[0] <= w[1]), "{dist:?}");
        for p in &out.pairs {
            assert_eq!(p.levels.len(), out.fields.len());
            assert_eq!(p.field_weights.len(), out.fields.len());
        }
        let first = &out.pairs[0];
        let ex = EntityExample {
            left: recs[first.right].clone(),
            right: recs[first.left].clone(),
            is_match: true,
        };
        let again = review(&recs, std::slice::from_ref(&ex), &opts, 50);
        assert_eq!(again.pairs.len(), out.pairs.len() - 1);
        assert!(
            !again
                .pairs
                .iter()
                .any(|p| (p.left, p.right) == (first.left, first.right))
        );
        assert_eq!(again.labels.len(), 1);
    }

    #[test]
    fn the_curve_finds_the_threshold_that_separates_the_labels() {
        let l = |probability, is_match| LabelScore {
            probability,
            is_match,
        };
        let labels = [l(0.9, true), l(0.7, true), l(0.5, false), l(0.2, false)];
        let (points, best) = curve(&labels);
        assert_eq!(points.len(), 19);
        let best = best.unwrap();
        assert!(best > 0.5 && best <= 0.7, "{best}");
        let at = |t: f64| {
            points
                .iter()
                .find(|p| (p.threshold - t).abs() < 1e-9)
                .unwrap()
        };
        assert_eq!(at(0.6).precision, Some(1.0));
        assert_eq!(at(0.8).recall, Some(0.5));
        assert_eq!(at(0.95).precision, None);
        // only matches labelled: no threshold to suggest
        assert_eq!(curve(&[l(0.9, true)]).1, None);
    }
}
