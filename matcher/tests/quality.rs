//! Quality on the benchmark data built by `tests/data/fetch.sh` (in tests/data/cache/).
//! FAILS when the data is missing: run `bash tests/data/fetch.sh` first.
//! The bounds are safe lower bounds (the targets are higher: see bench/quality.sh), so a
//! failure means a real regression. Run in release mode for realistic timings:
//! `cargo test -p kcmf-matcher --release --test quality -- --nocapture`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kcmf_matcher::config::{LlmConfig, MatchingConfig};
use kcmf_matcher::engine::linkage::{self, LinkOptions};
use kcmf_matcher::engine::{Engine, Record, SchemaOptions, Table};

fn cache() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/cache");
    assert!(
        p.join("febrl/dataset4a.csv").exists(),
        "benchmark data missing in {}: run `bash tests/data/fetch.sh` first",
        p.display()
    );
    p
}

fn read(path: &Path) -> (Vec<String>, Vec<Record>) {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .unwrap();
    let h: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let mut ids = Vec::new();
    let mut recs = Vec::new();
    for row in rdr.records() {
        let row = row.unwrap();
        let mut r = Record::new();
        for (i, v) in row.iter().enumerate().skip(1) {
            r.insert(h[i].clone(), v.into());
        }
        ids.push(row[0].to_string());
        recs.push(r);
    }
    (ids, recs)
}

fn truth(path: &Path, unordered: bool) -> HashSet<(String, String)> {
    let (ids, recs) = read(path);
    ids.into_iter()
        .zip(recs)
        .map(|(a, r)| {
            let b = r
                .values()
                .next()
                .and_then(|v| v.as_str())
                .unwrap()
                .to_string();
            if unordered && b < a { (b, a) } else { (a, b) }
        })
        .collect()
}

fn f1(t: &HashSet<(String, String)>, p: &HashSet<(String, String)>) -> f64 {
    let c = t.intersection(p).count() as f64;
    if c == 0.0 {
        return 0.0;
    }
    let (pr, rc) = (c / p.len() as f64, c / t.len() as f64);
    2.0 * pr * rc / (pr + rc)
}

fn link_f1(left: &Path, right: &Path, truth_file: &Path) -> (f64, f64) {
    let start = Instant::now();
    // the files as the command line reads them (CSV or JSON, the id column found)
    let file = |p: &Path| {
        let t = kcmf_matcher::records::read_records(p, None).unwrap();
        (t.ids, t.records)
    };
    let (li, l) = file(left);
    let (ri, r) = file(right);
    let t = truth(truth_file, false);
    // KCMF_DEBUG lists the misses too: every candidate kept
    let opts = LinkOptions {
        keep_candidates: std::env::var("KCMF_DEBUG").is_ok(),
        ..LinkOptions::default()
    };
    let out = linkage::link(&l, &r, &[], &opts).unwrap();
    let p: HashSet<(String, String)> = out
        .matches()
        .map(|m| (li[m.left].clone(), ri[m.right].clone()))
        .collect();
    let secs = start.elapsed().as_secs_f64();
    let c = t.intersection(&p).count();
    println!(
        "candidates={} predicted={} correct={} truth={}",
        out.candidate_pairs,
        p.len(),
        c,
        t.len()
    );
    if std::env::var("KCMF_DEBUG").is_ok() {
        println!(
            "lambda={:.4} iterations={}",
            out.model.lambda, out.model.iterations
        );
        for (f, s) in out.model.fields.iter().enumerate() {
            println!(
                "{:<16} {:?} m={:.3?} u={:.3?}",
                s.name, s.kind, out.model.m[f], out.model.u[f]
            );
        }
        let truth_idx: HashSet<(usize, usize)> = out
            .pairs
            .iter()
            .filter(|m| t.contains(&(li[m.left].clone(), ri[m.right].clone())))
            .map(|m| (m.left, m.right))
            .collect();
        for m in out
            .pairs
            .iter()
            .filter(|m| m.is_match != truth_idx.contains(&(m.left, m.right)))
            .take(15)
        {
            println!(
                "{} p={:.3} rule={} {:?} | {:?}",
                if m.is_match { "FP" } else { "FN" },
                m.probability,
                m.rule,
                l[m.left].values().collect::<Vec<_>>(),
                r[m.right].values().collect::<Vec<_>>()
            );
        }
    }
    (f1(&t, &p), secs)
}

#[test]
fn febrl4_link() {
    let c = cache();
    let (f, secs) = link_f1(
        &c.join("febrl/dataset4a.csv"),
        &c.join("febrl/dataset4b.csv"),
        &c.join("febrl/febrl4_truth.csv"),
    );
    println!("febrl4 f1={f:.4} seconds={secs:.2}");
    assert!(f >= 0.99, "febrl4 f1 {f}");
}

