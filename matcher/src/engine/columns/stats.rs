//! What one column's values are like, counted over the sampled records: how many are
//! numbers, dates (and in which order), amounts, names, known given names, and the years
//! of its dates. The schema inference (`fields_from`) types each column, joins date parts
//! and reads a given name or a birth date by these counts alone.

use super::is_missing_token;
use crate::engine::fs::{DateOrder, FieldKind};

/// Years of whole dates a column keeps to judge their spread ([`Stats::years_spread`]).
pub(super) const YEARS_KEPT: usize = 4096;

/// Per-column statistics over the sampled records.
#[derive(Debug, Default, Clone)]
pub(super) struct Stats {
    pub(super) seen: usize,
    pub(super) filled: usize,
    /// values with digits and no letters
    pub(super) numeric: usize,
    /// values that are integers in a date part's range, per part
    pub(super) year: usize,
    pub(super) month: usize,
    pub(super) day: usize,
    /// values that parse as a whole date, per order
    pub(super) dates: usize,
    pub(super) ymd: usize,
    pub(super) day_first: usize,
    pub(super) month_first: usize,
    /// values with a decimal point or a currency sign and digits only otherwise
    pub(super) amount: usize,
    /// whole numbers a spreadsheet's day number could be ([`crate::engine::fs::serial_day`]: not
    /// a year, nor a count under 367)
    pub(super) serial: usize,
    /// values of two to four words of letters only, of any script (a whole name's shape),
    /// and those of
    /// them with a word that is a known given name
    pub(super) name_shaped: usize,
    pub(super) given_named: usize,
    /// values of one word that is a known given name (`james`, `Maria`)
    pub(super) given_alone: usize,
    /// the years of the whole dates read with four-digit years (or of a year column's
    /// values; a two-digit year's century is a guess), at most [`YEARS_KEPT`]
    /// ([`Stats::year_of_date`])
    pub(super) years: Vec<u16>,
    pub(super) years_seen: usize,
    pub(super) years_stride: usize,
    /// hashes of the distinct values seen, up to one more than
    /// [`crate::engine::fs::CATEGORICAL_MAX`]
    pub(super) distinct: std::collections::HashSet<u64>,
}

