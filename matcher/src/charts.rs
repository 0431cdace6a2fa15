//! Charts drawn by `plotters` into SVG strings (its SVG backend only: text is written as
//! `<text>` elements and laid out by the browser, so no font is read and no system library
//! is linked), for the `eval --report` page ([`crate::eval::report`]) and the review UI's
//! chart endpoints ([`crate::api::charts`]). Each function takes plain numbers and returns
//! one `<svg>` element, or the drawing error as text (the report then says the chart failed
//! instead of losing the whole page; the API answers 500 naming it).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// m, u and the match weight of one field at each agreement level (L0: exact agreement,
/// the last: disagreement).
#[derive(Debug, Clone, Default)]
pub struct FieldModel {
    pub name: String,
    /// How it is compared (`Text`, `Date`, …) and from which columns.
    pub kind: String,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    pub weight: Vec<f64>,
}

/// Precision, recall and F1 of the pairs at or above one threshold (`None`: no pair
/// there, or precision and recall both zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    pub threshold: f64,
    pub precision: Option<f64>,
    pub recall: f64,
    pub f1: Option<f64>,
}

/// Clusters per size: one bin per size up to 5, then 6–10, 11–20, 21–50, 51–100,
/// 101–500 and 501+, up to the largest non-empty bin.
pub fn size_bins(sizes: &[usize]) -> Vec<(String, usize)> {
    const BINS: [(usize, usize); 11] = [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 5),
        (6, 10),
        (11, 20),
        (21, 50),
        (51, 100),
        (101, 500),
        (501, usize::MAX),
    ];
    let mut counts = [0usize; BINS.len()];
    for &s in sizes.iter().filter(|&&s| s > 0) {
        if let Some(k) = BINS.iter().position(|&(lo, hi)| (lo..=hi).contains(&s)) {
            counts[k] += 1;
        }
    }
    let last = counts.iter().rposition(|&n| n > 0).map_or(0, |k| k + 1);
    BINS.iter()
        .zip(counts)
        .take(last)
        .map(|(&(lo, hi), n)| {
            let label = if lo == hi {
                lo.to_string()
            } else if hi == usize::MAX {
                format!("{lo}+")
            } else {
                format!("{lo}-{hi}")
            };
            (label, n)
        })
        .collect()
}

/// Whether the bins' counts are heavy-tailed (the largest 50 times the smallest non-zero):
/// on a linear scale the small bins would be invisible.
pub fn wants_log_scale(bins: &[(String, usize)]) -> bool {
    let counts = bins.iter().map(|b| b.1).filter(|&n| n > 0);
    let (lo, hi) = (counts.clone().min().unwrap_or(1), counts.max().unwrap_or(1));
    hi >= 50 * lo.max(1)
}

const PRECISION: RGBColor = RGBColor(31, 119, 180);
const RECALL: RGBColor = RGBColor(214, 39, 40);
const F1: RGBColor = RGBColor(44, 160, 44);
const MARK: RGBColor = RGBColor(90, 90, 90);
const BAR: RGBColor = RGBColor(31, 119, 180);
const M_BAR: RGBColor = RGBColor(44, 160, 44);
const U_BAR: RGBColor = RGBColor(255, 127, 14);
const FONT: &str = "sans-serif";

/// One curve's value at a point (`None`: no point there).
type Value = fn(&CurvePoint) -> Option<f64>;

/// A chart that could not be drawn: what and why.
fn failed<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// The SVG as an HTML element: the `xmlns` attribute (a namespace name, not a resource,
/// but an `http://` string all the same) is not needed inline in HTML5 and is dropped, so
/// the page holds no URL at all.
fn inline(svg: String) -> String {
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
}

