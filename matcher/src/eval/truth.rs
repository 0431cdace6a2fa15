//! Reading a truth file against the input: id pairs or `id,cluster` rows, told apart
//! by their values, and checked against the ids the input holds.

use super::*;

/// Whether truth rows are `id,cluster` rows rather than id pairs: every first value is a
/// distinct id of the input and fewer than half of the second values are ids (cluster
/// labels of their own kind: `inventor_17`, a person's key).
pub(super) fn is_membership(rows: &[(String, String)], ids: &[String]) -> bool {
    let ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut firsts = HashSet::new();
    !rows.is_empty()
        && rows
            .iter()
            .all(|(x, _)| ids.contains(x.as_str()) && firsts.insert(x.as_str()))
        && rows
            .iter()
            .filter(|(_, c)| ids.contains(c.as_str()))
            .count()
            * 2
            < rows.len()
}

/// The pairs of records that `id,cluster` rows put in one cluster.
pub(super) fn membership_pairs(rows: Vec<(String, String)>) -> HashSet<(String, String)> {
    let mut by: HashMap<String, Vec<String>> = HashMap::new();
    for (id, c) in rows {
        by.entry(c).or_default().push(id);
    }
    cluster_pairs(by.values())
}

/// Every pair of ids within one cluster, unordered.
pub(super) fn cluster_pairs<'a>(
    clusters: impl IntoIterator<Item = &'a Vec<String>>,
) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for m in clusters {
        for (i, x) in m.iter().enumerate() {
            for y in &m[i + 1..] {
                out.insert(unordered(x.clone(), y.clone()));
            }
        }
    }
    out
}

/// Entity linking evaluation.
/// Refuses a truth file that names none of the ids of `path` (see [`EvalError::TruthIds`]).
/// Reads an input of `eval em` with the truth's ids. Without `--id-column`, the column
/// [`read_records`] picks (a present, distinct id) is kept when it holds at least half the
/// truth's ids of this side (`wanted`); otherwise, or when the rows were numbered for
/// want of one, the id-named column holding most of them is taken, repeated values
/// allowed: a tax file's `simulant_id` names the person
/// of each of their forms, so it is no row id, but it is what the truth pairs.
pub(super) fn read_for_truth<'a>(
    path: &std::path::Path,
    id_column: Option<&str>,
    wanted: impl IntoIterator<Item = &'a String>,
) -> Result<TruthSide, EvalError> {
    let table = read_records(path, id_column)?;
    let wanted: HashSet<&String> = wanted.into_iter().collect();
    let plain = |table, id_column: Option<String>| TruthSide {
        table,
        id_column,
        note: None,
    };
    if id_column.is_some() || wanted.is_empty() {
        return Ok(plain(table, id_column.map(str::to_string)));
    }
    let cover = |ids: &[String]| {
        ids.iter()
            .filter(|i| wanted.contains(i))
            .collect::<HashSet<_>>()
            .len()
    };
    // rows numbered for want of a distinct id column: numbers are no evidence, and any
    // id-named column holding as many of the truth's ids is preferred
    let numbered = table.numbered;
    let mut best = (cover(&table.ids), None);
    if !numbered && best.0 * 2 >= wanted.len() {
        return Ok(plain(table, None));
    }
    let headers = crate::records::headers(path)?;
    for c in id_candidates(&headers) {
        let t = read_records(path, Some(&headers[c]))?;
        let n = cover(&t.ids);
        if n > best.0 || (numbered && n > 0 && n >= best.0 && best.1.is_none()) {
            best = (n, Some((t, headers[c].clone())));
        }
    }
    match best.1 {
        Some((table, name)) => Ok(TruthSide {
            table,
            note: Some(format!(
                "ids of {}: column `{name}` (it holds {} of the truth's {} ids; pass --id-column to choose)",
                path.display(),
                best.0,
                wanted.len()
            )),
            id_column: Some(name),
        }),
        None => Ok(plain(table, None)),
    }
}

/// One input of `eval em` as [`read_for_truth`] read it.
pub(super) struct TruthSide {
    pub table: RecordTable,
    /// The id column used (`None`: the one [`read_records`] picked, or row numbers).
    pub id_column: Option<String>,
    /// What to tell the user of the id column taken, when it is not the plain one: said
    /// by the caller, so that the two sides (read at once) are told in order.
    pub note: Option<String>,
}

/// Whether a truth that names numbered rows counts them from 0 (written from a pandas or
/// R index): it names a row 0, or its pairs (up to 500) share clearly more values — any
/// column with any — read from 0 than from 1. True pairs are duplicates; read one row off,
/// they are strangers.
pub(super) fn counts_from_zero<'a>(
    left: &[crate::engine::Record],
    right: &[crate::engine::Record],
    pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> bool {
    let mut pairs: Vec<(usize, usize)> = pairs
        .into_iter()
        .filter_map(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .collect();
    if pairs.iter().any(|&(a, b)| a == 0 || b == 0) {
        return true;
    }
    pairs.sort_unstable();
    pairs.truncate(500);
    let values = |r: &crate::engine::Record| -> HashSet<String> {
        r.values()
            .map(|v| crate::engine::value_text(v).trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let shared = |shift: usize| -> usize {
        pairs
            .iter()
            .filter_map(|&(a, b)| {
                let (x, y) = (left.get(a - shift)?, right.get(b - shift)?);
                Some(values(x).intersection(&values(y)).count())
            })
            .sum()
    };
    let (from1, from0) = (shared(1), shared(0));
    from0 > 2 * from1
}

/// Renumbers rows numbered from 1 (a file with no id column) from 0, for a truth that
/// counts from 0 ([`counts_from_zero`]): one written from a pandas or R index does, and
/// read from 1 each of its ids would name the next row, silently.
pub(super) fn from_zero(path: &std::path::Path, table: &mut RecordTable) {
    for (k, id) in table.ids.iter_mut().enumerate() {
        *id = k.to_string();
    }
    eprintln!(
        "ids of {}: rows numbered from 0, as the truth counts them (the file has no id column; pass --id-column to choose)",
        path.display()
    );
}

pub(super) fn check_truth_ids<'a>(
    path: &std::path::Path,
    ids: impl IntoIterator<Item = &'a String>,
    truth: &HashSet<(String, String)>,
    side: impl Fn(&(String, String)) -> [&String; 2],
) -> Result<(), EvalError> {
    let order: Vec<&String> = ids.into_iter().collect();
    let ids: HashSet<&String> = order.iter().copied().collect();
    if truth.is_empty()
        || truth
            .iter()
            .any(|t| side(t).iter().any(|x| ids.contains(x)))
    {
        return Ok(());
    }
    // the first ids of the file, in its order
    let sample: Vec<&String> = order.into_iter().take(3).collect();
    Err(EvalError::TruthIds {
        input: path.display().to_string(),
        pairs: truth.len(),
        sample: sample
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}
