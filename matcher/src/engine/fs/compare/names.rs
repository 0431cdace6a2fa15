//! How alike two people's whole names are, word by word ([`person_name_similarity`]):
//! a given name's short form, an initial, a typo or a word order one side changed keep
//! them close; one shared given name does not.

use super::super::{MISSING, Value};
use super::{osa_distance_at_most, text_level, text_similarity};

/// The level of two people's whole names
/// ([`crate::engine::fs::FieldSpec::person_name`]): missing, exact as any text
/// ([`super::level`]), else from [`person_name_similarity`].
pub(super) fn person_name_level(a: Value<'_>, b: Value<'_>) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a.norm == b.norm {
        0
    } else {
        text_level(person_name_similarity(a, b))
    }
}

/// The words of a person's name but a title (`DR BRITTEN`: the given name left out).
fn name_words(v: Value<'_>) -> impl Iterator<Item = &str> {
    v.tokens()
        .filter(|t| !super::super::fields::HONORIFICS.contains(t))
}

/// How alike two people's whole names are ([`crate::engine::fs::FieldSpec::person_name`]):
/// as any two texts ([`text_similarity`], blind to word order: `ARDASH, Richard` / `Richard
/// Ardash`), or as the least alike word of the name with fewer words and its best partner
/// in the other (one edit counts 0.9, an initial 0.9, a short form 0.95, a short form
/// mistyped 0.9), whichever is more; unless that word finds no partner within a typo
/// (0.85): then no more than its best likeness. One given name shared made `david sanwil`
/// and `david williams` a close pair (0.87 as whole strings; their surnames 0.6), while a
/// typo in a short surname (`butlock` / `bullock`) keeps the whole name close. A middle
/// name one side lacks is no missing partner, and a word split in two (`crou ch`) is found
/// by the names written without spaces (one edit apart at most). A short form counts
/// wherever it stands, so a surname that is also a given name's short form (`John Ray` /
/// `John Raymond`) is close too. A name of one word on either side is compared whole, and
/// so is one of a title and one word (`DR BRITTEN`).
pub fn person_name_similarity(a: Value<'_>, b: Value<'_>) -> f64 {
    let s = text_similarity(a, b);
    let (na, nb) = (name_words(a).count(), name_words(b).count());
    if na < 2 || nb < 2 || s == 1.0 {
        return s;
    }
    let (short, long) = if na <= nb { (a, b) } else { (b, a) };
    let word = |t: &str, u: &str| -> f64 {
        if t == u {
            1.0
        } else if t.len() == 1 || u.len() == 1 {
            if t.as_bytes().first() == u.as_bytes().first() {
                0.9
            } else {
                0.0
            }
        } else if crate::engine::lexicon::nickname_pair(t, u) {
            0.95
        } else {
            let j = crate::engine::text::jw(t, u);
            if osa_distance_at_most(t, u, 1) <= 1
                || (j < 0.9 && crate::engine::lexicon::given_names_near(t, u))
            {
                // one edit, or a short form mistyped (`bicll` / `william`)
                j.max(0.9)
            } else {
                j
            }
        }
    };
    let worst_of = |short: Value<'_>, long: Value<'_>| {
        name_words(short)
            .map(|t| long.tokens().map(|u| word(t, u)).fold(0.0, f64::max))
            .fold(1.0, f64::min)
    };
    // of two names of as many words, each side's words must find partners: one way only,
    // `li li` found both its words in `li wei`, and the level hung on which record came
    // first
    let worst = if na == nb {
        worst_of(short, long).min(worst_of(long, short))
    } else {
        worst_of(short, long)
    };
    if worst >= 0.85 {
        // every word found: as close as the whole strings, or as the least alike word
        // where the strings differ by more (`LEE, Lisa` / `Isa Lee`, reordered and
        // mistyped at once)
        s.max(worst)
    } else if osa_distance_at_most(&a.joined(), &b.joined(), 1) <= 1 {
        // a word split or joined (`crou ch` / `crouch`): the same letters
        s
    } else {
        s.min(worst)
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::test_records::rec;
    use crate::engine::fs::{FieldKind, FieldSpec, compare, prepare};
    use serde_json::json;

    #[test]
    fn whole_person_names_agree_word_by_word() {
        let mut f = [FieldSpec::new("name", FieldKind::Text)];
        let lv = |f: &[FieldSpec], x: &str, y: &str| {
            let (a, b) = (
                prepare(f, &rec(json!({ "name": x }))),
                prepare(f, &rec(json!({ "name": y }))),
            );
            compare(f, &a, &b)[0]
        };
        // as any text, one given name shared makes two people close
        assert!(lv(&f, "David Sanwil", "David Williams") <= 2);
        f[0].person_name = true;
        // as people's names, a surname that differs keeps them apart
        assert_eq!(lv(&f, "David Sanwil", "David Williams"), 4);
        assert_eq!(lv(&f, "ARDASH, Richard", "Harold Ardash"), 4);
        // word order, a typo, a middle name, a short form, an initial keep them close
        assert_eq!(lv(&f, "ARDASH, Richard", "Richard Ardash"), 1);
        assert!(lv(&f, "BUTLOCK, Sophie", "BULLOCK, Sophie") <= 2);
        assert!(lv(&f, "LEE, Lisa", "Isa Lee") <= 2);
        assert!(lv(&f, "John A Smith", "John Smith") <= 2);
        assert!(lv(&f, "Bill Smith", "William Smith") <= 2);
        assert!(lv(&f, "Bicll Smith", "William Smith") <= 2);
        assert!(lv(&f, "J Smith", "John Smith") <= 2);
        // a word split in two is no missing partner, but a short surname that differs
        // is one however long the rest
        assert!(lv(&f, "CROU CH, Ella", "CROUCH, Ella") <= 2);
        assert_eq!(lv(&f, "Mary Elizabeth Ho", "Mary Elizabeth Wu"), 4);
        // either record first, one level: a word is not the partner of two
        assert_eq!(lv(&f, "li li", "li wei"), 4);
        assert_eq!(lv(&f, "li wei", "li li"), 4);
        assert_eq!(lv(&f, "Ella Crouch", "Ella Crouch"), 0);
        // a title and a surname are compared whole, as one word is
        let plain = lv(
            &[FieldSpec::new("name", FieldKind::Text)],
            "Amy Britten",
            "DR BRITTEN",
        );
        assert_eq!(lv(&f, "Amy Britten", "DR BRITTEN"), plain);
    }
}
