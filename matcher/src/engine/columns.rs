//! The comparison schema of a record set, typed from the data: which columns are compared,
//! how (free text, code, number, date), and which columns are one value written over
//! several columns.
//!
//! Real files split what is one value: a birth date as three integer columns
//! (`birth_year`, `birth_month`, `birth_day`), a given name over `first_name` and a mostly
//! empty `first_name_2`. Compared column by column, a month agrees by chance once in
//! twelve and a one-digit month is one edit from every other, so the parts look like
//! evidence where there is none; joined, they are one date or one name. This module finds
//! those groups by name and by value, and types every field from its values, so that the
//! same default configuration holds on files it has never seen.
//!
//! Everything here reads at most [`SAMPLE`] records: the schema of a million-record file
//! is inferred from its first batch.
//!
//! # Layout
//!
//! `stats` counts what each column's values are like (numbers, dates and their order,
//! names, known given names, the years of its dates); this file joins the columns that
//! are one value, types each field by those counts, and reads a given name and a birth
//! date from their values where no column's name says them ([`read_by_values`]).

use std::collections::HashMap;

use super::fs::{DateOrder, FieldKind, FieldSpec, is_id_field};
use super::{Record, value_text};

mod stats;

use stats::Stats;

/// Fewest years between the tenth and the ninetieth percentile of a column's dates for
/// them to be read as people's birth dates ([`read_by_values`]): a census's spread over
/// 62, tax forms' over 61; the filing dates of inventors' patents over 36.
const BIRTH_YEARS_SPREAD: u16 = 40;

/// Records read to infer the schema.
pub const SAMPLE: usize = 50_000;

/// Normalized values that mean "no value" (a missing value is never agreement).
pub fn is_missing_token(norm: &str) -> bool {
    matches!(
        norm,
        "na" | "n a"
            | "nan"
            | "null"
            | "none"
            | "nil"
            | "unknown"
            | "unk"
            | "missing"
            | "not available"
            | "not known"
            | "not given"
            | "none given"
            | "not stated"
            | "not provided"
            | "not specified"
            | "not recorded"
            | "not applicable"
            | "unspecified"
            | "undefined"
            | "no data"
            | "tbd"
    )
}

/// Whether a raw value is a placeholder for no value ([`is_missing_token`] once
/// normalized). Long values are never one (and are not normalized to find out).
pub fn is_missing_value(raw: &str) -> bool {
    raw.len() <= 16 && is_missing_token(&super::text::normalize(raw))
}

/// Which date part a column name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Year,
    Month,
    Day,
}

/// The stem and date part of a column name: `birth_year` → (`birth`, Year),
/// `dob_m` → (`dob`, Month), `yob` → (`b`, Year).
fn date_part(name: &str) -> Option<(String, Part)> {
    // read in English: `Geburtsjahr` is a `birth year`, `mois_naissance` a `month birth`
    let toks: Vec<String> = super::lexicon::in_english(super::text::split_identifier(name));
    let part_of = |t: &str| match t {
        // and as other languages write them (`Geburtsjahr` reads `birth year`,
        // `mois_naissance` `mois birth`)
        "year" | "yr" | "yyyy" | "y" | "jahr" | "annee" | "ano" | "anno" | "jaar" => {
            Some(Part::Year)
        }
        "month" | "mon" | "mm" | "m" | "mo" | "mth" | "mnth" | "monat" | "mois" | "mes"
        | "mese" | "maand" => Some(Part::Month),
        // (not `tag`, `dag`: English words, an `asset_tag` is no day)
        "day" | "dd" | "d" | "dy" | "jour" | "dia" | "giorno" => Some(Part::Day),
        _ => None,
    };
    match toks.as_slice() {
        [one] => match one.as_str() {
            "yob" | "byear" => Some(("b".into(), Part::Year)),
            "mob" | "bmonth" => Some(("b".into(), Part::Month)),
            "dayob" | "bday" => Some(("b".into(), Part::Day)),
            other => part_of(other).map(|p| (String::new(), p)),
        },
        many => {
            // the part is the first or the last token; the rest is the stem
            if let Some(p) = many.last().and_then(|t| part_of(t)) {
                let stem = many[..many.len() - 1].join("_");
                return Some((stem, p));
            }
            if let Some(p) = many.first().and_then(|t| part_of(t)) {
                let stem = many[1..].join("_");
                return Some((stem, p));
            }
            None
        }
    }
}

/// Whether a column's name says it holds a whole date (`birth_date`, `DOB`, `BirthDt`,
/// `cust_dob`, `date_of_hire`, `update_dt`): not a part of one (`dob_month`,
/// `birth_year`), nor a name that only begins like one (`birth_weight`, `born_state`).
pub(crate) fn date_named(name: &str) -> bool {
    date_part(name).is_none()
        && (super::lexicon::concept_exact(name) == Some("birth_date")
            || super::lexicon::in_english(super::text::split_identifier(name))
                .iter()
                // `Sterbedatum`, `geboortedatum`: a date of something in one word
                .any(|t| matches!(t.as_str(), "date" | "dt" | "dob") || t.ends_with("datum")))
}

/// The stem of a column that continues another (`first_name_2` → `first_name`,
/// `address2` → `address`), `None` for a column without a trailing number.
fn continuation_stem(name: &str) -> Option<(String, u32)> {
    let t = name.trim();
    let digits = t.len() - t.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 2 {
        return None;
    }
    let (stem, num) = t.split_at(t.len() - digits);
    let stem = stem.trim_end_matches(['_', '-', ' ', '.']);
    if stem.is_empty() {
        return None;
    }
    Some((stem.to_ascii_lowercase(), num.parse().ok()?))
}

