//! Estimation: the priors, u from random pairs, m by classification EM over the
//! candidates (which pairs may join its match class), the groups of dependent fields, and
//! refinement by labelled pairs.

use super::super::*;
use super::{FsModel, ages_of};
use crate::engine::cluster::clusters;

/// Fewest random pairs (of strangers: pairs agreeing on most fields are left out)
/// agreeing on each of two fields to judge their dependence by. With the lift required,
/// chance cannot make it: two independent fields each agreeing in 1% of pairs agree
/// together in 0.15 of 15 such pairs, not 12. (An employer and its id agree in 20 of
/// the 20,000 pairs of the mention file whose people have hundreds of mentions.)
const DEPENDENT_MIN_AGREEMENTS: f64 = 15.0;
/// Share of one field's agreements among random pairs that the other's must come with.
const DEPENDENT_SHARE: f64 = 0.8;
/// Least lift of the joint agreement over independence (a near-constant column, such as
/// a country, agrees with everything by chance).
const DEPENDENT_LIFT: f64 = 10.0;

/// Random-pair agreement below which an exact agreement beside the whole name marks a
/// random pair as one entity's ([`FsModel::one_entity_apart`]).
pub(super) const RARE_U: f64 = 0.01;

const M_PRIOR: [f64; LEVELS] = [0.80, 0.10, 0.05, 0.03, 0.02];
const U_PRIOR: [f64; LEVELS] = [0.02, 0.02, 0.05, 0.11, 0.80];
const FLOOR: f64 = 1e-4;

/// Least share of random pairs agreeing exactly on a field for it to be idle in the test
/// for EM's match class ([`FsModel::idle_fields`]): a sex agrees between half of all
/// pairs; a publication year between one in ten (and a year apart between four in ten:
/// counting those left DBLP-ACM's retitled papers out of the class, F1 -0.002), a state
/// of a national file one in twenty, a surname one in a thousand.
const IDLE_U: f64 = 0.25;

/// Random-pair agreement at or above which a field agreeing is no unit of the test for a
/// thin agreement of people ([`FsModel::chance_fields`]).
const CHANCE_U: f64 = 0.05;

fn normalize_probs(p: &mut [f64; LEVELS]) {
    for x in p.iter_mut() {
        *x = x.max(FLOOR);
    }
    let s: f64 = p.iter().sum();
    for x in p.iter_mut() {
        *x /= s;
    }
}

/// Whether a comparison vector agrees (exactly or closely, level ≤ 2) on more than half of
/// its known (non-missing) fields.
pub fn mostly_agree(v: &[u8]) -> bool {
    mostly_agree_grouped(v, &[])
}

/// [`mostly_agree`] with each group of three or more fields in `groups` counted as one
/// field: it agrees when a member agrees (level ≤ 2), disagrees when every known member
/// disagrees. (A pair of fields, such as an address line and a town, stays two.)
pub fn mostly_agree_grouped(v: &[u8], groups: &[Vec<usize>]) -> bool {
    let u = agreeing_units(v, groups, &[], &[], None);
    u.known > 0 && 2 * u.agree > u.known
}

/// How many times as often as a group's most specific known member a member may agree
/// between random pairs and still speak for the group ([`agreeing_units`]): a town, its
/// location id and its coordinates are one fact written three ways, a state beside a
/// street another, coarser one.
const AS_SPECIFIC: f64 = 4.0;

/// Units of a comparison vector ([`agreeing_units`]).
struct Units {
    /// Units with a known level.
    known: usize,
    /// Units that agree (a member at level ≤ 2).
    agree: usize,
    /// Units alike only at the weak level (3), none of their members agreeing.
    weak: usize,
}

