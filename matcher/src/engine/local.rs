//! The embedded backbone: evaluates the pseudo-code rules with local evidence, no
//! network. Every decision carries its trace (rules checked, evidence, deciding rule).

use std::collections::{HashMap, HashSet};

use super::fs::{FieldKind, FieldSpec, FsModel, MISSING, Prepared};
use super::knowledge::Facts;
use super::rules::{Check, RuleSet};
use super::text::{Idf, is_abbreviation, jaccard, split_identifier, token_sim, trigram_sim};
use super::{Column, Table, value_text};

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

// ---------------------------------------------------------------------------------
// Entity matching
// ---------------------------------------------------------------------------------

/// What an individual field is ([`NameFields::individual`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndividualKind {
    /// A given name.
    Given,
    /// A birth date.
    Birth,
    /// An identity number.
    Id,
    /// An e-mail address: it identifies its holder when it agrees, but people hold
    /// several and change them, so one that differs is forgiven as a given name's
    /// conflict is.
    Email,
}

/// Which fields make up an entity's name: fields named like `*name*` / `title` or as a
/// given name or surname (`first`, `last`, `given`: the lexicon), else the first text
/// field that is no address part; and which tell members of one group apart (a person's given
/// name, birth date, identity number, e-mail: [`super::lexicon::INDIVIDUAL`]).
#[derive(Debug, Clone, Default)]
pub struct NameFields {
    pub names: Vec<usize>,
    /// The name fields that name organisations (`company_name`, `employer`):
    /// [`super::lexicon::org_words_conflict`] applies to them.
    pub orgs: Vec<usize>,
    /// Individual fields (field index and kind).
    pub individual: Vec<(usize, IndividualKind)>,
}

/// Whether the individual fields hold a given name: the records are people's.
pub fn of_people(individual: &[(usize, IndividualKind)]) -> bool {
    individual.iter().any(|x| x.1 == IndividualKind::Given)
}

/// What agrees beyond the individual fields, for [`NameFields::conflict_with`].
#[derive(Debug, Clone, Copy, Default)]
struct Agreeing {
    /// A field beyond the name and the individual fields (an address, a phone).
    beyond_name: bool,
    /// The whole name, where no column holds the given name alone: it stands for an
    /// agreeing given name.
    whole_name: bool,
}

