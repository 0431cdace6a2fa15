//! The fields of a comparison: typing a column from its values (text, code, amount,
//! date from one string or from part columns), normalizing a raw value once, and the
//! prepared record every comparison reads.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::engine::text::{digits, normalize};
use crate::engine::{Record, value_text};

/// How a field is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// Free text: Jaro–Winkler / token similarity.
    Text,
    /// Codes and numbers (digits only): edit distance on the digits.
    Code,
    /// Amounts (a decimal point or a currency sign): relative difference.
    Number,
    /// Dates, written as one string or over part columns: agreement of year, month and
    /// day where both sides know them.
    Date,
}

/// How the numbers of a date field are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Day first when ambiguous (`26/01/1936`); year first when four digits lead.
    #[default]
    Dmy,
    /// Month first (`01/26/1936`).
    Mdy,
    /// Year first (`1936-01-26`, `19360126`).
    Ymd,
    /// Year, month and day columns (`FieldSpec::columns` in that order; a part may be
    /// an empty name when the file has no such column).
    Parts,
    /// A spreadsheet's day number (`17828` for 1948-10-22): days since 1899-12-30, as
    /// Excel (from 1900-03-01 on) and LibreOffice write a date cell formatted as a number.
    Serial,
}

/// The day numbers [`DateOrder::Serial`] reads: 1901-01-01 to 2099-12-31 (a number under
/// 367 is a count or an order, seldom a date of 1900).
pub const SERIAL_DAYS: std::ops::RangeInclusive<u32> = 367..=73050;

/// A whole number a spreadsheet's day number can be ([`SERIAL_DAYS`]; `18192`, or
/// `18192.0` as pandas writes a column with gaps), and not a year (`1949`, read as the
/// year it is): `None` for anything else.
pub fn serial_day(raw: &str) -> Option<u32> {
    let s = raw.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse()
        .ok()
        .filter(|n| SERIAL_DAYS.contains(n) && !(1800..=2100).contains(n))
}

/// The date of a spreadsheet's day number ([`DateOrder::Serial`], [`serial_day`]) as
/// `YYYYMMDD`.
fn serial_date(raw: &str) -> Option<String> {
    let n = serial_day(raw)?;
    let day = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_days(chrono::Days::new(u64::from(n)))?;
    Some(day.format("%Y%m%d").to_string())
}

/// A part of a person's whole name ([`FieldSpec::name_part`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamePart {
    /// The given name: the first word (after the comma of `LAST, First`).
    Given,
    /// The words between the given name and the surname (a middle name or initial).
    Middle,
    /// The surname: the last word (before the comma of `LAST, First`; the first word of
    /// `SMITH John`, written in capitals where the rest is not).
    Family,
}

impl NamePart {
    /// The part as the printed alignment and the model name it (`Name (given)`).
    pub fn word(self) -> &'static str {
        match self {
            NamePart::Given => "given",
            NamePart::Middle => "middle",
            NamePart::Family => "family",
        }
    }
}

/// A field of the comparison schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    /// The columns whose values make the field (empty: the column `name`): a text
    /// continued over numbered columns, a date's year, month and day columns, or the
    /// column of whole names a [`Self::name_part`] is read from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default)]
    pub date_order: DateOrder,
    /// A given-name field: a name and its short form (`james` / `jim`) agree at level 1
    /// instead of disagreeing ([`crate::engine::lexicon::nickname_pair`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nicknames: bool,
    /// A surname field (`surname`, `last_name`, `lname`): with [`Self::nicknames`], the
    /// two columns a name written in the wrong one of is read from
    /// (`super::compare::shifted_names`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub surname: bool,
    /// A column of a few values repeated (a yes/no flag, a sex, a status: at most
    /// [`CATEGORICAL_MAX`] distinct among 100 or more filled): whatever its name says
    /// (`email_opt_in`, `ssn_verified`), it identifies no one
    /// ([`crate::engine::local::NameFields::detect`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub categorical: bool,
    /// A column of people's whole names (`Richard Ardash`, `ARDASH, Richard`): two names
    /// agree only as far as each word of the shorter finds its word in the other
    /// ([`super::compare::person_name_similarity`]), since one shared given name made
    /// `david sanwil` and `david williams` a close pair by Jaro–Winkler.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub person_name: bool,
    /// Read only this part of a person's whole name from the column: linking a file
    /// that writes the name in one column to one that splits it, the parts meet the
    /// given name and surname columns they are (a whole name compared with both joined
    /// lost a typo's worth in each word to one level, and moved people with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_part: Option<NamePart>,
    /// The whole names a [`Self::name_part`] is read from write the surname first
    /// without a comma (`Smith John A`), as the column's values showed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub family_first: bool,
}

/// Most distinct values of a [`FieldSpec::categorical`] column.
pub const CATEGORICAL_MAX: usize = 20;

impl FieldSpec {
    /// A field read from the column `name`.
    pub fn new(name: impl Into<String>, kind: FieldKind) -> Self {
        Self {
            name: name.into(),
            kind,
            columns: Vec::new(),
            date_order: DateOrder::default(),
            nicknames: false,
            surname: false,
            categorical: false,
            person_name: false,
            name_part: None,
            family_first: false,
        }
    }

    /// The columns the field is read from, as printed: `a+b`, and a part of a whole name
    /// as `Name (given)`.
    pub fn source_label(&self) -> String {
        let cols = self
            .sources()
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join("+");
        match self.name_part {
            Some(p) => format!("{cols} ({})", p.word()),
            None => cols,
        }
    }

    /// The source columns of the field.
    pub fn sources(&self) -> Vec<&str> {
        if self.columns.is_empty() {
            vec![self.name.as_str()]
        } else {
            self.columns.iter().map(String::as_str).collect()
        }
    }

