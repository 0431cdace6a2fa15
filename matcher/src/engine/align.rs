//! Aligning the columns of two record files before linking them — KcMF's order: schema
//! matching first, then entity matching on the aligned attributes.
//!
//! Two files of one population rarely name or split their columns alike: a census has
//! `street_name` and `date_of_birth`, a tax file `mailing_address_street_name`,
//! `birth_year` and `birth_month`. Compared by name only, those attributes never meet and
//! the link rests on the few columns that happen to share a name. Each side's schema is
//! typed on its own ([`super::columns`]: the tax file's year and month become one date),
//! the schema matcher's evidence (names, the built-in lexicon, value overlap and shape)
//! scores every pair of fields, and a one-to-one assignment keeps the best.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::columns::infer_fields;
use super::fs::{DateOrder, FieldKind, FieldSpec};
use super::local::{Semantic, SmColumn, sm_evidence};
use super::pipeline::one_to_one;
use super::text::Idf;
use super::{Column, EngineError, Record, Table, value_text};

mod ages;
mod anchors;
mod names;

use names::split_whole_name;

/// Score a field pair must reach to be aligned.
pub const ALIGN_FLOOR: f64 = 0.4;

/// Sample values per field given to the schema matcher.
const SAMPLES: usize = 200;

/// One aligned pair of fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignedPair {
    /// The left field's name (and its columns, joined by `+` when several; a part of a
    /// whole name as `Name (given)`).
    pub left: String,
    pub right: String,
    pub score: f64,
}

/// The fields compared when linking: `left[k]` of a left record against `right[k]` of a
/// right record (one kind per pair), and the alignment that chose them.
#[derive(Debug, Clone, Default)]
pub struct Aligned {
    pub left: Vec<FieldSpec>,
    pub right: Vec<FieldSpec>,
    pub pairs: Vec<AlignedPair>,
}

impl Aligned {
    /// Aligns `l` with `r`, compared as their joint kind.
    fn push(&mut self, l: &FieldSpec, r: &FieldSpec, score: f64) {
        let kind = joint_kind(l.kind, r.kind).unwrap_or(FieldKind::Text);
        let (lf, rf) = as_pair(l, r, kind);
        self.pairs.push(AlignedPair {
            left: l.source_label(),
            right: r.source_label(),
            score,
        });
        self.left.push(lf);
        self.right.push(rf);
    }
}

/// The kind two aligned fields are compared as.
fn joint_kind(a: FieldKind, b: FieldKind) -> Option<FieldKind> {
    use FieldKind::*;
    match (a, b) {
        (x, y) if x == y => Some(x),
        (Date, _) | (_, Date) => None,
        (Number, Code) | (Code, Number) => Some(Number),
        (Number, Text) | (Text, Number) => None,
        _ => Some(Text),
    }
}

/// The raw value of field `f` in record `r`, its columns read as [`prepare`] reads them
/// (a number as its text).
///
/// [`prepare`]: super::fs::prepare
fn raw_value(f: &FieldSpec, r: &Record) -> String {
    let texts: HashMap<&str, String> = f
        .sources()
        .into_iter()
        .filter_map(|c| r.get_key_value(c).map(|(k, v)| (k.as_str(), value_text(v))))
        .collect();
    f.raw(|c| texts.get(c).map(String::as_str))
}

/// Up to [`SAMPLES`] non-empty raw values of a field, spread over the records.
fn samples(f: &FieldSpec, records: &[Record]) -> Vec<serde_json::Value> {
    let step = (records.len() / (SAMPLES * 4)).max(1);
    let mut out = Vec::new();
    for r in records.iter().step_by(step) {
        let v = raw_value(f, r);
        if !v.trim().is_empty() {
            out.push(serde_json::Value::String(v));
            if out.len() == SAMPLES {
                break;
            }
        }
    }
    out
}

/// The right field read as the left one is named (so both prepare alike), with `kind`.
fn as_pair(l: &FieldSpec, r: &FieldSpec, kind: FieldKind) -> (FieldSpec, FieldSpec) {
    let mut lf = l.clone();
    lf.kind = kind;
    // a given name on either side compares as one (`first_name` / `fname`)
    lf.nicknames = kind == FieldKind::Text && (l.nicknames || r.nicknames);
    lf.surname = kind == FieldKind::Text && (l.surname || r.surname);
    // so is a column of people's whole names, whichever side's values showed it
    lf.person_name = kind == FieldKind::Text && (l.person_name || r.person_name);
    lf.other_party = l.other_party || r.other_party;
    // an age on either side compares in years (`age` / a column whose name says nothing)
    lf.years = kind == FieldKind::Number && (l.years || r.years);
    let mut rf = r.clone();
    if rf.columns.is_empty() {
        rf.columns = vec![r.name.clone()];
        // one column read as it is: a date's order stays the right side's own
        if kind == FieldKind::Date && r.kind != FieldKind::Date {
            rf.date_order = DateOrder::default();
        }
    }
    rf.name = l.name.clone();
    rf.kind = kind;
    rf.nicknames = lf.nicknames;
    rf.surname = lf.surname;
    rf.person_name = lf.person_name;
    rf.other_party = lf.other_party;
    rf.years = lf.years;
    (lf, rf)
}

