//! The embedded backbone: evaluates the pseudo-code rules with local evidence, no
//! network. Every decision carries its trace (rules checked, evidence, deciding rule).
//!
//! Layout: this file walks the rules and gathers a record pair's evidence
//! ([`EmEvidence`]); [`names`] tells who the people of a record are and when two records
//! name two people (`names/births.rs` what their birth dates and ages say,
//! `names/similarity.rs` how alike two names are); [`schema`] gathers a column pair's
//! evidence, with [`shapes`] telling what a column's values look like (e-mail or street
//! addresses, shapes of digits, their trigrams).

use std::collections::{HashMap, HashSet};

use super::fs::{FieldKind, FieldSpec, FsModel, MISSING, Prepared};
use super::knowledge::Facts;
use super::rules::{Check, RuleSet};
use super::text::{Idf, is_abbreviation, jaccard, split_identifier, token_sim, trigram_sim};
use super::{Column, Table, value_text};

mod names;
mod schema;
mod shapes;

pub use names::*;
pub use schema::*;
pub use shapes::*;

/// The outcome of evaluating a rule set on one pair with one knowledge source.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub is_match: bool,
    /// Confidence that the pair matches, in `[0, 1]`.
    pub score: f64,
    /// Id of the deciding rule.
    pub rule: String,
    /// The deciding rule's condition.
    pub condition: String,
    /// One line per rule checked.
    pub trace: Vec<String>,
}

/// Walks the rules in order with `holds(check) -> Option<(bool, evidence)>` (None: the
/// backbone has no evidence for this check; the rule is skipped).
pub fn evaluate_rules(
    rules: &RuleSet,
    score: f64,
    mut holds: impl FnMut(Check) -> Option<(bool, String)>,
) -> Decision {
    let mut trace = Vec::new();
    for r in rules.conditions() {
        let Some(check) = r.check else {
            trace.push(format!(
                "{}: skipped ({}: no local evidence)",
                r.id, r.condition
            ));
            continue;
        };
        match holds(check) {
            None => trace.push(format!(
                "{}: skipped ({}: not applicable)",
                r.id, r.condition
            )),
            Some((true, ev)) => {
                trace.push(format!(
                    "{}: {} — holds ({ev}) → {}",
                    r.id,
                    r.condition,
                    r.answer.as_str()
                ));
                return Decision {
                    is_match: r.answer.is_yes(),
                    score,
                    rule: r.id.clone(),
                    condition: r.condition.clone(),
                    trace,
                };
            }
            Some((false, ev)) => {
                trace.push(format!("{}: {} — does not hold ({ev})", r.id, r.condition))
            }
        }
    }
    let c = rules.catch_all();
    trace.push(format!("{}: otherwise → {}", c.id, c.answer.as_str()));
    Decision {
        is_match: c.answer.is_yes(),
        score,
        rule: c.id.clone(),
        condition: c.condition.clone(),
        trace,
    }
}

/// The answer [`evaluate_rules`] gives with the same `holds`, without its trace: the
/// check of every pair of a wide schema, whose reasoning is written only for the pairs
/// that match.
pub fn rules_answer(rules: &RuleSet, mut holds: impl FnMut(Check) -> Option<bool>) -> bool {
    for r in rules.conditions() {
        let Some(check) = r.check else {
            continue;
        };
        if holds(check) == Some(true) {
            return r.answer.is_yes();
        }
    }
    rules.catch_all().answer.is_yes()
}

// Entity matching

