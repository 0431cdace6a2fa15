//! People and their names: which fields hold a given name, a surname, a birth date or
//! an identity number, when two records name two people (a household, namesakes), and
//! how alike two names are.
//!
//! # Layout
//!
//! This file finds the fields ([`NameFields::detect`]) and decides a pair's conflict
//! ([`NameFields::individual_conflict`], [`GivenNamesConflict`]); `births` reads what the
//! birth dates and ages of two records say of when the two were born (the reports that
//! tell a father from his son, a mistyped year from two people); `similarity` is how alike
//! two whole names are, a pure function of their tokens.

use super::*;

mod births;
mod similarity;

use births::digit_apart_in_a_year;
pub use similarity::{NAME_CONFLICT, OVERWHELMING, name_similarity};

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
/// name, birth date, identity number, e-mail: [`crate::engine::lexicon::INDIVIDUAL`]).
#[derive(Debug, Clone, Default)]
pub struct NameFields {
    pub names: Vec<usize>,
    /// The name fields that name organisations (`company_name`, `employer`):
    /// [`crate::engine::lexicon::org_words_conflict`] applies to them.
    pub orgs: Vec<usize>,
    /// Individual fields (field index and kind).
    pub individual: Vec<(usize, IndividualKind)>,
    /// Per field, the highest comparison level that counts as agreeing beyond the name
    /// ([`Self::with_close_levels`]), `None` for a field whose agreement says next to
    /// nothing (a sex); a field not listed agrees at level 1 or better.
    pub close: Vec<Option<u8>>,
    /// The record's own age fields ([`crate::engine::fs::ages_of`]): with the birth date,
    /// a second report of when the person was born ([`Self::born_apart`]).
    pub ages: Vec<usize>,
    /// The age fields one side of which is a birth date read as an age
    /// ([`crate::engine::fs::FieldSpec::birth_read`]).
    pub ages_read: Vec<usize>,
    /// The file holds households ([`crate::engine::fs::FsModel::households`], read by
    /// [`Self::with_close_levels`]): two given names that differ outright, each a name the
    /// file holds often ([`Self::given_counts`]), are forgiven neither by the birth date
    /// and the address (twins share them) nor by an identity number or e-mail (one copied
    /// from another member).
    pub households: bool,
    /// How many records hold each given name ([`Self::with_given_counts`]; only in a file
    /// of households).
    pub given_counts: Option<std::sync::Arc<rustc_hash::FxHashMap<String, u32>>>,
}

/// Fewest records holding a given name for it to be a name, not a garble of one
/// ([`NameFields::with_given_counts`]).
const GIVEN_NAME_HELD: u32 = 3;

/// Years two ages differ by, where no birth date is known on both sides, beyond which
/// they are two people's ([`NameFields::born_apart`]): more than a misreported age and
/// the years between two records' dates (a census and a tax year; two censuses a decade
/// apart, ages misreported by two: a child of 0 is 12 at most).
const AGES_APART: f64 = 15.0;

/// The level of a field that differs outright.
const OUTRIGHT: u8 = (crate::engine::fs::LEVELS - 1) as u8;

/// Least weight (bits) of a weaker level for it to count as agreeing beyond the name
/// ([`NameFields::with_close_levels`]).
const CLOSE_BITS: f64 = 8.0;

/// Least weight (bits) of a field's exact agreement for it to count as agreeing beyond
/// the name ([`NameFields::with_close_levels`]). A sex agrees between most namesakes
/// (given names have one): in splink's historical-figures file it weighed +0.4 bits and
/// forgave two `john smith`s born decades apart in different towns (F1 0.894 -> 0.903).
const WEAK_BITS: f64 = 2.0;

/// Whether the individual fields hold a given name: the records are people's.
pub fn of_people(individual: &[(usize, IndividualKind)]) -> bool {
    individual.iter().any(|x| x.1 == IndividualKind::Given)
}