impl NameFields {
    pub fn detect(fields: &[FieldSpec]) -> Self {
        let individual: Vec<(usize, IndividualKind)> = fields
            .iter()
            .enumerate()
            // a flag or a status named like an identity (`email_opt_in`, `ssn_verified`)
            // agrees on half of all pairs: as an identity it forgave every conflict
            // (person-split with such columns: F1 0.9540 -> 0.8373)
            .filter(|(_, f)| !f.categorical)
            .filter_map(|(i, f)| {
                let kind = match super::lexicon::concept(&f.name)? {
                    // a given name is text: `first_seen` or `first_purchase` begin like
                    // `first` and hold a date or an amount, and as a given name every
                    // two records of one customer seen on two days conflicted
                    // (person-split with a `first_seen` date: F1 0.9527 -> 0.5561)
                    "given_name" if f.kind != FieldKind::Text => return None,
                    "given_name" => IndividualKind::Given,
                    "birth_date" => IndividualKind::Birth,
                    "ssn" => IndividualKind::Id,
                    "email" => IndividualKind::Email,
                    _ => return None,
                };
                Some((i, kind))
            })
            .collect();
        // a street name, a city name or an e-mail "name" is no name of the entity
        let other = |f: &FieldSpec| {
            super::lexicon::concept(&f.name)
                .is_some_and(|c| super::lexicon::ADDRESS.contains(&c) || NOT_NAMES.contains(&c))
        };
        let named: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let n = f.name.to_lowercase();
                // `first` / `last` / `given` say what `first_name` / `last_name` say (the
                // whole column name: `last_updated` begins like `last` and is a time)
                let named_person = f.kind == FieldKind::Text
                    && matches!(
                        super::lexicon::concept_exact(&f.name),
                        Some("given_name" | "surname")
                    );
                ((n.contains("name") || n.contains("title")) && !other(f)) || named_person
            })
            .map(|(i, _)| i)
            .collect();
        let names = if named.is_empty() {
            // no column says it holds a name (`Customer`, `Patient`): the first text
            // column that is no address part (columns come sorted by name, and an
            // `Address` before `Customer` is not the customer's name)
            let text = |f: &FieldSpec| f.kind == FieldKind::Text;
            fields
                .iter()
                .position(|f| text(f) && !other(f))
                .or_else(|| fields.iter().position(text))
                .into_iter()
                .collect()
        } else {
            named
        };
        let orgs = names
            .iter()
            .copied()
            .filter(|&i| super::lexicon::concept(&fields[i].name) == Some("organisation"))
            .collect();
        Self {
            names,
            orgs,
            individual,
        }
    }

    /// Whether the names are people's: a given-name field is among the fields.
    pub fn is_person(&self) -> bool {
        of_people(&self.individual)
    }

    /// Whether the individual fields of a pair conflict:
    /// - a given name disagrees outright (and is no short form of the other) while no
    ///   identity number or e-mail agrees, and the birth date does not agree together
    ///   with some field beyond the name (an address, a phone): two members of one
    ///   household, or two namesakes born the same day elsewhere, share everything else;
    /// - a birth date, identity number or e-mail disagrees outright while no individual
    ///   field agrees;
    /// - every name of a person differs outright ([`Self::every_name_differs`]).
    ///
    /// - a name ends with a legal form of another family than the other's (`Inc` /
    ///   `PLC`): two companies of one name.
    ///
    /// A duplicate with a missing birth date does not conflict, nor one with its given name
    /// and a mistyped identity number (the rest of its fields decide), nor one whose given
    /// name was replaced but whose birth date and address agree.
    pub fn individual_conflict(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        let nick = |f: usize| super::lexicon::given_values_related(a.value(f), b.value(f));
        // a whole name in one column (`SMITH, John`) holds the given name: where no column
        // holds it alone, the whole name agreeing (to a typo: `SMITH, Tom` is as close to
        // `SMITH, James` as a short form) stands for it
        let whole_name = !self.is_person()
            && !self.names.is_empty()
            && self
                .names
                .iter()
                .all(|&f| v.get(f).is_some_and(|&l| l <= 1));
        let agree = Agreeing {
            beyond_name: self.beyond_name_agrees(v),
            whole_name,
        };
        Self::conflict_with(&self.individual, v, nick, agree)
            || self.legal_conflict(a, b, v)
            || self.every_name_differs(a, b, v)
    }

    /// Whether a person's given name and every other name field (two or more, all known)
    /// disagree outright, no short form relating the given names, while no identity
    /// number or e-mail agrees and no full birth date (level ≤ 1) agrees together with a
    /// field beyond the name. Two people of one household (roommates, a couple of two
    /// surnames) share the address, and a birth date known to the month on one side
    /// (a tax form's year and month) agreed for one pair in a few hundred by chance: with
    /// the address, enough to match (person_link precision 0.9749 -> 0.9753). A surname
    /// changed at marriage keeps its given name; a garbled given name keeps its surname.
    fn every_name_differs(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        const OUTRIGHT: u8 = (super::fs::LEVELS - 1) as u8;
        if !self.is_person() || self.names.len() < 2 {
            return false;
        }
        let all_differ = self.names.iter().all(|&f| v.get(f) == Some(&OUTRIGHT))
            && !self.individual.iter().any(|&(f, k)| {
                k == IndividualKind::Given
                    && super::lexicon::given_values_related(a.value(f), b.value(f))
            });
        if !all_differ {
            return false;
        }
        // names swapped between the fields (`gonzalez anthony` / `anthony gonzalez`), or
        // swapped and mistyped, differ field by field but not as a whole
        let (ta, tb) = (self.name(a), self.name(b));
        let swapped = ta.iter().filter(|t| t.len() > 1).any(|x| {
            tb.iter()
                .any(|y| super::fs::osa_distance_at_most(x, y, 1) <= 1)
        });
        if swapped {
            return false;
        }
        let birth_full = self
            .individual
            .iter()
            .any(|&(f, k)| k == IndividualKind::Birth && v.get(f).is_some_and(|&l| l <= 1));
        let id = self.individual.iter().any(|&(f, k)| {
            matches!(k, IndividualKind::Id | IndividualKind::Email)
                && v.get(f).is_some_and(|&l| l <= 2)
        });
        !(id || (birth_full && self.beyond_name_agrees(v)))
    }

    /// Whether a field beyond the name and the individual fields (an address, a phone)
    /// agrees in `v`.
    fn beyond_name_agrees(&self, v: &[u8]) -> bool {
        v.iter().enumerate().any(|(f, &l)| {
            l <= 1 && !self.names.contains(&f) && !self.individual.iter().any(|x| x.0 == f)
        })
    }

    /// Whether the individual fields say two records are one person: an identity number
    /// agrees, or the birth date does together with a field beyond the name (an address,
    /// a phone). Then a name that conflicts was changed (a surname at marriage) or
    /// garbled, as a given name that conflicts is forgiven on the same evidence.
    pub fn identity_confirmed(&self, v: &[u8]) -> bool {
        let agrees = |kind: IndividualKind| {
            self.individual
                .iter()
                .any(|&(f, k)| k == kind && v.get(f).is_some_and(|&l| l <= 2))
        };
        agrees(IndividualKind::Id) || (agrees(IndividualKind::Birth) && self.beyond_name_agrees(v))
    }

    /// Whether two names that do not agree exactly end with legal forms of two families
    /// (`Blue Capital Inc` / `Blue Capital PLC`): two companies of one name.
    /// Or, for an organisation's name, when each name holds a word the other lacks
    /// ([`super::lexicon::org_words_conflict`]: `Premier Holdings` / `Premier
    /// Laboratories`).
    fn legal_conflict(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        self.names.iter().any(|&f| {
            v.get(f).is_some_and(|&l| l != 0 && l != MISSING)
                && (super::lexicon::legal_forms_conflict(a.value(f).norm, b.value(f).norm)
                    || (self.orgs.contains(&f)
                        && super::lexicon::org_words_conflict(a.value(f).norm, b.value(f).norm)))
        })
    }

    /// [`Self::individual_conflict`] on the comparison vector alone (short forms of a
    /// given name count as a conflict, and a birth date never rescues a given name): the
    /// EM estimation's stricter test.
    pub fn pattern_conflict(individual: &[(usize, IndividualKind)], v: &[u8]) -> bool {
        Self::conflict_with(individual, v, |_| false, Agreeing::default())
    }

    fn conflict_with(
        individual: &[(usize, IndividualKind)],
        v: &[u8],
        mut nick: impl FnMut(usize) -> bool,
        agree: Agreeing,
    ) -> bool {
        let beyond_name_agrees = agree.beyond_name;
        let (mut given_conflict, mut birth_conflict, mut id_conflict) = (false, false, false);
        let (mut id_agree, mut birth_agree) = (false, false);
        let (mut given_agree, mut email_conflict) = (agree.whole_name, false);
        for &(f, kind) in individual {
            match v.get(f).copied() {
                Some(l) if l <= 2 => {
                    id_agree |= matches!(kind, IndividualKind::Id | IndividualKind::Email);
                    birth_agree |= kind == IndividualKind::Birth;
                    given_agree |= kind == IndividualKind::Given;
                }
                Some(l) if l != MISSING && l as usize >= super::fs::LEVELS - 1 => match kind {
                    IndividualKind::Given if nick(f) => given_agree = true,
                    IndividualKind::Given => given_conflict = true,
                    IndividualKind::Birth => birth_conflict = true,
                    IndividualKind::Id => id_conflict = true,
                    IndividualKind::Email => email_conflict = true,
                },
                _ => {}
            }
        }
        let rescued = id_agree || (birth_agree && beyond_name_agrees);
        // namesakes share their names: two birth dates that differ outright (more than a
        // mistyped digit or swapped day and month) are two people unless an identity
        // number agrees, or the given name and something beyond the name (an address, a
        // phone) do; a mistyped identity number is forgiven when a name or date agrees
        let birth_rescued = id_agree || (given_agree && beyond_name_agrees);
        // an identity number that differs outright (more than a typo or two) is another
        // person's unless a birth date or another identity agrees, or the given name and
        // something beyond the name (an address, a phone) do: namesakes share their given
        // names, so an agreeing given name alone does not forgive it
        let id_rescued = id_agree || birth_agree || (given_agree && beyond_name_agrees);
        // an e-mail that differs is forgiven by any agreeing identity, date or given name
        let email_rescued = id_agree || birth_agree || given_agree;
        (given_conflict && !rescued)
            || (birth_conflict && !birth_rescued)
            || (id_conflict && !id_rescued)
            || (email_conflict && !email_rescued)
    }

    /// The name of a prepared record (name fields joined).
    pub fn name(&self, r: &Prepared) -> Vec<String> {
        Self::tokens(r, &self.names)
    }

    /// The tokens of the fields `fields` of `r`, in order.
    fn tokens(r: &Prepared, fields: &[usize]) -> Vec<String> {
        fields
            .iter()
            .map(|&i| r.value(i))
            .flat_map(|v| v.tokens().map(str::to_string))
            .collect()
    }

    /// The names of two records as far as they can be compared: the name fields known on
    /// both sides of the comparison vector `v`, joined. A record with only its given name
    /// and one with only its surname (`isabella` / `everett`) have no name in common to
    /// conflict on; compared whole, they read as two people whatever else agreed.
    pub fn shared_names(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> [Vec<String>; 2] {
        let known: Vec<usize> = self
            .names
            .iter()
            .copied()
            .filter(|&f| v.get(f).is_some_and(|&l| l != MISSING))
            .collect();
        [a, b].map(|r| Self::tokens(r, &known))
    }
}

