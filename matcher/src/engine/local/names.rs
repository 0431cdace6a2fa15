//! People and their names: which fields hold a given name, a surname, a birth date or
//! an identity number, when two records name two people (a household, namesakes), and
//! how alike two names are.

use super::*;

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

/// The year of a canonical date (`YYYYMMDD`), where it is known.
fn year_of(date: &str) -> Option<u32> {
    date.get(..4)
        .and_then(|y| y.parse::<u32>().ok())
        .filter(|&y| y > 0)
}

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

    /// Whether two reports say the two were born apart: birth dates that differ outright
    /// and ages (known on both sides) that differ by as many years (to one) and by two
    /// or more; or, where no birth date is known on both sides, ages more than
    /// [`AGES_APART`] years apart. A father and son of one name at one address (`brandon
    /// owtorash`, 1949 and 1942, aged 71 and 78) agree on everything else, and a birth
    /// date that differs outright was forgiven by the given name and the address (a
    /// mistyped date); the age, written apart from the date, tells the two apart. A date
    /// mistyped, or copied from another of the household, leaves the age as it was.
    /// `ages`: [`Self::age_gap`].
    fn born_apart(&self, a: &Prepared, b: &Prepared, v: &[u8], ages: f64) -> bool {
        let mut births = births_known(&self.individual, v).peekable();
        if births.peek().is_none() {
            return ages > AGES_APART;
        }
        // beside the birth dates, an age against the other side's date read as one says
        // what the dates say: only the ages both sides report are a second report
        let Some(ages) = (if self.ages_read.is_empty() {
            Some(ages)
        } else {
            self.own_age_gap(a, b, v)
        }) else {
            return false;
        };
        let year = |s: &str| year_of(s).map(f64::from);
        births.any(|f| {
            v.get(f) == Some(&OUTRIGHT)
                && year(a.value(f).norm)
                    .zip(year(b.value(f).norm))
                    .is_some_and(|(x, y)| ages >= 2.0 && ((x - y).abs() - ages).abs() <= 1.0)
        })
    }

    /// Whether a birth date known on both sides in `v` differs outright in the year alone,
    /// by two years or more: ages that agree beside it cannot be two people's born in one
    /// year (`lawrence wilson`, May and April 1993, both 26), and say that the year was
    /// mistyped (`2006` for `1996`, the census age 24 beside a register's 1996). Only
    /// asked where the ages agree ([`Self::age_gap`] 0).
    fn born_alike(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> bool {
        births_known(&self.individual, v).any(|f| {
            // month and day known (`19960000` is a year alone) and the same
            let whole = |r: &Prepared| crate::engine::fs::whole_date(r.value(f).norm);
            v.get(f) == Some(&OUTRIGHT)
                && whole(a)
                    .zip(whole(b))
                    .is_some_and(|((ya, ma, da), (yb, mb, db))| {
                        (ma, da) == (mb, db) && ya.abs_diff(yb) >= 2
                    })
        })
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

    /// The most years the ages known on both sides in `v` differ by.
    fn age_gap(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> Option<f64> {
        gap_of(self.ages.iter().copied(), a, b, v)
    }

    /// [`Self::age_gap`] of the ages both sides report, not one side's birth date read as
    /// an age ([`Self::ages_read`]): a second report of when the two were born.
    fn own_age_gap(&self, a: &Prepared, b: &Prepared, v: &[u8]) -> Option<f64> {
        let own = self.ages.iter().copied();
        gap_of(own.filter(|f| !self.ages_read.contains(f)), a, b, v)
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

/// The most years the age fields `ages` known on both sides in `v` differ by.
fn gap_of(ages: impl Iterator<Item = usize>, a: &Prepared, b: &Prepared, v: &[u8]) -> Option<f64> {
    ages.filter(|&f| v.get(f).is_some_and(|&l| l != MISSING))
        .filter_map(|f| {
            let (x, y) = (
                a.value(f).norm.parse::<f64>(),
                b.value(f).norm.parse::<f64>(),
            );
            Some((x.ok()? - y.ok()?).abs())
        })
        .reduce(f64::max)
}

/// Whether two canonical birth dates (`YYYYMMDD`) share the year and differ by one typing
/// edit in the month and day.
fn digit_apart_in_a_year(a: &str, b: &str) -> bool {
    a.len() == 8
        && b.len() == 8
        && a != b
        && a.get(..4) == b.get(..4)
        && crate::engine::fs::osa_distance_at_most(a, b, 1) <= 1
}

/// Concepts whose column names may say "name" without naming the entity (`email_name`,
/// `website_name`, `phone_name`); the address concepts ([`crate::engine::lexicon::ADDRESS`]:
/// `street_name`, `city_name`) are excluded as well.
const NOT_NAMES: &[&str] = &[
    "email", "website", "phone", "ssn", "postcode", "price", "income",
];

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
/// ([`crate::engine::lexicon::given_names_near`]: `bob` / `robert`, `bicll` / `william`), else
/// the share of characters an optimal-string-alignment edit keeps (`smith` / `smilh`
/// 0.8, where character trigrams see one in five).
fn token_similarity(x: &str, y: &str) -> f64 {
    if x == y {
        return 1.0;
    }
    if crate::engine::lexicon::given_names_near(x, y) {
        return 0.9;
    }
    let n = x.chars().count().max(y.chars().count());
    if n == 0 {
        return 0.0;
    }
    let d = crate::engine::fs::osa_distance_at_most(x, y, n).min(n);
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
            let fields = crate::engine::fs::infer_fields(recs.iter());
            let names = NameFields::detect(&fields);
            let p = recs
                .iter()
                .map(|r| crate::engine::fs::prepare(&fields, r))
                .collect();
            Self { fields, names, p }
        }

        /// The index of the field named `name`.
        fn at(&self, name: &str) -> usize {
            self.fields.iter().position(|f| f.name == name).unwrap()
        }

        fn levels(&self, i: usize, j: usize) -> Vec<u8> {
            crate::engine::fs::compare(&self.fields, &self.p[i], &self.p[j])
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

    /// A person's record: given name, surname, birth date, age and street.
    fn born(first: &str, last: &str, dob: &str, age: &str, street: &str) -> crate::engine::Record {
        record(
            json!({"first_name": first, "last_name": last, "dob": dob, "age": age,
                      "street": street}),
        )
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
        use crate::engine::fs::FieldKind::{Date, Number, Text};
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
        use crate::engine::fs::FieldKind::{Date, Text};
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
        let far = (crate::engine::fs::LEVELS - 1) as u8;
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
        use crate::engine::fs::FieldKind::{Code, Date, Text};
        use crate::engine::fs::{FieldSpec, compare, prepare};
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
    fn an_address_at_a_level_the_model_weighs_as_agreement_forgives_an_id() {
        use crate::engine::fs::FieldKind::{Code, Text};
        use crate::engine::fs::{FieldSpec, FsModel, compare, prepare};
        let fields = vec![
            FieldSpec::new("given_name", Text),
            FieldSpec::new("surname", Text),
            FieldSpec::new("address", Text),
            FieldSpec::new("ssn", Code),
        ];
        let rec = |v: serde_json::Value| prepare(&fields, v.as_object().unwrap());
        // one person, the house number mistyped in a whole address and another ID
        let a = rec(json!({"given_name": "erin", "surname": "krollig",
            "address": "68 wells road rosehill auburn sa 5068", "ssn": "4418503"}));
        let b = rec(json!({"given_name": "erin", "surname": "krollig",
            "address": "10 wellslroad rosehill auburn sa 5068", "ssn": "9780684"}));
        let v = compare(&fields, &a, &b);
        assert!((2..=3).contains(&v[2]), "{v:?}");
        let names = NameFields::detect(&fields);
        assert!(names.individual_conflict(&a, &b, &v));
        // where the data makes that level strong evidence (a whole address against its
        // parts joined: ten bits), it agrees beyond the name
        let mut model = FsModel::prior(fields.clone());
        model.m[2] = [0.15, 0.43, 0.24, 0.16, 0.02];
        model.u[2] = [0.00001, 0.00001, 0.0001, 0.0002, 0.9996];
        let strong = names.clone().with_close_levels(&model);
        assert_eq!(strong.close[2], Some(3));
        assert!(!strong.individual_conflict(&a, &b, &v));
        // where it is a neighbour's address (the level weighs nothing), it does not
        model.m[2][2] = 0.01;
        model.m[2][3] = 0.01;
        model.u[2][2] = 0.01;
        model.u[2][3] = 0.05;
        let weak = names.with_close_levels(&model);
        assert_eq!(weak.close[2], Some(1));
        assert!(weak.individual_conflict(&a, &b, &v));
    }

    /// Two namesakes born decades apart are two people unless something beyond the
    /// name agrees; a sex that agrees between most namesakes (the model weighs it at
    /// less than [`WEAK_BITS`]) is not that something, a town the model weighs is.
    #[test]
    fn a_sex_agreeing_does_not_forgive_a_birth_date_that_differs() {
        use crate::engine::fs::FieldKind::{Date, Text};
        use crate::engine::fs::{FieldSpec, FsModel, compare, prepare};
        let fields = vec![
            FieldSpec::new("first_name", Text),
            FieldSpec::new("surname", Text),
            FieldSpec::new("dob", Date),
            FieldSpec::new("gender", Text),
        ];
        let rec = |v: serde_json::Value| prepare(&fields, v.as_object().unwrap());
        let a = rec(json!({"first_name": "john", "surname": "smith",
            "dob": "1630-08-01", "gender": "male"}));
        let b = rec(json!({"first_name": "john", "surname": "smith",
            "dob": "1712-03-20", "gender": "male"}));
        let v = compare(&fields, &a, &b);
        assert_eq!((v[2], v[3]), (4, 0), "{v:?}");
        let mut model = FsModel::prior(fields.clone());
        model.m[3] = [0.93, 0.0001, 0.0001, 0.07, 0.0001];
        model.u[3] = [0.72, 0.0001, 0.0001, 0.27, 0.01];
        let names = NameFields::detect(&fields).with_close_levels(&model);
        assert_eq!(names.close[3], None);
        assert!(names.individual_conflict(&a, &b, &v));
        // a column whose agreement the model weighs (a birthplace) does forgive it
        model.u[3] = [0.05, 0.0001, 0.0001, 0.27, 0.68];
        let names = NameFields::detect(&fields).with_close_levels(&model);
        assert_eq!(names.close[3], Some(1));
        assert!(!names.individual_conflict(&a, &b, &v));
    }

    #[test]
    fn a_street_name_is_not_a_name_of_the_person() {
        use crate::engine::fs::FieldKind::Text;
        use crate::engine::fs::FieldSpec;
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
        let dob = t.at("dob");
        assert_eq!(t.levels(0, 1)[dob], 2, "{fields:?}");
        assert!(conflict(0, 1), "{fields:?}");
        assert!(!conflict(0, 2), "names swapped");
        assert!(!conflict(0, 3), "full birth date and address");
    }

    #[test]
    fn a_birth_date_a_digit_apart_does_not_forgive_another_given_name() {
        let rec = |given: &str, dob: &str| {
            record(
                json!({"first_name": given, "last_name": "lopez", "dob": dob,
                          "street": "12 oak st"}),
            )
        };
        let recs = [
            rec("maria", "1980-05-11"),
            // her husband, born the same month (a digit apart): two people
            rec("tyler", "1980-05-14"),
            // her record with the given name replaced: the date agrees whole
            rec("tyler", "1980-05-11"),
            // or written with day and month swapped (one date written two ways)
            rec("tyler", "1980-11-05"),
        ];
        let t = Typed::new(&recs);
        let fields = &t.fields;
        let dob = t.at("dob");
        assert_eq!(t.levels(0, 1)[dob], 1, "{fields:?}");
        assert_eq!(t.levels(0, 3)[dob], 1, "{fields:?}");
        assert!(t.conflict(0, 1), "a couple born one month");
        assert!(!t.conflict(0, 2), "the whole date agrees");
        assert!(!t.conflict(0, 3), "day and month swapped");
    }

    #[test]
    fn a_persons_employer_is_no_name_of_the_person() {
        // two tax forms of one person from two employers, and a third person's form
        let recs = [
            record(
                json!({"first_name": "maria", "last_name": "lopez", "ssn": "123456789",
                          "employer_name": "Blue Capital Inc"}),
            ),
            record(
                json!({"first_name": "maria", "last_name": "lopez", "ssn": "123456789",
                          "employer_name": "Premier Laboratories LLC"}),
            ),
            record(
                json!({"first_name": "tyler", "last_name": "brookman", "ssn": "987654321",
                          "employer_name": "Blue Capital Inc"}),
            ),
        ];
        let t = Typed::new(&recs);
        let fields = &t.fields;
        let employer = t.at("employer_name");
        assert!(t.names.is_person(), "{fields:?}");
        assert!(!t.names.names.contains(&employer), "{:?}", t.names);
        assert!(!t.names.orgs.contains(&employer), "{:?}", t.names);
        assert!(!t.conflict(0, 1), "one person's two employers");
        assert!(t.conflict(0, 2), "two people of one employer");
        // without a person's name the company's name is the entity's own
        let firms = [
            record(json!({"employer_name": "Blue Capital Inc", "city": "anberwell"})),
            record(json!({"employer_name": "Blue Capital PLC", "city": "anberwell"})),
        ];
        let t = Typed::new(&firms);
        assert_eq!(t.names.names, t.names.orgs, "{:?}", t.names);
        assert!(!t.names.names.is_empty(), "{:?}", t.names);
        assert!(t.conflict(0, 1), "two legal forms");
    }

    #[test]
    fn a_party_every_name_column_names_is_the_records_own() {
        // a birth register: the child's columns are the record's own
        let recs = [
            record(
                json!({"child_first_name": "maria", "child_last_name": "lopez",
                          "child_dob": "2001-05-11", "mother_first_name": "ana"}),
            ),
            record(
                json!({"child_first_name": "tyler", "child_last_name": "lopez",
                          "child_dob": "2003-02-17", "mother_first_name": "ana"}),
            ),
        ];
        let t = Typed::new(&recs);
        assert!(t.fields.iter().all(|f| !f.other_party), "{:?}", t.fields);
        assert!(t.names.is_person(), "{:?}", t.names);
        assert!(t.conflict(0, 1), "two children of one mother");
        // a firm's record with its contact person: the firm's name stays its name
        let recs = [
            record(json!({"business_name": "Blue Capital Inc", "contact_first_name": "maria"})),
            record(json!({"business_name": "Blue Capital PLC", "contact_first_name": "maria"})),
        ];
        let t = Typed::new(&recs);
        let business = t.at("business_name");
        assert!(t.names.names.contains(&business), "{:?}", t.names);
        // beside her own name, a spouse's given name and an e-mail at work are compared
        // columns, not her identity
        let recs = [record(
            json!({"first_name": "maria", "work_email": "m@blue.com",
                                   "spouse_first_name": "david"}),
        )];
        let t = Typed::new(&recs);
        let party = |n: &str| t.fields[t.at(n)].other_party;
        assert!(party("work_email") && party("spouse_first_name") && !party("first_name"));
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
    fn an_age_apart_with_its_birth_date_tells_a_father_from_his_son() {
        let rec =
            |dob: &str, age: &str, street: &str| born("brandon", "owtorash", dob, age, street);
        let recs = [
            rec("1949-03-25", "71", "4892 field dr"),
            // the son: another date, and an age as many years apart
            rec("1942-01-28", "78", "4892 field dr"),
            // the father's date mistyped (or copied from another of the household): the
            // age, written apart from it, stays his
            rec("1942-01-28", "71", "4892 field dr"),
            // no birth date: the ages alone, decades apart, elsewhere
            rec("", "7", "506 stoneson pl"),
            rec("", "75", "6847 garros dr"),
            // a census and a tax year a few years apart
            rec("", "71", "4892 field dr"),
            rec("", "75", "12 oak st"),
            // two censuses a decade apart, an age misreported
            rec("", "0", "4892 field dr"),
            rec("", "12", "12 oak st"),
        ];
        let t = Typed::new(&recs);
        assert_eq!(t.names.ages, vec![t.at("age")], "{:?}", t.fields);
        assert!(t.conflict(0, 1), "born apart, say the date and the age");
        assert!(!t.conflict(0, 2), "a date mistyped at the same address");
        assert!(t.conflict(3, 4), "ages 68 years apart");
        assert!(!t.conflict(5, 6), "ages four years apart");
        assert!(!t.conflict(7, 8), "two censuses a decade apart");
        // a birth date copied from another of the household: the ages decades apart and
        // the given names only weakly alike (`michael` / `richard`) are two people
        let rec = |given: &str, age: &str| {
            born(given, "owashstone", "1966-08-06", age, "7953 vertor way")
        };
        let t = Typed::new(&[
            rec("michael", "53"),
            rec("richard", "21"),
            rec("michael", "35"),
        ]);
        assert!(
            t.levels(0, 1)[t.at("first_name")] < 4,
            "{:?}",
            t.levels(0, 1)
        );
        assert!(t.conflict(0, 1), "a birth date copied");
        assert!(!t.conflict(0, 2), "one person, an age mistyped");
    }

    #[test]
    fn a_birth_year_mistyped_beside_agreeing_ages_is_one_person() {
        let rec = |dob: &str, age: &str, street: &str| born("ann", "ichulski", dob, age, street);
        // nothing beyond the name agrees: the streets differ
        let recs = [
            rec("2006-01-06", "24", "4635 kelich dr"),
            rec("1996-01-06", "24", "12 oak st"),
            // month and day differ as well: another date, not a mistyped year
            rec("2006-05-09", "24", "4635 kelich dr"),
            // the ages a year apart: born apart or not, they do not say the year was
            // mistyped
            rec("2006-01-06", "23", "4635 kelich dr"),
        ];
        let t = Typed::new(&recs);
        assert_eq!(t.levels(0, 1)[t.at("dob")], 4, "{:?}", t.fields);
        assert!(!t.conflict(0, 1), "a year mistyped, the age agreeing");
        assert!(t.conflict(2, 1), "another day and month");
        assert!(t.conflict(3, 1), "ages apart");
    }

    #[test]
    fn an_age_beside_its_birth_date_is_no_field_beyond_the_name() {
        let rec = |dob: &str, street: &str| born("lawrence", "wilson", dob, "26", street);
        // two of one name born in one year, in two towns: their ages agree as well
        let recs = [
            rec("1993-05-27", "2939 kelwell pl"),
            rec("1993-04-14", "7580 perros rd"),
        ];
        let t = Typed::new(&recs);
        assert_eq!(t.levels(0, 1)[t.at("dob")], 4, "{:?}", t.fields);
        assert!(t.conflict(0, 1));
        // without the birth dates the age is what there is
        let t = Typed::new(&[
            record(
                json!({"first_name": "lawrence", "last_name": "wilson", "age": "26",
                          "street": "2939 kelwell pl"}),
            ),
            record(
                json!({"first_name": "lawrence", "last_name": "wilson", "age": "26",
                          "street": "7580 perros rd"}),
            ),
        ]);
        assert!(!t.conflict(0, 1));
    }

    #[test]
    fn in_a_file_of_households_twins_are_two_people_and_a_garbled_name_is_one() {
        let rec = |given: &str, dob: &str| {
            record(
                json!({"first_name": given, "last_name": "moore", "dob": dob,
                          "street": "7803 dorow pl"}),
            )
        };
        let mut recs = vec![
            rec("james", "1983-03-19"),
            rec("diana", "1983-03-19"), // the twin
            rec("jmaes", "1983-03-19"), // james, garbled
            rec("moore", "1983-03-19"), // james, his names swapped
            rec("jim", "1983-03-19"),
        ];
        // the names as often as a file holds them: `james` ten times as often as its garble
        for _ in 0..40 {
            recs.extend([rec("james", ""), rec("diana", "")]);
        }
        for _ in 0..3 {
            recs.extend([rec("jmaes", ""), rec("moore", "")]);
        }
        let t = Typed::new(&recs);
        // no households: a replaced given name is forgiven by the birth date and address
        assert!(!t.conflict(0, 1));
        let mut households = t.names.clone();
        households.households = true;
        let households = households.with_given_counts(&t.p);
        let conflict =
            |i: usize, j: usize| households.individual_conflict(&t.p[i], &t.p[j], &t.levels(i, j));
        assert!(conflict(0, 1), "twins");
        let counts = households.given_counts.as_deref().unwrap();
        assert!(NameFields::a_name(counts, "james") && NameFields::a_name(counts, "diana"));
        assert!(
            !NameFields::a_name(counts, "jmaes"),
            "a garble of a name held ten times as often"
        );
        assert!(
            !NameFields::a_name(counts, "jim"),
            "held by fewer than three records"
        );
        assert!(!conflict(0, 3), "names swapped");
        // counted only in a file of households
        assert!(
            t.names
                .clone()
                .with_given_counts(&t.p)
                .given_counts
                .is_none()
        );
        // an identity number agreeing (copied from another member onto a form, or
        // mistyped into the twin's) forgives two names no more than the birth date does
        let rec = |given: &str, ssn: &str| {
            record(
                json!({"first_name": given, "last_name": "moore", "ssn": ssn,
                          "street": "7803 dorow pl"}),
            )
        };
        let mut recs = vec![rec("james", "734921530"), rec("diana", "734921530")];
        // the same pair on two streets: the identity alone is in question
        recs.push(record(json!({"first_name": "diana", "last_name": "moore",
                                "ssn": "734921530", "street": "12 oak st"})));
        recs.extend((0..40).flat_map(|k| {
            [
                rec("james", &format!("5{k:02}111222")),
                rec("diana", &format!("6{k:02}333444")),
            ]
        }));
        let t = Typed::new(&recs);
        assert!(
            t.names
                .individual
                .contains(&(t.at("ssn"), IndividualKind::Id)),
            "{:?}",
            t.fields
        );
        assert!(!t.conflict(0, 1), "no households: a replaced given name");
        let mut households = t.names.clone();
        households.households = true;
        let households = households.with_given_counts(&t.p);
        assert!(households.individual_conflict(&t.p[0], &t.p[1], &t.levels(0, 1)));
        assert!(!t.conflict(0, 2), "no households: the identity forgives it");
        assert!(households.individual_conflict(&t.p[0], &t.p[2], &t.levels(0, 2)));
    }
}
