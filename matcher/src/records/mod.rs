//! Record files: reading and writing the files people bring and take away, shared by the
//! file commands ([`crate::files`]), the evaluation ([`crate::eval`]) and batch-job
//! uploads ([`crate::jobs`]).
//!
//! * record files ([`read_records`], [`visit_records`], [`open_records`]): CSV with a header
//!   (delimiter sniffed, values trimmed, ragged rows allowed) or JSON ([`json`]: an array of
//!   objects or one per line, read as a table), one column naming each record (default: an
//!   id column found by name and checked for unique values, [`id_candidates`]; else rows
//!   numbered from 1);
//! * truth files: two-column CSVs of id pairs ([`read_truth`]);
//! * schema files: one JSON [`Table`] ([`read_table`]);
//! * uploaded bodies: CSV ([`parse_csv`], strict: every row as wide as the header) or
//!   NDJSON ([`parse_ndjson`]);
//! * CSV output ([`CsvOut`]).
//!
//! Every error names the file (or the line of an uploaded body) and says what is wrong.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine::{Record, Table};

mod json;

/// Errors reading or writing record files.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The file cannot be opened or read, or a row is not CSV.
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    /// The file was read but its content is not what was asked for.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    /// An uploaded body is malformed: at `line` (1-based; `None`: the body as a whole, e.g.
    /// its CSV header).
    #[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Body {
        line: Option<usize>,
        message: String,
    },
}

// ---- record files (CSV, JSON) -----------------------------------------------------------

/// A table of records read from a file: ids and records (id column removed).
pub struct RecordTable {
    pub ids: Vec<String>,
    pub records: Vec<Record>,
    /// Whether the ids are the rows' numbers (no column held distinct ids).
    pub numbered: bool,
}

/// A record file opened for reading: its rows (past the header), the header, and the
/// index of the id column (`None`: the file has none, and its rows are numbered from 1).
pub struct OpenRecords {
    pub reader: Rows,
    pub headers: Vec<String>,
    pub id_index: Option<usize>,
}

/// The columns that may hold a file's record ids when `--id-column` is not given, best
/// first: the first column when it is named like an id (`id`, `rec_id`, `mention_id`, a
/// blank or `Unnamed: 0` header: a pandas index), then a column named plainly `id`,
/// `rec_id`, `uuid`, … wherever it is, then any other column named like an id
/// (`ProviderID`) but not like data the lexicon knows (`national_id` is an identity number
/// to compare), then the first column unless it plainly holds data (`fname_c1`, `surname`,
/// `dob`: a file with no id column, whose first column must be compared). A blank header
/// anywhere but first (a trailing comma) is no candidate. [`open_records`] takes the first
/// candidate whose values are all present and distinct ([`unique_columns`]), and the
/// first column taken for want of an id-like name (`rid`, `Customer Number`) only when
/// every value also reads like a code (a digit, no space: not `name` or `title`); with
/// none, the rows are numbered.
pub fn id_candidates(headers: &[String]) -> Vec<usize> {
    use crate::engine::columns::{is_id_name, names_data};
    let plain = |h: &str| {
        crate::engine::fs::is_id_field(h)
            || matches!(
                h.trim().to_ascii_lowercase().as_str(),
                "uuid" | "row_id" | "rowid" | "record_key"
            )
    };
    let mut out: Vec<usize> = Vec::new();
    let mut add = |i: usize| {
        if !out.contains(&i) {
            out.push(i);
        }
    };
    if headers.first().is_some_and(|h| is_id_name(h)) {
        add(0);
    }
    for (i, h) in headers.iter().enumerate() {
        if plain(h) {
            add(i);
        }
    }
    for (i, h) in headers.iter().enumerate().skip(1) {
        if !h.trim().is_empty() && is_id_name(h) && !names_data(h) {
            add(i);
        }
    }
    if headers.first().is_some_and(|h| !names_data(h)) {
        add(0);
    }
    out
}

/// Which of the `candidates` columns hold a value in every row and no value twice (and,
/// for the columns of `coded`, a digit and no space in every value): one pass over the
/// rows, keeping a 64-bit hash per value (16 bytes a row per candidate).
fn unique_columns(
    rows: &mut Rows,
    candidates: &[usize],
    coded: &[usize],
) -> Result<Vec<bool>, String> {
    use std::hash::BuildHasher;
    let hasher = std::collections::hash_map::RandomState::new();
    let mut seen: Vec<std::collections::HashSet<u64>> = vec![Default::default(); candidates.len()];
    let mut ok = vec![true; candidates.len()];
    while let Some(row) = rows.next_row()? {
        for (k, &c) in candidates.iter().enumerate() {
            if !ok[k] {
                continue;
            }
            let v = row.get(c).unwrap_or_default();
            let code = || v.bytes().any(|b| b.is_ascii_digit()) && !v.contains(' ');
            ok[k] = !v.is_empty()
                && (!coded.contains(&c) || code())
                && seen[k].insert(hasher.hash_one(v));
            if !ok[k] {
                seen[k] = Default::default();
            }
        }
        if !ok.contains(&true) {
            break;
        }
    }
    Ok(ok)
}