/// A chart as a standalone SVG document (served as `image/svg+xml`): the namespace the
/// inline form leaves out is required there, or the browser sees an unknown XML element.
pub fn standalone(inline_svg: &str) -> String {
    inline_svg.replacen("<svg", r#"<svg xmlns="http://www.w3.org/2000/svg""#, 1)
}

/// Precision, recall and F1 of the pairs at or above each threshold, with the threshold
/// used drawn as a dashed vertical line labelled `threshold <t>`.
pub fn precision_recall(curve: &[CurvePoint], threshold: f64) -> Result<String, String> {
    precision_recall_titled(
        curve,
        threshold,
        "Precision, recall and F1 of the candidate pairs by threshold",
    )
}

/// [`precision_recall`] under another caption.
pub fn precision_recall_titled(
    curve: &[CurvePoint],
    threshold: f64,
    caption: &str,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(failed("background"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, (FONT, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
            .map_err(failed("axes"))?;
        chart
            .configure_mesh()
            .x_desc("threshold (match probability at or above)")
            .y_desc("share")
            .x_labels(11)
            .y_labels(6)
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(failed("grid"))?;
        let series: [(&str, RGBColor, Value); 3] = [
            ("precision", PRECISION, |p| p.precision),
            ("recall", RECALL, |p| Some(p.recall)),
            ("F1", F1, |p| p.f1),
        ];
        for (name, color, value) in series {
            let points: Vec<(f64, f64)> = curve
                .iter()
                .filter_map(|p| value(p).map(|v| (p.threshold, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(failed("curve"))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        let t = threshold.clamp(0.0, 1.0);
        chart
            .draw_series(DashedLineSeries::new(
                [(t, 0.0), (t, 1.02)],
                6,
                4,
                MARK.stroke_width(1),
            ))
            .map_err(failed("threshold"))?;
        let label_x = if t > 0.75 { t - 0.2 } else { t + 0.01 };
        chart
            .draw_series(std::iter::once(Text::new(
                format!("threshold {threshold}"),
                (label_x, 0.06),
                (FONT, 16).into_font().color(&MARK),
            )))
            .map_err(failed("threshold label"))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 16))
            .draw()
            .map_err(failed("legend"))?;
        root.present().map_err(failed("svg"))?;
    }
    Ok(inline(svg))
}

/// Clusters per size bin; counts on a log scale when `log` (heavy tails: a few clusters
/// of hundreds beside thousands of pairs). Each bar is labelled with its count.
pub fn cluster_sizes(bins: &[(String, usize)], log: bool) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(failed("background"))?;
        let max = bins.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
        let caption = if log {
            "Clusters by size (count, log scale)"
        } else {
            "Clusters by size (count)"
        };
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(caption, (FONT, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(56);
        // an i32 range's ends are both values: n bins are 0..n-1
        let n = bins.len().max(1) as i32;
        let x = (0..n - 1).into_segmented();
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| bins.get(i))
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        let bars = |base: f64| {
            bins.iter()
                .enumerate()
                .filter(|b| b.1.1 > 0)
                .map(move |(i, b)| {
                    let i = i as i32;
                    let mut r = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), base),
                            (
                                if i + 1 < n {
                                    SegmentValue::Exact(i + 1)
                                } else {
                                    SegmentValue::Last
                                },
                                b.1 as f64,
                            ),
                        ],
                        BAR.filled(),
                    );
                    r.set_margin(0, 0, 6, 6);
                    r
                })
        };
        let counts = || {
            bins.iter().enumerate().filter(|b| b.1.1 > 0).map(|(i, b)| {
                // just above the bar
                Text::new(
                    b.1.to_string(),
                    (SegmentValue::CenterOf(i as i32), b.1 as f64),
                    (FONT, 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            })
        };
        if log {
            let mut chart = builder
                .build_cartesian_2d(x, (0.8f64..max * 4.0).log_scale())
                .map_err(failed("axes"))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc("records in the cluster")
                .y_desc("clusters")
                .x_labels(bins.len().max(1))
                .x_label_formatter(&label)
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 15))
                .draw()
                .map_err(failed("grid"))?;
            chart.draw_series(bars(0.8)).map_err(failed("bars"))?;
            chart.draw_series(counts()).map_err(failed("counts"))?;
        } else {
            let mut chart = builder
                .build_cartesian_2d(x, 0f64..max * 1.2)
                .map_err(failed("axes"))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc("records in the cluster")
                .y_desc("clusters")
                .x_labels(bins.len().max(1))
                .x_label_formatter(&label)
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 15))
                .draw()
                .map_err(failed("grid"))?;
            chart.draw_series(bars(0.0)).map_err(failed("bars"))?;
            chart.draw_series(counts()).map_err(failed("counts"))?;
        }
        root.present().map_err(failed("svg"))?;
    }
    Ok(inline(svg))
}

/// m (green) and u (orange) of one field at each agreement level, side by side.
pub fn field_levels(field: &FieldModel) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (330, 210)).into_drawing_area();
        root.fill(&WHITE).map_err(failed("background"))?;
        let levels = field.m.len().max(field.u.len()).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{} ({})", field.name, field.kind), (FONT, 16))
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(34)
            .build_cartesian_2d(-0.5f64..(levels as f64 - 0.5), 0f64..1f64)
            .map_err(failed("axes"))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(levels)
            .y_labels(3)
            .x_label_formatter(&|x| format!("L{x:.0}"))
            .label_style((FONT, 13))
            .draw()
            .map_err(failed("grid"))?;
        let bars = |values: &[f64], offset: f64, color: RGBColor| -> Vec<Rectangle<(f64, f64)>> {
            values
                .iter()
                .enumerate()
                .map(|(l, v)| {
                    let x = l as f64 + offset;
                    Rectangle::new([(x, 0.0), (x + 0.38, v.clamp(0.0, 1.0))], color.filled())
                })
                .collect()
        };
        // no legend (it would hide the bars): the page says green is m, orange u
        chart
            .draw_series(bars(&field.m, -0.39, M_BAR))
            .map_err(failed("m"))?;
        chart
            .draw_series(bars(&field.u, 0.01, U_BAR))
            .map_err(failed("u"))?;
        root.present().map_err(failed("svg"))?;
    }
    Ok(inline(svg))
}
