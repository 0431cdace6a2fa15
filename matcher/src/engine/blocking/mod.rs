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
use super::text::{is_model_number, mixed, ordinal, soundex_code};

mod link;
mod names;

pub use link::{link_candidates, link_rare_candidates};
use names::name_entries;

/// Blocking options.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockingOptions {
    /// Blocks with more candidate pairs than this are skipped. Default 45 (10 records):
    /// a block of common values (a surname, a postcode) pairs mostly strangers, and the
    /// duplicates in it share a rarer key too (100 gave the same F1 on Febrl 1-4 and
    /// Fodors-Zagats, and 0.0001 more at a million records, for twice the candidates).
    pub max_block_pairs: usize,
    /// Sorted-neighbourhood window (0 disables). Default 1: each record with the next
    /// in key order. With the rare-token keys in place, a window of 2 found 0.03% more of
    /// the true pairs of a million records for 1M more candidates (2.9 s of 14.5).
    pub window: usize,
    /// Prefix length for prefix keys (0 disables).
    pub prefix: usize,
}

impl Default for BlockingOptions {
    fn default() -> Self {
        Self {
            max_block_pairs: 45,
            window: 1,
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
    Rare,
    Digits,
    Compound,
}

/// A fast, deterministic 64-bit hash for blocking keys (fixed constants: the same input
/// always blocks the same way): 8 bytes at a time, multiply–rotate, a final avalanche.
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    #[inline]
    fn mix(&mut self, x: u64) {
        self.0 = (self.0 ^ x)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(31);
    }
}

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 60));
    }
    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.mix(u64::from(x) | 1 << 40);
    }
    #[inline]
    fn write_u16(&mut self, x: u16) {
        self.mix(u64::from(x) | 2 << 40);
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.mix(x);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // murmur3 fmix64
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

fn hash_of(k: &impl Hash) -> u64 {
    let mut h = KeyHasher::default();
    k.hash(&mut h);
    h.finish()
}

/// The hashed key `(kind, field, bytes)`.
#[inline]
fn key(kind: KeyKind, f: u16, bytes: &[u8]) -> u64 {
    let mut h = KeyHasher::default();
    h.write_u8(kind as u8);
    h.write_u16(f);
    h.write(bytes);
    h.finish()
}

/// Appends the hashed blocking keys of field `f` of one prepared record to `out`
/// (`joined`: scratch space).
fn field_keys(
    fields: &[FieldSpec],
    f: usize,
    r: &Prepared,
    opts: &BlockingOptions,
    joined: &mut String,
    out: &mut Vec<u64>,
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
            let d = v.digits.as_bytes();
            out.push(key(KeyKind::Exact, f, d));
            if opts.prefix > 0 && d.len() > opts.prefix + 1 {
                // both halves, so one edit leaves one key intact
                let mid = d.len() / 2;
                let mut h = KeyHasher::default();
                h.write_u8(KeyKind::Prefix as u8);
                h.write_u16(f);
                h.write_u8(b'<');
                h.write(&d[..mid]);
                out.push(h.finish());
                let mut h = KeyHasher::default();
                h.write_u8(KeyKind::Prefix as u8);
                h.write_u16(f);
                h.write_u8(b'>');
                h.write(&d[mid..]);
                out.push(h.finish());
            }
        }
        FieldKind::Number => out.push(key(KeyKind::Exact, f, v.norm.as_bytes())),
        FieldKind::Date => {
            let d = v.norm.as_bytes();
            out.push(key(KeyKind::Exact, f, d));
            if d.len() == 8 {
                // year+month, month+day, year+day: one wrong part leaves a key intact;
                // an unknown part (zeros) makes no key
                let (y, m, dd) = (&d[..4], &d[4..6], &d[6..]);
                let known = |p: &[u8]| p.iter().any(|&b| b != b'0');
                for (tag, x, y2) in [(b'a', y, m), (b'b', m, dd), (b'c', y, dd)] {
                    if known(x) && known(y2) {
                        let mut h = KeyHasher::default();
                        h.write_u8(KeyKind::Prefix as u8);
                        h.write_u16(f);
                        h.write_u8(tag);
                        h.write(x);
                        h.write(y2);
                        out.push(h.finish());
                    }
                }
            }
        }
        FieldKind::Text => {
            joined.clear();
            let mut multi = false;
            for t in v.tokens() {
                if !joined.is_empty() {
                    multi = true;
                }
                joined.push_str(t);
            }
            if multi {
                for t in v.tokens() {
                    if t.len() > 1 {
                        out.push(key(KeyKind::Token, f, t.as_bytes()));
                    }
                }
                model_number_keys(v.norm, f, out);
            }
            if opts.prefix > 0 {
                let end = joined
                    .char_indices()
                    .nth(opts.prefix)
                    .map_or(joined.len(), |(i, _)| i);
                out.push(key(KeyKind::Prefix, f, &joined.as_bytes()[..end]));
            }
            out.push(key(KeyKind::Exact, f, joined.as_bytes()));
            // the digits of a text with a code in it (a model number written `KO-2152` or
            // `ko2152`, a flight, a part): the same digits however the letters are spaced
            if v.digits.len() >= 3 {
                out.push(key(KeyKind::Digits, f, v.digits.as_bytes()));
                // and each run of three or more digits on its own: the code's digits
                // whichever other numbers the text holds and in whatever order
                // (`4k charger UM-4685` and `Charger UM4685 - 4k`)
                for run in v.norm.as_bytes().split(|b| !b.is_ascii_digit()) {
                    if run.len() >= 3 && run.len() < v.digits.len() {
                        out.push(key(KeyKind::Digits, f, run));
                    }
                }
            }
            if let Some(code) = soundex_code(v.norm) {
                out.push(key(KeyKind::Phonetic, f, &code));
            }
        }
    }
}