/// The fields of `kind` among the individual fields.
pub fn fields_of(
    individual: &[(usize, IndividualKind)],
    kind: IndividualKind,
) -> impl Iterator<Item = usize> + '_ {
    individual.iter().filter(move |x| x.1 == kind).map(|x| x.0)
}

/// The birth-date fields among `individual` known on both sides in `v`.
pub fn births_known<'a>(
    individual: &'a [(usize, IndividualKind)],
    v: &'a [u8],
) -> impl Iterator<Item = usize> + 'a {
    fields_of(individual, IndividualKind::Birth)
        .filter(|&f| v.get(f).is_some_and(|&l| l != MISSING))
}

/// What agrees beyond the individual fields, for [`NameFields::conflict_with`].
#[derive(Debug, Clone, Copy, Default)]
struct Agreeing {
    /// A field beyond the name and the individual fields (an address, a phone).
    beyond_name: bool,
    /// The whole name, where no column holds the given name alone: it stands for an
    /// agreeing given name.
    whole_name: bool,
    /// A birth date a digit apart within one year (`19700512` / `19700515`): how two of a
    /// household (a couple born one month) look, not one person's date written two ways
    /// (a century or day and month swapped, also level 1).
    birth_digit_apart: bool,
    /// The birth dates and the ages say, each on its own, that the two were born apart
    /// ([`NameFields::born_apart`]).
    born_apart: bool,
    /// The birth dates differ outright, their years two or more apart, and the ages agree
    /// to the year ([`NameFields::born_alike`]): one date was mistyped, as its own
    /// record's age says; with the given name agreeing the dates do not conflict.
    born_alike: bool,
    /// The ages differ by more than [`AGES_APART`] years: a birth date that agrees was
    /// copied from another of the household, and forgives no other given name; where the
    /// given names do not agree either (`michael` / `richard`, weakly alike), the two are
    /// two people.
    ages_apart: bool,
    /// The file holds households and the given names that differ outright are each a
    /// name it holds often: twins, or a birth date copied from another member
    /// ([`NameFields::two_given_names`]).
    two_given_names: bool,
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
            // another person's attribute (`spouse_first_name`, `mother_dob`,
            // `guardian_ssn`): two of a household share it, one person's records need not
            .filter(|(_, f)| !f.other_party)
            .filter_map(|(i, f)| {
                let kind = match crate::engine::lexicon::concept(&f.name)? {
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
            crate::engine::lexicon::concept(&f.name).is_some_and(|c| {
                crate::engine::lexicon::ADDRESS.contains(&c) || NOT_NAMES.contains(&c)
            })
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
                        crate::engine::lexicon::concept_exact(&f.name),
                        Some("given_name" | "surname")
                    );
                ((n.contains("name") || n.contains("title")) && !other(f)) || named_person
            })
            .map(|(i, _)| i)
            .collect();
        // Another party's name (`employer_name`, `spouse_last_name`) is no name of the
        // record's: two tax forms of one person from two employers (`Acme Inc` / `Blue
        // LLC`) conflicted as two companies of one name (tax forms deduplicated: F1 0.02)
        let organisation =
            |f: usize| crate::engine::lexicon::concept(&fields[f].name) == Some("organisation");
        let named: Vec<usize> = named
            .into_iter()
            .filter(|&f| !fields[f].other_party)
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
        let orgs = names.iter().copied().filter(|&i| organisation(i)).collect();
        let ages = crate::engine::fs::ages_of(fields);
        Self {
            names,
            orgs,
            individual,
            close: Vec::new(),
            ages_read: ages
                .iter()
                .copied()
                .filter(|&f| fields[f].birth_read)
                .collect(),
            ages,
            households: false,
            given_counts: None,
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
    ///   household, or two namesakes born the same day elsewhere, share everything else.
    ///   In a file of households two names it holds are forgiven neither by the birth
    ///   date and address nor by an identity number or e-mail (twins, an identity copied
    ///   from another member: [`Self::two_given_names`]), nor is any given name beside ages
    ///   more than [`AGES_APART`] years apart (a birth date copied from another member);
    /// - a birth date agrees beside such ages while neither a given name nor an identity
    ///   agrees: a copied date;
    /// - a birth date, identity number or e-mail disagrees outright while no individual
    ///   field agrees (or the age says the same: [`Self::born_apart`]);
    /// - every name of a person differs outright ([`Self::every_name_differs`]).
    ///
    /// - a name ends with a legal form of another family than the other's (`Inc` /
    ///   `PLC`): two companies of one name (not in a file of people, where a company's
    ///   name is where the person works).
    ///
    /// A duplicate with a missing birth date does not conflict, nor one with its given name
    /// and a mistyped identity number (the rest of its fields decide), nor, outside a file
    /// of households, one whose given name was replaced but whose birth date and address
    /// agree.
    pub fn individual_conflict(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        let nick = |f: usize| crate::engine::lexicon::given_values_related(a.value(f), b.value(f));
        // a whole name in one column (`SMITH, John`) holds the given name: where no column
        // holds it alone, the whole name agreeing (to a typo: `SMITH, Tom` is as close to
        // `SMITH, James` as a short form) stands for it
        let whole_name = !self.is_person()
            && !self.names.is_empty()
            && self
                .names
                .iter()
                .all(|&f| v.get(f).is_some_and(|&l| l <= 1));
        let birth_digit_apart = self.individual.iter().any(|&(f, k)| {
            k == IndividualKind::Birth
                && v.get(f) == Some(&1)
                && digit_apart_in_a_year(a.value(f).norm, b.value(f).norm)
        });
        let beyond_name = self.beyond_name_agrees(v);
        let age_gap = self.age_gap(a, b, v);
        let agree = Agreeing {
            beyond_name,
            whole_name,
            birth_digit_apart,
            born_apart: age_gap.is_some_and(|gap| self.born_apart(a, b, v, gap)),
            born_alike: age_gap == Some(0.0) && self.born_alike(a, b, v),
            ages_apart: age_gap.is_some_and(|g| g > AGES_APART),
            two_given_names: (beyond_name || self.identity_agrees(v))
                && self.two_given_names(a, b, v),
        };
        Self::conflict_with(&self.individual, v, nick, agree)
            // a company's name beside a person's (`company_name` in a file of contacts)
            // is where the person works: two legal forms there are two employers
            || (!self.is_person() && self.legal_conflict(a, b, v))
            || self.every_name_differs(a, b, v)
    }

    /// Whether an individual field of `kind` agrees in `v` (level ≤ 2).
    fn agrees(&self, kind: IndividualKind, v: &[u8]) -> bool {
        self.individual
            .iter()
            .any(|&(f, k)| k == kind && v.get(f).is_some_and(|&l| l <= 2))
    }

    /// Whether an identity number or an e-mail agrees in `v` (level ≤ 2): what `id_agree`
    /// of [`Self::conflict_with`] reads.
    fn identity_agrees(&self, v: &[u8]) -> bool {
        self.agrees(IndividualKind::Id, v) || self.agrees(IndividualKind::Email, v)
    }

    /// These name fields with [`Self::given_counts`] taken from `records` where the file
    /// holds households (elsewhere nothing is counted): after [`Self::with_close_levels`],
    /// which reads whether it does.
    pub fn with_given_counts<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r Prepared>,
    ) -> Self {
        let given: Vec<usize> = fields_of(&self.individual, IndividualKind::Given).collect();
        if !self.households || given.is_empty() {
            return self;
        }
        let mut counts: rustc_hash::FxHashMap<String, u32> = Default::default();
        for r in records {
            for &f in &given {
                let v = r.value(f).norm;
                if v.is_empty() {
                    continue;
                }
                match counts.get_mut(v) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(v.to_string(), 1);
                    }
                }
            }
        }
        self.given_counts = Some(std::sync::Arc::new(counts));
        self
    }

    /// Whether, in a file of households, each given name field that differs outright in
    /// `v` holds on both sides a name ([`Self::a_name`]), neither side's given name being
    /// among the other's names (names swapped): two names (`roy` / `laura`), as twins
    /// have, not a garble of one (`jmaes` / `james`), which a duplicate's birth date and
    /// address forgive. Only asked where a birth date, an identity number or an e-mail
    /// agrees (the test is then needed).
    fn two_given_names(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        let Some(counts) = self.given_counts.as_deref().filter(|_| self.households) else {
            return false;
        };
        let in_question = self.agrees(IndividualKind::Birth, v) || self.identity_agrees(v);
        let outright: Vec<usize> = fields_of(&self.individual, IndividualKind::Given)
            .filter(|&f| v.get(f) == Some(&OUTRIGHT))
            .collect();
        if !in_question || outright.is_empty() {
            return false;
        }
        let (na, nb) = (self.name(a), self.name(b));
        outright.iter().all(|&f| {
            let (x, y) = (a.value(f).norm, b.value(f).norm);
            Self::a_name(counts, x)
                && Self::a_name(counts, y)
                && !nb.iter().any(|t| t == x)
                && !na.iter().any(|t| t == y)
        })
    }

    /// Whether the given name `x` is a name of its own in a file whose given names are
    /// counted in `counts`: held by [`GIVEN_NAME_HELD`] records or more, and no garble of
    /// a name one edit away held ten times as often. A garble of a common name recurs (in
    /// 13,000 rows `jmaes` 25 times beside `james` 1,279, `jhn` 11 beside `john` 582),
    /// while two names an edit apart are each common (`mark` / `mary`).
    fn a_name(counts: &rustc_hash::FxHashMap<String, u32>, x: &str) -> bool {
        let Some(&n) = counts.get(x).filter(|&&n| n >= GIVEN_NAME_HELD) else {
            return false;
        };
        let chars: Vec<char> = x.chars().collect();
        let mut alphabet: Vec<char> = ('a'..='z').chain(chars.iter().copied()).collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        let more_common = |y: &[char]| {
            let y: String = y.iter().collect();
            counts.get(&y).is_some_and(|&m| m >= 10 * n)
        };
        let mut y: Vec<char> = Vec::with_capacity(chars.len() + 1);
        for i in 0..=chars.len() {
            // a letter dropped, swapped with the next, replaced, or added
            if i < chars.len() {
                y.clear();
                y.extend(chars[..i].iter().chain(&chars[i + 1..]));
                if more_common(&y) {
                    return false;
                }
            }
            if i + 1 < chars.len() {
                y.clear();
                y.extend(&chars);
                y.swap(i, i + 1);
                if more_common(&y) {
                    return false;
                }
            }
            for &c in &alphabet {
                if i < chars.len() && c != chars[i] {
                    y.clear();
                    y.extend(&chars);
                    y[i] = c;
                    if more_common(&y) {
                        return false;
                    }
                }
                y.clear();
                y.extend(chars[..i].iter().chain([&c]).chain(&chars[i..]));
                if more_common(&y) {
                    return false;
                }
            }
        }
        true
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
        if !self.is_person() || self.names.len() < 2 {
            return false;
        }
        let all_differ = self.names.iter().all(|&f| v.get(f) == Some(&OUTRIGHT))
            && !self.individual.iter().any(|&(f, k)| {
                k == IndividualKind::Given
                    && crate::engine::lexicon::given_values_related(a.value(f), b.value(f))
            });
        if !all_differ {
            return false;
        }
        // names swapped between the fields (`gonzalez anthony` / `anthony gonzalez`), or
        // swapped and mistyped, differ field by field but not as a whole
        let (ta, tb) = (self.name(a), self.name(b));
        let swapped = ta.iter().filter(|t| t.len() > 1).any(|x| {
            tb.iter()
                .any(|y| crate::engine::fs::osa_distance_at_most(x, y, 1) <= 1)
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
    /// agrees in `v`: at level 1 or better, or at a weaker level the model weighs as
    /// agreement ([`Self::with_close_levels`]).
    /// An age beside a birth date known on both sides is that date read on a day, not a
    /// field beyond it: two strangers of one given name born in one year (`lawrence
    /// wilson`, May and April 1993, both 26) forgave their two dates by the age.
    fn beyond_name_agrees(&self, v: &[u8]) -> bool {
        let births_known = births_known(&self.individual, v).next().is_some();
        v.iter().enumerate().any(|(f, &l)| {
            if births_known && self.ages.contains(&f) {
                return false;
            }
            l != MISSING
                && self
                    .close
                    .get(f)
                    .copied()
                    .unwrap_or(Some(1))
                    .is_some_and(|c| l <= c)
                && !self.names.contains(&f)
                && !self.individual.iter().any(|x| x.0 == f)
        })
    }

    /// These name fields with [`Self::close`] read from `model`: a field whose levels 2
    /// and 3 each weigh [`CLOSE_BITS`] or more agrees beyond the name at them; one whose
    /// exact agreement weighs less than [`WEAK_BITS`] never does. A whole
    /// postal address against its parts joined sits there for four matches in ten (a
    /// house number mistyped, a word run together), and a weak level that weighs ten
    /// bits is agreement: a replaced given name or a differing ID number was forgiven
    /// when the address came in parts and held against the same person written as one
    /// line.
    pub fn with_close_levels(mut self, model: &crate::engine::fs::FsModel) -> Self {
        self.households = model.households;
        self.close = (0..model.m.len())
            .map(|f| {
                let strong = |l: usize| model.level_weight(f, l) >= CLOSE_BITS;
                if model.level_weight(f, 0) < WEAK_BITS {
                    None
                } else if strong(2) && strong(3) {
                    Some(3)
                } else if strong(2) {
                    Some(2)
                } else {
                    Some(1)
                }
            })
            .collect();
        self
    }

    /// Whether the individual fields say two records are one person: an identity number
    /// agrees, or the birth date does together with a field beyond the name (an address,
    /// a phone). Then a name that conflicts was changed (a surname at marriage) or
    /// garbled, as a given name that conflicts is forgiven on the same evidence.
    pub fn identity_confirmed(&self, v: &[u8]) -> bool {
        self.agrees(IndividualKind::Id, v)
            || (self.agrees(IndividualKind::Birth, v) && self.beyond_name_agrees(v))
    }

    /// Whether two names that do not agree exactly end with legal forms of two families
    /// (`Blue Capital Inc` / `Blue Capital PLC`): two companies of one name.
    /// Or, for an organisation's name, when each name holds a word the other lacks
    /// ([`crate::engine::lexicon::org_words_conflict`]: `Premier Holdings` / `Premier
    /// Laboratories`).
    fn legal_conflict(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        self.names.iter().any(|&f| {
            v.get(f).is_some_and(|&l| l != 0 && l != MISSING)
                && (crate::engine::lexicon::legal_forms_conflict(a.value(f).norm, b.value(f).norm)
                    || (self.orgs.contains(&f)
                        && crate::engine::lexicon::org_words_conflict(
                            a.value(f).norm,
                            b.value(f).norm,
                        )))
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
                Some(l) if l != MISSING && l as usize >= crate::engine::fs::LEVELS - 1 => {
                    match kind {
                        IndividualKind::Given if nick(f) => given_agree = true,
                        IndividualKind::Given => given_conflict = true,
                        IndividualKind::Birth => birth_conflict = true,
                        IndividualKind::Id => id_conflict = true,
                        IndividualKind::Email => email_conflict = true,
                    }
                }
                _ => {}
            }
        }
        // a given name that differs outright is forgiven by an identity number, or by the
        // birth date agreeing together with something beyond the name, but not by a date
        // a digit apart within one year: two of a household born so (a couple born one
        // month) share the rest, while a duplicate whose given name was replaced and
        // whose birth date was mistyped as well has two errors
        // In a file of households, twins (or a birth date copied from another member)
        // share all that, and an identity number or e-mail may be copied from another
        // member (a dependant's on a parent's form, a family's address) or mistyped into
        // a twin's: there two names the file holds are forgiven by none of them
        let rescued = (id_agree && !agree.two_given_names)
            || (birth_agree
                && !agree.birth_digit_apart
                && beyond_name_agrees
                && !agree.two_given_names
                && !agree.ages_apart);
        // namesakes share their names: two birth dates that differ outright (more than a
        // mistyped digit or swapped day and month) are two people unless an identity
        // number agrees, or the given name and something beyond the name (an address, a
        // phone) do; a mistyped identity number is forgiven when a name or date agrees
        let birth_rescued = id_agree
            || (given_agree && (beyond_name_agrees || agree.born_alike) && !agree.born_apart);
        // the age, written apart from the date, says the same: two people (a father and
        // son of one name at one address) unless an identity number agrees
        birth_conflict |= agree.born_apart;
        // an identity number that differs outright (more than a typo or two) is another
        // person's unless a birth date or another identity agrees, or the given name and
        // something beyond the name (an address, a phone) do: namesakes share their given
        // names, so an agreeing given name alone does not forgive it
        let id_rescued = id_agree || birth_agree || (given_agree && beyond_name_agrees);
        // an e-mail that differs is forgiven by any agreeing identity, date or given name
        let email_rescued = id_agree || birth_agree || given_agree;
        // a birth date that agrees beside ages decades apart was copied from another of
        // the household: with no given name or identity agreeing, two people
        let copied_birth = agree.ages_apart && birth_agree && !given_agree && !id_agree;
        (given_conflict && !rescued)
            || copied_birth
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
/// `website_name`, `phone_name`); the address concepts ([`crate::engine::lexicon::ADDRESS`]:
/// `street_name`, `city_name`) are excluded as well.
const NOT_NAMES: &[&str] = &[
    "email", "website", "phone", "ssn", "postcode", "price", "income",
];

/// A test built once per model (its fields sorted out ahead of the many pairs): whether,
/// in a file of people, `v` conflicts on its given names, identity numbers or e-mails
/// ([`NameFields::pattern_conflict`] with the birth dates left out: a given name differing
/// outright, short forms counted, with no identity number or e-mail agreeing; or an
/// identity number or e-mail differing outright, unrescued) while no birth date agrees:
/// certainly two people (two of a household, two namesakes of one surname). A duplicate
/// whose given name was garbled keeps its birth date; a pair whose birth dates alone
/// differ may be one person with a mistyped year.
#[derive(Debug, Clone)]
pub struct GivenNamesConflict {
    /// The individual fields but the birth dates; empty where no given name is among them.
    named: Vec<(usize, IndividualKind)>,
    /// The birth date fields.
    births: Vec<usize>,
}

impl GivenNamesConflict {
    pub fn new(individual: &[(usize, IndividualKind)]) -> Self {
        let mut named: Vec<(usize, IndividualKind)> = individual
            .iter()
            .copied()
            .filter(|x| x.1 != IndividualKind::Birth)
            .collect();
        if !of_people(&named) {
            named.clear();
        }
        let births = individual
            .iter()
            .filter(|x| x.1 == IndividualKind::Birth)
            .map(|x| x.0)
            .collect();
        Self { named, births }
    }

    pub fn test(&self, v: &[u8]) -> bool {
        !self.named.is_empty()
            && !self
                .births
                .iter()
                .any(|&f| v.get(f).is_some_and(|&l| l <= 2))
            && NameFields::pattern_conflict(&self.named, v)
    }
}

#[cfg(test)]
mod tests;