/// The id of data row `n` (from 1) of a file with no id column.
pub fn row_id(n: usize) -> String {
    n.to_string()
}

/// Reads a record file (CSV with a header, or JSON); values are trimmed strings.
pub fn read_records(path: &Path, id_column: Option<&str>) -> Result<RecordTable, RecordsError> {
    let mut ids = Vec::new();
    let mut records = Vec::new();
    let numbered = visit_records(path, id_column, |id, r| {
        ids.push(id);
        records.push(r);
        Ok(())
    })?;
    Ok(RecordTable {
        ids,
        records,
        numbered,
    })
}

/// The delimiter of a CSV file from its header line: the most frequent of `,`, `;`, tab
/// and `|` outside quotes (a spreadsheet saved in a locale with decimal commas writes `;`),
/// `,` when none occurs.
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut counts = [0usize; 4];
    let cands = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(k) = cands.iter().position(|&c| c == b) {
            counts[k] += 1;
        }
    }
    let best = (0..4)
        .max_by_key(|&k| (counts[k], usize::from(k == 0)))
        .unwrap_or(0);
    if counts[best] == 0 { b',' } else { cands[best] }
}

/// A row's fields as text: UTF-8 as it is, any other field read as Windows-1252 (the
/// Latin-1 of Windows spreadsheets: `é` as 0xE9, `€` as 0x80), so that no file is refused
/// for its encoding. Fields are trimmed of Unicode spaces too (a no-break space pasted from
/// a web page), which the byte-level trim of the reader leaves.
pub fn decode_row(row: csv::ByteRecord) -> csv::StringRecord {
    let mut out = match csv::StringRecord::from_byte_record(row) {
        Ok(r) => r,
        Err(e) => e
            .into_byte_record()
            .iter()
            .map(|f| match std::str::from_utf8(f) {
                Ok(t) => t.to_string(),
                Err(_) => f.iter().map(|&b| windows_1252(b)).collect(),
            })
            .collect(),
    };
    let wide_edge = |f: &str| {
        f.as_bytes().first().is_some_and(|b| *b >= 0x80)
            || f.as_bytes().last().is_some_and(|b| *b >= 0x80)
    };
    if out.iter().any(wide_edge) {
        out.trim();
    }
    out
}

