//! Durable batch jobs: submission (validation and splitting into chunks), the job view
//! (state, progress, timings) and the types shared by the queue and the workers.
//!
//! The queue lives in the store ([`queue`]): PostgreSQL in production, SQLite in the
//! embedded default. Workers ([`worker`]) lease chunks, heartbeat, and write results with
//! the chunk's completion in one transaction, so a killed worker loses nothing and
//! duplicates nothing.

pub mod queue;
pub mod worker;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::engine::{EntityOptions, EntityPair, Record, SchemaOptions, Table};
use crate::records::{self, RecordsError};
use crate::requests::{
    RequestError, SchemaRequest, check_entity_options, check_record, check_schema_request,
    check_split_threshold, check_threshold, dedup_ids, field_of,
};

/// Job types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    SchemaBatch,
    EntityMatch,
    Dedup,
    Link,
}

impl JobType {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobType::SchemaBatch => "schema_batch",
            JobType::EntityMatch => "entity_match",
            JobType::Dedup => "dedup",
            JobType::Link => "link",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "schema_batch" => JobType::SchemaBatch,
            "entity_match" => JobType::EntityMatch,
            "dedup" => JobType::Dedup,
            "link" => JobType::Link,
            _ => return None,
        })
    }
}

/// Job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }
}

/// Options of a job (the union of the matching options; unknown keys are refused). Documented
/// per job type with [`JobRequest`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobOptions {
    #[serde(default)]
    pub threshold: Option<f64>,
    /// `dedup` only (refused on other job types): stricter threshold that splits clusters
    /// (a pair below it never joins two).
    #[serde(default)]
    pub split_threshold: Option<f64>,
    #[serde(default)]
    pub knowledge: Vec<String>,
    /// Entity examples (`EntityExample`: `entity_match`, `dedup`, `link`) or schema examples
    /// (`SchemaExample`: `schema_batch`).
    #[serde(default)]
    pub examples: Vec<Value>,
    /// `link` only: the columns to compare, left column → right column (default: aligned
    /// by the schema matcher).
    #[serde(default)]
    pub column_map: Option<std::collections::BTreeMap<String, String>>,
}

/// `POST /api/v1/jobs` body. Its OpenAPI schema is written in [`crate::api::schemas`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    #[serde(rename = "type")]
    pub job_type: JobType,
    /// By type: `entity_match` `{pairs: [EntityPair]}`, `schema_batch` `{pairs: [{source:
    /// Table, target: Table}]}`, `dedup` `{entities: [Record]}`, `link` `{left: [Record],
    /// right: [Record]}`.
    pub input: Value,
    #[serde(default)]
    pub options: JobOptions,
}

