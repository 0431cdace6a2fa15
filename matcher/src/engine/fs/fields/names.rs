//! Person names as the fields read them: a whole name's parts however it is written
//! (`LAST, First M`, `SMITH John`, a title or a suffix around it), and the words that are
//! no word of a name (a leading title, what registers write where no name is known).
//! Apart from the field ([`super`]): these rules know how people write names, not how a
//! column is typed or compared.

use super::NamePart;

/// Written after a person's name: no part of it a surname.
const NAME_SUFFIXES: [&str; 10] = [
    "jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "phd", "md", "esq",
];

/// The `part` of a person's whole name as written (`LAST, First M`, `First M Last`,
/// `SMITH John`, a title before it or a suffix after it, `John Smith, Jr.`): empty when
/// the name has no such part (one word has no given name; two words no middle).
pub fn name_part(whole: &str, part: NamePart, family_first: bool) -> String {
    let marked = marked_placeholders(whole);
    let whole = marked.as_deref().unwrap_or(whole);
    fn words(s: &str) -> Vec<&str> {
        s.split(|c: char| c.is_whitespace() || c == '.')
            .filter(|w| !w.is_empty())
            .collect()
    }
    let plain = |w: &str| w.to_lowercase();
    let title = |w: &&str| HONORIFICS.contains(&plain(w).as_str());
    let suffix = |w: &&str| NAME_SUFFIXES.contains(&plain(w).as_str());
    // `John Smith, Jr.`: a comma before a suffix alone is no `LAST, First`
    let comma = whole
        .split_once(',')
        .filter(|(_, after)| !words(after).iter().all(suffix));
    let (family, rest): (Vec<&str>, Vec<&str>) = match comma {
        Some((last, first)) => (words(last), words(first)),
        None => {
            let before = whole.split(',').next().unwrap_or_default();
            let mut ws = words(before);
            while ws.len() > 2 && title(&ws[0]) {
                ws.remove(0);
            }
            while ws.len() > 2 && ws.last().is_some_and(suffix) {
                ws.pop();
            }
            // `SMITH John`: the surname first, in capitals of three letters or more (`AJ
            // Smith` has initials first) and no given name the lexicon knows
            let caps = |w: &str| {
                w.chars().count() > 2
                    && w.chars().all(|c| !c.is_lowercase())
                    && w.chars().any(char::is_uppercase)
                    && !crate::engine::lexicon::known_given_name(&plain(w))
            };
            let lower =
                |w: &&str| w.starts_with(PLACEHOLDER_MARKS[0]) || w.chars().any(char::is_lowercase);
            if ws.len() >= 2 && (family_first || (caps(ws[0]) && ws[1..].iter().all(lower))) {
                let family = ws.remove(0);
                (vec![family], ws)
            } else {
                let family = ws.pop().into_iter().collect();
                (family, ws)
            }
        }
    };
    let keep = |ws: &mut Vec<&str>| ws.retain(|w| !title(w) && !suffix(w));
    let (mut family, mut rest) = (family, rest);
    keep(&mut family);
    keep(&mut rest);
    // a placeholder held its word's place in the split, and is no word of the part
    let known = |ws: &[&str]| {
        ws.iter()
            .filter_map(|w| {
                if !w.contains(PLACEHOLDER_MARKS) {
                    return Some((*w).to_string());
                }
                let rest: String = w
                    .chars()
                    .filter(|c| !PLACEHOLDER_MARKS.contains(c))
                    .collect();
                (!rest.trim_matches(',').is_empty()).then_some(rest)
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match part {
        NamePart::Family => known(&family),
        NamePart::Given => known(rest.get(..1).unwrap_or_default()),
        NamePart::Middle => known(rest.get(1..).unwrap_or_default()),
    }
}

/// Titles written before a person's name.
pub(in crate::engine::fs) const HONORIFICS: [&str; 9] = [
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam",
];

/// What registers write where a person's name is not known: first, last or middle name
/// unknown or none (`FNU`, `LNU`, `NFN`, `NLN`, `NMN`, `NMI`), a newborn not yet named
/// (`Baby`, `Infant`, `Newborn`), `Anonymous`, `Test`, `Doe`, `Mister` (as a given name).
/// Each is a word of a name as written ([`placeholder_words`]).
const PLACEHOLDER_NAMES: [&str; 13] = [
    "fnu",
    "lnu",
    "nfn",
    "nln",
    "nmn",
    "nmi",
    "baby",
    "infant",
    "newborn",
    "anonymous",
    "test",
    "doe",
    "mister",
];

/// Which of a name's words (lower case) stand for a name not known: a
/// [`PLACEHOLDER_NAMES`] word, `boy` or `girl` after a newborn's (`Baby Girl Smith`), and,
/// once one is found, the given name of `John Doe` / `Jane Doe` and a title or suffix left
/// alone (`Mr Doe`, `Dr Jane Doe`, `Doe Jr`). Empty words (a comma standing alone) count
/// for neither.
/// `None` when no word is one (the common case, nothing allocated).
fn placeholder_words<'a>(words: impl Iterator<Item = &'a str> + Clone) -> Option<Vec<bool>> {
    if !words.clone().any(|w| PLACEHOLDER_NAMES.contains(&w)) {
        return None;
    }
    let mut drop = Vec::new();
    let mut after_newborn = false;
    for w in words.clone() {
        drop.push(PLACEHOLDER_NAMES.contains(&w) || (after_newborn && matches!(w, "boy" | "girl")));
        // an empty word (`Baby, Girl`: the comma) breaks no newborn's registration
        if !w.is_empty() {
            after_newborn = matches!(w, "baby" | "infant" | "newborn");
        }
    }
    // the words left that name someone: not dropped, not empty, not a title
    let named = || {
        words
            .clone()
            .zip(&drop)
            .filter(|(w, d)| {
                !**d && !w.is_empty() && !HONORIFICS.contains(w) && !NAME_SUFFIXES.contains(w)
            })
            .map(|(w, _)| w)
    };
    let john_doe = words.clone().any(|w| w == "doe")
        && named().count() == 1
        && named().all(|w| matches!(w, "john" | "jane"));
    if john_doe || named().next().is_none() {
        drop.iter_mut().for_each(|d| *d = true);
    }
    Some(drop)
}

/// A person's name (a given name, a surname, a whole name; normalized) without the words
/// that stand for a name not known ([`placeholder_words`]): empty when nothing else is
/// left. Read as a name, the placeholder disagreed outright with the person's name in
/// their other records and agreed with every stranger's (census and tax forms with one
/// given name and one surname in thirty so written: F1 0.9812 -> 0.9876, 0.9928 with
/// none). `Doe` is a rare real surname, and `John Doe` far more often the placeholder; a
/// `Doe` loses that field and no more.
pub(super) fn without_placeholder_names(norm: String) -> String {
    match placeholder_words(norm.split(' ')) {
        None => norm,
        Some(drop) => norm
            .split(' ')
            .zip(drop)
            .filter(|(_, d)| !d)
            .map(|(w, _)| w)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// What stands in a whole name for a word that names no one ([`marked_placeholders`]):
/// the first when the word held a lower-case letter, the second when it did not, so the
/// test for a surname written first in capitals (`SMITH Baby`, `OLUWASEUN LNU`) reads the
/// word as written.
const PLACEHOLDER_MARKS: [char; 2] = ['\u{1}', '\u{2}'];

/// A whole name as written with each word that stands for a name not known
/// ([`placeholder_words`]) replaced by a mark ([`PLACEHOLDER_MARKS`]), its commas kept
/// where they were (`DOE,JANE`, `Smith ,Baby`), for [`name_part`] to split: the mark holds
/// the word's place, so `Mary LNU` keeps `Mary` as its given name and `Baby Girl` has no
/// surname `Girl`. `None` when no word is one.
fn marked_placeholders(whole: &str) -> Option<String> {
    fn core(piece: &str) -> &str {
        piece.trim_matches('.')
    }
    let pieces = || whole.split_whitespace().flat_map(|t| t.split(','));
    let placeholder = |p: &str| {
        PLACEHOLDER_NAMES
            .iter()
            .any(|n| core(p).eq_ignore_ascii_case(n))
    };
    if !pieces().any(placeholder) {
        return None;
    }
    let cores: Vec<String> = pieces().map(|p| core(p).to_lowercase()).collect();
    let mut drop = placeholder_words(cores.iter().map(String::as_str))?.into_iter();
    let marked: Vec<String> = whole
        .split_whitespace()
        .map(|t| {
            t.split(',')
                .map(|p| match drop.next() {
                    Some(true) if p.chars().any(char::is_lowercase) => {
                        PLACEHOLDER_MARKS[0].to_string()
                    }
                    Some(true) => PLACEHOLDER_MARKS[1].to_string(),
                    _ => p.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    Some(marked.join(" "))
}

/// A text without a leading honorific (`mr`, `mrs`, `dr`, ...) when two or more words
/// follow it: `Dr Bailee Mccarthy` and `bailee mccarthy` are one name written twice, and
/// a title one record has and the other lacks made the two only alike. A suffix (`jr`,
/// `sr`) is kept: it tells a father from his son.
pub(super) fn without_honorific(norm: String) -> String {
    match norm.split_once(' ') {
        Some((first, rest)) if HONORIFICS.contains(&first) && rest.contains(' ') => {
            rest.to_string()
        }
        _ => norm,
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    #[test]
    fn a_whole_name_is_read_as_its_parts_in_the_ways_it_is_written() {
        let parts = |w: &str| {
            [NamePart::Given, NamePart::Middle, NamePart::Family].map(|p| name_part(w, p, false))
        };
        assert_eq!(parts("SMITH, John A"), ["John", "A", "SMITH"]);
        assert_eq!(parts("van der Berg, Anna"), ["Anna", "", "van der Berg"]);
        assert_eq!(parts("Dr. Mary Ann Smith Jr"), ["Mary", "Ann", "Smith"]);
        assert_eq!(parts("mr john smith"), ["john", "", "smith"]);
        assert_eq!(parts("SMITH John"), ["John", "", "SMITH"]);
        assert_eq!(parts("John SMITH"), ["John", "", "SMITH"]);
        assert_eq!(parts("Madonna"), ["", "", "Madonna"]);
        assert_eq!(parts("John Smith, Jr."), ["John", "", "Smith"]);
        assert_eq!(parts("SMITH JR, JOHN"), ["JOHN", "", "SMITH"]);
        assert_eq!(parts("AJ Smith"), ["AJ", "", "Smith"]);
        assert_eq!(parts("JOHN Smith"), ["JOHN", "", "Smith"]);
        // a column found to write the surname first
        let first = |w: &str| {
            [NamePart::Given, NamePart::Middle, NamePart::Family].map(|p| name_part(w, p, true))
        };
        assert_eq!(first("Smith John A"), ["John", "A", "Smith"]);
        assert_eq!(first("SMITH, John"), ["John", "", "SMITH"]);
        assert_eq!(parts(""), ["", "", ""]);
        // read through a field, from its column
        let mut f = FieldSpec::new("first_name", FieldKind::Text);
        f.columns = vec!["name".into()];
        f.name_part = Some(NamePart::Given);
        assert_eq!(f.raw(|c| (c == "name").then_some("GARCIA, Maria")), "Maria");
    }

    #[test]
    fn a_leading_honorific_is_dropped_from_a_name_but_a_suffix_is_kept() {
        let f = FieldSpec::new("customer", FieldKind::Text);
        let norm = |raw: &str| normalize_field(&f, raw).0;
        assert_eq!(norm("Dr Bailee Mccarthy"), "bailee mccarthy");
        assert_eq!(norm("MRS. ANNA SMITH"), "anna smith");
        assert_eq!(norm("John Smith Jr"), "john smith jr");
        // with one word after it the title is the name (`Dr Who`), and a word that only
        // begins like one is a name
        assert_eq!(norm("Dr Who"), "dr who");
        assert_eq!(norm("Mrsa Smith Jones"), "mrsa smith jones");
        // a title alone where a given name goes is no given name; elsewhere it is kept
        let mut given = FieldSpec::new("first_name", FieldKind::Text);
        given.nicknames = true;
        assert_eq!(normalize_field(&given, "Sir").0, "");
        assert_eq!(normalize_field(&given, "MR.").0, "");
        assert_eq!(normalize_field(&given, "Sirius").0, "sirius");
        assert_eq!(norm("Sir"), "sir");
    }

    #[test]
    fn a_placeholder_for_an_unknown_name_is_a_missing_name() {
        let given = FieldSpec {
            nicknames: true,
            ..FieldSpec::new("first_name", FieldKind::Text)
        };
        let surname = FieldSpec {
            surname: true,
            ..FieldSpec::new("last_name", FieldKind::Text)
        };
        let whole = FieldSpec {
            person_name: true,
            ..FieldSpec::new("name", FieldKind::Text)
        };
        for raw in [
            "FNU",
            "Baby Girl",
            "baby boy",
            "Infant",
            "NFN",
            "Mister",
            "Test",
        ] {
            assert_eq!(normalize_field(&given, raw).0, "", "{raw}");
        }
        for raw in ["LNU", "Doe", "nln", "Anonymous"] {
            assert_eq!(normalize_field(&surname, raw).0, "", "{raw}");
        }
        for raw in ["John Doe", "DOE, JANE", "Baby Boy", "fnu lnu"] {
            assert_eq!(normalize_field(&whole, raw).0, "", "{raw}");
        }
        // a title left with no name, and a newborn's registration however written
        for raw in ["Mr Doe", "Dr. Anonymous", "Infant Boy", "NEWBORN GIRL"] {
            assert_eq!(normalize_field(&whole, raw).0, "", "{raw}");
        }
        // read in parts, a whole name keeps no placeholder either (`Girl` is no surname)
        for (raw, given, family) in [
            ("Baby Girl", "", ""),
            ("Baby Girl Smith", "", "Smith"),
            ("DOE, JANE", "", ""),
            ("Doe, Mary", "Mary", ""),
            ("FNU Ardash", "", "Ardash"),
            ("Cyrus Master", "Cyrus", "Master"),
            // the placeholder keeps its place: `Mary` stays the given name
            ("Mary LNU", "Mary", ""),
            ("Mr John Doe", "", ""),
            ("Doe , Jane", "", ""),
            ("van der Berg, Baby Girl", "", "van der Berg"),
            // marks never leak, commas stay where they were, a name in capitals reads as
            // written, a comma breaks no newborn's registration
            ("Smith, FNU, Robert", "", "Smith"),
            ("Smith ,Baby Girl", "", "Smith"),
            ("DOE,JANE", "", ""),
            ("OLUWASEUN LNU", "OLUWASEUN", ""),
            ("SMITH Baby", "", "SMITH"),
            ("Baby, Girl", "", ""),
            ("Infant, Boy", "", ""),
        ] {
            assert_eq!(name_part(raw, NamePart::Given, false), given, "{raw}");
            assert_eq!(name_part(raw, NamePart::Family, false), family, "{raw}");
        }
        assert_eq!(name_part("LNU John", NamePart::Given, true), "John");
        assert_eq!(name_part("LNU John", NamePart::Family, true), "");
        assert_eq!(name_part("FNU John Smith", NamePart::Middle, false), "John");
        assert_eq!(
            name_part("Smith, FNU, Robert", NamePart::Middle, false),
            "Robert"
        );
        assert_eq!(normalize_field(&whole, "John Doe Jr").0, "");
        assert_eq!(normalize_field(&surname, "Doe Jr").0, "");
        // the name a placeholder stands beside is kept
        assert_eq!(normalize_field(&whole, "Baby Girl Smith").0, "smith");
        assert_eq!(normalize_field(&whole, "Infant Girl Smith").0, "smith");
        assert_eq!(normalize_field(&whole, "FNU Ardash").0, "ardash");
        assert_eq!(normalize_field(&whole, "John Doerr").0, "john doerr");
        // real names, and the same words in a column that holds no name
        for raw in ["Boyd", "Tess", "Dora", "Babette"] {
            assert_eq!(normalize_field(&given, raw).0, raw.to_lowercase(), "{raw}");
        }
        let title = FieldSpec::new("title", FieldKind::Text);
        assert_eq!(normalize_field(&title, "Baby Boy").0, "baby boy");
        // `master` is no title: a product's first word, a surname
        assert_eq!(
            normalize_field(&title, "Master Lock 5400D").0,
            "master lock 5400d"
        );
        assert_eq!(normalize_field(&whole, "Cyrus Master").0, "cyrus master");
    }
}
