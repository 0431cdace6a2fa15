//! Clusters from matched pairs, with no fixed size cap.
//!
//! Both rules here take the matched pairs strongest first and let a pair join its two
//! clusters only when what lies *between* the clusters agrees: one weak link — a shared
//! address, one mistyped date, two namesakes — must not chain two groups, while the 500
//! mentions of one inventor must end in one cluster. They differ in what they read
//! between the clusters:
//! - [`evidence_clusters`] (dedup): the evidence of every scored candidate pair, and for
//!   small clusters of every pair, scored on the spot;
//! - [`capped_clusters`] (the LLM-backed dedup, which has only its matched pairs): how many
//!   matched pairs there are.
//!
//! [`Forest`] is what they share: union-find over record numbers that keeps each
//! cluster's members, and the pair adjacency with each pair's evidence.
//!
//! Labels ([`super::labels`]) enter as [`Constraints`]: a pair labelled "match" is joined
//! before any other, whatever the evidence, cap or split threshold; two clusters that hold
//! the two records of a pair labelled "non-match" never join (a cannot-link, checked on
//! every join, so no chain of other matches puts the two together).

use super::linkage::ScoredPair;

/// Most pairs between two clusters that [`evidence_clusters`] scores one by one.
pub const FULL_EVIDENCE: usize = 1024;

/// The evidence of a pair whose individual fields conflict (two members of one
/// household: different given names, or birth dates, and nothing individual agrees).
pub const CONFLICT_EVIDENCE: f32 = -6.0;

/// The evidence of a candidate pair decided "no" on its weights alone, whose individual
/// fields were not checked (`linkage::score_all` skips that for the many plainly
/// different candidates): [`Forest::scored_between`] scores such a pair again when it
/// weighs on a join, so a conflict (two namesakes born years apart) counts as one. Counts
/// as a plain "no" elsewhere (just below -2, the strongest plain "no", so that no
/// checked pair's evidence is ever taken for it).
pub const UNCHECKED_NO: f32 = -(2.0 + 1.0 / 1024.0);

/// What the pairs between two clusters say ([`Forest::scored_between`]).
#[derive(Debug, Default, Clone, Copy)]
struct Between {
    total: f32,
    yes: usize,
    conflicts: usize,
}

/// Pairs labels decide (record numbers; see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Constraints<'a> {
    /// Joined first, unconditionally (unless a cannot-link forbids it).
    pub must: &'a [(u32, u32)],
    /// Never in one cluster.
    pub cannot: &'a [(u32, u32)],
}

/// Union-find over `n` records that keeps each cluster's members (a lone record has
/// none stored: it is its own member), and the adjacency (CSR) of the given pairs with
/// their evidence.
struct Forest {
    parent: Vec<usize>,
    members: Vec<Vec<u32>>,
    start: Vec<usize>,
    adj: Vec<(u32, f32)>,
    /// Per cluster root, the records its members must not share a cluster with (only
    /// roots that have any: labels are few).
    cannot: std::collections::HashMap<usize, Vec<u32>>,
}

