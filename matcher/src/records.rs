//! Record files: reading and writing the files people bring and take away, shared by the
//! file commands ([`crate::files`]), the evaluation ([`crate::eval`]) and batch-job
//! uploads ([`crate::jobs`]).
//!
//! * CSV files with a header ([`read_csv`], [`visit_csv`], [`open_csv`]): values trimmed,
//!   ragged rows allowed, one column naming each record (default the first);
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

// ---- CSV files ----------------------------------------------------------------------------

/// A table of records read from CSV: ids and records (id column removed).
pub struct CsvTable {
    pub ids: Vec<String>,
    pub records: Vec<Record>,
}

/// A CSV file opened for reading: the reader (past the header), the header, and the
/// index of the id column (`None`: the file has none, and its rows are numbered from 1).
pub struct OpenCsv {
    pub reader: csv::Reader<std::fs::File>,
    pub headers: Vec<String>,
    pub id_index: Option<usize>,
}

/// The id column of a file read without `--id-column`: the first column named like an id
/// (`id`, `rec_id`, `mention_id`, …; the first column first); else none when the first
/// column plainly holds data (`fname_c1`, `surname`, `dob`: a file with no id column,
/// whose first column must be compared, not taken for ids); else the first column.
pub fn default_id_index(headers: &[String]) -> Option<usize> {
    use crate::engine::columns::{is_id_name, names_data};
    if let Some(i) = headers.iter().position(|h| is_id_name(h)) {
        return Some(i);
    }
    match headers.first() {
        Some(h) if names_data(h) => None,
        Some(_) => Some(0),
        None => None,
    }
}

/// The id of data row `n` (from 1) of a file with no id column.
pub fn row_id(n: usize) -> String {
    n.to_string()
}

