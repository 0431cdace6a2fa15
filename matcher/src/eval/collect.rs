//! What `eval … --report` hands to [`super::report`]: a run's scored pairs, the engine's
//! model, the misses with their records and the summary, turned into the report's plain
//! data. Kept apart from `eval.rs` (which measures) and `report.rs` (which renders, knowing
//! nothing of the engine).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::report::{
    self, FieldModel, MISS_CAP, Miss, MissKind, Misses, ModelView, ReportData, Scored,
};
use super::{BackboneArg, DedupArgs, EmArgs, EvalError, EvalReport, SmArgs, unordered};
use crate::engine::Record;
use crate::engine::fs::{FsModel, LEVELS};
use crate::engine::linkage::{DedupOutput, LinkOutput, ScoredPair};

type Pair = (String, String);

/// One table of a run: its ids and records (same order).
pub(super) struct Side<'a> {
    pub ids: &'a [String],
    pub records: &'a [Record],
}

/// The id pairs of a run.
pub(super) struct Pairs<'a> {
    pub truth: &'a HashSet<Pair>,
    pub candidates: &'a HashSet<Pair>,
    pub predicted: &'a HashSet<Pair>,
    /// `eval em --judged`: only these pairs are scored.
    pub judged: Option<&'a HashSet<Pair>>,
}

/// The page of a link run (`eval em`).
pub(super) fn em(
    a: &EmArgs,
    r: &EvalReport,
    threshold: f64,
    out: &LinkOutput,
    left: Side,
    right: Side,
    pairs: Pairs,
) -> ReportData {
    let ids = |p: &ScoredPair| (left.ids[p.left].clone(), right.ids[p.right].clone());
    // with --judged only the judged pairs are scored, as for the printed figures
    let probability: HashMap<Pair, f64> = out
        .pairs
        .iter()
        .map(|p| (ids(p), p.probability))
        .filter(|(p, _)| pairs.judged.is_none_or(|j| j.contains(p)))
        .collect();
    let (false_negatives, false_positives) = misses(
        pairs.truth,
        pairs.candidates,
        pairs.predicted,
        &probability,
        &by_id(left.ids, left.records),
        &by_id(right.ids, right.records),
    );
    let mut inputs = vec![
        ("left", a.left.as_path()),
        ("right", a.right.as_path()),
        ("truth", a.truth.as_path()),
    ];
    if let Some(j) = &a.judged {
        inputs.push(("judged", j.as_path()));
    }
    let mut summary = summary(r, &inputs, Some(threshold));
    summary.extend(out.alignment.iter().map(|p| {
        (
            "aligned".to_string(),
            format!("{} <-> {} ({:.2})", p.left, p.right, p.score),
        )
    }));
    ReportData {
        title: format!("eval em {} {}", a.left.display(), a.right.display()),
        summary,
        threshold,
        true_pairs: pairs.truth.len(),
        scored: scored(&probability, pairs.truth),
        curve_note: curve_note(
            a.common.backbone,
            "Candidate pairs scored by the Fellegi-Sunter model, before the one-to-one \
             assignment.",
        ),
        model: Some(model_view(&out.model)),
        false_negatives,
        false_positives,
        ..Default::default()
    }
}

/// The page of a dedup run; `clusters` are the predicted clusters of more than one id.
pub(super) fn dedup(
    a: &DedupArgs,
    r: &EvalReport,
    threshold: f64,
    out: &DedupOutput,
    table: Side,
    clusters: &[Vec<String>],
    pairs: Pairs,
) -> ReportData {
    let probability: HashMap<Pair, f64> = out
        .candidates
        .iter()
        .zip(&out.candidate_scores)
        .map(|(&(i, j), &p)| {
            let pair = unordered(table.ids[i as usize].clone(), table.ids[j as usize].clone());
            (pair, p)
        })
        .collect();
    let records = by_id(table.ids, table.records);
    let (false_negatives, false_positives) = misses(
        pairs.truth,
        pairs.candidates,
        pairs.predicted,
        &probability,
        &records,
        &records,
    );
    let in_clusters: usize = clusters.iter().map(Vec::len).sum();
    let mut cluster_sizes: Vec<usize> = clusters.iter().map(Vec::len).collect();
    cluster_sizes.extend(std::iter::repeat_n(
        1,
        table.ids.len().saturating_sub(in_clusters),
    ));
    ReportData {
        title: format!("eval dedup {}", a.input.display()),
        summary: summary(
            r,
            &[("input", a.input.as_path()), ("truth", a.truth.as_path())],
            Some(threshold),
        ),
        threshold,
        true_pairs: pairs.truth.len(),
        scored: scored(&probability, pairs.truth),
        curve_note: curve_note(
            a.common.backbone,
            "Candidate pairs, each on its own: clustering then joins and splits them, so the \
             figures above (pairs within the final clusters) differ.",
        ),
        cluster_sizes,
        model: Some(model_view(&out.link.model)),
        false_negatives,
        false_positives,
        ..Default::default()
    }
}

