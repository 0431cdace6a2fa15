//! `kcmf-matcher eval …`: measures the engine on labelled data.
//!
//! * `eval em --left A.csv --right B.csv --truth T.csv` — link two tables;
//! * `eval dedup --input X.csv --truth T.csv` — deduplicate one table;
//! * `eval sm --source S.json --target T.json --truth T.csv` — match two schemas.
//!
//! Record ids come from `--id-column` (default: [`crate::records::id_candidates`], else
//! rows numbered from 1). Truth files are CSVs with a header: id pairs (a labelled pair
//! file gives its pairs labelled 1) or, for `dedup`, one row per record naming its
//! cluster (read as such when the second column holds no ids of the input, or with
//! `--truth-clusters`); the files are read by [`crate::records`]. Prints
//! precision, recall, F1, candidate pairs, blocking recall and wall time; the last line is
//! `f1=<value>`. `--report out.html` also writes one self-contained HTML page of the run
//! ([`report`]; the data for it is gathered by `collect`). `truth` reads the truth file
//! against the input; `explain` writes what `--explain` and `--show-errors` print;
//! `pairs` writes every candidate pair for `--pairs` (read by `bench/oracle.py`).

mod collect;
mod explain;
mod pairs;
pub mod report;
mod truth;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::config::{BackboneKind, Config, LlmConfig, MatchingConfig};
use crate::engine::linkage::{self, Assignment, LinkOptions};
use crate::engine::{Engine, EngineError, EntityOptions, EntityPair, SchemaOptions};
use crate::records::{
    RecordTable, RecordsError, id_candidates, read_records, read_table, read_truth,
};
use explain::{cluster_histogram, error_lines, explain_model, field_levels};
use truth::{
    check_truth_ids, cluster_pairs, counts_from_zero, from_zero, is_membership, membership_pairs,
    read_for_truth,
};

