//! Knowledge for the ensemble: Dataset as Knowledge (DaK), Example as Knowledge (EaK),
//! and user-supplied strings. (No external knowledge base: `external` in
//! `matching.ensemble` is refused.)
//!
//! Every source yields lettered text items for LLM prompts and, parsed from the same
//! text, structured facts (aliases, abbreviations, descriptions) that the embedded
//! backbone uses.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::text::{normalize, trigram_dice, trigrams};

/// A knowledge source of the ensemble (`matching.ensemble`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Dataset,
    Examples,
    User,
}

impl Source {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dataset" => Some(Source::Dataset),
            "examples" => Some(Source::Examples),
            "user" => Some(Source::User),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dataset => "dataset",
            Source::Examples => "examples",
            Source::User => "user",
        }
    }
}

/// Structured facts parsed from knowledge text; keys are normalized.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Symmetric alias pairs.
    pub aliases: Vec<(String, String)>,
    /// `(short, long)` abbreviation pairs.
    pub abbreviations: Vec<(String, String)>,
    /// Object → description.
    pub descriptions: HashMap<String, String>,
    /// Pairs known not to match.
    pub distinct: Vec<(String, String)>,
}

impl Facts {
    fn eq(a: &str, b: &str, x: &str, y: &str) -> bool {
        (a == x && b == y) || (a == y && b == x)
    }
    /// True when `a` and `b` (normalized) are stated aliases.
    pub fn alias(&self, a: &str, b: &str) -> bool {
        self.aliases.iter().any(|(x, y)| Self::eq(a, b, x, y))
    }
    /// True when one of `a`, `b` is a stated abbreviation of the other.
    pub fn abbreviation(&self, a: &str, b: &str) -> bool {
        self.abbreviations.iter().any(|(x, y)| Self::eq(a, b, x, y))
    }
    pub fn is_distinct(&self, a: &str, b: &str) -> bool {
        self.distinct.iter().any(|(x, y)| Self::eq(a, b, x, y))
    }
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty()
            && self.abbreviations.is_empty()
            && self.descriptions.is_empty()
            && self.distinct.is_empty()
    }
    pub fn extend(&mut self, o: Facts) {
        self.aliases.extend(o.aliases);
        self.abbreviations.extend(o.abbreviations);
        self.descriptions.extend(o.descriptions);
        self.distinct.extend(o.distinct);
    }
}

fn split2<'a>(s: &'a str, lower: &str, sep: &str) -> Option<(&'a str, &'a str)> {
    let i = lower.find(sep)?;
    let (a, b) = (s.get(..i)?, s.get(i + sep.len()..)?);
    let (a, b) = (
        a.trim().trim_matches('"'),
        b.trim().trim_end_matches('.').trim_matches('"'),
    );
    (!a.is_empty() && !b.is_empty()).then_some((a, b))
}

/// Parses knowledge strings: `X is an alias of Y`, `X aka Y`, `X = Y`, `X <-> Y`,
/// `X is an abbreviation of Y`, `X stands for Y`, `X is not Y`, `X: description`.
pub fn parse_facts<S: AsRef<str>>(items: &[S]) -> Facts {
    let mut f = Facts::default();
    for item in items {
        let s = item.as_ref().trim();
        let lower = s.to_lowercase();
        let alias_seps = [
            " is an alias of ",
            " is an alias for ",
            " is also known as ",
            " aka ",
            " a.k.a. ",
            " is the same as ",
            " <-> ",
            " ↔ ",
            " == ",
            " = ",
        ];
        let abbr_seps = [
            " is an abbreviation of ",
            " is an abbreviation for ",
            " stands for ",
            " is short for ",
        ];
        let not_seps = [" is not the same as ", " is not ", " != "];
        if let Some((a, b)) = abbr_seps.iter().find_map(|sep| split2(s, &lower, sep)) {
            f.abbreviations.push((normalize(a), normalize(b)));
        } else if let Some((a, b)) = not_seps.iter().find_map(|sep| split2(s, &lower, sep)) {
            f.distinct.push((normalize(a), normalize(b)));
        } else if let Some((a, b)) = alias_seps.iter().find_map(|sep| split2(s, &lower, sep)) {
            f.aliases.push((normalize(a), normalize(b)));
        } else if let Some((a, b)) = split2(s, &lower, ":") {
            f.descriptions.insert(normalize(a), b.to_string());
        }
    }
    f
}