/// Whether a column name names record identifiers: `id`, `rec_id`, `mention_id`,
/// `recordId`, `uuid`, `key`, or no name at all (the index column a data frame writes).
pub fn is_id_name(name: &str) -> bool {
    let t = name.trim().to_ascii_lowercase();
    if t.is_empty() || t == "unnamed: 0" || super::fs::is_id_field(&t) {
        return true;
    }
    let toks = super::text::split_identifier(name);
    toks.last()
        .is_some_and(|l| matches!(l.as_str(), "id" | "uid" | "uuid" | "key"))
}

/// Whether a column name names a kind of data the lexicon knows (a name, a birth date, a
/// place; `fname_c1`, the first of a name's numbered columns, too), so that the column is
/// no record id.
pub fn names_data(name: &str) -> bool {
    let stem = continuation_stem(name).map_or_else(|| name.to_string(), |(s, _)| s);
    let mut toks = super::text::split_identifier(&stem);
    if super::lexicon::concept_of_tokens(&toks).is_some() || date_part(name).is_some() {
        return true;
    }
    // a trailing one- or two-letter part (`fname_c`, `name_a`) names a copy of the column
    while toks.len() > 1 && toks.last().is_some_and(|l| l.len() <= 2) {
        toks.pop();
    }
    super::lexicon::concept_of_tokens(&toks).is_some()
}

/// The comparison schema for a set of records: every non-id attribute, typed from its
/// values, but for columns that copy others ([`super::derived`]); date parts joined into
/// one date field; a column continued by mostly empty numbered columns (`first_name`,
/// `first_name_2`) joined into one text field.
pub fn infer_fields<'a>(records: impl IntoIterator<Item = &'a Record> + Clone) -> Vec<FieldSpec> {
    infer(records, true)
}

/// [`infer_fields`] keeping the columns that copy others (a column map names the columns
/// to compare, copies or not).
pub fn infer_fields_all<'a>(
    records: impl IntoIterator<Item = &'a Record> + Clone,
) -> Vec<FieldSpec> {
    infer(records, false)
}

fn infer<'a>(
    records: impl IntoIterator<Item = &'a Record> + Clone,
    drop_copies: bool,
) -> Vec<FieldSpec> {
    let mut order: Vec<String> = Vec::new();
    let mut stats: HashMap<String, Stats> = HashMap::new();
    for r in records.clone().into_iter().take(SAMPLE) {
        for (k, v) in r {
            if is_id_field(k) {
                continue;
            }
            let e = stats.entry(k.clone()).or_insert_with(|| {
                order.push(k.clone());
                Stats::default()
            });
            e.add(&value_text(v));
        }
    }
    let mut copies = super::derived::Copies::new(order.len());
    let rows = if drop_copies {
        super::derived::Copies::rows(order.len())
    } else {
        0
    };
    for r in records.into_iter().take(rows) {
        let values: Vec<String> = order
            .iter()
            .map(|k| r.get(k).map(value_text).unwrap_or_default())
            .collect();
        copies.add(values.iter().map(String::as_str));
    }
    let order = without_copies(order, &copies);
    fields_from(&order, &stats)
}

/// `order` without the columns that copy others ([`super::derived`]).
fn without_copies(order: Vec<String>, copies: &super::derived::Copies) -> Vec<String> {
    let drop = copies.copies();
    order
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, c)| c)
        .collect()
}

/// [`infer_fields`] from header and rows (a CSV read as strings; `skip`: the id column).
/// The columns are taken in the order of their names, as a record's keys come, so that a
/// file deduplicated from disk and the same rows sent as records (`eval`, the API) get
/// the same fields.
pub fn infer_fields_rows<'a, R>(headers: &[String], skip: usize, rows: R) -> Vec<FieldSpec>
where
    R: IntoIterator<Item = &'a csv::StringRecord>,
{
    let mut order: Vec<String> = Vec::new();
    let mut stats: HashMap<String, Stats> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if i != skip && !is_id_field(h) && !stats.contains_key(h) {
            order.push(h.clone());
            stats.insert(h.clone(), Stats::default());
        }
    }
    order.sort();
    // the column of each name (the last one of that name, as in a record)
    let at: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut copies = super::derived::Copies::new(order.len());
    for (n, row) in rows.into_iter().take(SAMPLE).enumerate() {
        for (i, v) in row.iter().enumerate() {
            if i == skip {
                continue;
            }
            if let Some(e) = headers.get(i).and_then(|h| stats.get_mut(h)) {
                e.add(v);
            }
        }
        if n < super::derived::Copies::rows(order.len()) {
            copies.add(order.iter().map(|h| {
                at.get(h.as_str())
                    .and_then(|&i| row.get(i))
                    .unwrap_or_default()
            }));
        }
    }
    let order = without_copies(order, &copies);
    fields_from(&order, &stats)
}