/// Concepts whose column names may say "name" without naming the entity (`email_name`,
/// `website_name`, `phone_name`); the address concepts ([`super::lexicon::ADDRESS`]:
/// `street_name`, `city_name`) are excluded as well.
const NOT_NAMES: &[&str] = &["email", "website", "phone", "ssn", "postcode", "price"];

/// Log2 odds from the other fields above which conflicting names are overruled
/// (several identifying fields agree exactly: the name was mistyped or replaced).
pub const OVERWHELMING: f64 = 40.0;

/// Below this name similarity, names conflict.
pub const NAME_CONFLICT: f64 = 0.2;

/// Similarity of two names: character trigrams of the joined tokens, in the given
/// order or sorted (swapped given name / surname), 1 when one name contains the other.
///
/// `person`: the names are people's (a given-name field among them): tokens are also
/// paired one by one ([`aligned_token_similarity`]), so a nickname or a typo in a short
/// surname does not read as another name. Not for the names of organisations, places or
/// products, where one token's typo-distance often separates two of them (`Blue
/// Capital` / `Blue Capitol`).
pub fn name_similarity(a: &[String], b: &[String], person: bool) -> f64 {
    let (ja, jb) = (a.concat(), b.concat());
    if ja == jb {
        return 1.0;
    }
    let sa: HashSet<&String> = a.iter().collect();
    let sb: HashSet<&String> = b.iter().collect();
    if sa.is_subset(&sb) || sb.is_subset(&sa) {
        return 1.0;
    }
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort();
    y.sort();
    let sim = trigram_sim(&ja, &jb).max(trigram_sim(&x.concat(), &y.concat()));
    if person {
        sim.max(aligned_token_similarity(a, b))
    } else {
        sim
    }
}

/// Tokens of a name compared one with another ([`aligned_token_similarity`]).
const ALIGNED_TOKENS: usize = 8;

/// Similarity of two name tokens: 1 when equal, 0.9 for one given name written two ways
/// ([`super::lexicon::given_names_near`]: `bob` / `robert`, `bicll` / `william`), else
/// the share of characters an optimal-string-alignment edit keeps (`smith` / `smilh`
/// 0.8, where character trigrams see one in five).
fn token_similarity(x: &str, y: &str) -> f64 {
    if x == y {
        return 1.0;
    }
    if super::lexicon::given_names_near(x, y) {
        return 0.9;
    }
    let n = x.chars().count().max(y.chars().count());
    if n == 0 {
        return 0.0;
    }
    let d = super::fs::osa_distance_at_most(x, y, n).min(n);
    let sim = 1.0 - d as f64 / n as f64;
    // two unrelated words keep a letter or two in place: that is no similarity
    if sim >= TOKEN_KEPT { sim } else { 0.0 }
}

/// Below this share of characters kept, two name tokens are unrelated
/// ([`token_similarity`]): a typo keeps 0.8 of a five-letter name, two random five-letter
/// words 0.2 or 0.4.
const TOKEN_KEPT: f64 = 0.6;

/// Similarity of two names token by token: each token paired with its most similar
/// counterpart (greedily, best pairs first, in any order: swapped given name and surname
/// pair up), the pairs' [`token_similarity`] summed over the longer name's token count.
/// A nickname and a mistyped surname together (`john smith` / `jack smilh`) keep most of
/// their similarity here, where character trigrams of the joined names see almost none.
fn aligned_token_similarity(a: &[String], b: &[String]) -> f64 {
    let (a, b) = (
        &a[..a.len().min(ALIGNED_TOKENS)],
        &b[..b.len().min(ALIGNED_TOKENS)],
    );
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let mut sims: Vec<(f64, usize, usize)> = Vec::with_capacity(a.len() * b.len());
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            sims.push((token_similarity(x, y), i, j));
        }
    }
    sims.sort_by(|p, q| q.0.total_cmp(&p.0));
    let (mut used_a, mut used_b) = (0u16, 0u16);
    let mut total = 0.0;
    for (sim, i, j) in sims {
        if used_a & (1 << i) == 0 && used_b & (1 << j) == 0 {
            used_a |= 1 << i;
            used_b |= 1 << j;
            total += sim;
        }
    }
    total / longest as f64
}

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
                        "; the individual fields conflict (given name, birth date, id) and none agrees"
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

// ---------------------------------------------------------------------------------
// Schema matching
// ---------------------------------------------------------------------------------

/// Coarse data type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Integer,
    Float,
    Bool,
    Date,
    Text,
    Unknown,
}

impl DataType {
    pub fn from_declared(t: &str) -> Self {
        let t = t.to_lowercase();
        if t.contains("bool") || t == "bit" {
            DataType::Bool
        } else if t.contains("date") || t.contains("time") {
            DataType::Date
        } else if t.contains("int") || t == "serial" || t == "long" {
            DataType::Integer
        } else if [
            "float", "double", "real", "decimal", "numeric", "number", "money",
        ]
        .iter()
        .any(|x| t.contains(x))
        {
            DataType::Float
        } else if ["char", "text", "string", "str", "clob", "varchar"]
            .iter()
            .any(|x| t.contains(x))
        {
            DataType::Text
        } else {
            DataType::Unknown
        }
    }