    /// The raw value of the field from its source columns' values (`get(column)`): a
    /// [`Self::name_part`] of the whole name they hold, a date's parts as `y-m-d`, or the
    /// values joined by a space.
    pub fn raw<'s>(&self, mut get: impl FnMut(&str) -> Option<&'s str>) -> String {
        if let Some(part) = self.name_part {
            let whole: Vec<&str> = self.sources().into_iter().filter_map(&mut get).collect();
            return name_part(&whole.join(" "), part, self.family_first);
        }
        if self.columns.is_empty() {
            return get(&self.name).unwrap_or_default().to_string();
        }
        if self.kind == FieldKind::Date && self.date_order == DateOrder::Parts {
            // `y-m-d`, unknown parts as `?`
            let part = |c: &String, get: &mut dyn FnMut(&str) -> Option<&'s str>| {
                let v = if c.is_empty() {
                    ""
                } else {
                    get(c).unwrap_or_default()
                };
                let v = v.trim();
                let v = v.strip_suffix(".0").unwrap_or(v);
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    "?".to_string()
                } else {
                    v.to_string()
                }
            };
            let parts: Vec<String> = self.columns.iter().map(|c| part(c, &mut get)).collect();
            if parts.iter().all(|p| p == "?") {
                return String::new();
            }
            return parts.join("-");
        }
        let mut out = String::new();
        for c in &self.columns {
            let v = get(c).unwrap_or_default().trim();
            // a placeholder in one column (`NA` for no second given name, as R writes
            // it) is no word of the whole: joined, it made every two such names share
            // a token
            if !v.is_empty() && !crate::engine::columns::is_missing_value(v) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(v);
            }
        }
        out
    }
}

/// One normalized field value: the normalized text (tokens separated by single spaces)
/// and its digits, borrowed from a [`Prepared`] record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Value<'a> {
    pub norm: &'a str,
    pub digits: &'a str,
}

impl<'a> Value<'a> {
    pub fn is_empty(&self) -> bool {
        self.norm.is_empty()
    }
    /// The tokens of the normalized text.
    pub fn tokens(self) -> impl Iterator<Item = &'a str> + 'a {
        self.norm.split(' ').filter(|t| !t.is_empty())
    }
    /// How many tokens the normalized text has.
    pub fn token_count(&self) -> usize {
        if self.norm.is_empty() {
            0
        } else {
            self.norm.bytes().filter(|&b| b == b' ').count() + 1
        }
    }
    /// The tokens joined without spaces.
    pub fn joined(&self) -> String {
        self.tokens().collect()
    }
}

/// The digits of a normalized date written with separators, as `YYYYMMDD`: `1936 01 26`
/// (from `1936-01-26`) and `26 1 1936` (from `26/1/1936`; day first, month first only
/// when the second number cannot be a month) both give `19360126`, so one date written
/// two ways has the same digits.
/// `None` for anything else (a value without separators keeps its digits as written).
pub fn date_digits(norm: &str) -> Option<String> {
    let mut it = norm.split(' ');
    let (a, b, c) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let num = |t: &str, lo: usize, hi: usize| -> Option<u32> {
        (t.len() >= lo && t.len() <= hi && t.bytes().all(|x| x.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, m, d) = if let Some(y) = num(a, 4, 4) {
        (y, num(b, 1, 2)?, num(c, 1, 2)?)
    } else {
        let (p, q, y) = (num(a, 1, 2)?, num(b, 1, 2)?, num(c, 4, 4)?);
        if q > 12 && p <= 12 {
            (y, p, q)
        } else {
            (y, q, p)
        }
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}{m:02}{d:02}"))
}

/// A record normalized against a field list, in one allocation (a million prepared records
/// of ten fields are held in memory at once by dedup, and scoring a candidate pair reads
/// two of them: one or two cache lines each instead of twenty scattered strings).
///
/// Layout, all in one string: a width digit `w` (`3`, or `5` for texts over 2 MiB), the
/// field count and the `2 × fields` end offsets into the text, each in `w` bytes of 7 bits
/// (ASCII, so the whole stays valid UTF-8), then the text: per field its normalized value,
/// then its digits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Prepared {
    data: Box<str>,
}

impl Prepared {
    /// A prepared record from the normalized values of its fields, in field order.
    pub fn from_values<'s>(values: impl IntoIterator<Item = (&'s str, &'s str)>) -> Self {
        let mut text = String::new();
        let mut ends: Vec<usize> = Vec::new();
        for (norm, digits) in values {
            text.push_str(norm);
            ends.push(text.len());
            text.push_str(digits);
            ends.push(text.len());
        }
        let nf = ends.len() / 2;
        let w: usize = if text.len().max(nf) < 1 << 21 { 3 } else { 5 };
        let mut data = String::with_capacity(1 + w * (1 + ends.len()) + text.len());
        data.push(if w == 3 { '3' } else { '5' });
        for x in std::iter::once(nf).chain(ends) {
            for k in 0..w {
                data.push(char::from(((x >> (7 * k)) & 0x7f) as u8));
            }
        }
        data.push_str(&text);
        Self {
            data: data.into_boxed_str(),
        }
    }

    /// The record with only the fields `keep` (in that order), as
    /// [`super::relevance`] leaves some out after blocking.
    pub fn project(&self, keep: &[usize]) -> Self {
        Self::from_values(keep.iter().map(|&f| {
            let v = self.value(f);
            (v.norm, v.digits)
        }))
    }

    /// Normalizes raw field values (in field order).
    pub fn from_raw<'s>(raw: impl IntoIterator<Item = &'s str>) -> Self {
        let vals: Vec<(String, String)> = raw
            .into_iter()
            .map(|r| {
                let norm = normalize(r);
                let d = date_digits(&norm).unwrap_or_else(|| digits(&norm));
                (norm, d)
            })
            .collect();
        Self::from_values(vals.iter().map(|(n, d)| (n.as_str(), d.as_str())))
    }

    #[inline]
    fn width(&self) -> usize {
        if self.data.as_bytes().first() == Some(&b'5') {
            5
        } else {
            3
        }
    }

    #[inline]
    fn int(&self, w: usize, k: usize) -> usize {
        let at = 1 + w * k;
        match self.data.as_bytes().get(at..at + w) {
            Some(&[a, b, c]) => a as usize | (b as usize) << 7 | (c as usize) << 14,
            Some(b) => b
                .iter()
                .rev()
                .fold(0usize, |acc, &x| (acc << 7) | (x & 0x7f) as usize),
            None => 0,
        }
    }

    /// How many fields the record has.
    #[inline]
    pub fn len(&self) -> usize {
        if self.data.is_empty() {
            0
        } else {
            self.int(self.width(), 0)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of field `f` (empty when out of range).
    #[inline]
    pub fn value(&self, f: usize) -> Value<'_> {
        let w = self.width();
        let nf = self.len();
        if f >= nf {
            return Value::default();
        }
        let base = 1 + w * (1 + 2 * nf);
        let start = if f == 0 { 0 } else { self.int(w, 2 * f) };
        let (mid, end) = (self.int(w, 1 + 2 * f), self.int(w, 2 + 2 * f));
        let s = |a: usize, b: usize| self.data.get(base + a..base + b).unwrap_or_default();
        Value {
            norm: s(start, mid),
            digits: s(mid, end),
        }
    }

    /// The values of all fields, in order (the header decoded once).
    pub fn values(&self) -> impl Iterator<Item = Value<'_>> + '_ {
        let w = self.width();
        let nf = self.len();
        let base = 1 + w * (1 + 2 * nf);
        let s = move |a: usize, b: usize| self.data.get(base + a..base + b).unwrap_or_default();
        let mut start = 0;
        (0..nf).map(move |f| {
            let (mid, end) = (self.int(w, 1 + 2 * f), self.int(w, 2 + 2 * f));
            let v = Value {
                norm: s(start, mid),
                digits: s(mid, end),
            };
            start = end;
            v
        })
    }
}

