//! `--pairs out.csv`: every candidate pair of a run, one row each, with what the model saw
//! (each field's agreement level), what it concluded (weight, probability, predicted) and
//! the truth.
//!
//! Why: an F1 below target says nothing of whether the engine or the data is at fault.
//! `bench/oracle.py` reads this file and measures what any decision on the same
//! comparisons could reach with the truth in hand (the best threshold on the run's
//! probability; agreement patterns decided by their rate in the other half of the pairs),
//! so a set whose F1 sits near that bound is limited by its noise, and one far below it
//! has headroom left in the model.

use std::path::Path;

use crate::engine::Record;
use crate::engine::fs::MISSING;
use crate::engine::linkage::LinkOutput;

use super::EvalError;

/// One candidate pair: its ids, model output and whether it is predicted and true (both
/// decided by the caller: a link's truth is oriented left to right, a dedup's is not).
pub(super) struct PairRow<'a> {
    pub left_id: &'a str,
    pub right_id: &'a str,
    pub left: &'a Record,
    pub right: &'a Record,
    /// Fellegi–Sunter weight with term frequencies; `None` where the run keeps only the
    /// probability (dedup).
    pub weight: Option<f64>,
    pub probability: f64,
    pub predicted: bool,
    pub is_true: bool,
}

/// Writes the rows to `path` as CSV: `left_id,right_id,weight,probability,predicted,true`
/// and one column per compared field holding its level (empty when a side lacks it).
pub(super) fn write<'a>(
    path: &Path,
    out: &LinkOutput,
    rows: impl Iterator<Item = PairRow<'a>>,
) -> Result<(), EvalError> {
    let io = |source: std::io::Error| EvalError::Pairs {
        path: path.to_path_buf(),
        source,
    };
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => io(std::io::Error::other(format!("{other:?}"))),
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    let mut header: Vec<String> = [
        "left_id",
        "right_id",
        "weight",
        "probability",
        "predicted",
        "true",
    ]
    .map(String::from)
    .to_vec();
    header.extend(out.fields.iter().map(|f| format!("level:{}", f.name)));
    w.write_record(&header).map_err(csv_err)?;
    for r in rows {
        let mut row = vec![
            r.left_id.to_string(),
            r.right_id.to_string(),
            r.weight.map(|w| format!("{w:.4}")).unwrap_or_default(),
            format!("{:.9}", r.probability),
            u8::from(r.predicted).to_string(),
            u8::from(r.is_true).to_string(),
        ];
        row.extend(out.explain_pair(r.left, r.right).into_iter().map(|(l, _)| {
            if l == MISSING {
                String::new()
            } else {
                l.to_string()
            }
        }));
        w.write_record(&row).map_err(csv_err)?;
    }
    w.flush().map_err(io)
}
