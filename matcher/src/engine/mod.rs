//! The KcMF matching engine: the one library that the HTTP API, the batch jobs and the
//! CLI call to decide whether two schema columns or two entity records match.
//!
//! This module owns the public interface (request/answer types, [`Engine`]) and the
//! dispatch to a backbone. The pipeline pieces live in sub-modules.

pub mod align;
pub mod assign;
pub mod blocking;
pub mod cancel;
pub mod cluster;
pub mod columns;
pub mod derived;
pub mod embed;
pub mod fs;
pub mod gguf;
pub mod knowledge;
pub mod labels;
pub mod lexicon;
pub mod linkage;
pub mod llm;
pub mod local;
pub mod pipeline;
pub mod prompt;
pub mod relevance;
pub mod review;
pub mod rules;
pub mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::config::{LlmConfig, MatchingConfig};

/// Version of the engine's decision logic, part of every cache key (API results, LLM
/// answers): the crate version and a fingerprint of the engine's sources taken at build
/// time (`build.rs`), so that a build whose engine differs never serves another's cached
/// results.
pub const ENGINE_VERSION: &str = concat!(
    "kcmf-engine-",
    env!("CARGO_PKG_VERSION"),
    "-",
    env!("KCMF_ENGINE_HASH")
);

/// A flat record: attribute name → value (string, number, bool or null).
pub type Record = serde_json::Map<String, Value>;

/// The OpenAPI schema of a [`Record`] (`Record`): a non-empty object whose attribute names
/// are not blank and whose values are [`ScalarSchema`]s, as
/// [`crate::requests::check_record`] accepts.
pub struct RecordSchema;

impl utoipa::PartialSchema for RecordSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A flat record: at least one attribute; names not blank; values strings, \
                 numbers, booleans or null.",
            ))
            .min_properties(Some(1))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"\S")),
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(
                utoipa::openapi::Ref::from_schema_name("Scalar").into(),
            )))
            .into()
    }
}

impl utoipa::ToSchema for RecordSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Record".into()
    }
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("Scalar".into(), ScalarSchema::schema()));
    }
}

/// The OpenAPI schema of an attribute value or a column sample (`Scalar`): a string,
/// number, boolean or null — never an object or an array.
pub struct ScalarSchema;

impl utoipa::PartialSchema for ScalarSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![
                Type::String,
                Type::Number,
                Type::Boolean,
                Type::Null,
            ]))
            .description(Some("A string, number, boolean or null."))
            .into()
    }
}

impl utoipa::ToSchema for ScalarSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }
}

/// Errors of the engine. Bad user input is reported as [`EngineError::InvalidInput`] with
/// the offending field so the API can answer 4xx.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid input at `{field}`: {message}")]
    InvalidInput { field: String, message: String },
    #[error("backbone `{backbone}` failed: {message}")]
    Backbone { backbone: String, message: String },
    #[error("engine configuration: {0}")]
    Config(String),
    /// The caller stopped waiting (a request timed out): see [`cancel`].
    #[error("matching was cancelled: nobody waits for its answer any more")]
    Cancelled,
}

/// One pair of records to compare.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntityPair {
    #[schema(value_type = RecordSchema)]
    pub left: Record,
    #[schema(value_type = RecordSchema)]
    pub right: Record,
}

/// A labelled entity example (Example as Knowledge).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityExample {
    #[schema(value_type = RecordSchema)]
    pub left: Record,
    #[schema(value_type = RecordSchema)]
    pub right: Record,
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// Options for entity matching.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityOptions {
    /// Score at or above which a pair is a match; default `matching.entity_threshold`.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
    /// User-supplied knowledge strings (a knowledge source of the ensemble).
    #[serde(default)]
    pub knowledge: Vec<String>,
    /// Labelled examples used as demonstrations.
    #[serde(default)]
    pub examples: Vec<EntityExample>,
}

/// The engine's answer for one pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchResult {
    #[serde(rename = "match")]
    pub is_match: bool,
    /// Confidence in `[0, 1]` that the pair is a match.
    pub score: f64,
    /// The rule (Roman numeral and condition) that decided.
    pub rule: String,
    /// The reasoning trace: one line per rule checked and per knowledge source voted.
    pub reasoning: Vec<String>,
    /// Answers of the ensemble that were not a clean yes/no (counted as "no").
    #[serde(default)]
    pub badly_formatted: u32,
}

/// One column of a table, as given to schema matching.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Not blank; unique within its table.
    #[schema(pattern = r"\S")]
    pub name: String,
    #[serde(default, rename = "type")]
    pub data_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Sample values: strings, numbers, booleans or null.
    #[serde(default)]
    #[schema(value_type = Vec<ScalarSchema>)]
    pub samples: Vec<Value>,
}

/// A table (schema) for schema matching.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    #[schema(pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// At least one; at most `matching.max_columns` in a synchronous request.
    #[schema(min_items = 1)]
    pub columns: Vec<Column>,
}

/// A labelled schema example: `source` and `target` column names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaExample {
    #[schema(pattern = r"\S")]
    pub source: String,
    #[schema(pattern = r"\S")]
    pub target: String,
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// Options for schema matching.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaOptions {
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub knowledge: Vec<String>,
    #[serde(default)]
    pub examples: Vec<SchemaExample>,
}