    fn of_value(s: &str) -> Self {
        let s = s.trim();
        if s.is_empty() {
            return DataType::Unknown;
        }
        let l = s.to_ascii_lowercase();
        if l == "true" || l == "false" {
            return DataType::Bool;
        }
        if let Ok(n) = s.parse::<i64>() {
            // `19430117`: a date written without separators (year 1800-2099)
            let (y, m, d) = (n / 10_000, n / 100 % 100, n % 100);
            if s.len() == 8
                && (1800..2100).contains(&y)
                && (1..=12).contains(&m)
                && (1..=31).contains(&d)
            {
                return DataType::Date;
            }
            return DataType::Integer;
        }
        if s.parse::<f64>().is_ok() {
            return DataType::Float;
        }
        let b = s.as_bytes();
        if b.len() >= 8
            && b.len() <= 25
            && b[..4].iter().all(u8::is_ascii_digit)
            && (b[4] == b'-' || b[4] == b'/')
        {
            return DataType::Date;
        }
        DataType::Text
    }

    /// Majority type of sample values.
    pub fn infer(samples: &[String]) -> Self {
        let mut c: HashMap<DataType, usize> = HashMap::new();
        for s in samples {
            let t = DataType::of_value(s);
            if t != DataType::Unknown {
                *c.entry(t).or_default() += 1;
            }
        }
        let n: usize = c.values().sum();
        if n == 0 {
            return DataType::Unknown;
        }
        let ints = c.get(&DataType::Integer).copied().unwrap_or(0);
        let floats = c.get(&DataType::Float).copied().unwrap_or(0);
        if ints + floats == n && floats > 0 {
            return DataType::Float;
        }
        c.into_iter()
            .max_by_key(|(t, k)| (*k, *t as u8))
            .map(|(t, _)| t)
            .unwrap_or(DataType::Unknown)
    }

    /// Whether two types can hold the same kind of data (text holds anything).
    pub fn compatible(a: Self, b: Self) -> bool {
        use DataType::*;
        match (a, b) {
            (Unknown, _) | (_, Unknown) | (Text, _) | (_, Text) => true,
            (Integer | Float, Integer | Float) => true,
            (x, y) => x == y,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Integer => "integer",
            DataType::Float => "float",
            DataType::Bool => "bool",
            DataType::Date => "date",
            DataType::Text => "text",
            DataType::Unknown => "unknown",
        }
    }
}

/// A column prepared for schema matching.
#[derive(Debug, Clone)]
pub struct SmColumn {
    pub table: String,
    pub name: String,
    pub name_tokens: Vec<String>,
    pub desc_tokens: Vec<String>,
    pub declared: DataType,
    pub inferred: DataType,
    pub values: HashSet<String>,
    pub value_tokens: HashSet<String>,
    /// Mean and std of numeric samples, when numeric.
    pub numeric: Option<(f64, f64)>,
    pub mean_len: f64,
    /// Character-trigram profile of the values (unit length).
    pub profile: HashMap<String, f64>,
    /// The concept the name stands for in the built-in lexicon ([`super::lexicon`]).
    pub concept: Option<&'static str>,
}

impl SmColumn {
    pub fn new(table: &Table, c: &Column, extra_desc: Option<&str>) -> Self {
        let samples: Vec<String> = c
            .samples
            .iter()
            .map(value_text)
            .filter(|s| !s.trim().is_empty())
            .collect();
        let mut desc = c.description.clone().unwrap_or_default();
        if let Some(e) = extra_desc {
            desc.push(' ');
            desc.push_str(e);
        }
        let nums: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.trim().parse::<f64>().ok())
            .collect();
        let numeric = (!nums.is_empty() && nums.len() * 10 >= samples.len() * 9).then(|| {
            let m = nums.iter().sum::<f64>() / nums.len() as f64;
            let v = nums.iter().map(|x| (x - m).powi(2)).sum::<f64>() / nums.len() as f64;
            (m, v.sqrt())
        });
        let mean_len = if samples.is_empty() {
            0.0
        } else {
            samples
                .iter()
                .map(|s| s.chars().count() as f64)
                .sum::<f64>()
                / samples.len() as f64
        };
        Self {
            table: table.name.clone(),
            name: c.name.clone(),
            name_tokens: split_identifier(&c.name),
            concept: super::lexicon::concept(&c.name),
            desc_tokens: super::text::tokens(&desc),
            declared: c
                .data_type
                .as_deref()
                .map(DataType::from_declared)
                .unwrap_or(DataType::Unknown),
            inferred: DataType::infer(&samples),
            values: samples.iter().map(|s| super::text::normalize(s)).collect(),
            value_tokens: samples
                .iter()
                .flat_map(|s| super::text::tokens(s))
                .collect(),
            numeric,
            mean_len,
            profile: value_profile(&samples),
        }
    }

    pub fn data_type(&self) -> DataType {
        if self.declared != DataType::Unknown {
            self.declared
        } else {
            self.inferred
        }
    }
}

/// Character-trigram profile of values, normalized to unit length.
pub fn value_profile(samples: &[String]) -> HashMap<String, f64> {
    let mut m: HashMap<String, f64> = HashMap::new();
    for s in samples {
        for g in super::text::qgrams(&super::text::normalize(s), 3) {
            *m.entry(g).or_default() += 1.0;
        }
    }
    let n = m.values().map(|v| v * v).sum::<f64>().sqrt();
    if n > 0.0 {
        for v in m.values_mut() {
            *v /= n;
        }
    }
    m
}

/// Cosine of two unit profiles.
pub fn profile_cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let (x, y) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    x.iter()
        .map(|(k, v)| v * y.get(k).copied().unwrap_or(0.0))
        .sum()
}

/// Whether two columns' types exclude each other: declared types that cannot hold the
/// same data, or sample values that are all numbers on one side and never on the other.
/// Digits written with separators (`495-225-5775`, `17/01/1943`) are numbers for this:
/// one table writes a phone or a date as `4952255775` or `19430117`, another formats it.
pub fn types_incompatible(a: &SmColumn, b: &SmColumn) -> bool {
    if !DataType::compatible(a.data_type(), b.data_type()) {
        return true;
    }
    let numeric = |t: DataType| matches!(t, DataType::Integer | DataType::Float);
    let text = |c: &SmColumn| c.inferred == DataType::Text && !digits_with_separators(c);
    (numeric(a.inferred) && text(b)) || (numeric(b.inferred) && text(a))
}

