//! Linking two files: the candidate pairs between a left and a right side, block by
//! block (the keys of [`super::field_entries`], the compound keys of field pairs, a
//! name's words with the others' initials and the whole-name keys, then a
//! sorted-neighbourhood window over both sides), and the further pairs of two shared rare
//! tokens that are scored after the fit.

use rayon::prelude::*;

use super::names::{NameShard, name_entries, name_initial_entries};
use super::*;
/// How many times [`BlockingOptions::max_block_pairs`] a whole-name block may pair in a
/// link: 45 × 100 = 4,500 pairs (a name held by ~70 records a side). A name block is
/// small beside a town's or a birth year's, and the pairs it brings are the ones a
/// person who moved and whose birth date is missing or mistyped has left. (50 left a
/// common name's near-name blocks, `james smith` with its one-typo neighbours, over the
/// cap: person_link blocking recall 0.9895 there, 0.9900 here, for 3% more candidates.)
const NAME_BLOCK_FACTOR: usize = 100;

/// Candidate pairs `(i, j)` between `left[i]` and `right[j]`, sorted, unique.
///
/// Like [`dedup_candidates`]: hashed keys, one field at a time, blocks found by a parallel
/// sort of `(key, side, record)` entries; a block pairs its left with its right records.
pub fn link_candidates(
    fields: &[FieldSpec],
    left: &[Prepared],
    right: &[Prepared],
    opts: &BlockingOptions,
) -> Vec<(u32, u32)> {
    /// One blocking pass of a link: which keys it blocks on.
    #[derive(Clone, Copy)]
    enum Pass {
        Field(usize),
        Compound,
        NameInitials,
        WholeNames(NameShard),
    }
    let mut pairs: Vec<u64> = Vec::new();
    // one pass per field, one for the compound keys of field pairs, one for a name's
    // words with the others' initials, then the whole-name keys a shard at a time
    let passes = (0..fields.len())
        .map(Pass::Field)
        .chain([Pass::Compound, Pass::NameInitials])
        .chain(NameShard::of(left.len() + right.len()).map(Pass::WholeNames));
    for pass in passes {
        let side = |recs: &[Prepared], side: u32| {
            let mut e = Vec::new();
            match pass {
                Pass::Field(f) => field_entries(fields, f, recs, opts, &mut e),
                Pass::Compound => e = compound_entries(fields, recs),
                Pass::NameInitials => name_initial_entries(fields, recs, &mut e),
                Pass::WholeNames(shard) => name_entries(fields, recs, true, shard, &mut e),
            }
            e.into_iter().map(move |(k, i)| (k, side, i))
        };
        // a whole name shared by many on both sides (`michael smith`) is still worth
        // pairing in full: a moved person keeps little else (see NAME_BLOCK_FACTOR)
        let cap = match pass {
            Pass::WholeNames(_) => opts.max_block_pairs.saturating_mul(NAME_BLOCK_FACTOR),
            _ => opts.max_block_pairs,
        };
        let entries: Vec<(u64, u32, u32)> = side(left, 0).chain(side(right, 1)).collect();
        cross_block_pairs(entries, cap, &mut pairs);
    }

    if opts.window > 0 {
        // sorted neighbourhood over both sides merged
        let mut all: Vec<((u128, u64), bool, u32)> = left
            .iter()
            .enumerate()
            .map(|(i, r)| (snm_key(r), false, i as u32))
            .chain(
                right
                    .iter()
                    .enumerate()
                    .map(|(j, r)| (snm_key(r), true, j as u32)),
            )
            .collect();
        all.par_sort_unstable();
        for a in 0..all.len() {
            for b in (a + 1)..all.len().min(a + 1 + opts.window) {
                match (all[a].1, all[b].1) {
                    (false, true) => pairs.push(pack(all[a].2, all[b].2)),
                    (true, false) => pairs.push(pack(all[b].2, all[a].2)),
                    _ => {}
                }
            }
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(unpack).collect()
}

/// Further link candidates `(i, j)`, sorted, unique: two records sharing two of their
/// rarest tokens ([`rare_keys`], of the tokens both sides hold), whichever fields hold (a
/// title's rare word and an author's surname), however common each field's blocks are.
///
/// Kept apart from [`link_candidates`] because the model is fitted without them
/// (`linkage::link` scores them after the fit): they are mostly pairs of one maker's or
/// one venue's records, and fitted on, they taught the EM that a brand and a product type
/// agreeing is a match (a product link fell from F1 0.997 to 0.981).
pub fn link_rare_candidates(
    fields: &[FieldSpec],
    left: &[Prepared],
    right: &[Prepared],
    opts: &BlockingOptions,
) -> Vec<(u32, u32)> {
    let [l, r] = link_rare_entries(fields, left, right);
    let entries: Vec<(u64, u32, u32)> = l
        .into_iter()
        .map(|(k, i)| (k, 0, i))
        .chain(r.into_iter().map(|(k, j)| (k, 1, j)))
        .collect();
    let mut pairs = Vec::new();
    cross_block_pairs(entries, opts.max_block_pairs, &mut pairs);
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(unpack).collect()
}

/// Appends to `pairs` the left × right pairs of every block of `(key, side, record)`
/// entries (side 0 left, 1 right) with at most `cap` pairs.
fn cross_block_pairs(mut entries: Vec<(u64, u32, u32)>, cap: usize, pairs: &mut Vec<u64>) {
    entries.par_sort_unstable();
    for run in entries.chunk_by(|a, b| a.0 == b.0) {
        // within a run the left entries (side 0) sort first
        let (l, r) = run.split_at(run.partition_point(|x| x.1 == 0));
        if !l.is_empty() && !r.is_empty() && l.len() * r.len() <= cap {
            for x in l {
                for y in r {
                    pairs.push(pack(x.2, y.2));
                }
            }
        }
    }
}

/// The rare-token keys ([`rare_keys`]) of both sides of a link, from the tokens both
/// sides hold, counted over both: `(key, record)` entries of the left and of the right
/// records.
fn link_rare_entries(
    fields: &[FieldSpec],
    left: &[Prepared],
    right: &[Prepared],
) -> [Vec<(u64, u32)>; 2] {
    let (lt, rt) = (chunk_tokens(fields, left), chunk_tokens(fields, right));
    // a token one side never holds keys no pair across the link, and taken among a
    // record's rarest it pushes out one the other side shares: a maker's product code
    // and an edition's words beside a title the other catalogue writes bare
    // (product_title_link: `ovwell development 16200 ovwell essentials piano cd-rom`
    // kept `16200`, `cd` and `rom` and left out `piano`)
    let (mut freq, fr) = (token_frequencies(&[&lt]), token_frequencies(&[&rt]));
    freq.par_iter_mut().zip(fr).for_each(|(l, r)| {
        l.retain(|t, n| {
            r.get(t).is_some_and(|m| {
                *n += m;
                true
            })
        })
    });
    [rare_entries(&lt, &freq), rare_entries(&rt, &freq)]
}