/// Aligns the fields of `left` and `right` records. With `column_map` (pairs of column
/// names, left then right) exactly those columns are compared; otherwise fields of the
/// same name pair up, and the rest are matched by the schema matcher's evidence.
pub fn align(
    left: &[Record],
    right: &[Record],
    column_map: Option<&[(String, String)]>,
) -> Result<Aligned, EngineError> {
    let mut out = Aligned::default();
    if let Some(map) = column_map {
        // the columns named, whether or not they copy others
        let fl = super::columns::infer_fields_all(left.iter());
        let fr = super::columns::infer_fields_all(right.iter());
        for (k, (lc, rc)) in map.iter().enumerate() {
            let find = |fs: &[FieldSpec], c: &str| {
                fs.iter()
                    .find(|f| f.name == c || f.sources().contains(&c))
                    .cloned()
            };
            let (Some(l), Some(r)) = (find(&fl, lc), find(&fr, rc)) else {
                let (side, col) = if find(&fl, lc).is_none() {
                    ("left", lc)
                } else {
                    ("right", rc)
                };
                return Err(EngineError::InvalidInput {
                    field: format!("column_map[{k}]"),
                    message: format!("the {side} records have no column `{col}`"),
                });
            };
            out.push(&l, &r, 1.0);
        }
        return Ok(out);
    }
    // each side read on its own core: reading the values was a link's longest stretch on one
    let (fl, fr) = rayon::join(|| infer_fields(left.iter()), || infer_fields(right.iter()));
    let mut out = pair_fields(out, &fl, &fr, left, right);
    ages::read_off_births(&mut out, [&fl, &fr], [left, right]);
    Ok(out)
}

/// The column a field is read from, where it is one.
fn one_column(f: &FieldSpec) -> Option<&str> {
    match f.sources()[..] {
        [c] => Some(c),
        _ => None,
    }
}

/// The first right field not yet taken that is `same` as `l` and comparable with it, now
/// taken.
fn take_free(
    l: &FieldSpec,
    fr: &[FieldSpec],
    used_r: &mut [bool],
    same: impl Fn(&FieldSpec) -> bool,
) -> Option<usize> {
    let j = (0..fr.len())
        .find(|&j| !used_r[j] && same(&fr[j]))
        .filter(|&j| joint_kind(l.kind, fr[j].kind).is_some())?;
    used_r[j] = true;
    Some(j)
}

/// The fields `fl` of `left` paired with the fields `fr` of `right` (after `out`): same
/// names, a whole name or address against its parts, then the schema matcher's evidence.
fn pair_fields(
    mut out: Aligned,
    fl: &[FieldSpec],
    fr: &[FieldSpec],
    left: &[Record],
    right: &[Record],
) -> Aligned {
    // same names first (the common case: one schema on both sides)
    let mut used_r = vec![false; fr.len()];
    let mut rest_l = Vec::new();
    // (or the same one column, read on one side only as what its values say: `F3` and
    // `given_name` from `F3`); names first, for every field: a column match must not take
    // another's namesake
    let mut matched: Vec<Option<usize>> = fl
        .iter()
        .map(|l| take_free(l, fr, &mut used_r, |r| r.name == l.name))
        .collect();
    for (l, m) in fl.iter().zip(matched.iter_mut()) {
        if m.is_none() {
            let column = one_column(l);
            *m = take_free(l, fr, &mut used_r, |r| {
                column.is_some() && one_column(r) == column
            });
        }
    }
    for (l, j) in fl.iter().zip(matched) {
        match j {
            Some(j) => out.push(l, &fr[j], 1.0),
            None => rest_l.push(l.clone()),
        }
    }
    let mut rest_r: Vec<FieldSpec> = fr
        .iter()
        .zip(&used_r)
        .filter(|(_, u)| !**u)
        .map(|(f, _)| f.clone())
        .collect();
    // a whole name on one side, given name and surname on the other: the whole is read
    // as its parts, each compared with its column (`Name` / `given_name` + `surname`)
    let sides = [left, right];
    split_whole_name(&mut out, [&mut rest_l, &mut rest_r], sides);
    // a whole address on one side (street, locality and postcode in one column), its
    // parts on the other: the parts, joined in the order an address is written
    let address = whole_and_address_parts;
    join_split(
        &mut out,
        [&mut rest_l, &mut rest_r],
        sides,
        "address",
        address,
    );
    if rest_l.is_empty() || rest_r.is_empty() {
        return out;
    }
    let table = |name: &str, fs: &[FieldSpec], recs: &[Record]| Table {
        name: name.into(),
        description: None,
        columns: fs
            .iter()
            .map(|f| Column {
                name: f.name.clone(),
                data_type: None,
                description: None,
                samples: samples(f, recs),
            })
            .collect(),
    };
    let (tl, tr) = (table("left", &rest_l, left), table("right", &rest_r, right));
    let cl: Vec<SmColumn> = tl
        .columns
        .iter()
        .map(|c| SmColumn::new(&tl, c, None))
        .collect();
    let cr: Vec<SmColumn> = tr
        .columns
        .iter()
        .map(|c| SmColumn::new(&tr, c, None))
        .collect();
    let (idf, exp) = (Idf::default(), HashMap::new());
    let mut m: Vec<Vec<f64>> = cl
        .iter()
        .zip(&rest_l)
        .map(|(a, la)| {
            cr.iter()
                .zip(&rest_r)
                .map(|(b, rb)| {
                    if joint_kind(la.kind, rb.kind).is_none() {
                        return 0.0;
                    }
                    sm_evidence(a, b, &idf, &exp, &[], Semantic::default()).score
                })
                .collect()
        })
        .collect();
    if !settle_by_anchors(&mut m, &out, &rest_l, &rest_r, left, right) {
        prefer_own_party(&mut m, &rest_l, &rest_r);
    }
    for (i, j) in one_to_one(&m, ALIGN_FLOOR).into_iter().enumerate() {
        if let Some(j) = j {
            out.push(&rest_l[i], &rest_r[j], m[i][j]);
        }
    }
    out
}

