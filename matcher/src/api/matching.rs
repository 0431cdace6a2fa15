//! The matching endpoints: `POST /api/v1/match/entity`, `/match/schema`, `/match/dedup`.
//! Handlers validate with [`crate::requests`] (every problem named by field), look the
//! normalized request up in the result cache, call the engine on a miss, cache the answer
//! and queue an encrypted match-history entry.

use std::time::Instant;

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::responses::{Backbone, JsonBody, Protected};
use crate::auth::Caller;
use crate::crypto::sha256_hex;
use crate::engine::EngineError;
use crate::engine::{DedupOptions, DedupResult, ENGINE_VERSION, MatchResult, SchemaMatch};
use crate::error::ApiError;
use crate::recorder::Entry;
use crate::requests::{
    DedupRequest, EntityRequest, SchemaRequest, check_entity_options, check_schema_request_sync,
    check_split_threshold, check_threshold, dedup_ids, entity_pairs,
};
use crate::state::AppState;

/// Runs matching off the async workers: on a blocking thread, which drives the engine's
/// future itself, so the embedded backbone's CPU-bound work never holds a runtime worker
/// (`/health` and other keys' requests keep answering). At most
/// [`crate::state::Shared::heavy`] such calls run at once; the others wait for a permit
/// without blocking anything. The permit goes with the work: a request that times out
/// frees its slot when its work is done, which the engine cuts short at its next check
/// ([`crate::engine::cancel`]; counted in `kcmf_matching_cancelled_total`).
pub(crate) async fn off_the_workers<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&tokio::runtime::Handle) -> Result<T, EngineError> + Send + 'static,
{
    let permit = state
        .heavy
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Unavailable(format!("matching is shutting down: {e}")))?;
    let handle = tokio::runtime::Handle::current();
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // dropped with this future (a timeout): the engine sees the flag and stops
    let guard = crate::engine::cancel::CancelOnDrop::new(flag.clone());
    let out = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let out = crate::engine::cancel::scope(flag, || work(&handle));
        if matches!(out, Err(EngineError::Cancelled)) {
            metrics::counter!("kcmf_matching_cancelled_total").increment(1);
        }
        out
    })
    .await
    .map_err(|e| ApiError::Internal(format!("matching task failed: {e}")))?;
    guard.disarm();
    Ok(out?)
}
use crate::store::{HistoryEntry, now_ms};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntityResponse {
    pub results: Vec<MatchResult>,
    pub cached: bool,
    pub backbone: String,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SchemaResponse {
    pub matches: Vec<SchemaMatch>,
    pub cached: bool,
    pub backbone: String,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DedupResponse {
    pub clusters: Vec<Vec<String>>,
    pub candidate_pairs: u64,
    pub matched_pairs: u64,
    /// How many of the caller's tenant's stored examples (`POST /api/v1/feedback`) named
    /// a pair of these entities; such a pair is decided by its label (a "non-match" pair
    /// never ends in one cluster).
    pub labels_used: u64,
    pub cached: bool,
    pub backbone: String,
    pub elapsed_ms: f64,
}

// ---- caching helpers --------------------------------------------------------------------

/// The result-cache key of a request: the engine version, the kind, the caller's key id and
/// the generation of its tenant's examples (answers depend on them; one key's cached
/// answers are never another's, even in one project), and the canonical body.
fn cache_key(
    kind: &str,
    caller: &Caller,
    generation: u64,
    body: &impl Serialize,
) -> Result<String, ApiError> {
    // serde_json's map is ordered by key, so equal requests serialize equally.
    let canonical = serde_json::to_vec(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut buf = Vec::with_capacity(canonical.len() + 96);
    buf.extend_from_slice(ENGINE_VERSION.as_bytes());
    buf.push(0);
    buf.extend_from_slice(kind.as_bytes());
    buf.push(0);
    buf.extend_from_slice(caller.key_id.as_bytes());
    buf.push(0);
    buf.extend_from_slice(generation.to_string().as_bytes());
    buf.push(0);
    buf.extend_from_slice(&canonical);
    Ok(format!("{kind}:{}", sha256_hex(&buf)))
}

async fn cached<T: serde::de::DeserializeOwned>(
    state: &AppState,
    kind: &'static str,
    key: &str,
) -> Option<T> {
    let v = state.cache.get(kind, key).await?;
    match serde_json::from_str(&v) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "discarding unreadable cache entry");
            None
        }
    }
}

/// A cached answer as raw JSON, not re-parsed into types: the hot path of repeated
/// requests answers without deserializing and serializing the results. Values from Redis
/// are checked to be JSON (another writer may share it); in-process values were written
/// by this process from serialized results.
async fn cached_raw(state: &AppState, kind: &'static str, key: &str) -> Option<Arc<str>> {
    let v = state.cache.get(kind, key).await?;
    if state.cache.is_in_process() {
        return Some(v);
    }
    match serde_json::from_str::<&serde_json::value::RawValue>(&v) {
        Ok(_) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, "discarding unreadable cache entry");
            None
        }
    }
}