/// Keys that let one model number meet however a catalogue writes it (see
/// `fs::compare::shared_code`): two short neighbouring words that join into one
/// (`llr-b69w` and `llrb69w`) give the joined word's token key, and a model number of six
/// or more characters also gives its first five's (`cz23xna`, with a region's suffix, and
/// `cz23x`). Model numbers too short for a run of three digits (the digit keys) met no
/// other key of theirs (product_catalog_link: 29 of 1,058 true pairs).
fn model_number_keys(norm: &str, f: u16, out: &mut Vec<u64>) {
    if !norm.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    let mut scratch = String::new();
    let mut prev: Option<&str> = None;
    for t in norm.split(' ').filter(|t| !t.is_empty()) {
        if is_model_number(t) && t.len() > MODEL_PREFIX {
            out.push(key(KeyKind::Token, f, &t.as_bytes()[..MODEL_PREFIX]));
        }
        // a code split by a hyphen: a short head (`llr`, `och`, `zm2`) that is no house
        // number or unit word (`12 main`, `apt 4b`), a short tail, neither a street's
        // ordinal (`w 79th`, `79th st`), not two codes side by side (`f31g e82k`: a list
        // of classes)
        if let Some(p) = prev.filter(|p| split_code(p, t)) {
            scratch.clear();
            scratch.push_str(p);
            scratch.push_str(t);
            if is_model_number(&scratch) {
                out.push(key(KeyKind::Token, f, scratch.as_bytes()));
                if scratch.len() > MODEL_PREFIX {
                    out.push(key(KeyKind::Token, f, &scratch.as_bytes()[..MODEL_PREFIX]));
                }
            }
        }
        prev = Some(t);
    }
}

/// Whether two neighbouring words may be one code split by a hyphen
/// ([`model_number_keys`]).
fn split_code(head: &str, tail: &str) -> bool {
    if head.len() > 4 || tail.len() > 5 || head.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if (mixed(head) && mixed(tail)) || ordinal(head) || ordinal(tail) {
        return false;
    }
    // a unit word (`apt`, `box`); a head with a digit in it is none
    head.bytes().any(|b| b.is_ascii_digit()) || !crate::engine::lexicon::only_unit_words(head)
}

/// Characters of a model number's prefix key ([`model_number_keys`]).
const MODEL_PREFIX: usize = 5;

/// Records per parallel task when computing keys.
const KEY_CHUNK: usize = 4096;

/// The tokens of a whole record, field-agnostic (so swapped fields still share them):
/// text tokens longer than one character and the digits of code fields, hashed, unique,
/// appended to `out`.
fn record_tokens(fields: &[FieldSpec], r: &Prepared, out: &mut Vec<u64>) {
    let start = out.len();
    for (spec, v) in fields.iter().zip(r.values()) {
        match spec.kind {
            FieldKind::Code if !v.digits.is_empty() => out.push(hash_of(&v.digits)),
            FieldKind::Date if full_date(v.norm) => out.push(hash_of(&v.norm)),
            FieldKind::Code | FieldKind::Date | FieldKind::Number => {}
            FieldKind::Text => out.extend(v.tokens().filter(|t| t.len() > 1).map(|t| hash_of(&t))),
        }
    }
    out[start..].sort_unstable();
    let mut w = start;
    for k in start..out.len() {
        if k == start || out[k] != out[w - 1] {
            out[w] = out[k];
            w += 1;
        }
    }
    out.truncate(w);
}

/// Whether a canonical date (`YYYYMMDD`, zeros for unknown parts) has every part.
fn full_date(d: &str) -> bool {
    d.len() == 8
        && d.get(..4) != Some("0000")
        && d.get(4..6) != Some("00")
        && d.get(6..) != Some("00")
}

/// Tokens per record taken for rare-token keys.
const RARE_TOKENS: usize = 4;

/// A map keyed by values that are already hashes.
type HashedMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdentityHasher>>;

/// Hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Rare-token keys: one key per pair of the record's [`RARE_TOKENS`] rarest tokens that
/// occur at least twice in the data (a token seen once, often a typo, cannot be shared).
/// Two records with the same two rare tokens are worth comparing however common each of
/// their single fields is; this keeps recall when every single-field block of a large
/// set is over the cap (a million records: every postcode, date and street name).
fn rare_keys(tokens: &[u64], freq: &[HashedMap<u32>], out: &mut Vec<u64>) {
    let mut rare: Vec<(u32, u64)> = tokens
        .iter()
        .filter_map(|t| {
            freq.get(shard(*t))?
                .get(t)
                .filter(|&&n| n >= 2)
                .map(|&n| (n, *t))
        })
        .collect();
    rare.sort_unstable();
    rare.truncate(RARE_TOKENS);
    for a in 0..rare.len() {
        for b in (a + 1)..rare.len() {
            let (x, y) = (rare[a].1.min(rare[b].1), rare[a].1.max(rare[b].1));
            let mut h = KeyHasher::default();
            h.write_u8(KeyKind::Rare as u8);
            h.write_u64(x);
            h.write_u64(y);
            out.push(h.finish());
        }
    }
}