/// The character of a Windows-1252 byte (ISO 8859-1 but for 0x80–0x9F, where Windows puts
/// `€`, curly quotes and dashes; its five unassigned bytes are read as Latin-1).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// A reader of the CSV file at `path` as record files are read: fields trimmed, ragged
/// rows allowed, `delimiter` between fields, the first row a header or (`header: false`)
/// a record.
fn csv_reader(
    path: &Path,
    delimiter: u8,
    header: bool,
) -> Result<csv::Reader<std::fs::File>, RecordsError> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .has_headers(header)
        .delimiter(delimiter)
        .from_path(path)
        .map_err(|e| RecordsError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// The header row of `reader` (the file at `path`), decoded as [`decode_row`] does.
fn header_of(
    reader: &mut csv::Reader<std::fs::File>,
    path: &Path,
) -> Result<csv::StringRecord, RecordsError> {
    let h = reader.byte_headers().map_err(|e| RecordsError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(decode_row(h.clone()))
}

/// The header of the record file at `path` (CSV: delimiter sniffed, decoded as rows are;
/// JSON: every key).
pub fn headers(path: &Path) -> Result<Vec<String>, RecordsError> {
    Ok(rows(path)?.1)
}

/// The first 64 KiB of the file at `path`, to tell its format and delimiter by.
fn head_of(path: &Path) -> Result<Vec<u8>, RecordsError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| RecordsError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(head)
}

/// The delimiter of the CSV file at `path` ([`sniff_delimiter`] on its first 64 KiB).
fn sniff_file(path: &Path) -> Result<u8, RecordsError> {
    Ok(sniff_delimiter(&head_of(path)?))
}

/// The rows of a record file past its header, each a field per column of the header:
/// a CSV's rows as [`decode_row`] gives them, or a JSON file's records ([`json`]).
pub struct Rows(RowSource);

enum RowSource {
    /// A CSV reader and the line of the last row read (the header's, 1, before any; 0 in
    /// a file with no header row).
    Csv(csv::Reader<std::fs::File>, usize),
    Json(json::JsonRows),
}

impl Rows {
    /// The next row, `None` past the last; an error names the row (CSV: its line, the
    /// header being line 1) or the line or record of a JSON file.
    pub fn next_row(&mut self) -> Result<Option<csv::StringRecord>, String> {
        match &mut self.0 {
            RowSource::Csv(reader, line) => {
                let mut bytes = csv::ByteRecord::new();
                match reader.read_byte_record(&mut bytes) {
                    Ok(true) => {
                        *line += 1;
                        Ok(Some(decode_row(bytes)))
                    }
                    Ok(false) => Ok(None),
                    Err(e) => Err(format!("row {}: {e}", *line + 1)),
                }
            }
            RowSource::Json(rows) => rows.next_row(),
        }
    }
}

/// The rows and header of the record file at `path`: JSON when it starts like JSON
/// ([`json::is_json`]), else CSV with its delimiter sniffed; a CSV whose first row is
/// data ([`is_data_row`]) has its columns named `column_1`, `column_2`, … and that row
/// read as the first record.
fn rows(path: &Path) -> Result<(Rows, Vec<String>), RecordsError> {
    let head = head_of(path)?;
    if let Some(kind) = binary_format(&head) {
        return Err(RecordsError::Format {
            path: path.to_path_buf(),
            message: format!(
                "this is {kind}, not CSV or JSON: export it as CSV (pandas: \
                 `df.to_csv(\"records.csv\", index=False)`) or JSON Lines \
                 (`df.to_json(\"records.jsonl\", orient=\"records\", lines=True)`)"
            ),
        });
    }
    if json::is_json(&head) {
        let (rows, headers) = json::open(path)?;
        return Ok((Rows(RowSource::Json(rows)), headers));
    }
    let delimiter = sniff_delimiter(&head);
    let mut reader = csv_reader(path, delimiter, true)?;
    let header = header_of(&mut reader, path)?;
    if is_data_row(&header) {
        let reader = csv_reader(path, delimiter, false)?;
        let headers = (1..=header.len()).map(|i| format!("column_{i}")).collect();
        return Ok((Rows(RowSource::Csv(reader, 0)), headers));
    }
    let headers = header.iter().map(str::to_string).collect();
    Ok((Rows(RowSource::Csv(reader, 1)), headers))
}

/// The binary format a file's first bytes name, for the files users bring that are no
/// text: read as CSV, a Parquet file or a workbook gave "no records" or a table of
/// garbage.
fn binary_format(head: &[u8]) -> Option<&'static str> {
    let formats: [(&[u8], &str); 6] = [
        (b"PAR1", "a Parquet file"),
        (
            b"PK\x03\x04",
            "a ZIP archive (an Excel .xlsx workbook is one)",
        ),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "an Excel .xls workbook",
        ),
        (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
        (b"Obj\x01", "an Avro file"),
        (b"SQLite format 3\0", "an SQLite database"),
    ];
    formats
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, kind)| kind)
}

/// Whether a CSV's first row is a record, not a header: two or more of its fields are
/// numbers, dates or phone numbers (digits and `.,/:+-()` and spaces only), which no
/// column name is (`ZIP5`, `Birth Y`, `address_2` have letters; one year-like name, a
/// `2019` column, may be). Numbers counting up by one (pandas' `,0,1,2` header of unnamed
/// columns, a table's `2019,2020,2021`) are column names, and so is a first field left
/// blank (a pandas index).
fn is_data_row(row: &csv::StringRecord) -> bool {
    let numeric = |f: &str| {
        f.bytes().any(|b| b.is_ascii_digit())
            && f.bytes()
                .all(|b| b.is_ascii_digit() || b" .,/:+-()".contains(&b))
    };
    let numbers: Vec<&str> = row.iter().filter(|f| numeric(f)).collect();
    let counting: Option<Vec<u64>> = numbers.iter().map(|f| f.parse().ok()).collect();
    let counts_up = counting.is_some_and(|n| n.windows(2).all(|w| w[1] == w[0] + 1));
    numbers.len() >= 2 && !counts_up && !row.get(0).is_some_and(str::is_empty)
}

