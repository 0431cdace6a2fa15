//! Columns that repeat others. Exports often carry a value twice: a `full_name` beside
//! `first_name` and `last_name`, a one-line address beside its parts, a `zip` copied
//! into `postcode`. Compared as a field of its own, the copy counts the same evidence a
//! second time: in a file of names and birth dates, a `full_name` beside the name parts
//! made two namesakes born a month apart a match (F1 0.9635 → 0.7965). A column is left
//! out when, in nearly every row that has it, its words are exactly the words of other
//! columns of that row whose values it contains ([`COVERED`]); of two identical columns
//! the first is kept.
//!
//! A whole name is often more than its parts: a title, a middle name, a "1st baron of"
//! in one row of four (splink's historical-figures file: `full_name` and
//! `first_and_surname` beside `first_name` and `surname`). It still repeats them: two
//! strangers named `margaret` agreed on three columns and were matched, and the clusters
//! chained (F1 0.52; 0.91 with the parts alone). So a column of words, mostly without
//! digits ([`LETTERED`]), is left out too when two or more shorter columns sit inside it
//! in nearly every row that has both ([`COVERED`]), and those shorter columns (its parts)
//! make up more than half of its words in nearly every row and all of them in half the
//! rows at least ([`WHOLE_COMPLETE`]). Digits keep a column: a product's title holds its
//! brand and model and says more (a storage size, a colour), an address its number.

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

/// Least share of a whole's rows without a digit ([`Copies::whole`]: a title's `1st` in
/// a few rows of names is allowed).
const LETTERED: f64 = 0.75;

/// Least share of a whole's rows that its parts make up entirely ([`Copies::whole`]): what
/// the parts lack is occasional (a title, a middle name in some rows). A `full_name` that
/// always holds a title or a surname no other column has (`mr john smith` beside `title`
/// and `first_name`) says more than its parts and stays.
const WHOLE_COMPLETE: f64 = 0.5;

/// Fewest filled rows to judge a column by.
const MIN_FILLED: usize = 50;

/// Counts, row by row, how often each column is made up of the others.
#[derive(Debug, Default)]
pub struct Copies {
    filled: Vec<usize>,
    covered: Vec<usize>,
    /// Rows whose words are mostly (more than half) those of its parts: shorter columns
    /// inside it, or equal ones that are shorter over the rows so far (a given name and
    /// surname joined, the surname blank, equals the given name).
    mostly: Vec<usize>,
    /// Rows whose words are all its parts'.
    complete: Vec<usize>,
    /// Rows of words without a digit.
    lettered: Vec<usize>,
    /// Words over the filled rows (a column's mean length).
    words: Vec<usize>,
    /// `[c * n + d]`: rows where both are filled, and where `d`'s words are all in `c`'s
    /// (empty for a file wider than [`WIDEST`], which is never read).
    both: Vec<u32>,
    inside: Vec<u32>,
}