/// Names that are record identifiers, not evidence.
pub fn is_id_field(name: &str) -> bool {
    matches!(
        name.trim().to_ascii_lowercase().as_str(),
        "id" | "_id" | "rec_id" | "record_id" | "recid" | "uid" | "key"
    )
}

/// The comparison schema for a set of records (see [`crate::engine::columns::infer_fields`]).
pub fn infer_fields<'a>(records: impl IntoIterator<Item = &'a Record> + Clone) -> Vec<FieldSpec> {
    crate::engine::columns::infer_fields(records)
}

/// Normalizes a record against the field list.
pub fn prepare(fields: &[FieldSpec], r: &Record) -> Prepared {
    let texts: HashMap<&str, String> = fields
        .iter()
        .flat_map(|f| f.sources())
        .filter(|c| !c.is_empty())
        .filter_map(|c| r.get_key_value(c).map(|(k, v)| (k.as_str(), value_text(v))))
        .collect();
    prepare_with(fields, |c| texts.get(c).map(String::as_str))
}

/// Normalizes one record given by `get(column) -> raw value`.
pub fn prepare_with<'s>(
    fields: &[FieldSpec],
    mut get: impl FnMut(&str) -> Option<&'s str>,
) -> Prepared {
    let vals: Vec<(String, String)> = fields
        .iter()
        .map(|f| normalize_field(f, &f.raw(&mut get)))
        .collect();
    Prepared::from_values(vals.iter().map(|(n, d)| (n.as_str(), d.as_str())))
}

/// The normalized text and digits of one raw value of field `f`.
pub fn normalize_field(f: &FieldSpec, raw: &str) -> (String, String) {
    let norm = normalize(raw);
    if norm.is_empty() || crate::engine::columns::is_missing_token(&norm) {
        return (String::new(), String::new());
    }
    match f.kind {
        FieldKind::Date => match canonical_date(raw, f.date_order) {
            Some(d) if d != PLACEHOLDER_DATE => (d.clone(), d),
            _ => (String::new(), String::new()),
        },
        FieldKind::Number => {
            let n = number_text(raw);
            match n {
                Some(n) => (n.clone(), n),
                None => (String::new(), String::new()),
            }
        }
        FieldKind::Code if placeholder_digits(&norm) => (String::new(), String::new()),
        _ => {
            if let Some(zip) = zip_of_zip_plus_four(f, raw) {
                return (zip.to_string(), zip.to_string());
            }
            if let Some(int) = integer_written_as_float(raw) {
                return (int.to_string(), int.to_string());
            }
            let norm = without_honorific(norm);
            // a title alone where a given name goes (`sir`, `mr`): no given name is known.
            // Read as a name, `sir warren` and `herbert warren` disagreed outright on it
            // and were two people (splink's historical figures, where a tenth of the
            // knights are written so: F1 0.9264 -> 0.9375)
            if f.nicknames && HONORIFICS.contains(&norm.as_str()) {
                return (String::new(), String::new());
            }
            let norm = if f.nicknames || f.surname || f.person_name {
                without_placeholder_names(norm)
            } else {
                norm
            };
            if norm.is_empty() {
                return (String::new(), String::new());
            }
            let d = date_digits(&norm).unwrap_or_else(|| digits(&norm));
            (norm, d)
        }
    }
}

/// The date systems write for an unknown birth date (`1900-01-01`): a missing value, or
/// every record holding it would agree on it.
const PLACEHOLDER_DATE: &str = "19000101";

/// Whether a code's digits are what a form writes for an unknown number: one digit
/// repeated seven or more times (`000-00-0000`, `999999999`, `0000000000`) or the
/// digits in order (`123456789`). Read as a missing value: held by hundreds of records,
/// it made strangers agree on their identity number (person-split with a fifth of its
/// numbers `000000000`: precision 0.946 -> 0.924).
/// `norm`'s digits are read in place: every code value passes here.
fn placeholder_digits(norm: &str) -> bool {
    let ds = || norm.bytes().filter(u8::is_ascii_digit);
    let first = ds().next();
    (ds().count() >= 7 && ds().all(|c| Some(c) == first))
        || ds().eq(b"123456789".iter().copied())
        || ds().eq(b"1234567890".iter().copied())
}