impl Forest {
    fn new(n: usize, pairs: impl Iterator<Item = (u32, u32, f32)> + Clone) -> Self {
        let ok = |&(i, j, _): &(u32, u32, f32)| (i as usize) < n && (j as usize) < n && i != j;
        let mut start = vec![0usize; n + 1];
        for (i, j, _) in pairs.clone().filter(ok) {
            start[i as usize + 1] += 1;
            start[j as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut adj: Vec<(u32, f32)> = vec![(0, 0.0); start[n]];
        for (i, j, e) in pairs.filter(ok) {
            adj[fill[i as usize]] = (j, e);
            fill[i as usize] += 1;
            adj[fill[j as usize]] = (i, e);
            fill[j as usize] += 1;
        }
        Self {
            parent: (0..n).collect(),
            members: vec![Vec::new(); n],
            start,
            adj,
            cannot: Default::default(),
        }
    }

    /// Records the cannot-links (before any join: every record is its own root).
    fn forbid(&mut self, pairs: &[(u32, u32)]) {
        let n = self.parent.len();
        for &(x, y) in pairs {
            if x == y || x as usize >= n || y as usize >= n {
                continue;
            }
            self.cannot.entry(x as usize).or_default().push(y);
            self.cannot.entry(y as usize).or_default().push(x);
        }
    }

    /// Whether a cannot-link joins the clusters rooted at `a` and `b`.
    fn forbidden(&mut self, a: usize, b: usize) -> bool {
        if self.cannot.is_empty() {
            return false;
        }
        let (la, lb) = (
            self.cannot.get(&a).map_or(0, Vec::len),
            self.cannot.get(&b).map_or(0, Vec::len),
        );
        let (from, other) = match (la, lb) {
            (0, _) | (_, 0) => return false,
            _ if la <= lb => (a, b),
            _ => (b, a),
        };
        let partners = self.cannot.get(&from).cloned().unwrap_or_default();
        partners.into_iter().any(|c| self.find(c as usize) == other)
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn size(&self, root: usize) -> usize {
        self.members[root].len().max(1)
    }

    /// The members of the cluster rooted at `root`.
    fn members_of(&self, root: usize) -> Vec<u32> {
        if self.members[root].is_empty() {
            vec![root as u32]
        } else {
            self.members[root].clone()
        }
    }

    /// The pairs of record `x` and their evidence.
    fn pairs_of(&self, x: usize) -> &[(u32, f32)] {
        &self.adj[self.start[x]..self.start[x + 1]]
    }

    /// The evidence of every pair of `xs` × `ys` (a known pair's as known, the others
    /// from `score`): its sum, how many pairs say match, and how many say the two records
    /// conflict (evidence at most [`CONFLICT_EVIDENCE`]).
    fn scored_between(
        &self,
        xs: &[u32],
        ys: &[u32],
        score: &(dyn Fn(usize, usize) -> f32 + Sync),
    ) -> Between {
        let mut b = Between::default();
        for &x in xs {
            let x = x as usize;
            let known = self.pairs_of(x);
            for &y in ys {
                let e = match known.iter().find(|e| e.0 == y) {
                    Some(&(_, e)) if e != UNCHECKED_NO => e,
                    _ => score(x, y as usize),
                };
                b.total += e;
                b.yes += usize::from(e > 0.0);
                b.conflicts += usize::from(e <= CONFLICT_EVIDENCE);
            }
        }
        b
    }

    /// The sum of the evidence of the known pairs between cluster `small` and `big`.
    fn known_between(&mut self, small: usize, big: usize) -> f32 {
        let mut total = 0f32;
        for x in self.members_of(small) {
            let x = x as usize;
            for k in self.start[x]..self.start[x + 1] {
                let (y, e) = self.adj[k];
                if self.find(y as usize) == big {
                    total += e;
                }
            }
        }
        total
    }

    /// Joins the clusters of roots `a` and `b` (the smaller one's members move).
    fn join(&mut self, a: usize, b: usize) {
        let (root, child) = if self.size(a) >= self.size(b) {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[child] = root;
        if let Some(mut partners) = self.cannot.remove(&child) {
            self.cannot.entry(root).or_default().append(&mut partners);
        }
        let mut moved = std::mem::take(&mut self.members[child]);
        if moved.is_empty() {
            moved.push(child as u32);
        }
        if self.members[root].is_empty() {
            self.members[root].push(root as u32);
        }
        self.members[root].append(&mut moved);
    }
}

/// The greedy core of both rules: the labelled matches of `labels` first, then matched
/// pairs strongest first; a pair within one cluster, across a cannot-link, over `cap` (> 0)
/// or against `split` is left out, and otherwise `accept(forest, small, big)` decides (the
/// two roots, the smaller cluster first).
fn greedy(
    n: usize,
    matched: &[ScoredPair],
    cap: usize,
    split: Option<f64>,
    labels: Constraints<'_>,
    forest: &mut Forest,
    mut accept: impl FnMut(&mut Forest, usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    forest.forbid(labels.cannot);
    let mut kept = Vec::with_capacity(matched.len() + labels.must.len());
    for &(x, y) in labels.must {
        let (x, y) = (x as usize, y as usize);
        if x >= n || y >= n || x == y {
            continue;
        }
        let (a, b) = (forest.find(x), forest.find(y));
        if a != b && !forest.forbidden(a, b) {
            forest.join(a, b);
            kept.push((x, y));
        }
    }
    let mut order: Vec<&ScoredPair> = matched
        .iter()
        .filter(|p| p.left < n && p.right < n && p.left != p.right)
        .collect();
    order.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then(y.weight.total_cmp(&x.weight))
            .then((x.left, x.right).cmp(&(y.left, y.right)))
    });
    for p in order {
        let (a, b) = (forest.find(p.left), forest.find(p.right));
        if a == b || forest.forbidden(a, b) {
            continue;
        }
        let (sa, sb) = (forest.size(a), forest.size(b));
        if cap > 0 && sa + sb > cap {
            continue;
        }
        // a weak pair: exactly one side a lone record
        if split.is_some_and(|s| p.probability < s) && (sa > 1) == (sb > 1) {
            continue;
        }
        let (small, big) = if sa <= sb { (a, b) } else { (b, a) };
        if accept(forest, small, big) {
            forest.join(a, b);
            kept.push((p.left, p.right));
        }
    }
    clusters(n, kept)
}

/// Clusters with no fixed size, from the evidence of every scored candidate pair (log2
/// odds, positive for matches and negative for non-matches, as `linkage` computes it):
/// matched pairs are taken strongest first, and each joins its two clusters only when the
/// evidence of all candidate pairs between them adds up to more than nothing. A lone
/// record joins its best cluster unless the cluster holds records it was found *not* to
/// match; a household of five namesakes with one mistaken link stays five clusters, since
/// the other pairs between them say no; 500 mentions of one inventor join, since theirs
/// say yes. Pairs that were never candidates count as nothing, unless `score` is given and
/// the two clusters are small (at most [`FULL_EVIDENCE`] pairs between them): then every
/// pair between them is scored, so two groups found through different keys are compared
/// record by record before they join; bigger clusters are compared on a sample of their
/// member pairs (some matches and few conflicts join them).
///
/// `cap` > 0 bounds a cluster's size; with `split`, a matched pair below it only joins a
/// lone record to a cluster (see [`capped_clusters`]).
pub fn evidence_clusters(
    n: usize,
    cand: &[(u32, u32)],
    evidence: &[f32],
    matched: &[ScoredPair],
    cap: usize,
    split: Option<f64>,
    score: Option<&(dyn Fn(usize, usize) -> f32 + Sync)>,
) -> Vec<Vec<usize>> {
    evidence_clusters_with(
        n,
        cand,
        evidence,
        matched,
        cap,
        split,
        score,
        Constraints::default(),
    )
}

/// [`evidence_clusters`] under the labels' [`Constraints`].
#[allow(clippy::too_many_arguments)]
pub fn evidence_clusters_with(
    n: usize,
    cand: &[(u32, u32)],
    evidence: &[f32],
    matched: &[ScoredPair],
    cap: usize,
    split: Option<f64>,
    score: Option<&(dyn Fn(usize, usize) -> f32 + Sync)>,
    labels: Constraints<'_>,
) -> Vec<Vec<usize>> {
    let pairs = cand.iter().zip(evidence).map(|(&(i, j), &e)| (i, j, e));
    let mut forest = Forest::new(n, pairs);
    // two big clusters found apart stay apart until one of them changes: every matched
    // pair between them would otherwise sample them again
    let mut refused: std::collections::HashSet<(usize, usize, usize, usize)> =
        std::collections::HashSet::new();
    greedy(
        n,
        matched,
        cap,
        split,
        labels,
        &mut forest,
        |f, small, big| {
            let (ss, sb) = (f.size(small), f.size(big));
            match score {
                Some(score) if ss * sb <= FULL_EVIDENCE => {
                    f.scored_between(&f.members_of(small), &f.members_of(big), score)
                        .total
                        > 0.0
                }
                // too many pairs to score them all: a strided sample of the members on each
                // side is scored, and the clusters join when it shows some matches (at least
                // one pair in 100) and few conflicts (under one in 10). Two big clusters of
                // different entities chained by a few sparse or abbreviated records have next
                // to no matches and many conflicts (a household's different given names); two
                // halves of one heavy entity (a career across employers and towns) have some
                // matches and no conflict, however much their other fields disagree. The known
                // pairs are no fair sample here: blocking proposed them for sharing a name.
                // (One in 50 split an inventor's 425 mentions at two employers in two towns:
                // his name, in 425 records, weighs little, and one pair in 80 between his
                // two careers matched.)
                Some(score) => {
                    if refused.contains(&(small, big, ss, sb)) {
                        return false;
                    }
                    let side = (FULL_EVIDENCE as f64).sqrt() as usize;
                    let pick = |v: Vec<u32>| -> Vec<u32> {
                        let step = v.len().div_ceil(side).max(1);
                        v.into_iter().step_by(step).collect()
                    };
                    let (xs, ys) = (pick(f.members_of(small)), pick(f.members_of(big)));
                    let between = f.scored_between(&xs, &ys, score);
                    let pairs = xs.len() * ys.len();
                    let join = between.yes * 100 >= pairs && between.conflicts * 10 < pairs;
                    if !join {
                        refused.insert((small, big, ss, sb));
                    }
                    join
                }
                None => f.known_between(small, big) > 0.0,
            }
        },
    )
}

/// Clusters of matched pairs with no fixed size: pairs are taken strongest first, and
///
/// - a pair joins a lone record to a cluster at once (its strongest pair comes first);
/// - a pair joins two clusters of two or more records only when the matched pairs
///   between them number at least half the smaller cluster (and two): two halves of one
///   entity are linked by many pairs, two households or two namesakes by one or two, so
///   one weak link — a shared address, one mistyped date — cannot chain two groups, while
///   500 mentions of one person still end in one cluster.
///
/// `cap` > 0 bounds a cluster's size (0: no bound). With `split` (a stricter threshold),
/// a pair below it only joins a lone record to a cluster of two or more (pairs are taken
/// strongest first, so every pair at or above `split` has been taken by then).
pub fn capped_clusters(
    n: usize,
    pairs: &[ScoredPair],
    cap: usize,
    split: Option<f64>,
) -> Vec<Vec<usize>> {
    capped_clusters_with(n, pairs, cap, split, Constraints::default())
}

/// [`capped_clusters`] under the labels' [`Constraints`].
pub fn capped_clusters_with(
    n: usize,
    pairs: &[ScoredPair],
    cap: usize,
    split: Option<f64>,
    labels: Constraints<'_>,
) -> Vec<Vec<usize>> {
    let edges = pairs
        .iter()
        .map(|p| (p.left as u32, p.right as u32, 1.0f32));
    let mut forest = Forest::new(n, edges);
    greedy(
        n,
        pairs,
        cap,
        split,
        labels,
        &mut forest,
        |f, small, big| {
            if f.size(small) == 1 {
                return true;
            }
            let need = f.size(small).div_ceil(2).max(2) as f32;
            f.known_between(small, big) >= need
        },
    )
}

/// Connected components (size > 1, sorted; each sorted) of the graph on `n` nodes with
/// `edges`; edges naming a node past `n` are left out. Records here; fields that change
/// together in the model ([`super::fs::FsModel`]), records of one group of matches in the
/// one-to-one step ([`super::assign`]).
pub fn clusters(n: usize, edges: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut parent: Vec<usize> = (0..n).collect();
    for (i, j) in edges {
        if i < n && j < n {
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            parent[a.max(b)] = a.min(b);
        }
    }
    // each component's root is its least member: by root is by first member, sorted
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..n {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// Each of `n` records' group in `groups` (its index; `None` for a record in none): the
/// label vector the one-to-one step, the term frequencies of a second round and
/// evaluation's blocking reach each look records up by.
pub fn membership(n: usize, groups: &[Vec<usize>]) -> Vec<Option<u32>> {
    let mut of = vec![None; n];
    for (members, g) in groups.iter().zip(0u32..) {
        for &r in members {
            if let Some(slot) = of.get_mut(r) {
                *slot = Some(g);
            }
        }
    }
    of
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::linkage::*;

    #[test]
    fn membership_labels_each_record_with_its_group() {
        let groups = clusters(6, [(0, 2), (4, 5), (2, 0)]);
        assert_eq!(groups, vec![vec![0, 2], vec![4, 5]]);
        assert_eq!(
            membership(6, &groups),
            vec![Some(0), None, Some(0), None, Some(1), Some(1)]
        );
        // a member past `n` is left out, not a panic
        assert_eq!(membership(2, &[vec![1, 7]]), vec![None, Some(0)]);
    }

    #[test]
    fn capped_clusters_refuse_the_weak_link_that_would_chain_two_groups() {
        let p = scored;
        // {0,1,2} and {3,4,5} strongly linked; one weak pair 2-3 between them
        let pairs = vec![
            p(0, 1, 0.99),
            p(1, 2, 0.98),
            p(2, 3, 0.86),
            p(3, 4, 0.99),
            p(4, 5, 0.97),
        ];
        // one pair between two groups of three is not enough support
        assert_eq!(
            capped_clusters(6, &pairs, 0, None),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        // a second pair between them is
        let mut two = pairs.clone();
        two.push(p(0, 4, 0.9));
        assert_eq!(
            capped_clusters(6, &two, 0, None),
            vec![vec![0, 1, 2, 3, 4, 5]]
        );
        let pairs = two;
        assert_eq!(
            capped_clusters(6, &pairs, 4, None),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        assert_eq!(capped_clusters(6, &pairs, 6, None).len(), 1);
        // a stricter split threshold: the weak pair 2-3 cannot join the two groups ...
        assert_eq!(
            capped_clusters(6, &pairs, 0, Some(0.95)),
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
        // ... but a weak pair still adds a lone record (6) to a group
        let mut more = pairs.clone();
        more.push(p(5, 6, 0.87));
        assert_eq!(
            capped_clusters(7, &more, 0, Some(0.95)),
            vec![vec![0, 1, 2], vec![3, 4, 5, 6]]
        );
        // below every pair's probability it changes nothing
        assert_eq!(capped_clusters(6, &pairs, 0, Some(0.5)).len(), 1);
        // weak pairs alone make no cluster, whatever their order
        let weak = vec![p(0, 1, 0.86), p(2, 3, 0.87), p(1, 2, 0.88)];
        assert!(capped_clusters(4, &weak, 0, Some(0.95)).is_empty());
    }

    fn scored(l: usize, r: usize, probability: f64) -> ScoredPair {
        ScoredPair {
            left: l,
            right: r,
            weight: 0.0,
            probability,
            rule: "IV".into(),
            is_match: true,
        }
    }

    #[test]
    fn two_big_clusters_chained_by_one_strong_pair_stay_apart() {
        // {0..50} and {50..100}: each a chain of strong matches, one strong matched pair
        // 49-50 between them; 2,500 pairs between them, too many to score them all
        let mut cand = Vec::new();
        let mut matched = Vec::new();
        for i in 0..99u32 {
            if i != 49 {
                cand.push((i, i + 1));
                matched.push(scored(i as usize, i as usize + 1, 0.99));
            }
        }
        cand.push((49, 50));
        matched.push(scored(49, 50, 0.95));
        let evidence = vec![9.0f32; cand.len()];
        let same_half = |x: usize, y: usize| (x < 50) == (y < 50);
        // two entities: no pair across says yes
        let apart = move |x: usize, y: usize| if same_half(x, y) { 9.0f32 } else { -1.0 };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&apart));
        assert_eq!(
            c.len(),
            2,
            "{:?}",
            c.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // one heavy entity: a tenth of the pairs across say yes (the same employer)
        let one = move |x: usize, y: usize| {
            if same_half(x, y) || (x + y).is_multiple_of(10) {
                9.0f32
            } else {
                -1.0
            }
        };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&one));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn unchecked_noes_are_scored_again_when_two_clusters_may_join() {
        // {0, 1} and {2, 3}, one strong match across (1, 2); the other three pairs across
        // were decided "no" on their weights without their individual fields checked
        let cand = vec![(0, 1), (2, 3), (1, 2), (0, 2), (0, 3), (1, 3)];
        let matched = vec![scored(0, 1, 0.99), scored(2, 3, 0.99), scored(1, 2, 0.9)];
        let across = |x: usize, y: usize| (x < 2) != (y < 2) && (x.min(y), x.max(y)) != (1, 2);
        // checked, they conflict (namesakes born years apart)
        let checked = move |x: usize, y: usize| {
            if across(x, y) {
                CONFLICT_EVIDENCE
            } else {
                9.0f32
            }
        };
        let unchecked = vec![9.0, 9.0, 9.0, UNCHECKED_NO, UNCHECKED_NO, UNCHECKED_NO];
        let c = evidence_clusters(4, &cand, &unchecked, &matched, 0, None, Some(&checked));
        assert_eq!(c.len(), 2, "{c:?}");
        // plain noes are taken as they are: 9 - 3 x 2 > 0 joins
        let plain = vec![9.0, 9.0, 9.0, -2.0, -2.0, -2.0];
        let c = evidence_clusters(4, &cand, &plain, &matched, 0, None, Some(&checked));
        assert_eq!(c.len(), 1, "{c:?}");
    }

    #[test]
    fn big_clusters_join_on_a_sample_with_matches_and_no_conflicts() {
        // {0..50} and {50..100}, chained inside; blocking proposed 60 pairs across (a
        // shared name) that say a plain "no" (-2: other employer, other town) and one
        // match: the known pairs add up to a no, the sample of all pairs across decides
        let mut cand = Vec::new();
        let mut matched = Vec::new();
        for i in 0..99u32 {
            if i != 49 {
                cand.push((i, i + 1));
                matched.push(scored(i as usize, i as usize + 1, 0.99));
            }
        }
        let mut evidence = vec![9.0f32; cand.len()];
        for k in 0..60u32 {
            cand.push((k % 50, 50 + (k * 7) % 50));
            evidence.push(-2.0);
        }
        cand.push((49, 50));
        evidence.push(1.0);
        matched.push(scored(49, 50, 0.9));
        let same_half = |x: usize, y: usize| (x < 50) == (y < 50);
        // one person at two employers: a twentieth of the pairs across match, none conflicts
        let one = move |x: usize, y: usize| {
            if same_half(x, y) || (x + y).is_multiple_of(20) {
                9.0f32
            } else {
                -1.0
            }
        };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&one));
        assert_eq!(
            c.len(),
            1,
            "{:?}",
            c.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // a household: as many matches, but a third of the pairs across conflict
        let household = move |x: usize, y: usize| {
            if same_half(x, y) || (x + y).is_multiple_of(20) {
                9.0f32
            } else if (x + y).is_multiple_of(3) {
                CONFLICT_EVIDENCE
            } else {
                -1.0
            }
        };
        let c = evidence_clusters(100, &cand, &evidence, &matched, 0, None, Some(&household));
        assert_eq!(
            c.len(),
            2,
            "{:?}",
            c.iter().map(Vec::len).collect::<Vec<_>>()
        );
    }

    #[test]
    fn evidence_between_clusters_decides_whether_they_join() {
        // {0,1} and {2,3}: one matched pair 1-2 between them, and the other pairs between
        // them candidates found *not* to match (a household with one mistaken link)
        let cand = vec![(0, 1), (2, 3), (1, 2), (0, 2), (0, 3), (1, 3)];
        let evidence = vec![8.0, 8.0, 1.0, -6.0, -6.0, -2.0];
        let matched = vec![scored(0, 1, 0.99), scored(2, 3, 0.99), scored(1, 2, 0.9)];
        assert_eq!(
            evidence_clusters(4, &cand, &evidence, &matched, 0, None, None),
            vec![vec![0, 1], vec![2, 3]]
        );
        // the same pairs saying yes: one cluster
        let yes = vec![8.0, 8.0, 1.0, 3.0, 3.0, 2.0];
        assert_eq!(
            evidence_clusters(4, &cand, &yes, &matched, 0, None, None),
            vec![vec![0, 1, 2, 3]]
        );
        // pairs that were never candidates are scored one by one when a scorer is given
        let sparse = vec![(0, 1), (2, 3), (1, 2)];
        let ev = vec![8.0, 8.0, 1.0];
        assert_eq!(
            evidence_clusters(4, &sparse, &ev, &matched, 0, None, None),
            vec![vec![0, 1, 2, 3]]
        );
        let no = |_: usize, _: usize| -5.0f32;
        assert_eq!(
            evidence_clusters(4, &sparse, &ev, &matched, 0, None, Some(&no)),
            vec![vec![0, 1], vec![2, 3]]
        );
        // a cap still bounds the size
        assert_eq!(
            evidence_clusters(4, &cand, &yes, &matched, 3, None, None),
            vec![vec![0, 1], vec![2, 3]]
        );
    }
}