/// Reads a CSV file with a header; values are trimmed strings.
pub fn read_csv(path: &Path, id_column: Option<&str>) -> Result<CsvTable, RecordsError> {
    let mut ids = Vec::new();
    let mut records = Vec::new();
    visit_csv(path, id_column, |id, r| {
        ids.push(id);
        records.push(r);
        Ok(())
    })?;
    Ok(CsvTable { ids, records })
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

/// A row's fields as text: UTF-8 as it is, any other field read as Latin-1 (Windows
/// spreadsheets), so that no file is refused for its encoding.
pub fn decode_row(row: &csv::ByteRecord) -> csv::StringRecord {
    match csv::StringRecord::from_byte_record(row.clone()) {
        Ok(r) => r,
        Err(_) => row
            .iter()
            .map(|f| match std::str::from_utf8(f) {
                Ok(t) => t.to_string(),
                Err(_) => f.iter().map(|&b| char::from(b)).collect(),
            })
            .collect(),
    }
}

/// Opens a CSV for reading (fields trimmed, ragged rows allowed, the delimiter sniffed
/// from the header line, [`sniff_delimiter`]), with the index of the id column
/// (`id_column`, default [`default_id_index`]).
pub fn open_csv(path: &Path, id_column: Option<&str>) -> Result<OpenCsv, RecordsError> {
    let err = |m: String| RecordsError::Read {
        path: path.to_path_buf(),
        message: m,
    };
    let delimiter = {
        use std::io::Read;
        let mut head = Vec::with_capacity(8192);
        std::fs::File::open(path)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
            .map_err(|e| err(e.to_string()))?;
        sniff_delimiter(&head)
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .delimiter(delimiter)
        .from_path(path)
        .map_err(|e| err(e.to_string()))?;
    let headers: Vec<String> = decode_row(reader.byte_headers().map_err(|e| err(e.to_string()))?)
        .iter()
        .map(str::to_string)
        .collect();
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
        None => default_id_index(&headers),
    };
    Ok(OpenCsv {
        reader,
        headers,
        id_index,
    })
}

/// Streams a CSV with a header: calls `each(id, record)` per row (the id column is left
/// out of the record), so callers that keep a compact form never hold every raw record.
/// Rows are numbered as lines of the file in errors (the header is row 1).
pub fn visit_csv(
    path: &Path,
    id_column: Option<&str>,
    mut each: impl FnMut(String, Record) -> Result<(), RecordsError>,
) -> Result<(), RecordsError> {
    let err = |m: String| RecordsError::Read {
        path: path.to_path_buf(),
        message: m,
    };
    let OpenCsv {
        mut reader,
        headers,
        id_index,
    } = open_csv(path, id_column)?;
    let mut bytes = csv::ByteRecord::new();
    let mut n = 0usize;
    loop {
        match reader.read_byte_record(&mut bytes) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(err(format!("row {}: {e}", n + 2))),
        }
        let row = decode_row(&bytes);
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
    Ok(())
}

/// Reads a two-column truth CSV (header skipped): the id pairs.
pub fn read_truth(path: &Path) -> Result<Vec<(String, String)>, RecordsError> {
    let first = {
        let mut r = csv::ReaderBuilder::new()
            .from_path(path)
            .map_err(|e| RecordsError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        r.headers()
            .map_err(|e| RecordsError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
            .get(0)
            .unwrap_or_default()
            .to_string()
    };
    let t = read_csv(path, Some(&first))?;
    let mut out = Vec::new();
    for (id, r) in t.ids.into_iter().zip(t.records) {
        let second = r
            .values()
            .next()
            .map(crate::engine::value_text)
            .unwrap_or_default();
        if id.is_empty() || second.is_empty() {
            return Err(RecordsError::Format {
                path: path.to_path_buf(),
                message: "truth rows need two values".into(),
            });
        }
        out.push((id, second));
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

/// Parses an NDJSON body (one JSON object per line; blank lines skipped) into records.
/// Errors name the line of the body.
pub fn parse_ndjson(body: &[u8]) -> Result<Vec<Record>, RecordsError> {
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
    fn csv_files_read_with_their_id_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, "rid,name,city\nx1, john smith ,sydney\nx2,jon smith\n").unwrap();
        let t = read_csv(&p, Some("rid")).unwrap();
        assert_eq!(t.ids, vec!["x1", "x2"]);
        // values trimmed, the id column left out, a short row keeps what it has
        assert_eq!(t.records[0]["name"], "john smith");
        assert!(!t.records[0].contains_key("rid"));
        assert_eq!(t.records[1].len(), 1);
        // default: the first column (named like nothing the lexicon knows)
        assert_eq!(read_csv(&p, None).unwrap().ids, vec!["x1", "x2"]);
        // default: the first column named like an id, wherever it is
        let q = dir.path().join("e.csv");
        std::fs::write(&q, "name,city,rec_id\nann,perth,a7\n").unwrap();
        let t = read_csv(&q, None).unwrap();
        assert_eq!((t.ids[0].as_str(), t.records[0].len()), ("a7", 2));
        // a file with no id column: the first column is data, the rows are numbered
        let r = dir.path().join("f.csv");
        std::fs::write(
            &r,
            "fname_c1,fname_c2,lname_c1\ncarsten,,meier\ngerd,,bauer\n",
        )
        .unwrap();
        let t = read_csv(&r, None).unwrap();
        assert_eq!(t.ids, vec!["1", "2"]);
        assert_eq!(t.records[0]["fname_c1"], "carsten");
        let e = read_csv(&p, Some("nope")).err().unwrap().to_string();
        assert!(e.contains("no id column \"nope\""), "{e}");
        assert!(read_csv(&dir.path().join("missing.csv"), None).is_err());
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
        let t = read_csv(&p, None).unwrap();
        assert_eq!(t.ids, vec!["1", "2"]);
        assert_eq!(t.records[0]["name"], "Müller");
        assert_eq!(t.records[0]["ort"], "Köln, Altstadt");
        assert_eq!(t.records[1]["name"], "Zoë");
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
        assert!(e.ends_with("truth rows need two values"), "{e}");
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
