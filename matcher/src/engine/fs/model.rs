//! The Fellegi–Sunter model: u by sampling random pairs, m by classification EM over
//! the candidates, groups of dependent fields (an address told in several columns counts
//! once), and the weight of a comparison vector. Apart from the levels ([`super::compare`]),
//! which are a pure function of two values.
//!
//! # Layout
//!
//! The model's two concerns, each an `impl FsModel` of its own: what the data says
//! (`estimate`: the priors, u from random pairs, m by EM and its match class, the groups
//! of dependent fields, refinement by labels) and what a comparison vector weighs
//! (`weights`: each level's weight kept sensible, the corrections for groups, dependence
//! and ages read off a birth date, the probability). The estimation reads the weights'
//! test of which ages are read off a birth date; nothing else crosses.

use serde::{Deserialize, Serialize};

use super::*;

mod estimate;
mod weights;

pub use estimate::{mostly_agree, mostly_agree_grouped};

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
    /// How the prior was lowered for a file with more pairs per candidate than the
    /// engine is calibrated for ([`Self::scale_prior`]); `None`: taken as EM found it.
    #[serde(default)]
    pub prior_note: Option<String>,
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

impl FsModel {
    /// What the fit says of itself, a line each: how EM ended when it did not converge,
    /// the prior lowered for a large file, the columns left out as unrelated to identity,
    /// those whose m was estimated apart (`eval --explain` prints them as `model: ...`; the
    /// review API and its model page show them).
    pub fn notes(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(note) = &self.em_note {
            v.push(format!("em: {note}"));
        }
        if let Some(note) = &self.prior_note {
            v.push(format!("prior: {note}"));
        }
        if !self.unrelated.is_empty() {
            v.push(format!(
                "not compared (no likely match comes near on them, or likely matches agree on them no more often than random pairs): {}",
                self.unrelated.join(", ")
            ));
        }
        if !self.apart.is_empty() {
            v.push(format!(
                "m estimated on the matches the other fields find (two sources write these each their own way): {}",
                self.apart.join(", ")
            ));
        }
        v
    }
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

#[cfg(test)]
mod tests;
