//! The Fellegi–Sunter model: u by sampling random pairs, m by classification EM over
//! the candidates, groups of dependent fields (an address told in several columns counts
//! once), and the weight of a comparison vector. Apart from the levels ([`super::compare`]),
//! which are a pure function of two values.

use serde::{Deserialize, Serialize};

use super::*;
use crate::engine::cluster::clusters;

/// Least weight (bits) of a group member's agreement for the group to count as not
/// changed ([`FsModel::correct_groups`]): a country shared by 80% of the records weighs
/// nothing, and its agreement kept every move of an inventor counted four times.
const GROUP_AGREES: f64 = 1.0;

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

/// Fellegi–Sunter model: per field and level, m = P(level | match), u = P(level | non-match).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FsModel {
    pub fields: Vec<FieldSpec>,
    pub m: Vec<[f64; LEVELS]>,
    pub u: Vec<[f64; LEVELS]>,
    /// Prior probability that a candidate pair matches.
    pub lambda: f64,
    /// EM iterations run (0: priors only).
    pub iterations: usize,
    /// Joint probability that two fields both agree exactly in a random pair (where both
    /// are known), `[f][g]`; empty: fields treated as independent. See [`Self::field_weights`].
    #[serde(default)]
    pub u_pair: Vec<Vec<f64>>,
    /// Individual fields (`local::NameFields::individual`): a pattern where they conflict
    /// never joins the match class while m is estimated (household members agree on
    /// every shared field and would teach the model that a different given name or
    /// birth date is common among duplicates).
    #[serde(default)]
    pub individual: Vec<(usize, crate::engine::local::IndividualKind)>,
    /// Fields that change together (the parts of an address: a move changes them all).
    /// A group disagreeing throughout counts as one disagreement, its strongest; in the
    /// EM's "agrees on most fields" test a group is one unit.
    #[serde(default)]
    pub groups: Vec<Vec<usize>>,
    /// Of those, the fields the data shows to be one fact written several ways (a town,
    /// its coordinates and its code: [`Self::group_dependent_fields`]). A tight group
    /// disagreeing throughout counts its strongest disagreement alone.
    #[serde(default)]
    pub tight: Vec<Vec<usize>>,
    /// The name fields ([`crate::engine::local::NameFields::names`]): in the EM, a pair whose
    /// name disagrees outright joins the match class only on three agreeing fields.
    #[serde(default)]
    pub names: Vec<usize>,
    /// How the EM ended when it did not end well: `None` when it converged (or was not
    /// run). When no candidate pair qualified for the match class the prior m is kept;
    /// when the estimates still moved after every iteration, the last one is kept.
    #[serde(default)]
    pub em_note: Option<String>,
    /// The columns left out of the comparison as unrelated to identity
    /// ([`super::relevance`]).
    #[serde(default)]
    pub unrelated: Vec<String>,
    /// The fields whose m [`Self::estimate_m_apart`] estimated on the matches the other
    /// fields find.
    #[serde(default)]
    pub apart: Vec<String>,
    /// The fields holding the record's own age ([`ages_of`]): the birth date read on the day
    /// the record was made ([`Self::correct_ages`]).
    #[serde(default)]
    pub ages: Vec<usize>,
    /// The candidates hold households ([`Self::estimate_households`]): two given names
    /// that differ outright, each a name the file holds, are two people's even where the
    /// birth date and address, or an identity number, agree
    /// ([`crate::engine::local::NameFields`]).
    #[serde(default)]
    pub households: bool,
}

/// The numeric fields named as the record's own age (`age`, `age_years`; not a
/// `spouse_age`).
pub fn ages_of(fields: &[FieldSpec]) -> Vec<usize> {
    fields
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.kind == FieldKind::Number
                && !f.other_party
                && crate::engine::lexicon::concept(&f.name) == Some("age")
        })
        .map(|(i, _)| i)
        .collect()
}

const M_PRIOR: [f64; LEVELS] = [0.80, 0.10, 0.05, 0.03, 0.02];
const U_PRIOR: [f64; LEVELS] = [0.02, 0.02, 0.05, 0.11, 0.80];
const FLOOR: f64 = 1e-4;

