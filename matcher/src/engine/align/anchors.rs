//! Telling apart two columns of one shape by the records themselves ("Dataset as
//! Knowledge" for alignment).
//!
//! A tax file has two addresses — the person's mailing address and the employer's —
//! named `mailing_address_street_name` and `employer_street_name`; a census has one,
//! `street_name`. By name and value shape the two candidates score alike, and the one
//! picked decides the link (the employer's street never agrees with where a person
//! lives). The records settle it: pairs of records that surely describe one entity
//! (*anchors*: the same values in every well-filled field already aligned, unique on
//! both sides) agree on the right column and not on the decoy. A candidate that agrees
//! on less than half as many anchors as its field's best rival is demoted; one that
//! never agrees on anchors is not compared at all (its values cannot tell a match).

use std::collections::HashMap;
use std::slice;

use super::super::Record;
use super::super::fs::{FieldKind, FieldSpec, MISSING, Prepared, level, prepare};
use super::as_pair;

/// Levels counted as agreeing: any from exact to weak (a year and month against a whole
/// date is level 2, a month alone level 3), so that only a decoy or a pair that can never
/// agree scores low.
const AGREE_LEVEL: u8 = 3;
/// Fewest anchors for their evidence to count.
const MIN_ANCHORS: usize = 20;
/// Most anchors read (in file order): enough for a rate, bounded for big files.
const MAX_ANCHORS: usize = 2000;
/// Fewest anchors where both candidate columns hold a value for their rate to count.
const MIN_BOTH: usize = 10;
/// Share of its records a field must fill on both sides to be part of the anchor key.
const KEY_FILL: f64 = 0.7;
/// A candidate below this share of its best rival's agreement is demoted...
const RIVAL_SHARE: f64 = 0.5;
/// ...when that rival agrees on at least this share of anchors...
const RIVAL_FLOOR: f64 = 0.3;
/// ...by this factor on its score.
const DEMOTE: f64 = 0.5;
/// A candidate agreeing on fewer anchors than this (over [`NEVER_MIN`] or more) is
/// dropped.
const NEVER: f64 = 0.02;
const NEVER_MIN: usize = 30;

/// Anchors: `(left, right)` record indices whose key fields (`key_l[k]` against
/// `key_r[k]`, only those filled in most records of both sides) hold one value each,
/// unique on both sides. Empty when fewer than [`MIN_ANCHORS`] or fewer than two key
/// fields.
pub fn anchors(
    left: &[Record],
    right: &[Record],
    key_l: &[FieldSpec],
    key_r: &[FieldSpec],
) -> Vec<(usize, usize)> {
    // big files are read at a stride: every pass below hashes each record read
    let (sl, sr) = (stride(left.len()), stride(right.len()));
    let pl: Vec<Prepared> = left.iter().step_by(sl).map(|r| prepare(key_l, r)).collect();
    let pr: Vec<Prepared> = right
        .iter()
        .step_by(sr)
        .map(|r| prepare(key_r, r))
        .collect();
    let filled = |ps: &[Prepared], k: usize| {
        let n = ps.iter().filter(|p| !p.value(k).is_empty()).count();
        n as f64 >= KEY_FILL * ps.len().max(1) as f64
    };
    let mut keys: Vec<usize> = (0..key_l.len())
        .filter(|&k| filled(&pl, k) && filled(&pr, k))
        .collect();
    if keys.len() < 2 {
        return Vec::new();
    }
    // a field that differs on most true pairs (an age a year apart, a date written
    // differently) leaves no anchor: drop fields while that finds clearly more. Two such
    // fields (a census year against a tax year, and a house number taken for the
    // employer's) leave none whichever one goes: then two go at once (only then: it reads
    // the sides once per pair of fields).
    let mut best = unique_pairs(&pl, &pr, &keys);
    while keys.len() > 2 {
        let single = (0..keys.len()).map(|d| vec![d]);
        let mut found = best_drop(&pl, &pr, &keys, single);
        if found
            .as_ref()
            .is_none_or(|f| f.1.len() * 4 <= best.len() * 5)
            && best.len() < MIN_ANCHORS
            && keys.len() > 3
        {
            let pairs =
                (0..keys.len()).flat_map(|a| ((a + 1)..keys.len()).map(move |b| vec![a, b]));
            found = best_drop(&pl, &pr, &keys, pairs);
        }
        let Some((drop, pairs)) = found else {
            break;
        };
        if pairs.len() * 4 <= best.len() * 5 {
            break;
        }
        keys = without(&keys, &drop);
        best = pairs;
    }
    best.truncate(MAX_ANCHORS);
    if best.len() < MIN_ANCHORS {
        best.clear();
    }
    best.into_iter().map(|(i, j)| (i * sl, j * sr)).collect()
}

