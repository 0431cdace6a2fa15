//! Columns that say nothing about who a record is. A CRM or order export carries, beside
//! the name, address and birth date, columns of the transaction: an amount, a status, a
//! channel, a timestamp, free notes, a reference number. Two records of one person do
//! not agree on them any more often than two strangers do. Compared like the others,
//! every duplicate disagrees on all of them: EM's match class (pairs agreeing on most
//! fields) stays empty, and the prior weights make each disagreement count against a
//! match. Eight such columns beside Febrl 3 took its F1 from 1.0 to 0.0.
//!
//! The data tells them apart. A column about the entity agrees far more often among the
//! candidate pairs than among random pairs, because candidates are full of true matches
//! (a name, a birth date, an identity number: [`STRONG_LIFT`] times or more). The pairs
//! that agree on most of these strong columns are likely matches; a column that is not
//! strong is kept when those likely matches agree on it clearly more often than random
//! pairs do ([`MIN_EXCESS`]: a sex, a state), and left out of the comparison otherwise.
//! With too few likely matches to tell, every column is kept, and so is a column whose
//! name says it describes the entity ([`describes_the_entity`]: a name, a birth date, an
//! address part, a phone). Blocking can fill the candidates with pairs that share
//! only a town or an employer (one person's hundreds of records are found later, by
//! [`super::linkage::entity_blocks`]); the names then agree among those "likely
//! matches" no more often than at random, and must not be dropped for it. Except a
//! column that is not strong and that no likely match comes even near on, of
//! [`MIN_SILENT`] or more that know it: it goes whatever its name and however few the
//! likely matches (a census `age` aligned with a tax form's `wages` by shape alone).

use super::fs::{LEVELS, MISSING};

/// A column agreeing (level ≤ 1) among the candidates at least this many times as often
/// as among random pairs is about the entity.
const STRONG_LIFT: f64 = 5.0;

/// Least excess of a column's agreement among likely matches over its agreement among
/// random pairs for it to be compared.
const MIN_EXCESS: f64 = 0.1;

/// Most agreement among likely matches for a strong column to be left out (unless
/// twice its agreement among random pairs is higher): it must agree among them no more
/// often than among random pairs, not merely less than [`MIN_EXCESS`] more often.
const STRONG_FLOOR: f64 = 0.02;

/// Fewest likely matches, and fewest of them knowing a column, to judge it by.
const MIN_LIKELY: usize = 30;

/// Fewest likely matches knowing a column for "none comes near on it" to leave it out.
const MIN_SILENT: usize = 10;

/// Whether a column's name says it describes the entity: any concept of the lexicon but
/// a price or amount (what an order or a listing cost, not who or what it is) or an
/// income (what a person earned in one year on one form).
fn describes_the_entity(name: &str) -> bool {
    super::lexicon::concept(name).is_some_and(|c| !matches!(c, "price" | "income"))
}