/// Opens a record file for reading (CSV: fields trimmed, ragged rows allowed, the
/// delimiter sniffed from the header line, [`sniff_delimiter`]; JSON: [`json`]), with the
/// index of the id column (`id_column`; by default the first of [`id_candidates`] whose
/// values are present and distinct, none when no candidate is).
pub fn open_records(path: &Path, id_column: Option<&str>) -> Result<OpenRecords, RecordsError> {
    let err = |m: String| RecordsError::Read {
        path: path.to_path_buf(),
        message: m,
    };
    let (reader, headers) = rows(path)?;
    let id_index = match id_column {
        Some(c) => {
            Some(
                headers
                    .iter()
                    .position(|h| h == c)
                    .ok_or_else(|| RecordsError::Format {
                        path: path.to_path_buf(),
                        message: format!("no id column {c:?} (columns: {})", headers.join(", ")),
                    })?,
            )
        }
        None => {
            let candidates = id_candidates(&headers);
            if candidates.is_empty() {
                None
            } else {
                let mut scan = rows(path)?.0;
                // the first column, when no name says it holds ids, must hold codes
                let coded: Vec<usize> = headers
                    .first()
                    .filter(|h| !crate::engine::columns::is_id_name(h))
                    .map(|_| 0)
                    .into_iter()
                    .collect();
                let ok = unique_columns(&mut scan, &candidates, &coded).map_err(err)?;
                candidates
                    .iter()
                    .zip(ok)
                    .find_map(|(&c, ok)| ok.then_some(c))
            }
        }
    };
    Ok(OpenRecords {
        reader,
        headers,
        id_index,
    })
}

/// Streams a record file: calls `each(id, record)` per row (the id column is left out of
/// the record), so callers that keep a compact form never hold every raw record. Errors
/// name the row ([`Rows::next_row`]). Returns whether the ids given were the rows'
/// numbers (no id column).
pub fn visit_records(
    path: &Path,
    id_column: Option<&str>,
    mut each: impl FnMut(String, Record) -> Result<(), RecordsError>,
) -> Result<bool, RecordsError> {
    let err = |m: String| RecordsError::Read {
        path: path.to_path_buf(),
        message: m,
    };
    let OpenRecords {
        mut reader,
        headers,
        id_index,
    } = open_records(path, id_column)?;
    let mut n = 0usize;
    while let Some(row) = reader.next_row().map_err(err)? {
        n += 1;
        let mut r = Record::new();
        for (i, v) in row.iter().enumerate() {
            if Some(i) == id_index {
                continue;
            }
            if let Some(h) = headers.get(i) {
                r.insert(h.clone(), Value::String(v.to_string()));
            }
        }
        let id = match id_index {
            Some(i) => row.get(i).unwrap_or_default().to_string(),
            None => row_id(n),
        };
        each(id, r)?;
    }
    Ok(id_index.is_none())
}

/// Reads a truth CSV (header skipped): the id pairs, from its first two columns (after a
/// row index column named `_id`, `index` or nothing, when more columns follow). A
/// labelled pair file (a further column named `label`, `match`, `is_match`, `gold` or
/// `y` of 1/0, true/false or yes/no, as the Magellan and DeepMatcher sets ship) gives the
/// pairs labelled as matches; other further columns are ignored. The delimiter is sniffed
/// and values trimmed as in the record files.
pub fn read_truth(path: &Path) -> Result<Vec<(String, String)>, RecordsError> {
    let mut reader = csv_reader(path, sniff_file(path)?, true)?;
    let header = header_of(&mut reader, path)?;
    // a pair file's own row index (`_id` in Magellan's, a blank pandas index) comes first
    let at = usize::from(
        header.len() >= 3
            && matches!(
                header
                    .get(0)
                    .unwrap_or_default()
                    .to_ascii_lowercase()
                    .as_str(),
                "_id" | "" | "unnamed: 0" | "index"
            ),
    );
    let label = header
        .iter()
        .enumerate()
        .skip(at + 2)
        .find(|(_, h)| {
            matches!(
                h.to_ascii_lowercase().as_str(),
                "label" | "match" | "is_match" | "gold" | "y"
            )
        })
        .map(|(i, _)| i);
    let mut out = Vec::new();
    let mut bytes = csv::ByteRecord::new();
    let mut n = 1usize;
    loop {
        match reader.read_byte_record(&mut bytes) {
            Ok(true) => n += 1,
            Ok(false) => break,
            Err(e) => {
                return Err(RecordsError::Read {
                    path: path.to_path_buf(),
                    message: format!("row {}: {e}", n + 1),
                });
            }
        }
        let row = decode_row(std::mem::take(&mut bytes));
        match (row.get(at), row.get(at + 1)) {
            (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
                let yes = match label.map(|i| row.get(i).unwrap_or_default().to_ascii_lowercase()) {
                    None => true,
                    Some(v) => match v.as_str() {
                        "1" | "1.0" | "true" | "yes" => true,
                        "0" | "0.0" | "false" | "no" => false,
                        _ => {
                            return Err(RecordsError::Format {
                                path: path.to_path_buf(),
                                message: format!(
                                    "row {n}: label {v:?} is neither 1/0, true/false nor yes/no"
                                ),
                            });
                        }
                    },
                };
                if yes {
                    out.push((a.to_string(), b.to_string()));
                }
            }
            _ if row.iter().all(str::is_empty) => {}
            _ => {
                return Err(RecordsError::Format {
                    path: path.to_path_buf(),
                    message: format!("row {n}: truth rows need two values"),
                });
            }
        }
    }
    Ok(out)
}