/// The evidence for one entity pair.
#[derive(Debug, Clone)]
pub struct EmEvidence {
    pub name_a: String,
    pub name_b: String,
    /// Match probability from all fields.
    pub p_all: f64,
    /// Match probability from the fields other than the name.
    pub p_rest: f64,
    /// Whether any non-name field has a value on both sides.
    pub rest_known: bool,
    pub abbreviation: Option<String>,
    pub alias: Option<String>,
    pub distinct: bool,
    /// Character-trigram similarity of the names (computed for plausible pairs).
    pub name_sim: Option<f64>,
    /// Log2 odds from the fields other than the name.
    pub rest_weight: f64,
    /// Fields agreeing exactly / disagreeing, for the trace.
    pub agree: Vec<String>,
    pub differ: Vec<String>,
    /// The individual fields conflict ([`NameFields::individual_conflict`]).
    pub individual_conflict: bool,
    /// The individual fields say it is one person ([`NameFields::identity_confirmed`]):
    /// then names that conflict were changed or mistyped, not another person's.
    pub identity_confirmed: bool,
}

impl EmEvidence {
    /// Computes the evidence; `facts` are the knowledge source's parsed facts.
    pub fn compute(
        model: &FsModel,
        names: &NameFields,
        a: &Prepared,
        b: &Prepared,
        v: &[u8],
        facts: &[&Facts],
    ) -> Self {
        Self::compute_adjusted(model, names, a, b, v, facts, (0.0, 0.0))
    }

    /// [`Self::compute`] with term-frequency adjustments `(all fields, fields other than
    /// the name)` added to the match weights ([`super::fs::TermFrequencies`]).
    pub fn compute_adjusted(
        model: &FsModel,
        names: &NameFields,
        a: &Prepared,
        b: &Prepared,
        v: &[u8],
        facts: &[&Facts],
        tf: (f64, f64),
    ) -> Self {
        let [ta, tb] = names.shared_names(a, b, v);
        let (name_a, name_b) = (ta.join(" "), tb.join(" "));
        let p_all = 1.0 / (1.0 + (-(model.weight(v) + tf.0)).exp2());
        let rest_weight = model.weight_without(v, &names.names) + tf.1;
        let p_rest = 1.0 / (1.0 + (-rest_weight).exp2());
        let rest_known = v
            .iter()
            .enumerate()
            .any(|(f, &l)| l != MISSING && !names.names.contains(&f));
        let mut abbreviation = None;
        let mut alias = None;
        let mut distinct = false;
        if !ta.is_empty() && !tb.is_empty() && ta != tb {
            // a person's name that begins another (`ho` / `howie`, `malin` / `malibiran`)
            // is another surname, not its short form, when nothing else is known to
            // agree: the rule then matched two records holding a surname and nothing
            // else at the threshold's probability. A company's initials (`IBM`) stand
            // for its name on their own.
            let said = rest_known || !names.is_person();
            if said && (is_abbreviation(&ta, &tb) || is_abbreviation(&tb, &ta)) {
                abbreviation = Some("name initials/prefixes".to_string());
            }
            for f in facts {
                if f.abbreviation(&name_a, &name_b) {
                    abbreviation = Some("stated in knowledge".to_string());
                }
                if f.alias(&name_a, &name_b) {
                    alias = Some("stated in knowledge".to_string());
                }
                distinct |= f.is_distinct(&name_a, &name_b);
            }
        }
        let name_sim = (p_all >= 0.1 && !ta.is_empty() && !tb.is_empty())
            .then(|| name_similarity(&ta, &tb, names.is_person()));
        let mut agree = Vec::new();
        let mut differ = Vec::new();
        for (f, &l) in v.iter().enumerate() {
            let n = model
                .fields
                .get(f)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            match l {
                0 => agree.push(n),
                MISSING => {}
                l if l as usize >= super::fs::LEVELS - 1 => differ.push(n),
                _ => {}
            }
        }
        let individual_conflict = names.individual_conflict(a, b, v);
        Self {
            individual_conflict,
            identity_confirmed: names.identity_confirmed(v),
            name_a,
            name_b,
            p_all,
            p_rest,
            rest_known,
            abbreviation,
            alias,
            distinct,
            name_sim,
            rest_weight,
            agree,
            differ,
        }
    }

