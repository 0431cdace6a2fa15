//! The random pairs u is estimated from, drawn and compared once.
//!
//! Why a type of its own: a fit estimates u twice from the same draw (before EM, and
//! again without the pairs the fitted model takes for matches), and comparing the
//! 20,000 pairs was a fifth of a Febrl4 link's time, twice over and on one core. The
//! draw stays sequential (one seeded generator, so a seed gives the pairs it always
//! gave); the comparisons run in parallel and keep the draw's order, so the counts are
//! summed as before.

use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::{FieldSpec, Prepared, compare_into};

/// Comparison vectors of random pairs of records, in the order they were drawn.
#[derive(Debug, Clone)]
pub struct RandomPairs {
    /// Fields per vector.
    width: usize,
    /// The vectors, `width` levels each.
    flat: Vec<u8>,
    /// Whether a side had no records (no estimate at all, as opposed to no pairs).
    no_records: bool,
}

impl RandomPairs {
    /// Compares `samples` random pairs of `left` × `right` (seeded by `seed`; every pair
    /// when there are no more than `samples`), leaving out a record paired with itself
    /// when `skip_diagonal` (a dedup's two sides are one file).
    pub fn compare(
        fields: &[FieldSpec],
        left: &[Prepared],
        right: &[Prepared],
        samples: usize,
        seed: u64,
        skip_diagonal: bool,
    ) -> Self {
        let width = fields.len();
        if left.is_empty() || right.is_empty() {
            return Self {
                width,
                flat: Vec::new(),
                no_records: true,
            };
        }
        let mut drawn: Vec<(usize, usize)> = Vec::new();
        if left.len().saturating_mul(right.len()) <= samples {
            for i in 0..left.len() {
                for j in 0..right.len() {
                    if !(skip_diagonal && i == j) {
                        drawn.push((i, j));
                    }
                }
            }
        } else {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            for _ in 0..samples {
                let i = rng.random_range(0..left.len());
                let j = rng.random_range(0..right.len());
                if !(skip_diagonal && i == j) {
                    drawn.push((i, j));
                }
            }
        }
        let mut flat = vec![0u8; drawn.len() * width];
        if width > 0 {
            flat.par_chunks_mut(width)
                .zip(drawn.par_iter())
                .for_each(|(out, &(i, j))| compare_into(fields, &left[i], &right[j], out));
        }
        Self {
            width,
            flat,
            no_records: false,
        }
    }

    /// Whether a side had no records: then there is nothing to estimate from.
    pub fn no_records(&self) -> bool {
        self.no_records
    }

    /// The comparison vectors, in the order drawn.
    pub fn vectors(&self) -> impl Iterator<Item = &[u8]> {
        // none for a model of no fields (empty vectors would count nothing either)
        let n = self.flat.len().checked_div(self.width).unwrap_or(0);
        (0..n).map(move |k| &self.flat[k * self.width..(k + 1) * self.width])
    }
}