/// Reads a schema file: one table as JSON (`{"name", "columns": [...]}`).
pub fn read_table(path: &Path) -> Result<Table, RecordsError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecordsError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| RecordsError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

// ---- uploaded bodies ----------------------------------------------------------------------

/// Parses a CSV body with a header into records of strings (values as given, every row as
/// wide as the header). Errors name the line of the body.
pub fn parse_csv(body: &[u8]) -> Result<Vec<Record>, RecordsError> {
    not_binary(body, "CSV")?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .delimiter(sniff_delimiter(body))
        .from_reader(body);
    let headers = rdr
        .headers()
        .map_err(|e| RecordsError::Body {
            line: None,
            message: format!("CSV header: {e}"),
        })?
        .clone();
    if headers.iter().any(|h| h.trim().is_empty()) {
        return Err(RecordsError::Body {
            line: None,
            message: "CSV header has an empty column name".into(),
        });
    }
    let mut out = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let row = row.map_err(|e| RecordsError::Body {
            line: Some(i + 2),
            message: format!("malformed CSV row: {e}"),
        })?;
        let mut r = Record::new();
        for (h, v) in headers.iter().zip(row.iter()) {
            r.insert(h.to_string(), Value::String(v.to_string()));
        }
        out.push(r);
    }
    Ok(out)
}

/// An error naming the body's format when it is a binary one ([`binary_format`]): a
/// Parquet file uploaded as `text/csv` is no malformed CSV row.
fn not_binary(body: &[u8], expected: &str) -> Result<(), RecordsError> {
    match binary_format(body) {
        Some(kind) => Err(RecordsError::Body {
            line: None,
            message: format!("the body is {kind}, not {expected}"),
        }),
        None => Ok(()),
    }
}

/// Parses an NDJSON body (one JSON object per line; blank lines skipped) into records.
/// Errors name the line of the body.
pub fn parse_ndjson(body: &[u8]) -> Result<Vec<Record>, RecordsError> {
    not_binary(body, "NDJSON")?;
    let mut out = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let r: Record = serde_json::from_slice(line).map_err(|e| RecordsError::Body {
            line: Some(i + 1),
            message: format!("not a JSON object: {e}"),
        })?;
        out.push(r);
    }
    Ok(out)
}

// ---- CSV output ---------------------------------------------------------------------------

/// A CSV file being written, row by row; every error names the file.
pub struct CsvOut {
    path: PathBuf,
    writer: csv::Writer<std::fs::File>,
}

