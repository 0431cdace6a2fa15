//! The fields of a comparison: typing a column from its values (text, code, amount,
//! date from one string or from part columns), normalizing a raw value once, and the
//! prepared record every comparison reads.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::engine::text::{digits, normalize};
use crate::engine::{Record, value_text};

mod dates;
mod names;

pub use dates::{
    PLACEHOLDER_DATE, SERIAL_DAYS, canonical_date, date_digits, date_without_midnight, full_year,
    named_month_date, serial_day, two_digit_year,
};
pub(in crate::engine::fs) use names::HONORIFICS;
pub use names::name_part;
use names::{without_honorific, without_placeholder_names};

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
    /// Another party's attribute, as the column's name says (`spouse_first_name`,
    /// `employer_city`: [`crate::engine::lexicon::other_party`]): never the record's
    /// given name, surname or whole name, and never read as one of the record's own
    /// fields swapped with it (a couple's two rows hold each other's given name).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other_party: bool,
    /// Read as an age: the birth date the field's columns hold (in [`Self::date_order`]),
    /// as old as the person was on this day (`YYYYMMDD`). Linking a file that gives each
    /// record's age beside its birth date to one that gives the birth date alone, the
    /// ages meet the day the first file's ages were read on
    /// (`crate::engine::align::ages`), and a mistyped birth year is told from another
    /// person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_on: Option<String>,
    /// An age compared with a birth date read as one ([`Self::age_on`], set on the other
    /// side of the pair): the age side's report against the birth date's, so an age that
    /// differs there says what the birth dates say, once
    /// ([`crate::engine::local::NameFields::born_apart`], the model's age weights).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub birth_read: bool,
    /// An age in years: two values are as close as the years between them
    /// ([`super::compare::years_level`]), not their ratio, which put a child of 4 and
    /// of 5 as far apart as strangers and 47 and 53 as near as a misreported age.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub years: bool,
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
            other_party: false,
            age_on: None,
            birth_read: false,
            years: false,
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
    pub fn raw<'s>(&self, get: impl FnMut(&str) -> Option<&'s str>) -> String {
        match &self.age_on {
            // a birth date a form writes for none (`1900-01-01`) is none, and so its age
            Some(day) => canonical_date(&self.raw_read(get), self.date_order)
                .filter(|born| born != PLACEHOLDER_DATE)
                .and_then(|born| age_on(&born, day))
                .filter(|&age| age <= OLDEST_AGE)
                .map(|age| age.to_string())
                .unwrap_or_default(),
            None => self.raw_read(get),
        }
    }

    /// [`Self::raw`] as the columns hold it (a birth date read as an age: the date).
    fn raw_read<'s>(&self, mut get: impl FnMut(&str) -> Option<&'s str>) -> String {
        if let Some(part) = self.name_part {
            let whole: Vec<&str> = self.sources().into_iter().filter_map(&mut get).collect();
            return name_part(&whole.join(" "), part, self.family_first);
        }
        if self.columns.is_empty() {
            return get(&self.name).unwrap_or_default().to_string();
        }
        let date = self.kind == FieldKind::Date || self.age_on.is_some();
        if date && self.date_order == DateOrder::Parts {
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

/// Oldest age a birth date is read as ([`FieldSpec::age_on`]): an older one was mistyped
/// (`1850`), and as an age it would tell the record from every other.
pub const OLDEST_AGE: u32 = 125;

/// The year, month and day of a canonical date (`YYYYMMDD`) that knows all three
/// (`19960000` is a year alone: `None`).
pub fn whole_date(date: &str) -> Option<(u32, u32, u32)> {
    let n = |r: std::ops::Range<usize>| date.get(r)?.parse::<u32>().ok().filter(|&x| x > 0);
    (date.len() == 8).then_some(())?;
    Some((n(0..4)?, n(4..6)?, n(6..8)?))
}

/// How old someone born on `born` was on `day` (both `YYYYMMDD`, as
/// [`canonical_date`] writes them): `None` where the birth date lacks its year, month or
/// day, or falls after the day.
pub fn age_on(born: &str, day: &str) -> Option<u32> {
    let ((by, bm, bd), (y, m, d)) = (whole_date(born)?, whole_date(day)?);
    let years = y.checked_sub(by)?;
    if (m, d) < (bm, bd) {
        years.checked_sub(1)
    } else {
        Some(years)
    }
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

#[cfg(test)]
mod tests {
    use super::super::test_records::rec;
    use super::super::*;
    use super::*;
    use serde_json::json;

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
}
