//! `eval … --report out.html`: one self-contained HTML page of an evaluation, for reading
//! a run rather than grepping its lines: the summary, precision, recall and F1 against the
//! threshold, the cluster sizes, the estimated m and u per field and level, and the
//! misses with both records side by side.
//!
//! Pure: [`build`] takes plain data ([`ReportData`], gathered by `eval`) and returns the
//! page as a string, so it is tested without running the engine. The page needs nothing
//! outside itself: the charts are inline SVG ([`crate::charts`], drawn by `plotters`), the
//! style is inline CSS, there is no script and no URL, so it can be mailed or archived
//! and opened offline. Every value that came from the data (record values, ids, column
//! names) is HTML-escaped: a record may hold `<script>`.

use std::fmt::Write as _;

use crate::charts;
pub use crate::charts::{CurvePoint, FieldModel, size_bins};

/// At most this many false negatives and as many false positives are shown.
pub const MISS_CAP: usize = 50;

/// Thresholds of the precision/recall curve: `0, 1/STEPS, …, 1`.
pub const CURVE_STEPS: usize = 100;

/// One scored candidate pair: its match probability and whether the truth holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub probability: f64,
    pub is_true: bool,
}

/// The estimated Fellegi–Sunter model.
#[derive(Debug, Clone, Default)]
pub struct ModelView {
    /// Prior probability that a candidate pair matches.
    pub prior: f64,
    pub iterations: usize,
    /// How the EM ended when it did not converge.
    pub note: Option<String>,
    /// Columns left out of the comparison as unrelated to identity.
    pub unrelated: Vec<String>,
    /// Columns whose m was estimated on the matches the other columns find
    /// (`FsModel::estimate_m_apart`).
    pub apart: Vec<String>,
    pub fields: Vec<FieldModel>,
}

/// Why a pair is a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissKind {
    /// A true pair blocking never proposed.
    NotACandidate,
    /// A true pair proposed but not matched.
    Missed,
    /// A predicted pair that is not true.
    Wrong,
}

/// One missed or wrong pair with both records (`(column, value)` in file order).
#[derive(Debug, Clone)]
pub struct Miss {
    pub kind: MissKind,
    pub left_id: String,
    pub right_id: String,
    /// The pair's match probability, when it was scored.
    pub probability: Option<f64>,
    pub left: Vec<(String, String)>,
    pub right: Vec<(String, String)>,
}

/// Some of a kind of miss, and how many there were in all.
#[derive(Debug, Clone, Default)]
pub struct Misses {
    pub total: usize,
    /// The first ones (sorted by id); the page shows at most [`MISS_CAP`].
    pub shown: Vec<Miss>,
}

/// A schema pair that is true, predicted or both (`eval sm`).
#[derive(Debug, Clone)]
pub struct SchemaRow {
    pub source: String,
    pub target: String,
    /// The matcher's score when it predicted the pair.
    pub score: Option<f64>,
    pub is_true: bool,
    pub predicted: bool,
}

/// Everything the page shows; empty parts are left out of it.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// `eval dedup people.csv`, say.
    pub title: String,
    /// Summary rows (name, value), in order.
    pub summary: Vec<(String, String)>,
    /// The decision threshold used.
    pub threshold: f64,
    /// True pairs in all (the recall's denominator: pairs blocking never proposed count).
    pub true_pairs: usize,
    /// Every scored candidate pair (the precision/recall curve; empty: no curve).
    pub scored: Vec<Scored>,
    /// What the curve's pairs are, shown under it.
    pub curve_note: String,
    /// Size of every cluster, lone records included (empty: no histogram).
    pub cluster_sizes: Vec<usize>,
    pub model: Option<ModelView>,
    /// True pairs not predicted (not candidates, or candidates not matched).
    pub false_negatives: Misses,
    /// Predicted pairs that are not true.
    pub false_positives: Misses,
    /// Schema matching: every true or predicted pair.
    pub schema: Vec<SchemaRow>,
}

