//! Labels decide the pairs they name.
//!
//! A labelled example ([`EntityExample`]: given with a job, or stored through
//! `POST /api/v1/feedback`) refines the m/u weights of every run ([`super::linkage`]), but
//! a refit only moves weights: the pair a person called "not the same" could still be
//! merged by the next run. So when the two records of an example equal two input records
//! — after the normalisation the engine applies to every record ([`prepare`] against the
//! run's fields, as [`super::linkage`]'s `examples_vectors` does for the refit) — the label
//! decides that pair: a "match" forces it to match (rule [`LABEL_RULE`]), a "non-match"
//! forces it apart, and in dedup the two become a cannot-link that clustering honours
//! ([`super::cluster::Constraints`]): no chain of other matches puts them in one cluster.
//!
//! Cost: the examples (a few hundred at most) are prepared and indexed by their prepared
//! form; each input record is looked up once (one hash), never compared with each example.
//! Labels come in priority order (a job's own examples, then the stored ones, newest
//! first); the first label naming a pair decides it.

use std::collections::HashMap;

use super::fs::{FieldSpec, Prepared, prepare};
use super::linkage::ScoredPair;
use super::{EntityExample, Record};

/// The rule id of a pair decided by a label.
pub const LABEL_RULE: &str = "label";

/// Most pairs labels may name in one run: a label whose records occur many times over
/// (exact duplicates) names every pair of their copies, and this bounds the product.
pub const MAX_LABELLED_PAIRS: usize = 100_000;

/// Clustering evidence of a pair labelled "match" (the strongest an edge gets).
pub const LABEL_YES: f32 = 10.0;

/// Clustering evidence of a pair labelled "non-match": outweighs any sum of other pairs.
pub const LABEL_NO: f32 = -1.0e6;

/// The pairs of an input that labels name, as record numbers: dedup `(i, j)` with
/// `i < j`, link `(left, right)`; each list sorted and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelledPairs {
    /// Forced to match.
    pub must: Vec<(u32, u32)>,
    /// Forced apart.
    pub cannot: Vec<(u32, u32)>,
    /// How many examples named at least one pair of the input.
    pub used: usize,
}

impl LabelledPairs {
    pub fn is_empty(&self) -> bool {
        self.must.is_empty() && self.cannot.is_empty()
    }

    /// Every labelled pair and its label (`true`: match).
    pub fn decided(&self) -> HashMap<(u32, u32), bool> {
        let must = self.must.iter().map(|&p| (p, true));
        must.chain(self.cannot.iter().map(|&p| (p, false)))
            .collect()
    }

    /// Forces the labelled pairs among `pairs`: a "match" becomes a match of probability 1
    /// and rule [`LABEL_RULE`], a "non-match" a non-match of probability 0; a "match" not
    /// among them is added, its weight from `weight(left, right)`. Pairs keep their
    /// `(left, right)` orientation; `same_set` (dedup) looks both ways up.
    pub fn apply(
        &self,
        pairs: &mut Vec<ScoredPair>,
        same_set: bool,
        weight: impl Fn(usize, usize) -> f64,
    ) {
        if self.is_empty() {
            return;
        }
        let decided = self.decided();
        let key = |p: &ScoredPair| {
            let (l, r) = (p.left as u32, p.right as u32);
            if same_set {
                (l.min(r), l.max(r))
            } else {
                (l, r)
            }
        };
        let mut seen = std::collections::HashSet::new();
        for p in pairs.iter_mut() {
            let k = key(p);
            if let Some(&is_match) = decided.get(&k) {
                seen.insert(k);
                p.is_match = is_match;
                p.probability = if is_match { 1.0 } else { 0.0 };
                p.rule = LABEL_RULE.to_string();
            }
        }
        for &(l, r) in &self.must {
            if !seen.contains(&(l, r)) {
                let (l, r) = (l as usize, r as usize);
                pairs.push(ScoredPair {
                    left: l,
                    right: r,
                    weight: weight(l, r),
                    probability: 1.0,
                    rule: LABEL_RULE.to_string(),
                    is_match: true,
                });
            }
        }
    }
}

/// The examples' records prepared and indexed: `slots[k]` is example `k`'s (left slot,
/// right slot, label) when both records hold a value; a slot is one distinct prepared
/// record.
struct Index {
    by_form: HashMap<Prepared, usize>,
    slots: Vec<(usize, usize, bool)>,
}