    /// True when the names clearly describe different entities (no shared character
    /// trigrams to speak of, no abbreviation, no alias).
    pub fn names_conflict(&self) -> bool {
        self.abbreviation.is_none()
            && self.alias.is_none()
            && self.name_sim.is_some_and(|s| s < NAME_CONFLICT)
            && self.rest_weight < OVERWHELMING
            && !self.identity_confirmed
    }

    /// The self-indicator: a short summary of both sides.
    pub fn self_indicator(&self) -> String {
        format!(
            "A is \"{}\" and B is \"{}\"; they agree on [{}] and differ on [{}].",
            self.name_a,
            self.name_b,
            self.agree.join(", "),
            self.differ.join(", ")
        )
    }

    /// Evaluates the rules with this evidence.
    pub fn decide_with(&self, rules: &RuleSet, threshold: f64) -> Decision {
        let rest_ok = (!self.rest_known || self.p_rest >= 0.5) && !self.individual_conflict;
        let mut d = evaluate_rules(rules, self.p_all, |c| match c {
            Check::Abbreviation => Some(match &self.abbreviation {
                Some(why) if rest_ok && !self.distinct => (
                    true,
                    format!(
                        "\"{}\" / \"{}\": {why}; other fields agree (p={:.3})",
                        self.name_a, self.name_b, self.p_rest
                    ),
                ),
                Some(why) => (
                    false,
                    format!(
                        "{why}, but the other fields disagree (p={:.3})",
                        self.p_rest
                    ),
                ),
                None => (false, "no abbreviation between the names".to_string()),
            }),
            Check::Alias => Some(match &self.alias {
                Some(why) if rest_ok && !self.distinct => (
                    true,
                    format!("\"{}\" / \"{}\": {why}", self.name_a, self.name_b),
                ),
                Some(why) => (
                    false,
                    format!(
                        "{why}, but the other fields disagree (p={:.3})",
                        self.p_rest
                    ),
                ),
                None => (false, "no known alias".to_string()),
            }),
            Check::SameConcept => Some((
                self.p_all >= threshold
                    && !self.distinct
                    && !self.names_conflict()
                    && !self.individual_conflict,
                format!(
                    "field-weighted match probability {:.4} vs threshold {threshold:.2}; name similarity {}; agree [{}], differ [{}]{}",
                    self.p_all,
                    self.name_sim
                        .map(|s| format!(
                            "{s:.2}{}",
                            if self.names_conflict() {
                                " (the names conflict)"
                            } else {
                                ""
                            }
                        ))
                        .unwrap_or_else(|| "n/a".into()),
                    self.agree.join(", "),
                    self.differ.join(", "),
                    if self.individual_conflict {
                        "; the individual fields conflict (given name, birth date, age, id)"
                    } else {
                        ""
                    }
                ),
            )),
            Check::DifferentConcept => Some((
                self.p_all < threshold || self.distinct || self.individual_conflict,
                format!(
                    "match probability {:.4} vs threshold {threshold:.2}",
                    self.p_all
                ),
            )),
            Check::TypeIncompatible | Check::TablesUnrelated | Check::Otherwise => None,
        });
        if d.is_match && (d.rule != "IV" || d.score < threshold) {
            // decided by an abbreviation/alias rule: confident yes
            d.score = d.score.max(threshold.max(0.5));
        }
        d
    }

    /// [`Self::decide_with`] under the built-in EM rules (used on the scale path).
    pub fn decide(&self, threshold: f64) -> Decision {
        match builtin_em() {
            Some(r) => self.decide_with(r, threshold),
            None => Decision {
                is_match: self.p_all >= threshold,
                score: self.p_all,
                rule: "IV".into(),
                condition: "A and B refer to the same real-world concept".into(),
                trace: vec![],
            },
        }
    }
}

/// The built-in EM rules (parsed once).
pub fn builtin_em() -> Option<&'static RuleSet> {
    static EM: std::sync::OnceLock<Option<RuleSet>> = std::sync::OnceLock::new();
    EM.get_or_init(|| super::rules::Rules::builtin().ok().map(|r| r.em))
        .as_ref()
}
