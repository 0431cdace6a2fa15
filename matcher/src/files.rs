//! File commands for people with CSV or JSON files: `kcmf-matcher dedup INPUT.csv --out
//! clusters.csv` and `kcmf-matcher link A.csv B.json --out pairs.csv`. They call the
//! engine's set operations directly (blocking → scoring in parallel → clustering), with a
//! progress bar on a terminal and plain progress lines otherwise. The files are read and
//! written through [`crate::records`].

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use rayon::prelude::*;

use crate::engine::fs::{FieldSpec, Prepared, prepare_with};
use crate::engine::linkage::{self, LinkOptions};
use crate::records::{CsvOut, OpenRecords, RecordsError, open_records, read_records};

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Reading the input or writing the output failed.
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, clap::Args)]
pub struct DedupFileArgs {
    /// Input file: CSV with a header (delimiter sniffed), or JSON (an array of objects or one object per line).
    pub input: PathBuf,
    /// Output CSV: `cluster,id` for every record in a cluster of two or more.
    #[arg(long)]
    pub out: PathBuf,
    /// Match probability threshold.
    #[arg(long, default_value_t = 0.85)]
    pub threshold: f64,
    /// Column holding record ids (default: a column named like an id — `id`,
    /// `rec_id`, `*_id` — whose values are present and distinct; else the first column when
    /// its values read like codes; else the rows are numbered from 1).
    #[arg(long)]
    pub id_column: Option<String>,
    /// No cluster grows beyond this many records: pairs join strongest first, and a pair
    /// that would make a cluster larger is left out (0: plain connected components).
    #[arg(long, default_value_t = linkage::DEFAULT_MAX_CLUSTER)]
    pub max_cluster_size: usize,
    /// Stricter threshold that splits clusters: pairs at or above it form the clusters, a
    /// pair below it may add a lone record but never joins two clusters (at least
    /// `--threshold`; default off).
    #[arg(long)]
    pub split_threshold: Option<f64>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LinkFileArgs {
    /// Left file (CSV or JSON, as the input of `dedup`).
    pub left: PathBuf,
    /// Right file (CSV or JSON).
    pub right: PathBuf,
    /// Output CSV: `left,right,probability,rule` for every matched pair.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0.85)]
    pub threshold: f64,
    #[arg(long)]
    pub id_column: Option<String>,
    /// At most one match per record on each side (default: one match per record, plus
    /// the further matches that are duplicates of it on their own side).
    #[arg(long, conflicts_with = "many_to_many")]
    pub one_to_one: bool,
    /// Every pair at or above the threshold is a match.
    #[arg(long)]
    pub many_to_many: bool,
    /// The columns to compare, `left:right,...` (default: aligned by the schema matcher,
    /// and the alignment printed).
    #[arg(long, value_parser = crate::engine::align::parse_column_map)]
    pub columns: Option<Vec<(String, String)>>,
}

/// Progress: a spinner with the stage on a terminal, a line per stage otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Self {
            bar,
            start: Instant::now(),
        }
    }

    fn stage(&self, msg: String) {
        match &self.bar {
            Some(b) => b.set_message(msg),
            None => eprintln!("[{:>7.2}s] {msg}", self.start.elapsed().as_secs_f64()),
        }
    }

    fn done(&self, msg: String) {
        match &self.bar {
            Some(b) => b.finish_with_message(msg),
            None => eprintln!("[{:>7.2}s] {msg}", self.start.elapsed().as_secs_f64()),
        }
    }
}

fn check_threshold(t: f64) -> Result<(), FilesError> {
    if (0.0..=1.0).contains(&t) {
        Ok(())
    } else {
        Err(FilesError::Invalid(format!(
            "--threshold {t} is not in [0, 1]"
        )))
    }
}