/// Units of `v`: a field outside the groups of three or more is one unit, each such group
/// another, agreeing when a member agrees (level ≤ 2), weak when none does and one is at
/// level 3. A field outside those groups marked in `idle` ([`FsModel::idle_fields`]) is no
/// unit. (Idle members left out of their groups too: the patent-office mention export
/// 0.9949 -> 0.9937, its country idle within the town's group; not kept.) Fields in
/// `read_off` are no unit either: an age beside a birth date known on both sides
/// ([`FsModel::ages_read_off`]).
///
/// With the fields' u (`lead`: [`FsModel::thin_despite_name`]), a group agrees only where
/// its most specific known member (the one agreeing between fewest random pairs: a street
/// before a town, a town before a state), or one nearly as specific ([`AS_SPECIFIC`]),
/// does; a broader member agreeing alone makes it weak: two addresses in one town or
/// state are two addresses.
fn agreeing_units(
    v: &[u8],
    groups: &[Vec<usize>],
    idle: &[bool],
    read_off: &[usize],
    lead: Option<&[[f64; LEVELS]]>,
) -> Units {
    let groups: Vec<&Vec<usize>> = groups.iter().filter(|g| g.len() >= 3).collect();
    let mut u = Units {
        known: 0,
        agree: 0,
        weak: 0,
    };
    let in_group = |f: usize| groups.iter().any(|g| g.contains(&f));
    let mut count = |best: Option<u8>| {
        if let Some(l) = best {
            u.known += 1;
            if l <= 2 {
                u.agree += 1;
            } else if l == 3 {
                u.weak += 1;
            }
        }
    };
    for (f, &l) in v.iter().enumerate() {
        if l != MISSING
            && !in_group(f)
            && !idle.get(f).copied().unwrap_or(false)
            && !read_off.contains(&f)
        {
            count(Some(l));
        }
    }
    for g in &groups {
        let known = || {
            g.iter()
                .filter_map(|&f| v.get(f).map(|&l| (f, l)))
                .filter(|&(_, l)| l != MISSING)
        };
        let best = known().map(|(_, l)| l).min();
        // the best level among the members about as specific as the most specific one
        let specific = lead.and_then(|lead| {
            let chance = |f: usize| lead.get(f).map_or(1.0, |p| p[0]);
            let least = known().map(|(f, _)| chance(f)).min_by(f64::total_cmp)?;
            known()
                .filter(|&(f, _)| chance(f) <= least * AS_SPECIFIC)
                .map(|(_, l)| l)
                .min()
        });
        count(match (best, specific) {
            (Some(b), Some(l)) if b <= 2 && l > 2 => Some(3),
            _ => best,
        });
    }
    u
}

/// Each distinct comparison vector of `vectors` with how many times it occurs. Millions
/// of short vectors: a fast hasher, and a fixed one (the patterns' order, in which EM
/// sums, is the same every run).
fn pattern_counts<'a>(vectors: impl IntoIterator<Item = &'a [u8]>) -> Vec<(&'a [u8], f64)> {
    let mut patterns: rustc_hash::FxHashMap<&[u8], f64> = rustc_hash::FxHashMap::default();
    for v in vectors {
        *patterns.entry(v).or_default() += 1.0;
    }
    patterns.into_iter().collect()
}

/// Most pairs of the input per candidate pair at which the prior EM finds among the
/// candidates is kept as it is ([`FsModel::scale_prior`]): the dev files span 50 to 1,100,
/// and the weights, threshold and match-class tests are calibrated on them.
pub const CALIBRATED_PAIRS_PER_CANDIDATE: f64 = 1000.0;

/// Fewest candidate pairs a field's m is estimated on by [`FsModel::estimate_m_apart`].
const APART_MIN_PAIRS: f64 = 20.0;

impl FsModel {
    /// Priors only (for a handful of pairs, where nothing can be estimated).
    pub fn prior(fields: Vec<FieldSpec>) -> Self {
        let n = fields.len();
        let ages = ages_of(&fields);
        Self {
            fields,
            m: vec![M_PRIOR; n],
            u: vec![U_PRIOR; n],
            lambda: 0.3,
            iterations: 0,
            u_pair: Vec::new(),
            individual: Vec::new(),
            groups: Vec::new(),
            names: Vec::new(),
            tight: Vec::new(),
            em_note: None,
            prior_note: None,
            unrelated: Vec::new(),
            apart: Vec::new(),
            ages,
            households: false,
        }
    }

