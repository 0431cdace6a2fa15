//! Columns that repeat others. Exports often carry a value twice: a `full_name` beside
//! `first_name` and `last_name`, a one-line address beside its parts, a `zip` copied
//! into `postcode`. Compared as a field of its own, the copy counts the same evidence a
//! second time: in a file of names and birth dates, a `full_name` beside the name parts
//! made two namesakes born a month apart a match (F1 0.9635 → 0.7965). A column is left
//! out when, in nearly every row that has it, its words are exactly the words of other
//! columns of that row whose values it contains ([`COVERED`]); of two identical columns
//! the first is kept.

use std::collections::HashSet;

/// Rows read to find copies (the first of the sample), for a file of up to
/// [`WIDE`] columns; a row costs a check per pair of columns, so a wider file reads
/// fewer (200 columns: 500 rows), never fewer than [`MIN_FILLED`] × 2, and one of more
/// than [`WIDEST`] none.
const ROWS: usize = 2_000;

/// Widest file read for [`ROWS`] rows.
const WIDE: usize = 100;

/// Widest file looked at at all (wider: no column is taken for a copy).
const WIDEST: usize = 500;

/// Least share of a column's filled rows that other columns must make up for it to be a
/// copy.
const COVERED: f64 = 0.95;

/// Fewest filled rows to judge a column by.
const MIN_FILLED: usize = 50;

/// Counts, row by row, how often each column is made up of the others.
#[derive(Debug, Default)]
pub struct Copies {
    filled: Vec<usize>,
    covered: Vec<usize>,
}

impl Copies {
    pub fn new(columns: usize) -> Self {
        Self {
            filled: vec![0; columns],
            covered: vec![0; columns],
        }
    }

    /// How many rows to read for `columns` columns.
    pub fn rows(columns: usize) -> usize {
        if columns > WIDEST {
            return 0;
        }
        let wide = columns.max(1).saturating_mul(columns.max(1));
        (ROWS * WIDE * WIDE / wide).clamp(2 * MIN_FILLED, ROWS)
    }

    /// One row: a value per column (in the order the columns were counted from).
    pub fn add<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        let words: Vec<Vec<String>> = values
            .into_iter()
            .map(|v| {
                super::text::normalize(v)
                    .split(' ')
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        for (c, own) in words.iter().enumerate().take(self.filled.len()) {
            if own.is_empty() {
                continue;
            }
            self.filled[c] += 1;
            let mut cover: HashSet<&str> = HashSet::new();
            for (d, other) in words.iter().enumerate() {
                // a shorter value inside this one, or an equal one in an earlier column
                // (of two copies, the first stays); the first word decides most cheaply
                let fits = d != c
                    && !other.is_empty()
                    && (other.len() < own.len() || (d < c && other == own))
                    && own.contains(&other[0])
                    && contains(own, other);
                if fits {
                    cover.extend(other.iter().map(String::as_str));
                }
            }
            if own.iter().all(|t| cover.contains(t.as_str())) {
                self.covered[c] += 1;
            }
        }
    }

    /// The columns that are copies of others.
    pub fn copies(&self) -> Vec<usize> {
        (0..self.filled.len())
            .filter(|&c| {
                self.filled[c] >= MIN_FILLED
                    && self.covered[c] as f64 >= COVERED * self.filled[c] as f64
            })
            .collect()
    }
}

/// Whether every word of `part` is among the words of `whole` (as many times).
fn contains(whole: &[String], part: &[String]) -> bool {
    let mut left: Vec<&str> = whole.iter().map(String::as_str).collect();
    part.iter().all(|t| {
        left.iter()
            .position(|w| w == t)
            .map(|k| left.swap_remove(k))
            .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_made_of_others_is_a_copy_and_of_two_equal_ones_the_second() {
        // columns: first, last, full name, zip, postcode (a copy of zip), city
        let mut c = Copies::new(6);
        for i in 0..100 {
            let first = ["ann", "bo", "cy"][i % 3];
            let last = format!("lee{i}");
            let full = if i == 0 {
                "ann b. lee0".to_string()
            } else {
                format!("{first} {last}")
            };
            let zip = format!("{:05}", 10000 + i);
            c.add([first, &last, &full, &zip, &zip, "perth"]);
        }
        assert_eq!(c.copies(), vec![2, 4]);
        // a whole name with a middle name the parts lack in one row of ten is its own
        let mut c = Copies::new(3);
        for i in 0..100 {
            let full = if i % 10 == 0 {
                format!("ann marie lee{i}")
            } else {
                format!("ann lee{i}")
            };
            c.add(["ann", &format!("lee{i}"), &full]);
        }
        assert!(c.copies().is_empty());
        assert_eq!(
            (
                Copies::rows(10),
                Copies::rows(200),
                Copies::rows(500),
                Copies::rows(501)
            ),
            (2000, 500, 100, 0)
        );
        // too few rows to tell
        let mut c = Copies::new(2);
        for _ in 0..10 {
            c.add(["x", "x"]);
        }
        assert!(c.copies().is_empty());
    }
}
