//! Batch-job endpoints: submit (`POST /api/v1/jobs`, JSON or a CSV/NDJSON upload), status,
//! list, cancel and results (paged JSON, or streamed NDJSON/CSV). Jobs belong to the API
//! key that submitted them: another key gets 404.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{ApiQuery, parse_json};
use crate::api::responses::{ById, JsonBody, Protected, QueryParams};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::jobs::queue::{JobRow, Queue};
use crate::jobs::{JobOptions, JobRequest, JobState, JobType, parse_upload, prepare};
use crate::state::AppState;
use crate::store::now_ms;

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub done_chunks: i64,
    pub total_chunks: i64,
    pub done: i64,
    pub total: i64,
    pub percent: f64,
    /// Items per second since the job started.
    pub rate: Option<f64>,
    pub eta_seconds: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = JobType)]
    pub job_type: String,
    #[schema(value_type = JobState)]
    pub state: String,
    pub progress: Progress,
    pub result_count: i64,
    /// `dedup` and `link`: how many labelled examples (the job's `options.examples` and
    /// the feedback its key's tenant stored) named pairs of the input and decided them
    /// (rule `label`; a "non-match" pair never ends in one cluster). A link job of several
    /// chunks: the most one chunk used. 0 for other types.
    pub labels_used: i64,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub elapsed_seconds: Option<f64>,
}

fn ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

