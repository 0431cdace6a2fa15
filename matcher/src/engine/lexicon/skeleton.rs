//! Words a designer shortened by dropping their vowels (`NM_FRST`, `DT_BRTH`, `GNDR_CD`,
//! `NM_LST`): read as the lexicon's word they shorten, where nothing else could be meant.
//!
//! Legacy systems name columns in consonants; the lexicon lists a few such forms
//! (`srnm`, `phn`, `cty`) but cannot list them all, and two tables seldom shorten alike
//! (the schema matcher learns `frst` → `first` only from a table that says `first`). The
//! words a token of consonants may shorten are those whose consonant skeleton it is, or
//! starts (`pstl` of `postal`), among the lexicon's words and the common words of column
//! names it has no concept for ([`ALSO`]: a `branch`, a `body`, a `model`). Three letters
//! shorten too many words to be read alone (`brn`: `born`, `branch`; `cst`: `cost`,
//! `customer`): a token is read alone ([`lengthened`]) from [`ALONE`] letters, where every
//! word it may shorten is the lexicon's and of one concept (`frst`: `first`,
//! `firstname`). Shorter or shared, it is read only as the word that makes a phrase of the
//! lexicon with the word beside it (`NM_LST` a `name last`, `NM_MDL_INIT` a `name middle
//! initial`: [`super::canonical_tokens`]; `BRN_CD` may be a branch's code and reads as
//! nothing); one that may also shorten a word outside the lexicon, only between two words
//! it makes phrases with (`NM_MDL_INIT`; a product's `MDL_NM` and an employee's
//! `PRSNL_NBR` read as nothing).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// Fewest letters of a token read beside a word that makes a phrase with it.
const LEAST: usize = 3;

/// Fewest letters of a token read on its own ([`lengthened`]).
const ALONE: usize = 4;

/// A vowel after a word's first letter (`y` too: `emplr` drops it from `employer`, `cty`
/// from `city`).
fn vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// The consonant skeleton of a lower-case word: its first letter, then its consonants,
/// repeats dropped (`address` → `adrs`, `middle` → `mdl`, `employer` → `emplr`).
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

/// Words of column names the lexicon has no concept for, shortened as its own are
/// (`MDL_NBR` a model number, `BRN_CD` a branch code; not `start`, whose skeleton is
/// `street`'s, and `STRT_NM` is a street's name far more often than not): a token
/// that may shorten one of them is not read as a word of the lexicon.
#[rustfmt::skip]
const ALSO: &[&str] = &[
    "model", "master", "status", "total", "count", "amount", "quantity",
    "message", "manager", "market", "mode", "module", "metal", "level", "letter", "limit",
    "batch", "store", "stock", "step", "serial", "series", "product", "period", "percent",
    "part", "point", "port", "print", "transaction", "type", "term", "text", "record",
    "reference", "result", "rate", "class", "contract", "credit", "document", "discount",
    "flag", "group", "account", "order", "note", "item", "index", "value", "version",
    "weight", "width", "height", "length", "size", "color", "colour", "balance", "branch",
    "building", "department", "division", "grade", "salary", "score", "source", "target",
    "system", "ticket", "unit", "user", "vendor", "volume", "body", "buyer", "seller",
    "provider", "station", "from", "form", "incident", "local", "foreign", "front",
    "treatment", "distance", "destination", "brand", "barcode", "screen", "session",
    "service", "server", "shipment", "shipping", "supplier", "agreement", "payment",
    "premium", "policy", "plan", "program", "project", "process", "request", "response",
    "region", "route", "result", "review", "role", "room", "round", "row", "rule",
    "personnel", "origin", "original", "organ", "assign", "assignment", "authority",
    "authorization", "confirm", "confirmation", "compensation", "component", "corporate",
    "manufacture", "manufacturing", "public", "distributor", "journal", "visit", "place",
];

