//! Which of a link's matches each record keeps: at most one partner a side, unless the
//! caller lets an extra partner join the kept one (a side that repeats its entities, a
//! small side of people: the extra partner a duplicate of the kept one; a record of the
//! kept one's own identity number).
//!
//! Why an optimal assignment and not best-first: in a household two people share the
//! surname, the address, often the given name (a father and son), and the records that
//! tell them apart (a birth date) are missing on one side. Best-first gave the first
//! record the partner that was equally good for it and the only good one for the
//! second, which then went unmatched (person_link: 77 of 5,316 true pairs matched above
//! the threshold were dropped so). The assignment of greatest total weight — the sum of
//! the kept pairs' log-odds, i.e. the most likely one-to-one reading of the matches — gives
//! each its own. Each connected group of matches is solved apart (Kuhn–Munkres from
//! `pathfinding`), so the work stays with the few records a group holds.
//!
//! The sum of weights, not of probabilities: most kept pairs sit at p ≈ 1, where the sum
//! of probabilities only counts pairs and trades a sure pair for two doubtful ones
//! (person_link 0.9556 best-first, 0.9574 by weight, 0.9517 by probability). By weight,
//! product_link lost 0.0012 (three titles whose close pair weighed less than a looser
//! one with more fields agreeing) and febrl4_sparse 0.0003.

use std::collections::{HashMap, HashSet};

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use super::cluster::clusters;
use super::labels;
use super::linkage::ScoredPair;

/// Most records on the smaller side of a group of matches solved exactly; a larger group
/// (a common name in a big file) is assigned best-first: the exact solution costs the
/// cube of its size.
const EXACT_MAX: usize = 300;

/// Fixed-point scale of weights (bits) in the assignment: 1/1000 bit.
const SCALE: f64 = 1000.0;

/// What a labelled match adds in the assignment: more than any group's unlabelled weight,
/// so a label is kept whatever it displaces (as best-first kept it first).
const LABEL_BONUS: i64 = 1 << 40;

/// Keeps at most one match per left and per right record (a labelled match before any
/// other) — unless `same(side, kept, other, p)` says that the record a pair (of
/// probability `p`) would add on a taken side may join the one kept there (`side` 0: two
/// left records, 1: two right records). With `optimal`, the partners kept first are the
/// assignment of greatest total weight ([`optimal_pairs`]) and `same` is asked of the
/// rest after them; otherwise (a side that repeats its entities, where a record may keep
/// several) the best pairs first.
pub fn one_to_one(
    pairs: &mut [ScoredPair],
    optimal: bool,
    mut same: impl FnMut(usize, usize, usize, f64) -> bool,
) {
    let mut order: Vec<usize> = (0..pairs.len()).filter(|&k| pairs[k].is_match).collect();
    let labelled = |k: usize| pairs[k].rule == labels::LABEL_RULE;
    order.sort_by(|&x, &y| {
        labelled(y)
            .cmp(&labelled(x))
            .then(pairs[y].probability.total_cmp(&pairs[x].probability))
            .then(pairs[y].weight.total_cmp(&pairs[x].weight))
    });
    if optimal {
        // the optimal pairs go first, the rest keep their best-first order
        let chosen = optimal_pairs(pairs, &order);
        order.sort_by_key(|k| !chosen.contains(k));
    }
    // each record's first (best) partner
    let mut best_of_l: HashMap<usize, usize> = HashMap::new();
    let mut best_of_r: HashMap<usize, usize> = HashMap::new();
    for k in order {
        let p = &mut pairs[k];
        let prob = p.probability;
        let ok_l = best_of_l
            .get(&p.left)
            .is_none_or(|&r| same(1, r, p.right, prob));
        let ok_r = ok_l
            && best_of_r
                .get(&p.right)
                .is_none_or(|&l| same(0, l, p.left, prob));
        if !(ok_l && ok_r) {
            p.is_match = false;
            continue;
        }
        best_of_l.entry(p.left).or_insert(p.right);
        best_of_r.entry(p.right).or_insert(p.left);
    }
}

/// The matches (indices into `pairs`, from `order`: the matches best first) of the
/// one-to-one assignment of greatest total weight, solved per connected group; a group
/// too large to solve exactly keeps its pairs best-first.
fn optimal_pairs(pairs: &[ScoredPair], order: &[usize]) -> HashSet<usize> {
    // one node per left and per right record; a match links its two
    let mut node: HashMap<(bool, usize), usize> = HashMap::new();
    let mut id = |side: bool, r: usize| {
        let next = node.len();
        *node.entry((side, r)).or_insert(next)
    };
    let ends: Vec<(usize, usize)> = order
        .iter()
        .map(|&k| (id(false, pairs[k].left), id(true, pairs[k].right)))
        .collect();
    let groups = clusters(node.len(), ends.iter().copied());
    let group_of = crate::engine::cluster::membership(node.len(), &groups);
    let mut ks: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (&k, &(l, _)) in order.iter().zip(&ends) {
        if let Some(g) = group_of.get(l).copied().flatten() {
            ks[g as usize].push(k);
        }
    }
    let mut chosen = HashSet::new();
    for group in ks {
        match group.as_slice() {
            [k] => {
                chosen.insert(*k);
            }
            _ => chosen.extend(solve_group(pairs, &group)),
        }
    }
    chosen
}