/// `{"<field>": <raw>, "cached": true, "backbone": …, "elapsed_ms": …}`.
fn raw_hit(field: &str, raw: &str, backbone: &str, start: Instant) -> Response {
    let backbone = serde_json::Value::String(backbone.to_string());
    let body = format!(
        "{{\"{field}\":{raw},\"cached\":true,\"backbone\":{backbone},\"elapsed_ms\":{}}}",
        ms(start)
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn remember(
    state: &AppState,
    caller: &Caller,
    kind: &str,
    key: &str,
    ttl: u64,
    request: &impl Serialize,
    result: &impl Serialize,
) -> Result<(), ApiError> {
    let req = serde_json::to_vec(request).map_err(|e| ApiError::Internal(e.to_string()))?;
    let res = serde_json::to_string(result).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.cache.set(key, &res, ttl).await;
    state.recorder.record(Entry::History(HistoryEntry {
        key_id: Some(caller.key_id.clone()),
        kind: kind.to_string(),
        request_hash: key.to_string(),
        request_enc: state.cipher.encrypt(&req),
        result_enc: state.cipher.encrypt(res.as_bytes()),
        created_at: now_ms(),
    }));
    Ok(())
}

fn ms(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

// ---- handlers ---------------------------------------------------------------------------

/// Match entity pairs.
#[utoipa::path(
    post, path = "/api/v1/match/entity", operation_id = "match_entity", tag = "matching",
    request_body = EntityRequest,
    responses((status = 200, body = EntityResponse), Protected, JsonBody, Backbone),
    security(("api_key" = []))
)]
pub async fn match_entity(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<EntityRequest>,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let options = req.options.clone();
    check_entity_options(&options)?;
    let pairs = entity_pairs(req, state.cfg.matching.max_pairs)?;
    let mine = state.feedback.for_caller(&caller).await?;
    let key = cache_key("entity", &caller, mine.generation, &(&pairs, &options))?;
    let backbone = state.engine.backbone_name();
    if let Some(raw) = cached_raw(&state, "entity", &key).await {
        return Ok(raw_hit("results", &raw, &backbone, start));
    }
    let results = {
        let (engine, pairs, stored) = (state.engine.clone(), pairs.clone(), mine.entity);
        off_the_workers(&state, move |h| {
            h.block_on(engine.match_entities_with(&pairs, &options, &stored))
        })
        .await?
    };
    remember(
        &state,
        &caller,
        "entity",
        &key,
        state.cfg.cache.entity_ttl,
        &pairs,
        &results,
    )
    .await?;
    Ok(Json(EntityResponse {
        results,
        cached: false,
        backbone,
        elapsed_ms: ms(start),
    })
    .into_response())
}

/// Match the columns of two schemas.
#[utoipa::path(
    post, path = "/api/v1/match/schema", operation_id = "match_schema", tag = "matching",
    request_body = SchemaRequest,
    responses((status = 200, body = SchemaResponse), Protected, JsonBody, Backbone),
    security(("api_key" = []))
)]
pub async fn match_schema(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<SchemaRequest>,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    check_schema_request_sync(&req, state.cfg.matching.max_columns)?;
    let mine = state.feedback.for_caller(&caller).await?;
    let key = cache_key("schema", &caller, mine.generation, &req)?;
    let backbone = state.engine.backbone_name();
    if let Some(raw) = cached_raw(&state, "schema", &key).await {
        return Ok(raw_hit("matches", &raw, &backbone, start));
    }
    let options = req.options.clone();
    let matches = {
        let (engine, source, target, stored) = (
            state.engine.clone(),
            req.source.clone(),
            req.target.clone(),
            mine.schema,
        );
        off_the_workers(&state, move |h| {
            h.block_on(engine.match_schema_with(&source, &target, &options, &stored))
        })
        .await?
    };
    remember(
        &state,
        &caller,
        "schema",
        &key,
        state.cfg.cache.schema_ttl,
        &req,
        &matches,
    )
    .await?;
    Ok(Json(SchemaResponse {
        matches,
        cached: false,
        backbone,
        elapsed_ms: ms(start),
    })
    .into_response())
}

/// Deduplicate a small set of entities synchronously.
#[utoipa::path(
    post, path = "/api/v1/match/dedup", operation_id = "match_dedup", tag = "matching",
    request_body = DedupRequest,
    responses((status = 200, body = DedupResponse), Protected, JsonBody, Backbone),
    security(("api_key" = []))
)]
pub async fn match_dedup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<DedupRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let start = Instant::now();
    check_threshold("threshold", req.threshold)?;
    check_split_threshold("split_threshold", req.threshold, req.split_threshold)?;
    let limit = state.cfg.matching.dedup_sync_limit;
    if req.entities.len() > limit {
        return Err(ApiError::TooLarge(format!(
            "`entities` has {} records; at most {limit} are deduplicated synchronously — submit a batch job (POST /api/v1/jobs, type dedup)",
            req.entities.len()
        )));
    }
    let ids = dedup_ids(&req.entities, "entities")?;
    let mine = state.feedback.for_caller(&caller).await?;
    let key = cache_key("dedup", &caller, mine.generation, &req)?;
    let backbone = state.engine.backbone_name();
    if let Some(r) = cached::<DedupResult>(&state, "dedup", &key).await {
        return Ok(Json(DedupResponse {
            clusters: r.clusters,
            candidate_pairs: r.candidate_pairs,
            matched_pairs: r.matched_pairs,
            labels_used: r.labels_used,
            cached: true,
            backbone,
            elapsed_ms: ms(start),
        }));
    }
    let r = {
        let (engine, entities) = (state.engine.clone(), req.entities.clone());
        let opts = DedupOptions {
            threshold: req.threshold,
            split_threshold: req.split_threshold,
            examples: mine.entity.items().to_vec(),
        };
        off_the_workers(&state, move |h| {
            h.block_on(engine.dedup(&ids, &entities, opts))
        })
        .await?
    };
    remember(
        &state,
        &caller,
        "dedup",
        &key,
        state.cfg.cache.entity_ttl,
        &req,
        &r,
    )
    .await?;
    Ok(Json(DedupResponse {
        clusters: r.clusters,
        candidate_pairs: r.candidate_pairs,
        matched_pairs: r.matched_pairs,
        labels_used: r.labels_used,
        cached: false,
        backbone,
        elapsed_ms: ms(start),
    }))
}