/// One chunk's input, as stored (encrypted) in the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChunkInput {
    EntityMatch {
        offset: usize,
        pairs: Vec<EntityPair>,
    },
    SchemaBatch {
        offset: usize,
        pairs: Vec<SchemaPair>,
    },
    Dedup {
        ids: Vec<String>,
        records: Vec<Record>,
    },
    Link {
        left_ids: Vec<String>,
        left: Vec<Record>,
        right_ids: Vec<String>,
        right: Vec<Record>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchemaPair {
    pub source: Table,
    pub target: Table,
}

/// A validated job, split into chunks, ready to enqueue.
#[derive(Debug, Clone)]
pub struct PreparedJob {
    pub job_type: JobType,
    pub options: JobOptions,
    pub chunks: Vec<(usize, ChunkInput)>,
    pub total_items: usize,
}

fn parse_field<T: serde::de::DeserializeOwned>(v: Value, field: &str) -> Result<T, RequestError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let inner = field_of(&path, &msg);
        let full = if inner == "<body>" {
            field.to_string()
        } else {
            format!("{field}.{inner}")
        };
        RequestError::invalid(full, msg)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairsInput<T> {
    pairs: Vec<T>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntitiesInput {
    entities: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkInput {
    left: Vec<Record>,
    right: Vec<Record>,
}

impl JobOptions {
    pub fn entity(&self) -> Result<EntityOptions, RequestError> {
        let examples = self
            .examples
            .iter()
            .enumerate()
            .map(|(i, e)| parse_field(e.clone(), &format!("options.examples[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EntityOptions {
            threshold: self.threshold,
            knowledge: self.knowledge.clone(),
            examples,
        })
    }

    pub fn schema(&self) -> Result<SchemaOptions, RequestError> {
        let examples = self
            .examples
            .iter()
            .enumerate()
            .map(|(i, e)| parse_field(e.clone(), &format!("options.examples[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SchemaOptions {
            threshold: self.threshold,
            knowledge: self.knowledge.clone(),
            examples,
        })
    }
}

/// Validates a job request and splits it into chunks of `batch_size` items. Nothing is
/// queued when this fails; the error names the field.
pub fn prepare(req: JobRequest, batch_size: usize) -> Result<PreparedJob, RequestError> {
    check_threshold("options.threshold", req.options.threshold)?;
    check_split_threshold(
        "options.split_threshold",
        req.options.threshold,
        req.options.split_threshold,
    )?;
    if req.options.column_map.is_some() && req.job_type != JobType::Link {
        return Err(RequestError::invalid(
            "options.column_map",
            "column_map applies to link jobs only",
        ));
    }
    if req.options.split_threshold.is_some() && req.job_type != JobType::Dedup {
        return Err(RequestError::invalid(
            "options.split_threshold",
            "applies to `dedup` jobs only",
        ));
    }
    let batch = batch_size.max(1);
    let (chunks, total) = match req.job_type {
        JobType::EntityMatch => {
            check_entity_options(&req.options.entity()?)?;
            let inp: PairsInput<EntityPair> = parse_field(req.input, "input")?;
            if inp.pairs.is_empty() {
                return Err(RequestError::invalid(
                    "input.pairs",
                    "must contain at least one pair",
                ));
            }
            for (i, p) in inp.pairs.iter().enumerate() {
                check_record(&format!("input.pairs[{i}].left"), &p.left)?;
                check_record(&format!("input.pairs[{i}].right"), &p.right)?;
            }
            let total = inp.pairs.len();
            let chunks = inp
                .pairs
                .chunks(batch)
                .enumerate()
                .map(|(k, c)| {
                    (
                        c.len(),
                        ChunkInput::EntityMatch {
                            offset: k * batch,
                            pairs: c.to_vec(),
                        },
                    )
                })
                .collect();
            (chunks, total)
        }
        JobType::SchemaBatch => {
            let opts = req.options.schema()?;
            let inp: PairsInput<SchemaPair> = parse_field(req.input, "input")?;
            if inp.pairs.is_empty() {
                return Err(RequestError::invalid(
                    "input.pairs",
                    "must contain at least one pair",
                ));
            }
            for (i, p) in inp.pairs.iter().enumerate() {
                let r = SchemaRequest {
                    source: p.source.clone(),
                    target: p.target.clone(),
                    options: opts.clone(),
                };
                check_schema_request(&r).map_err(|e| e.within(&format!("input.pairs[{i}]")))?;
            }
            let total = inp.pairs.len();
            // Each schema pair is many column pairs: smaller chunks.
            let per = (batch / 10).max(1);
            let chunks = inp
                .pairs
                .chunks(per)
                .enumerate()
                .map(|(k, c)| {
                    (
                        c.len(),
                        ChunkInput::SchemaBatch {
                            offset: k * per,
                            pairs: c.to_vec(),
                        },
                    )
                })
                .collect();
            (chunks, total)
        }
        JobType::Dedup => {
            check_entity_options(&req.options.entity()?)?;
            let inp: EntitiesInput = parse_field(req.input, "input")?;
            let ids = dedup_ids(&inp.entities, "input.entities")?;
            let total = ids.len();
            // Blocking and weight estimation need the whole set: one chunk.
            (
                vec![(
                    total,
                    ChunkInput::Dedup {
                        ids,
                        records: inp.entities,
                    },
                )],
                total,
            )
        }
        JobType::Link => {
            check_entity_options(&req.options.entity()?)?;
            let inp: LinkInput = parse_field(req.input, "input")?;
            let left_ids = dedup_ids(&inp.left, "input.left")?;
            let right_ids = dedup_ids(&inp.right, "input.right")?;
            if let Some(map) = &req.options.column_map {
                for (l, r) in map {
                    for (side, recs, col) in [("left", &inp.left, l), ("right", &inp.right, r)] {
                        if !recs.iter().any(|x| x.contains_key(col)) {
                            return Err(RequestError::invalid(
                                format!("options.column_map.{l}"),
                                format!("no record of input.{side} has the column `{col}`"),
                            ));
                        }
                    }
                }
            }
            let total = left_ids.len() + right_ids.len();
            (
                vec![(
                    total,
                    ChunkInput::Link {
                        left_ids,
                        left: inp.left,
                        right_ids,
                        right: inp.right,
                    },
                )],
                total,
            )
        }
    };
    Ok(PreparedJob {
        job_type: req.job_type,
        options: req.options,
        chunks,
        total_items: total,
    })
}

/// Parses an uploaded CSV or NDJSON file ([`crate::records`]) into records. Errors name
/// the line (`body line 3`), or `body` for the whole of it.
pub fn parse_upload(content_type: &str, body: &[u8]) -> Result<Vec<Record>, RequestError> {
    let parsed = if content_type.starts_with("text/csv") {
        records::parse_csv(body)
    } else if content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/jsonl")
    {
        records::parse_ndjson(body)
    } else {
        return Err(RequestError::UnsupportedFormat(
            "expected application/json, text/csv or application/x-ndjson".into(),
        ));
    };
    parsed.map_err(|e| match e {
        RecordsError::Body {
            line: Some(l),
            message,
        } => RequestError::invalid(format!("body line {l}"), message),
        RecordsError::Body {
            line: None,
            message,
        } => RequestError::invalid("body", message),
        other => RequestError::invalid("body", other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> JobRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn entity_jobs_split_into_chunks() {
        let pairs: Vec<Value> = (0..25)
            .map(|i| json!({"left": {"n": format!("a{i}")}, "right": {"n": "b"}}))
            .collect();
        let p = prepare(
            req(json!({"type": "entity_match", "input": {"pairs": pairs}})),
            10,
        )
        .unwrap();
        assert_eq!(p.total_items, 25);
        let sizes: Vec<usize> = p.chunks.iter().map(|c| c.0).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        match &p.chunks[2].1 {
            ChunkInput::EntityMatch { offset, pairs } => {
                assert_eq!((*offset, pairs.len()), (20, 5))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_inputs_are_named() {
        let field = |v: Value| match prepare(req(v), 10) {
            Err(RequestError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(json!({"type": "entity_match", "input": {"pairs": []}})),
            "input.pairs"
        );
        assert_eq!(
            field(json!({"type": "dedup", "input": {"entities": []}})),
            "input.entities"
        );
        assert_eq!(
            field(
                json!({"type": "dedup", "input": {"entities": [{"id": "x", "a": 1}, {"id": "x", "a": 2}]}})
            ),
            "input.entities[1].id"
        );
        assert_eq!(
            field(json!({"type": "link", "input": {"left": [{"a": 1}]}})),
            "input.right"
        );
        assert_eq!(
            field(
                json!({"type": "entity_match", "input": {"pairs": [{"left": {"a": 1}, "right": {"a": 1}}]}, "options": {"threshold": 7}})
            ),
            "options.threshold"
        );
        assert_eq!(
            field(
                json!({"type": "dedup", "input": {"entities": [{"id": 1, "a": 1}]}, "options": {"threshold": 0.9, "split_threshold": 0.5}})
            ),
            "options.split_threshold"
        );
        assert_eq!(
            field(
                json!({"type": "link", "input": {"left": [{"a": 1}], "right": [{"a": 1}]}, "options": {"split_threshold": 0.95}})
            ),
            "options.split_threshold"
        );
        // examples are checked as on entity_match (records as documented) for dedup and link
        for (t, input) in [
            ("dedup", json!({"entities": [{"a": 1}]})),
            ("link", json!({"left": [{"a": 1}], "right": [{"a": 1}]})),
        ] {
            assert_eq!(
                field(
                    json!({"type": t, "input": input, "options": {"examples": [{"left": {}, "right": {"a": 1}, "match": true}]}})
                ),
                "options.examples[0].left",
                "{t}"
            );
        }
        // a column map names columns the records have, on link jobs only
        assert_eq!(
            field(
                json!({"type": "link", "input": {"left": [{"zip": 1}], "right": [{"postcode": 1}]}, "options": {"column_map": {"zip": "postal"}}})
            ),
            "options.column_map.zip"
        );
        assert_eq!(
            field(
                json!({"type": "dedup", "input": {"entities": [{"id": 1, "a": 1}]}, "options": {"column_map": {"a": "a"}}})
            ),
            "options.column_map"
        );
        assert!(
            prepare(
                req(
                    json!({"type": "link", "input": {"left": [{"zip": 1}], "right": [{"postcode": 1}]}, "options": {"column_map": {"zip": "postcode"}}})
                ),
                10
            )
            .is_ok()
        );
        assert!(
            serde_json::from_value::<JobRequest>(json!({"type": "nope", "input": {}})).is_err()
        );
    }

    #[test]
    fn uploads_parse_and_name_bad_lines() {
        let r = parse_upload("text/csv", b"id,name\n1,Ann\n2,Bo\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["name"], "Bo");
        match parse_upload("text/csv", b"id,name\n1,Ann\n2,Bo,extra\n") {
            Err(RequestError::InvalidInput { field, .. }) => assert_eq!(field, "body line 3"),
            other => panic!("{other:?}"),
        }
        let r = parse_upload("application/x-ndjson", b"{\"id\":1}\n\n{\"id\":2}\n").unwrap();
        assert_eq!(r.len(), 2);
        match parse_upload("application/x-ndjson", b"{\"id\":1}\n[1]\n") {
            Err(RequestError::InvalidInput { field, .. }) => assert_eq!(field, "body line 2"),
            other => panic!("{other:?}"),
        }
    }
}
