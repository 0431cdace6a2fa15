//! Weights: each level's match weight kept sensible whatever EM estimated, the
//! corrections of a comparison vector's field weights (a group of fields disagreeing
//! throughout counts once, dependent fields once, an age read off a birth date once), and
//! the weight and probability of a pair.

use super::super::*;
use super::FsModel;

/// Least weight (bits) of a group member's agreement for the group to count as not
/// changed ([`FsModel::correct_groups`]): a country shared by 80% of the records weighs
/// nothing, and its agreement kept every move of an inventor counted four times.
const GROUP_AGREES: f64 = 1.0;

/// Least share of duplicates whose dates (or given names) disagree outright, as m of the
/// field's last level in [`FsModel::level_weight`]: one in a hundred (-6.6 bits at
/// u = 0.96, where the estimate alone gave -12.6 and one bad date overruled a whole
/// agreeing address). Dates: person-link F1 0.9298 → 0.9331 (0.003 and 0.03 did no
/// better); given names: 0.9526 → 0.9550; nothing else moved.
pub(super) const DATE_TYPO_RATE: f64 = 0.01;

impl FsModel {
    /// The match weight (log2 m/u) of level `l` of field `f`, kept sensible whatever EM
    /// estimated: a level never weighs more than a closer one, agreement (levels 0-2)
    /// never counts against a match and full disagreement never for one. When an agreeing
    /// level is all but absent among matches (exact agreement on a title written two ways
    /// by two sources, on a date known only to the month on one side), its own estimate
    /// rests on nothing: it weighs as the best agreeing level below it and never caps
    /// them. On data unlike any seen, EM can give m < u for an agreeing level; taken as it
    /// is, such a weight would make agreement evidence of a non-match.
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
    /// test for EM's match class ([`super::estimate`]'s `agreeing_units`), as
    /// [`Self::correct_ages`] does not count them twice in the weight. Counted, two
    /// strangers of one common given name born in one month agreed on three units of five
    /// where the middle initial was missing (given name, birth date, age), and a census
    /// with 1% duplicates, each counted again at another address, learnt that a match's
    /// surname differs one time in two (F1 0.54).
    pub(super) fn ages_read_off(&self, v: &[u8]) -> &[usize] {
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
    /// census day and a tax year a year apart, an age misreported), but for ages five
    /// years or more apart, each side's own, beside a date that agrees only in part (a
    /// digit, a swapped day and month): the dates differ in truth. Beside a date that
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
        // a birth date alike but not the same (a digit, a swapped day and month) beside
        // ages five years or more apart, each side's own report: the ages say the dates
        // differ in truth, and count (two strangers of one name, born ten years apart on
        // one day of the year, matched in a census of 24,000). An age read off the other
        // side's birth date ([`FieldSpec::birth_read`]) is that date again
        // (asked only of a far age: this weighs every candidate pair)
        let exact = || {
            self.births_known(v)
                .any(|f| v.get(f).is_some_and(|&l| l == 0))
        };
        for &a in &self.ages {
            if a < w.len() {
                let far = v.get(a).is_some_and(|&l| l as usize == LEVELS - 1)
                    && !self.fields.get(a).is_some_and(|f| f.birth_read);
                w[a] = if far && !exact() {
                    w[a]
                } else {
                    (w[a] - birth).max(0.0)
                };
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
