//! Words a designer shortened by dropping their vowels (`NM_FRST`, `PAT_LST_NM`,
//! `DT_BRTH`, `AD_CTY`, `GNDR_CD`): read as the lexicon's word they shorten.
//!
//! Legacy systems name columns in consonants; the lexicon lists a few such forms
//! (`srnm`, `phn`) but cannot list them all, and two tables seldom shorten alike (the
//! schema matcher learns `frst` → `first` only from a table that says `first`). A token
//! of consonants alone (its first letter may be a vowel: `eml`) that is the consonant
//! skeleton of exactly one of the lexicon's words, or the start of it (`pstl` of
//! `postal`), is that word. One that two words share (`lst`: `last`, `list`) is the one
//! that makes a phrase of the lexicon with the word beside it (`NM_LST` a `name last`,
//! `LST_PRC` a `list price`: [`super::canonical_tokens`]), else neither.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Fewest letters a shortened word has: `st` and `ln` shorten too many words, and the
/// lexicon lists its two-letter forms itself.
const LEAST: usize = 3;

fn vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// The consonant skeleton of a lower-case word: its first letter, then its consonants
/// (`y` counts as one), each run of one letter written once (`address` → `adrs`,
/// `middle` → `mdl`, `city` → `cty`).
fn skeleton(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for (k, c) in word.chars().enumerate() {
        if (k == 0 || !vowel(c)) && !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Whether a token is written in consonants (after its first letter) alone, as a word
/// shortened by dropping its vowels is.
fn consonants_only(token: &str) -> bool {
    token.chars().all(|c| c.is_ascii_lowercase()) && !token.chars().skip(1).any(vowel)
}

/// Each word's skeleton, and apart each start of one of at least [`LEAST`] letters: the
/// words of `vocabulary` it shortens. (`frst` is the whole skeleton of `first` and the
/// start of `firstname`'s: the whole one is read first.)
type Shortenings = [HashMap<String, Vec<&'static str>>; 2];

fn shortenings(vocabulary: &[&'static str]) -> Shortenings {
    let mut whole: HashMap<String, Vec<&'static str>> = HashMap::new();
    let mut starts: HashMap<String, Vec<&'static str>> = HashMap::new();
    let note = |m: &mut HashMap<String, Vec<&'static str>>, k: String, w| {
        let words = m.entry(k).or_default();
        if !words.contains(&w) {
            words.push(w);
        }
    };
    for &w in vocabulary {
        let s = skeleton(w);
        for n in (LEAST..s.len()).filter(|&n| s.is_char_boundary(n)) {
            note(&mut starts, s[..n].to_string(), w);
        }
        note(&mut whole, s, w);
    }
    whole.retain(|k, _| k.len() >= LEAST);
    [whole, starts]
}

/// Words of column names the lexicon has no concept for, shortened as its own are
/// (`MDL_NBR` a model number, `STRT_DT` a start date, `TTL_AMT` a total): a shortening
/// one of them shares with a word of the lexicon is not read as the lexicon's alone.
#[rustfmt::skip]
const ALSO: &[&str] = &[
    "model", "master", "status", "start", "total", "count", "amount", "quantity",
    "message", "manager", "market", "mode", "module", "metal", "level", "letter", "limit",
    "batch", "store", "stock", "step", "serial", "series", "product", "period", "percent",
    "part", "point", "port", "print", "transaction", "type", "term", "text", "record",
    "reference", "result", "rate", "class", "contract", "credit", "document", "discount",
    "flag", "group", "account", "order", "note", "item", "index", "value", "version",
    "weight", "width", "height", "length", "size", "color", "colour", "balance", "branch",
    "building", "department", "division", "grade", "salary", "score", "source", "target",
    "system", "ticket", "unit", "user", "vendor", "volume",
];

/// The whole words (not themselves in consonants: `frst nm` is listed too) of the
/// lexicon's concept phrases, and [`ALSO`]: what a token may shorten.
static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut w: Vec<&'static str> = super::CONCEPTS
        .iter()
        .flat_map(|(_, phrases)| phrases.iter().flat_map(|p| p.split(' ')))
        .chain(ALSO.iter().copied())
        .filter(|w| !consonants_only(w))
        .collect();
    w.sort_unstable();
    w.dedup();
    w
});

static SHORTENED: LazyLock<Shortenings> = LazyLock::new(|| shortenings(&WORDS));

/// The words a token may shorten by dropping its vowels: those whose whole skeleton it
/// is, else those it starts; none for a token with a vowel after its first letter,
/// shorter than [`LEAST`], or a word the lexicon reads as it is (`emp` is an employee, a
/// [`super::QUALIFIERS`] word, not an `employer`).
pub fn shortened(token: &str) -> &'static [&'static str] {
    let known = [super::QUALIFIERS, super::OTHER_PARTIES, super::GENERIC];
    if token.len() < LEAST || !consonants_only(token) || known.iter().any(|k| k.contains(&token)) {
        return &[];
    }
    let s = skeleton(token);
    let [whole, starts] = &*SHORTENED;
    whole
        .get(&s)
        .or_else(|| starts.get(&s))
        .map_or(&[], Vec::as_slice)
}

/// The one word a token shortens ([`shortened`]: `frst` → `first`, `brth` → `birth`,
/// `cty` → `city`); `None` where it shortens none or two.
pub fn lengthened(token: &str) -> Option<&'static str> {
    match shortened(token) {
        [w] => Some(w),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_in_consonants_is_read_as_the_one_word_it_shortens() {
        for (short, long) in [
            ("frst", "first"),
            ("brth", "birth"),
            ("cty", "city"),
            ("gndr", "gender"),
            ("eml", "email"),
            ("pstl", "postal"),
            ("mbl", "mobile"),
        ] {
            assert_eq!(lengthened(short), Some(long), "{short}");
        }
        // two words share it (`lst`: `last`, `list`; `mdl`: `middle`, `model`; `strt`:
        // `street`, `start`), it is too short, it has vowels, or the lexicon reads it as
        // it is
        for t in [
            "lst", "st", "ln", "first", "lest", "xyz", "zip", "ssn", "dob", "emp", "mdl", "strt",
        ] {
            assert_eq!(lengthened(t), None, "{t}");
        }
        assert!(shortened("lst").contains(&"last") && shortened("lst").contains(&"list"));
    }

    #[test]
    fn a_skeleton_two_words_share_shortens_both() {
        let [whole, starts] = shortenings(&["county", "country", "middle", "first", "firstname"]);
        assert_eq!(starts.get("cnt"), Some(&vec!["county", "country"]));
        assert_eq!(whole.get("cnty"), Some(&vec!["county"]));
        assert_eq!(whole.get("cntry"), Some(&vec!["country"]));
        assert_eq!(whole.get("mdl"), Some(&vec!["middle"]));
        // the whole skeleton of one word and the start of another's
        assert_eq!(whole.get("frst"), Some(&vec!["first"]));
        assert_eq!(starts.get("frst"), Some(&vec!["firstname"]));
        assert_eq!(skeleton("address"), "adrs");
    }
}