/// Whether most sample values are digits with separators only (normalized: digits and
/// spaces, at least one space): formatted numbers, codes, phones and dates.
fn digits_with_separators(c: &SmColumn) -> bool {
    let formatted = c
        .values
        .iter()
        .filter(|v| v.contains(' ') && v.bytes().all(|b| b.is_ascii_digit() || b == b' '))
        .count();
    !c.values.is_empty() && formatted * 5 >= c.values.len() * 4
}

/// Token-level expansions learned from the data: a short token in one table that
/// abbreviates a token of the other table (`gvn` → `given`).
pub fn learn_expansions(a: &[SmColumn], b: &[SmColumn]) -> HashMap<String, String> {
    let vocab_a: HashSet<&String> = a.iter().flat_map(|c| c.name_tokens.iter()).collect();
    let vocab_b: HashSet<&String> = b.iter().flat_map(|c| c.name_tokens.iter()).collect();
    let mut out = HashMap::new();
    for (short_side, long_side) in [(&vocab_a, &vocab_b), (&vocab_b, &vocab_a)] {
        for s in short_side.iter() {
            if long_side.contains(*s) {
                continue;
            }
            let cands: Vec<&&String> = long_side
                .iter()
                .filter(|l| super::text::token_abbreviates(s, l) && s.len() >= 2)
                .collect();
            if cands.len() == 1 {
                out.insert((*s).clone(), (*cands[0]).clone());
            }
        }
    }
    out
}

fn expand(tokens: &[String], exp: &HashMap<String, String>, facts: &[&Facts]) -> Vec<String> {
    let mut out: Vec<String> = tokens
        .iter()
        .map(|t| exp.get(t).cloned().unwrap_or_else(|| t.clone()))
        .collect();
    let joined = out.join(" ");
    for f in facts {
        for (x, y) in f.aliases.iter().chain(&f.abbreviations) {
            if &joined == x {
                out = y.split(' ').map(str::to_string).collect();
            }
        }
    }
    out
}

/// The evidence for one column pair.
#[derive(Debug, Clone)]
pub struct SmEvidence {
    pub type_a: DataType,
    pub type_b: DataType,
    pub name_sim: f64,
    pub desc_sim: f64,
    pub value_sim: Option<f64>,
    pub abbreviation: bool,
    pub alias: bool,
    pub distinct: bool,
    /// Combined concept score.
    pub score: f64,
}

/// Calibrated sentence-embedding similarities of a column pair (feature `embeddings`,
/// when a model is configured), each in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Semantic {
    /// Of the two column names.
    pub name: Option<f64>,
    /// Of the two columns' sample values (each column's values embedded as one list).
    pub values: Option<f64>,
}

