//! When two records' people were born: the birth dates and ages each side reports, and
//! what they say together (born apart, a year mistyped, a couple born one month).

use super::super::*;
use super::{AGES_APART, NameFields, OUTRIGHT, births_known};

/// The year of a canonical date (`YYYYMMDD`), where it is known.
fn year_of(date: &str) -> Option<u32> {
    date.get(..4)
        .and_then(|y| y.parse::<u32>().ok())
        .filter(|&y| y > 0)
}

impl NameFields {
    /// Whether two reports say the two were born apart: birth dates that differ outright
    /// and ages (known on both sides) that differ by as many years (to one) and by two
    /// or more; or, where no birth date is known on both sides, ages more than
    /// [`AGES_APART`] years apart. A father and son of one name at one address (`brandon
    /// owtorash`, 1949 and 1942, aged 71 and 78) agree on everything else, and a birth
    /// date that differs outright was forgiven by the given name and the address (a
    /// mistyped date); the age, written apart from the date, tells the two apart. A date
    /// mistyped, or copied from another of the household, leaves the age as it was.
    /// `ages`: [`Self::age_gap`].
    pub(super) fn born_apart(&self, a: &Prepared, b: &Prepared, v: &[u8], ages: f64) -> bool {
        let mut births = births_known(&self.individual, v).peekable();
        if births.peek().is_none() {
            return ages > AGES_APART;
        }
        // beside the birth dates, an age against the other side's date read as one says
        // what the dates say: only the ages both sides report are a second report
        let Some(ages) = (if self.ages_read.is_empty() {
            Some(ages)
        } else {
            self.own_age_gap(a, b, v)
        }) else {
            return false;
        };
        let year = |s: &str| year_of(s).map(f64::from);
        births.any(|f| {
            v.get(f) == Some(&OUTRIGHT)
                && year(a.value(f).norm)
                    .zip(year(b.value(f).norm))
                    .is_some_and(|(x, y)| ages >= 2.0 && ((x - y).abs() - ages).abs() <= 1.0)
        })
    }

    /// Whether a birth date known on both sides in `v` differs outright in the year alone,
    /// by two years or more: ages that agree beside it cannot be two people's born in one
    /// year (`lawrence wilson`, May and April 1993, both 26), and say that the year was
    /// mistyped (`2006` for `1996`, the census age 24 beside a register's 1996). Only
    /// asked where the ages agree ([`Self::age_gap`] 0).
    pub(super) fn born_alike(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        births_known(&self.individual, v).any(|f| {
            // month and day known (`19960000` is a year alone) and the same
            let whole = |r: &Prepared| crate::engine::fs::whole_date(r.value(f).norm);
            v.get(f) == Some(&OUTRIGHT)
                && whole(a)
                    .zip(whole(b))
                    .is_some_and(|((ya, ma, da), (yb, mb, db))| {
                        (ma, da) == (mb, db) && ya.abs_diff(yb) >= 2
                    })
        })
    }

    /// The most years the ages known on both sides in `v` differ by.
    pub(super) fn age_gap(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> Option<f64> {
        gap_of(self.ages.iter().copied(), a, b, v)
    }

    /// [`Self::age_gap`] of the ages both sides report, not one side's birth date read as
    /// an age ([`Self::ages_read`]): a second report of when the two were born.
    fn own_age_gap(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> Option<f64> {
        let own = self.ages.iter().copied();
        gap_of(own.filter(|f| !self.ages_read.contains(f)), a, b, v)
    }
}

/// The most years the age fields `ages` known on both sides in `v` differ by.
fn gap_of(ages: impl Iterator<Item = usize>, a: &Prepared, b: &Prepared, v: &[u8]) -> Option<f64> {
    ages.filter(|&f| v.get(f).is_some_and(|&l| l != MISSING))
        .filter_map(|f| {
            let (x, y) = (
                a.value(f).norm.parse::<f64>(),
                b.value(f).norm.parse::<f64>(),
            );
            Some((x.ok()? - y.ok()?).abs())
        })
        .reduce(f64::max)
}

/// Whether two canonical birth dates (`YYYYMMDD`) share the year and differ by one typing
/// edit in the month and day.
pub(super) fn digit_apart_in_a_year(a: &str, b: &str) -> bool {
    a.len() == 8
        && b.len() == 8
        && a != b
        && a.get(..4) == b.get(..4)
        && crate::engine::fs::osa_distance_at_most(a, b, 1) <= 1
}