/// The page of a schema-matching run: every true or predicted column pair.
pub(super) fn sm(
    a: &SmArgs,
    r: &EvalReport,
    score: &HashMap<Pair, f64>,
    truth: &HashSet<Pair>,
    predicted: &HashSet<Pair>,
) -> ReportData {
    let mut pairs: Vec<&Pair> = truth.union(predicted).collect();
    pairs.sort();
    ReportData {
        title: format!("eval sm {} {}", a.source.display(), a.target.display()),
        summary: summary(
            r,
            &[
                ("source", a.source.as_path()),
                ("target", a.target.as_path()),
                ("truth", a.truth.as_path()),
            ],
            a.common.threshold,
        ),
        schema: pairs
            .into_iter()
            .map(|p| report::SchemaRow {
                source: p.0.clone(),
                target: p.1.clone(),
                score: score.get(p).copied(),
                is_true: truth.contains(p),
                predicted: predicted.contains(p),
            })
            .collect(),
        ..Default::default()
    }
}

/// Each scored pair's probability and whether it is true.
fn scored(probability: &HashMap<Pair, f64>, truth: &HashSet<Pair>) -> Vec<Scored> {
    probability
        .iter()
        .map(|(p, &prob)| Scored {
            probability: prob,
            is_true: truth.contains(p),
        })
        .collect()
}

/// What the curve's pairs are; with an LLM backbone the curve is still the local model's.
fn curve_note(backbone: BackboneArg, what: &str) -> String {
    if backbone == BackboneArg::Local {
        what.to_string()
    } else {
        format!(
            "{what} The curve is the local model's scores; the {backbone:?} backbone decided \
             the matches counted above."
        )
    }
}

/// The estimated model, field by field.
pub(super) fn model_view(m: &FsModel) -> ModelView {
    ModelView {
        prior: m.lambda,
        iterations: m.iterations,
        // how EM ended, and how the prior was lowered for a large file
        note: [
            m.em_note.as_ref().map(|n| format!("EM: {n}.")),
            m.prior_note.as_ref().map(|p| format!("Prior: {p}.")),
        ]
        .into_iter()
        .flatten()
        .reduce(|a, b| format!("{a} {b}")),
        unrelated: m.unrelated.clone(),
        apart: m.apart.clone(),
        fields: m
            .fields
            .iter()
            .enumerate()
            .map(|(f, spec)| FieldModel {
                name: spec.name.clone(),
                kind: if spec.columns.is_empty() {
                    format!("{:?}", spec.kind)
                } else {
                    format!("{:?} from {}", spec.kind, spec.source_label())
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

#[cfg(test)]
mod tests {
    use super::super::{CommonArgs, EvalArgs, run};
    use super::*;
    use crate::config::Config;

    #[tokio::test]
    async fn em_and_sm_runs_write_their_pages() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("a.csv"), "id,name,city\n1,arnie mortons of chicago,los angeles\n2,arts delicatessen,studio city\n3,spago,beverly hills\n").unwrap();
        std::fs::write(p("b.csv"), "id,name,city\n10,arnie morton's of chicago,los angeles\n11,art's deli,studio city\n12,chinois on main,santa monica\n").unwrap();
        // 3-12 is a true pair no matcher finds: a false negative with both records
        std::fs::write(p("t.csv"), "a,b\n1,10\n2,11\n3,12\n").unwrap();
        let common = CommonArgs {
            backbone: BackboneArg::Local,
            threshold: None,
            model: None,
            base_url: None,
            model_path: None,
            rules_dir: None,
            explain: false,
            show_errors: 0,
            report: Some(p("em.html")),
        };
        let r = run(
            EvalArgs::Em(EmArgs {
                left: p("a.csv"),
                right: p("b.csv"),
                truth: p("t.csv"),
                id_column: None,
                many_to_many: false,
                one_to_one: false,
                columns: None,
                pairs: None,
                judged: None,
                common: common.clone(),
            }),
            &Config::default(),
        )
        .await
        .unwrap();
        let page = std::fs::read_to_string(p("em.html")).unwrap();
        assert!(page.contains(&format!("<tr><th>recall</th><td>{:.4}</td></tr>", r.recall)));
        assert!(
            page.contains("<td>name &lt;-&gt; name (1.00)</td>"),
            "the alignment"
        );
        assert!(page.contains("<h2 id=\"curve\">") && page.contains("<h2 id=\"model\">"));
        assert!(
            page.contains(
                "<div class=\"l\">spago</div><div class=\"r diff\">chinois on main</div>"
            ) || page.contains(
                "<div class=\"l diff\">spago</div><div class=\"r diff\">chinois on main</div>"
            ),
            "the missed pair's records"
        );
        assert!(!page.contains("Cluster sizes"), "no clusters in a link");

        std::fs::write(
            p("s.json"),
            r#"{"name": "s", "columns": [{"name": "surname"}, {"name": "dob", "type": "date"}]}"#,
        )
        .unwrap();
        std::fs::write(
            p("u.json"),
            r#"{"name": "u", "columns": [{"name": "surname"}, {"name": "date_of_birth", "type": "date"}]}"#,
        )
        .unwrap();
        std::fs::write(p("st.csv"), "a,b\nsurname,surname\ndob,nickname\n").unwrap();
        run(
            EvalArgs::Sm(SmArgs {
                source: p("s.json"),
                target: p("u.json"),
                truth: p("st.csv"),
                common: CommonArgs {
                    report: Some(p("sm.html")),
                    ..common
                },
            }),
            &Config::default(),
        )
        .await
        .unwrap();
        let page = std::fs::read_to_string(p("sm.html")).unwrap();
        assert!(page.contains("<tr><td>surname</td><td>surname</td>"));
        assert!(page.contains("<tr><td>dob</td><td>nickname</td><td class=\"n\">-</td><td class=\"bad\">missed</td></tr>"), "{page}");
    }
}
