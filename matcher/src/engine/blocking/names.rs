//! Whole-name keys: the tokens of a person's name fields sorted (blind to a swapped given
//! name and surname), their sounds when linking, and near-name keys (each word within one
//! typo) for a two-word name; and, for links, each word with the others' initials. The
//! name fields are two or more (a given name and a surname), or one column of people's
//! whole names ([`FieldSpec::person_name`]).

use rayon::prelude::*;

use super::*;
/// Most records a dedup gives near-name keys ([`near_name_keys`], 50–90 a record);
/// linking always does, a shard of the keys at a time ([`NameShard`]). On the 10k-record
/// person_split set they raise blocking reach from 0.977 to 0.994 (F1 +0.001); on a
/// million Febrl-like records they would take the dedup from 15 s and 1.0 GiB to 33 s
/// and 4.2 GiB for +0.0004 F1.
const NEAR_KEYS_MAX_RECORDS: usize = 200_000;

/// Which of the whole-name keys one blocking pass keeps: those whose hash is `index`
/// modulo `count`. A key's records all fall in its shard, so each pass sees whole blocks,
/// and a link keys near names (with the exact and sound keys, about 95 a record of
/// Febrl-like names) in passes of [`NameShard::RECORDS`] records' worth. All the keys at
/// once took a link of 840k Febrl-like records to 101k from a peak of 2.6 GiB to 6.4 GiB
/// (89M keys); without near-name keys, a census of 102k rows linked to 120k tax forms lost a fortieth of its
/// true pairs to blocking (0.9969 -> 0.9810; without birth dates 0.9898 -> 0.9414).
#[derive(Debug, Clone, Copy)]
pub(super) struct NameShard {
    pub index: u64,
    pub count: u64,
}

impl NameShard {
    /// Every key in one pass.
    pub const ALL: Self = Self { index: 0, count: 1 };

    /// Records whose keys one pass holds.
    const RECORDS: usize = 200_000;

    /// The shards of a link of `records` records, both sides counted.
    pub fn of(records: usize) -> impl Iterator<Item = Self> {
        let count = records.div_ceil(Self::RECORDS).max(1) as u64;
        (0..count).map(move |index| Self { index, count })
    }

    fn holds(self, key: u64) -> bool {
        key % self.count == self.index
    }
}

/// The fields that hold a person's name: two or more (a given name and a surname), or a
/// column of people's whole names ([`FieldSpec::person_name`]), which holds the given
/// name and surname as two fields do (`chrles a ichanstone` left, `charles` +
/// `ichanstone` aligned as one on the right). `None` otherwise: no name keys.
fn person_name_fields(fields: &[FieldSpec]) -> Option<Vec<usize>> {
    let names = crate::engine::local::NameFields::detect(fields).names;
    let whole = names
        .iter()
        .any(|&f| fields.get(f).is_some_and(|s| s.person_name));
    (names.len() >= 2 || whole).then_some(names)
}

/// `(hashed whole-name key, record)` entries, into `out` (cleared first): when the name
/// is spread over two or more fields (a given name and a surname) or held whole in a
/// column of people's names, two keys per record,
/// both blind to which field holds which token (a swapped given name and surname):
/// - the tokens of the name fields (`crate::engine::local::NameFields`), sorted and joined;
/// - with `sounds_too` (linking), their sounds: each token's Soundex code after a short given name is read as its
///   full form ([`crate::engine::lexicon::nickname_formal`]: `bill` as `william`), sorted: a
///   nickname, a typo after the first letter, or both, keep the key;
/// - linking, or deduplicating up to [`NEAR_KEYS_MAX_RECORDS`] records, the near-name
///   keys of a two-word name ([`near_name_keys`]).
///
/// Only the keys of `shard`.
pub(super) fn name_entries(
    fields: &[FieldSpec],
    records: &[Prepared],
    sounds_too: bool,
    shard: NameShard,
    out: &mut Vec<(u64, u32)>,
) {
    out.clear();
    let Some(names) = person_name_fields(fields) else {
        return;
    };
    let near = sounds_too || records.len() <= NEAR_KEYS_MAX_RECORDS;
    let parts: Vec<Vec<(u64, u32)>> = records
        .par_chunks(KEY_CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut out = Vec::with_capacity(2 * chunk.len());
            let mut toks: Vec<&str> = Vec::new();
            let mut sounds: Vec<[u8; 4]> = Vec::new();
            let mut variants: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
            for (k, r) in chunk.iter().enumerate() {
                let id = (c * KEY_CHUNK + k) as u32;
                toks.clear();
                for &f in &names {
                    toks.extend(r.value(f).tokens().filter(|t| t.len() > 1));
                }
                if toks.len() < 2 {
                    continue;
                }
                toks.sort_unstable();
                let mut h = KeyHasher::default();
                h.write_u8(KeyKind::Exact as u8);
                h.write_u16(u16::MAX);
                for t in &toks {
                    h.write(t.as_bytes());
                    h.write_u8(b' ');
                }
                out.push((h.finish(), id));
                if near && toks.len() == 2 {
                    near_name_keys(&toks, &mut variants, &mut out, id);
                }
                if !sounds_too {
                    continue;
                }
                sounds.clear();
                sounds.extend(toks.iter().filter_map(|t| {
                    soundex_code(crate::engine::lexicon::nickname_formal(t).unwrap_or(t))
                }));
                if sounds.len() >= 2 {
                    sounds.sort_unstable();
                    let mut h = KeyHasher::default();
                    h.write_u8(KeyKind::Phonetic as u8);
                    h.write_u16(u16::MAX);
                    for code in &sounds {
                        h.write(code);
                    }
                    out.push((h.finish(), id));
                }
            }
            if shard.count > 1 {
                // each chunk holds its shard's keys alone, or every pass held them all
                out.retain(|e| shard.holds(e.0));
                out.shrink_to_fit();
            }
            out
        })
        .collect();
    out.reserve(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
}

