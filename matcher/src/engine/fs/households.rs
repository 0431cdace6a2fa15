//! Whether a file holds households: people of one surname at one address, told apart by
//! their given names and birth dates.
//!
//! Why it matters: a duplicate whose given name was replaced (Febrl writes such) agrees
//! on the surname, the address and the birth date, and so do twins, or two of a household
//! whose birth date one record copied from the other. Which of the two a pair of another
//! given name is, only the file can say: where its candidates hold many pairs of one
//! surname and address whose given names *and* birth dates differ (households), and few
//! whose birth dates agree beside them, a given name that differs outright is another
//! person ([`crate::engine::local::NameFields`]); where the latter outnumber the former
//! (Febrl: 300 against 30), it is a duplicate's replaced name.

use super::*;
use crate::engine::local::IndividualKind;

/// Least exact-agreement weight (bits) of a field for it to place two records at one
/// address: a street, a house number, a phone; not a state or a town alone.
const PLACE_BITS: f64 = 5.0;

/// Fewest pairs of household members ([`FsModel::estimate_households`]) for a file to
/// count as one of households.
const MIN_MEMBERS: usize = 20;

/// How the candidate pairs of one surname and one address split
/// ([`FsModel::estimate_households`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HouseholdCounts {
    /// Given names and birth dates differ outright: two members of a household.
    pub members: usize,
    /// Given names differ outright, birth dates agree (to a typo): twins, a date copied
    /// from another member, or a duplicate whose given name was replaced.
    pub one_birth: usize,
}

impl HouseholdCounts {
    /// Whether these counts say the file is one of households: members are many and
    /// outnumber twice the pairs born on one date (Febrl's replaced given names: 306 such
    /// against 30 members; a census: 16 against 4,514; with one birth date in ten
    /// copied from another member, 342 against 4,650).
    pub fn households(&self) -> bool {
        self.members >= MIN_MEMBERS && 2 * self.one_birth < self.members
    }
}

