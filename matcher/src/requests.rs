//! Matching requests and their validation, shared by the HTTP handlers ([`crate::api`])
//! and the batch jobs ([`crate::jobs`]): the bodies of `POST /api/v1/match/*`, the checks
//! that name the offending field (`pairs[2].left`, `options.threshold`), and
//! [`RequestError`]. Nothing here knows HTTP: `ApiError` converts a [`RequestError`] into
//! the 413/415/422 answers, a job worker into a failed chunk.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::engine::{EntityOptions, EntityPair, Record, RecordSchema, SchemaOptions, Table};

/// A request that cannot be answered as given. Each variant's text is the message a
/// client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The input at `field` (a JSON path such as `pairs[2].left`) is not acceptable.
    #[error("invalid request at `{field}`: {message}")]
    InvalidInput { field: String, message: String },
    /// More input than is answered this way; the message says where to send it instead.
    #[error("payload too large: {0}")]
    TooLarge(String),
    /// An upload in a format that is not read.
    #[error("unsupported media type: {0}")]
    UnsupportedFormat(String),
}

impl RequestError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error with `prefix.` in front of its field (an item of a larger input).
    pub fn within(self, prefix: &str) -> Self {
        match self {
            RequestError::InvalidInput { field, message } => RequestError::InvalidInput {
                field: format!("{prefix}.{field}"),
                message,
            },
            other => other,
        }
    }
}

// ---- request bodies ---------------------------------------------------------------------

/// `POST /api/v1/match/entity` body: one pair (`left` + `right`) or a list (`pairs`). Its
/// OpenAPI schema is written in [`crate::api::schemas`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityRequest {
    #[serde(default)]
    pub left: Option<Record>,
    #[serde(default)]
    pub right: Option<Record>,
    /// At most `matching.max_pairs` (413 past it); not with `left`/`right`.
    #[serde(default)]
    pub pairs: Option<Vec<EntityPair>>,
    #[serde(default)]
    pub options: EntityOptions,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaRequest {
    pub source: Table,
    pub target: Table,
    #[serde(default)]
    pub options: SchemaOptions,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DedupRequest {
    /// Records; an `id` attribute (string or number) names each one, else its index. At most
    /// `matching.dedup_sync_limit` (413 past it).
    #[schema(value_type = Vec<RecordSchema>, min_items = 1)]
    pub entities: Vec<Record>,
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
    /// Stricter threshold that splits clusters: a pair below it never joins two clusters
    /// (at least `threshold`; default off).
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub split_threshold: Option<f64>,
}

// ---- validation ------------------------------------------------------------------------

pub fn check_threshold(field: &str, t: Option<f64>) -> Result<(), RequestError> {
    match t {
        Some(v) if !(0.0..=1.0).contains(&v) || v.is_nan() => Err(RequestError::invalid(
            field,
            format!("{v} is not in [0, 1]"),
        )),
        _ => Ok(()),
    }
}

/// A split threshold must be a probability and at least the threshold (the configured
/// default when none is given is checked by the engine).
pub fn check_split_threshold(
    field: &str,
    threshold: Option<f64>,
    split: Option<f64>,
) -> Result<(), RequestError> {
    check_threshold(field, split)?;
    match (threshold, split) {
        (Some(t), Some(s)) if s < t => Err(RequestError::invalid(
            field,
            format!("{s} is below the threshold {t}"),
        )),
        _ => Ok(()),
    }
}

/// A record must be a non-empty flat object of strings, numbers, booleans or nulls.
pub fn check_record(field: &str, r: &Record) -> Result<(), RequestError> {
    if r.is_empty() {
        return Err(RequestError::invalid(field, "record has no attributes"));
    }
    for (k, v) in r {
        if k.trim().is_empty() {
            return Err(RequestError::invalid(
                field,
                "attribute names must not be empty",
            ));
        }
        if matches!(v, Value::Object(_) | Value::Array(_)) {
            return Err(RequestError::invalid(
                format!("{field}.{k}"),
                "attribute values must be strings, numbers, booleans or null (records are flat)",
            ));
        }
    }
    Ok(())
}

pub fn check_entity_options(o: &EntityOptions) -> Result<(), RequestError> {
    check_threshold("options.threshold", o.threshold)?;
    for (i, e) in o.examples.iter().enumerate() {
        check_record(&format!("options.examples[{i}].left"), &e.left)?;
        check_record(&format!("options.examples[{i}].right"), &e.right)?;
    }
    Ok(())
}

/// Normalizes the two request shapes into a list of pairs.
pub fn entity_pairs(req: EntityRequest, max_pairs: usize) -> Result<Vec<EntityPair>, RequestError> {
    let pairs = match (req.pairs, req.left, req.right) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(RequestError::invalid(
                "pairs",
                "give either `pairs` or `left` and `right`, not both",
            ));
        }
        (Some(p), None, None) => {
            if p.is_empty() {
                return Err(RequestError::invalid(
                    "pairs",
                    "must contain at least one pair",
                ));
            }
            if p.len() > max_pairs {
                return Err(RequestError::TooLarge(format!(
                    "`pairs` has {} pairs; at most {max_pairs} are answered synchronously — submit a batch job (POST /api/v1/jobs, type entity_match)",
                    p.len()
                )));
            }
            for (i, pair) in p.iter().enumerate() {
                check_record(&format!("pairs[{i}].left"), &pair.left)?;
                check_record(&format!("pairs[{i}].right"), &pair.right)?;
            }
            p
        }
        (None, Some(left), Some(right)) => {
            check_record("left", &left)?;
            check_record("right", &right)?;
            vec![EntityPair { left, right }]
        }
        (None, None, Some(_)) => return Err(RequestError::invalid("left", "missing field `left`")),
        (None, Some(_), None) => {
            return Err(RequestError::invalid("right", "missing field `right`"));
        }
        (None, None, None) => {
            return Err(RequestError::invalid(
                "pairs",
                "give `pairs` or `left` and `right`",
            ));
        }
    };
    Ok(pairs)
}

