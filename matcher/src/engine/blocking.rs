//! Multi-key blocking: candidate pairs are the union of the pairs sharing a key under
//! any of several key functions (exact values, tokens, prefixes, phonetic codes) plus a
//! sorted-neighbourhood window. Blocks whose pair count exceeds a cap (frequent values
//! such as a state code) are skipped, so no all-pairs matrix is ever built. The index
//! holds record numbers only; keys are computed one record at a time.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::fs::{FieldKind, FieldSpec, Prepared};
use super::text::soundex;

/// Blocking options.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockingOptions {
    /// Blocks with more candidate pairs than this are skipped.
    pub max_block_pairs: usize,
    /// Sorted-neighbourhood window (0 disables).
    pub window: usize,
    /// Prefix length for prefix keys (0 disables).
    pub prefix: usize,
}

impl Default for BlockingOptions {
    fn default() -> Self {
        Self {
            max_block_pairs: 100,
            window: 4,
            prefix: 4,
        }
    }
}

/// Which key function produced a key (part of the key, so functions never collide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum KeyKind {
    Exact,
    Token,
    Prefix,
    Phonetic,
}

type Key = (KeyKind, u16, String);

/// Appends the blocking keys of field `f` of one prepared record to `out`.
fn field_keys(
    fields: &[FieldSpec],
    f: usize,
    r: &Prepared,
    opts: &BlockingOptions,
    out: &mut Vec<Key>,
) {
    let Some(spec) = fields.get(f) else {
        return;
    };
    let v = r.value(f);
    if v.is_empty() {
        return;
    }
    let f = f as u16;
    match spec.kind {
        FieldKind::Code => {
            out.push((KeyKind::Exact, f, v.digits.to_string()));
            if opts.prefix > 0 && v.digits.len() > opts.prefix + 1 {
                // both halves, so one edit leaves one key intact
                let mid = v.digits.len() / 2;
                out.push((KeyKind::Prefix, f, format!("<{}", &v.digits[..mid])));
                out.push((KeyKind::Prefix, f, format!(">{}", &v.digits[mid..])));
            }
        }
        FieldKind::Text => {
            let joined = v.joined();
            if v.token_count() > 1 {
                for t in v.tokens() {
                    if t.len() > 1 {
                        out.push((KeyKind::Token, f, t.to_string()));
                    }
                }
            }
            if opts.prefix > 0 {
                let p: String = joined.chars().take(opts.prefix).collect();
                out.push((KeyKind::Prefix, f, p));
            }
            out.push((KeyKind::Exact, f, joined));
            let s = soundex(v.norm);
            if !s.is_empty() {
                out.push((KeyKind::Phonetic, f, s));
            }
        }
    }
}

