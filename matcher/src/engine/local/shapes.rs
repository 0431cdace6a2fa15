//! What the values of a column look like, whatever they say: a character-trigram
//! profile, and the share of e-mail addresses and of street addresses among them.
//!
//! Two tables' samples seldom hold the same values (two restaurant guides' addresses share
//! a few words), and their names may share nothing (`addr` / `location`): the shape of the
//! values is what tells the schema matcher ([`super::sm_evidence`]) that two columns hold
//! one kind of thing, or ([`super::types_incompatible`]) that they cannot.

use std::collections::HashMap;

/// Character-trigram profile of values, normalized to unit length.
pub fn value_profile(samples: &[String]) -> HashMap<String, f64> {
    let mut m: HashMap<String, f64> = HashMap::new();
    for s in samples {
        for g in crate::engine::text::qgrams(&crate::engine::text::normalize(s), 3) {
            *m.entry(g).or_default() += 1.0;
        }
    }
    unit(&mut m);
    m
}

/// Cosine of two unit profiles (of trigrams, layouts, counts of digits).
pub fn profile_cosine<K: std::hash::Hash + Eq>(a: &HashMap<K, f64>, b: &HashMap<K, f64>) -> f64 {
    let (x, y) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    x.iter()
        .map(|(k, v)| v * y.get(k).copied().unwrap_or(0.0))
        .sum()
}

/// Fewest samples, placeholders left out, from which the share of a column's values of
/// a shape counts ([`EmailShape`], [`street_share`]).
pub const SHAPE_MIN_SAMPLES: usize = 5;

/// How many of a column's samples (placeholders such as `n/a` left out) are e-mail
/// addresses: `whole`, the share that are one and nothing else; `within`, the share that
/// hold one anywhere (`Ann Lee <ann@x.com>`, `a@x.com; b@y.com`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmailShape {
    pub whole: f64,
    pub within: f64,
}

/// The samples a shape's share counts ([`EmailShape`], [`street_share`]): placeholders
/// (`n/a`, `NULL`) and values of punctuation alone left out.
pub fn real_samples(samples: &[String]) -> Vec<&str> {
    samples
        .iter()
        .map(String::as_str)
        .filter(|s| {
            !crate::engine::columns::is_missing_value(s)
                && !crate::engine::text::normalize(s).is_empty()
        })
        .collect()
}

impl EmailShape {
    /// Of a column's [`real_samples`].
    pub fn of(real: &[&str]) -> Option<Self> {
        if real.len() < SHAPE_MIN_SAMPLES {
            return None;
        }
        let share = |f: &dyn Fn(&str) -> bool| {
            real.iter().filter(|s| f(s)).count() as f64 / real.len() as f64
        };
        Some(Self {
            whole: share(&email_shaped),
            within: share(&|s: &str| {
                s.split(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '<' | '>'))
                    .any(email_shaped)
            }),
        })
    }
}

/// Whether a value is shaped as an e-mail address: one `@`, something before it, a dot in
/// the domain after it, no space.
pub fn email_shaped(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && !s.contains(char::is_whitespace)
                && !domain.contains('@')
                && domain.trim_end_matches('.').contains('.')
        }
        None => false,
    }
}

/// Words that type a street in an address, as written whole or short (`st`, `ave`,
/// `blvd`, `road`, `lane`, ...).
const STREET_WORDS: &[&str] = &[
    "st",
    "street",
    "ave",
    "av",
    "avenue",
    "blvd",
    "boulevard",
    "rd",
    "road",
    "dr",
    "drive",
    "ln",
    "lane",
    "way",
    "pl",
    "place",
    "ct",
    "court",
    "hwy",
    "highway",
    "pkwy",
    "parkway",
    "sq",
    "square",
    "ter",
    "terrace",
    "cres",
    "crescent",
    "cir",
    "circle",
    "trl",
    "trail",
    "row",
    "close",
    "broadway",
];

/// Share of a column's [`real_samples`] shaped as a street address ([`street_shaped`]),
/// from [`SHAPE_MIN_SAMPLES`] of them; `None` with fewer.
pub fn street_share(real: &[&str]) -> Option<f64> {
    (real.len() >= SHAPE_MIN_SAMPLES).then(|| {
        real.iter()
            .filter(|s| street_shaped(&crate::engine::text::tokens(s)))
            .count() as f64
            / real.len() as f64
    })
}

/// Whether a value's tokens are shaped as a street address: a house number first (`246`,
/// `12a`), a word after it, and a street word among the rest (`246 mcallister st.`,
/// `950 8th ave. at 56th st.`, `1 Main Street, Springfield`).
pub fn street_shaped(tokens: &[String]) -> bool {
    let number = tokens.first().is_some_and(|t| {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && t.len() - digits <= 1
    });
    number
        && tokens.len() >= 3
        && tokens[2..]
            .iter()
            .any(|t| STREET_WORDS.contains(&t.as_str()))
}

