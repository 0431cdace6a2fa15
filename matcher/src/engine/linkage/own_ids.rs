//! The identity number a side of a link holds that the other does not (tax forms'
//! `ssn` beside a census without one): it says which records of that side are one
//! person's, where the fields the two sides share cannot.
//!
//! Why: a census row keeps its best form and then only the forms that are duplicates of
//! that one ([`super::Assignment::Auto`]), and two forms of one person filed from two
//! addresses agree on the name alone: the second was left out though it matched the
//! census row at p 0.95 (183 of 5,790 true pairs of the census-to-tax-forms link without
//! birth dates). Their identity number agrees; two namesakes' (a father and son at one
//! address) does not.

use super::super::fs::{FieldKind, FieldSpec, osa_distance_at_most, prepare};
use super::super::labels::LABEL_RULE;
use super::super::lexicon;
use super::{Record, ScoredPair};
use std::collections::{HashMap, HashSet};

/// The rule id of a pair matched through its record's own identity number
/// ([`OwnIds::spread`]).
pub const OWN_ID_RULE: &str = "own-id";

/// Most records of a side that may hold one identity number for it to tell anything: a
/// number on more is a placeholder (`000-00-0000`, a default) or an employer's.
const MOST_HOLDERS: usize = 50;

/// Fewest digits an identity number holds (a masked number keeps four).
const MIN_DIGITS: usize = 7;

/// Columns of a side read for its own identity number: the keys of its first records.
const SNIFFED_RECORDS: usize = 100;

/// Per side of a link, each record's own identity number (normalized as a code), if any.
#[derive(Debug, Default)]
pub(super) struct OwnIds {
    sides: [Vec<Option<String>>; 2],
    /// The column read on each side.
    columns: [Option<String>; 2],
}

impl OwnIds {
    /// The identity numbers of `left` and `right` held in a column of one side that no
    /// compared field (`compared[side]`: the fields aligned, by their source columns)
    /// reads: a column named as an identity number of the record's own (`ssn`,
    /// `national_id`; not an `employer_tax_id`; of several, the one named as the number
    /// alone), its values read as their digits, seven or more.
    pub(super) fn find(left: &[Record], right: &[Record], compared: [&[FieldSpec]; 2]) -> Self {
        let mut out = Self::default();
        for (side, recs) in [left, right].into_iter().enumerate() {
            let read: Vec<&str> = compared[side].iter().flat_map(|f| f.sources()).collect();
            let mut columns: Vec<&String> = recs
                .iter()
                .take(SNIFFED_RECORDS)
                .flat_map(|r| r.keys())
                .filter(|c| {
                    !read.contains(&c.as_str())
                        && lexicon::concept(c) == Some("ssn")
                        && lexicon::other_party(c).is_none()
                })
                .collect();
            columns.sort();
            columns.dedup();
            // one such column, or of several the one named as the number alone (`ssn`
            // beside a `preparer_tin`); none where that stays ambiguous
            let exact: Vec<&String> = columns
                .iter()
                .copied()
                .filter(|c| lexicon::concept_exact(c) == Some("ssn"))
                .collect();
            let column = match (columns.as_slice(), exact.as_slice()) {
                ([one], _) | (_, [one]) => *one,
                _ => continue,
            };
            let spec = [FieldSpec::new(column, FieldKind::Code)];
            let mut ids: Vec<Option<String>> = recs
                .iter()
                .map(|r| {
                    let p = prepare(&spec, r);
                    // its digits (`484-22-2215` is `484222215`), enough of them to be a
                    // whole number: `applied for`, a masked `***-**-2215` are none
                    let digits = p.value(0).digits;
                    (digits.len() >= MIN_DIGITS).then(|| digits.to_string())
                })
                .collect();
            let mut holders: HashMap<&str, usize> = HashMap::new();
            for id in ids.iter().flatten() {
                *holders.entry(id.as_str()).or_default() += 1;
            }
            let placeholders: HashSet<String> = holders
                .into_iter()
                .filter(|&(_, n)| n > MOST_HOLDERS)
                .map(|(id, _)| id.to_string())
                .collect();
            for id in &mut ids {
                if id.as_ref().is_some_and(|v| placeholders.contains(v)) {
                    *id = None;
                }
            }
            out.sides[side] = ids;
            out.columns[side] = Some(column.clone());
        }
        out
    }