/// The knowledge of one source for one pair: text items (lettered in prompts) and
/// the facts parsed from them.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub items: Vec<String>,
    pub facts: Facts,
}

impl Knowledge {
    pub fn from_items(items: Vec<String>) -> Self {
        let facts = parse_facts(&items);
        Self { items, facts }
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// `(a) item\n(b) item…`
    pub fn lettered(&self) -> String {
        let mut out = String::new();
        for (i, it) in self.items.iter().enumerate() {
            let letter = (b'a' + (i % 26) as u8) as char;
            out.push_str(&format!("({letter}) {it}\n"));
        }
        out
    }
}

/// Indices of the `k` items most similar to `query` under `text` (trigram similarity),
/// most similar first.
pub fn top_k<T>(items: &[T], query: &str, k: usize, text: impl Fn(&T) -> String) -> Vec<usize> {
    let grams: Vec<Vec<u64>> = items.iter().map(|it| example_grams(&text(it))).collect();
    top_k_grams(&grams, query, k)
}

/// The trigrams [`top_k_grams`] compares an item by (its text normalized): computed once
/// per item and request, not once per item and query.
pub fn example_grams(text: &str) -> Vec<u64> {
    trigrams(&normalize(text))
}

/// Indices of the `k` items (given by their [`example_grams`]) most similar to `query`,
/// most similar first, ties by index. Only indices are sorted and kept: the caller
/// borrows the `k` chosen items, nothing is copied.
pub fn top_k_grams<G: AsRef<[u64]>>(items: &[G], query: &str, k: usize) -> Vec<usize> {
    let q = example_grams(query);
    let mut scored: Vec<(f64, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, g)| (trigram_dice(&q, g.as_ref()), i))
        .collect();
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    let by_score = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if k < scored.len() {
        scored.select_nth_unstable_by(k - 1, by_score);
        scored.truncate(k);
    }
    scored.sort_by(by_score);
    scored.into_iter().map(|(_, i)| i).collect()
}

/// Stored examples (one tenant's snapshot, newest first) with the trigrams that
/// [`top_k_grams`] ranks them by, computed once per snapshot on its first use rather than
/// once per request: a request then borrows both and compares only the query's trigrams.
/// When an example is added, the new snapshot takes over the old one's trigrams.
#[derive(Debug)]
pub struct StoredExamples<T> {
    items: Vec<T>,
    grams: OnceLock<Vec<Vec<u64>>>,
}