impl FsModel {
    /// Counts, among the comparison vectors `vectors`, the pairs that agree on a surname
    /// (a name field other than a given name, level ≤ 1) and on two or more fields that
    /// place them at one address (exact agreement weighing [`PLACE_BITS`] or more, no age;
    /// one of them no town, county, state, postcode or country),
    /// whose given names differ outright, by whether their birth dates differ outright or
    /// agree; and sets [`FsModel::households`] from them. Run after the m estimate (the
    /// weights tell which fields place a record).
    pub fn estimate_households<'a>(
        &mut self,
        vectors: impl IntoIterator<Item = &'a [u8]>,
    ) -> HouseholdCounts {
        const OUTRIGHT: u8 = (LEVELS - 1) as u8;
        let of_kind = |kind: IndividualKind| -> Vec<usize> {
            crate::engine::local::fields_of(&self.individual, kind).collect()
        };
        let (given, birth) = (
            of_kind(IndividualKind::Given),
            of_kind(IndividualKind::Birth),
        );
        let surnames: Vec<usize> = self
            .names
            .iter()
            .copied()
            .filter(|f| !given.contains(f))
            .collect();
        let place: Vec<usize> = (0..self.fields.len())
            .filter(|f| {
                !self.names.contains(f)
                    && !self.individual.iter().any(|x| x.0 == *f)
                    && !self.ages.contains(f)
                    && self.level_weight(*f, 0) >= PLACE_BITS
            })
            .collect();
        // one of them below the area (a street, a house number, a phone): a postcode and a
        // town place two neighbours of one surname together, more of them the larger the
        // file, where a Febrl-like file of a million records could have read as one of
        // households
        let area = |f: usize| {
            matches!(
                crate::engine::lexicon::concept(&self.fields[f].name),
                Some("city" | "state" | "county" | "postcode" | "country")
            )
        };
        let street: Vec<usize> = place.iter().copied().filter(|&f| !area(f)).collect();
        let mut counts = HouseholdCounts::default();
        if given.is_empty() || birth.is_empty() || surnames.is_empty() || street.is_empty() {
            self.households = false;
            return counts;
        }
        for v in vectors {
            let level = |f: &usize| v.get(*f).copied().unwrap_or(MISSING);
            let together = surnames.iter().any(|f| level(f) <= 1)
                && place.iter().filter(|f| level(f) <= 1).count() >= 2
                && street.iter().any(|f| level(f) <= 1)
                && given.iter().any(|f| level(f) == OUTRIGHT);
            if !together {
                continue;
            }
            if birth.iter().any(|f| level(f) == OUTRIGHT) {
                counts.members += 1;
            } else if birth.iter().any(|f| level(f) <= 1) {
                counts.one_birth += 1;
            }
        }
        self.households = counts.households();
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// given name, surname, birth date, street, house number
    fn model() -> FsModel {
        let fields = vec![
            FieldSpec::new("first_name", FieldKind::Text),
            FieldSpec::new("last_name", FieldKind::Text),
            FieldSpec::new("dob", FieldKind::Date),
            FieldSpec::new("street", FieldKind::Text),
            FieldSpec::new("house_number", FieldKind::Code),
        ];
        let mut m = FsModel::prior(fields);
        m.individual = vec![(0, IndividualKind::Given), (2, IndividualKind::Birth)];
        m.names = vec![0, 1];
        m.m = vec![[0.9, 0.05, 0.03, 0.01, 0.01]; 5];
        m.u = vec![[0.001, 0.001, 0.002, 0.05, 0.946]; 5];
        m
    }

    #[test]
    fn members_of_households_outnumbering_one_birth_date_make_a_file_of_households() {
        let mut m = model();
        let mut vs: Vec<Vec<u8>> = Vec::new();
        vs.extend((0..300).map(|_| vec![4, 0, 4, 0, 0])); // a couple, a parent and child
        vs.extend((0..10).map(|_| vec![4, 0, 0, 0, 0])); // twins
        vs.extend((0..500).map(|_| vec![0, 0, 0, 0, 0])); // duplicates
        vs.extend((0..500).map(|_| vec![4, 0, 4, 4, 4])); // namesakes elsewhere
        let c = m.estimate_households(vs.iter().map(Vec::as_slice));
        assert_eq!(
            c,
            HouseholdCounts {
                members: 300,
                one_birth: 10
            }
        );
        assert!(m.households);
    }

    #[test]
    fn replaced_given_names_outnumbering_members_are_no_households() {
        let mut m = model();
        let mut vs: Vec<Vec<u8>> = Vec::new();
        vs.extend((0..30).map(|_| vec![4, 0, 4, 0, 0]));
        vs.extend((0..300).map(|_| vec![4, 0, 1, 0, 0])); // a replaced given name
        // one place field agreeing (a house number alone) places no pair at one address
        vs.extend((0..1000).map(|_| vec![4, 0, 4, 4, 0]));
        let c = m.estimate_households(vs.iter().map(Vec::as_slice));
        assert_eq!(
            c,
            HouseholdCounts {
                members: 30,
                one_birth: 300
            }
        );
        assert!(!m.households);
        // a postcode and a town alone place no one at one address
        let mut m = model();
        m.fields[3] = FieldSpec::new("postcode", FieldKind::Code);
        m.fields[4] = FieldSpec::new("city", FieldKind::Text);
        let neighbours: Vec<Vec<u8>> = (0..300).map(|_| vec![4, 0, 4, 0, 0]).collect();
        let c = m.estimate_households(neighbours.iter().map(Vec::as_slice));
        assert_eq!(c, HouseholdCounts::default());
        assert!(!m.households);
        // too few members for a verdict
        let mut m = model();
        let few: Vec<Vec<u8>> = (0..19).map(|_| vec![4, 0, 4, 0, 0]).collect();
        m.estimate_households(few.iter().map(Vec::as_slice));
        assert!(!m.households);
    }
}