/// A way to drop key fields (their positions in the key) and the anchors the rest find.
type Dropped = (Vec<usize>, Vec<(usize, usize)>);

/// `keys` without the positions in `drop`.
fn without(keys: &[usize], drop: &[usize]) -> Vec<usize> {
    keys.iter()
        .enumerate()
        .filter(|(e, _)| !drop.contains(e))
        .map(|(_, &k)| k)
        .collect()
}

/// Of the ways to `drop` some of `keys`, the one whose remaining keys find the most
/// anchors, with them.
fn best_drop(
    pl: &[Prepared],
    pr: &[Prepared],
    keys: &[usize],
    drops: impl Iterator<Item = Vec<usize>>,
) -> Option<Dropped> {
    drops
        .map(|d| {
            let found = unique_pairs(pl, pr, &without(keys, &d));
            (d, found)
        })
        .max_by_key(|(_, found)| found.len())
}

/// Most records of a side read for anchors.
const ANCHOR_RECORDS: usize = 50_000;

/// Every how many records a side of `n` is read so that at most [`ANCHOR_RECORDS`] are.
fn stride(n: usize) -> usize {
    n.div_ceil(ANCHOR_RECORDS).max(1)
}

/// Record pairs whose values of the `keys` fields, all present, are equal and unique on
/// both sides, in left order.
fn unique_pairs(pl: &[Prepared], pr: &[Prepared], keys: &[usize]) -> Vec<(usize, usize)> {
    let key_of = |p: &Prepared| -> Option<String> {
        let mut s = String::new();
        for &k in keys {
            let v = p.value(k);
            if v.is_empty() {
                return None;
            }
            s.push_str(v.norm);
            s.push('\u{1f}');
        }
        Some(s)
    };
    // key → (left count, left index, right count, right index)
    let mut seen: HashMap<String, (u32, usize, u32, usize)> = HashMap::new();
    for (i, p) in pl.iter().enumerate() {
        if let Some(k) = key_of(p) {
            let e = seen.entry(k).or_insert((0, i, 0, 0));
            e.0 += 1;
        }
    }
    for (j, p) in pr.iter().enumerate() {
        if let Some(e) = key_of(p).and_then(|k| seen.get_mut(&k)) {
            e.2 += 1;
            e.3 = j;
        }
    }
    let mut out: Vec<(usize, usize)> = seen
        .into_values()
        .filter(|e| e.0 == 1 && e.2 == 1)
        .map(|e| (e.1, e.3))
        .collect();
    out.sort_unstable();
    out
}

/// Share of anchors (holding both values) on which `l` and `r`, compared as `kind`,
/// agree at all ([`AGREE_LEVEL`]); `None` when fewer than [`MIN_BOTH`] anchors hold both.
pub fn agreement(
    l: &FieldSpec,
    r: &FieldSpec,
    kind: FieldKind,
    left: &[Record],
    right: &[Record],
    anchors: &[(usize, usize)],
) -> Option<(f64, usize)> {
    let (lf, rf) = as_pair(l, r, kind);
    let (mut both, mut agree) = (0usize, 0usize);
    for &(a, b) in anchors {
        let pa = prepare(slice::from_ref(&lf), &left[a]);
        let pb = prepare(slice::from_ref(&rf), &right[b]);
        let lv = level(kind, pa.value(0), pb.value(0));
        if lv == MISSING {
            continue;
        }
        both += 1;
        if lv <= AGREE_LEVEL {
            agree += 1;
        }
    }
    (both >= MIN_BOTH).then(|| (agree as f64 / both as f64, both))
}