    /// Matches each record of `side` that holds the own number of a matched record of
    /// that side to that record's partner, where it has no partner of its own and
    /// `accept(left, right)` gives the pair's weight (no name differing outright): a
    /// census row matched to the form filed from its address takes the person's forms
    /// filed from earlier addresses, which agree with it on the name alone (probability
    /// that of the matched pair, rule [`OWN_ID_RULE`]). Existing pairs (a candidate
    /// scored below the threshold) are turned into matches; others are added.
    pub(super) fn spread(
        &self,
        pairs: &mut Vec<ScoredPair>,
        side: usize,
        accept: impl Fn(usize, usize) -> Option<f64>,
    ) {
        // a pair a label decided stays as labelled (`accept` refuses the labelled
        // non-matches not among the pairs)
        let Some(ids) = self.sides.get(side) else {
            return;
        };
        let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
        for (r, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                holders.entry(id.as_str()).or_default().push(r);
            }
        }
        let on_side = |p: &ScoredPair| if side == 0 { p.left } else { p.right };
        let mut taken: HashSet<usize> = pairs.iter().filter(|p| p.is_match).map(on_side).collect();
        let at: HashMap<(usize, usize), usize> = pairs
            .iter()
            .enumerate()
            .map(|(k, p)| ((p.left, p.right), k))
            .collect();
        let matched: Vec<(usize, usize, f64)> = pairs
            .iter()
            .filter(|p| p.is_match)
            .map(|p| (p.left, p.right, p.probability))
            .collect();
        for (l, r, probability) in matched {
            let x = if side == 0 { l } else { r };
            let Some(group) = ids.get(x).and_then(|id| holders.get(id.as_deref()?)) else {
                continue;
            };
            for &y in group {
                if y == x || taken.contains(&y) {
                    continue;
                }
                let (left, right) = if side == 0 { (y, r) } else { (l, y) };
                let existing = at.get(&(left, right)).copied();
                if existing.is_some_and(|k| pairs.get(k).is_some_and(|p| p.rule == LABEL_RULE)) {
                    continue;
                }
                let Some(weight) = accept(left, right) else {
                    continue;
                };
                taken.insert(y);
                match existing.and_then(|k| pairs.get_mut(k)) {
                    Some(p) => {
                        p.is_match = true;
                        p.rule = OWN_ID_RULE.to_string();
                        p.probability = probability;
                    }
                    None => pairs.push(ScoredPair {
                        left,
                        right,
                        weight,
                        probability,
                        rule: OWN_ID_RULE.to_string(),
                        is_match: true,
                    }),
                }
            }
        }
    }

    /// The columns read, as `left: <column>` / `right: <column>`.
    pub(super) fn columns(&self) -> Vec<String> {
        ["left", "right"]
            .iter()
            .zip(&self.columns)
            .filter_map(|(side, c)| c.as_ref().map(|c| format!("{side}: {c}")))
            .collect()
    }

    /// Whether records `x` and `y` of `side` (0 left, 1 right) are one person's by their
    /// own identity numbers: `Some(true)` the same number, `Some(false)` two numbers more
    /// than a typo on each apart, `None` one unknown (or no such column).
    pub(super) fn same(&self, side: usize, x: usize, y: usize) -> Option<bool> {
        let ids = self.sides.get(side)?;
        let (a, b) = (ids.get(x)?.as_deref()?, ids.get(y)?.as_deref()?);
        if a == b {
            Some(true)
        } else if osa_distance_at_most(a, b, 2) > 2 {
            Some(false)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recs(rows: &[serde_json::Value]) -> Vec<Record> {
        rows.iter().filter_map(|r| r.as_object().cloned()).collect()
    }

    #[test]
    fn a_sides_own_identity_number_tells_its_records_apart() {
        let left = recs(&[json!({"first_name": "edward", "street": "801 erwil st"})]);
        let right = recs(&[
            json!({"first_name": "edward", "street": "801 erwil st", "ssn": "484-22-2215",
                "employer_tax_id": "11-111"}),
            json!({"first_name": "edward", "street": "762 erer dr", "ssn": "484222215",
                "employer_tax_id": "22-222"}),
            json!({"first_name": "edward", "street": "801 erwil st", "ssn": "913-55-0071",
                "employer_tax_id": "11-111"}),
            json!({"first_name": "edward", "street": "801 erwil st", "ssn": "484222316"}),
            json!({"first_name": "edward", "street": "801 erwil st"}),
        ]);
        let compared = [
            FieldSpec::new("first_name", FieldKind::Text),
            FieldSpec::new("street", FieldKind::Text),
        ];
        let ids = OwnIds::find(&left, &right, [&compared, &compared]);
        assert_eq!(ids.columns(), ["right: ssn"]);
        // written two ways, one number
        assert_eq!(ids.same(1, 0, 1), Some(true));
        // another number
        assert_eq!(ids.same(1, 0, 2), Some(false));
        // a typo of it (on each form), or none known: the number says nothing
        assert_eq!(ids.same(1, 0, 3), None);
        assert_eq!(ids.same(1, 0, 4), None);
        // the left side holds none; an employer's number is no record's own
        assert_eq!(ids.same(0, 0, 0), None);
        // a number the sides compare is no side's own
        let with_ssn = [
            FieldSpec::new("first_name", FieldKind::Text),
            FieldSpec::new("ssn", FieldKind::Code),
        ];
        let ids = OwnIds::find(&left, &right, [&compared, &with_ssn]);
        assert_eq!(ids.same(1, 0, 1), None);
        assert!(ids.columns().is_empty());
    }

    fn pair(left: usize, right: usize, probability: f64, is_match: bool) -> ScoredPair {
        ScoredPair {
            left,
            right,
            weight: 0.0,
            probability,
            rule: "IV".into(),
            is_match,
        }
    }

    #[test]
    fn a_matched_records_number_brings_its_other_records_along() {
        let ids = OwnIds {
            sides: [
                vec![None, None],
                vec![
                    Some("111".into()),
                    Some("111".into()),
                    Some("111".into()),
                    Some("222".into()),
                    Some("111".into()),
                ],
            ],
            columns: [None, Some("ssn".into())],
        };
        // left 0 matched right 0; right 1 was scored below the threshold; right 2 is left
        // 1's already; right 4 shares the number but its name differs outright
        let mut pairs = vec![
            pair(0, 0, 0.99, true),
            pair(0, 1, 0.3, false),
            pair(1, 2, 0.9, true),
        ];
        ids.spread(&mut pairs, 1, |_, r| (r != 4).then_some(2.0));
        let matched: Vec<(usize, usize, &str)> = pairs
            .iter()
            .filter(|p| p.is_match)
            .map(|p| (p.left, p.right, p.rule.as_str()))
            .collect();
        assert_eq!(matched, [(0, 0, "IV"), (0, 1, OWN_ID_RULE), (1, 2, "IV")]);
        assert_eq!(pairs[1].probability, 0.99);
        // a record never scored is added with its weight
        let mut pairs = vec![pair(0, 0, 0.95, true)];
        ids.spread(&mut pairs, 1, |_, r| (r == 1).then_some(2.5));
        assert_eq!(pairs.len(), 2);
        assert_eq!(
            (pairs[1].left, pairs[1].right, pairs[1].weight),
            (0, 1, 2.5)
        );
        assert!(pairs[1].is_match && pairs[1].rule == OWN_ID_RULE);
        // the other side holds no numbers: nothing spreads
        let mut pairs = vec![pair(0, 0, 0.95, true)];
        ids.spread(&mut pairs, 0, |_, _| Some(1.0));
        assert_eq!(pairs.len(), 1);
    }

    #[test]
    fn a_number_held_by_many_records_is_a_placeholder() {
        let rows: Vec<serde_json::Value> = (0..=MOST_HOLDERS)
            .map(|i| json!({"name": format!("n{i}"), "ssn": "555-12-3456"}))
            .collect();
        let right = recs(&rows);
        let compared = [FieldSpec::new("name", FieldKind::Text)];
        let ids = OwnIds::find(&[], &right, [&compared, &compared]);
        assert_eq!(ids.same(1, 0, 1), None);
        // one record fewer: a number
        let ids = OwnIds::find(&[], &right[1..], [&compared, &compared]);
        assert_eq!(ids.same(1, 0, 1), Some(true));
    }

    #[test]
    fn a_number_masked_or_not_given_is_none_and_of_two_columns_the_plain_one_is_read() {
        let right = recs(&[
            json!({"name": "a", "ssn": "***-**-2215", "preparer_tin": "12-3456789"}),
            json!({"name": "a", "ssn": "applied for", "preparer_tin": "12-3456789"}),
            json!({"name": "a", "ssn": "484-22-2215", "preparer_tin": "12-3456789"}),
            json!({"name": "a", "ssn": "484-22-2215", "preparer_tin": "98-7654321"}),
        ]);
        let compared = [FieldSpec::new("name", FieldKind::Text)];
        let ids = OwnIds::find(&[], &right, [&compared, &compared]);
        assert_eq!(ids.columns(), ["right: ssn"]);
        assert_eq!(ids.same(1, 0, 2), None);
        assert_eq!(ids.same(1, 1, 2), None);
        assert_eq!(ids.same(1, 2, 3), Some(true));
    }
}