/// The lexicon's words and the words it may be read as, indexed by skeleton.
struct Vocabulary {
    /// Each word's whole skeleton: the words it is the skeleton of.
    whole: HashMap<String, Vec<&'static str>>,
    /// Each start of [`LEAST`] letters or more of a skeleton: the words it starts.
    starts: HashMap<String, Vec<&'static str>>,
    /// The concepts whose phrases hold each word of the lexicon.
    concepts: HashMap<&'static str, Vec<&'static str>>,
    /// Every word of the lexicon's phrases as written (`bsn`, `srnm` too), and the words
    /// it reads as they are ([`super::QUALIFIERS`], [`super::OTHER_PARTIES`],
    /// [`super::GENERIC`]): never read as another word.
    listed: HashSet<&'static str>,
}

impl Vocabulary {
    fn new(concepts: &[(&'static str, &'static [&'static str])], also: &[&'static str]) -> Self {
        let mut of: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        let mut listed: HashSet<&'static str> = HashSet::new();
        // the words in the lexicon's order, so that every run reads a token alike
        let mut order: Vec<&'static str> = Vec::new();
        for &(c, phrases) in concepts {
            for w in phrases.iter().flat_map(|p| p.split(' ')) {
                if listed.insert(w) {
                    order.push(w);
                }
                let cs = of.entry(w).or_default();
                if !cs.contains(&c) {
                    cs.push(c);
                }
            }
        }
        let (mut whole, mut starts) = (HashMap::new(), HashMap::new());
        let note = |m: &mut HashMap<String, Vec<&'static str>>, k: String, w| {
            let words: &mut Vec<&'static str> = m.entry(k).or_default();
            if !words.contains(&w) {
                words.push(w);
            }
        };
        let words = order.into_iter().chain(also.iter().copied());
        for w in words.filter(|w| !consonants_only(w)) {
            let s = skeleton(w);
            for n in (LEAST..s.len()).filter(|&n| s.is_char_boundary(n)) {
                note(&mut starts, s[..n].to_string(), w);
            }
            note(&mut whole, s, w);
        }
        listed.extend(also.iter().copied());
        Self {
            whole,
            starts,
            concepts: of,
            listed,
        }
    }

    /// The words a token may shorten (whole skeletons first); none for a token with a
    /// vowel after its first letter, shorter than [`LEAST`], or listed, but a word the
    /// lexicon lists in consonants may be read as the words of its own concept (`frst nm`
    /// and `lst nm` are listed: `NM_FRST` reads `name first`, `NM_LST` `name last`, never
    /// `list`; `bsn` is no `business`).
    fn candidates(&self, token: &str) -> Vec<&'static str> {
        if token.len() < LEAST || !consonants_only(token) {
            return Vec::new();
        }
        let own = self.concepts.get(token);
        if self.listed.contains(token) && own.is_none() {
            return Vec::new();
        }
        let of_own = |w: &&'static str| {
            own.is_none_or(|cs| {
                self.concepts
                    .get(w)
                    .is_some_and(|ws| ws.iter().any(|c| cs.contains(c)))
            })
        };
        let s = skeleton(token);
        let mut out: Vec<&'static str> = Vec::new();
        for w in [&self.whole, &self.starts]
            .into_iter()
            .filter_map(|m| m.get(&s))
            .flatten()
        {
            if !out.contains(w) {
                out.push(w);
            }
        }
        out.retain(of_own);
        out
    }

    /// [`candidates`](Self::candidates) when every one is a word of the lexicon; none
    /// when a word outside it could be meant.
    fn lexicon_words(&self, token: &str) -> Vec<&'static str> {
        let words = self.candidates(token);
        if words.iter().all(|w| self.concepts.contains_key(w)) {
            words
        } else {
            Vec::new()
        }
    }

    fn lengthened(&self, token: &str) -> Option<&'static str> {
        if token.len() < ALONE {
            return None;
        }
        let words = self.lexicon_words(token);
        let (first, rest) = words.split_first()?;
        let one_concept = self.concepts.get(first).is_some_and(|cs| {
            cs.iter().any(|c| {
                rest.iter()
                    .all(|w| self.concepts.get(w).is_some_and(|ws| ws.contains(c)))
            })
        });
        one_concept.then_some(*first)
    }
}

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    let mut also: Vec<&'static str> = ALSO.to_vec();
    also.extend(super::QUALIFIERS);
    also.extend(super::OTHER_PARTIES);
    also.extend(super::GENERIC);
    Vocabulary::new(super::CONCEPTS, &also)
});