/// The columns to leave out, from their names, the agreement levels of the candidate
/// pairs (`flat`, `u.len()` levels a pair) and the level probabilities among random pairs
/// (`u`).
pub fn unrelated(names: &[&str], u: &[[f64; LEVELS]], flat: &[u8]) -> Vec<usize> {
    let nf = u.len();
    if nf < 3 || names.len() != nf || flat.len() < nf * MIN_LIKELY {
        return Vec::new();
    }
    let random: Vec<f64> = u.iter().map(|p| p[0] + p[1]).collect();
    let rate =
        |agree: &[usize], known: &[usize], f: usize| agree[f] as f64 / known[f].max(1) as f64;
    let (mut known, mut agree) = (vec![0usize; nf], vec![0usize; nf]);
    for v in flat.chunks(nf) {
        for (f, &l) in v.iter().enumerate() {
            if l != MISSING {
                known[f] += 1;
                agree[f] += usize::from(l <= 1);
            }
        }
    }
    let strong: Vec<bool> = (0..nf)
        .map(|f| known[f] > 0 && rate(&agree, &known, f) >= STRONG_LIFT * random[f].max(1e-4))
        .collect();
    let all = Likely::count(flat, &strong);
    // a column no likely match comes even near on (none at level 3 or nearer: an
    // initial against a whole given name, a birthday without its year are level 3) says
    // nothing whatever its name: two columns aligned by their shape alone (a census
    // `age` with a tax form's `wages`, its `year` with the `tax_year`), or one written two
    // ways that never meet. In a small file, too few likely matches to judge by, each
    // counted as one more disagreement of every pair: a person who moved agreed on two
    // units of four and never joined EM's match class (a 100-row census-tax sample
    // without birth dates). Only among likely matches: an identity number known only in
    // strangers' pairs (blank where the matches are) still tells two namesakes apart
    let silent: Vec<bool> = (0..nf)
        .map(|f| !strong[f] && all.known[f] >= MIN_SILENT && all.near[f] == 0)
        .collect();
    if all.likely < MIN_LIKELY {
        let out: Vec<usize> = (0..nf).filter(|&f| silent[f]).collect();
        // two columns or more are left to compare, or none is left out
        return if nf - out.len() >= 2 { out } else { Vec::new() };
    }
    let unrelated_by = |l: &Likely, f: usize| {
        l.known[f] >= MIN_LIKELY && rate(&l.agree, &l.known, f) - random[f] < MIN_EXCESS
    };
    (0..nf)
        .filter(|&f| {
            if silent[f] {
                return true;
            }
            if describes_the_entity(names[f]) {
                return false;
            }
            if !strong[f] {
                return unrelated_by(&all, f);
            }
            // a strong column is judged by the likely matches the other strong columns
            // make: a document's number (the patent two co-inventors share) agrees among
            // candidates only because blocking paired the records sharing it, and those
            // likely matches agree on it no more often than random pairs. A column they
            // agree on rarely, but far more often than random pairs, stays: a price that
            // drifts between two shops still agrees to 1% for one product in eight
            let mut others = strong.clone();
            others[f] = false;
            let l = Likely::count(flat, &others);
            l.likely >= MIN_LIKELY
                && unrelated_by(&l, f)
                && rate(&l.agree, &l.known, f) <= (2.0 * random[f]).max(STRONG_FLOOR)
        })
        .collect()
}

/// The likely matches among the candidates (pairs agreeing on two or more, and more than
/// half, of the `strong` columns they know): how many, and per column how many of them
/// know it, agree on it (level 1 or nearer) and come near on it (level 3 or nearer).
/// Under [`MIN_LIKELY`] of them are too few to judge a column by its rate.
struct Likely {
    likely: usize,
    known: Vec<usize>,
    agree: Vec<usize>,
    near: Vec<usize>,
}