impl Copies {
    pub fn new(columns: usize) -> Self {
        let cells = if columns <= WIDEST {
            columns * columns
        } else {
            0
        };
        Self {
            filled: vec![0; columns],
            covered: vec![0; columns],
            mostly: vec![0; columns],
            complete: vec![0; columns],
            lettered: vec![0; columns],
            words: vec![0; columns],
            both: vec![0; cells],
            inside: vec![0; cells],
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
        let n = self.filled.len();
        if self.both.len() < n * n {
            return;
        }
        for (c, own) in words.iter().enumerate().take(n) {
            if !own.is_empty() {
                self.filled[c] += 1;
                self.words[c] += own.len();
                if own.iter().all(|t| !t.bytes().any(|b| b.is_ascii_digit())) {
                    self.lettered[c] += 1;
                }
            }
        }
        for (c, own) in words.iter().enumerate().take(n) {
            if own.is_empty() {
                continue;
            }
            let mut cover: HashSet<&str> = HashSet::new();
            let mut parts: HashSet<&str> = HashSet::new();
            for (d, other) in words.iter().enumerate().take(n) {
                if d == c || other.is_empty() {
                    continue;
                }
                self.both[c * n + d] += 1;
                // the first word decides most cheaply
                if !(own.contains(&other[0]) && contains(own, other)) {
                    continue;
                }
                self.inside[c * n + d] += 1;
                // a shorter value inside this one, or an equal one in an earlier column
                // (of two copies, the first stays)
                if other.len() < own.len() || (d < c && other == own) {
                    cover.extend(other.iter().map(String::as_str));
                }
                // a part: shorter here, or equal here and shorter over the rows so far
                // (of two identical columns neither is the other's part)
                if other.len() < own.len() || self.mean_words(d) < self.mean_words(c) {
                    parts.extend(other.iter().map(String::as_str));
                }
            }
            if own.iter().all(|t| cover.contains(t.as_str())) {
                self.covered[c] += 1;
            }
            let from_parts = own.iter().filter(|t| parts.contains(t.as_str())).count();
            if 2 * from_parts > own.len() {
                self.mostly[c] += 1;
            }
            if from_parts == own.len() {
                self.complete[c] += 1;
            }
        }
    }

    /// The columns that are copies of others, or wholes of their parts (see the module).
    pub fn copies(&self) -> Vec<usize> {
        (0..self.filled.len())
            .filter(|&c| self.filled[c] >= MIN_FILLED && (self.copy(c) || self.whole(c)))
            .collect()
    }

    /// Whether column `c` is made of other columns' words in nearly every row.
    fn copy(&self, c: usize) -> bool {
        nearly_all(self.covered[c], self.filled[c])
    }

    /// Whether column `c` is a whole of words holding two or more shorter columns (its
    /// parts) in nearly every row, and they make up most of it. A column with a twin (each
    /// inside the other in nearly every row) is none: of the two, the rule of copies keeps
    /// the first.
    fn whole(&self, c: usize) -> bool {
        let n = self.filled.len();
        let (filled, mean) = (self.filled[c], self.mean_words(c));
        if self.both.len() < n * n
            || (self.lettered[c] as f64) < LETTERED * filled as f64
            || (self.complete[c] as f64) < WHOLE_COMPLETE * filled as f64
            || !nearly_all(self.mostly[c], filled)
        {
            return false;
        }
        // whether column `y` sits inside column `x` in nearly every row both fill (`both`
        // counts those rows, the same either way)
        let inside = |x: usize, y: usize| {
            let both = self.both[x * n + y] as usize;
            x != y && both >= MIN_FILLED && nearly_all(self.inside[x * n + y] as usize, both)
        };
        // a twin (each inside the other: a copy that drops a title in a few rows) is a
        // copy of this column, not one of its parts, and goes by the rule of copies
        if (0..n).any(|d| inside(c, d) && inside(d, c)) {
            return false;
        }
        let parts = (0..n)
            .filter(|&d| inside(c, d) && self.mean_words(d) < mean)
            .count();
        parts >= 2
    }

    fn mean_words(&self, c: usize) -> f64 {
        self.words[c] as f64 / self.filled[c].max(1) as f64
    }
}

/// Whether `count` is nearly all ([`COVERED`]) of `of`, a number above nought.
fn nearly_all(count: usize, of: usize) -> bool {
    of > 0 && count as f64 >= COVERED * of as f64
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
        // a whole name with a middle name the parts lack in every row is its own
        let mut c = Copies::new(3);
        for i in 0..100 {
            let last = format!("lee{}", letters(i));
            c.add(["ann", &last, &format!("ann marie {last}")]);
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

    /// `bc` for 12: a number written in letters (names have no digits).
    fn letters(i: usize) -> String {
        i.to_string().bytes().map(|d| char::from(d + 49)).collect()
    }

    /// A whole name with more than its parts in some rows (a title, a `1st baron of`) still
    /// repeats them, as does a given name and surname joined whose surname is blank in
    /// one row of ten (then it equals the given name). Each column that stays is kept by
    /// one guard alone: a title with digits (a product's, holding its brand and model), an
    /// e-mail address made of the name (half its words), a column holding one shorter
    /// column only, one whose parts hold under half of it in four rows of ten, one that
    /// always holds a word no other column has, and one with a near twin.
    #[test]
    fn a_whole_name_beside_its_parts_is_left_out_even_when_it_says_a_little_more() {
        // columns: first, surname, first_and_surname, full_name, email, brand, model, title
        let mut c = Copies::new(8);
        for i in 0..200 {
            let first = ["thomas", "ann", "mary", "john"][i % 4];
            let surname = if i % 10 == 0 {
                String::new()
            } else {
                format!("clif{}", letters(i))
            };
            let both = format!("{first} {surname}");
            let full = match (i % 40, i % 4) {
                (3, _) => format!("sir {first} {surname}, 1st baron of devon"),
                (_, 1) => format!("{first} george {surname}"),
                _ => both.clone(),
            };
            let email = format!("{first}.{surname}@mail.com");
            let (brand, model) = (["sony", "lg"][i % 2], format!("tv{}", 100 + i));
            // as much a whole of brand and model as the full name is of its parts, but
            // for its digits
            let title = if i % 2 == 0 {
                format!("{brand} {model}")
            } else {
                format!("{brand} {model} television")
            };
            c.add([first, &surname, &both, &full, &email, brand, &model, &title]);
        }
        assert_eq!(c.copies(), vec![2, 3]);
        // one shorter column inside, however much of it it makes, is not a whole of parts
        // (a town inside a place name, the whole of it in half the rows)
        let mut c = Copies::new(2);
        for i in 0..100 {
            let town = format!("saint kilda{}", letters(i));
            let place = if i % 2 == 1 {
                town.clone()
            } else {
                format!("{town} hills")
            };
            c.add([town.as_str(), &place]);
        }
        assert!(c.copies().is_empty());
        // a whole whose parts make it up in six rows of ten and hold under half of it in
        // the rest (three more words) is its own
        let mut c = Copies::new(3);
        for i in 0..100 {
            let (first, last) = (["ann", "bo"][i % 2], format!("lee{}", letters(i)));
            let full = if i % 10 < 6 {
                format!("{first} {last}")
            } else {
                format!("{first} of the old town {last}")
            };
            c.add([first, &last, &full]);
        }
        assert!(c.copies().is_empty());
        // a whole name that always holds a word no other column has (the surname beside a
        // title and a given name) says more than its parts; two identical whole names
        // are no parts of each other, and the second alone goes
        let mut c = Copies::new(4);
        for i in 0..100 {
            let first = ["john", "mary"][i % 2];
            let full = format!("mr {first} smith{}", letters(i));
            c.add(["mr", first, &full, &full]);
        }
        assert_eq!(c.copies(), vec![3]);
        // nor is a near twin (a copy that drops the title in one row of twenty-five, so
        // shorter over the rows): the copy goes, the whole name stays
        let mut c = Copies::new(4);
        for i in 0..100 {
            let first = ["john", "mary"][i % 2];
            let full = format!("mr {first} smith{}", letters(i));
            let copy = if i % 25 == 0 {
                format!("{first} smith{}", letters(i))
            } else {
                full.clone()
            };
            c.add(["mr", first, &full, &copy]);
        }
        assert_eq!(c.copies(), vec![3]);
    }
}