/// Fewest characters of a value's [`digit_shape`] for the shape to say what the value
/// is: `(999) 999-9999`, `999-99-9999`, `99999-9999`, `a9a 9a9` do; a house number's
/// `999` or a ZIP's `99999` is the shape of too many things.
const SHAPE_LEAST: usize = 7;

/// Least share of a column's real samples of a telling shape (digits, [`SHAPE_LEAST`]
/// characters) for the column to have [`digit_shapes`].
const SHAPED_SHARE: f64 = 0.8;

/// The shape of a value written with digits: each digit `9`, each run of letters one
/// `a`, each run of spaces one space, other characters as they are (`(415) 555-0199` →
/// `(999) 999-9999`, `SW1A 1AA` → `a9a 9a`); `None` for a value without a digit.
pub fn digit_shape(s: &str) -> Option<String> {
    let s = s.trim();
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_ascii_digit() {
            '9'
        } else if c.is_alphabetic() {
            'a'
        } else if c.is_whitespace() {
            ' '
        } else {
            c
        };
        if !(matches!(c, 'a' | ' ') && out.ends_with(c)) {
            out.push(c);
        }
    }
    Some(out)
}

/// Whether a [`digit_shape`] is a date's (`99/99/9999`, `9999-99-99`, `9.99.99`): every
/// column of dates shares one, and their type tells them apart from other numbers.
fn date_shaped(shape: &str) -> bool {
    let Some(sep) = shape.chars().find(|c| matches!(c, '/' | '-' | '.')) else {
        return false;
    };
    let parts: Vec<&str> = shape.split(sep).collect();
    let len = |k: usize| parts.get(k).map_or(0, |p| p.len());
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b == b'9'))
        && ((len(0) <= 2 && len(1) <= 2 && matches!(len(2), 2 | 4))
            || (len(0) == 4 && len(1) <= 2 && len(2) <= 2))
}

/// The telling shapes of a column's values ([`DigitShapes::of`]).
#[derive(Debug, Clone, Default)]
pub struct DigitShapes {
    /// How often each [`digit_shape`] of [`SHAPE_LEAST`] characters or more occurs, as a
    /// unit vector.
    layout: HashMap<String, f64>,
    /// How often each count of digits occurs among the values written in digits and
    /// punctuation alone, as a unit vector: `(415) 555-0199` and `415.555.0199` both
    /// ten.
    digits: HashMap<usize, f64>,
}

/// How much two columns' counts of digits alone say beside their layouts
/// ([`DigitShapes::similarity`]): a ZIP+4 and an identity number both have nine.
const DIGITS_ALONE: f64 = 0.75;

/// Scales a profile to unit length (an empty one stays empty).
fn unit<K: std::hash::Hash + Eq>(m: &mut HashMap<K, f64>) {
    let n = m.values().map(|v| v * v).sum::<f64>().sqrt();
    if n > 0.0 {
        for v in m.values_mut() {
            *v /= n;
        }
    }
}

impl DigitShapes {
    /// Of a column's real samples: two columns of phone numbers or identity numbers share
    /// a shape where no two of their values share a trigram. Empty unless [`SHAPED_SHARE`]
    /// of [`SHAPE_MIN_SAMPLES`] or more samples have a telling shape.
    pub fn of(real: &[&str]) -> Self {
        let mut layout: HashMap<String, f64> = HashMap::new();
        let mut digits: HashMap<usize, f64> = HashMap::new();
        for s in real {
            let Some(shape) =
                digit_shape(s).filter(|x| x.chars().count() >= SHAPE_LEAST && !date_shaped(x))
            else {
                continue;
            };
            *layout.entry(shape).or_default() += 1.0;
            if !s.chars().any(char::is_alphabetic) {
                *digits
                    .entry(s.bytes().filter(u8::is_ascii_digit).count())
                    .or_default() += 1.0;
            }
        }
        let shaped: f64 = layout.values().sum();
        if real.len() < SHAPE_MIN_SAMPLES || shaped < SHAPED_SHARE * real.len() as f64 {
            return Self::default();
        }
        unit(&mut layout);
        unit(&mut digits);
        Self { layout, digits }
    }

    /// Whether no shape tells anything of the column.
    pub fn is_empty(&self) -> bool {
        self.layout.is_empty()
    }

    /// How alike two columns' shapes are: the cosine of their layouts, or less, of their
    /// counts of digits alone ([`DIGITS_ALONE`]).
    pub fn similarity(&self, other: &Self) -> f64 {
        profile_cosine(&self.layout, &other.layout)
            .max(DIGITS_ALONE * profile_cosine(&self.digits, &other.digits))
    }
}