/// `(hashed key, record)` entries of field `f` of every record (each key once per
/// record), into `out` (cleared first; its memory is reused).
fn field_entries(
    fields: &[FieldSpec],
    f: usize,
    records: &[Prepared],
    opts: &BlockingOptions,
    out: &mut Vec<(u64, u32)>,
) {
    keyed_entries(
        records,
        |r, joined: &mut String, ks| field_keys(fields, f, r, opts, joined, ks),
        out,
    );
}

/// `(key, record)` entries of `records` into `out`: `keys(record, scratch, keys)` appends a
/// record's keys (computed in parallel, chunk by chunk, each chunk with its own scratch);
/// each record's keys once.
fn keyed_entries<S: Default>(
    records: &[Prepared],
    keys: impl Fn(&Prepared, &mut S, &mut Vec<u64>) + Sync,
    out: &mut Vec<(u64, u32)>,
) {
    let parts: Vec<Vec<(u64, u32)>> = records
        .par_chunks(KEY_CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut out = Vec::with_capacity(chunk.len() * 4);
            let (mut scratch, mut ks) = (S::default(), Vec::new());
            for (k, r) in chunk.iter().enumerate() {
                ks.clear();
                keys(r, &mut scratch, &mut ks);
                ks.sort_unstable();
                ks.dedup();
                let i = (c * KEY_CHUNK + k) as u32;
                out.extend(ks.iter().map(|&h| (h, i)));
            }
            out
        })
        .collect();
    out.clear();
    out.reserve(parts.iter().map(Vec::len).sum());
    for p in &parts {
        out.extend_from_slice(p);
    }
}