fn fields_from(order: &[String], stats: &HashMap<String, Stats>) -> Vec<FieldSpec> {
    let get = |n: &str| stats.get(n).cloned().unwrap_or_default();
    let mut used: Vec<bool> = vec![false; order.len()];
    let mut out: Vec<(usize, FieldSpec)> = Vec::new();

    // date parts: a year column and a month and/or day column of one stem
    let mut by_stem: HashMap<String, Vec<(Part, usize)>> = HashMap::new();
    for (i, name) in order.iter().enumerate() {
        if let Some((stem, part)) = date_part(name) {
            let s = get(name);
            let fits = match part {
                Part::Year => s.most(s.year),
                Part::Month => s.most(s.month),
                Part::Day => s.most(s.day),
            };
            if fits && s.filled > 0 {
                by_stem.entry(stem).or_default().push((part, i));
            }
        }
    }
    let mut stems: Vec<(&String, &Vec<(Part, usize)>)> = by_stem.iter().collect();
    stems.sort();
    for (stem, parts) in stems {
        let find = |p: Part| parts.iter().find(|(q, _)| *q == p).map(|x| x.1);
        let (Some(y), m, d) = (find(Part::Year), find(Part::Month), find(Part::Day)) else {
            continue;
        };
        if m.is_none() && d.is_none() {
            continue;
        }
        let cols: Vec<String> = [Some(y), m, d]
            .into_iter()
            .map(|c| c.map(|c| order[c].clone()).unwrap_or_default())
            .collect();
        for c in [Some(y), m, d].into_iter().flatten() {
            used[c] = true;
        }
        let name = if stem.is_empty() {
            "date".to_string()
        } else {
            format!("{stem}_date")
        };
        out.push((
            y,
            FieldSpec {
                name,
                kind: FieldKind::Date,
                columns: cols,
                date_order: DateOrder::Parts,
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
            },
        ));
    }

    // date parts the names do not tell (`by`, `bm`, `bd`): three adjacent integer columns
    // of a year, a month and a day, in the orders dates are written (year first, day
    // first, month first), whose names the lexicon knows as nothing else
    let plain = |used: &[bool], i: usize| {
        !used[i] && date_part(&order[i]).is_none() && !names_data(&order[i])
    };
    let fits = |i: usize, p: Part| {
        let s = get(&order[i]);
        s.filled > 0
            && match p {
                Part::Year => s.most(s.year),
                Part::Month => s.most(s.month),
                // a day column holds days past 12 (else it is one more month column)
                Part::Day => s.most(s.day) && !s.most(s.month),
            }
    };
    let mut i = 0;
    while i + 2 < order.len() {
        let (a, b, c) = (i, i + 1, i + 2);
        let orders = [
            [Part::Year, Part::Month, Part::Day],
            [Part::Day, Part::Month, Part::Year],
            [Part::Month, Part::Day, Part::Year],
        ];
        let found = (plain(&used, a) && plain(&used, b) && plain(&used, c))
            .then(|| {
                orders
                    .into_iter()
                    .find(|o| fits(a, o[0]) && fits(b, o[1]) && fits(c, o[2]))
            })
            .flatten();
        let Some(o) = found else {
            i += 1;
            continue;
        };
        let at = |p: Part| [a, b, c][o.iter().position(|&q| q == p).unwrap_or(0)];
        let (y, m, d) = (at(Part::Year), at(Part::Month), at(Part::Day));
        for k in [a, b, c] {
            used[k] = true;
        }
        // named by what the three names share: `by`, `bm`, `bd` make `b_date` (b for birth,
        // as in `yob`)
        let lower: Vec<String> = [a, b, c].map(|k| order[k].to_ascii_lowercase()).into();
        let shared = lower[0]
            .chars()
            .zip(lower[1].chars())
            .zip(lower[2].chars())
            .take_while(|((x, y), z)| x == y && y == z)
            .map(|((x, _), _)| x)
            .collect::<String>();
        let shared = shared.trim_end_matches(['_', '-', '.', ' ']);
        out.push((
            a,
            FieldSpec {
                name: if shared.is_empty() {
                    "date".to_string()
                } else {
                    format!("{shared}_date")
                },
                kind: FieldKind::Date,
                columns: vec![order[y].clone(), order[m].clone(), order[d].clone()],
                date_order: DateOrder::Parts,
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
            },
        ));
        i += 3;
    }

    // continued columns: `x` followed by mostly empty `x_2`, `x_3`
    for (i, name) in order.iter().enumerate() {
        if used[i] {
            continue;
        }
        // the unused columns `<stem>_<k>`, k >= 2, other than this one
        let continuations = |stem: &str| -> Vec<usize> {
            order
                .iter()
                .enumerate()
                .filter(|(j, n)| {
                    *j != i
                        && !used[*j]
                        && continuation_stem(n).is_some_and(|(s, k)| s == stem && k >= 2)
                })
                .map(|(j, _)| j)
                .collect()
        };
        let mut conts = continuations(&name.to_ascii_lowercase());
        // `x_1` + `x_2` (no bare `x`): the first numbered column is the base
        if conts.is_empty()
            && let Some((stem, 1)) = continuation_stem(name)
        {
            conts = continuations(&stem);
        }
        if conts.is_empty() {
            continue;
        }
        let b = get(&order[i]);
        let text = b.kind().0 == FieldKind::Text;
        // the continuations carry little: mostly empty, text like the base
        let sparse = conts.iter().all(|&c| {
            let s = get(&order[c]);
            s.kind().0 == FieldKind::Text && s.filled * 10 <= s.seen.max(1) * 4
        });
        if !(text && sparse) {
            continue;
        }
        let mut cols = vec![order[i].clone()];
        cols.extend(conts.iter().map(|&c| order[c].clone()));
        used[i] = true;
        for &c in &conts {
            used[c] = true;
        }
        // `fname_c1` + `fname_c2` make `fname` (a trailing short part names the copy)
        let name = continuation_stem(&order[i])
            .map(|(s, _)| {
                let trimmed = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                match trimmed.strip_suffix(['_', '-', '.']) {
                    Some(base) if !base.is_empty() && s.len() - trimmed.len() <= 2 => {
                        base.to_string()
                    }
                    _ => s,
                }
            })
            .unwrap_or_else(|| order[i].clone());
        out.push((
            i,
            FieldSpec {
                name,
                kind: FieldKind::Text,
                columns: cols,
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
            },
        ));
    }

    for (i, name) in order.iter().enumerate() {
        if used[i] {
            continue;
        }
        let stats = get(name);
        let (mut kind, mut date_order) = stats.kind();
        // an age is a quantity, not a code: two files a year apart (a census and a tax
        // year) give one person 41 and 42, a close agreement, not a different value
        let age = super::lexicon::concept(name) == Some("age");
        if kind == FieldKind::Code && age {
            kind = FieldKind::Number;
        }
        // a date column of whole numbers is a spreadsheet's day numbers (a date cell
        // formatted as a number): compared as numbers, a day typed wrong is a different
        // code and a birth date one day apart as far as a stranger's. By name only: a
        // postcode or an amount is a whole number of the same size
        if kind == FieldKind::Code && date_named(name) && stats.most(stats.serial) {
            kind = FieldKind::Date;
            date_order = DateOrder::Serial;
        }
        out.push((
            i,
            FieldSpec {
                name: name.clone(),
                kind,
                columns: Vec::new(),
                date_order,
                nicknames: false,
                surname: false,
                categorical: false,
                person_name: false,
                name_part: None,
                family_first: false,
                other_party: false,
                age_on: None,
                birth_read: false,
                // an age is compared in years: 4 and 5 are a year apart as 40 and 41 are
                years: kind == FieldKind::Number && age,
            },
        ));
    }
    out.sort_by_key(|(i, _)| *i);
    read_by_values(&mut out, stats);
    // each column's concept, and whether its name makes it another party's
    let named: Vec<(Option<&str>, bool)> = out
        .iter()
        .map(|(_, f)| {
            let party = super::lexicon::other_party(&f.name).is_some();
            (super::lexicon::concept(&f.name), party)
        })
        .collect();
    // a column named as another party's (`spouse_first_name`) is theirs where the record
    // has its own name or identity beside it (`first_name`); where every such column
    // names one party (`child_first_name`, `child_dob` in a birth register), that party
    // is the record's
    let own_identity = out.iter().zip(&named).any(|((_, f), &(concept, party))| {
        !party
            && match concept {
                Some(c) => matches!(
                    c,
                    "given_name"
                        | "surname"
                        | "full_name"
                        | "birth_date"
                        | "ssn"
                        | "email"
                        | "organisation"
                ),
                None => f.name.to_lowercase().contains("name"),
            }
    });
    out.into_iter()
        .zip(named)
        .map(|((_, mut f), (concept, party))| {
            // a spouse's or a guardian's given name is no given name of the record's
            f.other_party = own_identity && party;
            let own = !f.other_party;
            f.nicknames = own && f.kind == FieldKind::Text && concept == Some("given_name");
            f.surname = own && f.kind == FieldKind::Text && concept == Some("surname");
            f.categorical = f.columns.is_empty() && get(&f.name).categorical();
            // a name column of no other concept (not a given name's or a surname's
            // alone, not a firm's, a street's or a town's: `James St` holds a given name
            // too) whose values are people's whole names
            f.person_name = own
                && f.kind == FieldKind::Text
                && f.columns.is_empty()
                && f.name.to_lowercase().contains("name")
                && matches!(concept, None | Some("full_name"))
                && get(&f.name).person_names();
            f
        })
        .collect()
}