impl CsvOut {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> Result<Self, RecordsError> {
        let writer = csv::Writer::from_path(path).map_err(|e| RecordsError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
        })
    }

    fn err(&self, message: String) -> RecordsError {
        RecordsError::Write {
            path: self.path.clone(),
            message,
        }
    }

    /// Writes one row.
    pub fn row<I, T>(&mut self, fields: I) -> Result<(), RecordsError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .map_err(|e| self.err(e.to_string()))
    }

    /// Flushes what was written; call it last (a write error may only show here).
    pub fn finish(mut self) -> Result<(), RecordsError> {
        self.writer.flush().map_err(|e| self.err(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parquet_file_or_a_workbook_is_named_not_read_as_csv() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, kind) in [
            ("r.parquet", &b"PAR1\x15\x04\x15\x10PAR1"[..], "Parquet"),
            ("r.xlsx", &b"PK\x03\x04\x14\x00\x06\x00"[..], "Excel .xlsx"),
            ("r.csv.gz", &b"\x1f\x8b\x08\x00"[..], "gzip"),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let Err(e) = read_records(&p, None) else {
                panic!("{name} read as records");
            };
            let e = e.to_string();
            assert!(e.contains(kind) && e.contains("to_csv"), "{e}");
        }
        // text that only begins like one is read as it is
        let p = dir.path().join("pk.csv");
        std::fs::write(&p, "PK,name\n1,ann\n2,bo\n").unwrap();
        assert_eq!(read_records(&p, None).unwrap().ids, vec!["1", "2"]);
    }

    #[test]
    fn csv_files_read_with_their_id_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, "rid,name,city\nx1, john smith ,sydney\nx2,jon smith\n").unwrap();
        let t = read_records(&p, Some("rid")).unwrap();
        assert_eq!(t.ids, vec!["x1", "x2"]);
        // values trimmed, the id column left out, a short row keeps what it has
        assert_eq!(t.records[0]["name"], "john smith");
        assert!(!t.records[0].contains_key("rid"));
        assert_eq!(t.records[1].len(), 1);
        // default: the first column (named like nothing the lexicon knows)
        assert_eq!(read_records(&p, None).unwrap().ids, vec!["x1", "x2"]);
        // default: a column named plainly as an id, wherever it is
        let q = dir.path().join("e.csv");
        std::fs::write(&q, "name,city,rec_id\nann,perth,a7\n").unwrap();
        let t = read_records(&q, None).unwrap();
        assert_eq!((t.ids[0].as_str(), t.records[0].len()), ("a7", 2));
        // an identity number is data, a blank header after the last column (a trailing
        // comma) is no id, and a column named like an id whose values repeat (a patent
        // shared by its inventors) gives way to the next candidate
        let q = dir.path().join("g.csv");
        std::fs::write(
            &q,
            "patent_id,name,national_id,mention_id,\np1,ann,123,m1,\np1,bo,456,m2,\n",
        )
        .unwrap();
        let t = read_records(&q, None).unwrap();
        assert_eq!(t.ids, vec!["m1", "m2"]);
        assert_eq!(t.records[1]["national_id"], "456");
        assert_eq!(t.records[1]["patent_id"], "p1");
        // no candidate with distinct values: the rows are numbered
        std::fs::write(&q, "household_id,name,\nh1,ann,\nh1,bo,\n").unwrap();
        assert_eq!(read_records(&q, None).unwrap().ids, vec!["1", "2"]);
        // an empty value is no id either
        std::fs::write(&q, "id,name\n7,ann\n,bo\n").unwrap();
        assert_eq!(read_records(&q, None).unwrap().ids, vec!["1", "2"]);
        assert_eq!(
            id_candidates(&["surname".into(), "national_id".into(), String::new()]),
            Vec::<usize>::new()
        );
        // a first column of names is data, though its values are distinct
        std::fs::write(&q, "name,city\nann lee,perth\nbo,perth\n").unwrap();
        let t = read_records(&q, None).unwrap();
        assert_eq!(t.ids[1], "2");
        assert_eq!(t.records[1]["name"], "bo");
        assert_eq!(
            id_candidates(&["".into(), "name".into(), "ProviderID".into()]),
            vec![0, 2]
        );
        // a file with no id column: the first column is data, the rows are numbered
        let r = dir.path().join("f.csv");
        std::fs::write(
            &r,
            "fname_c1,fname_c2,lname_c1\ncarsten,,meier\ngerd,,bauer\n",
        )
        .unwrap();
        let t = read_records(&r, None).unwrap();
        assert_eq!(t.ids, vec!["1", "2"]);
        assert_eq!(t.records[0]["fname_c1"], "carsten");
        let e = read_records(&p, Some("nope")).err().unwrap().to_string();
        assert!(e.contains("no id column \"nope\""), "{e}");
        assert!(read_records(&dir.path().join("missing.csv"), None).is_err());
    }

    #[test]
    fn csv_files_with_no_header_row_keep_their_first_record() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.csv");
        // an export with no header: the first row is a record, its columns are numbered
        std::fs::write(
            &p,
            "rec-1-org, mitchell, green, 7, 19560409\nrec-1-dup-0, mitchel, green, 7, 1956-04-09\n",
        )
        .unwrap();
        let t = read_records(&p, None).unwrap();
        assert_eq!(t.ids, ["rec-1-org", "rec-1-dup-0"]);
        assert_eq!(t.records[0]["column_2"], "mitchell");
        assert_eq!(t.records[1]["column_5"], "1956-04-09");
        assert_eq!(headers(&p).unwrap()[0], "column_1");
        // names with digits, one year-like name, numbers counting up, a blank first
        // name are still a header
        for header in [
            "id,ZIP5,Birth Y,address_2\n",
            "id,name,2019\n",
            "id,name,2019,2020\n",
            ",0,1,2\n",
        ] {
            std::fs::write(&p, format!("{header}1,2000,1970,x\n")).unwrap();
            let h = headers(&p).unwrap();
            assert!(!h[0].starts_with("column_"), "{header}");
            assert_eq!(read_records(&p, None).unwrap().ids, ["1"], "{header}");
        }
    }

    #[test]
    fn json_files_read_as_the_csv_of_the_same_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("people.jsonl");
        // one object per line, a byte-order mark, a blank line, a key only a later line
        // has, a nested object, a list, null, a number, a boolean
        std::fs::write(
            &p,
            "\u{feff}{\"id\": \"a1\", \"name\": {\"given\": \" Ann \", \"family\": \"Lee\"}, \
             \"zip\": 2000, \"phones\": [\"0412\", null, \"0298\"], \"vip\": true}\n\n\
             {\"id\": \"a2\", \"name\": {\"given\": null, \"family\": \"Bo\"}, \"dob\": \"1970-01-02\"}\n",
        )
        .unwrap();
        assert_eq!(
            headers(&p).unwrap(),
            [
                "id",
                "name.given",
                "name.family",
                "zip",
                "phones",
                "vip",
                "dob"
            ]
        );
        let t = read_records(&p, None).unwrap();
        assert_eq!(t.ids, ["a1", "a2"]);
        let r = &t.records[0];
        assert_eq!(r["name.given"], "Ann");
        assert_eq!(r["zip"], "2000");
        assert_eq!(r["phones"], "0412; 0298");
        assert_eq!(r["vip"], "true");
        assert_eq!(r["dob"], "");
        assert_eq!(t.records[1]["name.given"], "");
        assert_eq!(t.records[1]["dob"], "1970-01-02");
        // an array of objects, pretty-printed, with no id: rows numbered; and the same
        // records under a wrapper's only list
        let q = dir.path().join("a.json");
        let items =
            "[\n  {\"name\": \"ann lee\", \"n\": 1.5},\n  {\"name\": \"bo\", \"tags\": [[1]]}\n]";
        std::fs::write(&q, items).unwrap();
        let t = read_records(&q, None).unwrap();
        assert_eq!(t.ids, ["1", "2"]);
        assert_eq!(
            (t.records[0]["n"].as_str(), t.records[1]["tags"].as_str()),
            (Some("1.5"), Some("[[1]]"))
        );
        std::fs::write(&q, format!("{{\"count\": 2, \"data\": {items}}}")).unwrap();
        assert_eq!(read_records(&q, None).unwrap().records[1]["name"], "bo");
        // errors name the line or the record, and say what a JSON record file holds
        let bad = |body: &str| {
            std::fs::write(&q, body).unwrap();
            read_records(&q, None).err().unwrap().to_string()
        };
        let e = bad("{\"id\": 1}\n{\"id\": 2,\n");
        assert!(e.contains("line 2: not JSON"), "{e}");
        let e = bad("{\"id\": 1}\n[1]\n");
        assert!(e.contains("line 2: not a JSON object but a list"), "{e}");
        let e = bad("[{\"id\": 1}, \"x\"]");
        assert!(
            e.contains("record 2: not a JSON object but a string"),
            "{e}"
        );
        // a minified wrapper on one line
        let wrapped = "{\"count\": 2, \"data\": [{\"name\": \"ann\"}, {\"name\": \"bo\"}]}";
        std::fs::write(&q, wrapped).unwrap();
        assert_eq!(read_records(&q, None).unwrap().records[1]["name"], "bo");
        let e = bad("{\n\"a\": [1],\n\"b\": [2]\n}");
        assert!(
            e.contains("one object whose only list holds the records"),
            "{e}"
        );
        let e = bad("[{\"id\": 1}");
        assert!(e.contains("not JSON"), "{e}");
        // a CSV whose first value is quoted stays a CSV
        std::fs::write(&q, "\"id\",name\n1,ann\n").unwrap();
        assert_eq!(read_records(&q, None).unwrap().records[0]["name"], "ann");
    }

    #[test]
    fn csv_files_of_other_locales_are_read_as_their_authors_see_them() {
        let dir = tempfile::tempdir().unwrap();
        // a spreadsheet saved with `;` and in Latin-1 (`Müller`, `Zoë`), a comma inside
        // a quoted value
        let p = dir.path().join("de.csv");
        std::fs::write(
            &p,
            b"id;name;ort\n1;M\xfcller;\"K\xf6ln, Altstadt\"\n2;Zo\xeb;Bonn\n",
        )
        .unwrap();
        let t = read_records(&p, None).unwrap();
        assert_eq!(t.ids, vec!["1", "2"]);
        assert_eq!(t.records[0]["name"], "Müller");
        assert_eq!(t.records[0]["ort"], "Köln, Altstadt");
        assert_eq!(t.records[1]["name"], "Zoë");
        // Windows-1252 beyond Latin-1, and a no-break space around a value
        std::fs::write(&p, b"id;name;note\n1;\x93Caf\xe9\x94;\xa0x\xa0\n").unwrap();
        let t = read_records(&p, None).unwrap();
        assert_eq!(t.records[0]["name"], "\u{201c}Café\u{201d}");
        assert_eq!(t.records[0]["note"], "x");
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1,5\t2\t3"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter(b"name\n"), b',');
        // an uploaded body too
        let r = parse_csv(b"id|name\n1|ann\n").unwrap();
        assert_eq!(r[0]["name"], "ann");
    }

    #[test]
    fn truth_and_schema_files() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.csv");
        std::fs::write(&t, "a,b\n1,10\n2,11\n").unwrap();
        assert_eq!(
            read_truth(&t).unwrap(),
            vec![("1".into(), "10".into()), ("2".into(), "11".into())]
        );
        std::fs::write(&t, "a,b\n1,\n").unwrap();
        let e = read_truth(&t).unwrap_err().to_string();
        assert!(e.ends_with("row 2: truth rows need two values"), "{e}");
        // `;`-separated, spaces around values, a third column (a label): the first two
        std::fs::write(&t, "left ; right;score\n 1 ; 10 ;1\n\n2;11;0\n").unwrap();
        assert_eq!(
            read_truth(&t).unwrap(),
            vec![("1".into(), "10".into()), ("2".into(), "11".into())]
        );
        // a labelled pair file: the pairs labelled as matches
        std::fs::write(&t, "_id,ltable_id,rtable_id,label\n0,1,10,1\n1,2,11,0\n").unwrap();
        assert_eq!(read_truth(&t).unwrap(), vec![("1".into(), "10".into())]);
        std::fs::write(&t, "ltable_id,rtable_id,label\n1,10,1\n2,11,0\n").unwrap();
        assert_eq!(read_truth(&t).unwrap(), vec![("1".into(), "10".into())]);
        std::fs::write(&t, "ltable_id,rtable_id,label\n1,10,maybe\n").unwrap();
        let e = read_truth(&t).unwrap_err().to_string();
        assert!(e.contains("row 2: label \"maybe\""), "{e}");
        let s = dir.path().join("s.json");
        std::fs::write(&s, r#"{"name": "people", "columns": [{"name": "id"}]}"#).unwrap();
        assert_eq!(read_table(&s).unwrap().columns[0].name, "id");
        std::fs::write(&s, r#"{"name": "people"}"#).unwrap();
        assert!(matches!(read_table(&s), Err(RecordsError::Format { .. })));
    }

    #[test]
    fn bodies_parse_and_name_bad_lines() {
        let r = parse_csv(b"id,name\n1,Ann\n2,Bo\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["name"], "Bo");
        match parse_csv(b"id,name\n1,Ann\n2,Bo,extra\n") {
            Err(RecordsError::Body { line, .. }) => assert_eq!(line, Some(3)),
            other => panic!("{other:?}"),
        }
        match parse_csv(b"id,,name\n1,2,3\n") {
            Err(RecordsError::Body { line, message }) => {
                assert_eq!(line, None);
                assert_eq!(message, "CSV header has an empty column name");
            }
            other => panic!("{other:?}"),
        }
        let r = parse_ndjson(b"{\"id\":1}\n\n{\"id\":2}\n").unwrap();
        assert_eq!(r.len(), 2);
        let e = parse_ndjson(b"{\"id\":1}\n[1]\n").unwrap_err();
        assert!(
            matches!(e, RecordsError::Body { line: Some(2), .. }),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with("line 2: not a JSON object"),
            "{e}"
        );
        // a Parquet file or a workbook uploaded as text is named for what it is
        for (body, kind) in [
            (&b"PAR1\x15\x04"[..], "Parquet"),
            (b"PK\x03\x04\x14", "ZIP"),
        ] {
            for e in [
                parse_csv(body).unwrap_err(),
                parse_ndjson(body).unwrap_err(),
            ] {
                assert!(
                    matches!(&e, RecordsError::Body { line: None, message } if message.contains(kind)),
                    "{e:?}"
                );
            }
        }
    }

    #[test]
    fn csv_out_writes_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        let mut w = CsvOut::create(&p).unwrap();
        w.row(["cluster", "id"]).unwrap();
        w.row(["0", "a,b"]).unwrap();
        w.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "cluster,id\n0,\"a,b\"\n"
        );
        let e = CsvOut::create(&dir.path().join("no/such/dir.csv"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("cannot write "), "{e}");
    }
}
