//! Field-weighted record similarity with Fellegi–Sunter weights estimated unsupervised
//! by expectation–maximisation (m-probabilities) and random sampling (u-probabilities),
//! refined by labelled examples (EaK) when present.
//!
//! Records are first *prepared* (normalized once), pairs are turned into comparison
//! vectors (one agreement level per field), and the model turns a vector into a match
//! weight and a probability.
//!
//! Layout: this file holds the fields (typing, normalizing, preparing records) and the
//! model (u by sampling, m by EM, groups of dependent fields, weights); [`compare`] the
//! agreement levels of two values and the comparison vector of a pair; [`tf`] the term
//! frequencies that adjust a pair's weight by how common its agreeing values are.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::text::{digits, normalize};
use super::{Record, value_text};

mod compare;
mod tf;

pub use compare::*;
pub use tf::*;

/// Agreement levels per field: 0 exact … `LEVELS - 1` disagree.
pub const LEVELS: usize = 5;
/// Level code for "a value is missing": contributes no evidence.
pub const MISSING: u8 = u8::MAX;

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
}

/// A field of the comparison schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    /// The columns whose values make the field (empty: the column `name`): a text
    /// continued over numbered columns, or a date's year, month and day columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default)]
    pub date_order: DateOrder,
    /// A given-name field: a name and its short form (`james` / `jim`) agree at level 1
    /// instead of disagreeing ([`super::lexicon::nickname_pair`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nicknames: bool,
    /// A column of a few values repeated (a yes/no flag, a sex, a status: at most
    /// [`CATEGORICAL_MAX`] distinct among 100 or more filled): whatever its name says
    /// (`email_opt_in`, `ssn_verified`), it identifies no one
    /// ([`super::local::NameFields::detect`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub categorical: bool,
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
            categorical: false,
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

    /// The raw value of the field from its source columns' values (`get(column)`).
    pub fn raw<'s>(&self, mut get: impl FnMut(&str) -> Option<&'s str>) -> String {
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
            if !v.is_empty() && !super::columns::is_missing_value(v) {
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

/// The comparison schema for a set of records (see [`super::columns::infer_fields`]).
pub fn infer_fields<'a>(records: impl IntoIterator<Item = &'a Record> + Clone) -> Vec<FieldSpec> {
    super::columns::infer_fields(records)
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
    if norm.is_empty() || super::columns::is_missing_token(&norm) {
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
fn integer_written_as_float(raw: &str) -> Option<&str> {
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
    (shape && super::lexicon::concept(&f.name) == Some("postcode")).then(|| &t[..5])
}

/// A text without a leading honorific (`mr`, `mrs`, `dr`, ...) when two or more words
/// follow it: `Dr Bailee Mccarthy` and `bailee mccarthy` are one name written twice, and
/// a title one record has and the other lacks made the two only alike. A suffix (`jr`,
/// `sr`) is kept: it tells a father from his son.
fn without_honorific(norm: String) -> String {
    const HONORIFICS: [&str; 9] = [
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam",
    ];
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
            let digits = tok.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let suffix = &tok[digits.len()..];
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && matches!(suffix, "st" | "nd" | "rd" | "th")
            {
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
/// from a string in `order`, a two-digit year read by [`full_year`]; a month written as
/// a word, in any order). `None` when no part can be read.
pub fn canonical_date(raw: &str, order: DateOrder) -> Option<String> {
    let raw = date_without_midnight(raw);
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
    // a month without its year still tells people apart; a day alone does not
    if y == 0 && m == 0 {
        return None;
    }
    Some(format!("{y:04}{m:02}{d:02}"))
}

/// Least weight (bits) of a group member's agreement for the group to count as not
/// changed ([`FsModel::correct_groups`]): a country shared by 80% of the records weighs
/// nothing, and its agreement kept every move of an inventor counted four times.
const GROUP_AGREES: f64 = 1.0;

/// Fewest random pairs (of strangers: pairs agreeing on most fields are left out)
/// agreeing on each of two fields to judge their dependence by. With the lift required,
/// chance cannot make it: two independent fields each agreeing in 1% of pairs agree
/// together in 0.15 of 15 such pairs, not 12. (An employer and its id agree in 20 of
/// the 20,000 pairs of the mention file whose people have hundreds of mentions.)
const DEPENDENT_MIN_AGREEMENTS: f64 = 15.0;
/// Share of one field's agreements among random pairs that the other's must come with.
const DEPENDENT_SHARE: f64 = 0.8;
/// Least lift of the joint agreement over independence (a near-constant column, such as
/// a country, agrees with everything by chance).
const DEPENDENT_LIFT: f64 = 10.0;

/// The groups (two or more members, sorted) that `links` between `0..n` make: fields
/// here, records in [`super::assign`].
pub(crate) fn union_groups(
    n: usize,
    links: impl Iterator<Item = (usize, usize)>,
) -> Vec<Vec<usize>> {
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut parent: Vec<usize> = (0..n).collect();
    for (x, y) in links {
        if x < n && y < n {
            let (rx, ry) = (root(&mut parent, x), root(&mut parent, y));
            parent[rx.max(ry)] = rx.min(ry);
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for f in 0..n {
        let r = root(&mut parent, f);
        by_root.entry(r).or_default().push(f);
    }
    by_root.into_values().filter(|g| g.len() >= 2).collect()
}

/// Fellegi–Sunter model: per field and level, m = P(level | match), u = P(level | non-match).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FsModel {
    pub fields: Vec<FieldSpec>,
    pub m: Vec<[f64; LEVELS]>,
    pub u: Vec<[f64; LEVELS]>,
    /// Prior probability that a candidate pair matches.
    pub lambda: f64,
    /// EM iterations run (0: priors only).
    pub iterations: usize,
    /// Joint probability that two fields both agree exactly in a random pair (where both
    /// are known), `[f][g]`; empty: fields treated as independent. See [`Self::field_weights`].
    #[serde(default)]
    pub u_pair: Vec<Vec<f64>>,
    /// Individual fields (`local::NameFields::individual`): a pattern where they conflict
    /// never joins the match class while m is estimated (household members agree on
    /// every shared field and would teach the model that a different given name or
    /// birth date is common among duplicates).
    #[serde(default)]
    pub individual: Vec<(usize, super::local::IndividualKind)>,
    /// Fields that change together (the parts of an address: a move changes them all).
    /// A group disagreeing throughout counts as one disagreement, its strongest; in the
    /// EM's "agrees on most fields" test a group is one unit.
    #[serde(default)]
    pub groups: Vec<Vec<usize>>,
    /// Of those, the fields the data shows to be one fact written several ways (a town,
    /// its coordinates and its code: [`Self::group_dependent_fields`]). A tight group
    /// disagreeing throughout counts its strongest disagreement alone.
    #[serde(default)]
    pub tight: Vec<Vec<usize>>,
    /// The name fields ([`super::local::NameFields::names`]): in the EM, a pair whose
    /// name disagrees outright joins the match class only on three agreeing fields.
    #[serde(default)]
    pub names: Vec<usize>,
    /// How the EM ended when it did not end well: `None` when it converged (or was not
    /// run). When no candidate pair qualified for the match class the prior m is kept;
    /// when the estimates still moved after every iteration, the last one is kept.
    #[serde(default)]
    pub em_note: Option<String>,
    /// The columns left out of the comparison as unrelated to identity
    /// ([`super::relevance`]).
    #[serde(default)]
    pub unrelated: Vec<String>,
}

const M_PRIOR: [f64; LEVELS] = [0.80, 0.10, 0.05, 0.03, 0.02];
const U_PRIOR: [f64; LEVELS] = [0.02, 0.02, 0.05, 0.11, 0.80];
const FLOOR: f64 = 1e-4;

/// Least share of duplicates whose dates (or given names) disagree outright, as m of the
/// field's last level in [`FsModel::level_weight`]: one in a hundred (-6.6 bits at
/// u = 0.96, where the estimate alone gave -12.6 and one bad date overruled a whole
/// agreeing address). Dates: person-link F1 0.9298 → 0.9331 (0.003 and 0.03 did no
/// better); given names: 0.9526 → 0.9550; nothing else moved.
const DATE_TYPO_RATE: f64 = 0.01;

fn normalize_probs(p: &mut [f64; LEVELS]) {
    for x in p.iter_mut() {
        *x = x.max(FLOOR);
    }
    let s: f64 = p.iter().sum();
    for x in p.iter_mut() {
        *x /= s;
    }
}

/// Whether a comparison vector agrees (exactly or closely, level ≤ 2) on more than half of
/// its known (non-missing) fields.
pub fn mostly_agree(v: &[u8]) -> bool {
    let (mut known, mut agree) = (0usize, 0usize);
    for &l in v {
        if l != MISSING {
            known += 1;
            if l <= 2 {
                agree += 1;
            }
        }
    }
    known > 0 && 2 * agree > known
}

/// [`mostly_agree`] with each group of three or more fields in `groups` counted as one
/// field: it agrees when a member agrees (level ≤ 2), disagrees when every known member
/// disagrees. (A pair of fields, such as an address line and a town, stays two.)
pub fn mostly_agree_grouped(v: &[u8], groups: &[Vec<usize>]) -> bool {
    let groups: Vec<&Vec<usize>> = groups.iter().filter(|g| g.len() >= 3).collect();
    if groups.is_empty() {
        return mostly_agree(v);
    }
    let (mut known, mut agree) = (0usize, 0usize);
    let in_group = |f: usize| groups.iter().any(|g| g.contains(&f));
    for (f, &l) in v.iter().enumerate() {
        if l != MISSING && !in_group(f) {
            known += 1;
            if l <= 2 {
                agree += 1;
            }
        }
    }
    for g in &groups {
        let levels: Vec<u8> = g
            .iter()
            .filter_map(|&f| v.get(f).copied())
            .filter(|&l| l != MISSING)
            .collect();
        if !levels.is_empty() {
            known += 1;
            if levels.iter().any(|&l| l <= 2) {
                agree += 1;
            }
        }
    }
    known > 0 && 2 * agree > known
}

impl FsModel {
    /// Priors only (for a handful of pairs, where nothing can be estimated).
    pub fn prior(fields: Vec<FieldSpec>) -> Self {
        let n = fields.len();
        Self {
            fields,
            m: vec![M_PRIOR; n],
            u: vec![U_PRIOR; n],
            lambda: 0.3,
            iterations: 0,
            u_pair: Vec::new(),
            individual: Vec::new(),
            groups: Vec::new(),
            names: Vec::new(),
            tight: Vec::new(),
            em_note: None,
            unrelated: Vec::new(),
        }
    }

    /// u-probabilities from `samples` random pairs (non-matches dominate random pairs).
    pub fn estimate_u(
        &mut self,
        left: &[Prepared],
        right: &[Prepared],
        samples: usize,
        seed: u64,
        skip_diagonal: bool,
    ) {
        self.estimate_u_without(left, right, samples, seed, skip_diagonal, &|_| false);
    }

    /// [`Self::estimate_u`] leaving out the random pairs `matched` says are matches. Where
    /// a few entities hold hundreds of records each, one random pair in 250 is two
    /// records of one of them: they agreed on the given name and the surname together
    /// so often that the two looked dependent, and an inventor's name lost 3 of its 10
    /// bits.
    pub fn estimate_u_without(
        &mut self,
        left: &[Prepared],
        right: &[Prepared],
        samples: usize,
        seed: u64,
        skip_diagonal: bool,
        matched: &dyn Fn(&[u8]) -> bool,
    ) {
        if left.is_empty() || right.is_empty() {
            return;
        }
        // prior pseudo-counts keep tiny inputs sensible
        let nf = self.fields.len();
        let mut counts: Vec<[f64; LEVELS]> = vec![U_PRIOR.map(|x| x * 30.0); nf];
        // exact agreement of two fields together, and how often both were known
        let mut both_agree = vec![vec![0.0f64; nf]; nf];
        let mut both_known = vec![vec![0.0f64; nf]; nf];
        // `[f][g]`: f agrees exactly and g is known (both orders)
        let mut agree_known = vec![vec![0.0f64; nf]; nf];
        let groups = self.groups.clone();
        let mut add = |v: Vec<u8>| {
            if matched(&v) {
                return;
            }
            // a random pair that agrees on most fields is likely a duplicate: it would make
            // every two identifying fields look correlated
            let joint = !mostly_agree_grouped(&v, &groups);
            for (f, &l) in v.iter().enumerate() {
                if l == MISSING {
                    continue;
                }
                counts[f][l as usize] += 1.0;
                if !joint {
                    continue;
                }
                for (g, &k) in v.iter().enumerate().skip(f + 1) {
                    if k != MISSING {
                        both_known[f][g] += 1.0;
                        agree_known[f][g] += f64::from(u8::from(l == 0));
                        agree_known[g][f] += f64::from(u8::from(k == 0));
                        if l == 0 && k == 0 {
                            both_agree[f][g] += 1.0;
                        }
                    }
                }
            }
        };
        if left.len().saturating_mul(right.len()) <= samples {
            for (i, a) in left.iter().enumerate() {
                for (j, b) in right.iter().enumerate() {
                    if !(skip_diagonal && i == j) {
                        add(compare(&self.fields, a, b));
                    }
                }
            }
        } else {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            for _ in 0..samples {
                let i = rng.random_range(0..left.len());
                let j = rng.random_range(0..right.len());
                if skip_diagonal && i == j {
                    continue;
                }
                add(compare(&self.fields, &left[i], &right[j]));
            }
        }
        for (f, c) in counts.into_iter().enumerate() {
            let mut p = c;
            normalize_probs(&mut p);
            self.u[f] = p;
        }
        // joint agreement, shrunk towards independence by 30 pseudo-pairs
        let mut u_pair = vec![vec![0.0f64; nf]; nf];
        for f in 0..nf {
            for g in (f + 1)..nf {
                let indep = self.u[f][0] * self.u[g][0];
                let p = (both_agree[f][g] + 30.0 * indep) / (both_known[f][g] + 30.0);
                u_pair[f][g] = p;
                u_pair[g][f] = p;
            }
        }
        self.u_pair = u_pair;
        let mut dependent = Vec::new();
        for f in 0..nf {
            for g in (f + 1)..nf {
                let (a, b) = (agree_known[f][g], agree_known[g][f]);
                let share = |n: f64| if n > 0.0 { both_agree[f][g] / n } else { 0.0 };
                let lift = self.u_pair[f][g] / (self.u[f][0] * self.u[g][0]).max(1e-12);
                if a.min(b) >= DEPENDENT_MIN_AGREEMENTS
                    && share(a).max(share(b)) >= DEPENDENT_SHARE
                    && lift >= DEPENDENT_LIFT
                {
                    dependent.push((f, g));
                }
            }
        }
        self.group_dependent_fields(dependent);
    }

    /// Adds to [`Self::groups`] the `pairs` of fields the data shows to change together
    /// ([`Self::estimate_u`]): among random pairs, one field's agreement comes with the
    /// other's ([`DEPENDENT_SHARE`] of the time, and [`DEPENDENT_LIFT`] times as often as
    /// chance would have it). A town's latitude and longitude, a location's code:
    /// whatever the columns are called, a move changes them all at once, and counted
    /// apart three disagreements took an inventor who moved out of his own cluster
    /// (mentions with their city's coordinates: F1 0.90). Groups sharing a field merge.
    fn group_dependent_fields(&mut self, pairs: Vec<(usize, usize)>) {
        let n = self.u.len().max(self.fields.len());
        // the last estimate's, always: an estimate that finds none leaves none behind
        self.tight = union_groups(n, pairs.iter().copied());
        if pairs.is_empty() {
            return;
        }
        let known = self
            .groups
            .iter()
            .flat_map(|g| g.windows(2).map(|w| (w[0], w[1])))
            .collect::<Vec<_>>();
        self.groups = union_groups(n, known.into_iter().chain(pairs));
    }

    /// Estimates m (and λ) by EM over the candidate comparison vectors, u kept fixed.
    pub fn estimate_m<'a>(
        &mut self,
        vectors: impl IntoIterator<Item = &'a [u8]>,
        iterations: usize,
        lambda_max: f64,
    ) {
        let lambda_max = lambda_max.clamp(1e-6, 0.999);
        self.lambda = self.lambda.min(lambda_max / 2.0);
        let mut patterns: HashMap<&[u8], f64> = HashMap::new();
        for v in vectors {
            *patterns.entry(v).or_default() += 1.0;
        }
        if patterns.is_empty() {
            return;
        }
        let pats: Vec<(&[u8], f64)> = patterns.into_iter().collect();
        let nf = self.fields.len();
        let start = (self.m.clone(), self.lambda);
        let (mut converged, mut empty) = (false, false);
        for it in 0..iterations {
            let mut mc = vec![[0.5f64; LEVELS]; nf];
            let mut tot_g = 0.0;
            let mut tot = 0.0;
            let mut delta = 0.0;
            for (v, c) in &pats {
                // classification EM: a pair belongs to the match class or not; soft
                // memberships let thousands of weakly similar pairs (same city, same
                // street) drag the match class away from the true matches
                // — and only pairs that agree on most of their known fields may join it:
                // duplicates agree on most attributes, while blocking fills the candidates
                // with pairs that share only a location (postcode, suburb, state), a
                // class EM otherwise drifts to within a few iterations
                let g = if mostly_agree_grouped(v, &self.groups)
                    && !super::local::NameFields::pattern_conflict(&self.individual, v)
                    && !self.thin_despite_name(v)
                    && self.probability(v) >= 0.5
                {
                    1.0
                } else {
                    0.0
                };
                tot_g += g * c;
                tot += c;
                for (f, &l) in v.iter().enumerate() {
                    if l != MISSING {
                        mc[f][l as usize] += g * c;
                    }
                }
            }
            for (f, c) in mc.into_iter().enumerate() {
                let mut p = c;
                normalize_probs(&mut p);
                delta += p
                    .iter()
                    .zip(&self.m[f])
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>();
                self.m[f] = p;
            }
            let lambda = (tot_g / tot).clamp(1e-6, lambda_max);
            delta += (lambda - self.lambda).abs();
            self.lambda = lambda;
            self.iterations = it + 1;
            empty = tot_g == 0.0;
            if empty || delta < 1e-5 {
                converged = !empty;
                break;
            }
        }
        self.em_note = if empty {
            // m of an empty class would be the pseudo-counts alone (every level alike):
            // the safe estimate is the prior
            (self.m, self.lambda) = start;
            Some(format!(
                "no candidate pair agreed on most fields after {} iteration(s): prior m kept",
                self.iterations
            ))
        } else if !converged && iterations > 0 {
            Some(format!(
                "not converged after {} iterations: the last estimate kept",
                self.iterations
            ))
        } else {
            None
        };
    }

    /// Whether a name field of `v` disagrees (outright; in a file of people, at the weak
    /// level too) while fewer than three fields agree (level ≤ 2). Two people of one common first name born a few days apart agree
    /// on two of three fields in a file of names and birth dates only; with such pairs in
    /// the match class, EM learnt that a match's surname differs four times in ten and
    /// merged them all. A surname changed at marriage still joins it when the birth date
    /// and more (an address, a phone) agree. The weak level counted as agreement for
    /// people let namesakes of one given name whose surnames share a prefix (`brown` /
    /// `brookdorwood`) and whose birth dates are a digit apart into the class: EM learnt
    /// that weak level as neutral (−0.35 bits instead of −5.4) and merged them.
    fn thin_despite_name(&self, v: &[u8]) -> bool {
        // a person's name a typo away stays within Jaro-Winkler 0.85 (level 2): the weak
        // level of a short name is another name (`brown` / `brookdorwood`), of a product
        // title often the same title written otherwise
        let person = super::local::of_people(&self.individual);
        let out = if person { LEVELS - 2 } else { LEVELS - 1 } as u8;
        let name_out = self
            .names
            .iter()
            .any(|&f| v.get(f).is_some_and(|&l| l != MISSING && l >= out));
        name_out && v.iter().filter(|&&l| l != MISSING && l <= 2).count() < 3
    }

    /// Refines m and u with labelled comparison vectors (EaK): counts are added to the
    /// estimates with the weight of `strength` pseudo-pairs each, the estimates weighing
    /// as 10 pairs each (a few nearest examples steer one decision: the `[examples]` vote).
    pub fn refine(&mut self, labelled: &[(Vec<u8>, bool)], strength: f64) {
        self.refine_against(labelled, strength, 10.0, 10.0);
    }

    /// [`Self::refine`], the m estimates weighing as `m_pairs` pairs and the u estimates as
    /// `u_pairs`: as many as they rest on, so that a handful of hand-picked pairs moves a
    /// fit over thousands in proportion (see `linkage::fit`).
    pub fn refine_against(
        &mut self,
        labelled: &[(Vec<u8>, bool)],
        strength: f64,
        m_pairs: f64,
        u_pairs: f64,
    ) {
        if labelled.is_empty() {
            return;
        }
        for f in 0..self.fields.len() {
            let mut m = self.m[f].map(|x| x * m_pairs);
            let mut u = self.u[f].map(|x| x * u_pairs);
            for (v, is_match) in labelled {
                let Some(&l) = v.get(f) else { continue };
                if l == MISSING {
                    continue;
                }
                if *is_match {
                    m[l as usize] += strength;
                } else {
                    u[l as usize] += strength;
                }
            }
            normalize_probs(&mut m);
            normalize_probs(&mut u);
            self.m[f] = m;
            self.u[f] = u;
        }
    }

    /// The match weight (log2 m/u) of level `l` of field `f`, kept sensible whatever EM
    /// estimated: a level never weighs more than a closer one, agreement (levels 0-2)
    /// never counts against a match and full disagreement never for one. When an agreeing
    /// level is all but absent among matches (exact agreement on a title written two ways
    /// by two sources, on a date known only to the month on one side), its own estimate
    /// rests on nothing: it weighs as the best agreeing level below it and never caps them. On data unlike any seen, EM can give m < u for an agreeing level; taken as
    /// it is, such a weight would make agreement evidence of a non-match.
    pub fn level_weight(&self, f: usize, l: usize) -> f64 {
        let (Some(m), Some(u)) = (self.m.get(f), self.u.get(f)) else {
            return 0.0;
        };
        let l = l.min(LEVELS - 1);
        let mut w = [0.0f64; LEVELS];
        for (k, x) in w.iter_mut().enumerate() {
            *x = (m[k] / u[k]).log2();
        }
        if m[0] < 0.01 {
            w[0] = w[0].max(w[1]).max(w[2]);
        }
        // Disagreeing levels are capped by every level above them as estimated.
        let raw = w;
        for k in 1..LEVELS {
            w[k] = w[k].min(w[k - 1]);
        }
        // An agreeing level all but absent among matches rests on nothing (exact agreement
        // with a partial date on one side, a close level a value's form never reaches): it
        // does not cap the supported agreeing levels below it, and weighs at least as much
        // as they do.
        let supported = |k: usize| m[k] >= 0.01;
        for k in 1..=2 {
            if supported(k) {
                let cap = (0..k)
                    .filter(|&j| supported(j))
                    .map(|j| raw[j])
                    .fold(f64::INFINITY, f64::min);
                w[k] = raw[k].min(cap);
            }
        }
        if !supported(1) {
            w[1] = w[1].max(w[2]);
        }
        let mut out = w[l];
        if l == LEVELS - 1
            && self
                .fields
                .get(f)
                .is_some_and(|s| s.kind == FieldKind::Date || s.nicknames)
        {
            // a date mistyped beyond a digit (a year off by ten, a day and month
            // both wrong), a given name garbled or replaced by a short form no list
            // knows, happen among duplicates; the EM cannot see them, since a pattern
            // whose individual fields conflict never joins its match class
            out = out.max((DATE_TYPO_RATE / u[l]).log2());
        }
        if l <= 2 {
            out = out.max(0.0);
        }
        if l == LEVELS - 1 {
            out = out.min(0.0);
        }
        out
    }

    pub fn field_weights(&self, v: &[u8]) -> Vec<f64> {
        self.corrected_weights(v, |f, l| {
            if f < self.m.len() {
                self.level_weight(f, l)
            } else {
                0.0
            }
        })
    }

    /// Per-field weights of `v` from `level(field, level)` (missing levels weigh 0), with
    /// the dependence and group corrections applied.
    fn corrected_weights(&self, v: &[u8], level: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let mut w: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(f, &l)| {
                if l == MISSING {
                    0.0
                } else {
                    level(f, (l as usize).min(LEVELS - 1))
                }
            })
            .collect();
        self.correct_dependence(v, &mut w);
        self.correct_groups(v, &mut w);
        w
    }

    /// Every field's [`Self::level_weight`]s, for the hot paths that weigh millions of
    /// vectors with one model ([`Self::weight_with`]).
    pub fn weights_table(&self) -> Vec<[f64; LEVELS]> {
        (0..self.m.len())
            .map(|f| std::array::from_fn(|l| self.level_weight(f, l)))
            .collect()
    }

    /// [`Self::weight`] with the level weights read from `table` ([`Self::weights_table`]).
    pub fn weight_with(&self, table: &[[f64; LEVELS]], v: &[u8]) -> f64 {
        self.weight_from(&self.field_weights_with(table, v))
    }

    /// [`Self::field_weights`] with the level weights read from `table`.
    pub fn field_weights_with(&self, table: &[[f64; LEVELS]], v: &[u8]) -> Vec<f64> {
        self.corrected_weights(v, |f, l| table.get(f).map_or(0.0, |t| t[l]))
    }

    /// The prior's log odds (bits): what a pair weighs before any field is compared.
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// The match weight of a pair whose field weights are `w`: the prior's log odds added.
    pub fn weight_from(&self, w: &[f64]) -> f64 {
        self.prior_weight() + w.iter().sum::<f64>()
    }

    /// The group of dependent fields ([`Self::groups`], two or more) that holds field `f`.
    pub fn group_of(&self, f: usize) -> Option<&[usize]> {
        self.groups
            .iter()
            .find(|g| g.len() >= 2 && g.contains(&f))
            .map(Vec::as_slice)
    }

    /// A group disagreeing throughout (no member agrees, two or more known) keeps its
    /// strongest disagreement and a sixth of the others: moving house changes the street,
    /// the number, the town and the postcode at once, one event rather than four.
    fn correct_groups(&self, v: &[u8], w: &mut [f64]) {
        // one fact written several ways first: its strongest disagreement alone
        for g in &self.tight {
            if let Some(worst) = self.disagreeing_throughout(g, v, w) {
                for &f in g {
                    if f != worst && f < w.len() && v[f] != MISSING && w[f] < 0.0 {
                        w[f] = 0.0;
                    }
                }
            }
        }
        for g in &self.groups {
            let Some(worst) = self.disagreeing_throughout(g, v, w) else {
                continue;
            };
            // the rest keep a sixth of their weight: a move is one event, but a
            // stranger's address differs in every part too
            for &f in g {
                if f != worst && f < w.len() && v[f] != MISSING && w[f] < 0.0 {
                    w[f] /= 6.0;
                }
            }
        }
    }

    /// The member of group `g` with the strongest disagreement, when two or more members
    /// are known and none agrees. A member agreeing by itself says the group did not
    /// change, unless that agreement says next to nothing (a country most records share:
    /// [`GROUP_AGREES`]).
    fn disagreeing_throughout(&self, g: &[usize], v: &[u8], w: &[f64]) -> Option<usize> {
        let known: Vec<usize> = g
            .iter()
            .copied()
            .filter(|&f| v.get(f).is_some_and(|&l| l != MISSING) && f < w.len())
            .collect();
        if known.len() < 2 || known.iter().any(|&f| v[f] <= 2 && w[f] > GROUP_AGREES) {
            return None;
        }
        known.into_iter().min_by(|&x, &y| w[x].total_cmp(&w[y]))
    }

    fn correct_dependence(&self, v: &[u8], w: &mut [f64]) {
        let n = self.u_pair.len().min(v.len()).min(self.u.len());
        // exact or close (a typo of the same suburb goes with its postcode just as well)
        let mut agree: Vec<usize> = (0..n).filter(|&f| v[f] <= 2).collect();
        if agree.len() < 2 {
            return;
        }
        agree.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
        for k in 1..agree.len() {
            let f = agree[k];
            let lift = agree[..k]
                .iter()
                .map(|&g| self.u_pair[f][g] / (self.u[f][0] * self.u[g][0]))
                .fold(1.0f64, f64::max);
            if lift > 1.0 && w[f] > 0.0 {
                w[f] = (w[f] - lift.log2()).max(0.0);
            }
        }
    }

    /// Match weight: log2 prior odds + Σ field weights.
    pub fn weight(&self, v: &[u8]) -> f64 {
        self.weight_from(&self.field_weights(v))
    }

    /// Match probability of a comparison vector.
    pub fn probability(&self, v: &[u8]) -> f64 {
        1.0 / (1.0 + (-self.weight(v)).exp2())
    }

    /// Probability with the same λ but only the fields not in `skip`.
    pub fn probability_without(&self, v: &[u8], skip: &[usize]) -> f64 {
        1.0 / (1.0 + (-self.weight_without(v, skip)).exp2())
    }

    /// Match weight (log2 odds, prior included) from the fields not in `skip`.
    pub fn weight_without(&self, v: &[u8], skip: &[usize]) -> f64 {
        let prior = self.prior_weight();
        let w: f64 = self
            .field_weights(v)
            .iter()
            .enumerate()
            .filter(|(f, _)| !skip.contains(f))
            .map(|(_, w)| w)
            .sum();
        prior + w
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::jw;
    use super::*;
    use serde_json::json;

    /// Text fields of these names.
    fn text_fields(names: &[&str]) -> Vec<FieldSpec> {
        names
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect()
    }

    fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
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
    fn correlated_agreement_counts_once() {
        // suburb determines postcode: in random pairs they agree together; the personal
        // fields (name, dob, phone, email) are unique, so such pairs are no duplicates
        let fields = text_fields(&["name", "suburb", "postcode", "dob", "phone", "email"]);
        let places = [
            ("alpha", "x1000"),
            ("beta", "x2000"),
            ("gamma", "x3000"),
            ("delta", "x4000"),
        ];
        let recs: Vec<Record> = (0..200)
            .map(|i| {
                let (s, p) = places[i % 4];
                rec(
                    json!({"name": format!("person{i}"), "suburb": s, "postcode": p,
                    "dob": format!("d{}", i * 7), "phone": format!("p{}", i * 13),
                    "email": format!("e{}", i * 17)}),
                )
            })
            .collect();
        let prepared: Vec<Prepared> = recs.iter().map(|r| prepare(&fields, r)).collect();
        let mut m = FsModel::prior(fields);
        m.estimate_u(&prepared, &prepared, 5000, 7, true);
        let w = m.field_weights(&[4, 0, 0, 4, 4, 4]);
        let alone = m.field_weights(&[4, 0, 4, 4, 4, 4]);
        // suburb and postcode together add about what one of them adds alone
        assert!(w[1] + w[2] < alone[1] + 0.5, "{w:?} vs {alone:?}");
        assert!(w[1] + w[2] >= alone[1] - 0.5, "{w:?} vs {alone:?}");
        // without the joint estimate both would count in full
        let mut indep = m.clone();
        indep.u_pair.clear();
        let wi = indep.field_weights(&[4, 0, 0, 4, 4, 4]);
        assert!(wi[1] + wi[2] > w[1] + w[2] + 1.0, "{wi:?} vs {w:?}");
    }

    #[test]
    fn columns_that_change_together_are_found_by_their_values() {
        // a town and its coordinates, under names that say nothing of an address, and a
        // flag nearly every record shares
        let fields = text_fields(&["name", "c1", "c2", "c3", "flag", "dob", "phone", "mail"]);
        let recs: Vec<Prepared> = (0..2000)
            .map(|i| {
                let t = (i * 7) % 40;
                let r = rec(
                    json!({"name": format!("person{i}"), "c1": format!("town{t}"),
                    "c2": format!("{}.{}", 30 + t, t * 37 % 100),
                    "c3": format!("-{}.{}", 80 + t, t * 53 % 100),
                    "flag": if i % 10 == 0 { "n" } else { "y" },
                    "dob": format!("d{}", i * 7), "phone": format!("p{}", i * 13),
                    "mail": format!("e{}", i * 17)}),
                );
                prepare(&fields, &r)
            })
            .collect();
        let mut m = FsModel::prior(fields);
        m.estimate_u(&recs, &recs, 20_000, 3, true);
        assert_eq!(m.groups, vec![vec![1, 2, 3]]);
        assert_eq!(m.tight, m.groups);
        // a move disagrees on all three at once: one fact, one disagreement, even
        // beside a member whose agreement weighs nothing
        let moved = [0u8, 4, 4, 4, 0, 0, 0, 0];
        let w = m.field_weights(&moved);
        assert_eq!(w[1..4].iter().filter(|x| **x < 0.0).count(), 1, "{w:?}");
        let grouped = m.weight(&moved);
        m.tight = vec![vec![1, 2, 3, 4]];
        m.m[4] = m.u[4];
        assert!((m.weight(&moved) - grouped).abs() < 1e-9);
        // a group known by its names alone keeps a sixth of the other disagreements
        m.tight.clear();
        let named = m.weight(&moved);
        assert!(named < grouped - 0.5, "{named} vs {grouped}");
        m.groups.clear();
        assert!(m.weight(&moved) < named - 2.0);
    }

    #[test]
    fn random_pairs_taken_for_matches_are_left_out_of_u() {
        // four people with 100 records each among 400 strangers: one random pair in ten
        // is two records of one person, agreeing on both names
        let fields = text_fields(&["given", "surname", "town", "phone", "mail", "org"]);
        let recs: Vec<Prepared> = (0..800)
            .map(|i| {
                let (g, s) = if i < 400 {
                    (format!("g{}", i % 4), format!("s{}", i % 4))
                } else {
                    (format!("g{}", i % 37), format!("s{}", i % 41))
                };
                let r = rec(json!({"given": g, "surname": s, "town": format!("t{}", i * 7 % 50),
                    "phone": format!("p{i}"), "mail": format!("m{i}"), "org": format!("o{}", i % 9)}));
                prepare(&fields, &r)
            })
            .collect();
        let lift = |m: &FsModel| m.u_pair[0][1] / (m.u[0][0] * m.u[1][0]);
        let mut plain = FsModel::prior(fields.clone());
        plain.estimate_u(&recs, &recs, 20_000, 5, true);
        let mut without = FsModel::prior(fields);
        without.estimate_u_without(&recs, &recs, 20_000, 5, true, &|v| v[0] == 0 && v[1] == 0);
        assert!(lift(&plain) > 4.0, "{}", lift(&plain));
        assert!(lift(&without) < 1.5, "{}", lift(&without));
        assert!(without.u[1][0] < plain.u[1][0] / 2.0);
    }

    #[test]
    fn osa_distance_equals_strsim() {
        let w = [
            "", "1", "12", "21", "1234", "1243", "2134", "19640804", "19640408", "08041964",
            "5637", "5673", "abcdef", "acbdfe", "ca", "abc",
        ];
        for a in w {
            for b in w {
                assert_eq!(osa_distance(a, b), strsim::osa_distance(a, b), "{a} / {b}");
            }
        }
    }

    #[test]
    fn bounded_osa_and_token_order_similarity_equal_the_plain_ones() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        // `p` shares a count bucket with `0` in the lower bound (bytes modulo 32)
        let alphabet = b"0123 abp";
        for _ in 0..20_000 {
            let mut word = |max: usize| -> String {
                let n = rng.random_range(0..=max);
                (0..n)
                    .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
                    .collect()
            };
            let (a, b) = (word(10), word(10));
            let d = strsim::osa_distance(&a, &b);
            assert_eq!(osa_distance(&a, &b), d, "{a} / {b}");
            for k in 0..4 {
                assert_eq!(
                    osa_distance_at_most(&a, &b, k),
                    d.min(k + 1),
                    "{a} / {b} {k}"
                );
            }
            // token order: the stack path against the allocating one
            let (na, nb) = (normalize(&a), normalize(&b));
            if na.is_empty() || nb.is_empty() || na == nb {
                continue;
            }
            let (mut x, mut y): (Vec<&str>, Vec<&str>) =
                (na.split(' ').collect(), nb.split(' ').collect());
            x.sort_unstable();
            y.sort_unstable();
            let want = if x == y {
                0.97
            } else {
                let j = |s: &str| s.replace(' ', "");
                jw(&j(&na), &j(&nb)).max(jw(&x.concat(), &y.concat()))
            };
            let got = reordered_ascii(&na, &nb);
            assert!(got.is_some_and(|g| (g - want).abs() < 1e-12), "{na} / {nb}");
        }
        let long = "a ".repeat(20);
        assert_eq!(reordered_ascii(long.trim(), "a b"), None);
    }

    #[test]
    fn swapped_fields_count_as_close() {
        let fields = text_fields(&["given", "surname", "city"]);
        let a = Prepared::from_raw(["Anna", "Quixote", "Springfield"]);
        let b = Prepared::from_raw(["Quixotte", "Anna", "Springfield"]);
        assert_eq!(compare(&fields, &a, &b), vec![1, 1, 0]);
        // different people sharing one name are not swapped
        let c = Prepared::from_raw(["Quixote", "Brown", "Springfield"]);
        assert_eq!(compare(&fields, &a, &c), vec![4, 4, 0]);
    }

    #[test]
    fn a_swapped_given_name_counts_as_close_when_everything_else_differs_too() {
        // a person who moved: street, town, state and postcode all differ, so more
        // fields disagree than the general swap check looks at
        let mut fields = text_fields(&["first", "last", "street", "city", "state", "zip"]);
        fields[0].nicknames = true;
        let a = Prepared::from_raw(["mitchael", "sanleyton", "brooking ave", "anez", "ca", "x1"]);
        let b = Prepared::from_raw([
            "sanleytno",
            "michael",
            "woodros drive",
            "anberwell",
            "in",
            "y2",
        ]);
        assert_eq!(&compare(&fields, &a, &b)[..2], &[1, 1]);
        let c = Prepared::from_raw(["bill", "garcia", "oak st", "ezow", "ga", "x1"]);
        let d = Prepared::from_raw(["garcia", "william", "elm ave", "erhol", "tx", "y2"]);
        assert_eq!(&compare(&fields, &c, &d)[..2], &[1, 1]);
        // strangers are not swapped
        let e = Prepared::from_raw([
            "sanleyton",
            "brown",
            "woodros drive",
            "anberwell",
            "in",
            "y2",
        ]);
        assert!(compare(&fields, &a, &e)[..2].iter().all(|&l| l > 2));
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
    fn em_separates_matches_from_non_matches() {
        // 2 fields; 50 matching-looking patterns and 500 disagreeing ones.
        let fields = vec![
            FieldSpec::new("a", FieldKind::Text),
            FieldSpec::new("b", FieldKind::Text),
        ];
        let mut m = FsModel::prior(fields);
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for i in 0..50 {
            vs.push(vec![0, if i % 5 == 0 { 1 } else { 0 }]);
        }
        for i in 0..500 {
            vs.push(vec![4, if i % 10 == 0 { 0 } else { 4 }]);
        }
        m.estimate_m(vs.iter().map(Vec::as_slice), 50, 0.5);
        assert!(m.lambda > 0.05 && m.lambda < 0.2, "{}", m.lambda);
        assert!(m.probability(&[0, 0]) > 0.9);
        assert!(m.probability(&[4, 4]) < 0.01);
        m.refine(&[(vec![4, 0], true)], 5.0);
        assert!(m.m[0][4] > 0.0);
    }

    /// A file of names and birth dates only: namesakes born days apart (given name
    /// exact, date close, surname different) agree on two of three fields. Let into the
    /// match class, they teach EM that a match's surname differs outright; a name
    /// disagreeing outright needs three agreeing fields to join.
    #[test]
    fn em_keeps_namesakes_with_another_surname_out_of_the_match_class() {
        let fields = vec![
            FieldSpec::new("fname", FieldKind::Text),
            FieldSpec::new("lname", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
        ];
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            // duplicates with one error each: a surname typo, a date typo, a given-name typo
            vs.extend([vec![0, 1, 0], vec![0, 0, 1], vec![2, 0, 0]]);
        }
        vs.extend((0..400).map(|_| vec![0, 4, 1]));
        vs.extend((0..3000).map(|k| vec![4, 4, 3 + (k % 2) as u8]));
        let fit = |names: Vec<usize>| {
            let mut m = FsModel::prior(fields.clone());
            m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 3];
            m.names = names;
            m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
            m
        };
        let blind = fit(Vec::new());
        assert!(
            blind.m[1][4] > 0.2,
            "the failure guarded against: {:?}",
            blind.m[1]
        );
        let m = fit(vec![0, 1]);
        assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
        assert!(m.probability(&[0, 4, 1]) < 0.5);
        assert!(m.probability(&[0, 1, 0]) > 0.9);
    }

    /// In a file of people, a surname at the weak level (Jaro-Winkler 0.7-0.85,
    /// `brown` / `brookdorwood`) is another surname, not a typo: namesakes of one given
    /// name born a digit apart stay out of the match class, while a product title at that
    /// level (written otherwise by another shop) still joins it.
    #[test]
    fn em_takes_a_weak_surname_for_another_person_but_not_a_weak_title() {
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            vs.extend([vec![0, 1, 0], vec![0, 0, 1], vec![2, 0, 0]]);
        }
        vs.extend((0..60).map(|_| vec![0, 3, 1]));
        vs.extend((0..3000).map(|k| vec![4, 4, 3 + (k % 2) as u8]));
        let fit = |fields: Vec<FieldSpec>| {
            let detected = super::super::local::NameFields::detect(&fields);
            let mut m = FsModel::prior(fields);
            m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 3];
            m.names = detected.names;
            m.individual = detected.individual;
            m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
            m
        };
        let people = fit(vec![
            FieldSpec::new("first_name", FieldKind::Text),
            FieldSpec::new("last_name", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
        ]);
        assert!(people.m[1][3] < 0.01, "surname m: {:?}", people.m[1]);
        assert!(
            people.level_weight(1, 3) < -3.0,
            "{}",
            people.level_weight(1, 3)
        );
        assert!(people.probability(&[0, 1, 0]) > 0.9);
        let products = fit(vec![
            FieldSpec::new("brand", FieldKind::Text),
            FieldSpec::new("title", FieldKind::Text),
            FieldSpec::new("model", FieldKind::Text),
        ]);
        assert!(products.m[1][3] > 0.1, "title m: {:?}", products.m[1]);
    }

    #[test]
    fn em_with_no_pair_for_the_match_class_keeps_the_prior() {
        let fields = vec![
            FieldSpec::new("a", FieldKind::Text),
            FieldSpec::new("b", FieldKind::Text),
        ];
        let mut m = FsModel::prior(fields);
        let prior = m.m.clone();
        // every candidate disagrees on both fields: nothing to learn m from
        let vs: Vec<Vec<u8>> = (0..500).map(|i| vec![4, 3 + (i % 2) as u8]).collect();
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        assert_eq!(m.m, prior);
        assert!(
            m.em_note
                .as_deref()
                .is_some_and(|n| n.contains("prior m kept"))
        );
        assert!(m.probability(&[0, 0]) > 0.9, "agreement still counts");
        // a fit that converges leaves no note
        let mut ok = FsModel::prior(m.fields.clone());
        let mut vs: Vec<Vec<u8>> = (0..50).map(|_| vec![0, 0]).collect();
        vs.extend((0..500).map(|_| vec![4, 4]));
        ok.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        assert_eq!(ok.em_note, None);
    }

    #[test]
    fn em_does_not_drift_to_a_same_location_class() {
        // given, surname, dob, postcode, suburb, state: 300 duplicates (with typos and
        // swapped names) among 6000 candidates that share only a location, as blocking on
        // postcode/suburb produces them. The match class must stay the duplicates.
        let fields = text_fields(&["given", "surname", "dob", "postcode", "suburb", "state"]);
        let mut m = FsModel::prior(fields);
        // u as random pairs show it: names and dates rarely agree, postcode and suburb
        // in one case of 500, the state in one of four
        let rare = [0.001, 0.001, 0.002, 0.006, 0.99];
        let loc = [0.002, 0.0005, 0.0005, 0.002, 0.995];
        m.u = vec![
            rare,
            rare,
            rare,
            loc,
            loc,
            [0.25, 0.0001, 0.0001, 0.0001, 0.7497],
        ];
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for i in 0..300u32 {
            let typo = |k: u32| {
                if (i + k).is_multiple_of(3) {
                    1 + (i % 3) as u8
                } else {
                    0
                }
            };
            let names = if i % 10 == 0 {
                [4, 4]
            } else {
                [typo(0), typo(1)]
            };
            vs.push(vec![
                names[0],
                names[1],
                typo(2),
                0,
                if i % 7 == 0 { 4 } else { 0 },
                0,
            ]);
        }
        for i in 0..6000u32 {
            let near = |k: u32| if (i + k).is_multiple_of(11) { 3 } else { 4 };
            vs.push(vec![
                near(0),
                near(1),
                near(2),
                0,
                if i % 2 == 0 { 0 } else { 4 },
                0,
            ]);
        }
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        assert!(
            m.m[0][0] > 0.4 && m.m[1][0] > 0.4,
            "names: {:?} {:?}",
            m.m[0],
            m.m[1]
        );
        assert!(m.probability(&[4, 4, 4, 0, 0, 0]) < 0.5, "{m:?}");
        assert!(m.probability(&[0, 1, 0, 0, 0, 0]) > 0.9, "{m:?}");
        assert!(m.lambda < 0.1, "{}", m.lambda);
        assert!(mostly_agree(&[0, 1, 2, 4, MISSING]));
        assert!(!mostly_agree(&[4, 4, 0, 0]));
        assert!(!mostly_agree(&[MISSING, MISSING]));
    }

    #[test]
    fn one_unit_written_two_ways_is_close_and_two_units_are_not() {
        let f = [FieldSpec::new("unit_number", FieldKind::Text)];
        let lv = |x: &str, y: &str| {
            let (a, b) = (
                prepare(&f, &rec(json!({ "unit_number": x }))),
                prepare(&f, &rec(json!({ "unit_number": y }))),
            );
            compare(&f, &a, &b)[0]
        };
        assert_eq!(lv("apt 26", "#26"), 1);
        assert_eq!(lv("Unit 3", "apt 3"), 1);
        assert_eq!(lv("suite 12b", "12B"), 1);
        assert_eq!(lv("apt 26", "#27"), 4);
        // a street is no unit: house numbers agreeing do not make two streets one
        assert!(lv("12 main st", "12 oak st") > 1);
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

    /// The level of two raw values of the code field `f`, each normalized as a run
    /// normalizes it.
    fn code_level(f: &FieldSpec, a: &str, b: &str) -> u8 {
        let p = |raw: &str| {
            let (norm, digits) = normalize_field(f, raw);
            Prepared::from_values([(norm.as_str(), digits.as_str())])
        };
        level(FieldKind::Code, p(a).value(0), p(b).value(0))
    }

    #[test]
    fn a_whole_number_written_as_a_float_is_the_number() {
        let id = FieldSpec::new("soc_sec_id", FieldKind::Code);
        let lv = |a: &str, b: &str| code_level(&id, a, b);
        assert_eq!(lv("5304218.0", "5304218"), 0);
        assert_eq!(lv("3.0", "3"), 0);
        assert_eq!(lv("3.00", "30"), 4);
        for raw in ["1.5", "v1.0", ".0", "12.", "1.0.0"] {
            assert_eq!(integer_written_as_float(raw), None, "{raw}");
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
    fn long_texts_are_compared_as_sets_of_words() {
        let text = |s: &str| Prepared::from_values([(s, "")]);
        let words: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
        let long = words.join(" ");
        let mut other = words.clone();
        other[7] = "changed".into();
        let (a, b) = (text(&long), text(&other.join(" ")));
        assert!((text_similarity(a.value(0), b.value(0)) - 59.0 / 60.0).abs() < 1e-9);
        other.reverse();
        let c = text(&other.join(" "));
        assert!((text_similarity(a.value(0), c.value(0)) - 59.0 / 60.0).abs() < 1e-9);
        assert_eq!(shared_words("a b", "c d"), 0.0);
        // a short value is still compared letter by letter
        let (x, y) = (text("jonathan"), text("jonathon"));
        assert!(text_similarity(x.value(0), y.value(0)) > 0.9);
    }

    #[test]
    fn a_code_that_lost_its_leading_zeros_agrees() {
        let zip = FieldSpec::new("zip", FieldKind::Code);
        let lv = |a: &str, b: &str| code_level(&zip, a, b);
        assert_eq!(lv("02134", "2134"), 0);
        assert_eq!(lv("012-34-5678", "12345678"), 0);
        // a zero anywhere else is a digit like any other
        assert_eq!(lv("21340", "2134"), 1);
        assert_eq!(lv("02134", "2143"), 4);
        assert_eq!(lv("0", "000"), 4);
    }

    #[test]
    fn a_zip_plus_four_code_agrees_with_its_five_digit_zip() {
        let zip = FieldSpec::new("mailing_address_zipcode", FieldKind::Code);
        let lv = |a: &str, b: &str| code_level(&zip, a, b);
        assert_eq!(lv("29919-8916", "29919"), 0);
        assert_eq!(lv("29919 8916", "29919-1234"), 0);
        assert_eq!(lv("29919-8916", "29918"), 1);
        // the same shape in a field that is no postcode is a code of its own
        let code = FieldSpec::new("part_number", FieldKind::Code);
        assert_eq!(normalize_field(&code, "10001-0002").1, "100010002");
        assert_eq!(normalize_field(&zip, "2991-89160").1, "299189160");
    }

    #[test]
    fn typed_levels_dates_amounts_short_codes_and_missing_values() {
        let date = FieldSpec {
            kind: FieldKind::Date,
            columns: vec!["y".into(), "m".into(), "d".into()],
            date_order: DateOrder::Parts,
            ..FieldSpec::new("dob", FieldKind::Date)
        };
        let parts = |y: &str, m: &str, d: &str| {
            let r = rec(json!({"y": y, "m": m, "d": d}));
            prepare(std::slice::from_ref(&date), &r)
        };
        let lv = |a: &Prepared, b: &Prepared| compare(std::slice::from_ref(&date), a, b)[0];
        let full = parts("1980", "3", "7");
        assert_eq!(full.value(0).norm, "19800307");
        assert_eq!(lv(&full, &parts("1980", "03", "07")), 0);
        assert_eq!(
            lv(&full, &parts("1980", "7", "3")),
            1,
            "day and month swapped"
        );
        assert_eq!(lv(&full, &parts("1980", "3", "")), 2, "day unknown");
        assert_eq!(
            lv(&full, &parts("1980", "3", "21")),
            3,
            "same year and month"
        );
        assert_eq!(lv(&full, &parts("1980", "11", "7")), 3, "same year and day");
        // the year alone: a typo changes one part, two people born that year both
        assert_eq!(lv(&full, &parts("1980", "11", "21")), 4, "same year only");
        assert_eq!(lv(&full, &parts("1955", "11", "21")), 4);
        // one mistyped year digit, month (and day as known) agreeing: a typo
        assert_eq!(lv(&full, &parts("1975", "3", "7")), 4, "two digits off");
        assert_eq!(
            lv(&full, &parts("1930", "3", "7")),
            1,
            "one digit of the whole date"
        );
        assert_eq!(lv(&full, &parts("1930", "3", "")), 3, "day unknown");
        assert_eq!(lv(&full, &parts("1930", "4", "7")), 4, "month differs too");
        // a year one off: the month and day agreeing, or unknown on one side
        assert_eq!(lv(&full, &parts("1979", "3", "7")), 3);
        assert_eq!(
            lv(&full, &parts("1981", "", "")),
            3,
            "the year alone, one off"
        );
        assert_eq!(lv(&full, &parts("1981", "3", "")), 3);
        assert_eq!(lv(&full, &parts("1981", "4", "")), 4, "the month differs");
        assert_eq!(lv(&full, &parts("1982", "", "")), 4, "two years off");
        assert_eq!(lv(&full, &parts("", "", "")), MISSING);
        // only the month known on one side: weak agreement, or two people told apart
        assert_eq!(parts("", "3", "").value(0).norm, "00000300");
        assert_eq!(
            lv(&full, &parts("", "3", "")),
            3,
            "same month, year unknown"
        );
        assert_eq!(lv(&full, &parts("", "9", "")), 4, "another month");
        assert_eq!(
            lv(&full, &parts("", "", "7")),
            MISSING,
            "a day alone says nothing"
        );
        // one date written as a string, month first, against its parts
        let mdy = FieldSpec {
            date_order: DateOrder::Mdy,
            ..FieldSpec::new("dob", FieldKind::Date)
        };
        assert_eq!(normalize_field(&mdy, "03/07/1980").0, "19800307");
        assert_eq!(
            canonical_date("1980", DateOrder::Dmy).as_deref(),
            Some("19800000")
        );
        assert_eq!(canonical_date("hello", DateOrder::Dmy), None);
        // a two-digit year, read as spreadsheets read it
        let two = |s: &str, o| canonical_date(s, o);
        assert_eq!(two("04/09/56", DateOrder::Mdy).as_deref(), Some("19560409"));
        assert_eq!(two("9.4.05", DateOrder::Dmy).as_deref(), Some("20050409"));
        assert_eq!(two("30-12-29", DateOrder::Dmy).as_deref(), Some("20291230"));
        assert_eq!(two("30-12-30", DateOrder::Dmy).as_deref(), Some("19301230"));
        assert!(!two_digit_year("04/09-56") && !two_digit_year("4/9/156"));
        assert!(!two_digit_year("12:30:45") && !two_digit_year("1.2.3"));
        // read into the wrong century, the date is one typo away
        assert_eq!(
            date_level("19080419", &two("04/19/08", DateOrder::Mdy).unwrap()),
            1
        );
        assert_eq!(date_level("19080419", "20080420"), 4);
        // amounts by relative difference
        let price = [FieldSpec::new("price", FieldKind::Number)];
        let amount = |x: &str| prepare(&price, &rec(json!({"price": x})));
        assert_eq!(amount("$1,299.50").value(0).norm, "1299.5");
        assert_eq!(
            compare(&price, &amount("$1,299.50"), &amount("1299.5"))[0],
            0
        );
        assert_eq!(compare(&price, &amount("100"), &amount("100.9"))[0], 1);
        assert_eq!(compare(&price, &amount("100"), &amount("300"))[0], 4);
        // a one-digit code one edit away is another value, not a typo
        let code = [FieldSpec::new("month", FieldKind::Code)];
        let c = |x: &str| prepare(&code, &rec(json!({"month": x})));
        assert_eq!(compare(&code, &c("3"), &c("4"))[0], 4);
        assert_eq!(compare(&code, &c("123"), &c("124"))[0], 3);
        assert_eq!(compare(&code, &c("12345"), &c("12346"))[0], 1);
        // "n/a" and friends are missing values, never agreement
        let text = [FieldSpec::new("city", FieldKind::Text)];
        let t = |x: &str| prepare(&text, &rec(json!({"city": x})));
        assert_eq!(compare(&text, &t("N/A"), &t("n/a"))[0], MISSING);
        assert_eq!(compare(&text, &t("unknown"), &t("Paris"))[0], MISSING);
    }

    #[test]
    fn a_given_name_and_its_short_form_agree() {
        let recs = [
            rec(json!({"first_name": "James R", "surname": "Jim"})),
            rec(json!({"first_name": "jim", "surname": "James"})),
        ];
        let fields = infer_fields(recs.iter());
        assert!(
            fields[0].nicknames,
            "first_name is a given name: {fields:?}"
        );
        assert!(!fields[1].nicknames, "a surname is not: {fields:?}");
        let p: Vec<Prepared> = recs.iter().map(|r| prepare(&fields, r)).collect();
        assert_eq!(compare(&fields, &p[0], &p[1]), vec![1, 4]);
        let other = prepare(
            &fields,
            &rec(json!({"first_name": "john", "surname": "jim"})),
        );
        assert_eq!(compare(&fields, &p[0], &other)[0], 4, "james / john");
        // swapped, and one of them written short
        let a = prepare(
            &fields,
            &rec(json!({"first_name": "Miller", "surname": "Charles"})),
        );
        let b = prepare(
            &fields,
            &rec(json!({"first_name": "chuck", "surname": "miller"})),
        );
        assert_eq!(compare(&fields, &a, &b), vec![1, 1]);
    }

    #[test]
    fn a_date_or_given_name_that_disagrees_outright_costs_a_typo_not_a_verdict() {
        let mut given = FieldSpec::new("first_name", FieldKind::Text);
        given.nicknames = true;
        let fields = vec![
            FieldSpec::new("dob", FieldKind::Date),
            FieldSpec::new("city", FieldKind::Text),
            given,
        ];
        let mut m = FsModel::prior(fields);
        // what the EM gives when conflicting dates and given names never join the match
        // class
        for f in 0..3 {
            m.m[f] = [0.7, 0.1, 0.1, 0.0999, 0.0001];
            m.u[f] = [0.01, 0.01, 0.01, 0.01, 0.96];
        }
        let date = m.level_weight(0, LEVELS - 1);
        let want = (DATE_TYPO_RATE / 0.96).log2();
        assert!((date - want).abs() < 1e-9, "{date} vs {want}");
        assert!((m.level_weight(2, LEVELS - 1) - want).abs() < 1e-9);
        // other kinds keep their estimate
        assert!(m.level_weight(1, LEVELS - 1) < date - 5.0);
    }

    #[test]
    fn level_weights_stay_sensible_and_address_parts_count_once() {
        let fields = text_fields(&["name", "street", "city", "zip"]);
        let mut m = FsModel::prior(fields);
        // EM gone wrong on field 0: exact agreement more common among non-matches
        m.m[0] = [0.01, 0.3, 0.3, 0.2, 0.19];
        m.u[0] = [0.05, 0.001, 0.01, 0.1, 0.839];
        assert!(
            m.level_weight(0, 0) >= m.level_weight(0, 1),
            "rare exact agreement"
        );
        assert!(m.level_weight(0, 2) >= 0.0);
        assert!(m.level_weight(0, 4) <= 0.0);
        for l in 1..LEVELS {
            assert!(
                m.level_weight(0, l) <= m.level_weight(0, l - 1) + 1e-12,
                "{l}"
            );
        }
        // a date known to the month on one side: exact and close agreement never happen,
        // year and month agreeing (level 2) is the evidence and keeps its own weight
        let saved = (m.m[1], m.u[1]);
        m.m[1] = [0.0002, 0.0002, 0.77, 0.03, 0.1996];
        m.u[1] = [0.0001, 0.0001, 0.0054, 0.0102, 0.9843];
        let w2 = m.level_weight(1, 2);
        assert!((w2 - (0.77f64 / 0.0054).log2()).abs() < 1e-9, "{w2}");
        for l in 1..LEVELS {
            assert!(
                m.level_weight(1, l) <= m.level_weight(1, l - 1) + 1e-12,
                "{l}"
            );
        }
        (m.m[1], m.u[1]) = saved;
        // a move: street, city and zip disagree together and count as one disagreement
        let moved = [0u8, 4, 4, 4];
        let alone = m.weight(&moved);
        m.groups = vec![vec![1, 2, 3]];
        let grouped = m.weight(&moved);
        assert!(grouped > alone + 2.0, "{grouped} vs {alone}");
        let w = m.field_weights(&moved);
        let strongest = (1..4).map(|f| m.level_weight(f, 4)).fold(0.0, f64::min);
        assert_eq!(w.iter().filter(|x| **x == strongest).count(), 1, "{w:?}");
        // one part agreeing: no correction
        assert_eq!(m.field_weights(&[0, 0, 4, 4])[3], m.level_weight(3, 4));
        assert!(mostly_agree_grouped(&[0, 4, 4, 4], &m.groups) == mostly_agree(&[0, 4]));
    }
}
