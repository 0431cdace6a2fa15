//! Whether two product titles name one product however differently worded: a model
//! number one names and the other holds, split or with a region's suffix
//! ([`same_model`]), or one title's whole wording inside the other's ([`contains_words`]).
//! Apart from the levels ([`super::level`]) because these read a catalogue's habits, not
//! a kind of value.

use super::super::Value;
use super::{LONG_TEXT, osa_distance_at_most};
use crate::engine::text::is_model_number;

/// Whether two texts of three or more words, each with a digit, name one model number
/// ([`shared_code`]), and are not two addresses: two texts that begin with different
/// numbers are two houses, whatever postcode they share (`10 downing st sw1a2aa` /
/// `70 whitehall sw1a2aa`).
pub fn same_model(a: Value<'_>, b: Value<'_>) -> bool {
    if a.digits.is_empty() || b.digits.is_empty() || a.token_count() < 3 || b.token_count() < 3 {
        return false;
    }
    fn number(s: &str) -> Option<&str> {
        s.split(' ')
            .next()
            .filter(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
    }
    if let (Some(x), Some(y)) = (number(a.norm), number(b.norm))
        && x != y
    {
        return false;
    }
    shared_code(a.norm, b.norm)
}

/// Whether every word of the text with fewer words is a word of the other, which adds
/// words of its own: one title a part of the other's wording, the other adding a maker,
/// a code or an edition (`punch professional home design` / `punch software 14100 punch
/// professional home design suite for windows`). The shorter has three words or more;
/// two different ones, of four letters or more, are found as written (a word said twice
/// is one); one word may be one edit from its partner, both of five letters or more and
/// letters only (`profesional`; a code one digit apart is another product: `fs1001` /
/// `fs1002`). Neither is longer than [`LONG_TEXT`] (a title inside a description says
/// less). Not an address: neither begins with a digit, and the longer adds no house or
/// flat number (a number of up to three digits) and no unit word before a number (`12
/// maple street springfield` / `... apt 5`, `oak street 12 springfield` / `... flat 5`,
/// `miller street springwood` / `44 miller street rsl village springwood`, `... suite
/// 1204`; `suite for windows` is no unit). A longer number added to a street (`west 79th
/// street` / `acme 1139 west 79th street`) is read as a code. Nor another edition: the
/// longer adds no tier word ([`crate::engine::lexicon::EDITION_WORDS`]: `punch home
/// design` / `punch professional home design`). Allocates nothing.
pub fn contains_words(a: Value<'_>, b: Value<'_>) -> bool {
    if a.norm.len() > LONG_TEXT || b.norm.len() > LONG_TEXT {
        return false;
    }
    let (short, long) = match a.token_count().cmp(&b.token_count()) {
        std::cmp::Ordering::Less => (a, b),
        std::cmp::Ordering::Greater => (b, a),
        std::cmp::Ordering::Equal => return false,
    };
    let leading_digit = |v: Value<'_>| v.norm.bytes().next().is_some_and(|c| c.is_ascii_digit());
    if short.token_count() < 3 || leading_digit(short) || leading_digit(long) {
        return false;
    }
    let in_short = |u: &str| short.tokens().any(|t| t == u);
    if long.tokens().all(in_short) {
        return false;
    }
    let digit = |u: &str| u.bytes().any(|c| c.is_ascii_digit());
    // a house's or a flat's number: up to three digits, not a code with a letter (`ho2`,
    // `x64`, `3d`)
    let house = |u: &str| u.len() < 4 && u.bytes().all(|c| c.is_ascii_digit());
    let next = long.tokens().skip(1).map(Some).chain(std::iter::once(None));
    let adds_home = long.tokens().zip(next).any(|(u, after)| {
        !in_short(u)
            && (house(u)
                || (crate::engine::lexicon::UNIT_DESIGNATORS.contains(&u)
                    && after.is_some_and(digit)))
    });
    if adds_home {
        return false;
    }
    // another edition of one series: `punch home design` / `punch professional home
    // design` (a series sold in tiers a word apart: the shorter title's product is the
    // one without the tier; product-title-link F1 0.9488 -> 0.9634). The shorter's own
    // tier mistyped (`preimer`) is no edition added.
    // (a tier one edit from a word of the shorter, both of five letters or more, is that
    // word mistyped; a shorter tier counts only as written: `plug` is no `plus`)
    let edition = |u: &str| {
        crate::engine::lexicon::EDITION_WORDS.contains(&u)
            && !short.tokens().any(|t| {
                t == u || (t.len().min(u.len()) >= 5 && osa_distance_at_most(t, u, 1) <= 1)
            })
    };
    if long.tokens().any(edition) {
        return false;
    }
    let letters = |t: &str| t.len() >= 5 && t.bytes().all(|c| c.is_ascii_alphabetic());
    let (mut exact, mut typos) = (0, 0);
    for (k, t) in short.tokens().enumerate() {
        if short.tokens().take(k).any(|x| x == t) {
            // a word said twice is one word
            continue;
        }
        if long.tokens().any(|u| u == t) {
            exact += usize::from(t.bytes().filter(u8::is_ascii_alphabetic).count() >= 4);
        } else if letters(t)
            && long
                .tokens()
                .any(|u| letters(u) && osa_distance_at_most(t, u, 1) <= 1)
        {
            typos += 1;
        } else {
            return false;
        }
    }
    exact >= 2 && typos <= 1
}

/// Whether two texts name one model number: a word of one ([`is_model_number`]) is in
/// the other, read from the start of a word with its spaces skipped, up to the end of a
/// word or a suffix of at most three letters. So the code is found however the other
/// side splits it (`dbv t669w`, `f3h982 10`) or adds a region's suffix to it (`fs105` in
/// `fs105na`), but not in a longer number (`mx500` / `mx5000`) or across a word
/// (`1234a` / `1234 abbey`). Allocates nothing.
pub(super) fn shared_code(a: &str, b: &str) -> bool {
    a.split(' ')
        .filter(|w| is_model_number(w))
        .any(|c| found_in(c.as_bytes(), b.as_bytes()))
        || b.split(' ')
            .filter(|w| is_model_number(w))
            .any(|c| found_in(c.as_bytes(), a.as_bytes()))
}

/// Longest suffix after a model number that still names it ([`shared_code`]: `na`, `us`).
const CODE_SUFFIX: usize = 3;

/// Whether `code` is in the normalized text `text` as [`shared_code`] reads it.
fn found_in(code: &[u8], text: &[u8]) -> bool {
    (0..text.len())
        .filter(|&s| text[s] != b' ' && (s == 0 || text[s - 1] == b' '))
        .any(|s| {
            let (mut i, mut k) = (s, 0);
            while k < code.len() && i < text.len() {
                if text[i] == b' ' {
                    i += 1;
                } else if text[i] == code[k] {
                    i += 1;
                    k += 1;
                } else {
                    return false;
                }
            }
            if k < code.len() {
                return false;
            }
            let rest = text[i..].split(|&c| c == b' ').next().unwrap_or_default();
            rest.len() <= CODE_SUFFIX && rest.iter().all(u8::is_ascii_alphabetic)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fs::{FieldKind, FieldSpec, Prepared, level, normalize_field};

    #[test]
    fn two_titles_naming_one_model_number_are_close_however_worded() {
        let title = FieldSpec::new("title", FieldKind::Text);
        let lv = |a: &str, b: &str| {
            let p = |raw: &str| {
                let (norm, digits) = normalize_field(&title, raw);
                Prepared::from_values([(norm.as_str(), digits.as_str())])
            };
            level(FieldKind::Text, p(a).value(0), p(b).value(0))
        };
        // Abt-Buy's first pairs: the same code, one with a region's suffix, one split by
        // a hyphen on one side only
        let close = [
            (
                "Linksys EtherFast 8-Port 10/100 Switch - EZXS88W",
                "Linksys EtherFast EZXS88W Ethernet Switch - EZXS88W",
            ),
            (
                "Netgear ProSafe 5 Port 10/100 Desktop Switch - FS105",
                "Netgear ProSafe FS105 Ethernet Switch - FS105NA",
            ),
            (
                "Helix Digital 10/100 hdmi 2.0 Speaker - DBVT669W",
                "Helix Digital DBV-T669W Speaker",
            ),
            (
                "Acme Gaming 1080p bundle usb Speaker - OCH699",
                "Acme Gaming OCH-699 Speaker System ultra",
            ),
            (
                "Belkin Pro Series Monitor Cable - F3H98210",
                "Belkin Pro Series VGA/SVGA Monitor Extension Cable - F3H982-10",
            ),
        ];
        for (a, b) in close {
            assert!(lv(a, b) <= 2, "{a} / {b}: {}", lv(a, b));
        }
        // another model of the line, two addresses sharing a postcode's outward code
        let apart = [
            (
                "Linksys EtherFast 8-Port 10/100 Switch - EZXS88W",
                "Linksys EtherFast EZXS55W Ethernet Switch",
            ),
            ("12 baker street sw1a 1aa", "40 long lane sw1a 2bb"),
            ("301 E 79TH ST chicago", "1139 W 79th St. chicago"),
            (
                "10 Downing St London SW1A2AA",
                "70 Whitehall London SW1A2AA",
            ),
            (
                "logitech mx500 optical mouse",
                "logitech mx5000 cordless keyboard",
            ),
            ("100 w 125th st new york", "300 e 125th st new york"),
        ];
        for (a, b) in apart {
            assert!(lv(a, b) >= 3, "{a} / {b}: {}", lv(a, b));
        }
        // a code is read from the start of a word to the end of one (or a short suffix)
        assert!(!shared_code("1234a main st", "1234 abbey rd"));
        assert!(shared_code("fs105 switch", "ethernet fs105na"));
        assert!(!shared_code("mx500 mouse", "mx5000 keyboard"));
    }

    #[test]
    fn one_title_worded_inside_another_is_close() {
        let title = FieldSpec::new("title", FieldKind::Text);
        let p = |raw: &str| {
            let (norm, digits) = normalize_field(&title, raw);
            Prepared::from_values([(norm.as_str(), digits.as_str())])
        };
        let lv = |a: &str, b: &str| level(FieldKind::Text, p(a).value(0), p(b).value(0));
        // Amazon-Google's pairs: the other side adds the maker, its code, an edition
        let close = [
            (
                "punch! professional home design",
                "punch software 14100 punch! professional home design suite for windows",
            ),
            (
                "microsoft data analyzer 2002",
                "microsoft ho2-00003 data analyzer 2002 - complete package",
            ),
            (
                "emedia intermediate guitar method",
                "emedia music corp emedia intermediate guitar method",
            ),
            // a word of five letters or more mistyped on one side
            (
                "punch! profesional home design",
                "punch software 14100 punch! professional home design suite for windows",
            ),
        ];
        for (a, b) in close {
            assert!(lv(a, b) <= 2, "{a} / {b}: {}", lv(a, b));
        }
        // a word of the shorter missing, too few words of four letters (class codes, a
        // two-word title in every catalogue), two addresses (another flat, another house)
        let apart = [
            (
                "punch 5 in 1 home design",
                "punch software 20100 punch! home design complete",
            ),
            ("F31G;E82K;F19E", "A01B;F31G;C07D;E82K;H04L;F19E"),
            ("math 2", "school zone interactive math 2 on track software"),
            ("12 oak st", "12 oak st apt 5"),
            ("12 oak st springfield", "12 oak st springfield 62704 apt 5"),
            // another flat or another house of one street, however the address is laid out
            (
                "12 maple street springfield",
                "12 maple street springfield apt 5",
            ),
            (
                "oak street 12 springfield",
                "oak street 12 springfield apt 5",
            ),
            (
                "12a maple street springfield",
                "12a maple street springfield apt 5",
            ),
            (
                "12 maple street springfield",
                "flat 5 12 maple street springfield",
            ),
            ("hauptstrasse 12 berlin", "hauptstrasse 12 berlin wohnung 5"),
            (
                "miller street springwood 2777 nsw",
                "44 miller street rsl village springwood 2777 nsw",
            ),
            // one word one letter from another's (`paint` / `print`) and one as written
            (
                "paint shop pro",
                "broderbund the print shop pro publisher deluxe",
            ),
            // a code one digit apart is another product, however alike the rest
            (
                "acme soundbar model tx1001",
                "acme soundbar model tx1002 black edition",
            ),
        ];
        for (a, b) in apart {
            assert!(lv(a, b) >= 3, "{a} / {b}: {}", lv(a, b));
        }
        let inside = |a: &str, b: &str| contains_words(p(a).value(0), p(b).value(0));
        assert!(!inside("the big one", "the big one hundred"));
        // as many words: neither is inside the other, whichever comes first
        assert!(!inside(
            "walla walla county office",
            "county office building walla"
        ));
        assert!(!inside(
            "county office building walla",
            "walla walla county office"
        ));
        // a code of four characters or more added to a title is no house's number
        assert!(inside(
            "oak street home design",
            "acme 20100 oak street home design"
        ));
        assert!(!inside(
            "oak street home design",
            "acme 20 oak street home design"
        ));
        assert!(!inside(
            "acme holdings oak street",
            "acme holdings oak street suite 1204"
        ));
        assert!(inside(
            "home architect deluxe",
            "broderbund 3d home architect deluxe"
        ));
        // a word said twice is one word, and the longer must add one of its own
        assert!(!inside(
            "ovwell ovwell cd",
            "ovwell development ovwell essentials cd"
        ));
        assert!(!inside("walla county office", "walla walla county office"));
        // a tier added is another edition of the series; one the shorter has mistyped
        // is none
        assert!(!inside(
            "erornel invoice antivirus",
            "erornel learning 1200 erornel essentials invoice antivirus suite for windows"
        ));
        assert!(inside(
            "erornel invoice antivirus",
            "erornel learning erornel invoice antivirus suite for windows"
        ));
        assert!(inside(
            "orverby preimer drums math",
            "orverby games 58200 orverby premier drums math suite for windows"
        ));
        assert!(!inside(
            "acme travel plug adapter",
            "acme travel plug adapter plus"
        ));
    }
}
