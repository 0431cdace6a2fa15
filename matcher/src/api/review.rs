//! What the review UI (`/ui/`, [`crate::ui`]) needs beyond the job endpoints, for `dedup`
//! jobs: `GET /api/v1/jobs/{id}/review` — the uncertain pairs (nearest the threshold) with
//! each field's agreement level and weight, the linkage rule and KcMF's decision and
//! reasoning under this key's examples, the fitted m/u per field and level, and how the
//! labels given so far sit against the threshold; `GET /api/v1/jobs/{id}/clusters` — the
//! clusters with their records, searchable by id and value, and the cluster sizes.
//!
//! Both read the records the job was given (its stored chunk input) and are scoped to the
//! key like every job endpoint (another key's job is a 404). The review fits the model with
//! the key's labels ([`crate::engine::review`]), off the async workers, and keeps the fit
//! per (job, label generation) ([`crate::state::ReviewCache`]): paging does not refit, and
//! labelling a pair (a new generation) changes the next page at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::ApiQuery;
use crate::api::matching::off_the_workers;
use crate::api::responses::{ById, Protected, QueryParams};
use crate::auth::Caller;
use crate::engine::fs::{FieldSpec, LEVELS, MISSING};
use crate::engine::linkage::LinkOptions;
use crate::engine::review::{CurvePoint, LabelScore, level_name, review};
use crate::engine::{EntityOptions, EntityPair, MatchResult, Record};
use crate::error::ApiError;
use crate::jobs::queue::{JobRow, Queue};
use crate::jobs::{ChunkInput, JobOptions};
use crate::state::{AppState, FittedReview};

/// Most pairs one review page shows (and the fit keeps).
const MAX_LIMIT: i64 = 200;