/// The digits of a whole number written as a float (`5304218.0`, `47.00`): pandas writes
/// an integer column with a blank in it that way, so one file's `5304218.0` and another's
/// `5304218` are one identity number (as text they differed in a digit, and a house
/// number `3.0` was `30`). `None` for anything else (`1.5`, `v1.0`, `.0`).
pub(super) fn integer_written_as_float(raw: &str) -> Option<&str> {
    let (int, frac) = raw.trim().split_once('.')?;
    let digits = int.strip_prefix('-').unwrap_or(int);
    (!digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0'))
    .then_some(int)
}

/// The five-digit ZIP code of a ZIP+4 code (`29919-8916` → `29919`) in a postcode field:
/// one file writes the extension and the other does not, and the two wrote one address
/// (as whole codes they differed in four digits, so every such pair disagreed on its
/// postcode: person-tax with half the tax forms' codes in ZIP+4, F1 0.9879 → 0.9864).
/// `None` for any other value or field (a `12345-6789` product code stays whole).
fn zip_of_zip_plus_four<'r>(f: &FieldSpec, raw: &'r str) -> Option<&'r str> {
    let t = raw.trim();
    let b = t.as_bytes();
    let shape = b.len() == 10
        && matches!(b[5], b'-' | b' ')
        && b[..5].iter().chain(&b[6..]).all(u8::is_ascii_digit);
    (shape && crate::engine::lexicon::concept(&f.name) == Some("postcode")).then(|| &t[..5])
}

/// Written after a person's name: no part of it a surname.
const NAME_SUFFIXES: [&str; 10] = [
    "jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "phd", "md", "esq",
];

