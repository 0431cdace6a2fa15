//! An age on one side, a birth date on both: the other side's birth dates read as ages.
//!
//! A census gives each person's age beside the birth date; a register of births, a
//! social-security file or a patient list gives the birth date alone. Aligned by name,
//! the age meets nothing and is left out, and with it the one report that tells a
//! mistyped birth year (`2006` for `1996`, the census age 24) from another person's
//! date, or a record without its birth date (`carolyn`, 18) from a namesake born in
//! 1978. The census's ages were read on one day (its reference date), which its own
//! records give away: each age and birth date place that day within one year, and
//! nearly every record's year holds it. The other side's birth dates are then read as
//! ages on that day ([`FieldSpec::age_on`]) and compared with the ages as any two ages
//! are. Ages read on many days (forms filed over years) place it nowhere, and nothing
//! is added.

use super::super::fs::{
    FieldKind, FieldSpec, OLDEST_AGE, PLACEHOLDER_DATE, canonical_date, whole_date,
};
use super::super::{Record, lexicon};
use super::{Aligned, AlignedPair, raw_value};

/// Records read on the side with ages to place the day (spread over the file).
const READ: usize = 5_000;

/// Fewest records with an age and a whole birth date to place the day by.
const MIN_READ: usize = 50;

/// Least share of those records whose age the day gives exactly: a census misreports
/// one age in a hundred or so; ages read on the days forms were filed, over a year or
/// more, agree on no one day for this many.
const AGREEING: f64 = 0.9;

/// Where one side has an age field that nothing was aligned with, a birth date aligned
/// with the other side's, and the other side no age: the other side's birth date read as
/// an age on the day the ages were read on ([`reference_day`]), aligned with the age.
pub(super) fn read_off_births(out: &mut Aligned, fields: [&[FieldSpec]; 2], recs: [&[Record]; 2]) {
    let is_age = |name: &str| lexicon::concept(name) == Some("age");
    let age_field = |f: &&FieldSpec| {
        matches!(f.kind, FieldKind::Number | FieldKind::Code)
            && !f.other_party
            && !f.categorical
            && f.name_part.is_none()
            && is_age(&f.name)
    };
    let compared = out
        .left
        .iter()
        .chain(&out.right)
        .any(|f| is_age(&f.name) || f.sources().into_iter().any(is_age));
    // a birth date on both sides, as either side's column names it
    let birth = |f: &FieldSpec| {
        std::iter::once(f.name.as_str())
            .chain(f.sources())
            .any(|n| lexicon::concept(n) == Some("birth_date"))
    };
    let Some(k) = (0..out.left.len()).find(|&k| {
        let (l, r) = (&out.left[k], &out.right[k]);
        l.kind == FieldKind::Date && !l.other_party && (birth(l) || birth(r))
    }) else {
        return;
    };
    if compared {
        return;
    }
    let ages = [
        fields[0].iter().find(age_field),
        fields[1].iter().find(age_field),
    ];
    let (side, age) = match ages {
        [Some(a), None] if !fields[1].iter().any(|f| is_age(&f.name)) => (0, a),
        [None, Some(a)] if !fields[0].iter().any(|f| is_age(&f.name)) => (1, a),
        _ => return,
    };
    let births = [&out.left[k], &out.right[k]];
    let Some((day, share)) = reference_day(age, births[side], recs[side]) else {
        return;
    };
    let mut own = age.clone();
    own.kind = FieldKind::Number;
    own.years = true;
    if own.columns.is_empty() {
        own.columns = vec![age.name.clone()];
    }
    let mut read = births[1 - side].clone();
    if read.columns.is_empty() {
        read.columns = vec![read.name.clone()];
    }
    read.name = age.name.clone();
    read.kind = FieldKind::Number;
    read.years = true;
    read.nicknames = false;
    read.surname = false;
    read.person_name = false;
    read.age_on = Some(day.clone());
    read.birth_read = true;
    own.birth_read = true;
    let label = format!(
        "{} (age on {}-{}-{})",
        births[1 - side].source_label(),
        &day[..4],
        &day[4..6],
        &day[6..8]
    );
    let (l, r, pair) = if side == 0 {
        let pair = AlignedPair {
            left: age.source_label(),
            right: label,
            score: share,
        };
        (own, read, pair)
    } else {
        let pair = AlignedPair {
            left: label,
            right: age.source_label(),
            score: share,
        };
        (read, own, pair)
    };
    out.left.push(l);
    out.right.push(r);
    out.pairs.push(pair);
}

/// A date as a number that orders dates (31 days to each month, 372 to a year): only
/// which of two days comes first is asked of it.
fn ordinal(y: u32, m: u32, d: u32) -> u32 {
    y * 372 + (m - 1) * 31 + (d - 1)
}