/// Sorts `(key, record)` entries and appends the pairs of every block (run of one key)
/// within the cap to `pairs`; the members of a block over the cap with at most
/// [`BIG_BLOCK`] records go to `big` (see [`BigBlocks`]).
fn block_pairs(
    entries: &mut Vec<(u64, u32)>,
    scratch: &mut Vec<(u64, u32)>,
    max_block_pairs: usize,
    pairs: &mut Vec<u64>,
    big: &mut BigBlocks,
) {
    sort_hashed(entries, scratch);
    for run in entries.chunk_by(|a, b| a.0 == b.0) {
        let n = run.len();
        if n < 2 {
            continue;
        }
        if n * (n - 1) / 2 > max_block_pairs {
            if n <= BIG_BLOCK {
                big.push(run.iter().map(|e| e.1));
            }
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

/// Most records of a block over the cap that is kept for [`BigBlocks`].
pub const BIG_BLOCK: usize = 2000;

/// The blocks over the cap (with at most [`BIG_BLOCK`] records): a value shared by
/// strangers (a state, a common surname) or one entity with hundreds of records (an
/// inventor's mentions, a company's branches). Blocking cannot tell them apart; the
/// fitted model can, on a sample of each block's pairs (see `linkage::dedup_prepared`).
/// Members of each block, sorted and unique, stored flat.
#[derive(Debug, Default, Clone)]
pub struct BigBlocks {
    pub members: Vec<u32>,
    pub ends: Vec<usize>,
}

impl BigBlocks {
    fn push(&mut self, m: impl Iterator<Item = u32>) {
        let start = self.members.len();
        self.members.extend(m);
        self.members[start..].sort_unstable();
        let mut w = start;
        for k in start..self.members.len() {
            if k == start || self.members[k] != self.members[w - 1] {
                self.members[w] = self.members[k];
                w += 1;
            }
        }
        self.members.truncate(w);
        self.ends.push(w);
    }

    /// The blocks, each once (the same members under several keys are one block).
    pub fn blocks(&self) -> Vec<&[u32]> {
        let mut out: Vec<&[u32]> = Vec::with_capacity(self.ends.len());
        let mut start = 0;
        for &e in &self.ends {
            out.push(&self.members[start..e]);
            start = e;
        }
        out.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        out.dedup();
        out
    }

    fn extend(&mut self, other: BigBlocks) {
        let off = self.members.len();
        self.members.extend(other.members);
        self.ends.extend(other.ends.into_iter().map(|e| e + off));
    }
}

/// Top bits of a hashed key that pick its bucket in [`sort_hashed`].
const BUCKET_BITS: u32 = 16;

/// Sorts `(hashed key, record)` entries: one counting pass scatters them into buckets by
/// the top [`BUCKET_BITS`] of the key (hashes spread evenly, so a million entries make
/// buckets of a few dozen), then the buckets are sorted in parallel, each in cache. Same
/// order as `sort_unstable`, in a fraction of the comparisons.
/// `scratch` is reused between calls (blocking sorts one such vector per field: fresh
/// memory each time costs more in page faults than the sort itself).
fn sort_hashed(entries: &mut Vec<(u64, u32)>, scratch: &mut Vec<(u64, u32)>) {
    if entries.len() < 1 << BUCKET_BITS {
        entries.par_sort_unstable();
        return;
    }
    let bucket = |k: u64| (k >> (64 - BUCKET_BITS)) as usize;
    let mut next = vec![0usize; 1 << BUCKET_BITS];
    for e in entries.iter() {
        next[bucket(e.0)] += 1;
    }
    let mut start = 0;
    for n in next.iter_mut() {
        (*n, start) = (start, start + *n);
    }
    scratch.clear();
    scratch.resize(entries.len(), (0, 0));
    for &e in entries.iter() {
        let b = &mut next[bucket(e.0)];
        scratch[*b] = e;
        *b += 1;
    }
    scratch
        .par_chunk_by_mut(|a, b| bucket(a.0) == bucket(b.0))
        .for_each(<[(u64, u32)]>::sort_unstable);
    std::mem::swap(entries, scratch);
}

/// Packs a pair of record numbers.
#[inline]
pub fn pack(i: u32, j: u32) -> u64 {
    ((i as u64) << 32) | j as u64
}

/// Unpacks a pair of record numbers.
#[inline]
pub fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Bytes of a record's sorted-neighbourhood key that are compared.
const SNM_KEY_BYTES: usize = 24;

/// A sort key for the sorted-neighbourhood pass: the values of the record's fields in
/// order (tokens joined, fields ended by `|`), of which the first [`SNM_KEY_BYTES`] bytes
/// are packed big-endian, so comparing the integers compares the bytes; records whose
/// keys agree that far are ordered by what follows the key in the sorted tuple (record
/// number; in linking, side then record number). No allocation per record, and a million
/// keys sort as integers.
fn snm_key(r: &Prepared) -> (u128, u64) {
    let mut buf = [0u8; SNM_KEY_BYTES];
    let mut n = 0;
    'fields: for v in r.values() {
        for t in v.tokens() {
            for &b in t.as_bytes() {
                if n == SNM_KEY_BYTES {
                    break 'fields;
                }
                buf[n] = b;
                n += 1;
            }
        }
        if n == SNM_KEY_BYTES {
            break;
        }
        buf[n] = b'|';
        n += 1;
    }
    let mut hi = [0u8; 16];
    let mut lo = [0u8; 8];
    hi.copy_from_slice(&buf[..16]);
    lo.copy_from_slice(&buf[16..]);
    (u128::from_be_bytes(hi), u64::from_be_bytes(lo))
}

/// The coarse value of one field for compound keys: the sound of a text (Soundex of its
/// first word), the year of a date, the digits of a code, a number as written; `None` when
/// missing or unknown.
fn coarse(spec: &FieldSpec, v: &super::fs::Value<'_>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    match spec.kind {
        FieldKind::Text => soundex_code(v.norm).map(|c| hash_of(&c)),
        FieldKind::Date => {
            let y = v.norm.get(..4)?;
            (y != "0000").then(|| hash_of(&y))
        }
        FieldKind::Code => (!v.digits.is_empty()).then(|| hash_of(&v.digits)),
        FieldKind::Number => Some(hash_of(&v.norm)),
    }
}

/// Compound keys of one record: one per pair of fields holding a value, from their coarse
/// values ([`coarse`]). Two fields together make small blocks where each alone makes one too
/// big to pair (a common surname; a birth year), yet a coarse value survives a typo, a
/// nickname's shared sound or a day written wrong: a true pair whose every field differs
/// somewhat, or whose one exact field is common, still shares one of these.
fn compound_keys(
    fields: &[FieldSpec],
    r: &Prepared,
    codes: &mut Vec<(u16, u64)>,
    out: &mut Vec<u64>,
) {
    codes.clear();
    for (f, spec) in fields.iter().enumerate() {
        if let Some(c) = coarse(spec, &r.value(f)) {
            codes.push((f as u16, c));
        }
    }
    for (a, &(f, cf)) in codes.iter().enumerate() {
        for &(g, cg) in &codes[a + 1..] {
            let mut h = KeyHasher::default();
            h.write_u8(KeyKind::Compound as u8);
            h.write_u16(f);
            h.write_u16(g);
            h.write_u64(cf);
            h.write_u64(cg);
            out.push(h.finish());
        }
    }
}

/// `(compound key, record)` entries of `records` (see [`compound_keys`]).
fn compound_entries(fields: &[FieldSpec], records: &[Prepared]) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    keyed_entries(
        records,
        |r, codes: &mut Vec<(u16, u64)>, ks| compound_keys(fields, r, codes, ks),
        &mut out,
    );
    out
}

/// Shards of the token frequency map (built in parallel, one shard per task).
const FREQ_SHARDS: usize = 8;

/// The shard of a token hash (middle bits: the map itself uses the low and the top ones).
#[inline]
fn shard(t: u64) -> usize {
    ((t >> 40) as usize) % FREQ_SHARDS
}

/// Every record's unique tokens ([`record_tokens`]), flat per chunk of [`KEY_CHUNK`]
/// records (`ends[k]`: end of the chunk's record k's tokens).
type ChunkTokens = Vec<(Vec<u64>, Vec<u32>)>;

