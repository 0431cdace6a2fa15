//! Dates as the fields read them: one string in any of the ways files write a date (a
//! month as a word, a two-digit year, a spreadsheet's day number, a midnight time a
//! database appends), or year, month and day columns, all to one `YYYYMMDD` form whose
//! unknown parts are zeros, so that [`crate::engine::fs::level`] reads them part by
//! part.

use super::DateOrder;

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

/// The date systems write for an unknown birth date (`1900-01-01`): a missing value, or
/// every record holding it would agree on it.
pub const PLACEHOLDER_DATE: &str = "19000101";

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
    use super::*;

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
}