fn hash_of(k: &impl Hash) -> u64 {
    // SipHash with fixed keys: the same input always blocks the same way
    let mut h = std::collections::hash_map::DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// The tokens of a whole record, field-agnostic (so swapped fields still share them):
/// text tokens longer than one character and the digits of code fields, hashed, unique.
fn record_tokens(fields: &[FieldSpec], r: &Prepared) -> Vec<u64> {
    let mut out = Vec::new();
    for (spec, v) in fields.iter().zip(r.values()) {
        match spec.kind {
            FieldKind::Code if !v.digits.is_empty() => out.push(hash_of(&v.digits)),
            FieldKind::Code => {}
            FieldKind::Text => out.extend(v.tokens().filter(|t| t.len() > 1).map(|t| hash_of(&t))),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Tokens per record taken for rare-token keys.
const RARE_TOKENS: usize = 4;

/// Rare-token keys: one key per pair of the record's [`RARE_TOKENS`] rarest tokens that
/// occur at least twice in the data (a token seen once, often a typo, cannot be shared).
/// Two records with the same two rare tokens are worth comparing however common each of
/// their single fields is; this keeps recall when every single-field block of a large
/// set is over the cap (a million records: every postcode, date and street name).
fn rare_keys(tokens: &[u64], freq: &HashMap<u64, u32>, out: &mut Vec<u64>) {
    out.clear();
    let mut rare: Vec<(u32, u64)> = tokens
        .iter()
        .filter_map(|t| freq.get(t).filter(|&&n| n >= 2).map(|&n| (n, *t)))
        .collect();
    rare.sort_unstable();
    rare.truncate(RARE_TOKENS);
    for a in 0..rare.len() {
        for b in (a + 1)..rare.len() {
            let (x, y) = (rare[a].1.min(rare[b].1), rare[a].1.max(rare[b].1));
            out.push(hash_of(&("rare", x, y)));
        }
    }
}

/// `(hashed key, record)` entries of field `f` of every record (each key once per record).
fn field_entries(
    fields: &[FieldSpec],
    f: usize,
    records: &[Prepared],
    opts: &BlockingOptions,
) -> Vec<(u64, u32)> {
    records
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, r)| {
            let mut ks = Vec::new();
            field_keys(fields, f, r, opts, &mut ks);
            ks.sort();
            ks.dedup();
            ks.into_iter().map(move |k| (hash_of(&k), i as u32))
        })
        .collect()
}

/// Sorts `(key, record)` entries and appends the pairs of every block (run of one key)
/// within the cap to `pairs`.
fn block_pairs(entries: &mut [(u64, u32)], max_block_pairs: usize, pairs: &mut Vec<u64>) {
    entries.par_sort_unstable();
    for run in entries.chunk_by(|a, b| a.0 == b.0) {
        let n = run.len();
        if n < 2 || n * (n - 1) / 2 > max_block_pairs {
            continue;
        }
        for (a, x) in run.iter().enumerate() {
            for y in &run[a + 1..] {
                if x.1 != y.1 {
                    pairs.push(pack(x.1.min(y.1), x.1.max(y.1)));
                }
            }
        }
    }
}

/// Packs a pair of record numbers.
#[inline]
fn pack(i: u32, j: u32) -> u64 {
    ((i as u64) << 32) | j as u64
}

/// Unpacks a pair of record numbers.
#[inline]
pub fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// A sort key for the sorted-neighbourhood pass: the values of the text fields.
fn snm_key(r: &Prepared) -> String {
    let mut s = String::new();
    for v in r.values() {
        for t in v.tokens() {
            s.push_str(t);
        }
        s.push('|');
    }
    s
}

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
    let mut pairs: Vec<u64> = Vec::new();
    for f in 0..fields.len() {
        let side = |recs: &[Prepared], side: u32| {
            field_entries(fields, f, recs, opts)
                .into_iter()
                .map(move |(k, i)| (k, side, i))
        };
        let mut entries: Vec<(u64, u32, u32)> = side(left, 0).chain(side(right, 1)).collect();
        entries.par_sort_unstable();
        for run in entries.chunk_by(|a, b| a.0 == b.0) {
            // within a run the left entries (side 0) sort first
            let (l, r) = run.split_at(run.partition_point(|x| x.1 == 0));
            if !l.is_empty() && !r.is_empty() && l.len() * r.len() <= opts.max_block_pairs {
                for x in l {
                    for y in r {
                        pairs.push(pack(x.2, y.2));
                    }
                }
            }
        }
    }
    if opts.window > 0 {
        // sorted neighbourhood over both sides merged
        let mut all: Vec<(String, bool, u32)> = left
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
        all.sort();
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
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(unpack).collect()
}

/// Candidate pairs `(i, j)`, `i < j`, within one set of records, sorted, unique.
///
/// Keys are hashed (64-bit) and blocked one field at a time by sorting `(key, record)`
/// entries in parallel, which keeps a million records to a few hundred MiB; plus the
/// rare-token keys ([`rare_keys`]) and the sorted-neighbourhood window.
pub fn dedup_candidates(
    fields: &[FieldSpec],
    records: &[Prepared],
    opts: &BlockingOptions,
) -> Vec<(u32, u32)> {
    let mut pairs: Vec<u64> = Vec::new();
    for f in 0..fields.len() {
        let mut entries = field_entries(fields, f, records, opts);
        block_pairs(&mut entries, opts.max_block_pairs, &mut pairs);
    }
    {
        let tokens: Vec<Vec<u64>> = records
            .par_iter()
            .map(|r| record_tokens(fields, r))
            .collect();
        let mut freq: HashMap<u64, u32> = HashMap::new();
        for t in tokens.iter().flatten() {
            *freq.entry(*t).or_default() += 1;
        }
        let mut entries: Vec<(u64, u32)> = tokens
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, t)| {
                let mut ks = Vec::new();
                rare_keys(t, &freq, &mut ks);
                ks.into_iter().map(move |k| (k, i as u32))
            })
            .collect();
        block_pairs(&mut entries, opts.max_block_pairs, &mut pairs);
    }
    if opts.window > 0 {
        let mut all: Vec<(String, u32)> = records
            .par_iter()
            .enumerate()
            .map(|(i, r)| (snm_key(r), i as u32))
            .collect();
        all.par_sort_unstable();
        for a in 0..all.len() {
            for b in (a + 1)..all.len().min(a + 1 + opts.window) {
                let (i, j) = (all[a].1.min(all[b].1), all[a].1.max(all[b].1));
                pairs.push(pack(i, j));
            }
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(unpack).collect()
}

#[cfg(test)]
mod tests {
    use super::super::fs::{infer_fields, prepare};
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_on_any_key_and_skips_huge_blocks() {
        let mk = |n: &str, c: &str, s: &str| {
            json!({"name": n, "city": c, "state": s})
                .as_object()
                .cloned()
                .unwrap()
        };
        let left: Vec<_> = (0..30)
            .map(|i| mk(&format!("person{i} smith"), &format!("c{i}"), "nsw"))
            .collect();
        let mut right: Vec<_> = (0..30)
            .map(|i| mk(&format!("other{i} jones"), &format!("x{i}"), "nsw"))
            .collect();
        right.push(mk("person7 smyth", "c7", "vic"));
        let fields = infer_fields(left.iter().chain(&right));
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            max_block_pairs: 100,
            window: 0,
            prefix: 4,
        };
        let c = link_candidates(&fields, &l, &r, &opts);
        assert!(c.contains(&(7, 30)));
        // the `nsw` block (30 x 30) is skipped: far fewer than all pairs
        assert!(c.len() < 200, "{}", c.len());
        let all: Vec<_> = l.iter().chain(&r).cloned().collect();
        let d = dedup_candidates(&fields, &all, &opts);
        assert!(d.contains(&(7, 60)));
        assert!(d.iter().all(|(i, j)| i < j));
    }

    #[test]
    fn rare_token_pairs_find_duplicates_whose_fields_are_all_common() {
        // 40 people share every single value with 20+ others (each block is over the cap);
        // #0 and its duplicate (given name and surname swapped) share two rare tokens.
        let mk = |g: &str, s: &str, city: &str| {
            json!({"given": g, "surname": s, "city": city})
                .as_object()
                .cloned()
                .unwrap()
        };
        let mut recs: Vec<_> = (0..40)
            .map(|i| {
                let g = if i % 2 == 0 { "anna" } else { "ben" };
                let s = if i % 3 == 0 { "smith" } else { "jones" };
                mk(g, s, "springfield")
            })
            .collect();
        recs[0] = mk("zebulon anna", "quixotic smith", "springfield");
        recs.push(mk("quixotic smith", "zebulon anna", "springfield"));
        let fields = infer_fields(recs.iter());
        let p: Vec<_> = recs.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            max_block_pairs: 10,
            window: 0,
            prefix: 0,
        };
        let c = dedup_candidates(&fields, &p, &opts);
        assert!(c.contains(&(0, 40)), "{c:?}");
        assert!(c.len() < 40, "{}", c.len());
    }
}