    /// u-probabilities from `samples` random pairs (non-matches dominate random pairs).
    pub fn estimate_u(
        &mut self,
        left: &[Prepared],
        right: &[Prepared],
        samples: usize,
        seed: u64,
        skip_diagonal: bool,
    ) {
        let pairs = RandomPairs::compare(&self.fields, left, right, samples, seed, skip_diagonal);
        self.estimate_u_from(&pairs, &|_| false);
    }

    /// u from random pairs already compared ([`RandomPairs`], with this model's fields),
    /// leaving out those `matched` says are matches: a fit estimates u twice, before EM and
    /// after it, from the same draw. Where a few entities hold hundreds of records each,
    /// one random pair in 250 is two records of one of them: they agreed on the given name
    /// and the surname together so often that the two looked dependent, and an inventor's
    /// name lost 3 of its 10 bits.
    pub fn estimate_u_from(&mut self, pairs: &RandomPairs, matched: &dyn Fn(&[u8]) -> bool) {
        if pairs.no_records() {
            return;
        }
        // prior pseudo-counts keep tiny inputs sensible
        let nf = self.fields.len();
        let mut counts: Vec<[f64; LEVELS]> = vec![U_PRIOR.map(|x| x * 30.0); nf];
        // exact agreement of two fields together, and how often both were known
        let mut both_agree = vec![vec![0.0f64; nf]; nf];
        let mut both_known = vec![vec![0.0f64; nf]; nf];
        // `[f][g]`: f agrees exactly and g is known (both orders)
        let mut agree_known = vec![vec![0.0f64; nf]; nf];
        let groups = self.groups.clone();
        let conflict = crate::engine::local::GivenNamesConflict::new(&self.individual);
        let kept: Vec<&[u8]> = pairs.vectors().filter(|v| !matched(v)).collect();
        for v in &kept {
            for (f, &l) in v.iter().enumerate() {
                if l != MISSING {
                    counts[f][l as usize] += 1.0;
                }
            }
        }
        for (f, c) in counts.into_iter().enumerate() {
            let mut p = c;
            normalize_probs(&mut p);
            self.u[f] = p;
        }
        let whole_name = self.whole_name_fields();
        let own_facts = self.own_fact_fields(&whole_name);
        for &v in &kept {
            // a random pair that agrees on most fields is likely a duplicate: it would make
            // every two identifying fields look correlated
            // unless their given names differ outright and nothing individual agrees
            // (two of a household: certainly two people, and what they share is shared by
            // non-matches; left out, a surname, street and number agreeing together counted
            // three times and matched a census row to a relative's tax form)
            let joint = (!mostly_agree_grouped(v, &groups)
                && !self.one_entity_apart(v, &whole_name, &own_facts))
                || conflict.test(v);
            if !joint {
                continue;
            }
            for (f, &l) in v.iter().enumerate() {
                if l == MISSING {
                    continue;
                }
                for (g, &k) in v.iter().enumerate().skip(f + 1) {
                    if k != MISSING {
                        both_known[f][g] += 1.0;
                        agree_known[f][g] += f64::from(u8::from(l == 0));
                        agree_known[g][f] += f64::from(u8::from(k == 0));
                        if l == 0 && k == 0 {
                            both_agree[f][g] += 1.0;
                        }
                    }
                }
            }
        }
        // joint agreement, shrunk towards independence by 30 pseudo-pairs
        let mut u_pair = vec![vec![0.0f64; nf]; nf];
        for f in 0..nf {
            for g in (f + 1)..nf {
                let indep = self.u[f][0] * self.u[g][0];
                let p = (both_agree[f][g] + 30.0 * indep) / (both_known[f][g] + 30.0);
                u_pair[f][g] = p;
                u_pair[g][f] = p;
            }
        }
        self.u_pair = u_pair;
        let mut dependent = Vec::new();
        for f in 0..nf {
            for g in (f + 1)..nf {
                let (a, b) = (agree_known[f][g], agree_known[g][f]);
                let share = |n: f64| if n > 0.0 { both_agree[f][g] / n } else { 0.0 };
                let lift = self.u_pair[f][g] / (self.u[f][0] * self.u[g][0]).max(1e-12);
                if a.min(b) >= DEPENDENT_MIN_AGREEMENTS
                    && share(a).max(share(b)) >= DEPENDENT_SHARE
                    && lift >= DEPENDENT_LIFT
                {
                    dependent.push((f, g));
                }
            }
        }
        self.group_dependent_fields(dependent);
    }