/// How close a rival of the record's own party must score for a candidate qualified as
/// another party's to be demoted, and the factor ([`prefer_own_party`]).
const OWN_PARTY_MARGIN: f64 = 0.05;
const OTHER_PARTY_DEMOTE: f64 = 0.9;

/// Scores of candidates `m` (`rest_l` × `rest_r`) with a tie broken for the record's own
/// attribute, where no records settled it ([`settle_by_anchors`] found under 20 sure
/// pairs: a small file). A candidate named as another party's
/// ([`lexicon::other_party`]: `employer_city`) for a column that does not name that
/// party (`city`) is demoted when a rival of the record's own naming the same concept
/// (`mailing_address_city`) reaches the floor and scores about as well. Names and value
/// shapes score the two alike, and the tie fell to the employer's address. A candidate
/// with no such rival keeps its score.
///
/// [`lexicon::other_party`]: super::lexicon::other_party
fn prefer_own_party(m: &mut [Vec<f64>], rest_l: &[FieldSpec], rest_r: &[FieldSpec]) {
    use super::lexicon::{concept, other_party};
    use super::text::split_identifier;
    let party = |fs: &[FieldSpec]| -> Vec<Option<&'static str>> {
        fs.iter().map(|f| other_party(&f.name)).collect()
    };
    let (party_l, party_r) = (party(rest_l), party(rest_r));
    let concept_l: Vec<_> = rest_l.iter().map(|f| concept(&f.name)).collect();
    let concept_r: Vec<_> = rest_r.iter().map(|f| concept(&f.name)).collect();
    // a column naming the party itself (`employer` against `employer_name`) is no own
    // column to prefer another to
    let names_party = |f: &FieldSpec, p: &str| split_identifier(&f.name).iter().any(|t| t == p);
    // a rival cell pairs two columns of one party and is never demoted: read while `m`
    // changes, it reads as it was
    for i in 0..rest_l.len() {
        for j in 0..rest_r.len() {
            let x = m[i][j];
            if x < ALIGN_FLOOR {
                continue;
            }
            let good = |s: f64| s >= ALIGN_FLOOR && s >= x - OWN_PARTY_MARGIN;
            // on the side of the other party's column `at`: another column of the same
            // concept, the record's own, scoring `good` against the column across
            let own_rival = |party: &[Option<&str>],
                             concept: &[Option<&str>],
                             at: usize,
                             score: &dyn Fn(usize) -> f64| {
                concept[at].is_some()
                    && (0..party.len()).any(|k| {
                        k != at && party[k].is_none() && concept[k] == concept[at] && good(score(k))
                    })
            };
            let rival = match (party_l[i], party_r[j]) {
                (None, Some(p)) if !names_party(&rest_l[i], p) => {
                    own_rival(&party_r, &concept_r, j, &|k| m[i][k])
                }
                (Some(p), None) if !names_party(&rest_r[j], p) => {
                    own_rival(&party_l, &concept_l, i, &|k| m[k][j])
                }
                _ => false,
            };
            if rival {
                m[i][j] *= OTHER_PARTY_DEMOTE;
            }
        }
    }
}

