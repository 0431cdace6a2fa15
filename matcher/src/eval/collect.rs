//! What `eval … --report` hands to [`super::report`]: the engine's model, the misses
//! with their records and the summary, turned into the report's plain data. Kept apart
//! from `eval.rs` (which measures) and `report.rs` (which renders, knowing nothing of the
//! engine).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::report::{FieldModel, MISS_CAP, Miss, MissKind, Misses, ModelView, ReportData};
use super::{EvalError, EvalReport};
use crate::engine::Record;
use crate::engine::fs::{FsModel, LEVELS};

/// The estimated model, field by field.
pub(super) fn model_view(m: &FsModel) -> ModelView {
    ModelView {
        prior: m.lambda,
        iterations: m.iterations,
        note: m.em_note.clone(),
        fields: m
            .fields
            .iter()
            .enumerate()
            .map(|(f, spec)| FieldModel {
                name: spec.name.clone(),
                kind: if spec.columns.is_empty() {
                    format!("{:?}", spec.kind)
                } else {
                    format!("{:?} from {}", spec.kind, spec.columns.join("+"))
                },
                m: m.m.get(f).map(|v| v.to_vec()).unwrap_or_default(),
                u: m.u.get(f).map(|v| v.to_vec()).unwrap_or_default(),
                weight: (0..LEVELS).map(|l| m.level_weight(f, l)).collect(),
            })
            .collect(),
    }
}

/// A record's columns and values as text, in file order.
pub(super) fn columns(r: Option<&Record>) -> Vec<(String, String)> {
    r.map(|r| {
        r.iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Records by id.
pub(super) fn by_id<'a>(ids: &'a [String], records: &'a [Record]) -> HashMap<&'a str, &'a Record> {
    ids.iter().map(String::as_str).zip(records).collect()
}

/// False negatives (true pairs not predicted) and false positives (predicted pairs not
/// true), the first [`MISS_CAP`] of each by id, with both records and the pair's
/// probability where it was scored.
pub(super) fn misses(
    truth: &HashSet<(String, String)>,
    candidates: &HashSet<(String, String)>,
    predicted: &HashSet<(String, String)>,
    probability: &HashMap<(String, String), f64>,
    left: &HashMap<&str, &Record>,
    right: &HashMap<&str, &Record>,
) -> (Misses, Misses) {
    let list = |pairs: Vec<&(String, String)>, kind: &dyn Fn(&(String, String)) -> MissKind| {
        let total = pairs.len();
        let mut pairs = pairs;
        pairs.sort();
        let shown = pairs
            .into_iter()
            .take(MISS_CAP)
            .map(|p| Miss {
                kind: kind(p),
                left_id: p.0.clone(),
                right_id: p.1.clone(),
                probability: probability.get(p).copied(),
                left: columns(left.get(p.0.as_str()).copied()),
                right: columns(right.get(p.1.as_str()).copied()),
            })
            .collect();
        Misses { total, shown }
    };
    let fneg = list(
        truth.iter().filter(|p| !predicted.contains(*p)).collect(),
        &|p| {
            if candidates.contains(p) {
                MissKind::Missed
            } else {
                MissKind::NotACandidate
            }
        },
    );
    let fpos = list(
        predicted.iter().filter(|p| !truth.contains(*p)).collect(),
        &|_| MissKind::Wrong,
    );
    (fneg, fpos)
}

/// The summary table: the inputs, the threshold and every figure the run printed.
pub(super) fn summary(
    r: &EvalReport,
    inputs: &[(&str, &Path)],
    threshold: Option<f64>,
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = vec![
        ("task".into(), r.task.clone()),
        ("backbone".into(), r.backbone.clone()),
    ];
    v.extend(
        inputs
            .iter()
            .map(|(k, p)| ((*k).to_string(), p.display().to_string())),
    );
    if let Some(t) = threshold {
        v.push(("threshold".into(), t.to_string()));
    }
    v.extend([
        ("precision".into(), format!("{:.4}", r.precision)),
        ("recall".into(), format!("{:.4}", r.recall)),
        ("F1".into(), format!("{:.4}", r.f1)),
        ("true pairs".into(), r.true_pairs.to_string()),
        ("predicted pairs".into(), r.predicted_pairs.to_string()),
        ("correct pairs".into(), r.correct_pairs.to_string()),
        ("candidate pairs".into(), r.candidate_pairs.to_string()),
    ]);
    if let Some(b) = r.blocking_recall {
        v.push(("blocking recall".into(), format!("{b:.4}")));
    }
    if let Some(b) = r.blocking_reach {
        v.push(("blocking reach".into(), format!("{b:.4}")));
    }
    v.push(("wall seconds".into(), format!("{:.3}", r.wall_seconds)));
    v
}

/// Renders the page and writes it to `path`.
pub(super) fn write(path: &Path, data: &ReportData) -> Result<(), EvalError> {
    std::fs::write(path, super::report::build(data)).map_err(|source| EvalError::Report {
        path: path.to_path_buf(),
        source,
    })
}
