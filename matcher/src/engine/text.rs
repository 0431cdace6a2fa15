//! Text evidence shared by the embedded backbone, blocking and scoring: normalization,
//! identifier splitting, token/character similarities, phonetic codes, abbreviations.

use std::collections::{HashMap, HashSet};

use unicode_normalization::UnicodeNormalization;

/// Lower-cases, strips accents, turns punctuation into spaces, collapses whitespace.
/// Apostrophes are dropped (`morton's` → `mortons`).
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    if s.is_ascii() {
        // the same steps for ASCII, where decomposition changes nothing
        for &b in s.as_bytes() {
            if b == b'\'' {
                continue;
            }
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b.to_ascii_lowercase()));
                space = false;
            } else if !space {
                out.push(' ');
                space = true;
            }
        }
        if out.ends_with(' ') {
            out.pop();
        }
        return out;
    }
    for c in s.nfkd() {
        if !c.is_ascii() && unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c == '\'' || c == '’' {
            continue;
        }
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(l);
            }
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whitespace tokens of the normalized text.
pub fn tokens(s: &str) -> Vec<String> {
    normalize(s)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits an identifier on snake_case, kebab-case, camelCase and letter/digit borders:
/// `custFirstName_2` → `cust first name 2`. A `#` is the word `number`, as a form's
/// headings write it (`House #`, `Phone #`, `Apt#`).
pub fn split_identifier(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                parts.push(std::mem::take(&mut cur));
            }
            // after a word that says what is numbered (not `ID#`, nor a `#` alone)
            if c == '#'
                && parts.last().is_some_and(|p: &String| {
                    !matches!(p.to_lowercase().as_str(), "id" | "no" | "nr" | "number")
                })
            {
                parts.push("number".to_string());
            }
            continue;
        }
        if let Some(&p) = cur.chars().last().as_ref() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() && c.is_ascii_digit())
                || (p.is_ascii_digit() && c.is_alphabetic());
            if boundary {
                parts.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
        .into_iter()
        .map(|p| normalize(&p))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Jaro–Winkler similarity of two strings.
pub fn jw(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() <= 64 && b.len() <= 64 && a.is_ascii() && b.is_ascii() {
        return jaro_winkler_ascii(a.as_bytes(), b.as_bytes());
    }
    strsim::jaro_winkler(a, b)
}

/// [`jw`] of two ASCII byte strings (`strsim::jaro_winkler` beyond 64 bytes).
pub fn jw_ascii(a: &[u8], b: &[u8]) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() <= 64 && b.len() <= 64 {
        return jaro_winkler_ascii(a, b);
    }
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(x), Ok(y)) => strsim::jaro_winkler(x, y),
        _ => 0.0,
    }
}