#[test]
fn febrl4_against_a_postal_address_file_link() {
    let c = cache();
    let (f, secs) = link_f1(
        &c.join("febrl/dataset4a.csv"),
        &c.join("reshaped/febrl4_postal/right.csv"),
        &c.join("febrl/febrl4_truth.csv"),
    );
    println!("febrl4_postal f1={f:.4} seconds={secs:.2}");
    // measured 0.9989; 0.8918 while the whole `Postal Address` was compared with the
    // street alone and `ID Number` was taken for a street number
    assert!(f >= 0.98, "febrl4_postal f1 {f}");
}

#[test]
fn febrl4_against_a_database_export_link() {
    let c = cache();
    let (f, secs) = link_f1(
        &c.join("febrl/dataset4a.csv"),
        &c.join("reshaped/febrl4_exported/right.csv"),
        &c.join("febrl/febrl4_truth.csv"),
    );
    println!("febrl4_exported f1={f:.4} seconds={secs:.2}");
    // measured 0.9998 by `eval`; 0.9973 while `5304218.0` was compared with `5304218`
    // as text and `1913-03-12T00:00:00Z` was no date
    assert!(f >= 0.998, "febrl4_exported f1 {f}");
}

#[test]
fn febrl4_link_with_a_json_lines_right_file() {
    let c = cache();
    let (f, secs) = link_f1(
        &c.join("febrl/dataset4a.csv"),
        &c.join("reshaped/febrl4_jsonl/right.jsonl"),
        &c.join("febrl/febrl4_truth.csv"),
    );
    println!("febrl4_jsonl f1={f:.4} seconds={secs:.2}");
    // measured 0.9998 by `eval`; a JSON file was read as a one-column CSV, and with the
    // file read, `4/19/08` birth dates were codes no date column aligned with (0.9974)
    assert!(f >= 0.998, "febrl4_jsonl f1 {f}");
}

#[test]
fn fodors_zagats_link() {
    let c = cache();
    let (f, secs) = link_f1(
        &c.join("restaurants/fodors.csv"),
        &c.join("restaurants/zagats.csv"),
        &c.join("restaurants/fz_truth.csv"),
    );
    println!("fodors-zagats f1={f:.4} seconds={secs:.2}");
    assert!(f >= 0.95, "fodors-zagats f1 {f}");
}

/// Pairwise F1 of the clusters of a dedup run (default options).
fn dedup_f1(input: &Path, truth_file: &Path) -> f64 {
    let (ids, recs) = read(input);
    records_dedup_f1(&ids, &recs, truth_file)
}

/// F1 of the default dedup of `recs` (named by `ids`) against the pairs of `truth_file`.
fn records_dedup_f1(ids: &[String], recs: &[Record], truth_file: &Path) -> f64 {
    let t = truth(truth_file, true);
    let out = linkage::dedup(recs, &[], &LinkOptions::default());
    let mut p = HashSet::new();
    for cl in &out.clusters {
        for x in 0..cl.len() {
            for y in (x + 1)..cl.len() {
                let (a, b) = (ids[cl[x]].clone(), ids[cl[y]].clone());
                p.insert(if b < a { (b, a) } else { (a, b) });
            }
        }
    }
    f1(&t, &p)
}

#[test]
fn febrl3_dedup() {
    let c = cache();
    let f = dedup_f1(
        &c.join("febrl/dataset3.csv"),
        &c.join("febrl/febrl3_truth.csv"),
    );
    println!("febrl3 dedup f1={f:.4}");
    assert!(f >= 0.97, "febrl3 f1 {f}");
}

/// [`dedup_f1`] of a file read as the commands read it (its id column found by
/// [`kcmf_matcher::records::read_records`], wherever it is).
fn dedup_f1_read(input: &Path, truth_file: &Path) -> f64 {
    let t = kcmf_matcher::records::read_records(input, None).unwrap();
    records_dedup_f1(&t.ids, &t.records, truth_file)
}

// Febrl laid out as real files come (bench/reshape_febrl.py).

#[test]
fn febrl_with_a_third_of_its_values_blank_dedup() {
    let c = cache();
    let f = dedup_f1_read(
        &c.join("reshaped/febrl2_sparse/input.csv"),
        &c.join("febrl/febrl2_truth.csv"),
    );
    println!("febrl2_sparse f1={f:.4}");
    // measured 0.8824; 0.8248 while one shared first name alone could make a match.
    // 0.8980 while `last` was not read as a name field (the surname then counted as
    // evidence beyond the name and forgave a replaced given name; the same file with its
    // columns named `first_name` / `last_name` gave 0.8824 then too). 0.8972 since a
    // name in the given-name column with the surname blank (a swap half blanked) is
    // compared as the surname; 0.8833 before
    assert!(f >= 0.89, "febrl2_sparse f1 {f}");
}

