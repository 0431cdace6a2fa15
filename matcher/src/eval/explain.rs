//! What `--explain` and `--show-errors` print: the model per field and level, the
//! wrong and missed pairs with their field weights, the cluster-size histogram.

use super::*;

/// `cluster_sizes=1:N 2:N 3-5:N ...`: how many clusters of each size (records in no
/// predicted cluster count as clusters of one).
pub(super) fn cluster_histogram(records: usize, clusters: &[Vec<String>]) -> String {
    const BINS: [(usize, usize); 7] = [
        (1, 1),
        (2, 2),
        (3, 5),
        (6, 20),
        (21, 100),
        (101, 500),
        (501, usize::MAX),
    ];
    let mut counts = [0usize; 7];
    let in_clusters: usize = clusters.iter().map(Vec::len).sum();
    counts[0] = records.saturating_sub(in_clusters);
    for c in clusters {
        if let Some(k) = BINS
            .iter()
            .position(|&(lo, hi)| (lo..=hi).contains(&c.len()))
        {
            counts[k] += 1;
        }
    }
    let parts: Vec<String> = BINS
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(&(lo, hi), n)| match (lo == hi, hi == usize::MAX) {
            (true, _) => format!("{lo}:{n}"),
            (_, true) => format!("{lo}+:{n}"),
            _ => format!("{lo}-{hi}:{n}"),
        })
        .collect();
    format!("cluster_sizes={}", parts.join(" "))
}

/// Up to `n` of each kind of error (`--show-errors`), sorted: true pairs that were never
/// candidates, true candidates not matched, predicted pairs that are not true.
pub(super) fn error_lines(
    n: usize,
    truth: &HashSet<(String, String)>,
    candidates: &HashSet<(String, String)>,
    predicted: &HashSet<(String, String)>,
    note: impl Fn(&(String, String)) -> Option<String>,
) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let pick = |label: &str, pairs: Vec<&(String, String)>| {
        let mut pairs = pairs;
        pairs.sort();
        pairs
            .into_iter()
            .take(n)
            .map(|p| match note(p) {
                Some(n) => format!("{label}: {} <-> {} ({n})", p.0, p.1),
                None => format!("{label}: {} <-> {}", p.0, p.1),
            })
            .collect::<Vec<_>>()
    };
    let mut out = pick(
        "not_a_candidate",
        truth.iter().filter(|p| !candidates.contains(*p)).collect(),
    );
    out.extend(pick(
        "missed",
        truth
            .iter()
            .filter(|p| candidates.contains(*p) && !predicted.contains(*p))
            .collect(),
    ));
    out.extend(pick(
        "wrong",
        predicted.iter().filter(|p| !truth.contains(*p)).collect(),
    ));
    out
}

/// A pair's fields with their agreement levels and weights (`given_name L0 +7.8`, a field
/// a side lacks as `surname -`), for the errors `--explain` lists.
///
/// With the pair's `weight`, the line ends with the prior and what the field weights and
/// the prior leave of it: the term-frequency adjustments (a rare value agreeing weighs
/// more than the field's average, `smith` less), so the parts add up to the weight.
pub(super) fn field_levels(
    out: &linkage::LinkOutput,
    l: &crate::engine::Record,
    r: &crate::engine::Record,
    weight: Option<f64>,
) -> String {
    let levels = out.explain_pair(l, r);
    let mut parts: Vec<String> = levels
        .iter()
        .zip(&out.fields)
        .map(|(&(level, w), f)| {
            if level == crate::engine::fs::MISSING {
                format!("{} -", f.name)
            } else {
                format!("{} L{level} {w:+.1}", f.name)
            }
        })
        .collect();
    if let Some(weight) = weight {
        let fields: Vec<f64> = levels.iter().map(|&(_, w)| w).collect();
        let tf = weight - out.model.weight_from(&fields);
        parts.push(format!("prior {:+.1}", out.model.prior_weight()));
        parts.push(format!("term frequencies {tf:+.1}"));
    }
    parts.join(", ")
}

/// The estimated model, one line per field (`--explain`).
pub(super) fn explain_model(m: &crate::engine::fs::FsModel, threshold: f64) -> Vec<String> {
    let mut v = vec![format!(
        "model: threshold={threshold} prior(lambda)={:.6} em_iterations={}",
        m.lambda, m.iterations
    )];
    v.extend(m.notes().into_iter().map(|n| format!("model: {n}")));
    for (f, spec) in m.fields.iter().enumerate() {
        let levels: Vec<String> = (0..crate::engine::fs::LEVELS)
            .map(|l| {
                format!(
                    "L{l} m={:.4} u={:.4} w={:+.2}",
                    m.m[f][l],
                    m.u[f][l],
                    m.level_weight(f, l)
                )
            })
            .collect();
        let cols = if spec.columns.is_empty() {
            String::new()
        } else {
            format!(" from {}", spec.source_label())
        };
        v.push(format!(
            "model: {} ({:?}{cols}): {}",
            spec.name,
            spec.kind,
            levels.join(" | ")
        ));
    }
    v
}
