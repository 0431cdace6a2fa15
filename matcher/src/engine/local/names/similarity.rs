//! How alike two whole names are: character trigrams of the joined tokens, and for
//! people's names the tokens paired one by one.

use super::super::*;

/// Log2 odds from the other fields above which conflicting names are overruled
/// (several identifying fields agree exactly: the name was mistyped or replaced).
pub const OVERWHELMING: f64 = 40.0;

/// Below this name similarity, names conflict.
pub const NAME_CONFLICT: f64 = 0.2;

/// Similarity of two names: character trigrams of the joined tokens, in the given
/// order or sorted (swapped given name / surname), 1 when one name contains the other.
///
/// `person`: the names are people's (a given-name field among them): tokens are also
/// paired one by one ([`aligned_token_similarity`]), so a nickname or a typo in a short
/// surname does not read as another name. Not for the names of organisations, places or
/// products, where one token's typo-distance often separates two of them (`Blue
/// Capital` / `Blue Capitol`).
pub fn name_similarity(a: &[String], b: &[String], person: bool) -> f64 {
    let (ja, jb) = (a.concat(), b.concat());
    if ja == jb {
        return 1.0;
    }
    let sa: HashSet<&String> = a.iter().collect();
    let sb: HashSet<&String> = b.iter().collect();
    if sa.is_subset(&sb) || sb.is_subset(&sa) {
        return 1.0;
    }
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort();
    y.sort();
    let sim = trigram_sim(&ja, &jb).max(trigram_sim(&x.concat(), &y.concat()));
    if person {
        sim.max(aligned_token_similarity(a, b))
    } else {
        sim
    }
}

/// Tokens of a name compared one with another ([`aligned_token_similarity`]).
const ALIGNED_TOKENS: usize = 8;

/// Similarity of two name tokens: 1 when equal, 0.9 for one given name written two ways
/// ([`crate::engine::lexicon::given_names_near`]: `bob` / `robert`, `bicll` / `william`), else
/// the share of characters an optimal-string-alignment edit keeps (`smith` / `smilh`
/// 0.8, where character trigrams see one in five).
fn token_similarity(x: &str, y: &str) -> f64 {
    if x == y {
        return 1.0;
    }
    if crate::engine::lexicon::given_names_near(x, y) {
        return 0.9;
    }
    let n = x.chars().count().max(y.chars().count());
    if n == 0 {
        return 0.0;
    }
    let d = crate::engine::fs::osa_distance_at_most(x, y, n).min(n);
    let sim = 1.0 - d as f64 / n as f64;
    // two unrelated words keep a letter or two in place: that is no similarity
    if sim >= TOKEN_KEPT { sim } else { 0.0 }
}

/// Below this share of characters kept, two name tokens are unrelated
/// ([`token_similarity`]): a typo keeps 0.8 of a five-letter name, two random five-letter
/// words 0.2 or 0.4.
const TOKEN_KEPT: f64 = 0.6;

/// Similarity of two names token by token: each token paired with its most similar
/// counterpart (greedily, best pairs first, in any order: swapped given name and surname
/// pair up), the pairs' [`token_similarity`] summed over the longer name's token count.
/// A nickname and a mistyped surname together (`john smith` / `jack smilh`) keep most of
/// their similarity here, where character trigrams of the joined names see almost none.
fn aligned_token_similarity(a: &[String], b: &[String]) -> f64 {
    let (a, b) = (
        &a[..a.len().min(ALIGNED_TOKENS)],
        &b[..b.len().min(ALIGNED_TOKENS)],
    );
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let mut sims: Vec<(f64, usize, usize)> = Vec::with_capacity(a.len() * b.len());
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            sims.push((token_similarity(x, y), i, j));
        }
    }
    sims.sort_by(|p, q| q.0.total_cmp(&p.0));
    let (mut used_a, mut used_b) = (0u16, 0u16);
    let mut total = 0.0;
    for (sim, i, j) in sims {
        if used_a & (1 << i) == 0 && used_b & (1 << j) == 0 {
            used_a |= 1 << i;
            used_b |= 1 << j;
            total += sim;
        }
    }
    total / longest as f64
}