/// The `part` of a person's whole name as written (`LAST, First M`, `First M Last`,
/// `SMITH John`, a title before it or a suffix after it, `John Smith, Jr.`): empty when
/// the name has no such part (one word has no given name; two words no middle).
pub fn name_part(whole: &str, part: NamePart, family_first: bool) -> String {
    let marked = marked_placeholders(whole);
    let whole = marked.as_deref().unwrap_or(whole);
    fn words(s: &str) -> Vec<&str> {
        s.split(|c: char| c.is_whitespace() || c == '.')
            .filter(|w| !w.is_empty())
            .collect()
    }
    let plain = |w: &str| w.to_lowercase();
    let title = |w: &&str| HONORIFICS.contains(&plain(w).as_str());
    let suffix = |w: &&str| NAME_SUFFIXES.contains(&plain(w).as_str());
    // `John Smith, Jr.`: a comma before a suffix alone is no `LAST, First`
    let comma = whole
        .split_once(',')
        .filter(|(_, after)| !words(after).iter().all(suffix));
    let (family, rest): (Vec<&str>, Vec<&str>) = match comma {
        Some((last, first)) => (words(last), words(first)),
        None => {
            let before = whole.split(',').next().unwrap_or_default();
            let mut ws = words(before);
            while ws.len() > 2 && title(&ws[0]) {
                ws.remove(0);
            }
            while ws.len() > 2 && ws.last().is_some_and(suffix) {
                ws.pop();
            }
            // `SMITH John`: the surname first, in capitals of three letters or more (`AJ
            // Smith` has initials first) and no given name the lexicon knows
            let caps = |w: &str| {
                w.chars().count() > 2
                    && w.chars().all(|c| !c.is_lowercase())
                    && w.chars().any(char::is_uppercase)
                    && !crate::engine::lexicon::known_given_name(&plain(w))
            };
            let lower =
                |w: &&str| w.starts_with(PLACEHOLDER_MARKS[0]) || w.chars().any(char::is_lowercase);
            if ws.len() >= 2 && (family_first || (caps(ws[0]) && ws[1..].iter().all(lower))) {
                let family = ws.remove(0);
                (vec![family], ws)
            } else {
                let family = ws.pop().into_iter().collect();
                (family, ws)
            }
        }
    };
    let keep = |ws: &mut Vec<&str>| ws.retain(|w| !title(w) && !suffix(w));
    let (mut family, mut rest) = (family, rest);
    keep(&mut family);
    keep(&mut rest);
    // a placeholder held its word's place in the split, and is no word of the part
    let known = |ws: &[&str]| {
        ws.iter()
            .filter_map(|w| {
                if !w.contains(PLACEHOLDER_MARKS) {
                    return Some((*w).to_string());
                }
                let rest: String = w
                    .chars()
                    .filter(|c| !PLACEHOLDER_MARKS.contains(c))
                    .collect();
                (!rest.trim_matches(',').is_empty()).then_some(rest)
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match part {
        NamePart::Family => known(&family),
        NamePart::Given => known(rest.get(..1).unwrap_or_default()),
        NamePart::Middle => known(rest.get(1..).unwrap_or_default()),
    }
}

/// Titles written before a person's name.
pub(super) const HONORIFICS: [&str; 9] = [
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam",
];

/// What registers write where a person's name is not known: first, last or middle name
/// unknown or none (`FNU`, `LNU`, `NFN`, `NLN`, `NMN`, `NMI`), a newborn not yet named
/// (`Baby`, `Infant`, `Newborn`), `Anonymous`, `Test`, `Doe`, `Mister` (as a given name).
/// Each is a word of a name as written ([`placeholder_words`]).
const PLACEHOLDER_NAMES: [&str; 13] = [
    "fnu",
    "lnu",
    "nfn",
    "nln",
    "nmn",
    "nmi",
    "baby",
    "infant",
    "newborn",
    "anonymous",
    "test",
    "doe",
    "mister",
];

/// Which of a name's words (lower case) stand for a name not known: a
/// [`PLACEHOLDER_NAMES`] word, `boy` or `girl` after a newborn's (`Baby Girl Smith`), and,
/// once one is found, the given name of `John Doe` / `Jane Doe` and a title or suffix left
/// alone (`Mr Doe`, `Dr Jane Doe`, `Doe Jr`). Empty words (a comma standing alone) count
/// for neither.
/// `None` when no word is one (the common case, nothing allocated).
fn placeholder_words<'a>(words: impl Iterator<Item = &'a str> + Clone) -> Option<Vec<bool>> {
    if !words.clone().any(|w| PLACEHOLDER_NAMES.contains(&w)) {
        return None;
    }
    let mut drop = Vec::new();
    let mut after_newborn = false;
    for w in words.clone() {
        drop.push(PLACEHOLDER_NAMES.contains(&w) || (after_newborn && matches!(w, "boy" | "girl")));
        // an empty word (`Baby, Girl`: the comma) breaks no newborn's registration
        if !w.is_empty() {
            after_newborn = matches!(w, "baby" | "infant" | "newborn");
        }
    }
    // the words left that name someone: not dropped, not empty, not a title
    let named = || {
        words
            .clone()
            .zip(&drop)
            .filter(|(w, d)| {
                !**d && !w.is_empty() && !HONORIFICS.contains(w) && !NAME_SUFFIXES.contains(w)
            })
            .map(|(w, _)| w)
    };
    let john_doe = words.clone().any(|w| w == "doe")
        && named().count() == 1
        && named().all(|w| matches!(w, "john" | "jane"));
    if john_doe || named().next().is_none() {
        drop.iter_mut().for_each(|d| *d = true);
    }
    Some(drop)
}

/// A person's name (a given name, a surname, a whole name; normalized) without the words
/// that stand for a name not known ([`placeholder_words`]): empty when nothing else is
/// left. Read as a name, the placeholder disagreed outright with the person's name in
/// their other records and agreed with every stranger's (census and tax forms with one
/// given name and one surname in thirty so written: F1 0.9812 -> 0.9876, 0.9928 with
/// none). `Doe` is a rare real surname, and `John Doe` far more often the placeholder; a
/// `Doe` loses that field and no more.
fn without_placeholder_names(norm: String) -> String {
    match placeholder_words(norm.split(' ')) {
        None => norm,
        Some(drop) => norm
            .split(' ')
            .zip(drop)
            .filter(|(_, d)| !d)
            .map(|(w, _)| w)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// What stands in a whole name for a word that names no one ([`marked_placeholders`]):
/// the first when the word held a lower-case letter, the second when it did not, so the
/// test for a surname written first in capitals (`SMITH Baby`, `OLUWASEUN LNU`) reads the
/// word as written.
const PLACEHOLDER_MARKS: [char; 2] = ['\u{1}', '\u{2}'];

/// A whole name as written with each word that stands for a name not known
/// ([`placeholder_words`]) replaced by a mark ([`PLACEHOLDER_MARKS`]), its commas kept
/// where they were (`DOE,JANE`, `Smith ,Baby`), for [`name_part`] to split: the mark holds
/// the word's place, so `Mary LNU` keeps `Mary` as its given name and `Baby Girl` has no
/// surname `Girl`. `None` when no word is one.
fn marked_placeholders(whole: &str) -> Option<String> {
    fn core(piece: &str) -> &str {
        piece.trim_matches('.')
    }
    let pieces = || whole.split_whitespace().flat_map(|t| t.split(','));
    let placeholder = |p: &str| {
        PLACEHOLDER_NAMES
            .iter()
            .any(|n| core(p).eq_ignore_ascii_case(n))
    };
    if !pieces().any(placeholder) {
        return None;
    }
    let cores: Vec<String> = pieces().map(|p| core(p).to_lowercase()).collect();
    let mut drop = placeholder_words(cores.iter().map(String::as_str))?.into_iter();
    let marked: Vec<String> = whole
        .split_whitespace()
        .map(|t| {
            t.split(',')
                .map(|p| match drop.next() {
                    Some(true) if p.chars().any(char::is_lowercase) => {
                        PLACEHOLDER_MARKS[0].to_string()
                    }
                    Some(true) => PLACEHOLDER_MARKS[1].to_string(),
                    _ => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    Some(marked.join(" "))
}

/// A text without a leading honorific (`mr`, `mrs`, `dr`, ...) when two or more words
/// follow it: `Dr Bailee Mccarthy` and `bailee mccarthy` are one name written twice, and
/// a title one record has and the other lacks made the two only alike. A suffix (`jr`,
/// `sr`) is kept: it tells a father from his son.
fn without_honorific(norm: String) -> String {
    match norm.split_once(' ') {
        Some((first, rest)) if HONORIFICS.contains(&first) && rest.contains(' ') => {
            rest.to_string()
        }
        _ => norm,
    }
}

/// A number written with a currency sign, thousands separators or a decimal point, as the
/// shortest decimal text (`$1,299.50` → `1299.5`).
fn number_text(raw: &str) -> Option<String> {
    let t: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '.' | '-'))
        .collect();
    let x: f64 = t.parse().ok()?;
    x.is_finite().then(|| format!("{x}"))
}

/// The month a word names (`jan`, `January`, `sept`): English names and their
/// three-letter forms.
fn month_named(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| *m == w || (m.starts_with(&w) && (w.len() == 3 || w == "sept")))
        .map(|i| i as u32 + 1)
}

/// A date whose month is written as a word (`Jul 22, 1922`, `22 July 1922`,
/// `22-jul-1922`): (year, month, day), 0 for a part not read (a two-digit year is not
/// read). `None` when no word names a month or another word is present.
pub fn named_month_date(raw: &str) -> Option<(u32, u32, u32)> {
    let mut month = None;
    let (mut year, mut day) = (0, 0);
    for tok in raw
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '/' | '.'))
        .filter(|t| !t.is_empty())
    {
        if tok.bytes().all(|b| b.is_ascii_digit()) {
            let n: u32 = tok.parse().ok()?;
            if tok.len() == 4 && year == 0 {
                year = n;
            } else if tok.len() <= 2 && day == 0 && (1..=31).contains(&n) {
                day = n;
            }
        } else {
            // an ordinal day (`22nd`) keeps its number
            if crate::engine::text::ordinal(tok) {
                let digits = &tok[..tok.len() - 2];
                day = digits.parse().ok().filter(|d| (1..=31).contains(d))?;
                continue;
            }
            if month.is_some() {
                return None;
            }
            month = Some(month_named(tok)?);
        }
    }
    Some((year, month?, day))
}

/// The date of a date written with a midnight time, as a database or spreadsheet exports
/// a date column (`1956-04-09T00:00:00Z`, `1956-04-09 00:00:00.000`,
/// `1956-04-09T00:00:00-05:00`, `4/9/1956 12:00:00 AM`); anything else as it was
/// (trimmed). A time other than midnight is a moment, not a date of birth.
pub fn date_without_midnight(raw: &str) -> &str {
    let t = raw.trim();
    let Some(i) = t.find(['T', 't', ' ']).filter(|&i| i >= 6) else {
        return t;
    };
    let (date, rest) = (&t[..i], &t[i + 1..]);
    if !date
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'/' | b'.'))
    {
        return t;
    }
    let rest = rest.trim();
    let midnight =
        |time: &str| time.contains(':') && time.bytes().all(|b| matches!(b, b'0' | b':' | b'.'));
    // `12:00:00 AM`: midnight on a twelve-hour clock
    if let Some(time) = rest
        .strip_suffix("AM")
        .or_else(|| rest.strip_suffix("am"))
        .map(str::trim)
    {
        let zero = time
            .strip_prefix("12")
            .is_some_and(|m| m.starts_with(':') && midnight(m));
        return if zero { date } else { t };
    }
    let end = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(end);
    let zone_ok = zone.is_empty()
        || zone.eq_ignore_ascii_case("z")
        || (zone.len() >= 3 && zone[1..].bytes().all(|b| b.is_ascii_digit() || b == b':'));
    if midnight(time) && zone_ok { date } else { t }
}

/// The year of a date written with two digits for its year ([`two_digit_year`]), read as
/// spreadsheets read it (Excel's and Windows' default cutoff): `00`–`29` are 2000–2029,
/// `30`–`99` are 1930–1999, so that `12/03/67` is a birth date in 1967.
pub fn full_year(yy: u32) -> u32 {
    if yy < 30 { 2000 + yy } else { 1900 + yy }
}

/// Whether `s` is a date with a two-digit year: day and month of one or two digits and a
/// year of two, split by one separator used twice (`12/03/67`, `3-12-67`, `12.3.67`),
/// as older systems and US forms write birth dates.
pub fn two_digit_year(s: &str) -> bool {
    let mut groups = s.split(['/', '-', '.']);
    let sep: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    let digits = |g: Option<&str>, lo: usize, hi: usize| {
        g.is_some_and(|g| (lo..=hi).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()))
    };
    sep.len() == 2
        && sep[0] == sep[1]
        && digits(groups.next(), 1, 2)
        && digits(groups.next(), 1, 2)
        && digits(groups.next(), 2, 2)
}