/// The lexicon's word a token of [`ALONE`] letters or more shortens by dropping its
/// vowels, where every word it may shorten is the lexicon's and of one concept (`frst` →
/// `first`, of `first` and `firstname`; `brth` → `birth`; `gndr` → `gender`); `None`
/// otherwise (`empl`: `employer` or `employee`).
pub fn lengthened(token: &str) -> Option<&'static str> {
    VOCABULARY.lengthened(token)
}

/// The lexicon's words a token of [`LEAST`] letters or more may shorten, to be read by
/// the word beside it (`mdl`: `middle`, not `model`, which no phrase of the lexicon holds:
/// see [`shared_outside`]; `brn`: `born`, not `branch`, and `BRN_CD` reads nothing).
pub fn shortened(token: &str) -> Vec<&'static str> {
    let mut words = VOCABULARY.candidates(token);
    words.retain(|w| VOCABULARY.concepts.contains_key(w));
    words
}

/// Whether a token may also shorten a word outside the lexicon (`mdl`: `model`; `prsnl`:
/// `personnel`).
pub fn shared_outside(token: &str) -> bool {
    VOCABULARY
        .candidates(token)
        .iter()
        .any(|w| !VOCABULARY.concepts.contains_key(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_in_consonants_is_read_alone_only_where_nothing_else_is_meant() {
        for (short, long) in [
            ("frst", "first"),
            ("brth", "birth"),
            ("gndr", "gender"),
            ("strt", "street"),
            ("pstl", "postal"),
        ] {
            assert_eq!(lengthened(short), Some(long), "{short}");
        }
        // two words of two concepts or one outside the lexicon (`lst`: `last`, `list`;
        // `empl`: `employer`, `employee`), three letters, a
        // vowel, or a word the lexicon lists (`bsn` is an identity number, `emp` an
        // employee)
        for t in [
            "lst", "empl", "brn", "cst", "cty", "frst_", "first", "lest", "xyz", "zip", "ssn",
            "bsn", "emp", "mdl",
        ] {
            assert_eq!(lengthened(t), None, "{t}");
        }
        // listed in `lst nm`: a surname's word alone
        let lst = shortened("lst");
        assert!(lst.contains(&"last") && !lst.contains(&"list"), "{lst:?}");
        assert!(shortened("bsn").is_empty());
        assert_eq!(shortened("mdl"), ["middle"]);
    }

    #[test]
    fn words_are_indexed_by_their_skeletons_and_its_starts() {
        let v = Vocabulary::new(
            &[
                ("region", &["county", "country"]),
                ("given_name", &["first", "firstname"]),
                ("middle_name", &["middle"]),
            ],
            &["model"],
        );
        assert_eq!(v.candidates("cnt"), ["county", "country"]);
        assert_eq!(v.whole.get("cnt").cloned(), Some(vec!["county"]));
        assert_eq!(v.whole.get("cntr").cloned(), Some(vec!["country"]));
        assert_eq!(v.candidates("frst"), ["first", "firstname"]);
        assert_eq!(v.lengthened("frst"), Some("first"));
        assert_eq!(v.candidates("mdl"), ["middle", "model"]);
        assert!(v.lexicon_words("mdl").is_empty());
        assert_eq!(skeleton("address"), "adrs");
        assert_eq!(skeleton("employer"), "emplr");
    }
}
