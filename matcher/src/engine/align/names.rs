//! A person's whole name on one side, the given name and surname in columns of their own
//! on the other: which column holds the whole (by its name, else by its words), which
//! order its names are written in, and the fields that read each part of it
//! ([`FieldSpec::name_part`]) to meet the other side's columns.

use std::collections::HashSet;

use super::super::fs::{FieldKind, FieldSpec, NamePart};
use super::super::{Record, lexicon};
use super::{Aligned, VALUE_SAMPLE, drop_indices, raw_value};

/// Where one side writes a person's whole name in one field and the other splits it
/// ([`whole_and_parts`]), aligns each part of the whole ([`NamePart`]) with its column:
/// the given name, the surname, and a middle name or initial where that side has one.
/// (The parts joined and compared with the whole made one level of a typo in each word,
/// and a name so mistyped counted six bits where the two columns count fifteen: linking
/// a census-like file with one name column to first and last, F1 0.96 against 0.98.)
pub(super) fn split_whole_name(
    out: &mut Aligned,
    rest: [&mut Vec<FieldSpec>; 2],
    recs: [&[Record]; 2],
) {
    let [rest_l, rest_r] = rest;
    let [left, right] = recs;
    for flip in [false, true] {
        let (whole_side, parts_side, whole_recs, parts_recs) = if flip {
            (&mut *rest_r, &mut *rest_l, right, left)
        } else {
            (&mut *rest_l, &mut *rest_r, left, right)
        };
        let Some((w, parts)) = whole_and_parts(whole_side, parts_side, whole_recs, parts_recs)
        else {
            continue;
        };
        let pairs = name_parts(&whole_side[w], parts_side, &parts, [whole_recs, parts_recs]);
        for (whole_part, k) in &pairs {
            let part = &parts_side[*k];
            if flip {
                out.push(part, whole_part, 1.0);
            } else {
                out.push(whole_part, part, 1.0);
            }
        }
        whole_side.remove(w);
        let used: Vec<usize> = pairs.iter().map(|p| p.1).collect();
        *parts_side = drop_indices(std::mem::take(parts_side), &used);
        return;
    }
}

/// Fields reading the parts of the whole-name field `whole`, each with the field of
/// `fs` it meets (named as that field, so the pair is a given name or a surname as the
/// other side names it): `parts` (given name, surname), and a middle name of `fs`.
fn name_parts(
    whole: &FieldSpec,
    fs: &[FieldSpec],
    parts: &[usize],
    [whole_recs, parts_recs]: [&[Record]; 2],
) -> Vec<(FieldSpec, usize)> {
    let family_first = match (parts.first(), parts.get(1)) {
        (Some(&g), Some(&s)) => surname_first(whole, &fs[g], &fs[s], whole_recs, parts_recs),
        _ => false,
    };
    let middle = fs
        .iter()
        .enumerate()
        .position(|(k, f)| !parts.contains(&k) && lexicon::concept(&f.name) == Some("middle_name"));
    let wanted = [
        (NamePart::Given, parts.first().copied()),
        (NamePart::Family, parts.get(1).copied()),
        (NamePart::Middle, middle),
    ];
    wanted
        .into_iter()
        .filter_map(|(part, k)| {
            let k = k?;
            let mut f = FieldSpec::new(fs.get(k)?.name.clone(), FieldKind::Text);
            f.columns = whole.sources().into_iter().map(str::to_string).collect();
            f.name_part = Some(part);
            f.family_first = family_first;
            Some((f, k))
        })
        .collect()
}

/// Whether the column of whole names `whole` writes the surname first without a comma
/// (`Smith John A`): more of its names begin with one of the other side's surnames and end
/// with one of its given names than the other way round (initials left out).
fn surname_first(
    whole: &FieldSpec,
    given: &FieldSpec,
    surname: &FieldSpec,
    recs: &[Record],
    other_recs: &[Record],
) -> bool {
    let (g, s) = (
        name_vocab(given, other_recs),
        name_vocab(surname, other_recs),
    );
    let (mut given_first, mut family_first) = (0usize, 0usize);
    for r in recs.iter().take(VALUE_SAMPLE) {
        let v = raw_value(whole, r);
        if v.contains(',') {
            continue;
        }
        let w = name_words(&v);
        let (Some(first), Some(last)) = (w.first(), w.last()) else {
            continue;
        };
        if w.len() < 2 {
            continue;
        }
        given_first += usize::from(g.contains(first) && s.contains(last));
        family_first += usize::from(s.contains(first) && g.contains(last));
    }
    family_first > given_first
}