/// The [`ChunkTokens`] of `records`, chunks in parallel.
fn chunk_tokens(fields: &[FieldSpec], records: &[Prepared]) -> ChunkTokens {
    records
        .par_chunks(KEY_CHUNK)
        .map(|chunk| {
            let (mut toks, mut ends) = (Vec::new(), Vec::with_capacity(chunk.len()));
            for r in chunk {
                record_tokens(fields, r, &mut toks);
                ends.push(toks.len() as u32);
            }
            (toks, ends)
        })
        .collect()
}

/// How many records hold each token, over every side given, in [`FREQ_SHARDS`] maps
/// built in parallel (a token's map: [`shard`]).
fn token_frequencies(sides: &[&ChunkTokens]) -> Vec<HashedMap<u32>> {
    (0..FREQ_SHARDS)
        .into_par_iter()
        .map(|s| {
            let mut m = HashedMap::default();
            for (toks, _) in sides.iter().flat_map(|p| p.iter()) {
                for &t in toks {
                    if shard(t) == s {
                        *m.entry(t).or_default() += 1;
                    }
                }
            }
            m
        })
        .collect()
}

/// `(rare-token key, record)` entries ([`rare_keys`]) of the records of `parts`.
fn rare_entries(parts: &ChunkTokens, freq: &[HashedMap<u32>]) -> Vec<(u64, u32)> {
    let entries: Vec<Vec<(u64, u32)>> = parts
        .par_iter()
        .enumerate()
        .map(|(c, (toks, ends))| {
            let (mut out, mut ks) = (Vec::new(), Vec::new());
            let mut start = 0usize;
            for (k, &end) in ends.iter().enumerate() {
                ks.clear();
                rare_keys(&toks[start..end as usize], freq, &mut ks);
                start = end as usize;
                let i = (c * KEY_CHUNK + k) as u32;
                out.extend(ks.iter().map(|&h| (h, i)));
            }
            out
        })
        .collect();
    entries.concat()
}
/// Packed pairs of the records sharing a rare-token key ([`rare_keys`]).
fn rare_pairs(
    fields: &[FieldSpec],
    records: &[Prepared],
    max_block_pairs: usize,
) -> (Vec<u64>, BigBlocks) {
    let parts = chunk_tokens(fields, records);
    let freq = token_frequencies(&[&parts]);
    let mut entries = rare_entries(&parts, &freq);
    drop(parts);
    let (mut pairs, mut big) = (Vec::new(), BigBlocks::default());
    block_pairs(
        &mut entries,
        &mut Vec::new(),
        max_block_pairs,
        &mut pairs,
        &mut big,
    );
    (pairs, big)
}

/// Packed pairs of records within `window` of each other in [`snm_key`] order.
fn snm_pairs(records: &[Prepared], window: usize) -> Vec<u64> {
    let mut pairs = Vec::new();
    if window == 0 {
        return pairs;
    }
    let mut all: Vec<((u128, u64), u32)> = records
        .par_iter()
        .enumerate()
        .map(|(i, r)| (snm_key(r), i as u32))
        .collect();
    all.par_sort_unstable();
    pairs.reserve(all.len() * window);
    for a in 0..all.len() {
        for b in (a + 1)..all.len().min(a + 1 + window) {
            let (i, j) = (all[a].1.min(all[b].1), all[a].1.max(all[b].1));
            pairs.push(pack(i, j));
        }
    }
    pairs
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
    dedup_candidates_and_big(fields, records, opts).0
}

/// [`dedup_candidates`] and the blocks over the cap ([`BigBlocks`]).
pub fn dedup_candidates_and_big(
    fields: &[FieldSpec],
    records: &[Prepared],
    opts: &BlockingOptions,
) -> (Vec<(u32, u32)>, BigBlocks) {
    let t0 = std::time::Instant::now();
    let mut pairs: Vec<u64> = Vec::new();
    let mut big = BigBlocks::default();
    let (mut entries, mut scratch) = (Vec::new(), Vec::new());
    for f in 0..fields.len() {
        field_entries(fields, f, records, opts, &mut entries);
        block_pairs(
            &mut entries,
            &mut scratch,
            opts.max_block_pairs,
            &mut pairs,
            &mut big,
        );
    }
    // the whole name (name fields' tokens, sorted: swapped given name and surname agree)
    // exact names only: in one file, records that merely sound alike pair strangers
    // whose sparse records (a name and a town) then chain clusters together
    // (person-split: precision 0.919 -> 0.898 with the sound key)
    name_entries(fields, records, false, names::NameShard::ALL, &mut entries);
    block_pairs(
        &mut entries,
        &mut scratch,
        opts.max_block_pairs,
        &mut pairs,
        &mut big,
    );
    let (t_fields, n_fields) = (t0.elapsed(), pairs.len());
    // the two passes over whole records run side by side (their serial parts overlap)
    let (rare, snm) = rayon::join(
        || rare_pairs(fields, records, opts.max_block_pairs),
        || snm_pairs(records, opts.window),
    );
    let (rare, rare_big) = rare;
    big.extend(rare_big);
    let (n_rare, n_snm) = (rare.len(), snm.len());
    pairs.extend(rare);
    pairs.extend(snm);
    let t_rest = t0.elapsed();
    pairs.par_sort_unstable();
    pairs.dedup();
    let out: Vec<(u32, u32)> = pairs.into_iter().map(unpack).collect();
    tracing::debug!(fields = ?t_fields, rare_and_snm = ?t_rest, sort = ?t0.elapsed(),
        field_pairs = n_fields, rare_pairs = n_rare, snm_pairs = n_snm,
        unique = out.len(), big_blocks = big.ends.len(), "dedup blocking (cumulative)");
    (out, big)
}