pub fn check_table(field: &str, t: &Table) -> Result<(), RequestError> {
    if t.name.trim().is_empty() {
        return Err(RequestError::invalid(
            format!("{field}.name"),
            "must not be empty",
        ));
    }
    if t.columns.is_empty() {
        return Err(RequestError::invalid(
            format!("{field}.columns"),
            "must contain at least one column",
        ));
    }
    let mut seen = HashSet::new();
    for (i, c) in t.columns.iter().enumerate() {
        if c.name.trim().is_empty() {
            return Err(RequestError::invalid(
                format!("{field}.columns[{i}].name"),
                "must not be empty",
            ));
        }
        if !seen.insert(c.name.as_str()) {
            return Err(RequestError::invalid(
                format!("{field}.columns[{i}].name"),
                format!("duplicate column name {:?}", c.name),
            ));
        }
        if let Some(j) = c
            .samples
            .iter()
            .position(|v| matches!(v, Value::Object(_) | Value::Array(_)))
        {
            return Err(RequestError::invalid(
                format!("{field}.columns[{i}].samples[{j}]"),
                "samples must be strings, numbers, booleans or null",
            ));
        }
    }
    Ok(())
}

pub fn check_schema_request(r: &SchemaRequest) -> Result<(), RequestError> {
    check_table("source", &r.source)?;
    check_table("target", &r.target)?;
    check_threshold("options.threshold", r.options.threshold)?;
    check_examples(r)
}

/// [`check_schema_request`] for an answer on the request path: at most `max_columns`
/// columns per table (`matching.max_columns`), as the work grows with their product.
pub fn check_schema_request_sync(
    r: &SchemaRequest,
    max_columns: usize,
) -> Result<(), RequestError> {
    check_schema_request(r)?;
    for (field, t) in [("source", &r.source), ("target", &r.target)] {
        if t.columns.len() > max_columns {
            return Err(RequestError::invalid(
                format!("{field}.columns"),
                format!(
                    "has {} columns; at most {max_columns} per table are matched in one request (matching.max_columns)",
                    t.columns.len()
                ),
            ));
        }
    }
    Ok(())
}