impl<T> Default for StoredExamples<T> {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl<T> StoredExamples<T> {
    pub fn new(items: Vec<T>) -> Self {
        Self {
            items,
            grams: OnceLock::new(),
        }
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Each item's [`example_grams`] of `text(item)`; `text` must be the same for every
    /// call on one snapshot (each kind of example has one: [`ExampleText`]).
    pub fn grams(&self) -> &[Vec<u64>]
    where
        T: ExampleText,
    {
        self.grams.get_or_init(|| {
            self.items
                .iter()
                .map(|e| example_grams(&e.text()))
                .collect()
        })
    }

    /// A new snapshot: `item` first, then the newest `keep - 1` of these; the trigrams
    /// already computed are carried over.
    pub fn pushed_front(&self, item: T, keep: usize) -> Self
    where
        T: Clone + ExampleText,
    {
        let keep = keep.max(1);
        let grams = OnceLock::new();
        if let Some(old) = self.grams.get() {
            let mut g = Vec::with_capacity(keep);
            g.push(example_grams(&item.text()));
            g.extend(old.iter().take(keep - 1).cloned());
            let _ = grams.set(g);
        }
        let mut items = Vec::with_capacity(keep);
        items.push(item);
        items.extend(self.items.iter().take(keep - 1).cloned());
        Self { items, grams }
    }
}

impl<T> std::ops::Deref for StoredExamples<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

/// The text an example is compared by when the nearest examples of a query are chosen.
pub trait ExampleText {
    fn text(&self) -> String;
}

/// The trigrams of a request's own examples (computed now) followed by a snapshot's
/// stored ones (borrowed).
pub fn joined_grams<'a, T: ExampleText>(
    own: &[T],
    stored: &'a StoredExamples<T>,
) -> Vec<Cow<'a, [u64]>> {
    own.iter()
        .map(|e| Cow::Owned(example_grams(&e.text())))
        .chain(
            (!stored.is_empty())
                .then(|| stored.grams())
                .into_iter()
                .flatten()
                .map(|g| Cow::Borrowed(g.as_slice())),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_knowledge_strings() {
        let f = parse_facts(&[
            "IBM is an abbreviation of International Business Machines",
            "Big Apple aka New York City",
            "cust_no = customer number",
            "dob: the date of birth of the person",
            "Paris is not Paris Hilton",
        ]);
        assert!(f.abbreviation("ibm", "international business machines"));
        assert!(f.alias("new york city", "big apple"));
        assert!(f.alias("cust no", "customer number"));
        assert_eq!(
            f.descriptions.get("dob").map(String::as_str),
            Some("the date of birth of the person")
        );
        assert!(f.is_distinct("paris", "paris hilton"));
        let k = Knowledge::from_items(vec!["a: x".into(), "b: y".into()]);
        assert_eq!(k.lettered(), "(a) a: x\n(b) b: y\n");
    }

    #[test]
    fn top_k_orders_by_similarity() {
        let items = vec!["zebra crossing", "given name", "given names list"];
        assert_eq!(
            top_k(&items, "given_name", 2, |s| s.to_string()),
            vec![1, 2]
        );
    }

    /// The partial selection keeps exactly the first k of a full sort (by similarity, ties
    /// by index), for every k.
    #[test]
    fn top_k_grams_is_the_head_of_the_full_ranking() {
        let texts: Vec<String> = (0..60)
            .map(|i| format!("given name {} family {}", i % 7, i % 5))
            .collect();
        let grams: Vec<Vec<u64>> = texts.iter().map(|t| example_grams(t)).collect();
        let q = "given name 3 family 2";
        let qg = example_grams(q);
        let mut full: Vec<(f64, usize)> = grams
            .iter()
            .enumerate()
            .map(|(i, g)| (trigram_dice(&qg, g), i))
            .collect();
        full.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for k in [0, 1, 5, 59, 60, 100] {
            let want: Vec<usize> = full.iter().take(k).map(|x| x.1).collect();
            assert_eq!(top_k_grams(&grams, q, k), want, "k={k}");
        }
    }

    struct T(&'static str);
    impl Clone for T {
        fn clone(&self) -> Self {
            T(self.0)
        }
    }
    impl ExampleText for T {
        fn text(&self) -> String {
            self.0.to_string()
        }
    }

    /// A snapshot's trigrams, carried into the next one when an example is added, are
    /// the ones computed from scratch; the newest `keep` stay.
    #[test]
    fn stored_trigrams_follow_their_examples() {
        let s = StoredExamples::new(vec![T("given name"), T("family name"), T("zip code")]);
        assert_eq!(s.grams().len(), 3);
        let next = s.pushed_front(T("birth date"), 3);
        let texts: Vec<&str> = next.items().iter().map(|t| t.0).collect();
        assert_eq!(texts, ["birth date", "given name", "family name"]);
        let fresh = StoredExamples::new(next.items().to_vec());
        assert_eq!(next.grams(), fresh.grams());
        let own = [T("zip")];
        let joined = joined_grams(&own, &next);
        assert_eq!(joined.len(), 4);
        assert_eq!(joined[0].as_ref(), example_grams("zip").as_slice());
        assert_eq!(top_k_grams(&joined, "family_name", 1), vec![3]);
    }
}
