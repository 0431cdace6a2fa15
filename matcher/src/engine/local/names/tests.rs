//! The names' tests: fields detected and pairs judged on records typed and prepared as a
//! run prepares them.

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
    let b = rec(json!({"given_name": "isabella", "date_of_birth": "19110816", "postcode": "2152"}));
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
    let rec = |dob: &str, age: &str, street: &str| born("brandon", "owtorash", dob, age, street);
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
    let rec =
        |given: &str, age: &str| born(given, "owashstone", "1966-08-06", age, "7953 vertor way");
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