fn int_of(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Years of a date written out with its parts apart (`1630-08-01`, `01/08/1630`,
/// `1 August 1630`): such a string is a date whatever its century (historical and
/// genealogical records). A year alone, or eight digits run together, is a date only in
/// 1800..=2100: other whole numbers of that size are codes and counts.
const WRITTEN_YEARS: std::ops::RangeInclusive<u32> = 1000..=2100;

/// The numbers of a date written as a string: three groups of digits (or one of eight),
/// a two-digit year read as its full year ([`crate::engine::fs::full_year`]).
fn date_numbers(s: &str) -> Option<(u32, u32, u32, usize)> {
    let s = crate::engine::fs::date_without_midnight(s);
    let groups: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let letters = s.chars().any(char::is_alphabetic);
    if letters {
        return None;
    }
    match groups.as_slice() {
        [one] if one.len() == 8 => {
            let y: u32 = one[..4].parse().ok()?;
            let m: u32 = one[4..6].parse().ok()?;
            let d: u32 = one[6..].parse().ok()?;
            ((1800..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
                .then_some((y, m, d, 0))
        }
        [a, b, c] if crate::engine::fs::two_digit_year(s) => Some((
            a.parse().ok()?,
            b.parse().ok()?,
            crate::engine::fs::full_year(c.parse().ok()?),
            1,
        )),
        [a, b, c, rest @ ..] if rest.iter().all(|g| g.bytes().all(|x| x == b'0')) => {
            let (a4, c4) = (a.len() == 4, c.len() == 4);
            if !(a4 || c4) || b.len() > 2 {
                return None;
            }
            Some((
                a.parse().ok()?,
                b.parse().ok()?,
                c.parse().ok()?,
                usize::from(c4),
            ))
        }
        _ => None,
    }
}

impl Stats {
    pub(super) fn add(&mut self, raw: &str) {
        self.seen += 1;
        let s = raw.trim();
        let norm = crate::engine::text::normalize(s);
        if s.is_empty() || is_missing_token(&norm) {
            return;
        }
        if self.distinct.len() <= crate::engine::fs::CATEGORICAL_MAX {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            norm.hash(&mut h);
            self.distinct.insert(h.finish());
        }
        self.filled += 1;
        let d = s.bytes().filter(u8::is_ascii_digit).count();
        let letters = s.chars().filter(|c| c.is_alphabetic()).count();
        if d > 0 && letters == 0 {
            self.numeric += 1;
            if (s.contains('.') && !s.ends_with(".0"))
                || s.starts_with(['$', '€', '£'])
                || s.ends_with(['€', '$'])
            {
                let plain = s
                    .trim_start_matches(['$', '€', '£'])
                    .trim_end_matches(['€', '$']);
                if plain.replace(',', "").parse::<f64>().is_ok() {
                    self.amount += 1;
                }
            }
        }
        if d == 0 {
            let words = norm.split(' ').filter(|w| !w.is_empty());
            let n = words.clone().count();
            // letters of any script (`søren ødegård`, `łukasz`, `анна`), no digits
            if n == 1 && crate::engine::lexicon::known_given_name(&norm) {
                self.given_alone += 1;
            }
            if (2..=4).contains(&n) && norm.chars().all(|c| c == ' ' || c.is_alphabetic()) {
                self.name_shaped += 1;
                if words
                    .into_iter()
                    .any(crate::engine::lexicon::known_given_name)
                {
                    self.given_named += 1;
                }
            }
        }
        if crate::engine::fs::serial_day(s).is_some() {
            self.serial += 1;
        }
        if let Some(n) = int_of(s) {
            if (1800..=2100).contains(&n) {
                self.year += 1;
                // a year column's years: the spread of the date its parts make
                self.year_of_date(n);
            }
            if (1..=12).contains(&n) {
                self.month += 1;
            }
            if (1..=31).contains(&n) {
                self.day += 1;
            }
        }
        if letters > 0
            && let Some((y, _, d)) = crate::engine::fs::named_month_date(s)
            && WRITTEN_YEARS.contains(&y)
            && d > 0
        {
            // the month named: the order is plain whatever the string's
            self.dates += 1;
            self.ymd += 1;
            self.year_of_date(y);
        }
        if let Some((a, b, c, year_last)) = date_numbers(s) {
            if year_last == 0 {
                if WRITTEN_YEARS.contains(&a) && (1..=12).contains(&b) && (1..=31).contains(&c) {
                    self.dates += 1;
                    self.ymd += 1;
                    self.year_of_date(a);
                }
            } else if WRITTEN_YEARS.contains(&c) && (1..=31).contains(&a) && (1..=31).contains(&b) {
                self.dates += 1;
                // a two-digit year's century is a guess (`04/05/29`: 2029 or 1929)
                if !crate::engine::fs::two_digit_year(crate::engine::fs::date_without_midnight(s)) {
                    self.year_of_date(c);
                }
                if a > 12 {
                    self.day_first += 1;
                }
                if b > 12 {
                    self.month_first += 1;
                }
            }
        }
    }

    /// People's whole names ([`crate::engine::fs::FieldSpec::person_name`]): nine values in ten shaped as a
    /// name (two to four words of letters), and a known given name in one in ten (a
    /// restaurant's or a firm's name seldom holds one: 2-3% of Fodors-Zagats' names; a
    /// file of people's names, one in two).
    pub(super) fn person_names(&self) -> bool {
        self.filled >= 20 && self.most(self.name_shaped) && self.given_named * 10 >= self.filled
    }

    /// Keeps a year of the column's dates: every one up to [`YEARS_KEPT`], then every
    /// other of those kept and of those to come (a file sorted by date keeps its spread).
    pub(super) fn year_of_date(&mut self, y: u32) {
        self.years_seen += 1;
        if !self.years_seen.is_multiple_of(self.years_stride.max(1)) {
            return;
        }
        self.years.push(y as u16);
        if self.years.len() >= YEARS_KEPT {
            let mut k: usize = 0;
            self.years.retain(|_| {
                k += 1;
                k.is_multiple_of(2)
            });
            self.years_stride = self.years_stride.max(1) * 2;
        }
    }

    /// A column of given names, as its values say: one value in two a known given name
    /// alone (the lexicon knows four in five of a population's; a surname is one far
    /// less often: `james`, `thomas`).
    pub(super) fn given_names(&self) -> bool {
        self.filled >= 20 && self.given_alone * 2 >= self.filled
    }

    /// The years between the tenth and the ninetieth percentile of the column's dates
    /// (`None` for fewer than 20 dates): people's birth dates spread over decades, the
    /// dates of events (a visit, an order, a registration) over a few years.
    pub(super) fn years_spread(&self) -> Option<u16> {
        if self.years.len() < 20 {
            return None;
        }
        let mut y = self.years.clone();
        y.sort_unstable();
        let at = |q: usize| y[(y.len() - 1) * q / 10];
        Some(at(9) - at(1))
    }

    /// A few values repeated ([`crate::engine::fs::FieldSpec::categorical`]).
    pub(super) fn categorical(&self) -> bool {
        self.filled >= 100 && self.distinct.len() <= crate::engine::fs::CATEGORICAL_MAX
    }

    pub(super) fn most(&self, n: usize) -> bool {
        self.filled > 0 && n * 10 >= self.filled * 9
    }

    pub(super) fn kind(&self) -> (FieldKind, DateOrder) {
        if self.filled == 0 {
            return (FieldKind::Text, DateOrder::default());
        }
        if self.most(self.dates) && self.filled >= 3 {
            // the order of day and month first: a column mixing `1997-09-15` with
            // `9/7/1997` is read year first where the year leads whatever the order, so
            // its slashed dates follow their own evidence (`4/19/2001`), not the
            // year-first majority (read day first, a month-first date one part off
            // differed in two: F1 0.974 -> 0.994 on a names-and-dates file of four forms)
            let order = if self.month_first > self.day_first {
                DateOrder::Mdy
            } else if self.ymd * 2 > self.dates {
                DateOrder::Ymd
            } else {
                DateOrder::Dmy
            };
            return (FieldKind::Date, order);
        }
        if self.most(self.amount) {
            return (FieldKind::Number, DateOrder::default());
        }
        if self.most(self.numeric) {
            return (FieldKind::Code, DateOrder::default());
        }
        (FieldKind::Text, DateOrder::default())
    }
}
