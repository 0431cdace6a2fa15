//! JSON record files, read as tables so that every file command takes them as it takes a
//! CSV: an array of objects (`pandas.DataFrame.to_json(orient="records")`, an API dump),
//! one object per line (JSON Lines / NDJSON, as pandas `lines=True`, Spark and BigQuery
//! export), or one object whose only list holds the records (`{"data": [...]}`).
//!
//! A column per key, in order of first appearance over the whole file (a key that only
//! later rows have is still a column). Values become the text a CSV of the same data would
//! hold: numbers and booleans as their JSON text, `null` as blank, a nested object as
//! dotted columns (`address.city`, as `pandas.json_normalize` names them), a list of plain
//! values joined with `"; "` (co-authors, phone numbers), any other list as its JSON.
//! A first pass finds the columns, a second yields the rows, so a line-per-record file is
//! streamed and never held whole; an array is parsed once and held.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::RecordsError;

/// Whether a file that starts with `head` is JSON: its first character past a byte-order
/// mark and blanks opens an object or an array (no CSV header starts so).
pub(super) fn is_json(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    matches!(
        head.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// The rows of a JSON record file, each as wide as its header.
pub(super) struct JsonRows {
    source: Source,
    columns: HashMap<String, usize>,
}

enum Source {
    /// One object per line: the lines left and the number of the last one read.
    Lines {
        lines: std::io::Lines<BufReader<std::fs::File>>,
        line: usize,
    },
    /// The records of an array (or of a wrapper's list), and the index of the next one.
    Items {
        items: std::vec::IntoIter<Json>,
        item: usize,
    },
}

/// How a JSON file holds its records.
enum Layout {
    Lines,
    Items(Vec<Json>),
}

/// Opens the JSON record file at `path`: its rows and its header (every key, flattened).
pub(super) fn open(path: &Path) -> Result<(JsonRows, Vec<String>), RecordsError> {
    let read_err = |m: String| RecordsError::Read {
        path: path.to_path_buf(),
        message: m,
    };
    let layout = layout(path)?;
    let mut headers: Vec<String> = Vec::new();
    let mut columns: HashMap<String, usize> = HashMap::new();
    let mut add = |fields: Vec<(String, String)>| {
        for (k, _) in fields {
            if !columns.contains_key(&k) {
                columns.insert(k.clone(), headers.len());
                headers.push(k);
            }
        }
    };
    let source = match layout {
        Layout::Lines => {
            let mut first = JsonRows {
                source: Source::Lines {
                    lines: lines(path)?,
                    line: 0,
                },
                columns: HashMap::new(),
            };
            while let Some(fields) = first.next_fields().map_err(read_err)? {
                add(fields);
            }
            Source::Lines {
                lines: lines(path)?,
                line: 0,
            }
        }
        Layout::Items(items) => {
            for (k, v) in items.iter().enumerate() {
                add(fields_of(v).map_err(|m| read_err(format!("record {}: {m}", k + 1)))?);
            }
            Source::Items {
                items: items.into_iter(),
                item: 0,
            }
        }
    };
    Ok((JsonRows { source, columns }, headers))
}

fn lines(path: &Path) -> Result<std::io::Lines<BufReader<std::fs::File>>, RecordsError> {
    let f = std::fs::File::open(path).map_err(|e| RecordsError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(BufReader::new(f).lines())
}

/// Line per record when the first record ends its line; else the whole file is one JSON
/// value: an array of records, or an object with exactly one list (of records).
fn layout(path: &Path) -> Result<Layout, RecordsError> {
    let format_err = |m: String| RecordsError::Format {
        path: path.to_path_buf(),
        message: m,
    };
    let mut text = String::new();
    let mut first = String::new();
    {
        let mut lines = lines(path)?;
        for line in lines.by_ref() {
            let line = line.map_err(|e| format_err(format!("not UTF-8 text: {e}")))?;
            if !line.trim().is_empty() {
                first = line;
                break;
            }
        }
        let first = first.trim_start_matches('\u{feff}').trim();
        let more = lines.any(|l| l.is_ok_and(|l| !l.trim().is_empty()));
        if let Ok(Json::Object(o)) = serde_json::from_str::<Json>(first) {
            // a minified wrapper (`{"count": 2, "data": [...]}` on one line) holds the
            // records in its list; any other object on a line is a record
            if !more && let Some(items) = only_list_of_records(o.clone()) {
                return Ok(Layout::Items(items));
            }
            return Ok(Layout::Lines);
        }
    }
    std::fs::File::open(path)
        .and_then(|f| BufReader::new(f).read_to_string(&mut text))
        .map_err(|e| format_err(format!("not UTF-8 text: {e}")))?;
    let value: Json = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format_err(format!("not JSON: {e}")))?;
    match value {
        Json::List(items) => Ok(Layout::Items(items)),
        Json::Object(o) => match only_list_of_records(o) {
            Some(items) => Ok(Layout::Items(items)),
            None => Err(format_err(
                "a JSON record file holds an array of objects, one object per line, or one \
                 object whose only list holds the records"
                    .into(),
            )),
        },
        _ => Err(format_err(
            "a JSON record file holds an array of objects or one object per line".into(),
        )),
    }
}

/// The records of a wrapper object: its only list, when that list holds objects.
fn only_list_of_records(o: Vec<(String, Json)>) -> Option<Vec<Json>> {
    let mut lists = o.into_iter().filter(|(_, v)| matches!(v, Json::List(_)));
    match (lists.next(), lists.next()) {
        (Some((_, Json::List(items))), None)
            if items.iter().all(|x| matches!(x, Json::Object(_))) =>
        {
            Some(items)
        }
        _ => None,
    }
}

impl JsonRows {
    /// The next record's fields (flattened), `None` past the last; errors name the line
    /// or the record.
    fn next_fields(&mut self) -> Result<Option<Vec<(String, String)>>, String> {
        match &mut self.source {
            Source::Lines { lines, line } => loop {
                let Some(text) = lines.next() else {
                    return Ok(None);
                };
                *line += 1;
                let text = text.map_err(|e| format!("line {line}: {e}"))?;
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                let v: Json = serde_json::from_str(text)
                    .map_err(|e| format!("line {line}: not JSON: {e}"))?;
                return fields_of(&v)
                    .map(Some)
                    .map_err(|m| format!("line {line}: {m}"));
            },
            Source::Items { items, item } => {
                let Some(v) = items.next() else {
                    return Ok(None);
                };
                *item += 1;
                fields_of(&v)
                    .map(Some)
                    .map_err(|m| format!("record {item}: {m}"))
            }
        }
    }

    /// The next row, a field per column of the header (blank where the record has no
    /// such key).
    pub(super) fn next_row(&mut self) -> Result<Option<csv::StringRecord>, String> {
        let Some(fields) = self.next_fields()? else {
            return Ok(None);
        };
        let mut row = vec![String::new(); self.columns.len()];
        for (k, v) in fields {
            if let Some(&c) = self.columns.get(&k) {
                row[c] = v;
            }
        }
        Ok(Some(csv::StringRecord::from(row)))
    }
}

/// A JSON value with its objects' keys in the file's order (`serde_json::Map` sorts
/// them; a file's column order is the user's).
#[derive(Clone)]
enum Json {
    Null,
    /// A string, trimmed.
    Text(String),
    /// A number or boolean, as its JSON text.
    Plain(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Plain(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Plain(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Plain(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Plain(serde_json::Value::from(v).to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Text(v.trim().to_string()))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Json::List(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out: Vec<(String, Json)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            // a repeated key: the last one holds, as in any JSON reader
            out.retain(|(x, _)| *x != k);
            out.push((k, v));
        }
        Ok(Json::Object(out))
    }
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Text(_) => "a string",
            Json::Plain(_) => "a number or boolean",
            Json::List(_) => "a list",
            Json::Object(_) => "an object",
        }
    }

    /// The value as compact JSON text (a list of lists kept in one field).
    fn text(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Text(s) => serde_json::Value::from(s.as_str()).to_string(),
            Json::Plain(s) => s.clone(),
            Json::List(items) => {
                let parts: Vec<String> = items.iter().map(Json::text).collect();
                format!("[{}]", parts.join(","))
            }
            Json::Object(o) => {
                let parts: Vec<String> = o
                    .iter()
                    .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), v.text()))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
        }
    }
}

/// A record's fields as (column, text) pairs; the record must be an object.
fn fields_of(v: &Json) -> Result<Vec<(String, String)>, String> {
    let Json::Object(o) = v else {
        return Err(format!("not a JSON object but {}", v.kind()));
    };
    let mut out = Vec::with_capacity(o.len());
    flatten("", o, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, o: &[(String, Json)], out: &mut Vec<(String, String)>) {
    for (k, v) in o {
        let name = if prefix.is_empty() {
            k.trim().to_string()
        } else {
            format!("{prefix}.{}", k.trim())
        };
        match v {
            Json::Object(inner) => flatten(&name, inner, out),
            Json::List(items)
                if items
                    .iter()
                    .all(|x| !matches!(x, Json::List(_) | Json::Object(_))) =>
            {
                let parts: Vec<&str> = items
                    .iter()
                    .filter_map(|x| match x {
                        Json::Text(s) | Json::Plain(s) if !s.is_empty() => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                out.push((name, parts.join("; ")));
            }
            Json::List(_) => out.push((name, v.text())),
            Json::Null => out.push((name, String::new())),
            Json::Text(s) | Json::Plain(s) => out.push((name, s.clone())),
        }
    }
}