impl Index {
    fn new(
        examples: &[EntityExample],
        left_fields: &[FieldSpec],
        right_fields: &[FieldSpec],
    ) -> Self {
        let mut by_form: HashMap<Prepared, usize> = HashMap::new();
        let (empty_l, empty_r) = (
            prepare(left_fields, &Record::default()),
            prepare(right_fields, &Record::default()),
        );
        let mut slot = |p: Prepared| {
            let n = by_form.len();
            *by_form.entry(p).or_insert(n)
        };
        let mut slots = Vec::with_capacity(examples.len());
        for e in examples {
            let (l, r) = (
                prepare(left_fields, &e.left),
                prepare(right_fields, &e.right),
            );
            // a record with no value among the run's fields names nothing
            if l == empty_l || r == empty_r {
                continue;
            }
            slots.push((slot(l), slot(r), e.is_match));
        }
        Self { by_form, slots }
    }

    /// The records of `records` in each slot.
    fn groups(&self, records: &[Prepared]) -> Vec<Vec<u32>> {
        let mut groups = vec![Vec::new(); self.by_form.len()];
        if groups.is_empty() {
            return groups;
        }
        for (i, p) in records.iter().enumerate() {
            if let Some(&s) = self.by_form.get(p) {
                groups[s].push(i as u32);
            }
        }
        groups
    }
}

/// The pairs of one record set (dedup) that `examples` name.
pub fn dedup_labels(
    fields: &[FieldSpec],
    records: &[Prepared],
    examples: &[EntityExample],
) -> LabelledPairs {
    if examples.is_empty() {
        return LabelledPairs::default();
    }
    let index = Index::new(examples, fields, fields);
    let groups = index.groups(records);
    decide(&index.slots, &groups, &groups, true)
}

/// The (left, right) pairs of a link that `examples` name (an example's left record
/// against the left set, its right against the right set).
pub fn link_labels(
    fields: &[FieldSpec],
    right_fields: &[FieldSpec],
    left: &[Prepared],
    right: &[Prepared],
    examples: &[EntityExample],
) -> LabelledPairs {
    if examples.is_empty() {
        return LabelledPairs::default();
    }
    // each side normalised against its own fields; one index holds both sides' forms (a
    // record found in a slot of the other side's form equals it, so it is that record too)
    let index = Index::new(examples, fields, right_fields);
    let (lg, rg) = (index.groups(left), index.groups(right));
    decide(&index.slots, &lg, &rg, false)
}