/// `(hashed key, record)` entries, into `out` (cleared first): for a name of two or more
/// words (the name fields' tokens), one key per ordered pair of its words, the first
/// whole (two letters or more) and the other's initial, a short given name's full form's
/// too (`bill` as `w`): `ashstonesan` + `c`, and `smith` + `j` of `j smith`. Blind to
/// which field holds which word. They sub-block a surname too common to pair by itself
/// (ten of a household on each side) by the given name's initial, which outlasts the
/// typos and the spelling that part its sound and its one-typo neighbours (`charels` /
/// `chales`). Blocked with the ordinary cap: a common surname with a common initial pairs
/// nothing here.
pub(super) fn name_initial_entries(
    fields: &[FieldSpec],
    records: &[Prepared],
    out: &mut Vec<(u64, u32)>,
) {
    out.clear();
    let Some(names) = person_name_fields(fields) else {
        return;
    };
    let parts: Vec<Vec<(u64, u32)>> = records
        .par_chunks(KEY_CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut out = Vec::with_capacity(2 * chunk.len());
            let (mut toks, mut ks): (Vec<&str>, Vec<u64>) = (Vec::new(), Vec::new());
            let mut inits: Vec<[Option<u8>; 2]> = Vec::new();
            for (k, r) in chunk.iter().enumerate() {
                let id = (c * KEY_CHUNK + k) as u32;
                // a word of one letter (`j smith`) gives its initial, not a key of its own
                toks.clear();
                for &f in &names {
                    toks.extend(r.value(f).tokens());
                }
                if toks.len() < 2 {
                    continue;
                }
                // each word's initial, and its full form's when it is a short given name
                inits.clear();
                inits.extend(toks.iter().map(|o| {
                    let formal = crate::engine::lexicon::nickname_formal(o);
                    [o.bytes().next(), formal.and_then(|w| w.bytes().next())]
                }));
                for (i, t) in toks.iter().enumerate().filter(|(_, t)| t.len() > 1) {
                    for (j, initials) in inits.iter().enumerate() {
                        if i == j {
                            continue;
                        }
                        for &initial in initials.iter().flatten() {
                            let mut h = KeyHasher::default();
                            h.write_u8(KeyKind::Compound as u8);
                            h.write_u16(u16::MAX - 2);
                            h.write(t.as_bytes());
                            h.write_u8(initial);
                            ks.push(h.finish());
                        }
                    }
                }
                // a word said twice, or an initial its full form shares, keys once: a
                // record counts once in its block's size
                ks.sort_unstable();
                ks.dedup();
                out.extend(ks.drain(..).map(|h| (h, id)));
            }
            out
        })
        .collect();
    out.reserve(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
}

/// Hashes of `t` and of each form of `t` with one letter left out, sorted and unique, into
/// `out` (cleared first). Two words one typo apart (a letter changed, added, dropped or two
/// swapped) share one of these (symmetric deletion, as in SymSpell).
fn deletion_variants(t: &str, out: &mut Vec<u64>) {
    out.clear();
    let b = t.as_bytes();
    out.push(key(KeyKind::Token, u16::MAX, b));
    // one contiguous write per form: the hasher takes each write 8 bytes at a time, so
    // two writes of the halves would not hash as the word written whole
    let mut form = Vec::with_capacity(b.len());
    for skip in 0..b.len() {
        form.clear();
        form.extend_from_slice(&b[..skip]);
        form.extend_from_slice(&b[skip + 1..]);
        out.push(key(KeyKind::Token, u16::MAX, &form));
    }
    out.sort_unstable();
    out.dedup();
}

/// The near-name keys of a two-word name (a given name and a surname), into `out` for
/// record `id`: one per pair of [`deletion_variants`] of the two words (a short given name
/// also as its full form, [`crate::engine::lexicon::nickname_formal`]), the pair unordered. Two
/// names share a key when each word is at most one typo from its counterpart, whichever
/// field holds which: `willibm agrcia` and `garcia bill`. 50–90 keys per name (more for
/// long words).
/// (Each key once more with the birth year, for common names whose blocks are over the
/// cap, found one more true pair of person_link's 5,316: not kept.)
fn near_name_keys(toks: &[&str], variants: &mut [Vec<u64>; 2], out: &mut Vec<(u64, u32)>, id: u32) {
    for (t, v) in toks.iter().zip(variants.iter_mut()) {
        deletion_variants(t, v);
        // a word that may be a short given name also stands for its full form (`lee` may
        // be a surname as well as `leroy`)
        if let Some(formal) = crate::engine::lexicon::nickname_formal(t) {
            let mut full = Vec::new();
            deletion_variants(formal, &mut full);
            v.extend(full);
            v.sort_unstable();
            v.dedup();
        }
    }
    for &x in &variants[0] {
        for &y in &variants[1] {
            let mut h = KeyHasher::default();
            h.write_u8(KeyKind::Phonetic as u8);
            h.write_u16(u16::MAX - 1);
            h.write_u64(x.min(y));
            h.write_u64(x.max(y));
            out.push((h.finish(), id));
        }
    }
}