/// A person's given name and birth date read from the values where no column's name
/// says them (`col3`, `imie`, `F2`): a census so named lost its given name and EM took
/// each household for one person (F1 0.32). A text column whose values are given names
/// ([`Stats::given_names`], the most such values if several) is read as `given_name`;
/// then, in a file of people, a date column whose dates spread over
/// [`BIRTH_YEARS_SPREAD`] years or more (the widest) as `birth_date`, unless its name
/// says what it is the date of (`filing_date`, an inventor file's). The field keeps its
/// column (`given_name` from `col3`); nothing is read so where a column's name states
/// the concept, or a field is already named so.
fn read_by_values(out: &mut [(usize, FieldSpec)], stats: &HashMap<String, Stats>) {
    let concepts: Vec<Option<&str>> = out
        .iter()
        .map(|(_, f)| super::lexicon::concept(&f.name))
        .collect();
    // (a field already named `given_name` or `birth_date` reads as what it is named)
    let stated = |cs: &[&str]| concepts.iter().any(|c| c.is_some_and(|c| cs.contains(&c)));
    // a birth year or an age says when the person was born: a date beside them is
    // another event's (a death, in a register)
    let (named_person, named_birth) = (
        stated(&["given_name", "full_name"]),
        stated(&["birth_date", "birth_year", "age"]),
    );
    // (field, its values' statistics) of each column whose name says nothing, by kind
    // (read from one column: parts joined or continued are named by their columns)
    let unnamed = |kind: FieldKind| -> Vec<(usize, &Stats)> {
        (0..out.len())
            .filter(|&k| {
                let f = &out[k].1;
                concepts[k].is_none()
                    && f.columns.is_empty()
                    && f.kind == kind
                    && !is_id_name(&f.name)
            })
            .filter_map(|k| Some((k, stats.get(&out[k].1.name)?)))
            .collect()
    };
    let texts = unnamed(FieldKind::Text);
    // a column named as a date of something (`filing_date`, `visit_dt`) is that date;
    // parts of a date whose names share no word (`F5`, `F6`, `F7` make `f_date`) are one
    // date of no stated kind, its years the year column's
    let mut dates = unnamed(FieldKind::Date);
    dates.retain(|(k, _)| !date_named(&out[*k].1.name));
    dates.extend(
        out.iter()
            .enumerate()
            .filter(|(k, (_, f))| {
                concepts[*k].is_none()
                    && f.kind == FieldKind::Date
                    && f.date_order == DateOrder::Parts
                    && f.name
                        .strip_suffix("date")
                        .is_some_and(|stem| stem.len() <= 2)
            })
            .filter_map(|(k, (_, f))| Some((k, stats.get(f.columns.first()?)?))),
    );
    let read_as = |f: &mut FieldSpec, name: &str| {
        let own = std::mem::replace(&mut f.name, name.to_string());
        if f.columns.is_empty() {
            f.columns = vec![own];
        }
    };
    let mut person = named_person;
    if !person {
        let given = texts
            .iter()
            .filter(|(_, st)| st.given_names())
            .max_by_key(|(k, st)| (st.given_alone, std::cmp::Reverse(*k)));
        if let Some(&(k, _)) = given {
            read_as(&mut out[k].1, "given_name");
            person = true;
        }
    }
    if person && !named_birth {
        let born = dates
            .iter()
            .filter_map(|(k, st)| Some((st.years_spread()?, std::cmp::Reverse(*k))))
            .filter(|&(spread, _)| spread >= BIRTH_YEARS_SPREAD)
            .max();
        if let Some((_, std::cmp::Reverse(k))) = born {
            read_as(&mut out[k].1, "birth_date");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recs(rows: &[serde_json::Value]) -> Vec<Record> {
        rows.iter()
            .map(|v| v.as_object().cloned().unwrap())
            .collect()
    }

    /// What forms and exports write for no value is no value, however cased or
    /// punctuated; a value that only holds such a word is a value.
    #[test]
    fn the_words_written_for_no_value_are_missing() {
        for raw in [
            "N/A",
            "#N/A",
            "NULL",
            "nan",
            "Unknown",
            "Not Given",
            "NOT STATED",
            "not provided",
            "Not specified",
            "not recorded",
            "Not Applicable",
            "unspecified",
            "undefined",
            "No data",
            "None given",
            "TBD",
        ] {
            assert!(is_missing_value(raw), "{raw}");
        }
        for raw in [
            "Nan Jones",
            "Given",
            "Stated Income",
            "Undefined Behaviour",
            "no data plan",
            "Nana",
            "Data",
        ] {
            assert!(!is_missing_value(raw), "{raw}");
        }
        let given = FieldSpec {
            nicknames: true,
            ..FieldSpec::new("first_name", FieldKind::Text)
        };
        assert_eq!(super::super::fs::normalize_field(&given, "Not Given").0, "");
    }

    /// An age is a number: 41 and 42 (a census and a tax year apart) agree closely,
    /// where a code one digit apart would be another value. A column of small integers
    /// with no such name stays a code.
    #[test]
    fn an_age_is_compared_as_a_number() {
        let rows: Vec<serde_json::Value> = (0..40)
            .map(|i| json!({"age": 20 + i, "ward": 10 + i % 7}))
            .collect();
        let f = infer_fields(recs(&rows).iter());
        let kind = |n: &str| f.iter().find(|s| s.name == n).map(|s| s.kind);
        assert_eq!(kind("age"), Some(FieldKind::Number));
        assert_eq!(kind("ward"), Some(FieldKind::Code));
        // compared in years
        let years = |n: &str| f.iter().find(|s| s.name == n).is_some_and(|s| s.years);
        assert!(years("age") && !years("ward"));
        let age = f.iter().find(|s| s.name == "age").cloned().unwrap();
        let p = |v: &str| {
            super::super::fs::prepare(std::slice::from_ref(&age), &recs(&[json!({"age": v})])[0])
        };
        let lv = |a: &str, b: &str| {
            super::super::fs::compare(std::slice::from_ref(&age), &p(a), &p(b))[0]
        };
        assert_eq!(lv("41", "42"), 1, "a year apart: close");
        assert_eq!(lv("4", "5"), 1, "a child a year apart: as close");
    }

    #[test]
    fn id_columns_and_data_columns_are_told_apart_by_name() {
        for id in [
            "id",
            "rec_id",
            "mention_id",
            "recordId",
            "uuid",
            "",
            "Unnamed: 0",
        ] {
            assert!(is_id_name(id), "{id}");
        }
        for data in [
            "fname_c1",
            "lname_c2",
            "first_name",
            "surname",
            "dob",
            "zip",
        ] {
            assert!(!is_id_name(data), "{data}");
            assert!(names_data(data), "{data}");
        }
        assert!(!names_data("rid") && !is_id_name("rid"));
        // a first column of the system's keys is no house number
        for key in ["CUST_NBR", "MEMBER_NUM", "customer_number"] {
            assert!(!names_data(key), "{key}");
        }
    }

    /// A file sorted by birth date keeps the spread of its years past the first ones
    /// kept, and a two-digit year (whose century is a guess) adds none.
    #[test]
    fn the_spread_of_a_columns_years_is_read_over_the_whole_column() {
        let mut st = Stats::default();
        for i in 0..20_000u32 {
            st.add(&format!("{}-06-15", 1920 + i * 90 / 20_000));
        }
        assert!(st.years.len() < stats::YEARS_KEPT, "{}", st.years.len());
        let spread = st.years_spread().unwrap_or(0);
        assert!((70..=73).contains(&spread), "{spread}");
        let mut st = Stats::default();
        for i in 0..100u32 {
            st.add(&format!("15/06/{:02}", (26 + i % 6) % 100));
        }
        assert_eq!(st.years_spread(), None);
    }

    /// Columns whose names say nothing (`col1`, `F5`): the given name and the birth date
    /// are read from their values, a date of events is not, nor anything where a name
    /// states a given name or a birth date.
    #[test]
    fn a_given_name_and_a_birth_date_are_read_from_the_values_where_names_say_nothing() {
        let given = [
            "james",
            "mary",
            "john",
            "patricia",
            "robert",
            "jennifer",
            "michael",
            "linda",
            "william",
            "elizabeth",
        ];
        let rows: Vec<serde_json::Value> = (0..60)
            .map(|i| {
                json!({
                    "col1": given[i % 10],
                    "col2": format!("sur{}", i % 17),
                    "col3": format!("{}-0{}-1{}", 1930 + i, 1 + i % 9, i % 10),
                    "col4": format!("{}-0{}-1{}", 2018 + i % 5, 1 + i % 9, i % 10),
                    "F5": 1930 + i, "F6": 1 + i % 12, "F7": 13 + i % 15,
                })
            })
            .collect();
        let f = infer_fields(recs(&rows).iter());
        let by_name = |n: &str| f.iter().find(|s| s.name == n);
        let given_name = by_name("given_name").expect("given names read");
        assert_eq!(given_name.columns, vec!["col1"]);
        assert!(given_name.nicknames, "compared as a given name");
        // the widest spread of birth years of the two (`col3` and the parts of `F`)
        let born = by_name("birth_date").expect("birth dates read");
        assert_eq!(born.kind, FieldKind::Date);
        assert!(
            by_name("col4").is_some(),
            "dates of events stay what they were"
        );
        assert!(by_name("col2").is_some(), "surnames are no given names");
        // a column named as a date of something is that date; a named given name is
        // the given name
        let rows: Vec<serde_json::Value> = (0..60)
            .map(|i| {
                json!({
                    "name_first": given[i % 10], "col1": given[(i + 3) % 10],
                    "filing_date": format!("{}-0{}-1{}", 1930 + i, 1 + i % 9, i % 10),
                })
            })
            .collect();
        let f = infer_fields(recs(&rows).iter());
        let names: Vec<&str> = f.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["col1", "filing_date", "name_first"]);
    }

    #[test]
    fn date_parts_become_one_date_and_split_names_one_name() {
        let mut rows = Vec::new();
        for i in 0..40 {
            rows.push(json!({
                "id": i, "first_name": "anna", "first_name_2": if i % 5 == 0 { "marie" } else { "" },
                "birth_year": 1950 + i, "birth_month": 1 + i % 12, "birth_day": 1 + i % 28,
                "zip": format!("{:05}", 10000 + i), "price": format!("{}.99", i),
                "seen": format!("{:02}/{:02}/19{}", 1 + i % 12, 13 + i % 15, 50 + i)
            }));
        }
        let f = infer_fields(recs(&rows).iter());
        let names: Vec<(&str, FieldKind)> = f.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        // (a JSON record's keys come sorted; a joined field sits where its first column was)
        assert_eq!(
            names,
            vec![
                ("birth_date", FieldKind::Date),
                ("first_name", FieldKind::Text),
                ("price", FieldKind::Number),
                ("seen", FieldKind::Date),
                ("zip", FieldKind::Code),
            ]
        );
        assert_eq!(f[0].columns, vec!["birth_year", "birth_month", "birth_day"]);
        assert_eq!(f[1].columns, vec!["first_name", "first_name_2"]);
        assert_eq!(f[3].date_order, DateOrder::Mdy);
        // the parts as an enterprise system abbreviates them
        for (y, m, d) in [
            ("BIRTH_YR", "BIRTH_MO", "BIRTH_DY"),
            ("dob_yr", "dob_mth", "dob_dd"),
            // and in French and Spanish: a birth's year, month and day
            ("annee_naissance", "mois_naissance", "jour_naissance"),
            (
                "ano_de_nacimiento",
                "mes_de_nacimiento",
                "dia_de_nacimiento",
            ),
        ] {
            let rows: Vec<_> = (0..40)
                .map(|i| json!({y: 1950 + i, m: 1 + i % 12, d: 1 + i % 28}))
                .collect();
            let f = infer_fields(recs(&rows).iter());
            assert_eq!(f.len(), 1, "{y} {m} {d}: {f:?}");
            assert_eq!(f[0].kind, FieldKind::Date);
            assert_eq!(f[0].columns.len(), 3);
            assert_eq!(
                super::super::lexicon::concept(&f[0].name),
                Some("birth_date"),
                "{y}: {}",
                f[0].name
            );
        }
        // the same dates with two-digit years, day first and month first; a column of
        // versions is no date
        for (dob, order) in [
            ("{d}.{m}.{y}", DateOrder::Dmy),
            ("{m}/{d}/{y}", DateOrder::Mdy),
        ] {
            let rows: Vec<_> = (0..40)
                .map(|i| {
                    let (d, m, y) = (13 + i % 15, 1 + i % 12, format!("{:02}", (50 + i) % 100));
                    let dob = dob
                        .replace("{d}", &d.to_string())
                        .replace("{m}", &m.to_string());
                    json!({"dob": dob.replace("{y}", &y), "version": format!("1.{}.{}", i % 3, i)})
                })
                .collect();
            let f = infer_fields(recs(&rows).iter());
            assert_eq!((f[0].kind, f[0].date_order), (FieldKind::Date, order));
            assert_eq!(f[1].kind, FieldKind::Code);
        }
    }

    /// A column mixing year-first dates with month-first slashed ones reads the slashed
    /// ones month first: the year-first majority says nothing of their order.
    #[test]
    fn slashed_dates_among_year_first_ones_keep_their_own_order() {
        let rows: Vec<_> = (0..40)
            .map(|i| {
                let (m, d) = (1 + i % 12, 13 + i % 15);
                let dob = if i % 4 == 0 {
                    format!("{m}/{d}/1970")
                } else {
                    format!("1970-{m:02}-{d:02}")
                };
                json!({ "dob": dob })
            })
            .collect();
        let f = infer_fields(recs(&rows).iter());
        assert_eq!(
            (f[0].kind, f[0].date_order),
            (FieldKind::Date, DateOrder::Mdy)
        );
        let date = |raw: &str| super::super::fs::canonical_date(raw, f[0].date_order);
        assert_eq!(date("9/7/1997").as_deref(), Some("19970907"));
        assert_eq!(date("1997-09-15").as_deref(), Some("19970915"));
    }

    /// A name column of people's whole names is one (compared word by word); a column of
    /// restaurants' or firms' names, a given name's column, or one of codes is not.
    #[test]
    fn a_column_of_peoples_whole_names_is_found_from_its_values() {
        let given = [
            "James", "Mary", "Robert", "Linda", "Michael", "Susan", "David",
        ];
        let rows: Vec<_> = (0..60)
            .map(|i| {
                json!({
                    "name": format!("{} Q{}son", given[i % 7], "x".repeat(1 + i % 5)),
                    "venue": format!("the {} grill", ["blue", "red", "oak", "pine"][i % 4]),
                    "company_name": format!("{} holdings", given[i % 7]),
                    "street_name": format!("{} st", given[i % 7]),
                    "first_name": given[i % 7],
                })
            })
            .collect();
        let f = infer_fields(recs(&rows).iter());
        let person = |n: &str| f.iter().find(|x| x.name == n).map(|x| x.person_name);
        assert_eq!(person("name"), Some(true));
        assert_eq!(person("venue"), Some(false));
        assert_eq!(person("company_name"), Some(false));
        assert_eq!(person("street_name"), Some(false));
        assert_eq!(person("first_name"), Some(false));
        // restaurants' names: two to four words, but hardly ever a given name
        let places = [
            "the oyster bar",
            "blue heron cafe",
            "golden dragon",
            "la trattoria",
        ];
        let rows: Vec<_> = (0..60)
            .map(|i| json!({ "name": format!("{} {}", places[i % 4], ["north", "south", "east"][i % 3]) }))
            .collect();
        assert!(!infer_fields(recs(&rows).iter())[0].person_name);
        // people's names of other countries and scripts are people's names too
        let names = [
            "Jürgen Weiß",
            "Søren Ødegård",
            "Łukasz Nowak",
            "María José García",
        ];
        let rows: Vec<_> = (0..60).map(|i| json!({ "name": names[i % 4] })).collect();
        assert!(infer_fields(recs(&rows).iter())[0].person_name);
    }

    /// `Jul 22, 1922`, `22 July 1922`, `3rd Mar 1980`: a date whose month is a word is a
    /// date, compared part by part; a column of month names alone, or of street names
    /// holding one, is not.
    #[test]
    fn dates_with_the_month_written_as_a_word_are_dates() {
        let months = ["Jan", "February", "mar.", "Sept", "may", "JUNE"];
        let mut rows = Vec::new();
        for i in 0..30 {
            let m = months[i % months.len()];
            let born = match i % 3 {
                0 => format!("{m} {}, {}", 1 + i, 1930 + i),
                1 => format!("{} {m} {}", 1 + i, 1930 + i),
                _ => format!("{}rd-{m}-{}", 1 + i % 9, 1930 + i),
            };
            rows.push(json!({
                "born": born, "month": m, "street": format!("{} may street", i + 1),
            }));
        }
        let f = infer_fields(recs(&rows).iter());
        let kinds: Vec<(&str, FieldKind)> = f.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("born", FieldKind::Date),
                ("month", FieldKind::Text),
                ("street", FieldKind::Text),
            ]
        );
        let date = |raw: &str| super::super::fs::canonical_date(raw, f[0].date_order);
        assert_eq!(date("Jul 22, 1922").as_deref(), Some("19220722"));
        assert_eq!(date("22 july 1922").as_deref(), Some("19220722"));
        assert_eq!(date("3rd-Mar-1980").as_deref(), Some("19800303"));
        assert_eq!(date("Sept 1980").as_deref(), Some("19800900"));
        // a two-digit year is not read; the month and day still are
        assert_eq!(date("22-Jul-22").as_deref(), Some("00000722"));
        // a word that names no month, or two months: only the numbers are read
        assert_eq!(date("Julius 22, 1922"), None);
        assert_eq!(date("Jul Aug 1922").as_deref(), Some("19220000"));
        // the numeric forms are read as before
        assert_eq!(date("1922-07-22").as_deref(), Some("19220722"));
    }

    /// Birth dates of historical records (`1630-08-01`, `14/03/1685`, `3 May 1702`) are
    /// dates: written out with their parts apart, a date is one whatever its century.
    /// Eight digits run together before 1800, and years alone, stay codes.
    #[test]
    fn dates_written_out_before_1800_are_dates() {
        let mut rows = Vec::new();
        for i in 0..30 {
            rows.push(json!({
                "dob": format!("{}-{:02}-{:02}", 1600 + 7 * i, 1 + i % 12, 1 + i % 28),
                "baptised": format!("{:02}/{:02}/{}", 13 + i % 15, 1 + i % 12, 1650 + i),
                "buried": format!("{} May {}", 1 + i % 28, 1700 + i),
                "run": format!("{}{:02}{:02}", 1600 + 7 * i, 1 + i % 12, 1 + i % 28),
            }));
        }
        let f = infer_fields(recs(&rows).iter());
        let kinds: Vec<(&str, FieldKind)> = f.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("baptised", FieldKind::Date),
                ("buried", FieldKind::Date),
                ("dob", FieldKind::Date),
                ("run", FieldKind::Code),
            ]
        );
        let date = |k: usize, raw: &str| super::super::fs::canonical_date(raw, f[k].date_order);
        assert_eq!(date(2, "1630-08-01").as_deref(), Some("16300801"));
        assert_eq!(date(0, "14/03/1685").as_deref(), Some("16850314"));
    }

    /// A date column a spreadsheet wrote as day numbers (`18192`, `18192.0` where pandas
    /// wrote a gap) is a date read by the spreadsheet's calendar; whole numbers of the
    /// same size under another name (a postcode, a count of days, a name that only begins
    /// like a date's: `birth_weight`) stay codes, and so does a date column of years.
    #[test]
    fn a_date_column_of_day_numbers_is_a_date() {
        let mut rows = Vec::new();
        for i in 0..40u32 {
            let serial = 9000 + i * 701;
            rows.push(json!({
                "BirthDt": if i % 7 == 3 { format!("{serial}.0") } else { serial.to_string() },
                "zip": (10000 + i * 1307).to_string(),
                "days_open": serial.to_string(),
                "hire_date": (1950 + i).to_string(),
                "birth_weight": (2500 + i * 37).to_string(),
            }));
        }
        let f = infer_fields(recs(&rows).iter());
        let kinds: Vec<(&str, FieldKind, DateOrder)> = f
            .iter()
            .map(|s| (s.name.as_str(), s.kind, s.date_order))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("BirthDt", FieldKind::Date, DateOrder::Serial),
                ("birth_weight", FieldKind::Code, DateOrder::default()),
                ("days_open", FieldKind::Code, DateOrder::default()),
                ("hire_date", FieldKind::Code, DateOrder::default()),
                ("zip", FieldKind::Code, DateOrder::default()),
            ]
        );
        let date = |raw: &str| super::super::fs::canonical_date(raw, DateOrder::Serial);
        // days since 1899-12-30: Excel's calendar from 1900-03-01 on, LibreOffice's
        assert_eq!(date("18192").as_deref(), Some("19491021"));
        assert_eq!(date("18192.0").as_deref(), Some("19491021"));
        assert_eq!(date("45658").as_deref(), Some("20250101"));
        assert_eq!(date("367").as_deref(), Some("19010101"));
        // a value written as a date in such a column is read as one, a year as its year
        assert_eq!(date("1949-10-21").as_deref(), Some("19491021"));
        assert_eq!(date("1949").as_deref(), Some("19490000"));
        // a count under a year of days, and what is past 2099, are no day numbers
        assert_eq!(date("0"), None);
        assert_eq!(date("99999"), None);
        assert_eq!(date("12"), None);
    }

    #[test]
    fn unnamed_date_parts_and_numbered_name_copies_are_found_from_their_values() {
        // the shape of a file whose birth date is `by`, `bm`, `bd` and whose names are
        // split over `fname_c1` / `fname_c2`
        let mut rows = Vec::new();
        for i in 0..40 {
            rows.push(json!({
                "fname_c1": "carsten", "fname_c2": if i % 7 == 0 { "peter" } else { "" },
                "by": 1930 + i, "bm": 1 + i % 12, "bd": 1 + i % 28, "n_kids": i % 4,
                "floor": 1 + i % 9, "rooms": 1 + i % 6
            }));
        }
        let f = infer_fields(recs(&rows).iter());
        // the same rows read from a file whose columns come in another order: the same
        // fields (the dedup command reads files so; `eval` and the API get records)
        let headers: Vec<String> = ["by", "fname_c1", "bm", "n_kids", "bd", "fname_c2"]
            .into_iter()
            .chain(["floor", "rooms"])
            .map(String::from)
            .collect();
        let rows_csv: Vec<csv::StringRecord> = rows
            .iter()
            .map(|r| {
                headers
                    .iter()
                    .map(|h| crate::engine::value_text(&r[h.as_str()]))
                    .collect()
            })
            .collect();
        let from_file = infer_fields_rows(&headers, usize::MAX, rows_csv.iter());
        let names = |f: &[FieldSpec]| -> Vec<(String, Vec<String>)> {
            f.iter()
                .map(|s| (s.name.clone(), s.columns.clone()))
                .collect()
        };
        assert_eq!(names(&from_file), names(&f));
        let date: Vec<&FieldSpec> = f.iter().filter(|s| s.kind == FieldKind::Date).collect();
        assert_eq!(date.len(), 1, "{f:?}");
        assert_eq!(date[0].columns, vec!["by", "bm", "bd"]);
        assert_eq!(date[0].date_order, DateOrder::Parts);
        assert_eq!(date[0].name, "b_date");
        assert_eq!(super::super::lexicon::concept("b_date"), Some("birth_date"));
        let name = f
            .iter()
            .find(|s| s.columns.first().is_some_and(|c| c == "fname_c1"));
        assert_eq!(name.map(|s| s.name.as_str()), Some("fname"), "{f:?}");
        // small integer columns side by side are no date
        for c in ["floor", "rooms", "n_kids"] {
            assert!(
                f.iter().any(|s| s.name == c && s.kind != FieldKind::Date),
                "{c}"
            );
        }
    }

    #[test]
    fn columns_that_only_look_alike_stay_apart() {
        // a numbered column that is mostly filled is its own field (two phone numbers);
        // a year without a month or day is a plain code
        let mut rows = Vec::new();
        for i in 0..20 {
            rows.push(
                json!({"phone_1": format!("555{i:04}"), "phone_2": format!("556{i:04}"),
                "year": 1990 + i, "name": "x"}),
            );
        }
        let f = infer_fields(recs(&rows).iter());
        assert_eq!(f.len(), 4, "{f:?}");
        assert!(f.iter().all(|s| s.columns.is_empty()), "{f:?}");
        assert_eq!(date_part("birth_year"), Some(("birth".into(), Part::Year)));
        assert_eq!(date_part("dob_m"), Some(("dob".into(), Part::Month)));
        assert_eq!(date_part("surname"), None);
        assert_eq!(
            continuation_stem("first_name_2"),
            Some(("first_name".into(), 2))
        );
        assert_eq!(continuation_stem("address2"), Some(("address".into(), 2)));
        assert_eq!(continuation_stem("name"), None);
    }
}