fn decide(
    slots: &[(usize, usize, bool)],
    left: &[Vec<u32>],
    right: &[Vec<u32>],
    same_set: bool,
) -> LabelledPairs {
    let mut decided: HashMap<(u32, u32), bool> = HashMap::new();
    let mut used = 0;
    'labels: for &(ls, rs, is_match) in slots {
        let mut named = false;
        for &i in &left[ls] {
            for &j in &right[rs] {
                let k = if same_set {
                    if i == j {
                        continue;
                    }
                    (i.min(j), i.max(j))
                } else {
                    (i, j)
                };
                named = true;
                if decided.len() >= MAX_LABELLED_PAIRS {
                    used += 1;
                    break 'labels;
                }
                decided.entry(k).or_insert(is_match);
            }
        }
        used += usize::from(named);
    }
    let (mut must, mut cannot): (Vec<_>, Vec<_>) = decided.into_iter().partition(|(_, m)| *m);
    must.sort_unstable();
    cannot.sort_unstable();
    LabelledPairs {
        must: must.into_iter().map(|(k, _)| k).collect(),
        cannot: cannot.into_iter().map(|(k, _)| k).collect(),
        used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster::{Constraints, capped_clusters_with, evidence_clusters_with};
    use crate::engine::fs::infer_fields;
    use crate::engine::linkage::{LinkOptions, dedup, link};
    use serde_json::json;

    fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
    }

    /// 30 people, and a duplicate of each with a typo'd given name every third.
    fn people() -> (Vec<Record>, Vec<Record>) {
        people_of(30, 15)
    }

    /// `n` people of `k` given names and surnames, and a duplicate of each with a typo'd
    /// given name every third.
    fn people_of(n: usize, k: usize) -> (Vec<Record>, Vec<Record>) {
        let first = [
            "michaela", "courtney", "jack", "olivia", "liam", "noah", "emma", "ava", "lucas",
            "mia", "ethan", "zoe", "harper", "james", "ella",
        ];
        let last = [
            "neumann", "painter", "smith", "brown", "wilson", "taylor", "white", "martin",
            "clarke", "young", "king", "wright", "scott", "green", "baker",
        ];
        let (mut l, mut r) = (Vec::new(), Vec::new());
        for i in 0..n {
            let (f, s) = (first[i % k], last[(i * 7 + i / k) % k]);
            let dob = format!("19{:02}{:02}{:02}", 40 + i, 1 + i % 12, 1 + i % 28);
            let pc = format!("{}", 2000 + i * 37);
            l.push(rec(
                json!({"given_name": f, "surname": s, "dob": dob, "postcode": pc}),
            ));
            let f2 = if i % 3 == 0 {
                format!("{f}x")
            } else {
                f.to_string()
            };
            r.push(rec(
                json!({"given_name": f2, "surname": s, "dob": dob, "postcode": pc}),
            ));
        }
        (l, r)
    }

    fn example(left: &Record, right: &Record, is_match: bool) -> EntityExample {
        EntityExample {
            left: left.clone(),
            right: right.clone(),
            is_match,
        }
    }

    fn scored(left: usize, right: usize, probability: f64) -> ScoredPair {
        ScoredPair {
            left,
            right,
            weight: 10.0,
            probability,
            rule: "IV".into(),
            is_match: true,
        }
    }

    fn together(clusters: &[Vec<usize>], i: usize, j: usize) -> bool {
        clusters.iter().any(|c| c.contains(&i) && c.contains(&j))
    }

    /// An example names the input records equal to its two after normalisation (case,
    /// spacing, date format), first label first; one naming nothing is not counted, nor
    /// one whose record has no value among the run's fields.
    #[test]
    fn examples_name_the_records_equal_after_normalisation() {
        let recs = [
            rec(json!({"name": "Ann Lee", "dob": "1980-01-02"})),
            rec(json!({"name": "Bob Ray", "dob": "1970-05-06"})),
            rec(json!({"name": "ann  LEE", "dob": "1980-01-02"})),
            rec(json!({"name": "Cid Moe", "dob": "1960-07-08"})),
        ];
        let fields = infer_fields(recs.iter());
        let a: Vec<Prepared> = recs.iter().map(|r| prepare(&fields, r)).collect();
        let ann = rec(json!({"name": "ANN LEE", "dob": "1980-01-02"}));
        let examples = vec![
            // names (0, 1) and (1, 2): the copies of Ann are one form
            example(&recs[1], &ann, false),
            // a later label for a pair already named loses
            example(&ann, &recs[1], true),
            // names (3, 1)
            example(&recs[3], &recs[1], true),
            // names nothing: no such record
            example(&rec(json!({"name": "Dee Fox"})), &recs[1], true),
            // names nothing: no value among the run's fields
            example(&rec(json!({"other": "x"})), &recs[1], false),
        ];
        let l = dedup_labels(&fields, &a, &examples);
        assert_eq!(l.cannot, vec![(0, 1), (1, 2)]);
        assert_eq!(l.must, vec![(1, 3)]);
        assert_eq!(l.used, 3);
        assert!(dedup_labels(&fields, &a, &[]).is_empty());
    }

    /// A cannot-link keeps its two records apart even when strong matches chain them
    /// through a third; a must-link joins a pair no match joined; both rules honour them.
    #[test]
    fn constraints_decide_the_clusters() {
        // 0-1-2 chained by strong pairs; 3 and 4 unmatched
        let pairs = vec![scored(0, 1, 0.99), scored(1, 2, 0.98)];
        let none = Constraints::default();
        let plain = capped_clusters_with(5, &pairs, 0, None, none);
        assert_eq!(plain, vec![vec![0, 1, 2]]);
        let labels = Constraints {
            must: &[(3, 4)],
            cannot: &[(0, 2)],
        };
        let c = capped_clusters_with(5, &pairs, 0, None, labels);
        assert!(!together(&c, 0, 2), "{c:?}");
        assert!(together(&c, 0, 1), "the stronger pair still joins: {c:?}");
        assert!(together(&c, 3, 4), "{c:?}");

        let cand: Vec<(u32, u32)> = vec![(0, 1), (1, 2)];
        let evidence = vec![9.0f32, 8.0];
        let c = evidence_clusters_with(5, &cand, &evidence, &pairs, 0, None, None, none);
        assert_eq!(c, vec![vec![0, 1, 2]]);
        let c = evidence_clusters_with(5, &cand, &evidence, &pairs, 0, None, None, labels);
        assert!(!together(&c, 0, 2) && together(&c, 3, 4), "{c:?}");
        // a must-link against a cannot-link (0 = 2 and 0 ≠ 2): apart
        let clash = Constraints {
            must: &[(0, 2)],
            cannot: &[(0, 2)],
        };
        let c = evidence_clusters_with(5, &cand, &evidence, &pairs, 0, None, None, clash);
        assert!(!together(&c, 0, 2), "{c:?}");
    }

    /// End to end through the embedded dedup: a duplicate pair labelled "non-match" ends
    /// in two clusters, two different people labelled "match" in one; labelled pairs
    /// carry the rule `label`, and the count of labels used is reported.
    #[test]
    fn dedup_follows_its_labels() {
        let (l, r) = people();
        let n = l.len();
        let all: Vec<Record> = l.iter().chain(&r).cloned().collect();
        let opts = LinkOptions {
            u_samples: 2000,
            ..Default::default()
        };
        let plain = dedup(&all, &[], &opts);
        assert!(together(&plain.clusters, 1, 1 + n), "{:?}", plain.clusters);
        assert!(!together(&plain.clusters, 4, 5));
        assert_eq!(plain.link.labels_used, 0);
        let examples = vec![example(&l[1], &r[1], false), example(&l[4], &l[5], true)];
        let out = dedup(&all, &examples, &opts);
        assert!(!together(&out.clusters, 1, 1 + n), "{:?}", out.clusters);
        assert!(together(&out.clusters, 4, 5), "{:?}", out.clusters);
        assert_eq!(out.link.labels_used, 2);
        let forced = out
            .link
            .pairs
            .iter()
            .find(|p| (p.left.min(p.right), p.left.max(p.right)) == (4, 5))
            .expect("the labelled match");
        assert_eq!(
            (forced.rule.as_str(), forced.probability),
            (LABEL_RULE, 1.0)
        );
        assert!(
            !out.link
                .pairs
                .iter()
                .any(|p| (p.left.min(p.right), p.left.max(p.right)) == (1, 1 + n)),
            "the labelled non-match is no matched pair"
        );
        // other duplicates are untouched
        assert!(together(&out.clusters, 2, 2 + n));
    }

    /// A label refits the weights as what it is, one more pair of its class: a "not a
    /// match" on two identical records (twins) and a "match" on two records that share
    /// nothing do not undo the run's other matches nor make strangers match.
    #[test]
    fn hand_picked_labels_do_not_overturn_the_fit() {
        let (l, r) = people_of(24, 12);
        let n = l.len();
        let all: Vec<Record> = l.iter().chain(&r).cloned().collect();
        let opts = LinkOptions {
            u_samples: 2000,
            ..Default::default()
        };
        let plain = dedup(&all, &[], &opts);
        let examples = vec![
            example(&l[1], &r[1], false),
            example(&l[4], &l[5], true),
            example(&l[4], &r[5], true),
        ];
        let out = dedup(&all, &examples, &opts);
        let expected: Vec<Vec<usize>> = plain
            .clusters
            .iter()
            .filter(|c| !c.iter().any(|&i| [1, 4, 5].contains(&(i % n))))
            .cloned()
            .collect();
        assert!(expected.len() >= 18, "{:?}", plain.clusters);
        for c in &expected {
            assert!(out.clusters.contains(c), "{c:?} lost: {:?}", out.clusters);
        }
        // and {4, 5 and their copies}; 1 and its copy apart
        assert!(out.clusters.contains(&vec![4, 5, 4 + n, 5 + n]));
        assert_eq!(out.clusters.len(), expected.len() + 1, "{:?}", out.clusters);
    }

    /// Link: a labelled non-match is no match, a labelled match is one (rule `label`),
    /// and one-to-one keeps the labelled match over the record's own duplicate.
    #[test]
    fn link_follows_its_labels() {
        let (l, r) = people();
        let opts = LinkOptions {
            u_samples: 2000,
            assignment: crate::engine::linkage::Assignment::OneToOne,
            ..Default::default()
        };
        let matched = |o: &crate::engine::linkage::LinkOutput, i: usize, j: usize| {
            o.matches().any(|p| (p.left, p.right) == (i, j))
        };
        let plain = link(&l, &r, &[], &opts).unwrap();
        assert!(matched(&plain, 1, 1) && matched(&plain, 4, 4) && !matched(&plain, 4, 5));
        let examples = vec![example(&l[1], &r[1], false), example(&l[4], &r[5], true)];
        let out = link(&l, &r, &examples, &opts).unwrap();
        assert!(!matched(&out, 1, 1));
        assert!(matched(&out, 4, 5));
        assert!(!matched(&out, 4, 4), "one-to-one: the label wins");
        assert_eq!(out.labels_used, 2);
        assert!(
            out.matches()
                .any(|p| (p.left, p.right) == (4, 5) && p.rule == LABEL_RULE)
        );
    }
}