/// Errors of an evaluation run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// An input file (records, truth, schema) cannot be read.
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The truth file names none of the input's ids: the ids were read from another
    /// column than the truth file's author used (or the rows were numbered).
    #[error(
        "none of the {pairs} truth pairs names ids of {input} (its ids look like {sample}); \
         pass --id-column to read them from the column the truth file uses"
    )]
    TruthIds {
        input: String,
        pairs: usize,
        sample: String,
    },
    /// `--report`: the page cannot be written.
    #[error("cannot write the report {}: {source}", path.display())]
    Report {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `--pairs`: the file cannot be written.
    #[error("cannot write the pairs file {}: {source}", path.display())]
    Pairs {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Backbone choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackboneArg {
    Local,
    Openai,
    Gguf,
}

/// Options shared by the three tasks.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Which backbone answers.
    #[arg(long, value_enum, default_value = "local")]
    pub backbone: BackboneArg,
    /// Decision threshold (default: `matching.entity_threshold` / `schema_threshold`).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Model name for `openai`.
    #[arg(long, env = "LLM_MODEL")]
    pub model: Option<String>,
    /// Base URL of an OpenAI-compatible API.
    #[arg(long, env = "LLM_BASE_URL")]
    pub base_url: Option<String>,
    /// GGUF file for `gguf`.
    #[arg(long, env = "LLM_MODEL_PATH")]
    pub model_path: Option<PathBuf>,
    /// Directory with `sm.yaml` / `em.yaml` overriding the built-in rules.
    #[arg(long)]
    pub rules_dir: Option<PathBuf>,
    /// Also print the estimated model: m and u per field and agreement level, the match
    /// weight of each level, the prior and the threshold used.
    #[arg(long)]
    pub explain: bool,
    /// Also print up to N of each kind of error, sorted by id: true pairs blocking never
    /// proposed (`not_a_candidate`), true pairs proposed but not matched (`missed`) and
    /// predicted pairs that are not true (`wrong`).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub show_errors: usize,
    /// Also write one self-contained HTML page here: precision and recall against the
    /// threshold, cluster sizes (dedup), m and u per field, the misses with their records
    /// (schema matching: the column pairs).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct EmArgs {
    #[arg(long)]
    pub left: PathBuf,
    #[arg(long)]
    pub right: PathBuf,
    #[arg(long)]
    pub truth: PathBuf,
    /// Id column of both files (default: a column named like an id — `id`,
    /// `rec_id`, `*_id` — whose values are present and distinct; else the first column when
    /// its values read like codes; else the rows are numbered from 1).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Every pair at or above the threshold is a match (default: one match per record,
    /// plus the further matches that are duplicates of it on their own side).
    #[arg(long, conflicts_with = "one_to_one")]
    pub many_to_many: bool,
    /// At most one match per record on each side.
    #[arg(long)]
    pub one_to_one: bool,
    /// The columns to compare, `left:right,...` (default: aligned by the schema matcher).
    #[arg(long, value_parser = crate::engine::align::parse_column_map)]
    pub columns: Option<ColumnMap>,
    /// Also write every candidate pair here as CSV: the two ids, weight, probability,
    /// whether it was predicted and whether it is true, and each field's agreement level
    /// (read by `bench/oracle.py`, which measures what any decision on the same
    /// comparisons could reach). With `--judged`, only the judged pairs.
    #[arg(long, value_name = "PATH")]
    pub pairs: Option<PathBuf>,
    /// Only these pairs were judged (a CSV of id pairs, e.g. a labelled sample): predicted
    /// pairs outside it are not counted. `--truth` holds the judged pairs that match.
    #[arg(long)]
    pub judged: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--columns left:right,...`, parsed.
pub type ColumnMap = Vec<(String, String)>;

#[derive(Debug, Clone, clap::Args)]
pub struct DedupArgs {
    #[arg(long)]
    pub input: PathBuf,
    /// The true duplicates: id pairs, or one row per record with its cluster label
    /// (`id,cluster`; found out from the values, see `--truth-clusters`).
    #[arg(long)]
    pub truth: PathBuf,
    /// Read `--truth` as `id,cluster` rows even when its cluster labels look like ids of
    /// the input (numbers used for both).
    #[arg(long)]
    pub truth_clusters: bool,
    #[arg(long)]
    pub id_column: Option<String>,
    /// Also write every candidate pair here as CSV (as `eval em --pairs`; `predicted`
    /// means the two records ended in one cluster).
    #[arg(long, value_name = "PATH")]
    pub pairs: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SmArgs {
    #[arg(long)]
    pub source: PathBuf,
    #[arg(long)]
    pub target: PathBuf,
    #[arg(long)]
    pub truth: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `kcmf-matcher eval <task>`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum EvalArgs {
    /// Link two tables (entity matching).
    Em(EmArgs),
    /// Deduplicate one table.
    Dedup(DedupArgs),
    /// Match two schemas (JSON tables).
    Sm(SmArgs),
}

/// What an evaluation measured.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub task: String,
    pub backbone: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_pairs: usize,
    pub predicted_pairs: usize,
    pub correct_pairs: usize,
    pub candidate_pairs: usize,
    /// Share of true pairs that blocking kept (entity tasks).
    pub blocking_recall: Option<f64>,
    /// Dedup: share of true pairs whose records blocking connects through true pairs it
    /// kept (a chain of candidates within the entity), the most clustering can recover.
    /// The 500 mentions of one person are never all compared pairwise, and need not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_reach: Option<f64>,
    pub wall_seconds: f64,
    /// Schema matching: the pairs missed and the pairs wrongly predicted (`missed=a,b`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What the engine chose, printed first: the column alignment (link), the cluster
    /// sizes (dedup), the estimated model (`--explain`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl EvalReport {
    /// The printed lines; the last is `f1=<value>`.
    pub fn lines(&self) -> Vec<String> {
        let mut v = self.details.clone();
        v.extend([
            format!("task={} backbone={}", self.task, self.backbone),
            format!("precision={:.4}", self.precision),
            format!("recall={:.4}", self.recall),
            format!(
                "true_pairs={} predicted_pairs={} correct_pairs={}",
                self.true_pairs, self.predicted_pairs, self.correct_pairs
            ),
            format!("candidate_pairs={}", self.candidate_pairs),
        ]);
        if let Some(b) = self.blocking_recall {
            v.push(format!("blocking_recall={b:.4}"));
        }
        if let Some(b) = self.blocking_reach {
            v.push(format!("blocking_reach={b:.4}"));
        }
        v.extend(self.errors.iter().cloned());
        v.push(format!("wall_seconds={:.3}", self.wall_seconds));
        v.push(format!("f1={:.4}", self.f1));
        v
    }
}

fn scores(
    truth: &HashSet<(String, String)>,
    predicted: &HashSet<(String, String)>,
) -> (f64, f64, f64, usize) {
    let correct = predicted.intersection(truth).count();
    let p = if predicted.is_empty() {
        0.0
    } else {
        correct as f64 / predicted.len() as f64
    };
    let r = if truth.is_empty() {
        0.0
    } else {
        correct as f64 / truth.len() as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f, correct)
}

fn unordered(a: String, b: String) -> (String, String) {
    if a <= b { (a, b) } else { (b, a) }
}

/// The engine from the loaded configuration (`--config`, environment) with the
/// command line's choices on top.
fn engine(common: &CommonArgs, cfg: &Config) -> Result<Engine, EvalError> {
    let mut llm: LlmConfig = cfg.llm.clone();
    llm.provider = match common.backbone {
        BackboneArg::Local => BackboneKind::Local,
        BackboneArg::Openai => BackboneKind::Openai,
        BackboneArg::Gguf => BackboneKind::Gguf,
    };
    if let Some(m) = &common.model {
        llm.model = m.clone();
    }
    if let Some(u) = &common.base_url {
        llm.base_url = u.clone();
    }
    if common.model_path.is_some() {
        llm.model_path = common.model_path.clone();
    }
    let mut matching: MatchingConfig = cfg.matching.clone();
    if common.rules_dir.is_some() {
        matching.rules_dir = common.rules_dir.clone();
    }
    Ok(Engine::new(&llm, &matching)?)
}

/// Runs an evaluation and prints its lines (last: `f1=<value>`).
pub async fn run(args: EvalArgs, cfg: &Config) -> Result<EvalReport, EvalError> {
    let common = match &args {
        EvalArgs::Em(a) => &a.common,
        EvalArgs::Dedup(a) => &a.common,
        EvalArgs::Sm(a) => &a.common,
    };
    if let Some(path) = &common.report {
        // a path that cannot be written fails now, not after the run
        std::fs::File::create(path).map_err(|source| EvalError::Report {
            path: path.clone(),
            source,
        })?;
    }
    let report = match args {
        EvalArgs::Em(a) => run_em(&a, cfg).await?,
        EvalArgs::Dedup(a) => run_dedup(&a, cfg).await?,
        EvalArgs::Sm(a) => run_sm(&a, cfg).await?,
    };
    for l in report.lines() {
        println!("{l}");
    }
    Ok(report)
}

pub async fn run_em(a: &EmArgs, cfg: &Config) -> Result<EvalReport, EvalError> {
    let start = Instant::now();
    let eng = engine(&a.common, cfg)?;
    let threshold = a.common.threshold.unwrap_or(cfg.matching.entity_threshold);
    let truth: HashSet<(String, String)> = read_truth(&a.truth)?.into_iter().collect();
    // the two files read at once, each on a core of its own
    let (left, right) = rayon::join(
        || read_for_truth(&a.left, a.id_column.as_deref(), truth.iter().map(|t| &t.0)),
        || read_for_truth(&a.right, a.id_column.as_deref(), truth.iter().map(|t| &t.1)),
    );
    let (left, right) = (left?, right?);
    for note in [&left.note, &right.note].into_iter().flatten() {
        eprintln!("{note}");
    }
    let (mut left, left_id, mut right, right_id) =
        (left.table, left.id_column, right.table, right.id_column);
    if left.numbered
        && right.numbered
        && counts_from_zero(
            &left.records,
            &right.records,
            truth.iter().map(|t| (&t.0, &t.1)),
        )
    {
        from_zero(&a.left, &mut left);
        from_zero(&a.right, &mut right);
    }
    check_truth_ids(&a.left, &left.ids, &truth, |t| [&t.0, &t.0])?;
    check_truth_ids(&a.right, &right.ids, &truth, |t| [&t.1, &t.1])?;
    let judged: Option<HashSet<(String, String)>> = match &a.judged {
        Some(p) => Some(read_truth(p)?.into_iter().collect()),
        None => None,
    };
    let opts = LinkOptions {
        threshold,
        assignment: Assignment::from_flags(a.one_to_one, a.many_to_many),
        column_map: a.columns.clone(),
        // blocking recall, `--pairs` and the report's curves read every candidate
        keep_candidates: true,
        ..LinkOptions::default()
    };
    let (l_recs, r_recs) = (Arc::new(left.records), Arc::new(right.records));
    let (l_keep, r_keep) = (Arc::clone(&l_recs), Arc::clone(&r_recs));
    let out = if a.common.backbone == BackboneArg::Local {
        tokio::task::spawn_blocking(move || linkage::link(&l_recs, &r_recs, &[], &opts))
            .await
            .map_err(|e| EngineError::Backbone {
                backbone: "local".into(),
                message: e.to_string(),
            })??
    } else {
        linkage::link(&l_recs, &r_recs, &[], &opts)?
    };
    let mut details: Vec<String> = out
        .alignment
        .iter()
        .map(|p| format!("aligned: {} <-> {} ({:.2})", p.left, p.right, p.score))
        .chain(out.own_ids.iter().map(|id| {
            format!("own identity number: {id} (records of one number are one entity's)")
        }))
        .collect();
    if a.common.explain {
        details.extend(explain_model(&out.model, threshold));
    }
    let cand: HashSet<(String, String)> = out
        .pairs
        .iter()
        .map(|p| (left.ids[p.left].clone(), right.ids[p.right].clone()))
        .collect();
    let predicted: HashSet<(String, String)> = if a.common.backbone == BackboneArg::Local {
        out.matches()
            .map(|p| (left.ids[p.left].clone(), right.ids[p.right].clone()))
            .collect()
    } else {
        // the LLM decides the plausible candidates
        let left_recs = read_records(&a.left, left_id.as_deref())?.records;
        let right_recs = read_records(&a.right, right_id.as_deref())?.records;
        let plausible: Vec<&linkage::ScoredPair> =
            out.pairs.iter().filter(|p| p.probability >= 0.1).collect();
        let pairs: Vec<EntityPair> = plausible
            .iter()
            .map(|p| EntityPair {
                left: left_recs[p.left].clone(),
                right: right_recs[p.right].clone(),
            })
            .collect();
        let res = eng
            .match_entities(
                &pairs,
                &EntityOptions {
                    threshold: Some(threshold),
                    ..Default::default()
                },
            )
            .await?;
        plausible
            .iter()
            .zip(&res)
            .filter(|(_, r)| r.is_match)
            .map(|(p, _)| (left.ids[p.left].clone(), right.ids[p.right].clone()))
            .collect()
    };
    let predicted: HashSet<(String, String)> = match &judged {
        Some(j) => predicted.into_iter().filter(|p| j.contains(p)).collect(),
        None => predicted,
    };
    let blocking_recall =
        truth.iter().filter(|t| cand.contains(*t)).count() as f64 / truth.len().max(1) as f64;
    // with --explain, each error also shows its fields' levels and weights
    let breakdown = |p: &linkage::ScoredPair| -> String {
        if !a.common.explain || a.common.show_errors == 0 {
            return String::new();
        }
        let (Some(l), Some(r)) = (l_keep.get(p.left), r_keep.get(p.right)) else {
            return String::new();
        };
        format!("; {}", field_levels(&out, l, r, Some(p.weight)))
    };
    // the scored pairs by their ids, formatted (and broken down) only for the listed errors
    let scored: HashMap<(&str, &str), &linkage::ScoredPair> = if a.common.show_errors == 0 {
        HashMap::new()
    } else {
        out.pairs
            .iter()
            .map(|p| ((left.ids[p.left].as_str(), right.ids[p.right].as_str()), p))
            .collect()
    };
    details.extend(error_lines(
        a.common.show_errors,
        &truth,
        &cand,
        &predicted,
        |(l, r): &(String, String)| {
            scored.get(&(l.as_str(), r.as_str())).map(|p| {
                format!(
                    "weight {:+.2}, p {:.3}, rule {}{}",
                    p.weight,
                    p.probability,
                    p.rule,
                    breakdown(p)
                )
            })
        },
    ));
    if let Some(path) = &a.pairs {
        let rows = out.pairs.iter().filter_map(|p| {
            let (left_id, right_id) = (left.ids.get(p.left)?, right.ids.get(p.right)?);
            // with --judged, only the judged pairs are scored, so only they are written
            if let Some(j) = &judged
                && !j.contains(&(left_id.clone(), right_id.clone()))
            {
                return None;
            }
            Some(pairs::PairRow {
                left_id,
                right_id,
                left: l_keep.get(p.left)?,
                right: r_keep.get(p.right)?,
                weight: Some(p.weight),
                probability: p.probability,
                predicted: predicted.contains(&(left_id.clone(), right_id.clone())),
                is_true: truth.contains(&(left_id.clone(), right_id.clone())),
            })
        });
        pairs::write(path, &out, rows)?;
    }
    let (precision, recall, f1, correct) = scores(&truth, &predicted);
    let report = EvalReport {
        details,
        task: "em".into(),
        backbone: eng.backbone_name(),
        precision,
        recall,
        f1,
        true_pairs: truth.len(),
        predicted_pairs: predicted.len(),
        correct_pairs: correct,
        candidate_pairs: out.candidate_pairs,
        blocking_recall: Some(blocking_recall),
        blocking_reach: None,
        errors: Vec::new(),
        wall_seconds: start.elapsed().as_secs_f64(),
    };
    if let Some(path) = &a.common.report {
        let data = collect::em(
            a,
            &report,
            threshold,
            &out,
            collect::Side {
                ids: &left.ids,
                records: &l_keep,
            },
            collect::Side {
                ids: &right.ids,
                records: &r_keep,
            },
            collect::Pairs {
                truth: &truth,
                candidates: &cand,
                predicted: &predicted,
                judged: judged.as_ref(),
            },
        );
        collect::write(path, &data)?;
    }
    Ok(report)
}

/// Deduplication evaluation (pairs implied by the clusters).
pub async fn run_dedup(a: &DedupArgs, cfg: &Config) -> Result<EvalReport, EvalError> {
    let start = Instant::now();
    let eng = engine(&a.common, cfg)?;
    let threshold = a.common.threshold.unwrap_or(cfg.matching.entity_threshold);
    let mut t = read_records(&a.input, a.id_column.as_deref())?;
    let rows = read_truth(&a.truth)?;
    if t.numbered && counts_from_zero(&t.records, &t.records, rows.iter().map(|r| (&r.0, &r.1))) {
        from_zero(&a.input, &mut t);
    }
    let clusters_given = a.truth_clusters || is_membership(&rows, &t.ids);
    let truth: HashSet<(String, String)> = if clusters_given {
        membership_pairs(rows)
    } else {
        rows.into_iter().map(|(x, y)| unordered(x, y)).collect()
    };
    check_truth_ids(&a.input, &t.ids, &truth, |t| [&t.0, &t.1])?;
    let opts = LinkOptions {
        threshold,
        keep_candidates: true,
        keep_scores: a.common.report.is_some()
            || a.pairs.is_some()
            || (a.common.explain && a.common.show_errors > 0),
        ..LinkOptions::default()
    };
    let recs = t.records.clone();
    let out = tokio::task::spawn_blocking(move || linkage::dedup(&recs, &[], &opts))
        .await
        .map_err(|e| EngineError::Backbone {
            backbone: "local".into(),
            message: e.to_string(),
        })?;
    let cand: HashSet<(String, String)> = out
        .candidates
        .iter()
        .map(|&(i, j)| unordered(t.ids[i as usize].clone(), t.ids[j as usize].clone()))
        .collect();
    let clusters: Vec<Vec<String>> = if a.common.backbone == BackboneArg::Local {
        out.clusters
            .iter()
            .map(|c| c.iter().map(|&i| t.ids[i].clone()).collect())
            .collect()
    } else {
        eng.dedup(
            &t.ids,
            &t.records,
            crate::engine::DedupOptions {
                threshold: Some(threshold),
                split_threshold: None,
                examples: Vec::new(),
            },
        )
        .await?
        .clusters
    };
    let predicted = cluster_pairs(&clusters);
    let blocking_recall =
        truth.iter().filter(|p| cand.contains(*p)).count() as f64 / truth.len().max(1) as f64;
    let blocking_reach = reach(&truth, &cand);
    let (precision, recall, f1, correct) = scores(&truth, &predicted);
    let mut details = vec![cluster_histogram(t.ids.len(), &clusters)];
    if clusters_given {
        details.push(format!(
            "truth: read as cluster labels ({} true pairs)",
            truth.len()
        ));
    }
    if a.common.explain {
        details.extend(explain_model(&out.link.model, threshold));
    }
    // with --explain, each error says whether its pair matched itself or was joined
    // through its cluster, and shows its fields' levels and weights
    let index: HashMap<&str, usize> = if a.common.explain && a.common.show_errors > 0 {
        t.ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect()
    } else {
        HashMap::new()
    };
    let matched: HashMap<(usize, usize), &linkage::ScoredPair> = if index.is_empty() {
        HashMap::new()
    } else {
        out.link
            .pairs
            .iter()
            .map(|p| ((p.left.min(p.right), p.left.max(p.right)), p))
            .collect()
    };
    // a candidate not matched itself is shown with the probability it was scored at (its
    // weight read back from it), so that its term-frequency adjustments show too
    let scored: HashMap<(usize, usize), f64> = if index.is_empty() {
        HashMap::new()
    } else {
        out.candidates
            .iter()
            .zip(&out.candidate_scores)
            .map(|(&(i, j), &p)| {
                let (i, j) = (i as usize, j as usize);
                ((i.min(j), i.max(j)), p)
            })
            .collect()
    };
    let note = |(x, y): &(String, String)| -> Option<String> {
        let (&i, &j) = (index.get(x.as_str())?, index.get(y.as_str())?);
        let (l, r) = (t.records.get(i)?, t.records.get(j)?);
        let key = (i.min(j), i.max(j));
        let (how, weight) = match (matched.get(&key), scored.get(&key)) {
            (Some(p), _) => (
                format!("matched: weight {:+.2}, p {:.3}", p.weight, p.probability),
                Some(p.weight),
            ),
            (None, Some(&p)) => {
                let q = p.clamp(1e-12, 1.0 - 1e-12);
                (
                    format!("not matched itself: p {p:.3}"),
                    Some((q / (1.0 - q)).log2()),
                )
            }
            (None, None) => ("not matched itself".to_string(), None),
        };
        let levels = field_levels(&out.link, l, r, weight);
        Some(format!("{how}; {levels}"))
    };
    details.extend(error_lines(
        a.common.show_errors,
        &truth,
        &cand,
        &predicted,
        note,
    ));
    if let Some(path) = &a.pairs {
        let rows = out.candidates.iter().zip(&out.candidate_scores).filter_map(
            |(&(i, j), &probability)| {
                let (i, j) = (i as usize, j as usize);
                let (left_id, right_id) = (t.ids.get(i)?, t.ids.get(j)?);
                let pair = unordered(left_id.clone(), right_id.clone());
                Some(pairs::PairRow {
                    left_id,
                    right_id,
                    left: t.records.get(i)?,
                    right: t.records.get(j)?,
                    weight: None,
                    probability,
                    predicted: predicted.contains(&pair),
                    is_true: truth.contains(&pair),
                })
            },
        );
        pairs::write(path, &out.link, rows)?;
    }
    let report = EvalReport {
        details,
        task: "dedup".into(),
        backbone: eng.backbone_name(),
        precision,
        recall,
        f1,
        true_pairs: truth.len(),
        predicted_pairs: predicted.len(),
        correct_pairs: correct,
        candidate_pairs: out.link.candidate_pairs,
        blocking_recall: Some(blocking_recall),
        blocking_reach: Some(blocking_reach),
        errors: Vec::new(),
        wall_seconds: start.elapsed().as_secs_f64(),
    };
    if let Some(path) = &a.common.report {
        let data = collect::dedup(
            a,
            &report,
            threshold,
            &out,
            collect::Side {
                ids: &t.ids,
                records: &t.records,
            },
            &clusters,
            collect::Pairs {
                truth: &truth,
                candidates: &cand,
                predicted: &predicted,
                judged: None,
            },
        );
        collect::write(path, &data)?;
    }
    Ok(report)
}

/// Share of the `truth` pairs whose two records are connected by the candidate pairs that
/// are true pairs themselves ([`EvalReport::blocking_reach`]).
fn reach(truth: &HashSet<(String, String)>, cand: &HashSet<(String, String)>) -> f64 {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (a, b) in truth {
        for x in [a, b] {
            let n = index.len();
            index.entry(x.as_str()).or_insert(n);
        }
    }
    let joined_by_cand = truth
        .iter()
        .filter(|p| cand.contains(*p))
        .map(|(a, b)| (index[a.as_str()], index[b.as_str()]));
    let groups = crate::engine::cluster::clusters(index.len(), joined_by_cand);
    let component = crate::engine::cluster::membership(index.len(), &groups);
    let joined = truth
        .iter()
        .filter(|(a, b)| {
            let (x, y) = (component[index[a.as_str()]], component[index[b.as_str()]]);
            x.is_some() && x == y
        })
        .count();
    joined as f64 / truth.len().max(1) as f64
}

/// Schema matching evaluation.
pub async fn run_sm(a: &SmArgs, cfg: &Config) -> Result<EvalReport, EvalError> {
    let start = Instant::now();
    let eng = engine(&a.common, cfg)?;
    let s = read_table(&a.source)?;
    let t = read_table(&a.target)?;
    let truth: HashSet<(String, String)> = read_truth(&a.truth)?.into_iter().collect();
    let opts = SchemaOptions {
        threshold: a.common.threshold,
        ..Default::default()
    };
    let m = eng.match_schema(&s, &t, &opts).await?;
    let score: HashMap<(String, String), f64> = m
        .iter()
        .map(|x| ((x.source.clone(), x.target.clone()), x.score))
        .collect();
    let predicted: HashSet<(String, String)> =
        m.into_iter().map(|x| (x.source, x.target)).collect();
    let (precision, recall, f1, correct) = scores(&truth, &predicted);
    let mut errors: Vec<String> = truth
        .difference(&predicted)
        .map(|(a, b)| format!("missed={a},{b}"))
        .chain(
            predicted
                .difference(&truth)
                .map(|(a, b)| format!("wrong={a},{b}")),
        )
        .collect();
    errors.sort();
    let report = EvalReport {
        task: "sm".into(),
        errors,
        backbone: eng.backbone_name(),
        precision,
        recall,
        f1,
        true_pairs: truth.len(),
        predicted_pairs: predicted.len(),
        correct_pairs: correct,
        candidate_pairs: s.columns.len() * t.columns.len(),
        blocking_recall: None,
        blocking_reach: None,
        details: Vec::new(),
        wall_seconds: start.elapsed().as_secs_f64(),
    };
    if let Some(path) = &a.common.report {
        collect::write(path, &collect::sm(a, &report, &score, &truth, &predicted))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_reach_counts_pairs_joined_through_kept_true_pairs() {
        let pair = |a: &str, b: &str| unordered(a.to_string(), b.to_string());
        // one entity {a, b, c}: a-b and b-c kept, a-c not; {d, e}: not kept; a-d kept but
        // not true (it joins nothing)
        let truth: HashSet<_> = [
            pair("a", "b"),
            pair("b", "c"),
            pair("a", "c"),
            pair("d", "e"),
        ]
        .into_iter()
        .collect();
        let cand: HashSet<_> = [pair("a", "b"), pair("b", "c"), pair("a", "d")]
            .into_iter()
            .collect();
        assert!((reach(&truth, &cand) - 0.75).abs() < 1e-9);
        assert_eq!(reach(&HashSet::new(), &cand), 0.0);
    }

    /// A tax file whose person id repeats (one row per form) has no distinct id column:
    /// its rows would be numbered, and numbers that happen to look like the truth's ids
    /// would be taken for them. The id-named column holding the truth's ids is read
    /// instead; a distinct id column covering them stays; `--id-column` always wins.
    #[test]
    fn the_id_column_is_the_one_that_holds_the_truth_ids() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(
            p("forms.csv"),
            "simulant_id,name,employer_id\n2,ann,9\n2,ann,7\n1,bo,9\n3,cy,9\n",
        )
        .unwrap();
        let ids = |t: &RecordTable| t.ids.clone();
        let want = ["1".to_string(), "2".to_string(), "3".to_string()];
        let side = read_for_truth(&p("forms.csv"), None, want.iter()).unwrap();
        assert!(
            side.note
                .is_some_and(|n| n.contains("column `simulant_id`"))
        );
        let (t, col) = (side.table, side.id_column);
        assert_eq!(col.as_deref(), Some("simulant_id"));
        assert_eq!(ids(&t), ["2", "2", "1", "3"]);
        assert!(!t.records[0].contains_key("simulant_id"));
        let side = read_for_truth(&p("forms.csv"), Some("employer_id"), want.iter()).unwrap();
        let (t, col) = (side.table, side.id_column);
        assert_eq!(
            (col.as_deref(), ids(&t)[0].as_str()),
            (Some("employer_id"), "9")
        );
        // no id column, a truth counting rows from 0 (a pandas index): rows from 0
        std::fs::write(p("bare.csv"), "name,city\nann,perth\nbo,derby\n").unwrap();
        let t = read_records(&p("bare.csv"), None).unwrap();
        assert!(t.numbered);
        let (zero, one, two) = ("0".to_string(), "1".to_string(), "2".to_string());
        assert!(counts_from_zero(&t.records, &t.records, [(&zero, &one)]));
        // the two anns are rows 2 and 3 counted from 1, rows 1 and 2 counted from 0
        std::fs::write(
            p("five.csv"),
            "name,city\nbo,derby\nann,perth\nann,perth\ncy,leeds\ndee,york\n",
        )
        .unwrap();
        let t = read_records(&p("five.csv"), None).unwrap();
        let three = "3".to_string();
        assert!(!counts_from_zero(&t.records, &t.records, [(&two, &three)]));
        assert!(counts_from_zero(&t.records, &t.records, [(&one, &two)]));
        assert!(
            !read_records(&p("forms.csv"), Some("employer_id"))
                .unwrap()
                .numbered
        );
        std::fs::write(p("people.csv"), "id,name\np1,ann\np2,bo\n").unwrap();
        let want = ["p1".to_string()];
        let side = read_for_truth(&p("people.csv"), None, want.iter()).unwrap();
        assert_eq!(side.note, None);
        let (t, col) = (side.table, side.id_column);
        assert_eq!(
            (col, ids(&t)),
            (None, vec!["p1".to_string(), "p2".to_string()])
        );
    }

    #[test]
    fn errors_are_listed_by_kind() {
        let set = |v: &[(&str, &str)]| -> HashSet<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let truth = set(&[("1", "10"), ("2", "11"), ("3", "12")]);
        let cand = set(&[("1", "10"), ("2", "11"), ("4", "13")]);
        let predicted = set(&[("1", "10"), ("4", "13")]);
        assert_eq!(
            error_lines(5, &truth, &cand, &predicted, |_| None),
            vec![
                "not_a_candidate: 3 <-> 12",
                "missed: 2 <-> 11",
                "wrong: 4 <-> 13"
            ]
        );
        assert!(error_lines(0, &truth, &cand, &predicted, |_| None).is_empty());
    }

    #[tokio::test]
    async fn em_eval_on_a_tiny_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("a.csv"), "id,name,city,phone\n1,arnie mortons of chicago,los angeles,310/246-1501\n2,arts delicatessen,studio city,818/762-1221\n3,spago,beverly hills,310-385-0880\n").unwrap();
        // the right side holds an identity number the left lacks
        std::fs::write(p("b.csv"), "id,name,city,phone,ssn\n10,arnie morton's of chicago,los angeles,310-246-1501,401-22-1234\n11,art's deli,studio city,818-762-1221,512-33-9876\n12,chinois on main,santa monica,310-392-9025,623-44-5555\n").unwrap();
        std::fs::write(p("t.csv"), "a,b\n1,10\n2,11\n").unwrap();
        let common = CommonArgs {
            backbone: BackboneArg::Local,
            threshold: None,
            model: None,
            base_url: None,
            model_path: None,
            rules_dir: None,
            explain: true,
            show_errors: 5,
            report: None,
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
                pairs: Some(p("pairs.csv")),
                judged: None,
                common: common.clone(),
            }),
            &Config::default(),
        )
        .await
        .unwrap();
        assert!(r.f1 >= 0.99, "{r:?}");
        assert_eq!(r.blocking_recall, Some(1.0));
        // --pairs: one row per candidate, the truth and the prediction marked, a level per
        // compared field
        let mut rows = csv::Reader::from_path(p("pairs.csv")).unwrap();
        let header = rows.headers().unwrap().clone();
        assert_eq!(
            header.iter().take(6).collect::<Vec<_>>(),
            [
                "left_id",
                "right_id",
                "weight",
                "probability",
                "predicted",
                "true"
            ]
        );
        assert!(header.iter().any(|h| h == "level:phone"), "{header:?}");
        let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), r.candidate_pairs);
        let marked = |col: usize| rows.iter().filter(|r| &r[col] == "1").count();
        assert_eq!(marked(4), r.predicted_pairs);
        assert_eq!(marked(5), 2);
        let true_10 = rows.iter().find(|r| &r[0] == "1" && &r[1] == "10").unwrap();
        assert_eq!(&true_10[5], "1");
        let phone = header.iter().position(|h| h == "level:phone").unwrap();
        assert_eq!(&true_10[phone], "0", "{true_10:?}");
        assert!(r.lines().last().unwrap().starts_with("f1="));
        // the alignment and (--explain) the model come first
        let lines = r.lines();
        assert!(
            lines.contains(&"aligned: name <-> name (1.00)".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(
                &"own identity number: right: ssn (records of one number are one entity's)"
                    .to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("model: phone (Code): L0 m=")),
            "{lines:?}"
        );
        // judged pairs: a predicted pair outside them is not counted (only 1-10 judged)
        std::fs::write(
            p("j.csv"),
            "a,b
1,10
",
        )
        .unwrap();
        std::fs::write(
            p("t1.csv"),
            "a,b
1,10
",
        )
        .unwrap();
        let judged = run(
            EvalArgs::Em(EmArgs {
                left: p("a.csv"),
                right: p("b.csv"),
                truth: p("t1.csv"),
                id_column: None,
                many_to_many: false,
                one_to_one: false,
                columns: Some(vec![("name".into(), "name".into())]),
                pairs: None,
                judged: Some(p("j.csv")),
                common: common.clone(),
            }),
            &Config::default(),
        )
        .await
        .unwrap();
        assert_eq!(judged.predicted_pairs, 1, "{judged:?}");
        assert_eq!(judged.f1, 1.0, "{judged:?}");
        // a truth file naming none of the ids is refused, saying what the ids look like
        std::fs::write(p("t2.csv"), "a,b\nx1,y10\nx2,y11\n").unwrap();
        let e = run(
            EvalArgs::Em(EmArgs {
                left: p("a.csv"),
                right: p("b.csv"),
                truth: p("t2.csv"),
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
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("none of the 2 truth pairs names ids of") && e.contains("--id-column"),
            "{e}"
        );
        assert!(
            judged
                .lines()
                .contains(&"aligned: name <-> name (1.00)".to_string())
        );
        std::fs::write(
            p("d.csv"),
            "rid,name,city\nx1,john smith,sydney\nx2,jon smith,sydney\nx3,mary jones,perth\n",
        )
        .unwrap();
        std::fs::write(p("dt.csv"), "a,b\nx1,x2\n").unwrap();
        // the dedup runs below: input d.csv (ids in `rid`), truth `truth`
        let cfg = Config::default();
        let dedup = |truth: &str| {
            run(
                EvalArgs::Dedup(DedupArgs {
                    input: p("d.csv"),
                    truth: p(truth),
                    truth_clusters: false,
                    id_column: Some("rid".into()),
                    pairs: None,
                    common: common.clone(),
                }),
                &cfg,
            )
        };
        let r = dedup("dt.csv").await.unwrap();
        assert!(r.recall >= 0.99, "{r:?}");
        assert_eq!(r.lines()[0], "cluster_sizes=1:1 2:1", "{r:?}");
        // the same truth as cluster labels, one row per record
        std::fs::write(p("dc.csv"), "rid,person\nx1,p1\nx2,p1\nx3,p2\n").unwrap();
        let r = dedup("dc.csv").await.unwrap();
        assert_eq!((r.true_pairs, r.correct_pairs), (1, 1), "{r:?}");
        assert!(
            r.lines()
                .iter()
                .any(|l| l.starts_with("truth: read as cluster labels"))
        );
        // --explain: a dedup error says whether its pair matched and why it scored so
        std::fs::write(p("dw.csv"), "rid,person\nx1,p1\nx2,p1\nx3,p1\n").unwrap();
        let r = dedup("dw.csv").await.unwrap();
        let missed: Vec<&String> = r
            .details
            .iter()
            .filter(|l| l.starts_with("missed: x1 <-> x3"))
            .collect();
        assert_eq!(missed.len(), 1, "{r:?}");
        assert!(
            missed[0].contains("(not matched itself") && missed[0].contains(", name L"),
            "{missed:?}"
        );
        // a candidate scored below the threshold shows its probability, and the term
        // frequencies its weight was adjusted by
        if missed[0].contains("(not matched itself: p ") {
            assert!(missed[0].contains(", term frequencies "), "{missed:?}");
        }
    }

    #[test]
    fn truth_rows_are_pairs_or_cluster_labels() {
        let s = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let ids: Vec<String> = ["1", "2", "3", "4"].map(String::from).into();
        // pairs: the second values are ids
        assert!(!is_membership(&s(&[("1", "2"), ("3", "4")]), &ids));
        // labels: every record once, labels of their own
        let rows = s(&[("1", "a"), ("2", "a"), ("3", "b"), ("4", "a")]);
        assert!(is_membership(&rows, &ids));
        let pairs = membership_pairs(rows);
        assert_eq!(pairs.len(), 3);
        assert!(pairs.contains(&unordered("4".into(), "1".into())));
        // a first value that is no id: neither
        assert!(!is_membership(&s(&[("9", "a")]), &ids));
    }
}