impl Likely {
    fn count(flat: &[u8], strong: &[bool]) -> Self {
        let nf = strong.len();
        let (mut likely, mut known, mut agree) = (0usize, vec![0usize; nf], vec![0usize; nf]);
        let mut near = vec![0usize; nf];
        for v in flat.chunks(nf) {
            let (mut k, mut a) = (0usize, 0usize);
            for (f, &l) in v.iter().enumerate() {
                if strong[f] && l != MISSING {
                    k += 1;
                    a += usize::from(l <= 1);
                }
            }
            if a < 2 || 2 * a <= k {
                continue;
            }
            likely += 1;
            for (f, &l) in v.iter().enumerate() {
                if l != MISSING {
                    known[f] += 1;
                    agree[f] += usize::from(l <= 1);
                    near[f] += usize::from(l <= 3);
                }
            }
        }
        Self {
            likely,
            known,
            agree,
            near,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidates of a file of names, birth dates and a sex, with an amount and a status
    /// beside them: the amount and the status go, the sex stays.
    #[test]
    fn columns_no_likelier_to_agree_among_matches_than_at_random_are_left_out() {
        // fields: name, dob, sex, amount, status
        let u = [
            [0.004, 0.002, 0.01, 0.02, 0.964],
            [0.001, 0.001, 0.0, 0.0, 0.998],
            [0.5, 0.0, 0.0, 0.0, 0.5],
            [0.0001, 0.01, 0.05, 0.1, 0.8399],
            [0.33, 0.0, 0.0, 0.0, 0.67],
        ];
        let mut flat = Vec::new();
        for k in 0..400u32 {
            let amount = if k % 100 == 0 { 1 } else { 4 };
            let status = if k % 3 == 0 { 0 } else { 4 };
            if k % 4 == 0 {
                // a match: name and birth date agree, the sex too
                flat.extend([0, (k % 2) as u8, 0, amount, status]);
            } else {
                // a namesake: the name alone, the sex half the time
                flat.extend([0, 4, if k % 2 == 0 { 0 } else { 4 }, amount, status]);
            }
        }
        let names = ["name", "dob", "sex", "amount", "status"];
        assert_eq!(unrelated(&names, &u, &flat), vec![3, 4]);
        // named as a property of a person, a column is kept whatever the pairs say (an
        // amount is no such property)
        let named = ["name", "dob", "sex", "amount", "city"];
        assert_eq!(unrelated(&named, &u, &flat), vec![3]);
        // the amount agreeing among the matches is about them
        for v in flat.chunks_mut(5).step_by(4) {
            v[3] = 0;
        }
        assert_eq!(unrelated(&names, &u, &flat), vec![4]);
        // a document's number shared by the candidates blocking paired on it (two
        // co-inventors of one patent) is strong, yet the matches never agree on it
        let mut with_doc = Vec::new();
        for (k, v) in flat.chunks(5).enumerate() {
            with_doc.extend_from_slice(v);
            with_doc.push(if k % 4 == 0 {
                4
            } else if k % 3 == 0 {
                0
            } else {
                3
            });
        }
        let mut u6 = u.to_vec();
        u6.push([0.0001, 0.0, 0.0, 0.4, 0.5999]);
        let six = ["name", "dob", "sex", "amount", "status", "patent_id"];
        assert_eq!(unrelated(&six, &u6, &with_doc), vec![4, 5]);
        // too few candidates to tell: every column kept
        assert!(unrelated(&names, &u, &flat[..5 * 20]).is_empty());
        // a missing value is no disagreement: a column blank among the matches stays
        for v in flat.chunks_mut(5) {
            v[4] = MISSING;
        }
        assert_eq!(unrelated(&names, &u, &flat), Vec::<usize>::new());
    }

    /// A small file's candidates: too few likely matches to judge by, yet a column no
    /// likely match comes near on (`age` aligned with `wages` by shape) goes, whatever
    /// its name; one the likely matches come near on (a birth year and month against a
    /// whole date at level 2, an initial against a whole middle name at level 3) stays,
    /// as do one too rarely known and an identity number only strangers' pairs know.
    #[test]
    fn a_column_no_likely_match_comes_near_on_is_left_out_whatever_its_name() {
        // fields: name, surname, dob, age, unit, middle, ssn
        let u = [
            [0.004, 0.002, 0.01, 0.02, 0.964],
            [0.003, 0.002, 0.01, 0.02, 0.965],
            [0.0, 0.0, 0.004, 0.05, 0.946],
            [0.0, 0.0, 0.0, 0.0, 1.0],
            [0.02, 0.0, 0.0, 0.0, 0.98],
            [0.0, 0.0, 0.0, 0.08, 0.92],
            [0.0001, 0.0, 0.0, 0.0, 0.9999],
        ];
        let mut flat = Vec::new();
        for k in 0..60u8 {
            let unit = if k % 10 == 0 { 4 } else { MISSING };
            if k % 6 == 0 {
                // a likely match
                flat.extend([0, 0, 2, 4, unit, 3, MISSING]);
            } else {
                flat.extend([0, 4, 4, 4, unit, 4, 4]);
            }
        }
        let names = [
            "first_name",
            "last_name",
            "date_of_birth",
            "age",
            "unit_number",
            "middle_name",
            "ssn",
        ];
        assert_eq!(unrelated(&names, &u, &flat), vec![3]);
        // one likely match near on the age keeps it
        flat[3] = 2;
        assert_eq!(unrelated(&names, &u, &flat), Vec::<usize>::new());
    }

    /// A price that drifts between two shops agrees to 1% for one product in twelve:
    /// rarely, but far more often than among random pairs. It stays.
    #[test]
    fn a_column_matches_agree_on_rarely_but_far_more_than_chance_stays() {
        let u = [
            [0.004, 0.002, 0.01, 0.02, 0.964],
            [0.001, 0.001, 0.0, 0.0, 0.998],
            [0.001, 0.0, 0.0, 0.0, 0.999],
            [0.0001, 0.005, 0.03, 0.1, 0.8649],
        ];
        let mut flat = Vec::new();
        for k in 0..400u32 {
            if k % 4 != 3 {
                flat.extend([0, 0, 0, if k % 16 == 0 { 1 } else { 3 }]);
            } else {
                flat.extend([0, 4, 4, 4]);
            }
        }
        let names = ["title", "release", "sku", "quote"];
        assert_eq!(unrelated(&names, &u, &flat), Vec::<usize>::new());
    }
}