/// A date as `YYYYMMDD` with `0000`/`00` for unknown parts (from parts: `1980-?-12`;
/// from a string in `order`, a two-digit year read by [`full_year`], a day number in
/// [`DateOrder::Serial`] by the spreadsheet's calendar; a month written as
/// a word, in any order). `None` when no part can be read, or only a day out of a string
/// (a day from parts, year and month blank, is kept: `00000007`).
pub fn canonical_date(raw: &str, order: DateOrder) -> Option<String> {
    let raw = date_without_midnight(raw);
    // a day number; a year, or any other value of the column, read as written
    if order == DateOrder::Serial
        && let Some(d) = serial_date(raw)
    {
        return Some(d);
    }
    if order != DateOrder::Parts
        && raw.chars().any(|c| c.is_ascii_alphabetic())
        && let Some((y, m, d)) = named_month_date(raw)
    {
        let y = if (1000..=2100).contains(&y) { y } else { 0 };
        return Some(format!("{y:04}{m:02}{d:02}"));
    }
    let groups: Vec<&str> = raw
        .split(|c: char| !(c.is_ascii_digit() || c == '?'))
        .filter(|g| !g.is_empty())
        .collect();
    let num = |g: &str| -> u32 { g.parse().unwrap_or(0) };
    let (y, m, d) = match (order, groups.as_slice()) {
        (DateOrder::Parts, [y, m, d, ..]) => (num(y), num(m), num(d)),
        (_, [one]) if one.len() == 8 => (num(&one[..4]), num(&one[4..6]), num(&one[6..])),
        (_, [one]) if one.len() == 4 => (num(one), 0, 0),
        (_, [a, b, c, ..]) => {
            if a.len() == 4 {
                (num(a), num(b), num(c))
            } else {
                let (p, q, y) = (num(a), num(b), num(c));
                let y = if two_digit_year(raw) { full_year(y) } else { y };
                let month_first = match order {
                    DateOrder::Mdy => !(p > 12 && q <= 12),
                    _ => q > 12 && p <= 12,
                };
                if month_first { (y, p, q) } else { (y, q, p) }
            }
        }
        _ => return None,
    };
    let y = if (1000..=2100).contains(&y) { y } else { 0 };
    let m = if (1..=12).contains(&m) { m } else { 0 };
    let d = if (1..=31).contains(&d) { d } else { 0 };
    // a month without its year still tells people apart, and so does a day in a column
    // of its own (year and month left blank); a day read out of a string is no date
    if y == 0 && m == 0 && (d == 0 || order != DateOrder::Parts) {
        return None;
    }
    Some(format!("{y:04}{m:02}{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::super::test_records::rec;
    use super::super::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_whole_name_is_read_as_its_parts_in_the_ways_it_is_written() {
        let parts = |w: &str| {
            [NamePart::Given, NamePart::Middle, NamePart::Family].map(|p| name_part(w, p, false))
        };
        assert_eq!(parts("SMITH, John A"), ["John", "A", "SMITH"]);
        assert_eq!(parts("van der Berg, Anna"), ["Anna", "", "van der Berg"]);
        assert_eq!(parts("Dr. Mary Ann Smith Jr"), ["Mary", "Ann", "Smith"]);
        assert_eq!(parts("mr john smith"), ["john", "", "smith"]);
        assert_eq!(parts("SMITH John"), ["John", "", "SMITH"]);
        assert_eq!(parts("John SMITH"), ["John", "", "SMITH"]);
        assert_eq!(parts("Madonna"), ["", "", "Madonna"]);
        assert_eq!(parts("John Smith, Jr."), ["John", "", "Smith"]);
        assert_eq!(parts("SMITH JR, JOHN"), ["JOHN", "", "SMITH"]);
        assert_eq!(parts("AJ Smith"), ["AJ", "", "Smith"]);
        assert_eq!(parts("JOHN Smith"), ["JOHN", "", "Smith"]);
        // a column found to write the surname first
        let first = |w: &str| {
            [NamePart::Given, NamePart::Middle, NamePart::Family].map(|p| name_part(w, p, true))
        };
        assert_eq!(first("Smith John A"), ["John", "A", "Smith"]);
        assert_eq!(first("SMITH, John"), ["John", "", "SMITH"]);
        assert_eq!(parts(""), ["", "", ""]);
        // read through a field, from its column
        let mut f = FieldSpec::new("first_name", FieldKind::Text);
        f.columns = vec!["name".into()];
        f.name_part = Some(NamePart::Given);
        assert_eq!(f.raw(|c| (c == "name").then_some("GARCIA, Maria")), "Maria");
    }

    #[test]
    fn infers_kinds_and_levels() {
        let a = rec(json!({"id": 1, "name": "John Smith", "phone": "310/246-1501"}));
        let b = rec(json!({"id": 2, "name": "Jon Smith", "phone": "310-246-1501"}));
        let f = infer_fields([&a, &b]);
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].kind, FieldKind::Code);
        let v = compare(&f, &prepare(&f, &a), &prepare(&f, &b));
        assert_eq!(v[1], 0);
        assert!(v[0] >= 1 && v[0] <= 2, "{v:?}");
    }

    #[test]
    fn a_placeholder_in_one_of_a_fields_columns_is_no_word_of_it() {
        // R writes `NA` for the missing second given name: two different given names
        // must not share it as a token
        let mut f = FieldSpec::new("fname", FieldKind::Text);
        f.columns = vec!["fname_c1".into(), "fname_c2".into()];
        let raw = |a: &str, b: &str| {
            f.raw(|c| match c {
                "fname_c1" => Some(a),
                "fname_c2" => Some(b),
                _ => None,
            })
        };
        assert_eq!(raw("CARSTEN", "NA"), "CARSTEN");
        assert_eq!(raw("CARSTEN", " n/a "), "CARSTEN");
        assert_eq!(raw("CARSTEN", "PETER"), "CARSTEN PETER");
        let fields = [f.clone()];
        let p = |a: &str| prepare(&fields, &rec(json!({"fname_c1": a, "fname_c2": "NA"})));
        assert_eq!(compare(&fields, &p("CARSTEN"), &p("HANS"))[0], 4);
    }

    #[test]
    fn prepared_records_keep_their_values() {
        let p = Prepared::from_raw(["John  Smith", "", "12/03-1999", "Zoë"]);
        assert_eq!(p.len(), 4);
        assert_eq!(p.value(0).norm, "john smith");
        assert_eq!(p.value(0).digits, "");
        assert!(p.value(1).is_empty());
        assert_eq!(p.value(2).digits, "19990312");
        assert_eq!(p.value(3).norm, "zoe");
        assert!(p.value(4).is_empty());
        assert!(Prepared::default().value(0).is_empty());
        let all: Vec<Value<'_>> = p.values().collect();
        assert_eq!(all, (0..4).map(|f| p.value(f)).collect::<Vec<_>>());
        assert_eq!(date_digits("1936 01 26").as_deref(), Some("19360126"));
        assert_eq!(date_digits("26 1 1936").as_deref(), Some("19360126"));
        assert_eq!(date_digits("1 26 1936").as_deref(), Some("19360126"));
        assert_eq!(date_digits("19360126"), None);
        assert_eq!(date_digits("12 34 5678"), None);
        assert_eq!(date_digits("unit 3 1999"), None);
        assert_eq!(
            Prepared::from_raw(["26/01/1936"]).value(0).digits,
            "19360126"
        );
        let big = "x".repeat(3 << 20);
        let q = Prepared::from_raw([big.as_str(), "a 1"]);
        assert_eq!(q.value(0).norm.len(), 3 << 20);
        assert_eq!(q.value(1).digits, "1");
    }

    #[test]
    fn a_leading_honorific_is_dropped_from_a_name_but_a_suffix_is_kept() {
        let f = FieldSpec::new("customer", FieldKind::Text);
        let norm = |raw: &str| normalize_field(&f, raw).0;
        assert_eq!(norm("Dr Bailee Mccarthy"), "bailee mccarthy");
        assert_eq!(norm("MRS. ANNA SMITH"), "anna smith");
        assert_eq!(norm("John Smith Jr"), "john smith jr");
        // with one word after it the title is the name (`Dr Who`), and a word that only
        // begins like one is a name
        assert_eq!(norm("Dr Who"), "dr who");
        assert_eq!(norm("Mrsa Smith Jones"), "mrsa smith jones");
        // a title alone where a given name goes is no given name; elsewhere it is kept
        let mut given = FieldSpec::new("first_name", FieldKind::Text);
        given.nicknames = true;
        assert_eq!(normalize_field(&given, "Sir").0, "");
        assert_eq!(normalize_field(&given, "MR.").0, "");
        assert_eq!(normalize_field(&given, "Sirius").0, "sirius");
        assert_eq!(norm("Sir"), "sir");
    }

    #[test]
    fn a_date_exported_with_a_midnight_time_is_the_date() {
        for raw in [
            "1956-04-09T00:00:00Z",
            "1956-04-09 00:00:00",
            "1956-04-09 00:00:00.000",
            "1956-04-09T00:00:00-05:00",
            "1956-04-09T00:00:00+0000",
            "1956-04-09T00:00",
        ] {
            assert_eq!(date_without_midnight(raw), "1956-04-09", "{raw}");
            assert_eq!(
                canonical_date(raw, DateOrder::Ymd).as_deref(),
                Some("19560409"),
                "{raw}"
            );
        }
        assert_eq!(date_without_midnight("4/9/1956 12:00:00 AM"), "4/9/1956");
        assert_eq!(
            canonical_date("4/9/1956 12:00:00 AM", DateOrder::Mdy).as_deref(),
            Some("19560409")
        );
        // a moment is no date; a month named keeps its words
        for raw in [
            "1956-04-09T14:30:00Z",
            "4/9/1956 12:00:00 PM",
            "22 July 1922",
            "Jul 22, 1922",
        ] {
            assert_eq!(date_without_midnight(raw), raw);
        }
    }

    #[test]
    fn placeholder_numbers_and_birth_dates_are_missing_values() {
        let ssn = FieldSpec::new("ssn", FieldKind::Code);
        for raw in ["000-00-0000", "999999999", "0000000000", "123456789"] {
            assert_eq!(normalize_field(&ssn, raw).0, "", "{raw}");
        }
        for raw in ["123-45-6780", "5304218", "1111"] {
            assert_ne!(normalize_field(&ssn, raw).0, "", "{raw}");
        }
        let dob = FieldSpec {
            date_order: DateOrder::Ymd,
            ..FieldSpec::new("dob", FieldKind::Date)
        };
        assert_eq!(normalize_field(&dob, "1900-01-01").0, "");
        assert_eq!(normalize_field(&dob, "1900-01-02").0, "19000102");
    }

    #[test]
    fn a_placeholder_for_an_unknown_name_is_a_missing_name() {
        let given = FieldSpec {
            nicknames: true,
            ..FieldSpec::new("first_name", FieldKind::Text)
        };
        let surname = FieldSpec {
            surname: true,
            ..FieldSpec::new("last_name", FieldKind::Text)
        };
        let whole = FieldSpec {
            person_name: true,
            ..FieldSpec::new("name", FieldKind::Text)
        };
        for raw in [
            "FNU",
            "Baby Girl",
            "baby boy",
            "Infant",
            "NFN",
            "Mister",
            "Test",
        ] {
            assert_eq!(normalize_field(&given, raw).0, "", "{raw}");
        }
        for raw in ["LNU", "Doe", "nln", "Anonymous"] {
            assert_eq!(normalize_field(&surname, raw).0, "", "{raw}");
        }
        for raw in ["John Doe", "DOE, JANE", "Baby Boy", "fnu lnu"] {
            assert_eq!(normalize_field(&whole, raw).0, "", "{raw}");
        }
        // a title left with no name, and a newborn's registration however written
        for raw in ["Mr Doe", "Dr. Anonymous", "Infant Boy", "NEWBORN GIRL"] {
            assert_eq!(normalize_field(&whole, raw).0, "", "{raw}");
        }
        // read in parts, a whole name keeps no placeholder either (`Girl` is no surname)
        for (raw, given, family) in [
            ("Baby Girl", "", ""),
            ("Baby Girl Smith", "", "Smith"),
            ("DOE, JANE", "", ""),
            ("Doe, Mary", "Mary", ""),
            ("FNU Ardash", "", "Ardash"),
            ("Cyrus Master", "Cyrus", "Master"),
            // the placeholder keeps its place: `Mary` stays the given name
            ("Mary LNU", "Mary", ""),
            ("Mr John Doe", "", ""),
            ("Doe , Jane", "", ""),
            ("van der Berg, Baby Girl", "", "van der Berg"),
            // marks never leak, commas stay where they were, a name in capitals reads as
            // written, a comma breaks no newborn's registration
            ("Smith, FNU, Robert", "", "Smith"),
            ("Smith ,Baby Girl", "", "Smith"),
            ("DOE,JANE", "", ""),
            ("OLUWASEUN LNU", "OLUWASEUN", ""),
            ("SMITH Baby", "", "SMITH"),
            ("Baby, Girl", "", ""),
            ("Infant, Boy", "", ""),
        ] {
            assert_eq!(name_part(raw, NamePart::Given, false), given, "{raw}");
            assert_eq!(name_part(raw, NamePart::Family, false), family, "{raw}");
        }
        assert_eq!(name_part("LNU John", NamePart::Given, true), "John");
        assert_eq!(name_part("LNU John", NamePart::Family, true), "");
        assert_eq!(name_part("FNU John Smith", NamePart::Middle, false), "John");
        assert_eq!(
            name_part("Smith, FNU, Robert", NamePart::Middle, false),
            "Robert"
        );
        assert_eq!(normalize_field(&whole, "John Doe Jr").0, "");
        assert_eq!(normalize_field(&surname, "Doe Jr").0, "");
        // the name a placeholder stands beside is kept
        assert_eq!(normalize_field(&whole, "Baby Girl Smith").0, "smith");
        assert_eq!(normalize_field(&whole, "Infant Girl Smith").0, "smith");
        assert_eq!(normalize_field(&whole, "FNU Ardash").0, "ardash");
        assert_eq!(normalize_field(&whole, "John Doerr").0, "john doerr");
        // real names, and the same words in a column that holds no name
        for raw in ["Boyd", "Tess", "Dora", "Babette"] {
            assert_eq!(normalize_field(&given, raw).0, raw.to_lowercase(), "{raw}");
        }
        let title = FieldSpec::new("title", FieldKind::Text);
        assert_eq!(normalize_field(&title, "Baby Boy").0, "baby boy");
        // `master` is no title: a product's first word, a surname
        assert_eq!(
            normalize_field(&title, "Master Lock 5400D").0,
            "master lock 5400d"
        );
        assert_eq!(normalize_field(&whole, "Cyrus Master").0, "cyrus master");
    }
}
