//! Field-weighted record similarity with Fellegi–Sunter weights estimated unsupervised
//! by expectation–maximisation (m-probabilities) and random sampling (u-probabilities),
//! refined by labelled examples (EaK) when present.
//!
//! Records are first *prepared* (normalized once), pairs are turned into comparison
//! vectors (one agreement level per field), and the model turns a vector into a match
//! weight and a probability.
//!
//! Layout: [`fields`] types, normalizes and prepares the records (`fields/dates.rs`
//! reads dates however written, `fields/names.rs` a whole name's parts, titles and
//! placeholder names); [`compare`] gives the agreement levels of two values and the
//! comparison vector of a pair (`compare/products.rs` two titles of one product,
//! `compare/names.rs` two whole names, `compare/distance.rs` the bounded edit distance);
//! [`model`] estimates u by sampling and m by EM and finds groups of dependent fields
//! (`model/estimate.rs`), and weighs a vector (`model/weights.rs`); [`households`] tells
//! a file of households (twins and a replaced given name look alike) from one without;
//! [`sample`] draws and compares the random pairs u rests on; [`tf`] adjusts a pair's
//! weight by how common its agreeing values are.

mod compare;
mod fields;
mod households;
mod model;
mod sample;
mod tf;

pub use compare::*;
pub use fields::*;
pub use households::*;
pub use model::*;
pub use sample::*;
pub use tf::*;

/// Agreement levels per field: 0 exact … `LEVELS - 1` disagree.
pub const LEVELS: usize = 5;
/// Level code for "a value is missing": contributes no evidence.
pub const MISSING: u8 = u8::MAX;

/// Records and fields the tests of this module build.
#[cfg(test)]
mod test_records {
    use super::{FieldKind, FieldSpec};
    use crate::engine::Record;

    /// Text fields of these names.
    pub fn text_fields(names: &[&str]) -> Vec<FieldSpec> {
        names
            .iter()
            .map(|n| FieldSpec::new(*n, FieldKind::Text))
            .collect()
    }

    pub fn rec(v: serde_json::Value) -> Record {
        v.as_object().cloned().unwrap()
    }
}