#[test]
fn febrl_with_joined_and_renamed_columns_dedup() {
    let c = cache();
    let f = dedup_f1_read(
        &c.join("reshaped/febrl3_renamed/input.csv"),
        &c.join("febrl/febrl3_truth.csv"),
    );
    println!("febrl3_renamed f1={f:.4}");
    // measured 0.9995; 0.9619 while `Tax No` was not known as an identity number
    assert!(f >= 0.98, "febrl3_renamed f1 {f}");
}

#[test]
fn febrl_with_order_columns_beside_it_dedup() {
    let c = cache();
    let f = dedup_f1_read(
        &c.join("reshaped/febrl3_crm/input.csv"),
        &c.join("febrl/febrl3_truth.csv"),
    );
    println!("febrl3_crm f1={f:.4}");
    // measured 1.0; 0.0 while the eight order columns (amount, status, notes, ...) were
    // compared: every duplicate disagreed on them, EM found no match class and the
    // prior weights counted each disagreement against a match
    assert!(f >= 0.99, "febrl3_crm f1 {f}");
}

#[test]
fn febrl_with_titled_names_and_whole_addresses_dedup() {
    let c = cache();
    let f = dedup_f1_read(
        &c.join("reshaped/febrl2_titled/input.csv"),
        &c.join("febrl/febrl2_truth.csv"),
    );
    println!("febrl2_titled f1={f:.4}");
    // measured 0.9958; 0.9877 while `Address` (sorted before `Customer`) was taken for the
    // name and `Dr` / `Mrs` made one name two
    assert!(f >= 0.98, "febrl2_titled f1 {f}");
}

#[test]
fn febrl_with_worded_dates_and_surname_first_names_dedup() {
    let c = cache();
    let f = dedup_f1_read(
        &c.join("reshaped/febrl3_worded/input.csv"),
        &c.join("febrl/febrl3_truth.csv"),
    );
    println!("febrl3_worded f1={f:.4}");
    // measured 0.9941; 0.9630 while `Jul 22, 1922` was text and a differing birth date
    // was forgiven only by a given-name column (a whole `SMITH, John` did not count)
    assert!(f >= 0.98, "febrl3_worded f1 {f}");
}

#[test]
fn febrl_link_with_a_third_of_its_values_blank() {
    let c = cache().join("reshaped/febrl4_sparse");
    let (f, _) = link_f1(
        &c.join("a.csv"),
        &c.join("b.csv"),
        &cache().join("febrl/febrl4_truth.csv"),
    );
    println!("febrl4_sparse f1={f:.4}");
    // measured 0.936; 0.885 while a name known on one side only (a given name here, a
    // surname there) read as two people, and an agreeing identity number did not
    // overrule a surname that differs. 0.9601 since a name in the other name column,
    // its own blank, is compared as the name it is; 0.9558 before
    assert!(f >= 0.958, "febrl4_sparse f1 {f}");
}

// The seeded shapes of bench/gen_shapes.py, with the same default options. Bounds are
// safe lower bounds below the figures measured (bench/README.md).

#[test]
fn split_names_and_date_parts_dedup() {
    let s = cache().join("shapes/person_split");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_split f1={f:.4}");
    // measured 0.945 (0.920 in session 9; 0.902 before big clusters needed some matches in a sample of their pairs); before typed columns, identity conflicts and evidence clustering 0.43
    assert!(f >= 0.93, "person_split f1 {f}");
}

#[test]
fn heavy_tailed_entities_dedup() {
    let s = cache().join("shapes/person_heavy");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_heavy f1={f:.4}");
    // measured 0.995 (entities of 100-500 mentions)
    assert!(f >= 0.95, "person_heavy f1 {f}");
}

#[test]
fn heavy_tailed_mentions_as_a_patent_office_exports_them_dedup() {
    let s = cache().join("shapes/person_heavy");
    let f = dedup_f1_read(&s.join("input_patents.csv"), &s.join("truth.csv"));
    println!("person_heavy with patent columns f1={f:.4}");
    // measured 0.9916. With the patent number alone beside the mentions, 0.9003 while
    // it was compared (co-inventors share it, one inventor's mentions never do; blocking
    // paired the records sharing it, so it looked as telling as a name). With the
    // town's coordinates and the country too, 0.9019 while a move counted as three
    // disagreements (the coordinates were not known to change with the town, and the
    // country everyone shares kept the group from counting as moved). With the ids of
    // the place and the employer too, 0.9362: one inventor's 425 mentions at two
    // employers in two towns ended as two clusters, one per career. 0.9907 while that
    // inventor's own 425 mentions made the name look common (3% of the file, -2.6 bits
    // on every pair of them); 0.9948 with a name's frequency counted outside the
    // record's own first-round cluster
    assert!(f >= 0.985, "person_heavy patents f1 {f}");
}