/// The day (`YYYYMMDD`) on which the records' ages were read, and the share of the
/// records read whose age and birth date agree with it: each record holds the day within
/// the year from its birthday at that age, and the day is the middle of the stretch the
/// most records hold. `None` with fewer than [`MIN_READ`] records of both, or fewer than
/// [`AGREEING`] of them holding one day.
pub(super) fn reference_day(
    age: &FieldSpec,
    birth: &FieldSpec,
    recs: &[Record],
) -> Option<(String, f64)> {
    let step = (recs.len() / READ).max(1);
    // (ordinal, +1 where a record's year begins, -1 where it ends)
    let mut events: Vec<(u32, i32)> = Vec::new();
    for r in recs.iter().step_by(step) {
        let Ok(a) = raw_value(age, r).trim().parse::<f64>() else {
            continue;
        };
        if a.fract() != 0.0 || !(0.0..=f64::from(OLDEST_AGE)).contains(&a) {
            continue;
        }
        // a placeholder (`1900-01-01`) is no birth date
        let Some(born) = canonical_date(&raw_value(birth, r), birth.date_order)
            .filter(|b| b != PLACEHOLDER_DATE)
        else {
            continue;
        };
        let Some((y, m, d)) = whole_date(&born).filter(|&(_, m, d)| m <= 12 && d <= 31) else {
            continue;
        };
        let y = y + a as u32;
        events.push((ordinal(y, m, d), 1));
        events.push((ordinal(y + 1, m, d), -1));
    }
    let read = events.len() / 2;
    if read < MIN_READ {
        return None;
    }
    // a year ends before the next begins on the same day
    events.sort_unstable();
    let (mut held, mut best, mut at) = (0i32, 0i32, (0u32, 0u32));
    for (i, &(o, delta)) in events.iter().enumerate() {
        held += delta;
        if held > best {
            best = held;
            let next = events.get(i + 1).map_or(o, |e| e.0);
            at = (o, next);
        }
    }
    let share = f64::from(best) / read as f64;
    if share < AGREEING {
        return None;
    }
    let mid = at.0 + (at.1 - at.0) / 2;
    let (y, m, d) = (mid / 372, (mid % 372) / 31 + 1, mid % 31 + 1);
    // a day of the month it has (the 31-day months above make a 30 February): the same
    // ages, as no birthday falls between
    let last = match m {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    Some((format!("{y:04}{m:02}{:02}", d.min(last)), share))
}

#[cfg(test)]
mod tests {
    use super::super::align;
    use super::*;
    use crate::engine::fs::{MISSING, age_on, prepare};
    use serde_json::json;

    fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
    }

    /// A census of `n` people whose ages were read on 1 April 2020 (`misreported` of them
    /// a year off), and a register of the same people's birth dates alone.
    fn census_and_register(n: usize, misreported: usize) -> (Vec<Record>, Vec<Record>) {
        let (mut census, mut register) = (Vec::new(), Vec::new());
        for i in 0..n {
            let (y, m, d) = (1930 + (i * 7) % 80, 1 + (i * 5) % 12, 1 + (i * 11) % 28);
            let mut age = 2020 - y - usize::from((m, d) > (4, 1));
            if i < misreported {
                age += 1;
            }
            census.push(rec(json!({
                "id": format!("c{i}"), "first_name": format!("name{i}"),
                "last_name": format!("family{}", i % 37), "age": age,
                "date_of_birth": format!("{m:02}/{d:02}/{y}"),
                "city": format!("town{}", i % 23),
            })));
            register.push(rec(json!({
                "id": format!("s{i}"), "first_name": format!("name{i}"),
                "last_name": format!("family{}", i % 37),
                "date_of_birth": format!("{y}{m:02}{d:02}"),
                "city": format!("town{}", i % 23),
            })));
        }
        (census, register)
    }

    #[test]
    fn ages_meet_the_birth_dates_read_on_the_census_day() {
        let (census, register) = census_and_register(300, 6);
        for (l, r, side) in [(&census, &register, 0), (&register, &census, 1)] {
            let out = align(l, r, None).unwrap();
            let k = out
                .pairs
                .iter()
                .position(|p| p.left.contains("age") || p.right.contains("age"))
                .unwrap_or_else(|| panic!("no age aligned: {:?}", out.pairs));
            let (own, read) = if side == 0 {
                (&out.left[k], &out.right[k])
            } else {
                (&out.right[k], &out.left[k])
            };
            assert_eq!(own.age_on, None);
            let day = read.age_on.clone().unwrap();
            // the day gives every census record the age it reports (the first six
            // misreported)
            for (i, r) in census.iter().enumerate().skip(6) {
                let age = age_on(register[i]["date_of_birth"].as_str().unwrap(), &day);
                assert_eq!(age, r["age"].as_u64().map(|a| a as u32), "{i} on {day}");
            }
            let label = if side == 0 {
                &out.pairs[k].right
            } else {
                &out.pairs[k].left
            };
            assert!(label.contains("date_of_birth (age on 2020-0"), "{label}");
            // the register's birth date as an age, compared with the census's age
            let (fl, fr) = (&out.left, &out.right);
            let (a, b) = (prepare(fl, &l[10]), prepare(fr, &r[10]));
            assert_eq!(a.value(k).norm, b.value(k).norm);
            assert!(!a.value(k).norm.is_empty());
        }
    }

    #[test]
    fn an_age_against_a_birth_date_read_as_one_is_one_report() {
        use crate::engine::local::NameFields;
        let (mut census, mut register) = census_and_register(300, 0);
        // the register's year mistyped (`1928` for `1938`): the census's age, 82, and the
        // register's date read as an age, 92, differ as the dates do; the given name and
        // the town forgive the date, as they would without the age
        census[0].insert("age".into(), json!(82));
        census[0].insert("date_of_birth".into(), json!("03/08/1938"));
        register[0].insert("date_of_birth".into(), json!("19280308"));
        // no birth date in the census row: its age against the register's is a second
        // report, and 24 years apart they are two people
        census[1].insert("age".into(), json!(18));
        census[1].insert("date_of_birth".into(), json!(""));
        register[1].insert("date_of_birth".into(), json!("19780219"));
        // a birth date written for none is no age (not a man of 120 against every census
        // row)
        register[2].insert("date_of_birth".into(), json!("19000101"));
        let out = align(&census, &register, None).unwrap();
        let names = NameFields::detect(&out.left);
        assert_eq!(names.ages_read, names.ages, "{:?}", out.left);
        assert_eq!(names.ages.len(), 1);
        let pair = |i: usize| {
            let (a, b) = (
                prepare(&out.left, &census[i]),
                prepare(&out.right, &register[i]),
            );
            let v = crate::engine::fs::compare(&out.left, &a, &b);
            names.individual_conflict(&a, &b, &v)
        };
        assert!(
            !pair(0),
            "a mistyped year forgiven by the given name and town"
        );
        assert!(pair(1), "ages 24 years apart");
        assert!(!pair(2), "a placeholder birth date");
        let k = names.ages[0];
        assert_eq!(prepare(&out.right, &register[2]).value(k).norm, "");
        // nor does the model count the dates' disagreement twice: the age, 10 years
        // off beside the dates 10 years apart, weighs nothing; without a date on one
        // side it weighs against
        let mut model = crate::engine::fs::FsModel::prior(out.left.clone());
        model.individual = names.individual.clone();
        let age = names.ages[0];
        for (i, counted) in [(0, false), (1, true)] {
            let (a, b) = (
                prepare(&out.left, &census[i]),
                prepare(&out.right, &register[i]),
            );
            let v = crate::engine::fs::compare(&out.left, &a, &b);
            assert!(v[age] >= 3 && v[age] != MISSING, "{v:?}");
            let w = model.field_weights(&v)[age];
            assert_eq!(w < 0.0, counted, "{i}: {w}");
        }
    }

    #[test]
    fn ages_read_on_many_days_place_no_day() {
        // a quarter of the ages a year off: no one day holds nine records in ten
        let (census, register) = census_and_register(300, 75);
        let out = align(&census, &register, None).unwrap();
        assert!(
            out.right.iter().all(|f| f.age_on.is_none()),
            "{:?}",
            out.pairs
        );
        assert!(
            !out.pairs.iter().any(|p| p.left.contains("age")),
            "{:?}",
            out.pairs
        );
        // too few records to place a day by
        let (census, register) = census_and_register(MIN_READ - 1, 0);
        let out = align(&census, &register, None).unwrap();
        assert!(
            out.right.iter().all(|f| f.age_on.is_none()),
            "{:?}",
            out.pairs
        );
    }

    #[test]
    fn an_age_is_whole_years_since_the_birthday() {
        assert_eq!(age_on("19960106", "20200401"), Some(24));
        assert_eq!(age_on("19960402", "20200401"), Some(23));
        assert_eq!(age_on("19960401", "20200401"), Some(24));
        // a birth date without its day, or after the day, is no age
        assert_eq!(age_on("19960100", "20200401"), None);
        assert_eq!(age_on("20210101", "20200401"), None);
    }
}