/// Scores a column pair.
///
/// `semantic` holds the embedding similarities of the names and of the sample values,
/// when configured: each can only raise its lexical counterpart.
pub fn sm_evidence(
    a: &SmColumn,
    b: &SmColumn,
    idf: &Idf,
    exp: &HashMap<String, String>,
    facts: &[&Facts],
    semantic: Semantic,
) -> SmEvidence {
    let na = expand(&a.name_tokens, exp, facts);
    let nb = expand(&b.name_tokens, exp, facts);
    let ja = a.name_tokens.join(" ");
    let jb = b.name_tokens.join(" ");
    let abbreviation = is_abbreviation(&a.name_tokens, &b.name_tokens)
        || is_abbreviation(&b.name_tokens, &a.name_tokens)
        || facts.iter().any(|f| f.abbreviation(&ja, &jb));
    let alias = facts.iter().any(|f| f.alias(&ja, &jb));
    let distinct = facts.iter().any(|f| f.is_distinct(&ja, &jb));
    let name_sim = if na == nb || alias {
        1.0
    } else {
        let ts = token_sim(&na, &nb);
        let tri = trigram_sim(&na.concat(), &nb.concat());
        let tset: HashSet<&String> = na.iter().collect();
        let uset: HashSet<&String> = nb.iter().collect();
        let jac = jaccard(&tset, &uset);
        let lexical = (0.4 * ts + 0.3 * tri + 0.3 * jac)
            .max(if abbreviation { 0.85 } else { 0.0 })
            .max(semantic.name.unwrap_or(0.0));
        // the built-in lexicon: two names of one concept (`surname` / `last_name`) are
        // synonyms; names of two concepts (`first_name` / `last_name`) only look alike
        match (a.concept, b.concept) {
            (Some(x), Some(y)) if x == y => lexical.max(0.95),
            (Some(_), Some(_)) => lexical.min(0.3),
            _ => lexical,
        }
    };
    let desc_sim = idf.cosine(&a.desc_tokens, &b.desc_tokens);
    let value_sim = if a.values.is_empty() || b.values.is_empty() {
        None
    } else {
        let exact = jaccard(&a.values, &b.values);
        let tok = jaccard(&a.value_tokens, &b.value_tokens);
        let cont = a.values.intersection(&b.values).count() as f64
            / a.values.len().min(b.values.len()) as f64;
        let prof = profile_cosine(&a.profile, &b.profile);
        let mut s = exact
            .max(tok)
            .max(0.8 * cont)
            .max(0.9 * prof * prof)
            .max(semantic.values.unwrap_or(0.0));
        if let (Some((ma, sa)), Some((mb, sb))) = (a.numeric, b.numeric) {
            let scale = (sa + sb).max(1e-9) / 2.0 + 1e-9;
            let z = ((ma - mb).abs() / scale).min(10.0);
            let dist = (1.0 / (1.0 + z)) * (sa.min(sb) + 1e-9) / (sa.max(sb) + 1e-9);
            s = s.max(0.9 * dist);
        }
        let len_ratio = if a.mean_len > 0.0 && b.mean_len > 0.0 {
            a.mean_len.min(b.mean_len) / a.mean_len.max(b.mean_len)
        } else {
            1.0
        };
        Some(s * (0.7 + 0.3 * len_ratio))
    };
    let has_desc = !a.desc_tokens.is_empty() && !b.desc_tokens.is_empty();
    let mut parts = vec![(name_sim, 1.0)];
    if has_desc {
        parts.push((desc_sim, 0.6));
    }
    if let Some(v) = value_sim {
        parts.push((v, 1.2));
    }
    let w: f64 = parts.iter().map(|p| p.1).sum();
    let mut score = parts.iter().map(|p| p.0 * p.1).sum::<f64>() / w;
    // strong single evidence: identical names or near-identical value sets
    score = score
        .max(name_sim * 0.95)
        .max(value_sim.unwrap_or(0.0) * 0.9);
    if distinct {
        score = 0.0;
    }
    SmEvidence {
        type_a: a.data_type(),
        type_b: b.data_type(),
        name_sim,
        desc_sim,
        value_sim,
        abbreviation,
        alias,
        distinct,
        score: score.clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Records typed and prepared as a run types them, for the conflict tests.
    struct Typed {
        fields: Vec<FieldSpec>,
        names: NameFields,
        p: Vec<Prepared>,
    }

    impl Typed {
        fn new(recs: &[crate::engine::Record]) -> Self {
            let fields = super::super::fs::infer_fields(recs.iter());
            let names = NameFields::detect(&fields);
            let p = recs
                .iter()
                .map(|r| super::super::fs::prepare(&fields, r))
                .collect();
            Self { fields, names, p }
        }

        fn levels(&self, i: usize, j: usize) -> Vec<u8> {
            super::super::fs::compare(&self.fields, &self.p[i], &self.p[j])
        }

        /// The rules' evidence on records `i` and `j` under a prior model.
        fn evidence(&self, i: usize, j: usize) -> EmEvidence {
            let model = FsModel::prior(self.fields.clone());
            EmEvidence::compute(
                &model,
                &self.names,
                &self.p[i],
                &self.p[j],
                &self.levels(i, j),
                &[],
            )
        }

        fn conflict(&self, i: usize, j: usize) -> bool {
            self.names
                .individual_conflict(&self.p[i], &self.p[j], &self.levels(i, j))
        }
    }

    fn record(v: serde_json::Value) -> crate::engine::Record {
        serde_json::from_value(v).unwrap_or_default()
    }

    fn col(name: &str, ty: Option<&str>, samples: serde_json::Value) -> Column {
        Column {
            name: name.into(),
            data_type: ty.map(str::to_string),
            description: None,
            samples: samples.as_array().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn a_persons_name_beginning_another_is_no_abbreviation_when_nothing_else_is_known() {
        let recs: Vec<_> = [
            json!({"first_name": "", "last_name": "howie", "city": ""}),
            json!({"first_name": "", "last_name": "ho", "city": ""}),
            json!({"first_name": "", "last_name": "howie", "city": "dubbo"}),
            json!({"first_name": "", "last_name": "ho", "city": "dubbo"}),
        ]
        .into_iter()
        .map(record)
        .collect();
        let t = Typed::new(&recs);
        assert!(t.evidence(0, 1).abbreviation.is_none());
        // with a town agreeing as well, the short form is evidence again
        assert!(t.evidence(2, 3).abbreviation.is_some());
        // an organisation's initials stand for its name on their own
        let orgs: Vec<_> = [
            json!({"company_name": "international business machines", "city": ""}),
            json!({"company_name": "ibm", "city": ""}),
        ]
        .into_iter()
        .map(record)
        .collect();
        assert!(Typed::new(&orgs).evidence(0, 1).abbreviation.is_some());
    }

    #[test]
    fn a_flag_named_like_an_identity_identifies_no_one() {
        // 120 records: an e-mail address and a yes/no `email_opt_in`, an identity number
        // and a true/false `ssn_verified`
        let recs: Vec<_> = (0..120)
            .map(|i| {
                record(json!({
                    "email": format!("p{i}@mail.com"),
                    "email_opt_in": if i % 2 == 0 { "yes" } else { "no" },
                    "ssn": format!("{}", 100_000 + i * 7),
                    "ssn_verified": if i % 3 == 0 { "true" } else { "false" },
                }))
            })
            .collect();
        let t = Typed::new(&recs);
        let of = |name: &str| t.fields.iter().position(|f| f.name == name);
        assert!(
            t.fields
                .iter()
                .any(|f| f.name == "email_opt_in" && f.categorical)
        );
        let kinds: Vec<(Option<usize>, IndividualKind)> = vec![
            (of("email"), IndividualKind::Email),
            (of("ssn"), IndividualKind::Id),
        ];
        let found: Vec<(Option<usize>, IndividualKind)> = t
            .names
            .individual
            .iter()
            .map(|&(f, k)| (Some(f), k))
            .collect();
        assert_eq!(found, kinds, "{:?}", t.fields);
    }

    #[test]
    fn a_date_or_amount_named_like_a_given_name_is_no_given_name() {
        use super::super::fs::FieldKind::{Date, Number, Text};
        let fields = vec![
            FieldSpec::new("first_name", Text),
            FieldSpec::new("first_purchase", Number),
            FieldSpec::new("first_seen", Date),
            FieldSpec::new("last_name", Text),
        ];
        let names = NameFields::detect(&fields);
        assert_eq!(names.individual, vec![(0, IndividualKind::Given)]);
        assert_eq!(names.names, vec![0, 3]);
    }

    #[test]
    fn first_and_last_columns_are_the_name_as_first_name_and_last_name_are() {
        use super::super::fs::FieldKind::{Date, Text};
        let detect = |cols: &[&str]| {
            let fields: Vec<FieldSpec> = cols
                .iter()
                .map(|c| FieldSpec::new(*c, if *c == "dob" { Date } else { Text }))
                .collect();
            NameFields::detect(&fields).names
        };
        // columns come sorted by name: `address` first, then `dob`, `first`, `last`
        assert_eq!(detect(&["address", "dob", "first", "last"]), vec![2, 3]);
        assert_eq!(
            detect(&["address", "dob", "first_name", "last_name"]),
            vec![2, 3]
        );
        assert_eq!(detect(&["address", "customer", "dob"]), vec![1]);
        assert_eq!(detect(&["address", "dob", "given", "family"]), vec![2, 3]);
        // a column that only begins like one is no name (`last_updated`, `first_seen`)
        assert_eq!(detect(&["customer", "first_seen", "last_updated"]), vec![0]);
    }

    #[test]
    fn what_forgives_an_identity_number_or_an_email_that_differs() {
        use IndividualKind::{Email, Given, Id};
        let far = (super::super::fs::LEVELS - 1) as u8;
        // fields: 0 ssn, 1 e-mail, 2 given name
        let kinds = [(0, Id), (1, Email), (2, Given)];
        let conflict = |v: [u8; 3]| NameFields::pattern_conflict(&kinds, &v);
        // another identity number: the given name alone does not forgive it (namesakes)
        assert!(conflict([far, MISSING, 0]));
        // another e-mail: people hold several, the agreeing given name forgives it
        assert!(!conflict([MISSING, far, 0]));
        assert!(conflict([MISSING, far, MISSING]));
        // an agreeing e-mail forgives another identity number
        assert!(!conflict([far, 0, MISSING]));
    }

    #[test]
    fn names_known_on_one_side_only_do_not_conflict_and_identity_overrules_a_name() {
        use super::super::fs::FieldKind::{Code, Date, Text};
        use super::super::fs::{FieldSpec, compare, prepare};
        let fields = vec![
            FieldSpec::new("given_name", Text),
            FieldSpec::new("surname", Text),
            FieldSpec::new("date_of_birth", Date),
            FieldSpec::new("postcode", Code),
            FieldSpec::new("ssn", Code),
        ];
        let names = NameFields::detect(&fields);
        let rec = |v: serde_json::Value| prepare(&fields, v.as_object().unwrap());
        // one record with only its surname, the other with only its given name
        let a = rec(json!({"surname": "everett", "date_of_birth": "19110816", "postcode": "2152"}));
        let b =
            rec(json!({"given_name": "isabella", "date_of_birth": "19110816", "postcode": "2152"}));
        let v = compare(&fields, &a, &b);
        let [ta, tb] = names.shared_names(&a, &b, &v);
        assert!(ta.is_empty() && tb.is_empty(), "{ta:?} / {tb:?}");
        assert_eq!(names.name(&a), vec!["everett"]);
        // a surname that differs, with the birth date and postcode agreeing: one person
        let c = rec(json!({"surname": "smith", "date_of_birth": "19110816", "postcode": "2152"}));
        let v = compare(&fields, &a, &c);
        assert!(names.identity_confirmed(&v));
        // the birth date alone does not confirm (namesakes share birthdays), an identity
        // number does
        let d = rec(json!({"surname": "smith", "date_of_birth": "19110816", "postcode": "4000"}));
        assert!(!names.identity_confirmed(&compare(&fields, &a, &d)));
        let e = rec(json!({"surname": "jones", "ssn": "6653129"}));
        let f = rec(json!({"surname": "everett", "ssn": "6653129"}));
        assert!(names.identity_confirmed(&compare(&fields, &e, &f)));
    }

    #[test]
    fn a_street_name_is_not_a_name_of_the_person() {
        use super::super::fs::FieldKind::Text;
        use super::super::fs::FieldSpec;
        let fields: Vec<FieldSpec> = [
            "first_name",
            "last_name",
            "street_name",
            "city",
            "email_name",
        ]
        .iter()
        .map(|n| FieldSpec::new(*n, Text))
        .collect();
        let names = NameFields::detect(&fields);
        assert_eq!(names.names, vec![0, 1]);
        assert!(names.is_person());
        // no column says "name": the first text column that is no address part holds it
        let fields: Vec<FieldSpec> = ["Address", "Customer", "Notes"]
            .iter()
            .map(|n| FieldSpec::new(*n, Text))
            .collect();
        assert_eq!(NameFields::detect(&fields).names, vec![1]);
    }

    #[test]
    fn person_names_compare_token_by_token_and_company_names_do_not() {
        let t = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        // a nickname beside a mistyped surname: trigrams of the joined names see
        // almost nothing in common, which read as two people
        let (a, b) = (t("john smith"), t("jack smilh"));
        assert!(name_similarity(&a, &b, false) < NAME_CONFLICT);
        assert!(name_similarity(&a, &b, true) > 0.8);
        // swapped and mistyped
        assert!(name_similarity(&t("robert anchez"), &t("sacnhez bob"), true) > 0.7);
        // two people of one surname stay apart on the given name
        let sim = name_similarity(&t("deb jackson"), &t("kayla jackson"), true);
        assert!(sim < 0.8, "{sim}");
        // strangers
        assert!(name_similarity(&t("mary jones"), &t("steve wu"), true) < NAME_CONFLICT);
    }

    #[test]
    fn namesakes_born_apart_conflict_unless_more_than_the_name_agrees() {
        let rec = record;
        let recs = [
            rec(
                json!({"first_name": "james", "last_name": "smith", "dob": "1937-06-06",
                       "street": "12 oak st", "ssn": "318204576"}),
            ),
            // a namesake born elsewhere in time, living elsewhere
            rec(
                json!({"first_name": "james", "last_name": "smith", "dob": "1963-11-24",
                       "street": "7 elm rd", "ssn": ""}),
            ),
            // the same man, his birth date garbled, at the same address
            rec(
                json!({"first_name": "jim", "last_name": "smith", "dob": "1963-11-24",
                       "street": "12 oak st", "ssn": ""}),
            ),
            // the same man, his birth date garbled, his identity number kept
            rec(
                json!({"first_name": "james", "last_name": "smith", "dob": "1963-11-24",
                       "street": "", "ssn": "318204576"}),
            ),
            // a namesake with another identity number, no birth date, living elsewhere
            rec(
                json!({"first_name": "james", "last_name": "smith", "dob": "",
                       "street": "7 elm rd", "ssn": "987654321"}),
            ),
            // the first man, his identity number garbled, at his address
            rec(
                json!({"first_name": "james", "last_name": "smith", "dob": "",
                       "street": "12 oak st", "ssn": "987654321"}),
            ),
        ];
        let t = Typed::new(&recs);
        let (fields, conflict) = (&t.fields, |i, j| t.conflict(i, j));
        assert!(conflict(0, 1), "{fields:?}");
        assert!(!conflict(0, 2), "given name (short form) and address agree");
        assert!(!conflict(0, 3), "the identity number agrees");
        assert!(
            conflict(0, 4),
            "another identity number, only the name agrees"
        );
        assert!(!conflict(0, 5), "given name and address agree");
    }

    /// A whole name in one column (`SMITH, John`) stands for the given name where no
    /// column holds it alone: the same man at the same address with a garbled birth date
    /// is no conflict when his whole name agrees, and his namesake's son is one when it
    /// does not.
    #[test]
    fn a_whole_name_agreeing_forgives_a_birth_date_as_a_given_name_does() {
        let rec = record;
        let recs = [
            rec(json!({"name": "SMITH, James", "born": "1937-06-06", "street": "12 oak st"})),
            // the same man, his birth date garbled, at the same address
            rec(json!({"name": "SMITH, James", "born": "1963-11-24", "street": "12 oak st"})),
            // his son, at the same address
            rec(json!({"name": "SMITH, Tom", "born": "1963-11-24", "street": "12 oak st"})),
            // a namesake born elsewhere in time, living elsewhere
            rec(json!({"name": "SMITH, James", "born": "1963-11-24", "street": "7 elm rd"})),
        ];
        let t = Typed::new(&recs);
        let (fields, names) = (&t.fields, &t.names);
        assert!(!names.is_person() && !names.names.is_empty(), "{fields:?}");
        let conflict = |i, j| t.conflict(i, j);
        assert!(!conflict(0, 1), "whole name and address agree");
        assert!(conflict(0, 2), "the whole name differs");
        assert!(conflict(0, 3), "only the name agrees");
    }

    /// Two of one household whose given names and surnames both differ (roommates, a
    /// couple of two surnames) conflict, even with a birth year and month in common;
    /// names swapped between the fields do not, nor does a full birth date with the
    /// address.
    #[test]
    fn every_name_differing_is_another_person_unless_identity_is_sure() {
        let rec = record;
        let recs = [
            rec(
                json!({"first_name": "maria", "last_name": "lopez", "dob": "1980-05-17",
                       "street": "12 oak st"}),
            ),
            // a roommate born the same month (the day unknown on this side)
            rec(
                json!({"first_name": "tyler", "last_name": "brookman", "dob": "1980-05",
                       "street": "12 oak st"}),
            ),
            // the same woman with her names swapped between the fields
            rec(
                json!({"first_name": "lopez", "last_name": "maria", "dob": "1980-05-17",
                       "street": "12 oak st"}),
            ),
            // every name differs but the full birth date and address agree
            rec(
                json!({"first_name": "tyler", "last_name": "brookman", "dob": "1980-05-17",
                       "street": "12 oak st"}),
            ),
        ];
        let t = Typed::new(&recs);
        let fields = &t.fields;
        assert!(t.names.is_person(), "{fields:?}");
        let conflict = |i, j| t.conflict(i, j);
        let dob = fields.iter().position(|f| f.name == "dob").unwrap();
        assert_eq!(t.levels(0, 1)[dob], 2, "{fields:?}");
        assert!(conflict(0, 1), "{fields:?}");
        assert!(!conflict(0, 2), "names swapped");
        assert!(!conflict(0, 3), "full birth date and address");
    }

    #[test]
    fn companies_of_one_name_and_two_legal_forms_conflict() {
        let rec = |name: &str| record(json!({"company_name": name, "city": "anberwell"}));
        let recs = [
            rec("Blue Capital Inc"),
            rec("blue capital plc"),
            rec("Blue Capital Incorporated"),
            rec("Blue Capital"),
            rec("Blue Harbor Capital"),
            rec("Blue Summit Capital"),
        ];
        let t = Typed::new(&recs);
        assert_eq!(
            t.names.orgs, t.names.names,
            "a company name names an organisation"
        );
        let conflict = |i, j| t.conflict(i, j);
        assert!(conflict(0, 1), "Inc / PLC");
        assert!(!conflict(0, 2), "Inc / Incorporated");
        assert!(!conflict(1, 3), "a form dropped");
        assert!(!conflict(3, 4), "a word added");
        assert!(conflict(4, 5), "a word replaced: two companies");
    }

    #[test]
    fn types_and_compatibility() {
        assert_eq!(DataType::from_declared("VARCHAR(20)"), DataType::Text);
        assert_eq!(DataType::from_declared("bigint"), DataType::Integer);
        assert_eq!(
            DataType::infer(&["1".into(), "2.5".into()]),
            DataType::Float
        );
        assert_eq!(DataType::infer(&["2020-01-02".into()]), DataType::Date);
        assert_eq!(DataType::infer(&["20200102".into()]), DataType::Date);
        assert_eq!(DataType::infer(&["20201302".into()]), DataType::Integer);
        assert_eq!(DataType::infer(&["12345678".into()]), DataType::Integer);
        assert!(!DataType::compatible(DataType::Date, DataType::Bool));
        assert!(DataType::compatible(DataType::Integer, DataType::Float));
    }

    #[test]
    fn abbreviated_column_scores_high() {
        let t = Table {
            name: "people".into(),
            description: None,
            columns: vec![],
        };
        let a = SmColumn::new(
            &t,
            &col("given_name", Some("text"), json!(["john", "mary", "kate"])),
            None,
        );
        let b = SmColumn::new(
            &t,
            &col("gvnNm", None, json!(["john", "liam", "kate"])),
            None,
        );
        let c = SmColumn::new(&t, &col("postcode", None, json!([2000, 2600, 4000])), None);
        let idf = Idf::default();
        let exp = learn_expansions(std::slice::from_ref(&a), &[b.clone(), c.clone()]);
        let ab = sm_evidence(&a, &b, &idf, &exp, &[], Semantic::default());
        let ac = sm_evidence(&a, &c, &idf, &exp, &[], Semantic::default());
        assert!(ab.abbreviation);
        assert!(ab.score > 0.7, "{ab:?}");
        assert!(ac.score < 0.3, "{ac:?}");
    }

    #[test]
    fn formatted_and_bare_numbers_are_one_type() {
        let t = Table {
            name: "people".into(),
            description: None,
            columns: vec![],
        };
        let c = |name: &str, v: serde_json::Value| SmColumn::new(&t, &col(name, None, v), None);
        let bare = c(
            "phone",
            json!([8609077207u64, 7244456389u64, 6368668022u64]),
        );
        let dashed = c(
            "contact_number",
            json!(["495-225-5775", "656-357-5386", "658-206-7547"]),
        );
        assert!(!types_incompatible(&bare, &dashed));
        let compact = c("birthdate", json!([19970719, 19830626, 19940327]));
        let slashed = c(
            "birth_date",
            json!(["17/01/1943", "21/03/1970", "01/07/1957"]),
        );
        assert!(!types_incompatible(&compact, &slashed));
        // numbers against words still exclude each other
        let town = c("town", json!(["anski", "ashnel", "morulham"]));
        let zip = c("zip", json!([29538, 45618, 68339]));
        assert!(types_incompatible(&zip, &town));
        // a date written without separators is a date: it goes with `1992-10-16`
        let iso = c("dob", json!(["1992-10-16", "1971-08-13", "1942-07-07"]));
        assert!(!types_incompatible(&compact, &iso));
    }
}