/// Least share of duplicates whose dates (or given names) disagree outright, as m of the
/// field's last level in [`FsModel::level_weight`]: one in a hundred (-6.6 bits at
/// u = 0.96, where the estimate alone gave -12.6 and one bad date overruled a whole
/// agreeing address). Dates: person-link F1 0.9298 → 0.9331 (0.003 and 0.03 did no
/// better); given names: 0.9526 → 0.9550; nothing else moved.
const DATE_TYPO_RATE: f64 = 0.01;

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
    let u = agreeing_units(v, groups, &[], &[]);
    u.known > 0 && 2 * u.agree > u.known
}

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
fn agreeing_units(v: &[u8], groups: &[Vec<usize>], idle: &[bool], read_off: &[usize]) -> Units {
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
        count(
            g.iter()
                .filter_map(|&f| v.get(f).copied())
                .filter(|&l| l != MISSING)
                .min(),
        );
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
        for v in pairs.vectors() {
            if matched(v) {
                continue;
            }
            // a random pair that agrees on most fields is likely a duplicate: it would make
            // every two identifying fields look correlated
            // unless their given names differ outright and nothing individual agrees
            // (two of a household: certainly two people, and what they share is shared by
            // non-matches; left out, a surname, street and number agreeing together counted
            // three times and matched a census row to a relative's tax form)
            let joint = !mostly_agree_grouped(v, &groups) || conflict.test(v);
            for (f, &l) in v.iter().enumerate() {
                if l == MISSING {
                    continue;
                }
                counts[f][l as usize] += 1.0;
                if !joint {
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
        for (f, c) in counts.into_iter().enumerate() {
            let mut p = c;
            normalize_probs(&mut p);
            self.u[f] = p;
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
        let u = agreeing_units(v, &self.groups, idle, self.ages_read_off(v));
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
        let agreeing = agreeing_units(v, groups, idle, self.ages_read_off(v)).agree;
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

    /// The match weight (log2 m/u) of level `l` of field `f`, kept sensible whatever EM
    /// estimated: a level never weighs more than a closer one, agreement (levels 0-2)
    /// never counts against a match and full disagreement never for one. When an agreeing
    /// level is all but absent among matches (exact agreement on a title written two ways
    /// by two sources, on a date known only to the month on one side), its own estimate
    /// rests on nothing: it weighs as the best agreeing level below it and never caps them. On data unlike any seen, EM can give m < u for an agreeing level; taken as
    /// it is, such a weight would make agreement evidence of a non-match.
    pub fn level_weight(&self, f: usize, l: usize) -> f64 {
        let (Some(m), Some(u)) = (self.m.get(f), self.u.get(f)) else {
            return 0.0;
        };
        let l = l.min(LEVELS - 1);
        let mut w = [0.0f64; LEVELS];
        for (k, x) in w.iter_mut().enumerate() {
            *x = (m[k] / u[k]).log2();
        }
        if m[0] < 0.01 {
            w[0] = w[0].max(w[1]).max(w[2]);
        }
        // Disagreeing levels are capped by every level above them as estimated.
        let raw = w;
        for k in 1..LEVELS {
            w[k] = w[k].min(w[k - 1]);
        }
        // An agreeing level all but absent among matches rests on nothing (exact agreement
        // with a partial date on one side, a close level a value's form never reaches): it
        // does not cap the supported agreeing levels below it, and weighs at least as much
        // as they do.
        let supported = |k: usize| m[k] >= 0.01;
        for k in 1..=2 {
            if supported(k) {
                let cap = (0..k)
                    .filter(|&j| supported(j))
                    .map(|j| raw[j])
                    .fold(f64::INFINITY, f64::min);
                w[k] = raw[k].min(cap);
            }
        }
        if !supported(1) {
            w[1] = w[1].max(w[2]);
        }
        // where the matches never agree closer than level 3, it is how the two sides
        // write one value (a middle initial against the whole middle name: `m` /
        // `marie`; ages read a decade apart), and the levels above, resting on nothing,
        // cap nothing: level 3 and 4 weigh as estimated (capped by level 3 the ages of a
        // census and a survey ten years later, disagreeing for two matches in three,
        // weighed -7.6 bits against each), and a closer agreement no less than level 3
        // (capping more widely, by every level the matches reach, cost person-split 0.008
        // and person-link 0.004)
        if (0..3).all(|k| !supported(k)) && supported(3) {
            w[3] = raw[3];
            w[4] = raw[4].min(w[3]);
            for k in 0..3 {
                w[k] = w[k].max(w[3]);
            }
        }
        let mut out = w[l];
        if l == LEVELS - 1
            && self
                .fields
                .get(f)
                .is_some_and(|s| s.kind == FieldKind::Date || s.nicknames)
        {
            // a date mistyped beyond a digit (a year off by ten, a day and month
            // both wrong), a given name garbled or replaced by a short form no list
            // knows, happen among duplicates; the EM cannot see them, since a pattern
            // whose individual fields conflict never joins its match class
            out = out.max((DATE_TYPO_RATE / u[l]).log2());
        }
        if l <= 2 {
            out = out.max(0.0);
        }
        if l == LEVELS - 1 {
            out = out.min(0.0);
        }
        out
    }

    pub fn field_weights(&self, v: &[u8]) -> Vec<f64> {
        self.corrected_weights(v, |f, l| {
            if f < self.m.len() {
                self.level_weight(f, l)
            } else {
                0.0
            }
        })
    }

    /// Per-field weights of `v` from `level(field, level)` (missing levels weigh 0), with
    /// the dependence and group corrections applied.
    fn corrected_weights(&self, v: &[u8], level: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let mut w: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(f, &l)| {
                if l == MISSING {
                    0.0
                } else {
                    level(f, (l as usize).min(LEVELS - 1))
                }
            })
            .collect();
        self.correct_dependence(v, &mut w);
        self.correct_groups(v, &mut w);
        self.correct_ages(v, &mut w);
        w
    }

    /// The birth-date fields known on both sides in `v`.
    pub fn births_known<'v>(&'v self, v: &'v [u8]) -> impl Iterator<Item = usize> + 'v {
        crate::engine::local::births_known(&self.individual, v)
    }

    /// The age fields of `v` read off a birth date known on both sides: no unit of the
    /// test for EM's match class ([`agreeing_units`]), as [`Self::correct_ages`] does not
    /// count them twice in the weight. Counted, two strangers of one common given name
    /// born in one month agreed on three units of five where the middle initial was
    /// missing (given name, birth date, age), and a census with 1% duplicates, each
    /// counted again at another address, learnt that a match's surname differs one time
    /// in two (F1 0.54).
    fn ages_read_off(&self, v: &[u8]) -> &[usize] {
        if self.births_known(v).next().is_some() {
            &self.ages
        } else {
            &[]
        }
    }

    /// An age is the birth date read on the day the record was made: one fact written
    /// twice. Where both records give a birth date that agrees (weighs for a match), the
    /// two count as the stronger of them, not their sum: summed, two strangers of one
    /// given name born the same month matched in a census with few duplicates (F1 0.51
    /// at 3% duplicates), while a date known to the year alone on one side still leaves
    /// the age its say. An age that disagrees beside a date that agrees says nothing (a
    /// census day and a tax year a year apart, an age misreported). Beside a date that
    /// disagrees the age is a second report and counts in full: agreeing, the date was
    /// likely mistyped; disagreeing, the two were born apart (two of a household of one
    /// given name).
    fn correct_ages(&self, v: &[u8], w: &mut [f64]) {
        if self.ages.is_empty() {
            return;
        }
        let birth = self
            .births_known(v)
            .filter_map(|f| w.get(f).copied())
            .reduce(f64::max);
        let Some(birth) = birth.filter(|&b| b > 0.0) else {
            // an age against the other side's birth date read as one: differing, it is
            // the birth dates' disagreement again, counted once
            if birth.is_some() {
                for &a in &self.ages {
                    if self.fields.get(a).is_some_and(|f| f.birth_read) {
                        w[a] = w[a].max(0.0);
                    }
                }
            }
            return;
        };
        for &a in &self.ages {
            if a < w.len() {
                w[a] = (w[a] - birth).max(0.0);
            }
        }
    }

    /// Every field's [`Self::level_weight`]s, for the hot paths that weigh millions of
    /// vectors with one model ([`Self::weight_with`]).
    pub fn weights_table(&self) -> Vec<[f64; LEVELS]> {
        (0..self.m.len())
            .map(|f| std::array::from_fn(|l| self.level_weight(f, l)))
            .collect()
    }

    /// [`Self::weight`] with the level weights read from `table` ([`Self::weights_table`]).
    pub fn weight_with(&self, table: &[[f64; LEVELS]], v: &[u8]) -> f64 {
        self.weight_from(&self.field_weights_with(table, v))
    }

    /// [`Self::field_weights`] with the level weights read from `table`.
    pub fn field_weights_with(&self, table: &[[f64; LEVELS]], v: &[u8]) -> Vec<f64> {
        self.corrected_weights(v, |f, l| table.get(f).map_or(0.0, |t| t[l]))
    }

    /// The prior's log odds (bits): what a pair weighs before any field is compared.
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// The match weight of a pair whose field weights are `w`: the prior's log odds added.
    pub fn weight_from(&self, w: &[f64]) -> f64 {
        self.prior_weight() + w.iter().sum::<f64>()
    }

    /// The group of dependent fields ([`Self::groups`], two or more) that holds field `f`.
    pub fn group_of(&self, f: usize) -> Option<&[usize]> {
        self.groups
            .iter()
            .find(|g| g.len() >= 2 && g.contains(&f))
            .map(Vec::as_slice)
    }

    /// A group disagreeing throughout (no member agrees, two or more known) keeps its
    /// strongest disagreement and a sixth of the others: moving house changes the street,
    /// the number, the town and the postcode at once, one event rather than four.
    fn correct_groups(&self, v: &[u8], w: &mut [f64]) {
        // one fact written several ways first: its strongest disagreement alone
        for g in &self.tight {
            if let Some(worst) = self.disagreeing_throughout(g, v, w) {
                for &f in g {
                    if f != worst && f < w.len() && v[f] != MISSING && w[f] < 0.0 {
                        w[f] = 0.0;
                    }
                }
            }
        }
        for g in &self.groups {
            let Some(worst) = self.disagreeing_throughout(g, v, w) else {
                continue;
            };
            // the rest keep a sixth of their weight: a move is one event, but a
            // stranger's address differs in every part too
            for &f in g {
                if f != worst && f < w.len() && v[f] != MISSING && w[f] < 0.0 {
                    w[f] /= 6.0;
                }
            }
        }
    }

    /// The member of group `g` with the strongest disagreement, when two or more members
    /// are known and none agrees. A member agreeing by itself says the group did not
    /// change, unless that agreement says next to nothing (a country most records share:
    /// [`GROUP_AGREES`]).
    fn disagreeing_throughout(&self, g: &[usize], v: &[u8], w: &[f64]) -> Option<usize> {
        let known: Vec<usize> = g
            .iter()
            .copied()
            .filter(|&f| v.get(f).is_some_and(|&l| l != MISSING) && f < w.len())
            .collect();
        if known.len() < 2 || known.iter().any(|&f| v[f] <= 2 && w[f] > GROUP_AGREES) {
            return None;
        }
        known.into_iter().min_by(|&x, &y| w[x].total_cmp(&w[y]))
    }

    fn correct_dependence(&self, v: &[u8], w: &mut [f64]) {
        let n = self.u_pair.len().min(v.len()).min(self.u.len());
        // exact or close (a typo of the same suburb goes with its postcode just as well)
        let mut agree: Vec<usize> = (0..n).filter(|&f| v[f] <= 2).collect();
        if agree.len() < 2 {
            return;
        }
        agree.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
        for k in 1..agree.len() {
            let f = agree[k];
            let lift = agree[..k]
                .iter()
                .map(|&g| self.u_pair[f][g] / (self.u[f][0] * self.u[g][0]))
                .fold(1.0f64, f64::max);
            if lift > 1.0 && w[f] > 0.0 {
                w[f] = (w[f] - lift.log2()).max(0.0);
            }
        }
    }

    /// Match weight: log2 prior odds + Σ field weights.
    pub fn weight(&self, v: &[u8]) -> f64 {
        self.weight_from(&self.field_weights(v))
    }

    /// Match probability of a comparison vector.
    pub fn probability(&self, v: &[u8]) -> f64 {
        1.0 / (1.0 + (-self.weight(v)).exp2())
    }

    /// Probability with the same λ but only the fields not in `skip`.
    pub fn probability_without(&self, v: &[u8], skip: &[usize]) -> f64 {
        1.0 / (1.0 + (-self.weight_without(v, skip)).exp2())
    }

    /// Match weight (log2 odds, prior included) from the fields not in `skip`.
    pub fn weight_without(&self, v: &[u8], skip: &[usize]) -> f64 {
        let prior = self.prior_weight();
        let w: f64 = self
            .field_weights(v)
            .iter()
            .enumerate()
            .filter(|(f, _)| !skip.contains(f))
            .map(|(_, w)| w)
            .sum();
        prior + w
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_records::{rec, text_fields};
    use super::super::*;
    use super::*;
    use crate::engine::Record;
    use serde_json::json;

    #[test]
    fn correlated_agreement_counts_once() {
        // suburb determines postcode: in random pairs they agree together; the personal
        // fields (name, dob, phone, email) are unique, so such pairs are no duplicates
        let fields = text_fields(&["name", "suburb", "postcode", "dob", "phone", "email"]);
        let places = [
            ("alpha", "x1000"),
            ("beta", "x2000"),
            ("gamma", "x3000"),
            ("delta", "x4000"),
        ];
        let recs: Vec<Record> = (0..200)
            .map(|i| {
                let (s, p) = places[i % 4];
                rec(
                    json!({"name": format!("person{i}"), "suburb": s, "postcode": p,
                    "dob": format!("d{}", i * 7), "phone": format!("p{}", i * 13),
                    "email": format!("e{}", i * 17)}),
                )
            })
            .collect();
        let prepared: Vec<Prepared> = recs.iter().map(|r| prepare(&fields, r)).collect();
        let mut m = FsModel::prior(fields);
        m.estimate_u(&prepared, &prepared, 5000, 7, true);
        let w = m.field_weights(&[4, 0, 0, 4, 4, 4]);
        let alone = m.field_weights(&[4, 0, 4, 4, 4, 4]);
        // suburb and postcode together add about what one of them adds alone
        assert!(w[1] + w[2] < alone[1] + 0.5, "{w:?} vs {alone:?}");
        assert!(w[1] + w[2] >= alone[1] - 0.5, "{w:?} vs {alone:?}");
        // without the joint estimate both would count in full
        let mut indep = m.clone();
        indep.u_pair.clear();
        let wi = indep.field_weights(&[4, 0, 0, 4, 4, 4]);
        assert!(wi[1] + wi[2] > w[1] + w[2] + 1.0, "{wi:?} vs {w:?}");
    }

    #[test]
    fn an_age_beside_a_birth_date_that_agrees_counts_as_one_fact() {
        let mut fields = text_fields(&["given", "age", "dob"]);
        fields[1].kind = FieldKind::Number;
        fields[2].kind = FieldKind::Date;
        let mut m = FsModel::prior(fields);
        assert_eq!(m.ages, vec![1]);
        m.individual = vec![
            (0, crate::engine::local::IndividualKind::Given),
            (2, crate::engine::local::IndividualKind::Birth),
        ];
        let w = |v: [u8; 3]| m.field_weights(&v);
        let (age, dob) = (w([MISSING, 0, MISSING])[1], w([MISSING, MISSING, 0])[2]);
        let (age_off, dob_off) = (w([MISSING, 4, MISSING])[1], w([MISSING, MISSING, 4])[2]);
        assert!(age > 0.0 && dob > 0.0 && age_off < 0.0 && dob_off < 0.0);
        // both agreeing: the stronger of the two, not their sum
        let both = w([MISSING, 0, 0]);
        assert!((both[1] + both[2] - age.max(dob)).abs() < 1e-9, "{both:?}");
        // an age apart beside a date that agrees: the date alone
        let apart = w([MISSING, 4, 0]);
        assert_eq!(apart[1], 0.0, "{apart:?}");
        assert!((apart[2] - dob).abs() < 1e-9, "{apart:?}");
        // beside a date that disagrees the age is a second report, either way
        let typo = w([MISSING, 0, 4]);
        assert!((typo[1] - age).abs() < 1e-9 && (typo[2] - dob_off).abs() < 1e-9);
        let born_apart = w([MISSING, 4, 4]);
        assert!((born_apart[1] - age_off).abs() < 1e-9, "{born_apart:?}");
        // no birth date known on both sides: the age in full
        assert!((w([0, 0, MISSING])[1] - age).abs() < 1e-9);
    }

    #[test]
    fn what_two_of_a_household_share_counts_once() {
        // households of three: one surname and one address, three given names
        let fields = text_fields(&["given", "surname", "street", "number"]);
        let recs: Vec<Prepared> = (0..600)
            .map(|i| {
                let h = i / 3;
                let r = rec(json!({"given": format!("g{}", (i * 7) % 97),
                    "surname": format!("s{h}"), "street": format!("st{}", h * 13 % 211),
                    "number": format!("{}", h % 50 + 1)}));
                prepare(&fields, &r)
            })
            .collect();
        let mut m = FsModel::prior(fields);
        m.individual = vec![(0, crate::engine::local::IndividualKind::Given)];
        m.estimate_u(&recs, &recs, 400_000, 3, true);
        // two of one household: their given names differ, the rest agrees; the surname
        // and the street number add next to nothing to the street (every pair sharing
        // a street shares the rest), where counted apart they added as much again
        let w = m.field_weights(&[4, 0, 0, 0]);
        let street = m.field_weights(&[4, 4, 0, 4])[2];
        assert!(w[1] + w[2] + w[3] < street + 1.0, "{w:?} vs {street}");
        let mut indep = m.clone();
        indep.u_pair.clear();
        let wi = indep.field_weights(&[4, 0, 0, 0]);
        assert!(wi[1] + wi[2] + wi[3] > street + 5.0, "{wi:?} vs {street}");
    }

    #[test]
    fn columns_that_change_together_are_found_by_their_values() {
        // a town and its coordinates, under names that say nothing of an address, and a
        // flag nearly every record shares
        let fields = text_fields(&["name", "c1", "c2", "c3", "flag", "dob", "phone", "mail"]);
        let recs: Vec<Prepared> = (0..2000)
            .map(|i| {
                let t = (i * 7) % 40;
                let r = rec(
                    json!({"name": format!("person{i}"), "c1": format!("town{t}"),
                    "c2": format!("{}.{}", 30 + t, t * 37 % 100),
                    "c3": format!("-{}.{}", 80 + t, t * 53 % 100),
                    "flag": if i % 10 == 0 { "n" } else { "y" },
                    "dob": format!("d{}", i * 7), "phone": format!("p{}", i * 13),
                    "mail": format!("e{}", i * 17)}),
                );
                prepare(&fields, &r)
            })
            .collect();
        let mut m = FsModel::prior(fields);
        m.estimate_u(&recs, &recs, 20_000, 3, true);
        assert_eq!(m.groups, vec![vec![1, 2, 3]]);
        assert_eq!(m.tight, m.groups);
        // a move disagrees on all three at once: one fact, one disagreement, even
        // beside a member whose agreement weighs nothing
        let moved = [0u8, 4, 4, 4, 0, 0, 0, 0];
        let w = m.field_weights(&moved);
        assert_eq!(w[1..4].iter().filter(|x| **x < 0.0).count(), 1, "{w:?}");
        let grouped = m.weight(&moved);
        m.tight = vec![vec![1, 2, 3, 4]];
        m.m[4] = m.u[4];
        assert!((m.weight(&moved) - grouped).abs() < 1e-9);
        // a group known by its names alone keeps a sixth of the other disagreements
        m.tight.clear();
        let named = m.weight(&moved);
        assert!(named < grouped - 0.5, "{named} vs {grouped}");
        m.groups.clear();
        assert!(m.weight(&moved) < named - 2.0);
    }

    #[test]
    fn random_pairs_taken_for_matches_are_left_out_of_u() {
        // four people with 100 records each among 400 strangers: one random pair in ten
        // is two records of one person, agreeing on both names
        let fields = text_fields(&["given", "surname", "town", "phone", "mail", "org"]);
        let recs: Vec<Prepared> = (0..800)
            .map(|i| {
                let (g, s) = if i < 400 {
                    (format!("g{}", i % 4), format!("s{}", i % 4))
                } else {
                    (format!("g{}", i % 37), format!("s{}", i % 41))
                };
                let r = rec(json!({"given": g, "surname": s, "town": format!("t{}", i * 7 % 50),
                    "phone": format!("p{i}"), "mail": format!("m{i}"), "org": format!("o{}", i % 9)}));
                prepare(&fields, &r)
            })
            .collect();
        let lift = |m: &FsModel| m.u_pair[0][1] / (m.u[0][0] * m.u[1][0]);
        let mut plain = FsModel::prior(fields.clone());
        plain.estimate_u(&recs, &recs, 20_000, 5, true);
        let mut without = FsModel::prior(fields);
        let pairs = RandomPairs::compare(&without.fields, &recs, &recs, 20_000, 5, true);
        without.estimate_u_from(&pairs, &|v| v[0] == 0 && v[1] == 0);
        assert!(lift(&plain) > 4.0, "{}", lift(&plain));
        assert!(lift(&without) < 1.5, "{}", lift(&without));
        assert!(without.u[1][0] < plain.u[1][0] / 2.0);
    }

    #[test]
    fn em_separates_matches_from_non_matches() {
        // 2 fields; 50 matching-looking patterns and 500 disagreeing ones.
        let fields = vec![
            FieldSpec::new("a", FieldKind::Text),
            FieldSpec::new("b", FieldKind::Text),
        ];
        let mut m = FsModel::prior(fields);
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for i in 0..50 {
            vs.push(vec![0, if i % 5 == 0 { 1 } else { 0 }]);
        }
        for i in 0..500 {
            vs.push(vec![4, if i % 10 == 0 { 0 } else { 4 }]);
        }
        m.estimate_m(vs.iter().map(Vec::as_slice), 50, 0.5);
        assert!(m.lambda > 0.05 && m.lambda < 0.2, "{}", m.lambda);
        assert!(m.probability(&[0, 0]) > 0.9);
        assert!(m.probability(&[4, 4]) < 0.01);
        m.refine(&[(vec![4, 0], true)], 5.0);
        assert!(m.m[0][4] > 0.0);
    }

    /// A file of names and birth dates only: namesakes born days apart (given name
    /// exact, date close, surname different) agree on two of three fields. Let into the
    /// match class, they teach EM that a match's surname differs outright; a name
    /// disagreeing outright needs three agreeing fields to join.
    #[test]
    fn em_keeps_namesakes_with_another_surname_out_of_the_match_class() {
        let fields = vec![
            FieldSpec::new("fname", FieldKind::Text),
            FieldSpec::new("lname", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
        ];
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            // duplicates with one error each: a surname typo, a date typo, a given-name typo
            vs.extend([vec![0, 1, 0], vec![0, 0, 1], vec![2, 0, 0]]);
        }
        vs.extend((0..400).map(|_| vec![0, 4, 1]));
        vs.extend((0..3000).map(|k| vec![4, 4, 3 + (k % 2) as u8]));
        let fit = |names: Vec<usize>| {
            let mut m = FsModel::prior(fields.clone());
            m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 3];
            m.names = names;
            m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
            m
        };
        let blind = fit(Vec::new());
        assert!(
            blind.m[1][4] > 0.2,
            "the failure guarded against: {:?}",
            blind.m[1]
        );
        let m = fit(vec![0, 1]);
        assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
        assert!(m.probability(&[0, 4, 1]) < 0.5);
        assert!(m.probability(&[0, 1, 0]) > 0.9);
    }

    /// Strangers of one given name born in one month, whose ages agree with it, in a
    /// census with few duplicates: the age read off the birth date is no unit of the test
    /// for the match class, or they agree on three of four and teach EM that a match's
    /// surname differs.
    /// A census of people with few duplicates (30 each with a surname typo, a mistyped
    /// birth date, a given-name typo), 200 strangers of one given name born in one month
    /// whose surnames differ, and 3,000 random pairs: given name, surname, birth date and
    /// `fourth`, which a duplicate with a mistyped date holds at `fourth_beside_typo`.
    fn namesakes_in_a_census(
        fourth: FieldSpec,
        fourth_beside_typo: u8,
    ) -> (Vec<FieldSpec>, Vec<Vec<u8>>) {
        let fields = vec![
            FieldSpec::new("fname", FieldKind::Text),
            FieldSpec::new("lname", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
            fourth,
        ];
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..30 {
            vs.extend([
                vec![0, 1, 0, 0],
                vec![0, 0, 1, fourth_beside_typo],
                vec![2, 0, 0, 0],
            ]);
        }
        vs.extend((0..200).map(|_| vec![0, 4, 1, 0]));
        vs.extend((0..3000).map(|k| vec![4, 4, 4, 3 + (k % 2) as u8]));
        (fields, vs)
    }

    /// EM on [`namesakes_in_a_census`] (names 0 and 1, a given name and a birth date as
    /// the individual fields), `setup` changing the model first.
    fn fit_namesakes(
        fields: &[FieldSpec],
        vs: &[Vec<u8>],
        setup: impl FnOnce(&mut FsModel),
    ) -> FsModel {
        let mut m = FsModel::prior(fields.to_vec());
        m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 4];
        m.names = vec![0, 1];
        m.individual = vec![
            (0, crate::engine::local::IndividualKind::Given),
            (2, crate::engine::local::IndividualKind::Birth),
        ];
        setup(&mut m);
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        m
    }

    #[test]
    fn an_age_beside_its_birth_date_does_not_carry_namesakes_into_the_match_class() {
        let (fields, vs) = namesakes_in_a_census(FieldSpec::new("age", FieldKind::Number), 0);
        let fit = |ages: Vec<usize>| fit_namesakes(&fields, &vs, |m| m.ages = ages);
        assert_eq!(ages_of(&fields), vec![3]);
        let counted = fit(Vec::new());
        assert!(
            counted.m[1][4] > 0.2,
            "the failure guarded against: {:?}",
            counted.m[1]
        );
        let m = fit(vec![3]);
        assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
        assert!(m.probability(&[0, 4, 1, 0]) < 0.5);
        assert!(m.probability(&[0, 1, 0, 0]) > 0.9);
    }

    /// Strangers of one given name and middle initial born in one month: the initial
    /// agrees between one random pair in twelve, and beside a birth date known on both
    /// sides it is no third agreeing unit that lets them into the match class.
    #[test]
    fn a_middle_initial_agreeing_by_chance_does_not_carry_namesakes_into_the_match_class() {
        let initial = FieldSpec::new("middle_initial", FieldKind::Text);
        let (fields, vs) = namesakes_in_a_census(initial, MISSING);
        let fit = |initial_by_chance: f64| {
            fit_namesakes(&fields, &vs, |m| {
                m.u[3] = [
                    initial_by_chance,
                    0.0001,
                    0.0001,
                    0.0001,
                    1.0 - initial_by_chance,
                ];
            })
        };
        // an initial that rarely agrees by chance is a unit: the failure guarded against
        let rare = fit(0.01);
        assert!(rare.m[1][4] > 0.2, "{:?}", rare.m[1]);
        let m = fit(0.08);
        assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
        assert!(m.probability(&[0, 4, 1, 0]) < 0.5);
    }

    /// The same file with a sex column, agreeing between half of all pairs: namesakes born
    /// days apart of one sex agree on three fields of four, which let them into the match
    /// class. The sex is idle in that test; its weights are still estimated.
    #[test]
    fn a_sex_agreeing_does_not_carry_namesakes_into_the_match_class() {
        let fields = vec![
            FieldSpec::new("fname", FieldKind::Text),
            FieldSpec::new("lname", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
            FieldSpec::new("sex", FieldKind::Text),
        ];
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            vs.extend([vec![0, 1, 0, 0], vec![0, 0, 1, 0], vec![2, 0, 0, 0]]);
        }
        for k in 0..400 {
            vs.push(vec![0, 4, 1, if k % 2 == 0 { 0 } else { 4 }]);
        }
        vs.extend((0..3000).map(|k| vec![4, 4, 3 + (k % 2) as u8, (k % 2) as u8 * 4]));
        let fit = |sex_u: [f64; LEVELS]| {
            let mut m = FsModel::prior(fields.clone());
            m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 3];
            m.u.push(sex_u);
            m.names = vec![0, 1];
            m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
            m
        };
        // the failure guarded against: were the sex as telling as a name, it would count
        let counted = fit([0.2, 0.0001, 0.0001, 0.0001, 0.7997]);
        assert!(counted.m[1][4] > 0.2, "{:?}", counted.m[1]);
        let m = fit([0.5, 0.0001, 0.0001, 0.0001, 0.4997]);
        assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
        assert!(m.probability(&[0, 4, 1, 0]) < 0.5);
        assert!(m.probability(&[0, 1, 0, 0]) > 0.9);
        assert!(
            m.m[3][0] > 0.9,
            "the sex's m is still estimated: {:?}",
            m.m[3]
        );
    }

    /// In a file of people, an address told in several columns is one agreeing field when
    /// a surname disagrees outright: two people of one given name in one town agree on the town, its state and
    /// its postcode, which are not three facts beside the given name. Counted as three,
    /// they joined the match class and EM learnt that a match's surname differs one time
    /// in five.
    #[test]
    fn em_counts_an_address_once_when_a_surname_differs() {
        let fields: Vec<FieldSpec> = ["fname", "lname", "street", "city", "state", "zip"]
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect();
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            // duplicates: as they are, with a surname typo, and moved with a given-name typo
            // (these stay out of the class either way: a move is learnt elsewhere)
            vs.extend([
                vec![0, 0, 0, 0, 0, 0],
                vec![0, 1, 0, 0, 0, 0],
                vec![2, 0, 4, 4, 4, 4],
            ]);
        }
        // two people of one given name in one town, on two streets
        vs.extend((0..400).map(|_| vec![0, 4, 4, 0, 0, 0]));
        vs.extend((0..3000).map(|k| vec![4, 4, 4, 3 + (k % 2) as u8, 4, 4]));
        let fit = |groups: Vec<Vec<usize>>| {
            let mut m = FsModel::prior(fields.clone());
            m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 6];
            m.names = vec![0, 1];
            m.individual = vec![(0, crate::engine::local::IndividualKind::Given)];
            m.groups = groups;
            m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
            m
        };
        let ungrouped = fit(Vec::new());
        assert!(
            ungrouped.m[1][4] > 0.2,
            "the failure guarded against: {:?}",
            ungrouped.m[1]
        );
        let m = fit(vec![vec![2, 3, 4, 5]]);
        assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
        assert!(m.probability(&[0, 4, 4, 0, 0, 0]) < 0.5);
        assert!(m.probability(&[0, 1, 0, 0, 0, 0]) > 0.9);
    }

    /// In a file of people, a surname at the weak level (Jaro-Winkler 0.7-0.85,
    /// `brown` / `brookdorwood`) is another surname, not a typo: namesakes of one given
    /// name born a digit apart stay out of the match class, while a product title at that
    /// level (written otherwise by another shop) still joins it.
    #[test]
    fn em_takes_a_weak_surname_for_another_person_but_not_a_weak_title() {
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            vs.extend([vec![0, 1, 0], vec![0, 0, 1], vec![2, 0, 0]]);
        }
        vs.extend((0..60).map(|_| vec![0, 3, 1]));
        vs.extend((0..3000).map(|k| vec![4, 4, 3 + (k % 2) as u8]));
        let fit = |fields: Vec<FieldSpec>| {
            let detected = crate::engine::local::NameFields::detect(&fields);
            let mut m = FsModel::prior(fields);
            m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 3];
            m.names = detected.names;
            m.individual = detected.individual;
            m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
            m
        };
        let people = fit(vec![
            FieldSpec::new("first_name", FieldKind::Text),
            FieldSpec::new("last_name", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
        ]);
        assert!(people.m[1][3] < 0.01, "surname m: {:?}", people.m[1]);
        assert!(
            people.level_weight(1, 3) < -3.0,
            "{}",
            people.level_weight(1, 3)
        );
        assert!(people.probability(&[0, 1, 0]) > 0.9);
        let products = fit(vec![
            FieldSpec::new("brand", FieldKind::Text),
            FieldSpec::new("title", FieldKind::Text),
            FieldSpec::new("model", FieldKind::Text),
        ]);
        assert!(products.m[1][3] > 0.1, "title m: {:?}", products.m[1]);
    }

    /// A file of a whole name and a birth date: a duplicate whose year was mistyped
    /// agrees on one field of two, the other alike at the weak level. It joins the match
    /// class, so that level weighs for a match; a weakly alike name with the date agreeing
    /// (a stranger born the same day) stays out.
    #[test]
    fn em_learns_a_weak_date_from_a_file_of_two_fields() {
        let mut vs: Vec<Vec<u8>> = Vec::new();
        vs.extend((0..70).map(|_| vec![1, 0]));
        vs.extend((0..20).map(|_| vec![1, 1]));
        vs.extend((0..10).map(|_| vec![0, 3]));
        vs.extend((0..40).map(|_| vec![3, 0]));
        vs.extend((0..3000).map(|k| vec![4, 3 + (k % 2) as u8]));
        let fields = vec![
            FieldSpec::new("name", FieldKind::Text),
            FieldSpec::new("birth_date", FieldKind::Date),
        ];
        let detected = crate::engine::local::NameFields::detect(&fields);
        assert_eq!(detected.names, vec![0]);
        let mut m = FsModel::prior(fields);
        m.u = vec![
            [0.0003, 0.0006, 0.0003, 0.0016, 0.9972],
            [0.0001, 0.001, 0.0001, 0.001, 0.9978],
        ];
        m.names = detected.names;
        m.individual = detected.individual;
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        assert!(m.m[1][3] > 0.05, "date m: {:?}", m.m[1]);
        assert!(m.level_weight(1, 3) > 1.0, "{}", m.level_weight(1, 3));
        assert!(m.m[0][3] < 0.01, "name m: {:?}", m.m[0]);
    }

    #[test]
    fn a_field_is_estimated_apart_on_the_matches_the_other_fields_find() {
        // two shops' listings: title, description, price. Of 400 matches the titles
        // agree; 100 descriptions agree (one shop copied the other's), 300 do not; the
        // prices are unknown; 4,000 strangers disagree throughout
        let fields = vec![
            FieldSpec::new("title", FieldKind::Text),
            FieldSpec::new("description", FieldKind::Text),
            FieldSpec::new("price", FieldKind::Number),
        ];
        let mut vs: Vec<Vec<u8>> = (0..100).map(|_| vec![0, 0, MISSING]).collect();
        vs.extend((0..300).map(|_| vec![0, 4, MISSING]));
        vs.extend((0..4000).map(|k| vec![4, 4, 3 + (k % 2) as u8]));
        let mut m = FsModel::prior(fields);
        m.names = vec![0];
        m.u = vec![[0.0002, 0.0002, 0.0002, 0.002, 0.9974]; 3];
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        // EM's class agrees on most known fields: the copied descriptions only
        assert!(m.m[1][4] < 0.05, "{:?}", m.m[1]);
        let before = m.level_weight(1, 4);
        m.estimate_m_apart(vs.iter().map(Vec::as_slice));
        // on the pairs the titles find: three descriptions in four differ
        assert!((m.m[1][4] - 0.75).abs() < 0.05, "{:?}", m.m[1]);
        assert!(m.level_weight(1, 4) > before + 2.0);
        assert_eq!(m.apart, vec!["description".to_string()]);
        // a name field is never estimated apart; a field known on too few pairs keeps
        // its estimate
        let title = m.m[0];
        let price = m.m[2];
        m.estimate_m_apart(vs.iter().map(Vec::as_slice));
        assert_eq!(m.m[0], title);
        assert_eq!(m.m[2], price);
    }

    #[test]
    fn em_with_no_pair_for_the_match_class_keeps_the_prior() {
        let fields = vec![
            FieldSpec::new("a", FieldKind::Text),
            FieldSpec::new("b", FieldKind::Text),
        ];
        let mut m = FsModel::prior(fields);
        let prior = m.m.clone();
        // every candidate disagrees on both fields: nothing to learn m from
        let vs: Vec<Vec<u8>> = (0..500).map(|i| vec![4, 3 + (i % 2) as u8]).collect();
        assert!(!m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5));
        assert_eq!(m.m, prior);
        assert!(
            m.em_note
                .as_deref()
                .is_some_and(|n| n.contains("prior m kept"))
        );
        assert!(m.probability(&[0, 0]) > 0.9, "agreement still counts");
        // a fit that converges leaves no note
        let mut ok = FsModel::prior(m.fields.clone());
        let mut vs: Vec<Vec<u8>> = (0..50).map(|_| vec![0, 0]).collect();
        vs.extend((0..500).map(|_| vec![4, 4]));
        assert!(ok.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5));
        assert_eq!(ok.em_note, None);
        assert!(!ok.estimate_m(vs.iter().map(Vec::as_slice), 0, 0.5));
    }

    #[test]
    fn em_does_not_drift_to_a_same_location_class() {
        // given, surname, dob, postcode, suburb, state: 300 duplicates (with typos and
        // swapped names) among 6000 candidates that share only a location, as blocking on
        // postcode/suburb produces them. The match class must stay the duplicates.
        let fields = text_fields(&["given", "surname", "dob", "postcode", "suburb", "state"]);
        let mut m = FsModel::prior(fields);
        // u as random pairs show it: names and dates rarely agree, postcode and suburb
        // in one case of 500, the state in one of four
        let rare = [0.001, 0.001, 0.002, 0.006, 0.99];
        let loc = [0.002, 0.0005, 0.0005, 0.002, 0.995];
        m.u = vec![
            rare,
            rare,
            rare,
            loc,
            loc,
            [0.25, 0.0001, 0.0001, 0.0001, 0.7497],
        ];
        let mut vs: Vec<Vec<u8>> = Vec::new();
        for i in 0..300u32 {
            let typo = |k: u32| {
                if (i + k).is_multiple_of(3) {
                    1 + (i % 3) as u8
                } else {
                    0
                }
            };
            let names = if i % 10 == 0 {
                [4, 4]
            } else {
                [typo(0), typo(1)]
            };
            vs.push(vec![
                names[0],
                names[1],
                typo(2),
                0,
                if i % 7 == 0 { 4 } else { 0 },
                0,
            ]);
        }
        for i in 0..6000u32 {
            let near = |k: u32| if (i + k).is_multiple_of(11) { 3 } else { 4 };
            vs.push(vec![
                near(0),
                near(1),
                near(2),
                0,
                if i % 2 == 0 { 0 } else { 4 },
                0,
            ]);
        }
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        assert!(
            m.m[0][0] > 0.4 && m.m[1][0] > 0.4,
            "names: {:?} {:?}",
            m.m[0],
            m.m[1]
        );
        assert!(m.probability(&[4, 4, 4, 0, 0, 0]) < 0.5, "{m:?}");
        assert!(m.probability(&[0, 1, 0, 0, 0, 0]) > 0.9, "{m:?}");
        assert!(m.lambda < 0.1, "{}", m.lambda);
        assert!(mostly_agree(&[0, 1, 2, 4, MISSING]));
        assert!(!mostly_agree(&[4, 4, 0, 0]));
        assert!(!mostly_agree(&[MISSING, MISSING]));
    }

    #[test]
    fn a_date_or_given_name_that_disagrees_outright_costs_a_typo_not_a_verdict() {
        let mut given = FieldSpec::new("first_name", FieldKind::Text);
        given.nicknames = true;
        let fields = vec![
            FieldSpec::new("dob", FieldKind::Date),
            FieldSpec::new("city", FieldKind::Text),
            given,
        ];
        let mut m = FsModel::prior(fields);
        // what the EM gives when conflicting dates and given names never join the match
        // class
        for f in 0..3 {
            m.m[f] = [0.7, 0.1, 0.1, 0.0999, 0.0001];
            m.u[f] = [0.01, 0.01, 0.01, 0.01, 0.96];
        }
        let date = m.level_weight(0, LEVELS - 1);
        let want = (DATE_TYPO_RATE / 0.96).log2();
        assert!((date - want).abs() < 1e-9, "{date} vs {want}");
        assert!((m.level_weight(2, LEVELS - 1) - want).abs() < 1e-9);
        // other kinds keep their estimate
        assert!(m.level_weight(1, LEVELS - 1) < date - 5.0);
    }

    #[test]
    fn level_weights_stay_sensible_and_address_parts_count_once() {
        let fields = text_fields(&["name", "street", "city", "zip"]);
        let mut m = FsModel::prior(fields);
        // EM gone wrong on field 0: exact agreement more common among non-matches
        m.m[0] = [0.01, 0.3, 0.3, 0.2, 0.19];
        m.u[0] = [0.05, 0.001, 0.01, 0.1, 0.839];
        assert!(
            m.level_weight(0, 0) >= m.level_weight(0, 1),
            "rare exact agreement"
        );
        assert!(m.level_weight(0, 2) >= 0.0);
        assert!(m.level_weight(0, 4) <= 0.0);
        for l in 1..LEVELS {
            assert!(
                m.level_weight(0, l) <= m.level_weight(0, l - 1) + 1e-12,
                "{l}"
            );
        }
        // a date known to the month on one side: exact and close agreement never happen,
        // year and month agreeing (level 2) is the evidence and keeps its own weight
        let saved = (m.m[1], m.u[1]);
        m.m[1] = [0.0002, 0.0002, 0.77, 0.03, 0.1996];
        m.u[1] = [0.0001, 0.0001, 0.0054, 0.0102, 0.9843];
        let w2 = m.level_weight(1, 2);
        assert!((w2 - (0.77f64 / 0.0054).log2()).abs() < 1e-9, "{w2}");
        for l in 1..LEVELS {
            assert!(
                m.level_weight(1, l) <= m.level_weight(1, l - 1) + 1e-12,
                "{l}"
            );
        }
        // a middle initial against the whole middle name (`m` / `marie`): the matches
        // agree at level 3 alone, and the levels above, never reached, cap it at nothing
        m.m[1] = [0.0002, 0.0002, 0.0002, 0.9876, 0.0118];
        m.u[1] = [0.0001, 0.0001, 0.0003, 0.148, 0.8515];
        let w3 = m.level_weight(1, 3);
        assert!((w3 - (0.9876f64 / 0.148).log2()).abs() < 1e-9, "{w3}");
        for l in 0..3 {
            assert!(
                m.level_weight(1, l) >= w3,
                "{l}: a closer agreement weighs less"
            );
        }
        // where a closer level is reached, level 3 stays below it
        m.m[1] = [0.5, 0.0002, 0.0002, 0.4876, 0.0118];
        assert!(m.level_weight(1, 3) <= m.level_weight(1, 2) + 1e-12);
        // ages ten years apart for most matches (a census and a survey a decade later):
        // disagreeing is how the matches look, and the unreached closer levels do not make
        // it a strong "no"
        m.m[1] = [0.0003, 0.0003, 0.0003, 0.3229, 0.6762];
        m.u[1] = [0.0095, 0.0001, 0.0509, 0.1316, 0.8079];
        let w4 = m.level_weight(1, 4);
        assert!((w4 - (0.6762f64 / 0.8079).log2()).abs() < 1e-9, "{w4}");
        (m.m[1], m.u[1]) = saved;
        // a move: street, city and zip disagree together and count as one disagreement
        let moved = [0u8, 4, 4, 4];
        let alone = m.weight(&moved);
        m.groups = vec![vec![1, 2, 3]];
        let grouped = m.weight(&moved);
        assert!(grouped > alone + 2.0, "{grouped} vs {alone}");
        let w = m.field_weights(&moved);
        let strongest = (1..4).map(|f| m.level_weight(f, 4)).fold(0.0, f64::min);
        assert_eq!(w.iter().filter(|x| **x == strongest).count(), 1, "{w:?}");
        // one part agreeing: no correction
        assert_eq!(m.field_weights(&[0, 0, 4, 4])[3], m.level_weight(3, 4));
        assert!(mostly_agree_grouped(&[0, 4, 4, 4], &m.groups) == mostly_agree(&[0, 4]));
    }
}