/// The curve at `steps + 1` evenly spaced thresholds from 0 to 1: a pair counts as
/// predicted at `t` when its probability is at least `t`. Recall is over `true_pairs`
/// (so it tops out at blocking recall).
pub fn curve(scored: &[Scored], true_pairs: usize, steps: usize) -> Vec<CurvePoint> {
    let mut sorted: Vec<&Scored> = scored
        .iter()
        .filter(|s| s.probability.is_finite())
        .collect();
    sorted.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    let steps = steps.max(1);
    let (mut taken, mut correct) = (0usize, 0usize);
    let mut out = Vec::with_capacity(steps + 1);
    // thresholds from the top down, so each pair is taken once
    for k in (0..=steps).rev() {
        let t = k as f64 / steps as f64;
        while taken < sorted.len() && sorted[taken].probability >= t {
            correct += usize::from(sorted[taken].is_true);
            taken += 1;
        }
        let precision = (taken > 0).then(|| correct as f64 / taken as f64);
        let recall = if true_pairs == 0 {
            0.0
        } else {
            correct as f64 / true_pairs as f64
        };
        let f1 = precision
            .filter(|p| p + recall > 0.0)
            .map(|p| 2.0 * p * recall / (p + recall));
        out.push(CurvePoint {
            threshold: t,
            precision,
            recall,
            f1,
        });
    }
    out.reverse();
    out
}