/// `strsim::jaro_winkler` for ASCII strings of at most 64 bytes, bit-parallel: the
/// positions of each byte in `b` as a `u64` mask, so each byte of `a` finds its first
/// unmatched equal byte of `b` within the window with one mask operation. The same result
/// (same matching order) as the quadratic loop, and no allocation on the hot path of
/// scoring millions of candidate pairs.
fn jaro_winkler_ascii(a: &[u8], b: &[u8]) -> f64 {
    let (al, bl) = (a.len(), b.len());
    let range = (al.max(bl) / 2).saturating_sub(1);
    let mut pos = [0u64; 128];
    for (j, &y) in b.iter().enumerate() {
        pos[(y & 0x7f) as usize] |= 1u64 << j;
    }
    // bits lo..hi (exclusive) set
    let window = |lo: usize, hi: usize| -> u64 {
        if hi <= lo {
            0
        } else {
            let upto = if hi >= 64 { u64::MAX } else { (1u64 << hi) - 1 };
            upto & !((1u64 << lo) - 1)
        }
    };
    let (mut af, mut bf) = (0u64, 0u64);
    let mut m = 0usize;
    for (i, &x) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(bl);
        let c = pos[(x & 0x7f) as usize] & !bf & window(lo, hi);
        if c != 0 {
            bf |= c & c.wrapping_neg();
            af |= 1u64 << i;
            m += 1;
        }
    }
    if m == 0 {
        return 0.0;
    }
    let mut t = 0usize;
    let (mut ra, mut rb) = (af, bf);
    while ra != 0 {
        let (i, j) = (ra.trailing_zeros() as usize, rb.trailing_zeros() as usize);
        if a[i] != b[j] {
            t += 1;
        }
        ra &= ra - 1;
        rb &= rb - 1;
    }
    let t = t / 2;
    let m = m as f64;
    let sim = (m / al as f64 + m / bl as f64 + (m - t as f64) / m) / 3.0;
    if sim > 0.7 {
        let prefix = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

/// Normalized Levenshtein similarity.
pub fn lev_sim(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    strsim::normalized_levenshtein(a, b)
}

/// Symmetric Monge–Elkan similarity over tokens (mean of each token's best Jaro–Winkler).
pub fn token_sim(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let one = |x: &[String], y: &[String]| {
        x.iter()
            .map(|t| y.iter().map(|u| jw(t, u)).fold(0.0, f64::max))
            .sum::<f64>()
            / x.len() as f64
    };
    (one(a, b) + one(b, a)) / 2.0
}

/// Jaccard similarity of two token sets.
pub fn jaccard<T: Eq + std::hash::Hash>(a: &HashSet<T>, b: &HashSet<T>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(b).count() as f64;
    inter / (a.len() as f64 + b.len() as f64 - inter)
}

/// Character q-grams (with padding) of a string.
pub fn qgrams(s: &str, q: usize) -> HashSet<String> {
    let padded: Vec<char> = format!("#{s}#").chars().collect();
    let mut out = HashSet::new();
    if padded.len() < q {
        out.insert(padded.iter().collect());
        return out;
    }
    for w in padded.windows(q) {
        out.insert(w.iter().collect());
    }
    out
}

/// Dice coefficient of the character trigrams (the distinct trigrams of [`qgrams`] with
/// q = 3, each packed into one integer: no string per trigram, compared by a merge).
pub fn trigram_sim(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    trigram_dice(&trigrams(a), &trigrams(b))
}

/// [`trigram_sim`] of two strings whose [`trigrams`] are known (equal strings have equal
/// trigrams, so the shortcut for them changes nothing).
pub fn trigram_dice(x: &[u64], y: &[u64]) -> f64 {
    sorted_dice(x, y)
}

/// Dice coefficient of two sorted sets (no repeats): twice the shared items over the
/// items of both.
pub fn sorted_dice<T: Ord>(x: &[T], y: &[T]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * inter as f64 / (x.len() + y.len()) as f64
}

/// The distinct padded trigrams of `s`, sorted, each as three 21-bit characters (the empty
/// string, padded to two characters, is one gram, as in [`qgrams`]).
pub fn trigrams(s: &str) -> Vec<u64> {
    let padded: Vec<u64> = std::iter::once('#')
        .chain(s.chars())
        .chain(std::iter::once('#'))
        .map(u64::from)
        .collect();
    let mut out: Vec<u64> = if padded.len() < 3 {
        // only the empty string: a value no window of three characters packs to
        vec![u64::MAX]
    } else {
        padded
            .windows(3)
            .map(|w| (w[0] << 42) | (w[1] << 21) | w[2])
            .collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// American Soundex code of the first word (`robert` → `R163`); empty for no letters.
pub fn soundex(s: &str) -> String {
    soundex_code(s)
        .map(|c| c.iter().map(|&b| char::from(b)).collect())
        .unwrap_or_default()
}

/// [`soundex`] as four ASCII bytes, without allocating; `None` for no letters.
pub fn soundex_code(s: &str) -> Option<[u8; 4]> {
    let code = |c: char| match c {
        'b' | 'f' | 'p' | 'v' => b'1',
        'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => b'2',
        'd' | 't' => b'3',
        'l' => b'4',
        'm' | 'n' => b'5',
        'r' => b'6',
        'h' | 'w' => b'-',
        _ => b'0',
    };
    let mut letters = s
        .chars()
        .flat_map(char::to_lowercase)
        .skip_while(|c| !c.is_ascii_alphabetic())
        .take_while(|c| c.is_ascii_alphabetic());
    let first = letters.next()?;
    let mut out = [b'0'; 4];
    out[0] = first.to_ascii_uppercase() as u8;
    let mut n = 1;
    let mut last = code(first);
    for c in letters {
        let d = code(c);
        if d == b'-' {
            continue;
        }
        if d != b'0' && d != last {
            out[n] = d;
            n += 1;
            if n == 4 {
                break;
            }
        }
        last = d;
    }
    Some(out)
}

/// Shortest model number ([`is_model_number`]): five characters, so a British postcode's
/// outward code (`sw1a`) or a flat (`12b`) is none.
const CODE_LEN: usize = 5;

/// Whether a word holds both letters and digits.
pub fn mixed(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit()) && t.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Whether a word is a model number: at least [`CODE_LEN`] characters of letters and
/// digits (`ezxs88w`, `7737a001`), not an ordinal (`125th`, a street's name in many
/// addresses).
pub fn is_model_number(t: &str) -> bool {
    t.len() >= CODE_LEN && mixed(t) && !ordinal(t)
}

/// Whether a word is a number written as an ordinal (`79th`, `101st`).
pub fn ordinal(t: &str) -> bool {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&t[digits..], "st" | "nd" | "rd" | "th")
}

/// Only the digits of a string.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// True when `short` is a subsequence of `long` starting with the same character.
fn subsequence(short: &str, long: &str) -> bool {
    let mut it = long.chars();
    let mut first = true;
    for c in short.chars() {
        if first {
            if !long.starts_with(c) {
                return false;
            }
            it.next();
            first = false;
            continue;
        }
        if !it.by_ref().any(|x| x == c) {
            return false;
        }
    }
    true
}

/// True when the single token `short` abbreviates the word `long` (prefix or
/// consonant-skeleton subsequence: `st`/`street`, `intl`/`international`, `nm`/`name`).
pub fn token_abbreviates(short: &str, long: &str) -> bool {
    short.len() < long.len() && !short.is_empty() && subsequence(short, long)
}

/// True when the token list `short` abbreviates `long`: an initialism (`ibm` /
/// `international business machines`), or token-wise abbreviations of the same number
/// of tokens with at least one strictly shortened (`gvn nm` / `given name`).
pub fn is_abbreviation(short: &[String], long: &[String]) -> bool {
    if short.is_empty() || long.is_empty() || short == long {
        return false;
    }
    // initialism: one token made of the initials of >= 2 tokens
    let initials: String = long.iter().filter_map(|t| t.chars().next()).collect();
    let joined: String = short.concat();
    if long.len() >= 2 && joined.len() >= 2 && joined == initials {
        return true;
    }
    if short.len() == long.len() {
        let mut shortened = false;
        for (s, l) in short.iter().zip(long) {
            if s == l {
                continue;
            }
            if token_abbreviates(s, l) {
                shortened = true;
            } else {
                return false;
            }
        }
        return shortened;
    }
    // one token abbreviating the concatenation (`dob` / `date of birth` handled above;
    // `fname` / `first name`)
    if short.len() == 1 && long.len() >= 2 {
        let cat = long.concat();
        return joined.len() >= 2
            && joined.len() < cat.len()
            && subsequence(&joined, &cat)
            && long
                .iter()
                .all(|t| joined.contains(t.chars().next().unwrap_or(' ')));
    }
    false
}

/// Inverse document frequencies over a corpus of token lists.
#[derive(Debug, Clone, Default)]
pub struct Idf {
    df: HashMap<String, f64>,
    n: f64,
}

impl Idf {
    pub fn fit<'a>(docs: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut df: HashMap<String, f64> = HashMap::new();
        let mut n = 0.0;
        for d in docs {
            n += 1.0;
            let set: HashSet<&String> = d.iter().collect();
            for t in set {
                *df.entry(t.clone()).or_default() += 1.0;
            }
        }
        Self { df, n }
    }

    pub fn idf(&self, t: &str) -> f64 {
        let d = self.df.get(t).copied().unwrap_or(0.0);
        ((1.0 + self.n) / (1.0 + d)).ln() + 1.0
    }

    fn tfidf<'a>(&self, d: &'a [String]) -> HashMap<&'a str, f64> {
        let mut m: HashMap<&str, f64> = HashMap::new();
        for t in d {
            *m.entry(t.as_str()).or_default() += 1.0;
        }
        for (t, v) in m.iter_mut() {
            *v *= self.idf(t);
        }
        m
    }

    /// TF-IDF cosine similarity of two token lists.
    pub fn cosine(&self, a: &[String], b: &[String]) -> f64 {
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        let (x, y) = (self.tfidf(a), self.tfidf(b));
        let dot: f64 = x
            .iter()
            .map(|(t, v)| v * y.get(t).copied().unwrap_or(0.0))
            .sum();
        let nx = x.values().map(|v| v * v).sum::<f64>().sqrt();
        let ny = y.values().map(|v| v * v).sum::<f64>().sqrt();
        if nx == 0.0 || ny == 0.0 {
            0.0
        } else {
            dot / (nx * ny)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigram_sim_is_the_dice_of_the_distinct_qgrams() {
        let dice = |a: &str, b: &str| {
            let (x, y) = (qgrams(a, 3), qgrams(b, 3));
            2.0 * x.intersection(&y).count() as f64 / (x.len() + y.len()) as f64
        };
        for (a, b) in [
            ("telephone", "phone"),
            ("customer email", "client mail"),
            ("aaaa", "aaa"),
            ("ab", "abc"),
            ("a", "b"),
            ("zip", "zip code"),
            ("straße", "strasse"),
        ] {
            assert!((trigram_sim(a, b) - dice(a, b)).abs() < 1e-12, "{a} / {b}");
        }
        assert_eq!(trigram_sim("same", "same"), 1.0);
    }

    fn t(s: &str) -> Vec<String> {
        tokens(s)
    }

    #[test]
    fn normalizes_and_splits() {
        assert_eq!(
            normalize("  Arnie Morton's  of Chicago!"),
            "arnie mortons of chicago"
        );
        assert_eq!(normalize("Café"), "cafe");
        assert_eq!(
            split_identifier("custFirstName_2"),
            ["cust", "first", "name", "2"]
        );
        assert_eq!(split_identifier("HTTPServer"), ["http", "server"]);
        assert_eq!(split_identifier("date_of_birth"), ["date", "of", "birth"]);
        assert_eq!(split_identifier("House #"), ["house", "number"]);
        assert_eq!(split_identifier("Apt#"), ["apt", "number"]);
        assert_eq!(split_identifier("ID #"), ["id"]);
        assert_eq!(split_identifier("#"), Vec::<String>::new());
        assert_eq!(split_identifier("#ID"), ["id"]);
    }

    #[test]
    fn soundex_codes() {
        assert_eq!(soundex("Robert"), "R163");
        assert_eq!(soundex("Rupert"), "R163");
        assert_eq!(soundex("Tymczak"), "T522");
        assert_eq!(soundex("Ashcraft"), "A261");
        assert_eq!(soundex("123"), "");
    }

    #[test]
    fn abbreviations() {
        assert!(is_abbreviation(
            &t("IBM"),
            &t("International Business Machines")
        ));
        assert!(is_abbreviation(&t("gvn nm"), &t("given name")));
        assert!(is_abbreviation(&t("dob"), &t("date of birth")));
        assert!(is_abbreviation(&t("st"), &t("street")));
        assert!(!is_abbreviation(&t("name"), &t("name")));
        assert!(!is_abbreviation(&t("xyz"), &t("given name")));
        assert!(!is_abbreviation(&t("surname"), &t("given name")));
    }

    #[test]
    fn similarities_are_bounded() {
        assert!((jaccard(&qgrams("abc", 2), &qgrams("abc", 2)) - 1.0).abs() < 1e-9);
        assert!(trigram_sim("stanley street", "stanley st") > 0.5);
        assert!(token_sim(&t("apple pan the"), &t("the apple pan")) > 0.99);
        let idf = Idf::fit([t("a b c").as_slice(), t("a d").as_slice()]);
        assert!(idf.cosine(&t("b c"), &t("b c")) > 0.99);
        assert_eq!(idf.cosine(&t("b"), &t("d")), 0.0);
    }

    #[test]
    fn ascii_jaro_winkler_equals_strsim() {
        let words = [
            "martha",
            "marhta",
            "dwayne",
            "duane",
            "dixon",
            "dicksonx",
            "jon",
            "jonathan",
            "abc",
            "xyz",
            "a",
            "ab",
            "ba",
            "aaaa",
            "aaab",
            "cheeseburger",
            "cheese fries",
            "droumklous",
            "droumkluos",
            "0222",
            "2220",
            "19640804",
            "19640408",
        ];
        for a in words {
            for b in words {
                let (x, y) = (jw(a, b), strsim::jaro_winkler(a, b));
                assert!((x - y).abs() < 1e-12, "{a} / {b}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn bit_parallel_jaro_winkler_equals_strsim_on_random_strings() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let alphabet = b"abcde fg";
        for _ in 0..20_000 {
            let max = if rng.random_bool(0.1) { 64 } else { 14 };
            let mut word = |max: usize| -> String {
                let n = rng.random_range(1..=max);
                (0..n)
                    .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
                    .collect()
            };
            let (a, b) = (word(max), word(max));
            let (x, y) = (jw(&a, &b), strsim::jaro_winkler(&a, &b));
            assert!((x - y).abs() < 1e-12, "{a} / {b}: {x} vs {y}");
            let z = jw_ascii(a.as_bytes(), b.as_bytes());
            assert!((z - y).abs() < 1e-12, "{a} / {b}: {z} vs {y}");
        }
    }
}