/// `kcmf-matcher dedup`.
pub fn dedup(a: &DedupFileArgs) -> Result<(), FilesError> {
    check_threshold(a.threshold)?;
    if let Some(s) = a.split_threshold
        && !(a.threshold..=1.0).contains(&s)
    {
        return Err(FilesError::Invalid(format!(
            "--split-threshold {s} is not in [--threshold {}, 1]",
            a.threshold
        )));
    }
    let p = Progress::new();
    p.stage(format!("reading {}", a.input.display()));
    let (ids, fields, prepared) = read_prepared(&a.input, a.id_column.as_deref())?;
    if prepared.is_empty() {
        return Err(FilesError::Invalid(format!(
            "{} has no records",
            a.input.display()
        )));
    }
    p.stage(format!(
        "{} records: blocking, scoring, clustering",
        prepared.len()
    ));
    let opts = LinkOptions {
        threshold: a.threshold,
        max_cluster_size: a.max_cluster_size,
        split_threshold: a.split_threshold,
        ..LinkOptions::default()
    };
    let out = linkage::dedup_prepared(fields, &prepared, &[], &opts);
    p.stage(format!("writing {}", a.out.display()));
    let mut w = CsvOut::create(&a.out)?;
    w.row(["cluster", "id"])?;
    let mut in_clusters = 0usize;
    for (k, c) in out.clusters.iter().enumerate() {
        for &i in c {
            in_clusters += 1;
            w.row([k.to_string().as_str(), ids[i].as_str()])?;
        }
    }
    w.finish()?;
    p.done(format!(
        "{} records, {} candidate pairs, {} clusters ({} records) in {:.2}s",
        prepared.len(),
        out.link.candidate_pairs,
        out.clusters.len(),
        in_clusters,
        p.start.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Ids, comparison fields and prepared records of a record file (see [`read_prepared`]).
type PreparedFile = (Vec<String>, Vec<FieldSpec>, Vec<Prepared>);

/// Records read per batch; the field kinds are inferred from the first batch.
const READ_BATCH: usize = 50_000;

/// Reads a record file (CSV or JSON) straight into prepared (normalized, compact) records,
/// a batch of rows at a time (normalized in parallel), so the raw rows of a million-record file are never all
/// held: ids, the comparison fields (kinds inferred from the first [`READ_BATCH`] rows) and
/// the prepared records. Rows are read as [`csv::StringRecord`]s and prepared straight
/// from their columns; the same records as [`read_records`] + [`crate::engine::fs::prepare`] would give.
fn read_prepared(path: &Path, id_column: Option<&str>) -> Result<PreparedFile, FilesError> {
    let err = |m: String| {
        FilesError::Records(RecordsError::Read {
            path: path.to_path_buf(),
            message: m,
        })
    };
    let OpenRecords {
        reader: mut rdr,
        headers,
        id_index: id_idx,
    } = open_records(path, id_column)?;
    // a reader thread parses the next batch while the pool prepares this one (parsing is
    // a third of the work and single-threaded)
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<csv::StringRecord>, String>>(2);
    let reader = std::thread::spawn(move || {
        loop {
            let mut batch = Vec::with_capacity(READ_BATCH);
            while batch.len() < READ_BATCH {
                match rdr.next_row() {
                    Ok(Some(row)) => batch.push(row),
                    Ok(None) => break,
                    Err(e) => {
                        // the receiver may have gone away; nothing else to tell
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            let last = batch.len() < READ_BATCH;
            if (!batch.is_empty() && tx.send(Ok(batch)).is_err()) || last {
                return;
            }
        }
    });
    let mut ids = Vec::new();
    let mut fields: Option<(Vec<FieldSpec>, HashMap<String, usize>)> = None;
    let mut prepared: Vec<Prepared> = Vec::new();
    for batch in rx {
        let batch = batch.map_err(err)?;
        let (f, cols) = fields.get_or_insert_with(|| {
            let f = crate::engine::columns::infer_fields_rows(
                &headers,
                id_idx.unwrap_or(usize::MAX),
                batch.iter(),
            );
            // the column of each name: the last one of that name, as in a record
            let cols: HashMap<String, usize> = headers
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != id_idx)
                .map(|(i, h)| (h.clone(), i))
                .collect();
            (f, cols)
        });
        let (f, cols) = (&*f, &*cols);
        prepared.par_extend(
            batch
                .par_iter()
                .map(|row| prepare_with(f, |name| cols.get(name).and_then(|&c| row.get(c)))),
        );
        let first = ids.len() + 1;
        ids.extend(batch.iter().enumerate().map(|(k, r)| match id_idx {
            Some(i) => r.get(i).unwrap_or_default().to_string(),
            None => crate::records::row_id(first + k),
        }));
    }
    reader
        .join()
        .map_err(|_| err("the file reader thread panicked".into()))?;
    Ok((ids, fields.map(|(f, _)| f).unwrap_or_default(), prepared))
}

/// `kcmf-matcher link`.
pub fn link(a: &LinkFileArgs) -> Result<(), FilesError> {
    check_threshold(a.threshold)?;
    let p = Progress::new();
    p.stage(format!(
        "reading {} and {}",
        a.left.display(),
        a.right.display()
    ));
    // the two files read at once, each on a core of its own
    let (l, r) = rayon::join(
        || read_records(&a.left, a.id_column.as_deref()),
        || read_records(&a.right, a.id_column.as_deref()),
    );
    let (l, r) = (l?, r?);
    if l.records.is_empty() || r.records.is_empty() {
        return Err(FilesError::Invalid(
            "both inputs need at least one record".into(),
        ));
    }
    p.stage(format!(
        "{} × {} records: blocking and scoring",
        l.records.len(),
        r.records.len()
    ));
    let opts = LinkOptions {
        threshold: a.threshold,
        assignment: linkage::Assignment::from_flags(a.one_to_one, a.many_to_many),
        column_map: a.columns.clone(),
        ..LinkOptions::default()
    };
    let out = linkage::link(&l.records, &r.records, &[], &opts)
        .map_err(|e| FilesError::Invalid(format!("--columns: {e}")))?;
    for al in &out.alignment {
        eprintln!("aligned: {} <-> {} ({:.2})", al.left, al.right, al.score);
    }
    for id in &out.own_ids {
        eprintln!("own identity number: {id} (records of one number are one entity's)");
    }
    let mut w = CsvOut::create(&a.out)?;
    w.row(["left", "right", "probability", "rule"])?;
    let mut n = 0usize;
    for m in out.matches() {
        n += 1;
        w.row([
            l.ids[m.left].as_str(),
            r.ids[m.right].as_str(),
            format!("{:.6}", m.probability).as_str(),
            m.rule.as_str(),
        ])?;
    }
    w.finish()?;
    p.done(format!(
        "{} candidate pairs, {n} matches in {:.2}s",
        out.candidate_pairs,
        p.start.elapsed().as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path, csv: &str) -> DedupFileArgs {
        let input = dir.join("in.csv");
        std::fs::write(&input, csv).unwrap();
        DedupFileArgs {
            input,
            out: dir.join("out.csv"),
            threshold: 0.85,
            id_column: None,
            max_cluster_size: linkage::DEFAULT_MAX_CLUSTER,
            split_threshold: None,
        }
    }

    /// Two people written twice each among strangers, over more rows than one read batch
    /// (the reader thread hands batches to the preparing pool).
    fn people(n: usize) -> String {
        let mut s = String::from("id,given,surname,city,dob\n");
        for i in 0..n {
            s.push_str(&format!(
                "r{i},g{i}x,s{}y,c{},19{:02}01{:02}\n",
                i * 7,
                i % 50,
                i % 90,
                i % 28 + 1
            ));
        }
        s.push_str("dup-a,g3x,s21y,c3,19030104\n");
        s.push_str(&format!(
            "dup-b,g{0}x,s{1}y,c{2},19{3:02}01{4:02}\n",
            READ_BATCH + 5,
            (READ_BATCH + 5) * 7,
            (READ_BATCH + 5) % 50,
            (READ_BATCH + 5) % 90,
            (READ_BATCH + 5) % 28 + 1
        ));
        s
    }

    #[test]
    fn dedup_reads_in_batches_and_clusters_the_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(dir.path(), &people(READ_BATCH + 10));
        dedup(&a).unwrap();
        let out = std::fs::read_to_string(&a.out).unwrap();
        let (ids, _, prepared) = read_prepared(&a.input, None).unwrap();
        assert_eq!(ids.len(), READ_BATCH + 12);
        assert_eq!(prepared.len(), ids.len());
        assert_eq!(ids.last().map(String::as_str), Some("dup-b"));
        // `cluster,id` lines: each duplicate in its original's cluster
        let cluster = |id: &str| {
            out.lines()
                .find_map(|l| l.strip_suffix(&format!(",{id}")).map(str::to_string))
        };
        let far = format!("r{}", READ_BATCH + 5);
        assert!(cluster("r3").is_some(), "r3 not clustered:\n{out}");
        assert_eq!(cluster("r3"), cluster("dup-a"));
        assert!(cluster(&far).is_some(), "{far} not clustered");
        assert_eq!(cluster(&far), cluster("dup-b"));
        assert_ne!(cluster("r3"), cluster(&far));
    }

    #[test]
    fn bad_rows_and_options_are_refused_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        // a row that is not UTF-8 (Latin-1 from a spreadsheet) is read, not refused: its
        // record is in the output with the others
        let a = args(dir.path(), &people(10));
        let mut bytes = std::fs::read(&a.input).unwrap();
        bytes.extend_from_slice(b"latin,g3x,s21y,c3,19030104,M\xfcller\n");
        std::fs::write(&a.input, bytes).unwrap();
        dedup(&a).unwrap();
        let out = std::fs::read_to_string(&a.out).unwrap();
        let cluster = |id: &str| {
            out.lines()
                .find(|l| l.ends_with(&format!(",{id}")))
                .map(|l| l.split(',').next().unwrap_or_default().to_string())
        };
        assert!(cluster("latin").is_some(), "{out}");
        assert_eq!(cluster("latin"), cluster("r3"), "{out}");
        let mut a = args(dir.path(), &people(10));
        a.split_threshold = Some(0.5);
        let e = dedup(&a).unwrap_err().to_string();
        assert!(e.contains("--split-threshold"), "{e}");
        a.split_threshold = Some(0.97);
        dedup(&a).unwrap();
    }
}