/// Scores of candidates `m` (`rest_l` × `rest_r`) adjusted by what records that surely
/// match say ([`anchors`]): the anchor key is every pair aligned so far (`out`) and every
/// candidate that is clearly its row's and its column's best. Whether there were such
/// records (false: `m` as it was).
fn settle_by_anchors(
    m: &mut [Vec<f64>],
    out: &Aligned,
    rest_l: &[FieldSpec],
    rest_r: &[FieldSpec],
    left: &[Record],
    right: &[Record],
) -> bool {
    const SURE: f64 = 0.8;
    const MARGIN: f64 = 0.1;
    let (mut key_l, mut key_r) = (out.left.clone(), out.right.clone());
    let clear_best = |i: usize, j: usize| {
        let s = m[i][j];
        s >= SURE
            && m[i]
                .iter()
                .enumerate()
                .all(|(k, &x)| k == j || x <= s - MARGIN)
            && m.iter()
                .enumerate()
                .all(|(k, row)| k == i || row[j] <= s - MARGIN)
    };
    for (i, l) in rest_l.iter().enumerate() {
        for (j, r) in rest_r.iter().enumerate() {
            if let Some(kind) = joint_kind(l.kind, r.kind)
                && clear_best(i, j)
            {
                let (lf, rf) = as_pair(l, r, kind);
                key_l.push(lf);
                key_r.push(rf);
            }
        }
    }
    let sure = anchors::anchors(left, right, &key_l, &key_r);
    if sure.is_empty() {
        return false;
    }
    let agree: Vec<Vec<Option<(f64, usize)>>> = rest_l
        .iter()
        .enumerate()
        .map(|(i, l)| {
            rest_r
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    let kind = joint_kind(l.kind, r.kind)?;
                    if m[i][j] < ALIGN_FLOOR {
                        return None;
                    }
                    anchors::agreement(l, r, kind, left, right, &sure)
                })
                .collect()
        })
        .collect();
    anchors::adjust(m, &agree);
    true
}

/// Records read to tell a whole name or a whole address by its values.
const VALUE_SAMPLE: usize = 500;

/// Where one side holds in one field what the other splits over several (`split` finds
/// `(whole, parts)` given the whole side first), aligns the whole with the parts joined as
/// one field `name`, whichever side holds it, and takes all of them out of `rest`.
fn join_split(
    out: &mut Aligned,
    rest: [&mut Vec<FieldSpec>; 2],
    recs: [&[Record]; 2],
    name: &str,
    split: impl Fn(&[FieldSpec], &[FieldSpec], &[Record], &[Record]) -> Option<(usize, Vec<usize>)>,
) {
    let [rest_l, rest_r] = rest;
    let [left, right] = recs;
    if let Some((w, parts)) = split(rest_l, rest_r, left, right) {
        out.push(&rest_l[w], &joined_fields(name, rest_r, &parts), 1.0);
        rest_l.remove(w);
        *rest_r = drop_indices(std::mem::take(rest_r), &parts);
    } else if let Some((w, parts)) = split(rest_r, rest_l, right, left) {
        out.push(&joined_fields(name, rest_l, &parts), &rest_r[w], 1.0);
        rest_r.remove(w);
        *rest_l = drop_indices(std::mem::take(rest_l), &parts);
    }
}

/// The fields `parts` of `fs` as one text field `name` of their columns, in that order.
fn joined_fields(name: &str, fs: &[FieldSpec], parts: &[usize]) -> FieldSpec {
    let mut f = FieldSpec::new(name, FieldKind::Text);
    for &k in parts {
        let src: Vec<String> = fs[k].sources().into_iter().map(str::to_string).collect();
        f.columns.extend(src);
    }
    f
}

/// The parts of a written address, in the order they are written.
const ADDRESS_PARTS: [&str; 6] = [
    "street_number",
    "street",
    "address_2",
    "city",
    "state",
    "postcode",
];

/// A field of `whole_side` holding a whole address (`Postal Address`: `12 oak st,
/// springfield, NSW 2000`) where that side has no other address part, and the address
/// parts of `parts_side` (a street and a locality, postcode or state among them), in
/// [`ADDRESS_PARTS`] order: `(whole, parts)`. The whole must hold clearly more words than
/// the other side's street lines, or it is only a street, compared with the street as
/// the schema matcher aligns it.
fn whole_and_address_parts(
    whole_side: &[FieldSpec],
    parts_side: &[FieldSpec],
    whole_recs: &[Record],
    parts_recs: &[Record],
) -> Option<(usize, Vec<usize>)> {
    use super::lexicon::concept;
    let of = |fs: &[FieldSpec], c: &str| -> Vec<usize> {
        (0..fs.len())
            .filter(|&k| concept(&fs[k].name) == Some(c))
            .collect()
    };
    let [whole] = of(whole_side, "street")[..] else {
        return None;
    };
    if whole_side[whole].kind != FieldKind::Text
        || ADDRESS_PARTS[..]
            .iter()
            .any(|c| *c != "street" && !of(whole_side, c).is_empty())
    {
        return None;
    }
    let mut parts = Vec::new();
    for c in ADDRESS_PARTS {
        let found = of(parts_side, c);
        if found.len() > 1 {
            return None;
        }
        parts.extend(found);
    }
    let locality = ["city", "state", "postcode"]
        .iter()
        .any(|c| !of(parts_side, c).is_empty());
    if of(parts_side, "street").is_empty() || !locality {
        return None;
    }
    // mean words per record of the fields `fs` of `recs` (up to VALUE_SAMPLE records)
    let words = |fs: &[&FieldSpec], recs: &[Record]| -> f64 {
        let n = recs.len().clamp(1, VALUE_SAMPLE);
        let total: usize = recs
            .iter()
            .take(VALUE_SAMPLE)
            .map(|r| {
                fs.iter()
                    .map(|f| {
                        raw_value(f, r)
                            .split(|c: char| c.is_whitespace() || c == ',')
                            .filter(|t| !t.is_empty())
                            .count()
                    })
                    .sum::<usize>()
            })
            .sum();
        total as f64 / n as f64
    };
    let street_lines: Vec<&FieldSpec> = ["street_number", "street", "address_2"]
        .iter()
        .flat_map(|c| of(parts_side, c))
        .map(|k| &parts_side[k])
        .collect();
    (words(&[&whole_side[whole]], whole_recs) >= words(&street_lines, parts_recs) + 1.5)
        .then_some((whole, parts))
}