fn check_examples(r: &SchemaRequest) -> Result<(), RequestError> {
    for (i, e) in r.options.examples.iter().enumerate() {
        if e.source.trim().is_empty() || e.target.trim().is_empty() {
            return Err(RequestError::invalid(
                format!("options.examples[{i}]"),
                "`source` and `target` must name columns",
            ));
        }
    }
    Ok(())
}

/// Validates a dedup set and returns the id of each record.
pub fn dedup_ids(entities: &[Record], field: &str) -> Result<Vec<String>, RequestError> {
    if entities.is_empty() {
        return Err(RequestError::invalid(
            field,
            "must contain at least one entity",
        ));
    }
    let mut ids = Vec::with_capacity(entities.len());
    let mut seen = HashSet::new();
    for (i, r) in entities.iter().enumerate() {
        check_record(&format!("{field}[{i}]"), r)?;
        let id = match r.get("id") {
            None | Some(Value::Null) => i.to_string(),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(RequestError::invalid(
                    format!("{field}[{i}].id"),
                    "must be a non-empty string or a number",
                ));
            }
        };
        if !seen.insert(id.clone()) {
            return Err(RequestError::invalid(
                format!("{field}[{i}].id"),
                format!("duplicate id {id:?}"),
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// The field a serde message is about: the path (which already ends in the name of an
/// unknown field), extended by the named field for "missing field `x`".
pub fn field_of(path: &str, msg: &str) -> String {
    let base = if path == "." { "" } else { path };
    if let Some(rest) = msg.strip_prefix("missing field `")
        && let Some(end) = rest.find('`')
    {
        let name = &rest[..end];
        return if base.is_empty() {
            name.to_string()
        } else {
            format!("{base}.{name}")
        };
    }
    if base.is_empty() {
        "<body>".to_string()
    } else {
        base.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        v.as_object().cloned().unwrap_or_default()
    }

    fn field(r: Result<impl std::fmt::Debug, RequestError>) -> String {
        match r {
            Err(RequestError::InvalidInput { field, .. }) => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn checks_name_the_field() {
        assert!(check_threshold("t", Some(0.5)).is_ok());
        assert_eq!(field(check_threshold("t", Some(f64::NAN))), "t");
        assert_eq!(field(check_split_threshold("s", Some(0.9), Some(0.5))), "s");
        assert_eq!(
            field(check_record("left", &rec(json!({"a": {"b": 1}})))),
            "left.a"
        );
        assert_eq!(
            field(dedup_ids(
                &[
                    rec(json!({"id": 1, "a": 1})),
                    rec(json!({"id": "1", "a": 2}))
                ],
                "entities"
            )),
            "entities[1].id"
        );
        let too_many = EntityRequest {
            left: None,
            right: None,
            pairs: Some(vec![
                EntityPair {
                    left: rec(json!({"a": 1})),
                    right: rec(json!({"a": 1})),
                };
                3
            ]),
            options: EntityOptions::default(),
        };
        assert!(matches!(
            entity_pairs(too_many, 2),
            Err(RequestError::TooLarge(_))
        ));
    }

    #[test]
    fn within_prefixes_only_the_field() {
        let e = RequestError::invalid("source.name", "must not be empty").within("input.pairs[3]");
        assert_eq!(
            e,
            RequestError::invalid("input.pairs[3].source.name", "must not be empty")
        );
        assert_eq!(
            e.to_string(),
            "invalid request at `input.pairs[3].source.name`: must not be empty"
        );
        let big = RequestError::TooLarge("x".into());
        assert_eq!(big.clone().within("p"), big);
    }

    #[test]
    fn field_of_serde_messages() {
        assert_eq!(field_of(".", "missing field `left`"), "left");
        assert_eq!(field_of("options", "missing field `x`"), "options.x");
        assert_eq!(field_of("pairs[1].left", "invalid type"), "pairs[1].left");
        assert_eq!(field_of(".", "invalid type"), "<body>");
    }
}