impl From<JobRow> for JobView {
    fn from(j: JobRow) -> Self {
        let end = j.finished_at.unwrap_or_else(now_ms);
        let elapsed = j.started_at.map(|s| ((end - s).max(0) as f64) / 1000.0);
        let rate = elapsed
            .filter(|e| *e > 0.0)
            .map(|e| j.done_items as f64 / e);
        let eta = match (rate, j.state.as_str()) {
            (Some(r), "running" | "queued") if r > 0.0 => {
                Some(((j.total_items - j.done_items).max(0) as f64) / r)
            }
            _ => None,
        };
        JobView {
            progress: Progress {
                done_chunks: j.done_chunks,
                total_chunks: j.total_chunks,
                done: j.done_items,
                total: j.total_items,
                percent: if j.total_items > 0 {
                    (100.0 * j.done_items as f64 / j.total_items as f64 * 10.0).round() / 10.0
                } else {
                    0.0
                },
                rate,
                eta_seconds: eta,
            },
            id: j.id,
            job_type: j.job_type,
            state: j.state,
            result_count: j.result_count,
            labels_used: j.labels_used,
            error: j.error,
            created_at: ts(j.created_at),
            started_at: j.started_at.map(ts),
            finished_at: j.finished_at.map(ts),
            elapsed_seconds: elapsed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    pub id: String,
    #[schema(value_type = JobState)]
    pub state: String,
}

/// The job type of an upload (`?type=`): `dedup` only.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents the query parameter
pub enum UploadType {
    Dedup,
}

/// `?format=` of the results.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // documents the query parameter
pub enum ResultsFormat {
    Json,
    Ndjson,
    Csv,
}

/// Query of an upload submission (`text/csv` or `application/x-ndjson` body).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Job type of an upload: `dedup` (the only type taking one file). Uploads only.
    #[serde(rename = "type")]
    #[param(value_type = Option<UploadType>, inline)]
    pub job_type: Option<String>,
    /// Column naming each record (default `id`; rows are numbered when absent). Uploads only.
    pub id_column: Option<String>,
    /// Uploads only.
    #[param(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
}

fn queue(state: &AppState) -> Queue {
    Queue::new(state.store.clone())
}

/// Submit a batch job.
#[utoipa::path(post, path = "/api/v1/jobs", operation_id = "submit_job", tag = "jobs",
    params(UploadQuery),
    request_body(
        description = "`{type, input, options}` as JSON (no query parameters), or a CSV or NDJSON \
            file of records with `?type=dedup`",
        content(
            (JobRequest = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )
    ),
    responses(
        (status = 202, body = Submitted, headers(("Location" = String, description = "The job's URL"))),
        Protected, JsonBody
    ),
    security(("api_key" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let req: JobRequest = if ct.starts_with("application/json") {
        if q.job_type.is_some() || q.id_column.is_some() || q.threshold.is_some() {
            return Err(ApiError::invalid(
                "type",
                "query parameters are for CSV/NDJSON uploads; put `type` and `options` in the JSON body",
            ));
        }
        parse_json(&body)?
    } else {
        let t = q
            .job_type
            .as_deref()
            .ok_or_else(|| ApiError::invalid("type", "an upload needs `?type=dedup`"))?;
        if JobType::parse(t) != Some(JobType::Dedup) {
            return Err(ApiError::invalid(
                "type",
                "uploads take `type=dedup`; send other job types as JSON",
            ));
        }
        let mut records = parse_upload(&ct, &body)?;
        let id_col = q.id_column.clone().unwrap_or_else(|| "id".to_string());
        if q.id_column.is_some() && records.iter().any(|r| !r.contains_key(&id_col)) {
            return Err(ApiError::invalid(
                "id_column",
                format!("column {id_col:?} is missing from the upload"),
            ));
        }
        if id_col != "id" {
            for r in &mut records {
                if let Some(v) = r.remove(&id_col) {
                    r.insert("id".to_string(), v);
                }
            }
        }
        JobRequest {
            job_type: JobType::Dedup,
            input: serde_json::json!({ "entities": records }),
            options: JobOptions {
                threshold: q.threshold,
                ..JobOptions::default()
            },
        }
    };
    // against the threshold the job will run with (prepare only knows a given one)
    crate::requests::check_split_threshold(
        "options.split_threshold",
        Some(
            req.options
                .threshold
                .unwrap_or(state.cfg.matching.entity_threshold),
        ),
        req.options.split_threshold,
    )?;
    let prepared = prepare(req, state.cfg.matching.batch_size)?;
    let id = queue(&state)
        .enqueue(&caller.key_id, &prepared, &state.cipher)
        .await?;
    let location = format!("/api/v1/jobs/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(Submitted {
            id,
            state: JobState::Queued.as_str().into(),
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[param(value_type = Option<JobState>, inline)]
    pub state: Option<String>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// List this key's jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", operation_id = "list_jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = Vec<JobView>), Protected, QueryParams),
    security(("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<JobView>>, ApiError> {
    let st = match q.state.as_deref() {
        None => None,
        Some(s) => Some(JobState::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "state",
                "expected queued, running, succeeded, failed or cancelled",
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 1000"));
    }
    let rows = queue(&state).list(&caller.key_id, st, limit).await?;
    Ok(Json(rows.into_iter().map(JobView::from).collect()))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no job {id:?}"))
}

/// A job's state and progress.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", operation_id = "get_job", tag = "jobs",
    params(("id" = String, Path)),
    responses((status = 200, body = JobView), Protected, ById),
    security(("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let row = queue(&state)
        .get(&id, &caller.key_id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(row.into()))
}

/// Cancel a job (no new chunks start).
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", operation_id = "cancel_job", tag = "jobs",
    params(("id" = String, Path)),
    responses((status = 200, body = JobView), Protected, ById),
    security(("api_key" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let row = queue(&state)
        .cancel(&id, &caller.key_id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(row.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// `json` (paged, default), `ndjson` or `csv` (streamed, all results).
    #[param(value_type = Option<ResultsFormat>, inline)]
    pub format: Option<String>,
    /// `format=json` only (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// `format=json` only: 1 to 10000 (default 100).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsPage {
    pub job: JobView,
    pub offset: i64,
    pub limit: i64,
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Value>,
    pub next_offset: Option<i64>,
}

const STREAM_PAGE: i64 = 1000;

/// Flattens a result row into CSV columns for its job type.
fn csv_rows(job_type: &str, v: &Value) -> Vec<Vec<String>> {
    let s = |x: &Value| match x {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match job_type {
        "dedup" => v["ids"]
            .as_array()
            .map(|ids| ids.iter().map(|id| vec![s(&v["cluster"]), s(id)]).collect())
            .unwrap_or_default(),
        "link" => vec![vec![
            s(&v["left"]),
            s(&v["right"]),
            s(&v["score"]),
            s(&v["rule"]),
        ]],
        "schema_batch" => v["matches"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        vec![
                            s(&v["index"]),
                            s(&v["source"]),
                            s(&v["target"]),
                            s(&m["source"]),
                            s(&m["target"]),
                            s(&m["score"]),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![vec![
            s(&v["index"]),
            s(&v["match"]),
            s(&v["score"]),
            s(&v["rule"]),
        ]],
    }
}

fn csv_header(job_type: &str) -> &'static str {
    match job_type {
        "dedup" => "cluster,id\n",
        "link" => "left,right,score,rule\n",
        "schema_batch" => "index,source_table,target_table,source,target,score\n",
        _ => "index,match,score,rule\n",
    }
}

fn csv_line(cells: &[String]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    if w.write_record(cells).is_err() {
        return String::new();
    }
    w.into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A job's results: paged JSON, or the whole set streamed as NDJSON or CSV.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/results", operation_id = "job_results", tag = "jobs",
    params(("id" = String, Path), ResultsQuery),
    responses(
        (status = 200, description = "A page of results (`format=json`), or all of them",
            content(
                (ResultsPage = "application/json"),
                (String = "application/x-ndjson"),
                (String = "text/csv"),
            )),
        Protected, ById, QueryParams
    ),
    security(("api_key" = [])))]
pub async fn results(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> Result<Response, ApiError> {
    let qu = queue(&state);
    let job = qu
        .get(&id, &caller.key_id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let format = q.format.as_deref().unwrap_or("json");
    match format {
        "json" => {
            let offset = q.offset.unwrap_or(0);
            let limit = q.limit.unwrap_or(100);
            if offset < 0 {
                return Err(ApiError::invalid("offset", "must be ≥ 0"));
            }
            if !(1..=10_000).contains(&limit) {
                return Err(ApiError::invalid("limit", "must be 1 to 10000"));
            }
            let page = qu.results(&id, offset, limit).await?;
            let mut results = Vec::with_capacity(page.len());
            for tok in &page {
                let plain = state
                    .cipher
                    .decrypt(tok)
                    .map_err(|e| ApiError::Internal(format!("job result: {e}")))?;
                results.push(
                    serde_json::from_slice(&plain)
                        .map_err(|e| ApiError::Internal(format!("job result: {e}")))?,
                );
            }
            let next = (offset + (results.len() as i64) < job.result_count)
                .then_some(offset + results.len() as i64);
            Ok(Json(ResultsPage {
                job: job.into(),
                offset,
                limit,
                results,
                next_offset: next,
            })
            .into_response())
        }
        "ndjson" | "csv" => {
            if q.offset.is_some() || q.limit.is_some() {
                return Err(ApiError::invalid(
                    "offset",
                    "streamed formats return every result; offset/limit are for format=json",
                ));
            }
            let csv = format == "csv";
            let job_type = job.job_type.clone();
            let cipher = state.cipher.clone();
            let head = if csv {
                csv_header(&job_type).to_string()
            } else {
                String::new()
            };
            let first =
                futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) });
            let pages = futures::stream::unfold(Some(0i64), move |offset| {
                let qu = qu.clone();
                let id = id.clone();
                let cipher = cipher.clone();
                let job_type = job_type.clone();
                async move {
                    let offset = offset?;
                    let page = match qu.results(&id, offset, STREAM_PAGE).await {
                        Ok(p) => p,
                        Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
                    };
                    let next = (page.len() as i64 == STREAM_PAGE).then_some(offset + STREAM_PAGE);
                    let mut out = String::new();
                    for tok in &page {
                        let v: Value = match cipher
                            .decrypt(tok)
                            .ok()
                            .and_then(|p| serde_json::from_slice(&p).ok())
                        {
                            Some(v) => v,
                            None => {
                                return Some((
                                    Err(std::io::Error::other("unreadable job result")),
                                    None,
                                ));
                            }
                        };
                        if csv {
                            for row in csv_rows(&job_type, &v) {
                                out.push_str(&csv_line(&row));
                            }
                        } else {
                            out.push_str(&v.to_string());
                            out.push('\n');
                        }
                    }
                    if page.is_empty() && offset > 0 {
                        return None;
                    }
                    Some((Ok(Bytes::from(out)), next))
                }
            });
            let ct = if csv {
                "text/csv; charset=utf-8"
            } else {
                "application/x-ndjson"
            };
            use futures::StreamExt;
            Ok((
                [(header::CONTENT_TYPE, ct)],
                Body::from_stream(first.chain(pages)),
            )
                .into_response())
        }
        _ => Err(ApiError::invalid("format", "expected json, ndjson or csv")),
    }
}