/// `fs` without the fields at `drop`.
fn drop_indices(fs: Vec<FieldSpec>, drop: &[usize]) -> Vec<FieldSpec> {
    fs.into_iter()
        .enumerate()
        .filter(|(k, _)| !drop.contains(k))
        .map(|(_, f)| f)
        .collect()
}

/// Parses `left:right,left2:right2` (the command line's `--columns`).
pub fn parse_column_map(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (k, part) in s.split(',').enumerate() {
        let part = part.trim();
        let Some((l, r)) = part.split_once(':') else {
            return Err(format!(
                "pair {} (`{part}`) is not `left_column:right_column`",
                k + 1
            ));
        };
        let (l, r) = (l.trim(), r.trim());
        if l.is_empty() || r.is_empty() {
            return Err(format!(
                "pair {} (`{part}`) has an empty column name",
                k + 1
            ));
        }
        out.push((l.to_string(), r.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The (left, right) labels of an alignment's pairs.
    fn names_of(a: &Aligned) -> Vec<(&str, &str)> {
        a.pairs
            .iter()
            .map(|p| (p.left.as_str(), p.right.as_str()))
            .collect()
    }

    /// A column read as what its values say on one side (`given_name` from `F1`) and not on
    /// the other (too few values) pairs with itself.
    #[test]
    fn a_column_read_by_its_values_on_one_side_pairs_with_itself_on_the_other() {
        // the left file is long enough for its `F1` to read as given names, the right not
        let given = ["james", "mary", "john", "linda", "robert"];
        let rec = |i: usize| {
            json!({"F1": given[i % 5], "F2": format!("sur{i}"), "F3": format!("{}", 100 + i)})
                .as_object()
                .unwrap()
                .clone()
        };
        let left: Vec<Record> = (0..60).map(rec).collect();
        let right: Vec<Record> = (0..8).map(rec).collect();
        let a = align(&left, &right, None).unwrap();
        let k = a.left.iter().position(|f| f.name == "given_name");
        let k = k.unwrap_or_else(|| panic!("no given name read: {:?}", a.left));
        // paired as a column of one name is, not by the schema matcher's evidence
        assert_eq!(a.right[k].sources(), vec!["F1"]);
        assert_eq!(a.pairs[k].score, 1.0);
        assert!(
            a.left[k].nicknames,
            "compared as a given name on both sides"
        );
    }

    /// A column that copies others is left out of the comparison, unless a column map
    /// names it.
    #[test]
    fn a_copied_column_is_compared_only_when_the_column_map_names_it() {
        let mut left = Vec::new();
        let mut right = Vec::new();
        for i in 0..80 {
            let (first, last) = (["ann", "bo", "cy"][i % 3], format!("lee{i}"));
            let full = format!("{first} {last}");
            let r = json!({"first_name": first, "last_name": last, "full_name": full});
            left.push(r.as_object().unwrap().clone());
            right.push(json!({"name": full}).as_object().unwrap().clone());
        }
        let a = align(&left, &right, None).unwrap();
        assert_eq!(
            names_of(&a),
            vec![
                ("first_name", "name (given)"),
                ("last_name", "name (family)")
            ]
        );
        let map = vec![("full_name".to_string(), "name".to_string())];
        let a = align(&left, &right, Some(&map)).unwrap();
        assert_eq!(names_of(&a), vec![("full_name", "name")]);
    }

    #[test]
    fn differently_named_and_split_columns_are_aligned() {
        let mut left = Vec::new();
        let mut right = Vec::new();
        let streets = [
            "oak street",
            "elm road",
            "pine avenue",
            "cedar lane",
            "birch way",
        ];
        let names = [
            "anna", "ben", "carla", "dmitri", "eve", "farid", "gus", "hana",
        ];
        let surnames = ["smith", "jones", "garcia", "nguyen", "okafor", "schmidt"];
        for i in 0..60usize {
            let (y, m, d) = (1940 + i, 1 + i % 12, 1 + i % 28);
            left.push(
                json!({"id": i, "first_name": names[i % 8], "last_name": surnames[i % 6],
                    "date_of_birth": format!("{m:02}/{d:02}/{y}"),
                    "street_name": streets[i % 5], "zipcode": format!("{:05}", 20000 + i)})
                .as_object()
                .cloned()
                .unwrap(),
            );
            right.push(
                json!({"id": i, "forename": names[(i + 1) % 8], "surname": surnames[(i + 2) % 6],
                    "birth_year": y, "birth_month": m,
                    "mailing_address_street_name": streets[(i + 3) % 5],
                    "mailing_address_zip": format!("{:05}", 20000 + (i + 7) % 60)})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
        let a = align(&left, &right, None).unwrap();
        let got: Vec<(String, String)> = a
            .pairs
            .iter()
            .map(|p| (p.left.clone(), p.right.clone()))
            .collect();
        for want in [
            ("first_name", "forename"),
            ("last_name", "surname"),
            ("date_of_birth", "birth_year+birth_month"),
            ("street_name", "mailing_address_street_name"),
            ("zipcode", "mailing_address_zip"),
        ] {
            assert!(
                got.contains(&(want.0.to_string(), want.1.to_string())),
                "{want:?} missing from {got:?}"
            );
        }
        assert_eq!(got.len(), 5, "{got:?}");
        // the right date is read from its parts and compared as a date
        let k = a
            .left
            .iter()
            .position(|f| f.name == "date_of_birth")
            .unwrap();
        assert_eq!(a.right[k].kind, FieldKind::Date);
        // an override names the columns; an unknown one is refused, naming it
        let map = vec![("zipcode".to_string(), "mailing_address_zip".to_string())];
        assert_eq!(align(&left, &right, Some(&map)).unwrap().pairs.len(), 1);
        let bad = vec![("zipcode".to_string(), "nope".to_string())];
        let e = align(&left, &right, Some(&bad)).unwrap_err();
        assert!(e.to_string().contains("column_map[0]") && e.to_string().contains("nope"));
        assert_eq!(
            parse_column_map("a:b, c : d").unwrap(),
            vec![("a".into(), "b".into()), ("c".into(), "d".into())]
        );
        assert!(parse_column_map("a:b,c").unwrap_err().contains("pair 2"));
        assert!(parse_column_map(":b").is_err());
    }

    /// A tax file has the person's mailing address and the employer's, named alike; the
    /// records that surely match (same names and birth date) agree on the mailing
    /// address only, so it is the one aligned with the census address.
    #[test]
    fn the_address_that_agrees_on_sure_matches_wins_over_a_decoy_of_the_same_shape() {
        let streets = [
            "oak street",
            "elm road",
            "pine avenue",
            "cedar lane",
            "birch way",
            "ash court",
            "maple drive",
        ];
        let cities = ["perth", "derby", "leeds", "york", "bath", "ely", "hull"];
        let names = [
            "anna", "ben", "carla", "dmitri", "eve", "farid", "gus", "hana",
        ];
        let surnames = ["smith", "jones", "garcia", "nguyen", "okafor", "schmidt"];
        let (mut left, mut right) = (Vec::new(), Vec::new());
        // 98 = 2 × 7 × 7: both addresses hold every street and city equally often, so
        // their values alone cannot tell them apart
        for i in 0..98usize {
            let dob = format!("{:02}/{:02}/{}", 1 + i % 12, 1 + i % 28, 1900 + i);
            let (street, city) = (streets[i % 7], cities[(i / 7) % 7]);
            left.push(
                json!({"id": i, "first_name": names[i % 8], "last_name": surnames[i % 6],
                    "date_of_birth": dob, "street_name": street, "city": city})
                .as_object()
                .cloned()
                .unwrap(),
            );
            // the employer's address: the same streets and cities, another one's
            right.push(
                json!({"id": i, "first_name": names[i % 8], "last_name": surnames[i % 6],
                    "date_of_birth": dob,
                    "employer_street_name": streets[(i + 3) % 7],
                    "employer_city": cities[(i / 7 + 2) % 7],
                    "mailing_address_street_name": street, "mailing_address_city": city})
                .as_object()
                .cloned()
                .unwrap(),
            );
        }
        let a = align(&left, &right, None).unwrap();
        let got = names_of(&a);
        assert!(
            got.contains(&("street_name", "mailing_address_street_name")),
            "{got:?}"
        );
        assert!(got.contains(&("city", "mailing_address_city")), "{got:?}");
        assert!(!got.iter().any(|p| p.1.starts_with("employer")), "{got:?}");
    }

    /// The same two addresses in a file of a dozen records, too few for anchors: the
    /// tie goes to the person's own address, on either side, in either column order; an
    /// employer's address with no rival of the person's own is still aligned.
    #[test]
    fn in_a_small_file_the_persons_own_address_wins_the_tie_with_the_employers() {
        let cities = ["perth", "derby", "leeds", "york", "bath", "ely", "hull"];
        let streets = ["oak street", "elm road", "pine avenue", "cedar lane"];
        let rec = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let (mut census, mut forms, mut forms_rev, mut employer_only) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..12usize {
            let (street, city) = (streets[i % 4], cities[i % 7]);
            let (est, ecity) = (streets[(i + 1) % 4], cities[(i + 3) % 7]);
            census.push(rec(
                json!({"first_name": format!("n{i}"), "street_name": street,
                "city": city}),
            ));
            forms.push(rec(json!({"first_name": format!("n{i}"),
                "employer_street_name": est, "employer_city": ecity,
                "mailing_address_street_name": street, "mailing_address_city": city})));
            // the person's address first this time
            forms_rev.push(rec(json!({"first_name": format!("n{i}"),
                "mailing_address_street_name": street, "mailing_address_city": city,
                "work_street_name": est, "work_city": ecity})));
            employer_only.push(rec(json!({"first_name": format!("n{i}"),
                "employer_city": ecity})));
        }
        for right in [&forms, &forms_rev] {
            let a = align(&census, right, None).unwrap();
            let got = names_of(&a);
            assert!(got.contains(&("city", "mailing_address_city")), "{got:?}");
            assert!(
                got.contains(&("street_name", "mailing_address_street_name")),
                "{got:?}"
            );
            // and with the sides swapped
            let a = align(right, &census, None).unwrap();
            let got = names_of(&a);
            assert!(got.contains(&("mailing_address_city", "city")), "{got:?}");
        }
        let a = align(&census, &employer_only, None).unwrap();
        let got = names_of(&a);
        assert!(got.contains(&("city", "employer_city")), "{got:?}");
    }

    #[test]
    fn names_say_whose_attribute_it_is() {
        use crate::engine::lexicon::other_party;
        for (n, p) in [
            ("employer_city", "employer"),
            ("SpouseFirstName", "spouse"),
            ("emergency_contact_phone", "emergency"),
            ("work_zip", "work"),
            // a joint tax return's second filer, its dependants
            ("joint_filer_first_name", "joint"),
            ("dependent_1_first_name", "dependent"),
        ] {
            assert_eq!(other_party(n), Some(p), "{n}");
        }
        for n in [
            "city",
            "mailing_address_city",
            "employer",
            "business_name",
            "registered_office_address",
            "home_phone",
        ] {
            assert_eq!(other_party(n), None, "{n}");
        }
    }

    #[test]
    fn a_whole_name_is_read_as_its_parts_and_each_meets_its_column() {
        let names = ["anna", "ben", "carla", "dmitri", "eve", "farid"];
        let surnames = ["smith", "jones", "garcia", "nguyen", "okafor"];
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for i in 0..30usize {
            let (g, s) = (names[i % 6], surnames[i % 5]);
            left.push(
                json!({"id": i, "given_name": g, "surname": s, "middle_initial": "q",
                    "city": "perth"})
                .as_object()
                .cloned()
                .unwrap(),
            );
            // half written `SURNAME, Given Q`, half `Given Q Surname`
            let whole = if i % 2 == 0 {
                format!("{}, {g} Q", s.to_uppercase())
            } else {
                format!("{g} q {s}")
            };
            right.push(
                json!({"id": i, "Name": whole, "city": "perth"})
                    .as_object()
                    .cloned()
                    .unwrap(),
            );
        }
        let a = align(&left, &right, None).unwrap();
        let got = names_of(&a);
        for (l, r) in [
            ("given_name", "Name (given)"),
            ("surname", "Name (family)"),
            ("middle_initial", "Name (middle)"),
        ] {
            assert!(got.contains(&(l, r)), "{got:?}");
            let k = got.iter().position(|p| p.1 == r).unwrap();
            // both sides read the same text, in either form of the whole
            for i in [3, 4] {
                assert_eq!(
                    raw_value(&a.left[k], &left[i]).to_lowercase(),
                    raw_value(&a.right[k], &right[i]).to_lowercase(),
                    "{r} of {i}"
                );
            }
        }
        // and the other way round
        let b = align(&right, &left, None).unwrap();
        assert!(
            b.pairs
                .iter()
                .any(|p| p.left == "Name (family)" && p.right == "surname"),
            "{:?}",
            b.pairs
        );
    }

    /// A column that writes the surname first without a comma and in mixed case (`Smith
    /// Anna`) is read so: its names begin with the other side's surnames. Read given name
    /// first, every part met the wrong column (F1 0.88 -> 0.63 on a census-like link).
    #[test]
    fn a_column_of_names_written_surname_first_is_read_so() {
        let names = ["anna", "ben", "carla", "dmitri", "eve", "farid"];
        let surnames = ["smith", "jones", "garcia", "nguyen", "okafor"];
        let rec = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let cap = |w: &str| w[..1].to_uppercase() + &w[1..];
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for i in 0..30usize {
            let (g, s) = (names[i % 6], surnames[i % 5]);
            left.push(rec(json!({"id": i, "given_name": g, "surname": s})));
            right.push(rec(
                json!({"id": i, "Name": format!("{} {} Q", cap(s), cap(g))}),
            ));
        }
        let a = align(&left, &right, None).unwrap();
        let got = names_of(&a);
        let k = got
            .iter()
            .position(|p| *p == ("given_name", "Name (given)"))
            .unwrap_or_else(|| panic!("{got:?}"));
        assert_eq!(raw_value(&a.right[k], &right[3]).to_lowercase(), "dmitri");
        let k = got.iter().position(|p| p.1 == "Name (family)").unwrap();
        assert_eq!(raw_value(&a.right[k], &right[3]).to_lowercase(), "nguyen");
        // the same names given name first stay so
        for (i, r) in right.iter_mut().enumerate() {
            let (g, s) = (names[i % 6], surnames[i % 5]);
            r.insert("Name".into(), json!(format!("{} Q {}", cap(g), cap(s))));
        }
        let a = align(&left, &right, None).unwrap();
        let k = names_of(&a)
            .iter()
            .position(|p| p.1 == "Name (given)")
            .unwrap();
        assert_eq!(raw_value(&a.right[k], &right[3]).to_lowercase(), "dmitri");
    }

    /// A whole address in one column is compared with the other side's street number,
    /// street, locality, state and postcode joined; a column holding only the street is
    /// not (it is aligned with the street, as the schema matcher finds it).
    #[test]
    fn a_whole_address_is_compared_with_its_parts_joined() {
        let streets = ["oak st", "elm rd", "pine ave", "birch ln", "cedar ct"];
        let towns = ["perth", "hobart", "darwin"];
        let rec = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let (mut left, mut whole, mut street_only) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..30usize {
            let (st, town, pc) = (streets[i % 5], towns[i % 3], 6000 + i);
            left.push(rec(json!({
                "id": i, "street_number": format!("{}", i + 1), "address_1": st,
                "suburb": town, "state": "wa", "postcode": format!("{pc}"),
                "ID Number": format!("{}", 7_000_000 + i),
            })));
            whole.push(rec(json!({
                "ref": i, "Postal Address": format!("{} {st}, {town}, WA {pc}", i + 1),
                "ID Number": format!("{}", 7_000_000 + i),
            })));
            street_only.push(rec(json!({
                "ref": i, "address": format!("{} {st}", i + 1), "city": town,
            })));
        }
        let a = align(&left, &whole, None).unwrap();
        let got = names_of(&a);
        assert!(
            got.contains(&(
                "street_number+address_1+suburb+state+postcode",
                "Postal Address"
            )),
            "{got:?}"
        );
        // an identity number keeps its own column: `ID Number` is no street number
        assert!(got.contains(&("ID Number", "ID Number")), "{got:?}");
        let k = got.iter().position(|p| p.1 == "Postal Address").unwrap();
        assert_eq!(raw_value(&a.left[k], &left[3]), "4 birch ln perth wa 6003");
        // the other way round
        let b = align(&whole, &left, None).unwrap();
        assert!(b.pairs.iter().any(|p| p.left == "Postal Address"
            && p.right == "street_number+address_1+suburb+state+postcode"));
        // a street with its town beside it is no whole address
        let c = align(&left, &street_only, None).unwrap();
        assert!(
            !c.pairs.iter().any(|p| p.left.contains('+')),
            "{:?}",
            c.pairs
        );
    }

    /// A column not named as a name (`Patient`) holds the whole name when most of its
    /// words are the other side's given names and surnames; a column of other words
    /// (`Ward`) is not taken for it.
    #[test]
    fn a_whole_name_under_another_column_name_is_found_by_its_words() {
        let names = ["anna", "ben", "carla", "dmitri", "eve", "farid"];
        let surnames = ["smith", "jones", "garcia", "nguyen", "okafor"];
        let wards = ["north wing", "east ward", "south wing"];
        let rec = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for i in 0..30usize {
            let (g, s) = (names[i % 6], surnames[i % 5]);
            left.push(rec(json!({"id": i, "given_name": g, "surname": s})));
            right.push(rec(json!({
                "ref": i, "Patient": format!("{} {g}", s.to_uppercase()),
                "Ward": wards[i % 3],
            })));
        }
        let a = align(&left, &right, None).unwrap();
        let got = names_of(&a);
        assert!(got.contains(&("given_name", "Patient (given)")), "{got:?}");
        assert!(got.contains(&("surname", "Patient (family)")), "{got:?}");
        assert!(!got.iter().any(|p| p.1 == "Ward"), "{got:?}");
        // with a middle initial in each whole name, and two given names in three
        // mistyped: the initials are no words of the other side's names, and counted they
        // left the known words under half
        for (i, r) in right.iter_mut().enumerate() {
            let (g, s) = (names[i % 6], surnames[i % 5]);
            let g = if i % 3 == 0 {
                g.to_string()
            } else {
                format!("{g}x")
            };
            r.insert("Patient".into(), json!(format!("{g} q {s}")));
        }
        let got = names_of(&align(&left, &right, None).unwrap())
            .into_iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect::<Vec<_>>();
        assert!(
            got.contains(&("surname".into(), "Patient (family)".into())),
            "{got:?}"
        );
    }
}