#[cfg(test)]
mod tests {
    use super::super::fs::{infer_fields, prepare};
    use super::*;
    use serde_json::json;

    #[test]
    fn one_model_number_written_apart_shares_a_key_and_addresses_make_none() {
        let keys = |s: &str| {
            let mut out = Vec::new();
            model_number_keys(s, 0, &mut out);
            out
        };
        let word = |w: &str| key(KeyKind::Token, 0, w.as_bytes());
        // split by a hyphen on one side, a region's suffix on the other
        assert!(keys("haclyon professional llr b69w display").contains(&word("llrb69w")));
        assert!(keys("acme gaming och 699 speaker system").contains(&word("och699")));
        assert!(keys("titan 4k uc5 248 mouse").contains(&word("uc5248")));
        assert!(keys("halcyon bluetooth cz23xna power adapter").contains(&word("cz23x")));
        // a house number, a unit, a street's ordinal, a list of classes, words without
        // digits: no key of their own
        for s in [
            "12 main st springfield",
            "apt 4b 12 main st",
            "1139 w 79th st",
            "12 125th st",
            "unit 12 main st",
            "f31g e82k f19e e05f",
            "professional display",
        ] {
            assert!(keys(s).is_empty(), "{s}: {:?}", keys(s));
        }
    }

    #[test]
    fn bucketed_sort_equals_a_plain_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for n in [10usize, 200_000] {
            // hashed keys, a few repeated (blocks), some records twice
            let mut v: Vec<(u64, u32)> = (0..n)
                .map(|_| {
                    (
                        rng.random::<u64>() >> rng.random_range(0..3),
                        rng.random_range(0..50),
                    )
                })
                .collect();
            let dup: Vec<(u64, u32)> = v.iter().take(n / 10).map(|e| (e.0, e.1 + 1)).collect();
            v.extend(dup);
            let mut want = v.clone();
            want.sort_unstable();
            sort_hashed(&mut v, &mut Vec::new());
            assert_eq!(v, want);
        }
    }

    #[test]
    fn a_person_who_moved_pairs_by_name_however_swapped_shortened_or_mistyped() {
        let mk = |first: &str, last: &str, street: String, city: String| {
            json!({"first_name": first, "last_name": last, "street": street, "city": city})
                .as_object()
                .cloned()
                .unwrap()
        };
        // (left, right) names of one person; every other value differs
        let people = [
            (("steven", "johnson"), ("johnson", "steven")), // swapped
            (("bill", "garcia"), ("william", "garcia")),    // nickname
            (("mike", "ashford"), ("michael", "ashfrod")),  // nickname and typo
            (("sanleyton", "mike"), ("michael", "sanleytno")), // all three
        ];
        // a crowd of the same surnames makes every single-field block too big to pair
        let mut left: Vec<_> = Vec::new();
        let mut right: Vec<_> = Vec::new();
        for (k, ((lf, ll), (rf, rl))) in people.iter().enumerate() {
            left.push(mk(lf, ll, format!("{k} oak st"), format!("town{k}")));
            right.push(mk(rf, rl, format!("{k}9 elm rd"), format!("city{k}")));
        }
        for i in 0..40 {
            for last in ["johnson", "garcia", "ashford", "michael"] {
                left.push(mk(
                    &format!("x{i}"),
                    last,
                    format!("{i} a st"),
                    format!("t{i}"),
                ));
                right.push(mk(
                    &format!("y{i}"),
                    last,
                    format!("{i} b st"),
                    format!("c{i}"),
                ));
            }
        }
        let fields = infer_fields(left.iter().chain(&right));
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            window: 0,
            ..BlockingOptions::default()
        };
        let c = link_candidates(&fields, &l, &r, &opts);
        for k in 0..people.len() as u32 {
            assert!(c.contains(&(k, k)), "{k}: {:?}", people[k as usize]);
        }
    }

    #[test]
    fn a_surname_too_common_to_pair_is_sub_blocked_by_the_given_names_initial() {
        let mk = |first: &str, last: &str, street: String, city: String| {
            json!({"first_name": first, "last_name": last, "street": street, "city": city})
                .as_object()
                .cloned()
                .unwrap()
        };
        // a household of ten on each side shares the surname (a block of 100 pairs, over
        // the cap); the person moved, and the given name is two typos apart (no shared
        // sound, no one-typo neighbour); a nickname's full form has the other initial
        let people = [
            (("charels", "ashstonesan"), ("chales", "ashstonesan")),
            (("bill", "ardmandor"), ("wiliam", "ardmandor")),
            (("stonehamow", "jmaes"), ("jaems", "stonehamow")), // and swapped
        ];
        let mut left: Vec<_> = Vec::new();
        let mut right: Vec<_> = Vec::new();
        for (k, ((lf, ll), (rf, rl))) in people.iter().enumerate() {
            left.push(mk(lf, ll, format!("{k} oak st"), format!("town{k}")));
            right.push(mk(rf, rl, format!("{k}9 elm rd"), format!("city{k}")));
        }
        for i in 0..9 {
            for last in ["ashstonesan", "ardmandor", "stonehamow"] {
                // given names of other initials than the people's
                left.push(mk(
                    &format!("x{i}"),
                    last,
                    format!("{i} a st"),
                    format!("t{i}"),
                ));
                right.push(mk(
                    &format!("y{i}"),
                    last,
                    format!("{i} b st"),
                    format!("c{i}"),
                ));
            }
        }
        let fields = infer_fields(left.iter().chain(&right));
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            window: 0,
            ..BlockingOptions::default()
        };
        let c = link_candidates(&fields, &l, &r, &opts);
        for k in 0..people.len() as u32 {
            assert!(c.contains(&(k, k)), "{k}: {:?}", people[k as usize]);
        }
        // the crowd, of other initials, is not paired by its surname
        let crowd = c.iter().filter(|&&(i, j)| i >= 3 && j >= 3).count();
        assert!(crowd < 81, "{crowd} of the crowd's 729 pairs");
    }

    #[test]
    fn a_column_of_whole_names_pairs_with_one_typo_in_each_word_as_two_columns_do() {
        let mk = |name: &str, street: String, city: String| {
            json!({"name": name, "street": street, "city": city})
                .as_object()
                .cloned()
                .unwrap()
        };
        // (left, right) names of one person, each word a typo apart (the first letters
        // too, so no whole-value sound is shared); every other value differs
        let people = [
            ("hcarles a ichanstone", "charles ichanstone"),
            ("wliliam garcia", "william gracia"),
            ("JONHSON, Mary", "mray johnson"),
        ];
        let mut left: Vec<_> = Vec::new();
        let mut right: Vec<_> = Vec::new();
        for (k, (l, r)) in people.iter().enumerate() {
            left.push(mk(l, format!("{k} oak st"), format!("town{k}")));
            right.push(mk(r, format!("{k}9 elm rd"), format!("city{k}")));
        }
        // a crowd of the same surnames and given names: every word's block is too big to
        // pair
        let given = [
            "james", "john", "robert", "linda", "susan", "karen", "paul", "mark", "david", "laura",
        ];
        let mut n = 0;
        for s in ["ichanstone", "garcia", "gracia", "johnson", "jonhson"] {
            for g in given {
                for _ in 0..2 {
                    n += 1;
                    left.push(mk(
                        &format!("{g} {s}"),
                        format!("{n} a st"),
                        format!("t{n}"),
                    ));
                    right.push(mk(
                        &format!("{g} {s}"),
                        format!("{n} b st"),
                        format!("c{n}"),
                    ));
                }
            }
        }
        let fields = infer_fields(left.iter().chain(&right));
        assert!(
            fields.iter().any(|f| f.name == "name" && f.person_name),
            "{fields:?}"
        );
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            window: 0,
            ..BlockingOptions::default()
        };
        let c = link_candidates(&fields, &l, &r, &opts);
        for k in 0..people.len() as u32 {
            assert!(c.contains(&(k, k)), "{k}: {:?}", people[k as usize]);
        }
    }

    #[test]
    fn whole_name_keys_in_shards_are_the_keys_at_once() {
        let people = [
            "paul lee",
            "dylan adams",
            "frank lopez",
            "bill garcia",
            "ann ng",
        ];
        let recs: Vec<_> = people
            .iter()
            .map(|n| {
                let (first, last) = n.split_once(' ').unwrap();
                json!({"first_name": first, "last_name": last})
                    .as_object()
                    .cloned()
                    .unwrap()
            })
            .collect();
        let fields = infer_fields(recs.iter());
        let p: Vec<_> = recs.iter().map(|r| prepare(&fields, r)).collect();
        let mut all = Vec::new();
        names::name_entries(&fields, &p, true, names::NameShard::ALL, &mut all);
        assert!(all.len() > 5 * 20, "near-name keys: {}", all.len());
        let shards: Vec<_> = names::NameShard::of(500_000).collect();
        assert_eq!(shards.len(), 3);
        let mut union = Vec::new();
        for s in shards {
            let mut e = Vec::new();
            names::name_entries(&fields, &p, true, s, &mut e);
            assert!(!e.is_empty() && e.len() < all.len());
            assert!(e.iter().all(|k| k.0 % s.count == s.index));
            union.extend(e);
        }
        all.sort_unstable();
        union.sort_unstable();
        assert_eq!(union, all);
    }

    #[test]
    fn a_name_with_a_typo_in_each_word_pairs_when_nothing_else_agrees() {
        let mk = |first: &str, last: &str, street: &str, city: &str| {
            json!({"first_name": first, "last_name": last, "street_name": street, "city": city})
                .as_object()
                .cloned()
                .unwrap()
        };
        // every other value differs; each word of the name has one typo
        let left = [
            mk("dpaul", "lme", "fener blvd", "anez"),
            mk("dylan", "adasm", "kelbrook ave", "anleyov"),
            mk("lopez", "frnak", "ashgar pl", "ovholwood"),
        ];
        let right = [
            mk("paul", "lee", "woodson st", "anbrookford"),
            mk("ddlan", "adams", "ezdor way", "anberwell"),
            mk("frank", "olpez", "roskel ct", "ardpergar"),
        ];
        let fields = infer_fields(left.iter().chain(&right));
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            window: 0,
            ..BlockingOptions::default()
        };
        let c = link_candidates(&fields, &l, &r, &opts);
        assert_eq!(c, vec![(0, 0), (1, 1), (2, 2)]);
        // in a dedup of both tables too (a small file)
        let all: Vec<_> = l.iter().chain(&r).cloned().collect();
        let c = dedup_candidates(&fields, &all, &opts);
        for k in 0..3 {
            assert!(c.contains(&(k, k + 3)), "{k}: {c:?}");
        }
    }

    #[test]
    fn link_records_sharing_two_rare_tokens_in_any_fields_pair() {
        let mk = |title: &str, authors: &str| {
            json!({"title": title, "authors": authors, "venue": "sigmod record", "year": "1997"})
                .as_object()
                .cloned()
                .unwrap()
        };
        let mut left = vec![mk(
            "foreword: management of semistructured data",
            "dan suciu",
        )];
        let mut right = vec![mk("management of semistructured data", "d. suciu")];
        for i in 0..12 {
            left.push(mk(
                &format!("paper {i} on data"),
                &format!("author{i} smith"),
            ));
            right.push(mk(
                &format!("study {i} of data"),
                &format!("writer{i} jones"),
            ));
        }
        let fields = infer_fields(left.iter().chain(&right));
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let c = link_rare_candidates(&fields, &l, &r, &BlockingOptions::default());
        assert!(c.contains(&(0, 0)), "{c:?}");
        // strangers share only common tokens (`data`, the venue, the year) or none
        assert!(c.iter().all(|&(i, j)| (i == 0) == (j == 0)), "{c:?}");
    }

    #[test]
    fn a_token_one_side_never_holds_leaves_the_rare_keys_to_shared_ones() {
        // the right catalogue adds a product code and an edition (`16200`, `cd-rom`,
        // each on two right records) to the title the left writes bare: counted, they
        // were the right record's rarest tokens and no key was shared
        let mk = |title: &str, maker: &str| {
            json!({"title": title, "maker": maker})
                .as_object()
                .cloned()
                .unwrap()
        };
        let mut left = vec![mk("ovwell essentials piano", "ovwell development")];
        let mut right = vec![mk(
            "ovwell development 16200 ovwell essentials piano cd-rom",
            "",
        )];
        right.push(mk("ovwell development 16200 ovwell garden cd-rom", ""));
        for i in 0..10 {
            left.push(mk(&format!("ovwell master t{i}x"), "ovwell development"));
            right.push(mk(&format!("ovwell development premier u{i}y"), ""));
            left.push(mk(&format!("piano lessons v{i}"), ""));
            right.push(mk(&format!("piano songs w{i}"), ""));
        }
        let fields = infer_fields(left.iter().chain(&right));
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let c = link_rare_candidates(&fields, &l, &r, &BlockingOptions::default());
        assert!(c.contains(&(0, 0)), "{c:?}");
    }

    #[test]
    fn a_common_surname_with_typos_pairs_by_its_sound_and_the_birth_year() {
        // 12 x 12 records whose surnames share one sound (a block of 144 pairs, skipped),
        // first names all different, birth dates in different years, months and days: only
        // the surname's sound together with the year pairs each true pair.
        let mk = |first: String, last: &str, dob: String| {
            json!({"first": first, "last": last, "dob": dob})
                .as_object()
                .cloned()
                .unwrap()
        };
        let left: Vec<_> = (0..12)
            .map(|i| mk(format!("ann{i}a"), "wlliams", format!("{}-01-01", 1950 + i)))
            .collect();
        let right: Vec<_> = (0..12)
            .map(|i| mk(format!("qu{i}b"), "williams", format!("{}-06-15", 1950 + i)))
            .collect();
        let fields = infer_fields(left.iter().chain(&right));
        assert!(
            fields.iter().any(|f| f.kind == FieldKind::Date),
            "{fields:?}"
        );
        let l: Vec<_> = left.iter().map(|r| prepare(&fields, r)).collect();
        let r: Vec<_> = right.iter().map(|r| prepare(&fields, r)).collect();
        let opts = BlockingOptions {
            window: 0,
            ..BlockingOptions::default()
        };
        let c = link_candidates(&fields, &l, &r, &opts);
        for k in 0..12u32 {
            assert!(c.contains(&(k, k)), "{k}: {c:?}");
        }
        assert_eq!(c.len(), 12, "{c:?}");
    }

    #[test]
    fn a_model_code_keys_on_its_digits_wherever_other_numbers_stand() {
        let recs: Vec<_> = [
            "orion digital professional 4k charger UM-4685",
            "Orion Charger UM4685 - digital professional 4k",
        ]
        .iter()
        .map(|t| json!({"title": t}).as_object().cloned().unwrap())
        .collect();
        let fields = infer_fields(recs.iter());
        let keys = |r| {
            let (mut joined, mut out) = (String::new(), Vec::new());
            field_keys(
                &fields,
                0,
                &prepare(&fields, r),
                &BlockingOptions::default(),
                &mut joined,
                &mut out,
            );
            out
        };
        let code = key(KeyKind::Digits, 0, b"4685");
        assert!(keys(&recs[0]).contains(&code));
        assert!(keys(&recs[1]).contains(&code));
    }

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
