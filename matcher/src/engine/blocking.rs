//! Multi-key blocking: candidate pairs are the union of the pairs sharing a key under
//! any of several key functions (exact values, tokens, prefixes, phonetic codes) plus a
//! sorted-neighbourhood window. Blocks whose pair count exceeds a cap (frequent values
//! such as a state code) are skipped, so no all-pairs matrix is ever built. The index
//! holds record numbers only; keys are computed one record at a time.

use std::collections::HashMap;

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

/// Blocking keys of one prepared record.
fn keys(fields: &[FieldSpec], r: &Prepared, opts: &BlockingOptions, out: &mut Vec<Key>) {
    out.clear();
    for (f, (spec, v)) in fields.iter().zip(&r.values).enumerate() {
        if v.is_empty() {
            continue;
        }
        let f = f as u16;
        match spec.kind {
            FieldKind::Code => {
                out.push((KeyKind::Exact, f, v.digits.clone()));
                if opts.prefix > 0 && v.digits.len() > opts.prefix + 1 {
                    // both halves, so one edit leaves one key intact
                    let mid = v.digits.len() / 2;
                    out.push((KeyKind::Prefix, f, format!("<{}", &v.digits[..mid])));
                    out.push((KeyKind::Prefix, f, format!(">{}", &v.digits[mid..])));
                }
            }
            FieldKind::Text => {
                out.push((KeyKind::Exact, f, v.tokens.concat()));
                if v.tokens.len() > 1 {
                    for t in &v.tokens {
                        if t.len() > 1 {
                            out.push((KeyKind::Token, f, t.clone()));
                        }
                    }
                }
                if opts.prefix > 0 {
                    let p: String = v.tokens.concat().chars().take(opts.prefix).collect();
                    out.push((KeyKind::Prefix, f, p));
                }
                let s = soundex(&v.norm);
                if !s.is_empty() {
                    out.push((KeyKind::Phonetic, f, s));
                }
            }
        }
    }
    out.sort();
    out.dedup();
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
    for v in &r.values {
        s.push_str(&v.tokens.concat());
        s.push('|');
    }
    s
}

/// Candidate pairs `(i, j)` between `left[i]` and `right[j]`, sorted, unique.
pub fn link_candidates(
    fields: &[FieldSpec],
    left: &[Prepared],
    right: &[Prepared],
    opts: &BlockingOptions,
) -> Vec<(u32, u32)> {
    let mut index: HashMap<Key, (Vec<u32>, Vec<u32>)> = HashMap::new();
    let mut buf = Vec::new();
    for (i, r) in left.iter().enumerate() {
        keys(fields, r, opts, &mut buf);
        for k in buf.drain(..) {
            index.entry(k).or_default().0.push(i as u32);
        }
    }
    for (j, r) in right.iter().enumerate() {
        keys(fields, r, opts, &mut buf);
        for k in buf.drain(..) {
            if let Some(e) = index.get_mut(&k) {
                e.1.push(j as u32);
            }
        }
    }
    let mut pairs: Vec<u64> = Vec::new();
    for (l, r) in index.values() {
        if l.is_empty() || r.is_empty() || l.len() * r.len() > opts.max_block_pairs {
            continue;
        }
        for &i in l {
            for &j in r {
                pairs.push(pack(i, j));
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
pub fn dedup_candidates(
    fields: &[FieldSpec],
    records: &[Prepared],
    opts: &BlockingOptions,
) -> Vec<(u32, u32)> {
    let mut index: HashMap<Key, Vec<u32>> = HashMap::new();
    let mut buf = Vec::new();
    for (i, r) in records.iter().enumerate() {
        keys(fields, r, opts, &mut buf);
        for k in buf.drain(..) {
            index.entry(k).or_default().push(i as u32);
        }
    }
    let mut pairs: Vec<u64> = Vec::new();
    for ids in index.values() {
        let n = ids.len();
        if n < 2 || n * (n - 1) / 2 > opts.max_block_pairs {
            continue;
        }
        for a in 0..n {
            for b in (a + 1)..n {
                let (i, j) = (ids[a].min(ids[b]), ids[a].max(ids[b]));
                pairs.push(pack(i, j));
            }
        }
    }
    if opts.window > 0 {
        let mut all: Vec<(String, u32)> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (snm_key(r), i as u32))
            .collect();
        all.sort();
        for a in 0..all.len() {
            for b in (a + 1)..all.len().min(a + 1 + opts.window) {
                let (i, j) = (all[a].1.min(all[b].1), all[a].1.max(all[b].1));
                pairs.push(pack(i, j));
            }
        }
    }
    pairs.sort_unstable();
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
}