/// One matched column pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SchemaMatch {
    pub source: String,
    pub target: String,
    pub score: f64,
    pub rule: String,
    pub reasoning: Vec<String>,
}

/// Options for deduplication.
#[derive(Debug, Clone, Default)]
pub struct DedupOptions {
    /// Match probability threshold (default `matching.entity_threshold`).
    pub threshold: Option<f64>,
    /// Stricter threshold that splits clusters: a pair below it never joins two clusters
    /// ([`linkage::LinkOptions::split_threshold`]); at least `threshold`.
    pub split_threshold: Option<f64>,
    /// Labelled pairs, first ones first: they refine the weights, and decide the pairs of
    /// input records they name ([`labels`]).
    pub examples: Vec<EntityExample>,
}

/// Result of deduplicating a set of entities.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DedupResult {
    /// Clusters of ids with more than one member, ids sorted, clusters sorted.
    pub clusters: Vec<Vec<String>>,
    /// Candidate pairs produced by blocking and scored.
    pub candidate_pairs: u64,
    /// Pairs that matched.
    pub matched_pairs: u64,
    /// How many labelled examples (given, or stored through `/api/v1/feedback`) named a
    /// pair of these records and decided it (rule `label`).
    #[serde(default)]
    pub labels_used: u64,
}

/// The matching engine. Cheap to clone (shared state inside).
#[derive(Clone)]
pub struct Engine {
    inner: std::sync::Arc<pipeline::Pipeline>,
}

impl Engine {
    /// Builds the engine from the `llm` and `matching` configuration sections.
    pub fn new(llm: &LlmConfig, matching: &MatchingConfig) -> Result<Self, EngineError> {
        Ok(Self {
            inner: std::sync::Arc::new(pipeline::Pipeline::new(llm, matching)?),
        })
    }

    /// Installs the LLM response cache (Redis or in-process).
    pub fn with_llm_cache(self, cache: std::sync::Arc<dyn llm::LlmCache>) -> Self {
        let mut p = (*self.inner).clone();
        p.set_cache(cache);
        Self {
            inner: std::sync::Arc::new(p),
        }
    }

    /// Uses `model` as the LLM backbone (any [`llm::ChatModel`]: tests, custom servers).
    pub fn with_chat_model(self, model: std::sync::Arc<dyn llm::ChatModel>) -> Self {
        let mut p = (*self.inner).clone();
        p.set_chat_model(model);
        Self {
            inner: std::sync::Arc::new(p),
        }
    }

    /// Name of the backbone answering, e.g. `local` or `openai:gpt-4o-mini`.
    pub fn backbone_name(&self) -> String {
        self.inner.backbone_name()
    }

    /// The rules in force.
    pub fn rules(&self) -> &rules::Rules {
        &self.inner.rules
    }

    /// Matches each pair; one result per pair, same order.
    pub async fn match_entities(
        &self,
        pairs: &[EntityPair],
        opts: &EntityOptions,
    ) -> Result<Vec<MatchResult>, EngineError> {
        self.inner.match_entities(pairs, opts).await
    }

    /// [`Self::match_entities`] with a tenant's stored examples besides the request's
    /// (borrowed: only the k nearest of each pair are looked at again).
    pub async fn match_entities_with(
        &self,
        pairs: &[EntityPair],
        opts: &EntityOptions,
        stored: &knowledge::StoredExamples<EntityExample>,
    ) -> Result<Vec<MatchResult>, EngineError> {
        self.inner.match_entities_with(pairs, opts, stored).await
    }

    /// Matches the columns of `source` against those of `target`; returns the matches
    /// (pairs decided "yes"), best first.
    pub async fn match_schema(
        &self,
        source: &Table,
        target: &Table,
        opts: &SchemaOptions,
    ) -> Result<Vec<SchemaMatch>, EngineError> {
        self.inner.match_schema(source, target, opts).await
    }

    /// [`Self::match_schema`] with a tenant's stored examples besides the request's.
    pub async fn match_schema_with(
        &self,
        source: &Table,
        target: &Table,
        opts: &SchemaOptions,
        stored: &knowledge::StoredExamples<SchemaExample>,
    ) -> Result<Vec<SchemaMatch>, EngineError> {
        self.inner
            .match_schema_with(source, target, opts, stored)
            .await
    }

    /// Deduplicates records; `ids[i]` is the id of `records[i]`.
    pub async fn dedup(
        &self,
        ids: &[String],
        records: &[Record],
        opts: DedupOptions,
    ) -> Result<DedupResult, EngineError> {
        self.inner.dedup(ids, records, opts).await
    }
}

/// Renders a JSON value as the plain text the scorers compare.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Attribute names present in either record, sorted.
pub fn attributes(a: &Record, b: &Record) -> Vec<String> {
    let mut set: BTreeMap<&str, ()> = BTreeMap::new();
    for k in a.keys().chain(b.keys()) {
        set.insert(k, ());
    }
    set.into_keys().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    /// The version names the crate and carries the build's fingerprint of the engine.
    #[test]
    fn the_engine_version_carries_the_fingerprint_of_its_sources() {
        let prefix = concat!("kcmf-engine-", env!("CARGO_PKG_VERSION"), "-");
        let hash = super::ENGINE_VERSION
            .strip_prefix(prefix)
            .unwrap_or_default();
        assert_eq!(hash.len(), 16, "{}", super::ENGINE_VERSION);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    }
}