    /// Whether a random pair `v` reads as two records of one entity that differ where an
    /// entity's records may (its place, its employer): every known field of `names` (the
    /// [`Self::whole_name_fields`]) agrees (level ≤ 2), and so does, exactly, a field of
    /// `own_facts` ([`Self::own_fact_fields`]) that agrees between fewer than [`RARE_U`]
    /// of random pairs (the same co-inventors, classes, birth date).
    /// Such a pair is no evidence of how two strangers' fields go together: where a few
    /// entities hold hundreds of records each, their mentions in other towns and firms
    /// made the name, the co-inventors and the classes agree together among "strangers"
    /// 40 times as often as chance, each then counted as one fact, and an inventor's
    /// mentions after a move (same name, same co-inventors and classes) fell to p 0.15:
    /// one entity of 433 mentions split in two (F1 0.94).
    fn one_entity_apart(&self, v: &[u8], names: &[usize], own_facts: &[bool]) -> bool {
        // the whole name: two name fields, or one of whole names, known and agreeing
        let mut known = 0;
        for &f in names {
            match v.get(f) {
                Some(&l) if l != MISSING => {
                    if l > 2 {
                        return false;
                    }
                    let whole = self.fields.get(f).is_some_and(|s| s.person_name);
                    known += if whole { 2 } else { 1 };
                }
                _ => {}
            }
        }
        known >= 2
            && v.iter().enumerate().any(|(f, &l)| {
                l == 0
                    && own_facts.get(f).copied().unwrap_or(false)
                    && self.u.get(f).is_some_and(|u| u[0] < RARE_U)
            })
    }

    /// Per field, whether it may tell an entity's own fact for [`Self::one_entity_apart`]:
    /// no field of `names`, and no place (a member of a group of dependent fields, or an
    /// address part by its name): two namesakes in one street or postcode are two people,
    /// and a household's name and address agreeing together is the dependence the
    /// address's parts must show. Found once per estimate, not per random pair.
    fn own_fact_fields(&self, names: &[usize]) -> Vec<bool> {
        (0..self.fields.len())
            .map(|f| {
                !names.contains(&f)
                    && self.group_of(f).is_none()
                    && !crate::engine::lexicon::concept(&self.fields[f].name)
                        .is_some_and(|c| crate::engine::lexicon::ADDRESS.contains(&c))
            })
            .collect()
    }

    /// The fields of an entity's name as a person's is told: the given names, surnames
    /// and whole names among the name fields (not a patent's title beside its inventor's
    /// name, which names the patent), else every name field.
    fn whole_name_fields(&self) -> Vec<usize> {
        let person = |f: &usize| {
            self.fields.get(*f).is_some_and(|s| {
                s.person_name
                    || matches!(
                        crate::engine::lexicon::concept(&s.name),
                        Some("given_name" | "surname" | "middle_name")
                    )
            }) || self
                .individual
                .iter()
                .any(|x| x.0 == *f && x.1 == crate::engine::local::IndividualKind::Given)
        };
        let people: Vec<usize> = self.names.iter().copied().filter(person).collect();
        if people.is_empty() {
            self.names.clone()
        } else {
            people
        }
    }