#[test]
fn organisations_dedup() {
    let s = cache().join("shapes/org_dedup");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("org_dedup f1={f:.4}");
    // measured 0.963 (0.875 in session 7)
    assert!(f >= 0.94, "org_dedup f1 {f}");
}

#[test]
fn differently_named_columns_link() {
    let s = cache().join("shapes/person_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("person_link f1={f:.4}");
    // measured 0.948 (0.933 before near-name keys, swaps past a move and term frequencies on close names; 0.880 before compound blocking keys and partial-date weights; 0.76 before the identity rules and the address groups)
    assert!(f >= 0.93, "person_link f1 {f}");
}

/// Names and birth dates only (split name columns, date parts), one error per second
/// record: namesakes born days apart must not merge.
#[test]
fn names_and_birth_dates_only_dedup() {
    let s = cache().join("shapes/person_names_dob");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_names_dob f1={f:.4}");
    // measured 0.948 (0.616 when EM took namesakes born days apart for matches)
    assert!(f >= 0.93, "person_names_dob f1 {f}");
}

/// The same rows with a whole-name column beside the name parts, as exports write it.
#[test]
fn names_and_birth_dates_with_a_whole_name_copied_dedup() {
    let s = cache().join("shapes/person_names_dob");
    let f = dedup_f1_read(&s.join("input_full.csv"), &s.join("truth.csv"));
    println!("person_names_dob_full f1={f:.4}");
    // measured 0.9635, as without the copy; 0.7965 while the whole name was compared as
    // a field of its own (the name counted twice)
    assert!(f >= 0.93, "person_names_dob_full f1 {f}");
}

/// The same people as an export that writes the name three times over (splink's
/// historical-figures file does): the given name and surname, the two joined, and a whole
/// name with a title or a middle name the parts lack in some rows; and a sex column. The
/// joined and whole names repeat the parts and are left out; the sex, agreeing between
/// half of all pairs, must not carry namesakes born a month apart into EM's match class.
#[test]
fn names_written_three_times_over_beside_a_sex_dedup() {
    for (set, bound) in [("person_names_dob_pop", 0.985), ("person_names_dob", 0.95)] {
        let s = cache().join("shapes").join(set);
        let f = dedup_f1_read(&s.join("input_titled.csv"), &s.join("truth.csv"));
        println!("{set} titled f1={f:.4}");
        // measured 0.9945 and 0.9664 (the sets without these columns: 0.9940, 0.9635);
        // 0.8873 and 0.2192 while the whole name with more than its parts was compared
        // and the sex counted as an agreeing field; 0.9379 and 0.7932 with the whole name
        // left out but the sex still a vote for EM's match class
        assert!(f >= bound, "{set} titled f1 {f}");
    }
}

/// Names and birth dates only, the names as common as in a population (the stress set
/// above has `smith` on one record in ten): the shape of a register of people.
#[test]
fn names_and_birth_dates_with_population_name_frequencies_dedup() {
    let s = cache().join("shapes/person_names_dob_pop");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_names_dob_pop f1={f:.4}");
    // measured 0.9940 (blocking recall 1.0)
    assert!(f >= 0.98, "person_names_dob_pop f1 {f}");
}

/// The register with gaps in its date parts, as a data frame writes them: one part in
/// twenty blank and the rest as decimals (`1949.0`).
#[test]
fn names_and_date_parts_with_gaps_written_as_decimals_dedup() {
    let s = cache().join("shapes/person_names_dob_pop");
    let f = dedup_f1_read(&s.join("input_gaps.csv"), &s.join("truth.csv"));
    println!("person_names_dob_pop_gaps f1={f:.4}");
    // measured 0.9784; 0.9754 while a part blank on one side turned a typo in the parts
    // both know into another date, and a day alone was no date
    assert!(f >= 0.97, "person_names_dob_pop_gaps f1 {f}");
}

/// The stress set's rows with the whole name in one column and the birth date in one of
/// four forms: two fields, so a duplicate with a mistyped year agrees on one of them and
/// EM must still see it.
#[test]
fn names_and_birth_dates_in_two_fields_dedup() {
    let s = cache().join("shapes/person_names_dob");
    let f = dedup_f1_read(&s.join("input_whole.csv"), &s.join("truth.csv"));
    println!("person_names_dob_whole f1={f:.4}");
    // measured 0.9626; 0.9389 while a pair joined EM's match class only with more than
    // half its fields agreeing (the weak date level got the floor m)
    assert!(f >= 0.945, "person_names_dob_whole f1 {f}");
}

/// The same register with the whole name in one column (`LAST, First` or `First Last`)
/// and the birth date in one of four forms (`1997-09-15`, `9/15/1997`, `15 Sep 1997`,
/// `19970915`): as good as with the name in parts.
#[test]
fn names_and_birth_dates_in_one_name_column_and_mixed_date_forms_dedup() {
    let s = cache().join("shapes/person_names_dob_pop");
    let f = dedup_f1_read(&s.join("input_whole.csv"), &s.join("truth.csv"));
    println!("person_names_dob_pop_whole f1={f:.4}");
    // measured 0.9945; 0.9004 while the whole name was compared as one string (a shared
    // given name made two people close) and slashed dates among year-first ones were
    // read day first
    assert!(f >= 0.98, "person_names_dob_pop_whole f1 {f}");
}

/// A census-like file that writes the whole name in one column (`LAST, First M` or
/// `First M Last`) linked with a file of first name, middle initial and surname: the
/// whole is read as its parts, each compared with its column, and links as well as the
/// names in parts on both sides (0.9801).
#[test]
fn a_whole_name_column_links_to_first_and_last_as_names_in_parts_do() {
    let s = cache().join("shapes/person_link_pop");
    let (f, _) = link_f1(
        &s.join("left_whole.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("person_link_pop_whole f1={f:.4}");
    // measured 0.9801; 0.9068 before whole-name blocking keys, word counts and the
    // parts (the whole compared with given name and surname joined, blocking recall 0.91)
    assert!(f >= 0.97, "person_link_pop_whole f1 {f}");
}

/// One census row to each of a person's tax forms, the tax file with an employer address
/// named like the mailing address: the alignment must pick the person's own address, and
/// the link keep every form.
#[test]
fn census_rows_link_to_every_tax_form() {
    let s = cache().join("shapes/person_tax_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_link f1={f:.4}");
    // measured 0.983 (0.809 with the employer address aligned and one form per row)
    assert!(f >= 0.96, "person_tax_link f1 {f}");
}

/// The same rows with the columns named as an enterprise system abbreviates them
/// (`FIRST_NM`, `BIRTH_YR` / `BIRTH_MO` / `BIRTH_DY`, `ZIP_CD`, `PHONE_NBR`): read as
/// the plainly named file is.
#[test]
fn split_names_and_date_parts_under_coded_column_names_dedup() {
    let s = cache().join("shapes/person_split");
    let f = dedup_f1(&s.join("input_coded.csv"), &s.join("truth.csv"));
    println!("person_split_coded f1={f:.4}");
    // measured 0.9564 by `eval`, as the plain names; 0.9349 while `BIRTH_DY` was no day
    // (a date of year and month beside a code) and `FIRST_NM` no given name
    assert!(f >= 0.945, "person_split_coded f1 {f}");
}

/// The population census-to-tax link with both files' columns named as enterprise
/// systems abbreviate them (`CUST_FIRST_NM`, `ST_CD` / `FName`, `BirthDt`,
/// `MailStreetNbr`).
#[test]
fn census_rows_link_to_tax_forms_under_coded_column_names() {
    let s = cache().join("shapes/person_tax_link_pop");
    let (f, _) = link_f1(
        &s.join("left_coded.csv"),
        &s.join("right_coded.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_pop_coded f1={f:.4}");
    // measured 0.9928 by `eval` (the plain names 0.9927); 0.9859 while `CUST_FIRST_NM`
    // was not read as a given name
    assert!(f >= 0.988, "person_tax_pop_coded f1 {f}");
}

/// The population census-to-tax link with the tax forms' columns named as a mainframe
/// names them, words in consonants (`NM_FRST`, `DT_BRTH`, `MAIL_CTY`, `EMPLR_ZIP`).
#[test]
fn census_rows_link_to_tax_forms_under_column_names_in_consonants() {
    let s = cache().join("shapes/person_tax_link_pop");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right_mainframe.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_pop_mainframe f1={f:.4}");
    // measured 0.9945 by `eval`, as with the plain names; 0.8204 while the words were
    // not read (the census ZIP aligned with the employer's)
    assert!(f >= 0.99, "person_tax_pop_mainframe f1 {f}");
}

/// The population census-to-tax link with the census's columns named in French
/// (`prenom`, `nom`, `date_de_naissance`, `code_postal`, `ville`).
#[test]
fn census_rows_named_in_french_link_to_tax_forms_named_in_english() {
    let s = cache().join("shapes/person_tax_link_pop");
    let (f, _) = link_f1(
        &s.join("left_french.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_pop_french f1={f:.4}");
    // measured 0.9945 by `eval`, as with the English names; 0.8999 while the lexicon
    // read English alone (the columns aligned by their values, but no given name, birth
    // date or address was known as one)
    assert!(f >= 0.99, "person_tax_pop_french f1 {f}");
}

/// The population census-to-tax link with the tax forms' birth dates as a spreadsheet
/// writes a date cell formatted as a number (`18192` for 1949-10-21).
#[test]
fn census_rows_link_to_tax_forms_with_birth_dates_as_day_numbers() {
    let s = cache().join("shapes/person_tax_link_pop");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right_serial.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_pop_serial f1={f:.4}");
    // measured 0.9927 by `eval` (as with the dates written out); 0.9819 while the day
    // numbers were compared as codes
    assert!(f >= 0.988, "person_tax_pop_serial f1 {f}");
}

/// The same link with the tax file's mailing address under short names (`m_city`,
/// `m_zip`): the employer's address is named more like the census's, and only the
/// records (anchors) tell the two apart.
#[test]
fn census_rows_link_to_tax_forms_whose_mailing_columns_are_renamed() {
    let s = cache().join("shapes/person_tax_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right_renamed.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_renamed f1={f:.4}");
    // measured 0.9879 by `eval`; 0.8087 while no anchor was found (a census year against
    // a tax year and the employer's house number both never agreed) and the employer's
    // address was aligned
    assert!(f >= 0.96, "person_tax_renamed f1 {f}");
}

/// The tax forms alone deduplicated: one person's forms from two or three employers,
/// each form with its employer's name and address beside the person's. A company's name
/// is no name of the person: two forms naming `Acme Inc` and `Blue LLC` once conflicted
/// as two companies of one name, and the file stayed undeduplicated.
#[test]
fn one_persons_tax_forms_from_several_employers_dedup() {
    let s = cache().join("shapes/person_tax_link_pop");
    let f = dedup_f1_read(&s.join("right.csv"), &s.join("forms_truth.csv"));
    println!("person_tax_forms f1={f:.4}");
    // measured 0.9977 (0.0227 while the employer's name conflicted)
    assert!(f >= 0.98, "person_tax_forms f1 {f}");
    // the forms of the stress names, without age and birth date
    let s = cache().join("shapes/person_tax_link");
    let f = dedup_f1_read(&s.join("right_nodob.csv"), &s.join("forms_truth.csv"));
    println!("person_tax_forms_nodob f1={f:.4}");
    // measured 0.9909 (0.0181)
    assert!(f >= 0.97, "person_tax_forms_nodob f1 {f}");
}

/// A census of households with few people counted twice (3%): the match class is small
/// beside what two of a household, or two strangers of one given name and birth year,
/// share, and the age sits beside the birth date it is read from.
#[test]
fn a_census_with_few_duplicates_dedup() {
    let s = cache().join("shapes/person_census");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_census f1={f:.4}");
    // measured 0.9848 (0.9750 while the generator drew each row's sex anew); 0.8784
    // while an agreeing age counted beside the agreeing birth date it is read from, and
    // a birth date a digit apart forgave another given name
    assert!(f >= 0.93, "person_census f1 {f}");
    // the same rows with the household's id and the spouse's names beside them: a
    // couple's rows hold each other's given name, which once read as a swap
    let f = dedup_f1(&s.join("input_household.csv"), &s.join("truth.csv"));
    println!("person_census with household and spouse columns f1={f:.4}");
    // measured 0.9848 (0.3565 while a spouse's given name was a given name, and a
    // household's id a second address)
    assert!(f >= 0.95, "person_census household f1 {f}");
    // the same rows with the columns named in consonants (`NM_FRST`, `SX_CD`)
    let f = dedup_f1(&s.join("input_mainframe.csv"), &s.join("truth.csv"));
    println!("person_census with columns named in consonants f1={f:.4}");
    // measured 0.9848; 0.1224 while they were not read: the given name, unnamed in a
    // file of households, was left out as agreeing no more often among likely matches
    // than among random pairs, and EM learnt that a household is one person
    assert!(f >= 0.95, "person_census mainframe f1 {f}");
    // the same rows with the columns named in German (`Vorname`, `Geburtsdatum`, `PLZ`)
    let f = dedup_f1(&s.join("input_german.csv"), &s.join("truth.csv"));
    println!("person_census with columns named in German f1={f:.4}");
    // measured 0.9798; 0.0562 while the lexicon read English alone (EM again learnt
    // that a household is one person)
    assert!(f >= 0.95, "person_census german f1 {f}");
    // and under names that say nothing (`F1` ... `F13`)
    let f = dedup_f1(&s.join("input_unnamed.csv"), &s.join("truth.csv"));
    println!("person_census with columns named F1 to F13 f1={f:.4}");
    // measured 0.9320 (the given name and birth date read from their values); 0.3167
    // while nothing was read without a name
    assert!(f >= 0.9, "person_census unnamed f1 {f}");
}

/// A census of households in which a few people (1.3%) were counted again at another
/// address, with twins, and one birth date (and apart from it one age) in a hundred
/// copied from another member: a pair of one surname, address and birth date is more
/// often two people than one, and a duplicate's address never agrees.
#[test]
fn a_census_with_people_counted_again_elsewhere_dedup() {
    let s = cache().join("shapes/person_census_recounted");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_census_recounted f1={f:.4}");
    // measured 0.9268 (0.9157 while the generator drew each row's sex anew; seeds 11
    // and 12: 0.9036, 0.9610 then); 0.4187 while twins and a copied birth date were
    // forgiven another given name by the date and the address, and the age, read off
    // the date, was a unit of EM's match class beside it
    assert!(f >= 0.88, "person_census_recounted f1 {f}");
}

/// The census's shape with four times the people (24,000, drawn apart): strangers of one
/// given name and birth date, or of one name in one state, grow with the square of the
/// rows while duplicates grow with the rows.
#[test]
fn a_census_four_times_as_large_dedup() {
    let s = cache().join("shapes/person_census_large");
    let f = dedup_f1(&s.join("input.csv"), &s.join("truth.csv"));
    println!("person_census_large f1={f:.4}");
    // measured 0.9633 (0.9577 while ages were compared by their ratio); 0.9190 while a
    // state or town agreeing let namesakes whose surnames differ into EM's match class,
    // and the prior was the share of matches among the candidates however many pairs
    // each candidate stood for
    assert!(f >= 0.93, "person_census_large f1 {f}");
}

/// Census rows to a register that keeps each person's birth date alone, as a
/// social-security file does (the whole middle name, `YYYYMMDD` dates, one row per event
/// with the event's date, no address): name and birth date decide, and the census's
/// age meets the register's birth date read on the census day.
#[test]
fn census_rows_link_to_a_register_of_birth_dates() {
    let s = cache().join("shapes/person_register_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("person_register_link f1={f:.4}");
    // measured 0.9968 (seeds 11 and 12: see bench/README.md); 0.9953 while the age met
    // nothing and a middle initial against the whole middle name weighed against
    assert!(f >= 0.985, "person_register_link f1 {f}");
}

/// The population census-to-tax link at a register's usual error rates, the forms
/// without birth dates: name and mailing address alone, in a file of households.
#[test]
fn census_rows_link_to_tax_forms_without_birth_dates_at_low_noise() {
    let s = cache().join("shapes/person_tax_link_pop_clean");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right_nodob.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_pop_clean_nodob f1={f:.4}");
    // measured 0.9838 by `eval` (seed 7: 0.9811)
    assert!(f >= 0.97, "person_tax_pop_clean_nodob f1 {f}");
}

/// Census rows to tax forms without birth dates, at the generator's high error rates: a
/// person's forms filed from two addresses agree with each other on the name alone, and
/// only their identity number (a column the census lacks) says they are one person's.
#[test]
fn census_rows_link_to_a_persons_forms_from_two_addresses_by_the_forms_own_number() {
    let s = cache().join("shapes/person_tax_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right_nodob.csv"),
        &s.join("truth.csv"),
    );
    println!("person_tax_nodob f1={f:.4}");
    // measured 0.9328 (seeds 11 and 12: 0.9323, 0.9323); 0.9102 while a census row kept
    // only the forms that were duplicates of its best one on the shared fields, 0.9264
    // while the number did not bring along forms scored below the threshold
    assert!(f >= 0.92, "person_tax_nodob f1 {f}");
}

#[test]
fn product_codes_link() {
    let s = cache().join("shapes/product_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("product_link f1={f:.4}");
    // measured 0.995 (0.997 before rare-token link keys; 0.971 before the digit runs of a code were a blocking key of their own)
    assert!(f >= 0.98, "product_link f1 {f}");
}

#[test]
fn product_catalogues_worded_apart_link_by_model_number() {
    let s = cache().join("shapes/product_catalog_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("product_catalog_link f1={f:.4}");
    // measured 0.9832 (0.9803 before the rare link keys came from tokens both sides
    // hold; 0.3257 before two titles naming one model number were close;
    // 0.9748 before a model number split by a hyphen was a blocking key)
    assert!(f >= 0.95, "product_catalog_link f1 {f}");
}

#[test]
fn software_titles_worded_inside_longer_ones_link() {
    let s = cache().join("shapes/product_title_link");
    let (f, _) = link_f1(
        &s.join("left.csv"),
        &s.join("right.csv"),
        &s.join("truth.csv"),
    );
    println!("product_title_link f1={f:.4}");
    // measured 0.9488 (0.6018 before one title worded inside another was close, blocking
    // recall 0.9794 before a token one side never holds left the rare keys). Below the
    // 0.95 target: each maker's series has titles one word apart (`home design`, `deluxe
    // home design`), and a title of two words is not read inside a longer one
    assert!(f >= 0.90, "product_title_link f1 {f}");
}

/// Mean F1 over the schema-matching tasks in `sets` (folders of tests/data/cache).
async fn sm_mean(engine: &Engine, sets: &[&str]) -> f64 {
    let mut all = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for set in sets {
        dirs.extend(
            std::fs::read_dir(cache().join(set))
                .unwrap()
                .map(|e| e.unwrap().path()),
        );
    }
    dirs.sort();
    for d in dirs {
        let s: Table =
            serde_json::from_str(&std::fs::read_to_string(d.join("source.json")).unwrap()).unwrap();
        let t: Table =
            serde_json::from_str(&std::fs::read_to_string(d.join("target.json")).unwrap()).unwrap();
        let truth = truth(&d.join("truth.csv"), false);
        let m = engine
            .match_schema(&s, &t, &SchemaOptions::default())
            .await
            .unwrap();
        let p: HashSet<(String, String)> = m.into_iter().map(|x| (x.source, x.target)).collect();
        let f = f1(&truth, &p);
        if std::env::var("KCMF_DEBUG").is_ok() {
            println!(
                "  missing {:?}\n  extra {:?}",
                truth.difference(&p).collect::<Vec<_>>(),
                p.difference(&truth).collect::<Vec<_>>()
            );
        }
        println!("sm {} f1={f:.4}", d.file_name().unwrap().to_string_lossy());
        all.push(f);
    }
    assert!(
        all.len() >= 7,
        "expected at least the 7 SM tasks of tests/data/fetch.sh"
    );
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    println!("sm mean f1={mean:.4}");
    mean
}

#[tokio::test]
async fn valentine_style_sm() {
    let engine = Engine::new(&LlmConfig::default(), &MatchingConfig::default()).unwrap();
    let mean = sm_mean(&engine, &["sm", "shapes/sm"]).await;
    // measured 0.983 over the 13 tasks by `bench/quality.sh` (0.972 before two columns of
    // street addresses were alike by their shape, 0.936 before formatted and bare numbers
    // were one type; 0.858 over the first seven before the built-in lexicon)
    assert!(mean >= 0.975, "sm mean f1 {mean}");
}

/// Person tables named as enterprise systems name their columns (59 pairs of designs in
/// five groups: `CUST_MIDDLE_NAME`, `emp_mi`, `EmailAddr`, `HomePhoneNbr`, `BirthDt`,
/// `fn`, `Town/City`, `M/F`, FHIR's `family` and `telecom`, `NM_FRST`, `PAT_BRTH_DT`;
/// German, French, Spanish and Dutch systems' `Nachname`, `date_de_naissance`, `apellidos`,
/// `woonplaats` beside an English one, ...).
#[tokio::test]
async fn person_tables_named_as_enterprise_systems_name_columns_sm() {
    let engine = Engine::new(&LlmConfig::default(), &MatchingConfig::default()).unwrap();
    let mean = sm_mean(&engine, &["shapes/sm_names"]).await;
    // measured 1.0 (0.96 before abbreviations inside names, role prefixes and small value
    // sets were read: `EmailAddr` took the street, `MI` the gender or the town; the other
    // languages' tasks, three of ten below 1.0, 0.74-0.86, while the lexicon read English
    // alone)
    assert!(mean >= 0.98, "sm_names mean f1 {mean}");
}

/// Safe lower bound of the SM mean with embeddings (measured: see bench/README.md).
#[cfg(feature = "embeddings")]
/// The target (measured: 1.0 on all seven tasks).
const SM_EMBEDDINGS_FLOOR: f64 = 0.95;

/// With sentence embeddings of column names and of value lists (feature `embeddings`; the
/// model directory in `KCMF_EMBEDDING_MODEL`, as tests/run-all.sh sets it): synonyms are
/// found.
#[cfg(feature = "embeddings")]
#[tokio::test]
async fn valentine_style_sm_with_embeddings() {
    let dir = std::env::var("KCMF_EMBEDDING_MODEL").unwrap_or_else(|_| {
        panic!(
            "KCMF_EMBEDDING_MODEL is not set: export KCMF_EMBEDDING_MODEL=$(tests/data/fetch-embeddings.sh)"
        )
    });
    let matching = MatchingConfig {
        embedding_model: Some(dir.into()),
        ..MatchingConfig::default()
    };
    let engine = Engine::new(&LlmConfig::default(), &matching).unwrap();
    let mean = sm_mean(&engine, &["sm"]).await;
    assert!(
        mean >= SM_EMBEDDINGS_FLOOR,
        "sm mean f1 with embeddings {mean}"
    );
}