/// The pairs `ks` (one connected group, best first) kept by the assignment of greatest
/// total weight; best-first when the group is too large ([`EXACT_MAX`]).
fn solve_group(pairs: &[ScoredPair], ks: &[usize]) -> Vec<usize> {
    let mut lefts: Vec<usize> = ks.iter().map(|&k| pairs[k].left).collect();
    let mut rights: Vec<usize> = ks.iter().map(|&k| pairs[k].right).collect();
    lefts.sort_unstable();
    lefts.dedup();
    rights.sort_unstable();
    rights.dedup();
    // rows: the smaller side; columns: the other side, then one "no partner" column
    // per row
    let flip = lefts.len() > rights.len();
    let (rows, cols) = if flip {
        (&rights, &lefts)
    } else {
        (&lefts, &rights)
    };
    if rows.len() > EXACT_MAX {
        return best_first(pairs, ks);
    }
    let (nr, nc) = (rows.len(), cols.len());
    // a pair that is no match never beats leaving both records without a partner
    let absent = -(LABEL_BONUS / 4);
    let mut m = Matrix::new(nr, nc + nr, absent);
    for r in 0..nr {
        m[(r, nc + r)] = 0;
    }
    let mut at: HashMap<(usize, usize), usize> = HashMap::new();
    for &k in ks {
        let p = &pairs[k];
        let (x, y) = if flip {
            (p.right, p.left)
        } else {
            (p.left, p.right)
        };
        let (Ok(r), Ok(c)) = (rows.binary_search(&x), cols.binary_search(&y)) else {
            continue;
        };
        // every kept pair counts for something, however low its weight (a rule decided it)
        let w = (p.weight.clamp(0.001, 1000.0) * SCALE) as i64
            + if p.rule == labels::LABEL_RULE {
                LABEL_BONUS
            } else {
                0
            };
        if w > m[(r, c)] {
            m[(r, c)] = w;
            at.insert((r, c), k);
        }
    }
    let (_, assigned) = kuhn_munkres(&m);
    assigned
        .iter()
        .enumerate()
        .filter_map(|(r, &c)| at.get(&(r, c)).copied())
        .collect()
}

/// The pairs `ks` (best first) kept best-first: each record's first.
fn best_first(pairs: &[ScoredPair], ks: &[usize]) -> Vec<usize> {
    let (mut l, mut r) = (HashSet::new(), HashSet::new());
    ks.iter()
        .copied()
        .filter(|&k| {
            let (x, y) = (pairs[k].left, pairs[k].right);
            // a pair refused for one side takes nothing of the other
            let free = !l.contains(&x) && !r.contains(&y);
            if free {
                l.insert(x);
                r.insert(y);
            }
            free
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(left: usize, right: usize, weight: f64) -> ScoredPair {
        ScoredPair {
            left,
            right,
            weight,
            probability: 1.0 / (1.0 + (-weight).exp2()),
            rule: "IV".into(),
            is_match: true,
        }
    }

    fn kept(pairs: &[ScoredPair]) -> Vec<(usize, usize)> {
        let mut v: Vec<_> = pairs
            .iter()
            .filter(|p| p.is_match)
            .map(|p| (p.left, p.right))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_father_and_son_of_one_name_each_keep_their_own_record() {
        // left 0 (no birth date) fits right 0 and right 1 equally; left 1 (a birth date
        // that only right 1 shares) fits right 1 alone
        let mut pairs = vec![pair(0, 1, 20.25), pair(0, 0, 20.25), pair(1, 1, 13.75)];
        one_to_one(&mut pairs, true, |_, _, _, _| false);
        assert_eq!(kept(&pairs), vec![(0, 0), (1, 1)]);
        // best-first takes the tie as it comes and leaves left 1 alone
        let mut pairs = vec![pair(0, 1, 20.25), pair(0, 0, 20.25), pair(1, 1, 13.75)];
        one_to_one(&mut pairs, false, |_, _, _, _| false);
        assert_eq!(kept(&pairs), vec![(0, 1)]);
    }

    #[test]
    fn two_good_matches_outweigh_one_better_one() {
        let mut pairs = vec![pair(0, 0, 20.0), pair(0, 1, 8.0), pair(1, 0, 16.0)];
        one_to_one(&mut pairs, true, |_, _, _, _| false);
        assert_eq!(kept(&pairs), vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn a_label_is_kept_whatever_it_displaces() {
        let mut pairs = vec![pair(0, 0, 30.0), pair(1, 1, 30.0), pair(0, 1, 3.0)];
        pairs[2].rule = labels::LABEL_RULE.into();
        one_to_one(&mut pairs, true, |_, _, _, _| false);
        assert_eq!(kept(&pairs), vec![(0, 1)]);
    }

    #[test]
    fn best_first_leaves_a_refused_pairs_other_record_free() {
        // (0, 1) is refused because left 0 is taken: right 1 stays free for left 2
        let pairs = vec![pair(0, 0, 9.0), pair(0, 1, 8.0), pair(2, 1, 7.0)];
        assert_eq!(best_first(&pairs, &[0, 1, 2]), vec![0, 2]);
    }

    #[test]
    fn groups_apart_and_pairs_that_are_no_match_are_left_alone() {
        let mut pairs = vec![
            pair(0, 0, 10.0),
            pair(5, 7, 4.0),
            pair(5, 8, 6.0),
            pair(6, 8, 9.0),
        ];
        let mut no = pair(6, 7, 50.0);
        no.is_match = false;
        pairs.push(no);
        one_to_one(&mut pairs, true, |_, _, _, _| false);
        assert_eq!(kept(&pairs), vec![(0, 0), (5, 7), (6, 8)]);
    }
}