/// A `dedup` job's records and the threshold it ran with; 404 for another key's job, 409
/// for another job type.
async fn dedup_input(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(JobRow, Vec<String>, Vec<Record>, f64), ApiError> {
    let (job, threshold) = dedup_job(state, caller, id).await?;
    let (ids, records) = dedup_records(state, caller, id).await?;
    Ok((job, ids, records, threshold))
}

/// A `dedup` job of the caller and the threshold it ran with; 404 for another key's job,
/// 409 for another job type.
pub(crate) async fn dedup_job(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(JobRow, f64), ApiError> {
    let qu = Queue::new(state.store.clone());
    let job = qu
        .get(id, &caller.key_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no job {id:?}")))?;
    if job.job_type != "dedup" {
        return Err(ApiError::Conflict(format!(
            "job {id:?} is a {} job; review and clusters are for dedup jobs",
            job.job_type
        )));
    }
    let opts: JobOptions = serde_json::from_str(&job.options)
        .map_err(|e| ApiError::Internal(format!("job options: {e}")))?;
    let threshold = opts
        .threshold
        .unwrap_or(state.cfg.matching.entity_threshold);
    Ok((job, threshold))
}

/// The records a dedup job (already checked to be the caller's) was given, with their ids.
async fn dedup_records(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Vec<String>, Vec<Record>), ApiError> {
    let qu = Queue::new(state.store.clone());
    let (mut ids, mut records) = (Vec::new(), Vec::new());
    for tok in qu.inputs(id, &caller.key_id).await? {
        let plain = state
            .cipher
            .decrypt(&tok)
            .map_err(|e| ApiError::Internal(format!("job input: {e}")))?;
        match serde_json::from_slice::<ChunkInput>(&plain)
            .map_err(|e| ApiError::Internal(format!("job input: {e}")))?
        {
            ChunkInput::Dedup { ids: i, records: r } => {
                ids.extend(i);
                records.extend(r);
            }
            _ => return Err(ApiError::Internal("a dedup job with another input".into())),
        }
    }
    Ok((ids, records))
}

/// A field's value as shown: its source columns' values, space-separated.
fn shown(spec: &FieldSpec, r: &Record) -> String {
    spec.sources()
        .iter()
        .filter_map(|c| r.get(*c))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// How many uncertain pairs: 1 to 200 (default 20).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelView {
    /// 0 (exact) to 4 (different).
    pub level: u8,
    pub name: &'static str,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
    /// The match weight of the level (log2 m/u, kept sensible).
    pub weight: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldModel {
    pub name: String,
    /// `text`, `code`, `number` or `date`.
    pub kind: String,
    pub levels: Vec<LevelView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    /// Prior probability that a candidate pair matches.
    pub lambda: f64,
    /// EM iterations run (0: priors only).
    pub iterations: usize,
    /// What the fit says of itself, a line each (EM not converged, the prior lowered for
    /// a large file, columns left out as unrelated to identity): `eval --explain`'s
    /// `model: ...` lines.
    pub notes: Vec<String>,
    pub fields: Vec<FieldModel>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PairField {
    pub name: String,
    /// Agreement level 0 (exact) to 4 (different); absent when a side has no value.
    pub level: Option<u8>,
    /// `exact`, `close`, `similar`, `weak`, `different` or `missing`.
    pub agreement: &'static str,
    pub weight: f64,
    pub left: String,
    pub right: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPairView {
    pub left_id: String,
    pub right_id: String,
    #[schema(value_type = Object)]
    pub left: Record,
    #[schema(value_type = Object)]
    pub right: Record,
    /// Match probability of the linkage (after its rules).
    pub probability: f64,
    /// Match weight (log2 odds): `prior` + Σ field weights + `adjustment`.
    pub weight: f64,
    pub prior: f64,
    /// Term-frequency adjustment (a rare value agreeing counts more).
    pub adjustment: f64,
    /// The linkage rule that decided.
    pub rule: String,
    #[serde(rename = "match")]
    pub is_match: bool,
    pub fields: Vec<PairField>,
    /// KcMF's entity matching of the pair with this key's examples: what
    /// `POST /api/v1/match/entity` answers for it now.
    pub decision: MatchResult,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelCounts {
    pub entity: usize,
    pub schema: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelView {
    /// The labelled pair's probability under the model (from its fields).
    pub probability: f64,
    #[serde(rename = "match")]
    pub is_match: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurveView {
    pub threshold: f64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub job_id: String,
    pub records: usize,
    /// The threshold the job ran with.
    pub threshold: f64,
    /// This key's stored examples (its newest 200 of each kind are used).
    pub labels: LabelCounts,
    pub candidate_pairs: usize,
    pub matched_pairs: usize,
    /// Candidate pairs per tenth of probability (0–0.1 … 0.9–1).
    pub histogram: Vec<usize>,
    pub model: ModelView,
    /// Unlabelled pairs nearest the threshold, nearest first.
    pub pairs: Vec<ReviewPairView>,
    /// The key's entity labels that are about this job's fields, scored by the model.
    pub labelled: Vec<LabelView>,
    /// Precision and recall of the labels at thresholds 0.05 … 0.95.
    pub curve: Vec<CurveView>,
    /// The threshold of best F1 on the labels (none without a match and a non-match).
    pub best_threshold: Option<f64>,
    /// The model was fitted by an earlier call under the same labels (kept per job and
    /// label generation); `false`: fitted for this call (the first, or after a new label).
    pub cached: bool,
}

fn model_view(fields: &[FieldSpec], model: &crate::engine::fs::FsModel) -> ModelView {
    let fields = fields
        .iter()
        .enumerate()
        .map(|(f, spec)| FieldModel {
            name: spec.name.clone(),
            kind: serde_json::to_value(spec.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            levels: (0..LEVELS)
                .map(|l| LevelView {
                    level: l as u8,
                    name: level_name(l as u8),
                    m: model.m.get(f).map_or(0.0, |m| m[l]),
                    u: model.u.get(f).map_or(0.0, |u| u[l]),
                    weight: model.level_weight(f, l),
                })
                .collect(),
        })
        .collect();
    ModelView {
        lambda: model.lambda,
        iterations: model.iterations,
        notes: model.notes(),
        fields,
    }
}

fn curve_view(c: &[CurvePoint]) -> Vec<CurveView> {
    c.iter()
        .map(|p| CurveView {
            threshold: p.threshold,
            precision: p.precision,
            recall: p.recall,
        })
        .collect()
}

/// Whether a label is about records with this job's columns (labels from other data do
/// not score against this model).
fn about(fields: &[FieldSpec], ex: &crate::engine::EntityExample) -> bool {
    let cols: Vec<&str> = fields.iter().flat_map(|f| f.sources()).collect();
    let has = |r: &Record| cols.iter().any(|c| r.contains_key(*c));
    has(&ex.left) && has(&ex.right)
}

/// The uncertain pairs of a dedup job, for labelling.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/review", operation_id = "review_job", tag = "jobs",
    params(("id" = String, Path), ReviewQuery),
    responses(
        (status = 200, body = ReviewView),
        (status = 409, description = "The job is not a dedup job.", body = crate::error::ErrorBody),
        Protected, ById, QueryParams
    ),
    description = "Fits the job's model with this key's entity examples (feedback) and \
        returns the unlabelled candidate pairs nearest the job's threshold, each field's \
        agreement level and weight, and KcMF's decision under the examples. The fit is kept \
        per job and label generation (`cached`): paging does not refit, a new label does.",
    security(("api_key" = [])))]
pub async fn get_review(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<ReviewView>, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 200"));
    }
    let (_job, threshold) = dedup_job(&state, &caller, &id).await?;
    let mine = state.feedback.for_caller(&caller).await?;
    let (fitted, cached) = fitted_review(&state, &caller, &id, threshold, &mine).await?;
    let FittedReview {
        ids, records, out, ..
    } = &*fitted;
    let picked = &out.pairs[..out.pairs.len().min(limit as usize)];
    // KcMF's decision on each picked pair, with the key's examples (as /match/entity)
    let pairs: Vec<EntityPair> = picked
        .iter()
        .map(|p| EntityPair {
            left: records[p.left].clone(),
            right: records[p.right].clone(),
        })
        .collect();
    let decisions = if pairs.is_empty() {
        Vec::new()
    } else {
        let eopts = EntityOptions {
            threshold: Some(threshold),
            knowledge: Vec::new(),
            examples: Vec::new(),
        };
        let (engine, pairs, stored) = (state.engine.clone(), pairs.clone(), mine.entity.clone());
        off_the_workers(&state, move |h| {
            h.block_on(engine.match_entities_with(&pairs, &eopts, &stored))
        })
        .await?
    };
    let views = picked
        .iter()
        .zip(decisions)
        .map(|(p, decision)| {
            let (l, r) = (&records[p.left], &records[p.right]);
            let fields = out
                .fields
                .iter()
                .enumerate()
                .map(|(f, spec)| {
                    let level = p.levels.get(f).copied().unwrap_or(MISSING);
                    PairField {
                        name: spec.name.clone(),
                        level: (level != MISSING).then_some(level),
                        agreement: level_name(level),
                        weight: p.field_weights.get(f).copied().unwrap_or(0.0),
                        left: shown(spec, l),
                        right: shown(spec, r),
                    }
                })
                .collect();
            ReviewPairView {
                left_id: ids[p.left].clone(),
                right_id: ids[p.right].clone(),
                left: l.clone(),
                right: r.clone(),
                probability: p.probability,
                weight: p.weight,
                prior: p.prior,
                adjustment: p.adjustment,
                rule: p.rule.clone(),
                is_match: p.is_match,
                fields,
                decision,
            }
        })
        .collect();
    let labelled = out
        .labels
        .iter()
        .map(|l: &LabelScore| LabelView {
            probability: l.probability,
            is_match: l.is_match,
        })
        .collect();
    Ok(Json(ReviewView {
        job_id: id,
        records: records.len(),
        threshold,
        labels: LabelCounts {
            entity: mine.entity.items().len(),
            schema: mine.schema.items().len(),
        },
        candidate_pairs: out.candidate_pairs,
        matched_pairs: out.matched_pairs,
        histogram: out.histogram.to_vec(),
        model: model_view(&out.fields, &out.model),
        pairs: views,
        labelled,
        curve: curve_view(&out.curve),
        best_threshold: out.best_threshold,
        cached,
    }))
}

/// The job's review fitted under the caller's tenant's labels of this generation: kept
/// from an earlier call (`true`), or fitted now (blocking and EM, off the async workers)
/// and kept.
pub(crate) async fn fitted_review(
    state: &AppState,
    caller: &Caller,
    id: &str,
    threshold: f64,
    mine: &crate::feedback::KeyExamples,
) -> Result<(Arc<FittedReview>, bool), ApiError> {
    let key = (id.to_string(), mine.generation);
    if let Some(f) = state.reviews.get(&key).await {
        return Ok((f, true));
    }
    let (ids, records) = dedup_records(state, caller, id).await?;
    let fields = crate::engine::fs::infer_fields(records.iter());
    let examples: Vec<_> = mine
        .entity
        .items()
        .iter()
        .filter(|e| about(&fields, e))
        .cloned()
        .collect();
    let opts = LinkOptions {
        threshold,
        ..LinkOptions::default()
    };
    let fitted = off_the_workers(state, move |_| {
        let out = review(&records, &examples, &opts, MAX_LIMIT as usize);
        Ok(Arc::new(FittedReview {
            ids,
            records,
            threshold,
            out,
        }))
    })
    .await?;
    metrics::counter!("kcmf_review_fits_total").increment(1);
    state.reviews.insert(key, fitted.clone()).await;
    Ok((fitted, false))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClustersQuery {
    /// Keeps the clusters with a member whose id or any value contains this text
    /// (case-insensitive).
    pub q: Option<String>,
    /// Default 0.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub id: String,
    #[schema(value_type = Object)]
    pub record: Record,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    pub cluster: i64,
    pub members: Vec<Member>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SizeCount {
    pub size: usize,
    pub clusters: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClustersView {
    pub job_id: String,
    pub records: usize,
    /// Clusters of the job (two or more records each).
    pub total: usize,
    /// Clusters that match `q` (all without it).
    pub matching: usize,
    pub offset: i64,
    pub limit: i64,
    /// How many clusters have each size, smallest size first (of all clusters).
    pub sizes: Vec<SizeCount>,
    pub clusters: Vec<ClusterView>,
}

/// A dedup job's clusters with their records, searchable by id and value.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/clusters", operation_id = "job_clusters", tag = "jobs",
    params(("id" = String, Path), ClustersQuery),
    responses(
        (status = 200, body = ClustersView),
        (status = 409, description = "The job is not a dedup job.", body = crate::error::ErrorBody),
        Protected, ById, QueryParams
    ),
    security(("api_key" = [])))]
pub async fn clusters(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ClustersQuery>,
) -> Result<Json<ClustersView>, ApiError> {
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(50);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "must be ≥ 0"));
    }
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 500"));
    }
    let (job, ids, records, _) = dedup_input(&state, &caller, &id).await?;
    let all = job_clusters(&state, &job).await?;
    let by_id: BTreeMap<&str, &Record> =
        ids.iter().map(String::as_str).zip(records.iter()).collect();
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for (_, m) in &all {
        *sizes.entry(m.len()).or_default() += 1;
    }
    let needle =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
    let hit = |id: &str| -> bool {
        let Some(n) = &needle else { return true };
        id.to_lowercase().contains(n)
            || by_id.get(id).is_some_and(|r| {
                r.values().any(|v| match v {
                    Value::String(s) => s.to_lowercase().contains(n),
                    Value::Null => false,
                    other => other.to_string().to_lowercase().contains(n),
                })
            })
    };
    let matching: Vec<&(i64, Vec<String>)> = all
        .iter()
        .filter(|(_, m)| m.iter().any(|i| hit(i)))
        .collect();
    let clusters = matching
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|(c, m)| ClusterView {
            cluster: *c,
            members: m
                .iter()
                .map(|i| Member {
                    id: i.clone(),
                    record: by_id
                        .get(i.as_str())
                        .map(|r| (*r).clone())
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    Ok(Json(ClustersView {
        job_id: id,
        records: records.len(),
        total: all.len(),
        matching: matching.len(),
        offset,
        limit,
        sizes: sizes
            .into_iter()
            .map(|(size, clusters)| SizeCount { size, clusters })
            .collect(),
        clusters,
    }))
}

/// The clusters (number, member ids) a finished dedup job wrote, in result order.
pub(crate) async fn job_clusters(
    state: &AppState,
    job: &JobRow,
) -> Result<Vec<(i64, Vec<String>)>, ApiError> {
    let qu = Queue::new(state.store.clone());
    let mut all = Vec::new();
    let page = 1000;
    let mut at = 0i64;
    loop {
        let rows = qu.results(&job.id, at, page).await?;
        for tok in &rows {
            let plain = state
                .cipher
                .decrypt(tok)
                .map_err(|e| ApiError::Internal(format!("job result: {e}")))?;
            let v: Value = serde_json::from_slice(&plain)
                .map_err(|e| ApiError::Internal(format!("job result: {e}")))?;
            let members: Vec<String> = v["ids"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            all.push((v["cluster"].as_i64().unwrap_or(-1), members));
        }
        if (rows.len() as i64) < page || at + page >= job.result_count {
            break;
        }
        at += page;
    }
    Ok(all)
}
