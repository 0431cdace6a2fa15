//! The model's tests: estimation and weights together, on records built here.

use super::super::test_records::{rec, text_fields};
use super::super::*;
use super::estimate::RARE_U;
use super::weights::DATE_TYPO_RATE;
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
    // ages five years or more apart beside a date alike but not the same (a digit): the
    // dates differ in truth, and the age counts; a few years apart it still says nothing
    let slip = w([MISSING, 4, 1]);
    assert!((slip[1] - age_off).abs() < 1e-9, "{slip:?}");
    assert_eq!(w([MISSING, 3, 1])[1], 0.0);
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
            let r = rec(
                json!({"given": g, "surname": s, "town": format!("t{}", i * 7 % 50),
                "phone": format!("p{i}"), "mail": format!("m{i}"), "org": format!("o{}", i % 9)}),
            );
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
fn an_entitys_records_in_other_towns_are_no_evidence_of_dependent_fields() {
    // two inventors with 150 mentions each among 3,000 strangers: a mention carries its
    // inventor's name and co-inventors and a town of its own, so that most pairs of one
    // inventor's mentions disagree on most fields and read as strangers' pairs
    let fields = text_fields(&[
        "first_name",
        "last_name",
        "coinventors",
        "town",
        "phone",
        "title",
    ]);
    let recs: Vec<Prepared> = (0..3300)
        .map(|i| {
            let (g, s, c) = if i < 300 {
                let k = i % 2;
                (format!("g{k}"), format!("s{k}"), format!("c{k}"))
            } else {
                (
                    format!("g{}", i % 37),
                    format!("s{}", i % 41),
                    format!("c{i}"),
                )
            };
            let r = rec(json!({"first_name": g, "last_name": s, "coinventors": c,
                "town": format!("t{}", i * 7 % 50), "phone": format!("p{i}"),
                "title": format!("x{i}")}));
            prepare(&fields, &r)
        })
        .collect();
    let lift = |m: &FsModel| m.u_pair[1][2] / (m.u[1][0] * m.u[2][0]);
    let pairs = RandomPairs::compare(&fields, &recs, &recs, 20_000, 5, true);
    let mut model = FsModel::prior(fields.clone());
    model.names = vec![0, 1];
    model.estimate_u_from(&pairs, &|_| false);
    assert!(model.u[2][0] < RARE_U, "{:?}", model.u[2]);
    assert!(lift(&model) < 2.0, "{}", lift(&model));
    // without the whole name known, a rare agreement marks no pair as one entity's
    let mut unnamed = FsModel::prior(fields);
    unnamed.estimate_u_from(&pairs, &|_| false);
    assert!(lift(&unnamed) > 10.0, "{}", lift(&unnamed));
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
    let fields = text_fields(&["fname", "lname", "street", "city", "state", "zip"]);
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

/// Strangers of one given name born days apart whose surnames differ, in one state or
/// one town of a large census: the state or town agreeing is no agreement of their
/// addresses, whose streets differ, and no third unit beside the given name and the
/// birth date that lets them into the match class. Where the address's parts agree by
/// chance alike, the failure guarded against: EM learns that a match's surname differs.
#[test]
fn a_state_or_town_beside_another_street_does_not_carry_namesakes_into_the_match_class() {
    let fields = text_fields(&["fname", "lname", "dob", "street", "city", "state"]);
    let mut vs: Vec<Vec<u8>> = Vec::new();
    for _ in 0..30 {
        vs.extend([
            vec![0, 1, 0, 0, 0, 0],
            vec![0, 0, 1, 0, 0, 0],
            vec![2, 0, 0, 0, 0, 0],
        ]);
    }
    vs.extend((0..150).map(|_| vec![0, 4, 1, 4, 4, 0]));
    vs.extend((0..150).map(|_| vec![0, 4, 1, 4, 0, 0]));
    vs.extend((0..3000).map(|k| vec![4, 4, 4, 4, 3 + (k % 2) as u8, 4]));
    let fit = |chance: [f64; 3]| {
        let mut m = FsModel::prior(fields.clone());
        m.u = vec![[0.03, 0.003, 0.008, 0.02, 0.939]; 6];
        for (f, c) in chance.into_iter().enumerate() {
            m.u[3 + f] = [c, 0.003, 0.008, 0.02, 0.969 - c];
        }
        m.names = vec![0, 1];
        m.individual = vec![
            (0, crate::engine::local::IndividualKind::Given),
            (2, crate::engine::local::IndividualKind::Birth),
        ];
        m.groups = vec![vec![3, 4, 5]];
        m.estimate_m(vs.iter().map(Vec::as_slice), 30, 0.5);
        m
    };
    let alike = fit([0.01, 0.01, 0.01]);
    assert!(
        alike.m[1][4] > 0.2,
        "the failure guarded against: {:?}",
        alike.m[1]
    );
    let m = fit([0.0005, 0.01, 0.06]);
    assert!(m.m[1][4] < 0.05, "surname m: {:?}", m.m[1]);
    assert!(m.probability(&[0, 4, 1, 4, 4, 0]) < 0.5);
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

/// A file with more pairs per candidate than the engine is calibrated for gets its prior
/// lowered by the excess, and says so; within the calibrated range it is kept.
#[test]
fn the_prior_is_lowered_only_past_the_calibrated_pairs_per_candidate() {
    let mut m = FsModel::prior(vec![FieldSpec::new("name", FieldKind::Text)]);
    m.lambda = 0.004;
    m.scale_prior(1000.0 * 50_000.0, 50_000.0);
    assert_eq!(m.lambda, 0.004);
    assert!(m.prior_note.is_none());
    m.scale_prior(4000.0 * 50_000.0, 50_000.0);
    assert!((m.lambda - 0.001).abs() < 1e-12, "{}", m.lambda);
    assert!(m.prior_note.as_deref().is_some_and(|n| n.contains("4000")));
    // nothing to compare: no division by zero, nothing lowered below a positive prior
    m.scale_prior(0.0, 0.0);
    assert!(m.lambda > 0.0);
}

#[test]
fn the_fit_notes_say_how_it_ended_and_what_it_left_out() {
    let mut m = FsModel::prior(text_fields(&["name", "city"]));
    assert!(m.notes().is_empty());
    m.em_note = Some("not converged after 30 iterations".into());
    m.prior_note = Some("lowered from 1e-2 to 1e-3".into());
    m.unrelated = vec!["status".into(), "amount".into()];
    let notes = m.notes();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert_eq!(notes[0], "em: not converged after 30 iterations");
    assert_eq!(notes[1], "prior: lowered from 1e-2 to 1e-3");
    assert!(notes[2].starts_with("not compared") && notes[2].ends_with(": status, amount"));
}