/// Adjusts the candidate scores `m` (left fields × right fields) by the anchors'
/// agreement rates `agree` (same shape; `None` where unknown): a candidate far below
/// its row's or its column's best rival is demoted, one that never agrees is zeroed.
pub fn adjust(m: &mut [Vec<f64>], agree: &[Vec<Option<(f64, usize)>>]) {
    let rows = m.len();
    let cols = m.first().map_or(0, Vec::len);
    // each row's and each column's best agreement rate, in one pass
    let (mut best_row, mut best_col) = (vec![0.0f64; rows], vec![0.0f64; cols]);
    for i in 0..rows {
        for j in 0..cols {
            if let Some((a, _)) = agree[i][j] {
                best_row[i] = best_row[i].max(a);
                best_col[j] = best_col[j].max(a);
            }
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            let Some((a, n)) = agree[i][j] else { continue };
            if a < NEVER && n >= NEVER_MIN {
                m[i][j] = 0.0;
                continue;
            }
            let rival = |best: f64| best >= RIVAL_FLOOR && a < RIVAL_SHARE * best;
            if rival(best_row[i]) || rival(best_col[j]) {
                m[i][j] *= DEMOTE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_sides_are_read_at_a_stride_of_at_most_the_record_budget() {
        assert_eq!(stride(0), 1);
        assert_eq!(stride(ANCHOR_RECORDS), 1);
        assert_eq!(stride(ANCHOR_RECORDS + 1), 2);
        assert!(1_000_000usize.div_ceil(stride(1_000_000)) <= ANCHOR_RECORDS);
    }

    #[test]
    fn two_key_fields_that_never_agree_are_dropped_together() {
        use super::super::super::fs::FieldKind::{Code, Text};
        // 40 people on both sides by name and town; each side's `year` and `number` never
        // agree with the other's (a census year against a tax year, a house number
        // against an employer's), so dropping either alone still finds no anchor
        let rec = |name: String, town: &str, year: &str, number: String| -> Record {
            serde_json::from_value(serde_json::json!({
                "name": name, "town": town, "year": year, "number": number
            }))
            .unwrap_or_default()
        };
        let left: Vec<Record> = (0..40)
            .map(|i| rec(format!("person {i}"), "dubbo", "2020", format!("{i}")))
            .collect();
        let right: Vec<Record> = (0..40)
            .map(|i| {
                rec(
                    format!("person {i}"),
                    "dubbo",
                    "2019",
                    format!("{}", 500 + i),
                )
            })
            .collect();
        let key: Vec<FieldSpec> = [
            ("name", Text),
            ("town", Text),
            ("year", Code),
            ("number", Code),
        ]
        .into_iter()
        .map(|(n, k)| FieldSpec::new(n, k))
        .collect();
        let found = anchors(&left, &right, &key, &key);
        assert_eq!(found.len(), 40, "{found:?}");
        assert!(found.iter().all(|&(i, j)| i == j), "{found:?}");
    }

    #[test]
    fn a_candidate_far_below_its_rival_is_demoted_and_one_never_agreeing_dropped() {
        let mut m = vec![vec![0.9, 0.9], vec![0.8, 0.6]];
        let agree = vec![
            vec![Some((0.85, 100)), Some((0.05, 100))],
            vec![Some((0.01, 100)), None],
        ];
        adjust(&mut m, &agree);
        assert_eq!(m[0][0], 0.9, "the agreeing candidate keeps its score");
        assert!((m[0][1] - 0.45).abs() < 1e-9, "the decoy is demoted: {m:?}");
        assert_eq!(m[1][0], 0.0, "a candidate that never agrees is dropped");
        assert_eq!(m[1][1], 0.6, "unknown agreement changes nothing");
        // agreement everywhere low: nothing to tell apart, nothing demoted
        let mut m = vec![vec![0.9, 0.9]];
        adjust(&mut m, &[vec![Some((0.2, 100)), Some((0.05, 100))]]);
        assert_eq!(m, vec![vec![0.9, 0.9]]);
    }
}
