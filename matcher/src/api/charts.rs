//! Charts of a dedup job for the review UI, drawn on the server by `plotters`
//! ([`crate::charts`], the same code as the `eval --report` page) and served as
//! `image/svg+xml`: the cluster-size histogram and the precision/recall of the key's labels
//! against the threshold. The UI shows them as images instead of drawing bars itself.
//!
//! Scoped to the key like every job endpoint (another key's job is a 404, another job type
//! a 409). The labels' curve comes from the review's fit, kept per job and label generation
//! ([`super::review`]): showing the chart does not refit.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::api::matching::off_the_workers;
use crate::api::responses::{ById, Protected};
use crate::api::review::{dedup_job, fitted_review, job_clusters};
use crate::auth::Caller;
use crate::charts::{self, CurvePoint};
use crate::error::ApiError;
use crate::state::AppState;

/// An SVG answer (not cached by the browser: a new label changes the curve).
fn svg(inline_svg: String) -> Response {
    let body = charts::standalone(&inline_svg);
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A chart that could not be drawn.
fn undrawn(e: String) -> ApiError {
    ApiError::Internal(format!("chart: {e}"))
}

/// The cluster-size histogram of a dedup job (lone records count as clusters of one).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/charts/sizes.svg", operation_id = "job_chart_sizes",
    tag = "jobs",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The chart, drawn by plotters.", content_type = "image/svg+xml", body = String),
        (status = 409, description = "The job is not a dedup job.", body = crate::error::ErrorBody),
        Protected, ById
    ),
    security(("api_key" = [])))]
pub async fn sizes(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (job, _) = dedup_job(&state, &caller, &id).await?;
    let clusters = job_clusters(&state, &job).await?;
    let mut sizes: Vec<usize> = clusters.iter().map(|c| c.1.len()).collect();
    let clustered: usize = sizes.iter().sum();
    let lone = usize::try_from(job.total_items)
        .unwrap_or(0)
        .saturating_sub(clustered);
    sizes.extend(std::iter::repeat_n(1, lone));
    let drawn = off_the_workers(&state, move |_| {
        let bins = charts::size_bins(&sizes);
        Ok(charts::cluster_sizes(&bins, charts::wants_log_scale(&bins)))
    })
    .await?;
    Ok(svg(drawn.map_err(undrawn)?))
}

/// Precision, recall and F1 of the key's labels against the threshold, by the job's model
/// fitted with them; the job's threshold is marked.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/charts/labels.svg", operation_id = "job_chart_labels",
    tag = "jobs",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The chart, drawn by plotters (empty curves without labels).", content_type = "image/svg+xml", body = String),
        (status = 409, description = "The job is not a dedup job.", body = crate::error::ErrorBody),
        Protected, ById
    ),
    security(("api_key" = [])))]
pub async fn labels(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, threshold) = dedup_job(&state, &caller, &id).await?;
    let mine = state.feedback.for_caller(&caller).await?;
    let (fitted, _) = fitted_review(&state, &caller, &id, threshold, &mine).await?;
    let points: Vec<CurvePoint> = fitted
        .out
        .curve
        .iter()
        .map(|p| {
            let f1 = match (p.precision, p.recall) {
                (Some(pr), Some(r)) if pr + r > 0.0 => Some(2.0 * pr * r / (pr + r)),
                _ => None,
            };
            CurvePoint {
                threshold: p.threshold,
                precision: p.precision,
                recall: p.recall.unwrap_or(0.0),
                f1,
            }
        })
        .collect();
    let caption = format!(
        "Precision, recall and F1 of {} labels by threshold",
        fitted.out.labels.len()
    );
    let drawn = off_the_workers(&state, move |_| {
        Ok(charts::precision_recall_titled(
            &points, threshold, &caption,
        ))
    })
    .await?;
    Ok(svg(drawn.map_err(undrawn)?))
}