/// `s` safe as HTML text and as a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:sans-serif;margin:24px auto;max-width:1140px;color:#222;line-height:1.4}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:13px}.err{color:#b00}
.charts{display:flex;flex-wrap:wrap;gap:8px}
svg{max-width:100%;height:auto}
.miss td{max-width:22em;overflow-wrap:break-word}.miss .l,.miss .r{min-height:1.3em}
.miss .r{border-top:1px dotted #ccc}.diff{background:#fff1c2}
.wrap{overflow-x:auto}
table.sum{display:block;columns:3;column-gap:12px}table.sum tbody{display:block}
table.sum tr{display:flex;break-inside:avoid;margin-bottom:-1px}
table.sum th{flex:0 0 125px}table.sum td{flex:1;overflow-wrap:anywhere}
.ok{color:#2a7a2a}.bad{color:#b00}
";

/// The whole page.
pub fn build(data: &ReportData) -> String {
    let mut h = String::new();
    let title = escape(&data.title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    summary(&mut h, data);
    if !data.scored.is_empty() {
        precision_recall(&mut h, data);
    }
    if !data.cluster_sizes.is_empty() {
        clusters(&mut h, &data.cluster_sizes);
    }
    if let Some(m) = &data.model {
        model(&mut h, m, data.threshold);
    }
    if !data.schema.is_empty() {
        schema(&mut h, &data.schema);
    }
    if data.false_negatives.total > 0 || data.false_positives.total > 0 || !data.scored.is_empty() {
        misses(
            &mut h,
            "fn",
            "False negatives",
            "true pairs not matched",
            &data.false_negatives,
            data.threshold,
        );
        misses(
            &mut h,
            "fp",
            "False positives",
            "matched pairs that are not true",
            &data.false_positives,
            data.threshold,
        );
    }
    h.push_str("</body></html>\n");
    h
}

fn chart(h: &mut String, svg: Result<String, String>) {
    match svg {
        Ok(svg) => h.push_str(&svg),
        Err(e) => {
            let _ = write!(h, "<p class=\"err\">chart not drawn: {}</p>", escape(&e));
        }
    }
}

fn summary(h: &mut String, data: &ReportData) {
    h.push_str("<h2>Summary</h2>\n<table class=\"sum\">");
    for (k, v) in &data.summary {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    h.push_str("</table>\n");
}

fn precision_recall(h: &mut String, data: &ReportData) {
    let points = curve(&data.scored, data.true_pairs, CURVE_STEPS);
    h.push_str("<h2 id=\"curve\">Precision and recall against the threshold</h2>\n");
    chart(h, charts::precision_recall(&points, data.threshold));
    let at = curve_at(&data.scored, data.true_pairs, data.threshold);
    let best = points
        .iter()
        .filter_map(|p| p.f1.map(|f| (f, p.threshold)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let _ = writeln!(
        h,
        "<p class=\"note\">{} scored candidate pairs, {} true pairs in all (recall counts \
         the true pairs blocking never proposed). At the threshold used ({}): precision {}, \
         recall {:.4}, F1 {}.{} {}</p>",
        data.scored.len(),
        data.true_pairs,
        data.threshold,
        opt4(at.precision),
        at.recall,
        opt4(at.f1),
        best.map(|(f, t)| format!(" Best F1 on the curve: {f:.4} at {t:.2}."))
            .unwrap_or_default(),
        escape(&data.curve_note)
    );
}

fn opt4(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

/// The curve's point at exactly `threshold`.
fn curve_at(scored: &[Scored], true_pairs: usize, threshold: f64) -> CurvePoint {
    let (mut taken, mut correct) = (0usize, 0usize);
    for s in scored.iter().filter(|s| s.probability >= threshold) {
        taken += 1;
        correct += usize::from(s.is_true);
    }
    let precision = (taken > 0).then(|| correct as f64 / taken as f64);
    let recall = correct as f64 / true_pairs.max(1) as f64;
    let f1 = precision
        .filter(|p| p + recall > 0.0)
        .map(|p| 2.0 * p * recall / (p + recall));
    CurvePoint {
        threshold,
        precision,
        recall,
        f1,
    }
}

fn clusters(h: &mut String, sizes: &[usize]) {
    let bins = size_bins(sizes);
    let log = charts::wants_log_scale(&bins);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    h.push_str("<h2 id=\"clusters\">Cluster sizes</h2>\n");
    chart(h, charts::cluster_sizes(&bins, log));
    let _ = write!(
        h,
        "<p class=\"note\">{} clusters (lone records count as clusters of one); the \
         largest has {largest} records.</p>\n<table><tr><th>size</th>",
        sizes.len()
    );
    for (label, _) in &bins {
        let _ = write!(h, "<th>{}</th>", escape(label));
    }
    h.push_str("</tr><tr><th>clusters</th>");
    for (_, n) in &bins {
        let _ = write!(h, "<td class=\"n\">{n}</td>");
    }
    h.push_str("</tr></table>\n");
}

fn model(h: &mut String, m: &ModelView, threshold: f64) {
    h.push_str("<h2 id=\"model\">Estimated model: m and u per field and level</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">m (green): share of matching pairs at a level; u (orange): share of random pairs. \
         L0 is exact agreement, the last level disagreement; a level's weight is \
         log2(m/u). Prior (lambda) {:.6}, {} EM iterations, threshold {threshold}.{}{}{}</p>",
        m.prior,
        m.iterations,
        m.note
            .as_ref()
            .map(|n| format!(" {}", escape(n)))
            .unwrap_or_default(),
        if m.unrelated.is_empty() {
            String::new()
        } else {
            format!(
                " Not compared (no likely match comes near on them, or likely matches \
                 agree on them no more often than random pairs do): {}.",
                escape(&m.unrelated.join(", "))
            )
        },
        if m.apart.is_empty() {
            String::new()
        } else {
            format!(
                " m estimated on the matches the other fields find (two sources write \
                 these each their own way): {}.",
                escape(&m.apart.join(", "))
            )
        }
    );
    h.push_str("<div class=\"charts\">");
    for f in &m.fields {
        chart(h, charts::field_levels(f));
    }
    h.push_str("</div>\n<div class=\"wrap\"><table><tr><th>field</th><th>kind</th>");
    let levels = m.fields.iter().map(|f| f.m.len()).max().unwrap_or(0);
    for l in 0..levels {
        let _ = write!(h, "<th>L{l} m</th><th>L{l} u</th><th>L{l} weight</th>");
    }
    h.push_str("</tr>");
    for f in &m.fields {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td>",
            escape(&f.name),
            escape(&f.kind)
        );
        for l in 0..levels {
            let cell =
                |v: Option<&f64>, fmt: fn(f64) -> String| v.map(|&v| fmt(v)).unwrap_or_default();
            let _ = write!(
                h,
                "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                cell(f.m.get(l), |v| format!("{v:.4}")),
                cell(f.u.get(l), |v| format!("{v:.4}")),
                cell(f.weight.get(l), |v| format!("{v:+.2}")),
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>\n");
}

fn schema(h: &mut String, rows: &[SchemaRow]) {
    h.push_str(
        "<h2 id=\"columns\">Column pairs</h2>\n<table><tr><th>source</th><th>target</th><th>score</th>\
         <th>result</th></tr>",
    );
    for r in rows {
        let (class, what) = match (r.is_true, r.predicted) {
            (true, true) => ("ok", "correct"),
            (true, false) => ("bad", "missed"),
            _ => ("bad", "wrong"),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"{class}\">{what}</td></tr>",
            escape(&r.source),
            escape(&r.target),
            opt4(r.score),
        );
    }
    h.push_str("</table>\n");
}

fn misses(h: &mut String, id: &str, heading: &str, what: &str, m: &Misses, threshold: f64) {
    let shown = &m.shown[..m.shown.len().min(MISS_CAP)];
    let _ = write!(
        h,
        "<h2 id=\"{id}\">{heading}</h2>\n<p class=\"note\">{} {what}{}. Each row is one \
         pair: the left record's value above the right one's, column by column; values \
         that differ are highlighted.</p>\n",
        m.total,
        if shown.len() < m.total {
            format!(", the first {} by id shown", shown.len())
        } else {
            String::new()
        }
    );
    if shown.is_empty() {
        return;
    }
    // the columns of either record, in the order first seen (linked files differ)
    let mut columns: Vec<&str> = Vec::new();
    for (k, _) in shown.iter().flat_map(|x| x.left.iter().chain(&x.right)) {
        if !columns.contains(&k.as_str()) {
            columns.push(k);
        }
    }
    h.push_str(
        "<div class=\"wrap\"><table class=\"miss\"><tr><th>#</th><th>ids</th><th>why</th>\
         <th>probability</th>",
    );
    for c in &columns {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>");
    for (k, x) in shown.iter().enumerate() {
        let why = match (x.kind, x.probability) {
            (MissKind::NotACandidate, _) => "not a candidate",
            (MissKind::Missed, Some(p)) if p >= threshold => "above the threshold, not kept",
            (MissKind::Missed, _) => "below the threshold",
            (MissKind::Wrong, _) => "wrong match",
        };
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{why}</td><td class=\"n\">{}</td>",
            k + 1,
            pair_cell(&x.left_id, &x.right_id, false),
            opt4(x.probability),
        );
        for c in &columns {
            let value = |rec: &[(String, String)]| {
                rec.iter()
                    .find(|(k, _)| k == c)
                    .map_or("", |(_, v)| v.as_str())
                    .to_string()
            };
            let (l, r) = (value(&x.left), value(&x.right));
            let differs = !l.trim().eq_ignore_ascii_case(r.trim());
            let _ = write!(h, "<td>{}</td>", pair_cell(&l, &r, differs));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>\n");
}

/// The left record's value above the right one's.
fn pair_cell(left: &str, right: &str, differs: bool) -> String {
    let class = if differs { " diff" } else { "" };
    format!(
        "<div class=\"l{class}\">{}</div><div class=\"r{class}\">{}</div>",
        escape(left),
        escape(right)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(v: &[(f64, bool)]) -> Vec<Scored> {
        v.iter()
            .map(|&(probability, is_true)| Scored {
                probability,
                is_true,
            })
            .collect()
    }

    fn rec(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// `<polyline points="…">` point counts of an SVG, in order.
    fn polyline_points(svg: &str) -> Vec<usize> {
        svg.split("<polyline")
            .skip(1)
            .filter_map(|p| {
                let start = p.find("points=\"")? + 8;
                let end = p[start..].find('"')?;
                Some(p[start..start + end].split_whitespace().count())
            })
            .collect()
    }

    /// An SVG `<text>` element holding `s` (plotters puts the text on a line of its own).
    fn has_text(page: &str, s: &str) -> bool {
        page.replace('\n', "").contains(&format!(">{s}</text>"))
    }

    /// No URL, no script, no external resource.
    fn assert_self_contained(page: &str) {
        for bad in ["http://", "https://", "src=", "<script", "href=", "url("] {
            assert!(!page.contains(bad), "{bad} in the page");
        }
    }

    fn sample() -> ReportData {
        ReportData {
            title: "eval dedup <people>.csv".into(),
            summary: vec![("precision".into(), "0.5000".into())],
            threshold: 0.85,
            true_pairs: 4,
            scored: scored(&[(0.99, true), (0.9, false), (0.6, true), (0.1, false)]),
            curve_note: "pairs before clustering".into(),
            cluster_sizes: vec![1, 1, 2, 3],
            model: Some(ModelView {
                prior: 0.01,
                iterations: 7,
                note: None,
                unrelated: vec!["status".into()],
                apart: vec!["description".into()],
                fields: vec![FieldModel {
                    name: "surname".into(),
                    kind: "Text".into(),
                    m: vec![0.8, 0.1, 0.05, 0.03, 0.02],
                    u: vec![0.01, 0.02, 0.05, 0.12, 0.8],
                    weight: vec![6.3, 2.3, 0.0, -2.0, -5.3],
                }],
            }),
            false_negatives: Misses {
                total: 1,
                shown: vec![Miss {
                    kind: MissKind::Missed,
                    left_id: "r1".into(),
                    right_id: "r2".into(),
                    probability: Some(0.6),
                    left: rec(&[("name", "<script>alert('x')</script>"), ("city", "perth")]),
                    right: rec(&[("name", "a & b"), ("city", "perth")]),
                }],
            },
            false_positives: Misses::default(),
            schema: Vec::new(),
        }
    }

    #[test]
    fn curve_counts_pairs_at_or_above_each_threshold() {
        let s = scored(&[(0.99, true), (0.9, false), (0.6, true), (0.1, false)]);
        let c = curve(&s, 4, 10);
        assert_eq!(c.len(), 11);
        // t = 0: all four taken, two of them true, of four true pairs
        assert_eq!(c[0].precision, Some(0.5));
        assert_eq!(c[0].recall, 0.5);
        // t = 0.9: 0.99 and 0.9
        let p9 = c.iter().find(|p| (p.threshold - 0.9).abs() < 1e-9).unwrap();
        assert_eq!((p9.precision, p9.recall), (Some(0.5), 0.25));
        // t = 1: nothing at or above it
        assert_eq!(c[10].precision, None);
        assert_eq!(c[10].f1, None);
        assert_eq!(c[10].recall, 0.0);
        assert!(curve(&[], 0, 10).iter().all(|p| p.precision.is_none()));
    }

    #[test]
    fn size_bins_group_large_clusters_and_stop_at_the_largest() {
        let b = size_bins(&[1, 1, 1, 2, 7, 9, 600]);
        assert_eq!(b.first(), Some(&("1".to_string(), 3)));
        assert_eq!(b[1], ("2".to_string(), 1));
        assert_eq!(b[5], ("6-10".to_string(), 2));
        assert_eq!(b.last(), Some(&("501+".to_string(), 1)));
        assert_eq!(size_bins(&[1, 2]).len(), 2);
        assert!(size_bins(&[]).is_empty());
    }

    #[test]
    fn hostile_record_values_are_escaped() {
        let page = build(&sample());
        assert!(!page.contains("<script>alert"), "unescaped script");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(page.contains("a &amp; b"));
        assert!(page.contains("<title>eval dedup &lt;people&gt;.csv</title>"));
        // the differing name is highlighted, the shared city is not
        assert!(page.contains("<div class=\"r diff\">a &amp; b</div>"));
        assert!(page.contains("<div class=\"l\">perth</div><div class=\"r\">perth</div>"));
        assert!(page.contains("<th>name</th><th>city</th>"));
        assert!(page.contains("below the threshold"));
        assert!(page.contains("random pairs do): status."));
        assert!(page.contains("each their own way): description."));
        assert_self_contained(&page);
    }

    #[test]
    fn the_page_marks_the_threshold_and_draws_every_curve_point() {
        let data = sample();
        let page = build(&data);
        assert!(has_text(&page, "threshold 0.85"), "no threshold marker");
        let svg = charts::precision_recall(&curve(&data.scored, 4, CURVE_STEPS), 0.85).unwrap();
        // the curves are the polylines of more than two points (the grid, the legend and
        // the dashes of the marker are two-point lines): recall has a point at every
        // threshold, precision and F1 where a pair is at or above it (up to 0.99: 100)
        let curves: Vec<usize> = polyline_points(&svg)
            .into_iter()
            .filter(|&n| n > 2)
            .collect();
        assert_eq!(curves, vec![100, CURVE_STEPS + 1, 100]);
        // the same curves are in the page (the other charts have bars, not lines)
        let in_page: Vec<usize> = polyline_points(&page)
            .into_iter()
            .filter(|&n| n > 2)
            .collect();
        assert_eq!(in_page, curves);
        // each field has its chart, the table its weights
        assert!(has_text(&page, "surname (Text)"));
        assert!(page.contains("<td class=\"n\">+6.30</td>"));
        // the histogram's bins
        assert!(page.contains("<th>1</th><th>2</th><th>3</th>"));
        assert!(
            page.contains("<td class=\"n\">2</td><td class=\"n\">1</td><td class=\"n\">1</td>")
        );
    }

    #[test]
    fn empty_inputs_give_a_valid_page() {
        let page = build(&ReportData::default());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.trim_end().ends_with("</body></html>"));
        assert!(!page.contains("<svg"));
        assert_self_contained(&page);
        // a curve with no true pair and a single cluster size draw without panicking
        let page = build(&ReportData {
            scored: scored(&[(0.5, false)]),
            cluster_sizes: vec![1],
            model: Some(ModelView::default()),
            ..ReportData::default()
        });
        assert_eq!(page.matches("<svg").count(), 2, "curve and histogram");
        assert!(!page.contains("chart not drawn"));
        assert_self_contained(&page);
    }

    #[test]
    fn misses_are_capped() {
        let miss = |k: usize| Miss {
            kind: MissKind::Wrong,
            left_id: format!("a{k}"),
            right_id: format!("b{k}"),
            probability: None,
            left: Vec::new(),
            right: Vec::new(),
        };
        let page = build(&ReportData {
            false_positives: Misses {
                total: 80,
                shown: (0..70).map(miss).collect(),
            },
            ..ReportData::default()
        });
        assert_eq!(page.matches("<td>wrong match</td>").count(), MISS_CAP);
        assert!(page.contains("80 matched pairs that are not true, the first 50 by id shown"));
    }
}