    /// Adds to [`Self::groups`] the `pairs` of fields the data shows to change together
    /// ([`Self::estimate_u`]): among random pairs, one field's agreement comes with the
    /// other's ([`DEPENDENT_SHARE`] of the time, and [`DEPENDENT_LIFT`] times as often as
    /// chance would have it). A town's latitude and longitude, a location's code:
    /// whatever the columns are called, a move changes them all at once, and counted
    /// apart three disagreements took an inventor who moved out of his own cluster
    /// (mentions with their city's coordinates: F1 0.90). Groups sharing a field merge.
    fn group_dependent_fields(&mut self, pairs: Vec<(usize, usize)>) {
        let n = self.u.len().max(self.fields.len());
        // the last estimate's, always: an estimate that finds none leaves none behind
        self.tight = clusters(n, pairs.iter().copied());
        if pairs.is_empty() {
            return;
        }
        let known = self
            .groups
            .iter()
            .flat_map(|g| g.windows(2).map(|w| (w[0], w[1])))
            .collect::<Vec<_>>();
        self.groups = clusters(n, known.into_iter().chain(pairs));
    }

    /// Estimates m (and λ) by EM over the candidate comparison vectors, u kept fixed.
    /// Returns whether EM found a match class (false: no candidate qualified, there were
    /// none, or no iteration was asked for, and the prior m is kept).
    pub fn estimate_m<'a>(
        &mut self,
        vectors: impl IntoIterator<Item = &'a [u8]>,
        iterations: usize,
        lambda_max: f64,
    ) -> bool {
        let lambda_max = lambda_max.clamp(1e-6, 0.999);
        self.lambda = self.lambda.min(lambda_max / 2.0);
        let pats = pattern_counts(vectors);
        if pats.is_empty() {
            return false;
        }
        let nf = self.fields.len();
        let start = (self.m.clone(), self.lambda);
        let (idle, chance) = (self.idle_fields(), self.chance_fields());
        let (mut converged, mut empty) = (false, false);
        for it in 0..iterations {
            let mut mc = vec![[0.5f64; LEVELS]; nf];
            let mut tot_g = 0.0;
            let mut tot = 0.0;
            let mut delta = 0.0;
            for (v, c) in &pats {
                // classification EM: a pair belongs to the match class or not; soft
                // memberships let thousands of weakly similar pairs (same city, same
                // street) drag the match class away from the true matches
                let g = if self.joins_match_class(v, &idle, &chance) {
                    1.0
                } else {
                    0.0
                };
                tot_g += g * c;
                tot += c;
                for (f, &l) in v.iter().enumerate() {
                    if l != MISSING {
                        mc[f][l as usize] += g * c;
                    }
                }
            }
            for (f, c) in mc.into_iter().enumerate() {
                let mut p = c;
                normalize_probs(&mut p);
                delta += p
                    .iter()
                    .zip(&self.m[f])
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>();
                self.m[f] = p;
            }
            let lambda = (tot_g / tot).clamp(1e-6, lambda_max);
            delta += (lambda - self.lambda).abs();
            self.lambda = lambda;
            self.iterations = it + 1;
            empty = tot_g == 0.0;
            if empty || delta < 1e-5 {
                converged = !empty;
                break;
            }
        }
        self.em_note = if empty {
            // m of an empty class would be the pseudo-counts alone (every level alike):
            // the safe estimate is the prior
            (self.m, self.lambda) = start;
            Some(format!(
                "no candidate pair agreed on most fields after {} iteration(s): prior m kept",
                self.iterations
            ))
        } else if !converged && iterations > 0 {
            Some(format!(
                "not converged after {} iterations: the last estimate kept",
                self.iterations
            ))
        } else {
            None
        };
        !empty && iterations > 0
    }

    /// Lowers the prior of a file with more than [`CALIBRATED_PAIRS_PER_CANDIDATE`] pairs
    /// (`all_pairs`: every pair a dedup or link could compare) per candidate pair, by the
    /// excess. EM's prior is the share of matches among the candidates, while u is read
    /// off random pairs: a pattern blocking always proposes (one birth date, one name) is
    /// over-weighed by the pairs per candidate, which grows with the file, since chance
    /// coincidences grow with the square of the records and matches with the records. A
    /// census of 6,000 people deduplicated 0.98; at 60,000, two strangers of one given
    /// name and birth date in another town, surname differing, matched (F1 0.88; 0.93
    /// lowered). The textbook prior (matches over all pairs) would move every dev file
    /// by 7 to 10 bits off what the rest of the engine is calibrated on.
    pub fn scale_prior(&mut self, all_pairs: f64, candidates: f64) {
        let per_candidate = all_pairs / candidates.max(1.0);
        if per_candidate > CALIBRATED_PAIRS_PER_CANDIDATE {
            let before = self.lambda;
            self.lambda =
                (before * CALIBRATED_PAIRS_PER_CANDIDATE / per_candidate).max(f64::MIN_POSITIVE);
            self.prior_note = Some(format!(
                "lowered from {before:.3e} to {:.3e}: {per_candidate:.0} pairs of the input per candidate pair, calibrated up to {CALIBRATED_PAIRS_PER_CANDIDATE:.0}",
                self.lambda
            ));
        } else {
            self.prior_note = None;
        }
    }

    /// Estimates m again for each field that is neither a name nor an individual field,
    /// on the candidate pairs the match class takes on the *other* fields
    /// ([`Self::estimate_m`]'s test with the field left out). For a link of two sources of
    /// things, not people (`linkage::fit` decides): each source writes its own
    /// description and sets its own price, and EM's class, taken from pairs that agree on
    /// most fields, holds only the matches whose descriptions happen to agree: it learnt
    /// that a match's description differs one time in nine (-3.1 bits) where three in four
    /// do, and missed 393 of 1,097 Abt-Buy matches whose titles agreed (F1 0.53 -> 0.82).
    /// λ is left as EM found it: the prior stays that of EM's (smaller) class.
    /// Fields with fewer than 20 such pairs keep their estimate.
    pub fn estimate_m_apart<'a>(&mut self, vectors: impl IntoIterator<Item = &'a [u8]>) {
        let patterns = pattern_counts(vectors);
        let (idle, chance) = (self.idle_fields(), self.chance_fields());
        let mut w: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        for f in 0..self.fields.len() {
            if self.names.contains(&f) || self.individual.iter().any(|x| x.0 == f) {
                continue;
            }
            let mut mc = [0.5f64; LEVELS];
            let mut n = 0.0;
            for (v, c) in &patterns {
                let Some(&l) = v.get(f) else { continue };
                if l == MISSING {
                    continue;
                }
                w.clear();
                w.extend_from_slice(v);
                w[f] = MISSING;
                if self.joins_match_class(&w, &idle, &chance) {
                    mc[l as usize] += c;
                    n += c;
                }
            }
            if n >= APART_MIN_PAIRS {
                normalize_probs(&mut mc);
                out.push((f, mc));
            }
        }
        self.apart.clear();
        for (f, p) in out {
            self.m[f] = p;
            if let Some(spec) = self.fields.get(f) {
                self.apart.push(spec.name.clone());
            }
        }
    }

    /// Whether the pattern `v` joins EM's match class ([`Self::estimate_m`]): only pairs
    /// that agree on most of their known fields may (duplicates agree on most
    /// attributes, while blocking fills the candidates with pairs that share only a
    /// location: postcode, suburb, state, a class EM otherwise drifts to within a few
    /// iterations), whose individual fields do not conflict, whose name is not the only
    /// agreement, and which the current model takes for a match.
    fn joins_match_class(&self, v: &[u8], idle: &[bool], chance: &[bool]) -> bool {
        self.agrees_enough_for_match_class(v, idle)
            && !crate::engine::local::NameFields::pattern_conflict(&self.individual, v)
            && !self.thin_despite_name(v, idle, chance)
            && self.probability(v) >= 0.5
    }

    /// [`mostly_agree_grouped`], or half the known units agreeing and the rest alike at the
    /// weak level (3), no name among them: the test for joining the EM's match class. A
    /// file of a whole name and a birth date has two fields, and a duplicate whose year
    /// was mistyped (`1979` / `1980`) agrees on one of two: with "more than half" alone no
    /// such pair ever joined the class, EM gave the weak date level the floor m, and every
    /// such duplicate was missed (the stress register with whole names: 57 of 1,000),
    /// while the same rows with the name in two columns (two of three agreeing) learnt it.
    /// A name alike only weakly is another person's (`brown` / `brookdorwood`, see
    /// [`Self::thin_despite_name`]), so it never takes that way in.
    fn agrees_enough_for_match_class(&self, v: &[u8], idle: &[bool]) -> bool {
        let u = agreeing_units(v, &self.groups, idle, self.ages_read_off(v), None);
        u.known > 0
            && (2 * u.agree > u.known
                || (2 * u.agree == u.known
                    && u.agree + u.weak == u.known
                    && !self.name_at_or_beyond(v, 3)))
    }

    /// The fields that agree exactly between so many random pairs ([`IDLE_U`]) that
    /// agreeing says nothing of two records being one: a sex, a yes/no flag. They are no
    /// unit of the test for EM's match class ([`agreeing_units`]): counted, two namesakes
    /// of one given name born a month apart (and of one sex, as half of all pairs are)
    /// agreed on three fields of four, and with such pairs in the match class EM learnt
    /// that one match in ten has another surname (a register of names, birth dates and a
    /// sex column, person-names-dob-pop-titled: F1 0.9379 -> 0.9945). Their weights are
    /// estimated as any field's. A name or an individual field (a birth date, an identity
    /// number) is never idle: it agrees that often only where one entity holds half the
    /// file.
    fn idle_fields(&self) -> Vec<bool> {
        self.agreeing_by_chance(IDLE_U)
    }

    /// Per field, whether it agrees exactly between a share `at_least` of random pairs or
    /// more, being no name and no individual field.
    fn agreeing_by_chance(&self, at_least: f64) -> Vec<bool> {
        self.u
            .iter()
            .enumerate()
            .map(|(f, u)| {
                u[0] >= at_least
                    && !self.names.contains(&f)
                    && !self.individual.iter().any(|x| x.0 == f)
            })
            .collect()
    }

    /// The fields that agree between one random pair in [`CHANCE_U`] or more (a middle
    /// initial, a state) besides the [`Self::idle_fields`]: in a file of people, where a
    /// birth date is known on both sides, they are no agreeing unit of
    /// [`Self::thin_despite_name`]. Two strangers of one given name
    /// and middle initial born in one month agreed on three units where the surname
    /// differed, and a census with 1.3% of its people counted again at another address
    /// learnt that a match's surname differs one time in eight (F1 0.85).
    fn chance_fields(&self) -> Vec<bool> {
        self.agreeing_by_chance(CHANCE_U)
    }

    /// Whether a name field of `v` is known and at `level` or weaker.
    fn name_at_or_beyond(&self, v: &[u8], level: u8) -> bool {
        self.names
            .iter()
            .any(|&f| v.get(f).is_some_and(|&l| l != MISSING && l >= level))
    }

    /// Whether a name field of `v` disagrees (outright; in a file of people, at the weak
    /// level too) while fewer than three fields agree (level ≤ 2), in a file of people an
    /// address told in several columns counting as one ([`agreeing_units`]: two people of one given name
    /// in one town agree on its name, state and postcode, one fact; counted as three, a
    /// census-to-tax-form link without birth dates learnt that a match's surname differs
    /// one time in five). Two people of one common first name born a few days apart agree
    /// on two of three fields in a file of names and birth dates only; with such pairs in
    /// the match class, EM learnt that a match's surname differs four times in ten and
    /// merged them all. A surname changed at marriage still joins it when the birth date
    /// and more (an address, a phone) agree. The weak level counted as agreement for
    /// people let namesakes of one given name whose surnames share a prefix (`brown` /
    /// `brookdorwood`) and whose birth dates are a digit apart into the class: EM learnt
    /// that weak level as neutral (−0.35 bits instead of −5.4) and merged them.
    fn thin_despite_name(&self, v: &[u8], idle: &[bool], chance: &[bool]) -> bool {
        // a person's name a typo away stays within Jaro-Winkler 0.85 (level 2): the weak
        // level of a short name is another name (`brown` / `brookdorwood`), of a product
        // title often the same title written otherwise
        let person = crate::engine::local::of_people(&self.individual);
        let out = if person { LEVELS - 2 } else { LEVELS - 1 } as u8;
        let name_out = self.name_at_or_beyond(v, out);
        // of people: an address told in several columns is one agreeing field; a firm's
        // name written otherwise (`IBM`) at its address and phone is still the firm
        // (org-dedup, grouped too: F1 -0.0006, another draw -0.0026)
        let groups: &[Vec<usize>] = if person { &self.groups } else { &[] };
        // where a birth date is known on both sides, a field that agrees by chance adds
        // no unit (without one, a middle initial is a third of what a register of names
        // and an address has: the tax forms without birth dates, F1 -0.005)
        let idle = if person && self.births_known(v).next().is_some() {
            chance
        } else {
            idle
        };
        // an address agrees as far as its street does: two strangers of one given name and
        // birth date in one state of a census of 60,000 agreed on three units of four, and
        // EM learnt that one match in eleven has another surname (F1 0.77; 0.98 at 6,000
        // people). In the test for the class itself a town still speaks for its address:
        // an inventor's mentions in two towns of one state, or a town and its location id
        // written apart, are the moves EM must see (the patent-office export, F1 -0.002)
        let agreeing = agreeing_units(v, groups, idle, self.ages_read_off(v), Some(&self.u)).agree;
        name_out && agreeing < 3
    }

    /// Refines m and u with labelled comparison vectors (EaK): counts are added to the
    /// estimates with the weight of `strength` pseudo-pairs each, the estimates weighing
    /// as 10 pairs each (a few nearest examples steer one decision: the `[examples]` vote).
    pub fn refine(&mut self, labelled: &[(Vec<u8>, bool)], strength: f64) {
        self.refine_against(labelled, strength, 10.0, 10.0);
    }

    /// [`Self::refine`], the m estimates weighing as `m_pairs` pairs and the u estimates as
    /// `u_pairs`: as many as they rest on, so that a handful of hand-picked pairs moves a
    /// fit over thousands in proportion (see `linkage::fit`).
    pub fn refine_against(
        &mut self,
        labelled: &[(Vec<u8>, bool)],
        strength: f64,
        m_pairs: f64,
        u_pairs: f64,
    ) {
        if labelled.is_empty() {
            return;
        }
        for f in 0..self.fields.len() {
            let mut m = self.m[f].map(|x| x * m_pairs);
            let mut u = self.u[f].map(|x| x * u_pairs);
            for (v, is_match) in labelled {
                let Some(&l) = v.get(f) else { continue };
                if l == MISSING {
                    continue;
                }
                if *is_match {
                    m[l as usize] += strength;
                } else {
                    u[l as usize] += strength;
                }
            }
            normalize_probs(&mut m);
            normalize_probs(&mut u);
            self.m[f] = m;
            self.u[f] = u;
        }
    }
}