/// A field of `whole_side` holding a whole person name (`Name`, `full_name`,
/// `customer_name`) where that side has no given name or surname, and the given-name and
/// surname fields of `parts_side`: `(whole, vec![given, surname])`. A column not named so
/// (`Patient`, `Customer`) holds the whole name when most of its words are given names
/// or surnames of the other side.
fn whole_and_parts(
    whole_side: &[FieldSpec],
    parts_side: &[FieldSpec],
    whole_recs: &[Record],
    parts_recs: &[Record],
) -> Option<(usize, Vec<usize>)> {
    use lexicon::concept;
    let find = |fs: &[FieldSpec], c: &str| fs.iter().position(|f| concept(&f.name) == Some(c));
    let given = find(parts_side, "given_name")?;
    let surname = find(parts_side, "surname")?;
    if find(whole_side, "given_name").is_some() || find(whole_side, "surname").is_some() {
        return None;
    }
    let named = whole_side.iter().position(|f| {
        f.kind == FieldKind::Text
            && (concept(&f.name) == Some("full_name")
                || (concept(&f.name).is_none()
                    && super::super::text::split_identifier(&f.name)
                        .last()
                        .is_some_and(|t| t == "name")))
    });
    let whole = match named {
        Some(w) => w,
        None => name_by_values(
            whole_side,
            &parts_side[given],
            &parts_side[surname],
            whole_recs,
            parts_recs,
        )?,
    };
    Some((whole, vec![given, surname]))
}

/// Records of the other side whose given names and surnames make the vocabulary a whole
/// name's words are looked up in.
const VOCAB_RECORDS: usize = 20_000;

/// The words of a name, normalized, initials (one letter) left out.
fn name_words(v: &str) -> Vec<String> {
    super::super::text::normalize(v)
        .split(' ')
        .filter(|t| t.chars().count() > 1)
        .map(str::to_string)
        .collect()
}

/// The [`name_words`] of field `f` over the first [`VOCAB_RECORDS`] records of `recs`.
fn name_vocab(f: &FieldSpec, recs: &[Record]) -> HashSet<String> {
    recs.iter()
        .take(VOCAB_RECORDS)
        .flat_map(|r| name_words(&raw_value(f, r)))
        .collect()
}

/// The text field of `fs` (no address part, no column the lexicon names otherwise) most
/// of whose words are among the other side's given names and surnames: at least half of
/// them over [`VALUE_SAMPLE`] records, with 1.5 words or more per value on average (a
/// column of given names alone is no whole name).
fn name_by_values(
    fs: &[FieldSpec],
    given: &FieldSpec,
    surname: &FieldSpec,
    recs: &[Record],
    other_recs: &[Record],
) -> Option<usize> {
    let raw = |f: &FieldSpec, r: &Record| super::super::text::normalize(&raw_value(f, r));
    // the other side's names from many records: a population's surnames are many, and
    // from 2,000 records half the words of the whole names of 6,000 people were unknown
    let mut vocab = name_vocab(given, other_recs);
    vocab.extend(name_vocab(surname, other_recs));
    let score = |f: &FieldSpec| -> f64 {
        let (mut words, mut known, mut values) = (0usize, 0usize, 0usize);
        for r in recs.iter().take(VALUE_SAMPLE) {
            let v = raw(f, r);
            if v.is_empty() {
                continue;
            }
            values += 1;
            // an initial (`John A Smith`) is no given name or surname of the other side
            for t in v.split(' ').filter(|t| t.chars().count() > 1) {
                words += 1;
                known += usize::from(vocab.contains(t));
            }
        }
        if values == 0 || 2 * words < 3 * values {
            return 0.0;
        }
        known as f64 / words as f64
    };
    fs.iter()
        .enumerate()
        .filter(|(_, f)| f.kind == FieldKind::Text && lexicon::concept(&f.name).is_none())
        .map(|(k, f)| (k, score(f)))
        .filter(|&(_, s)| s >= 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}
