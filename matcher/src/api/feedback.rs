//! `POST /api/v1/feedback`: a user confirms or rejects a match; the example is stored
//! (encrypted) and used as a demonstration (Example as Knowledge) of this key's requests from
//! then on, and of its project's other keys' (see [`crate::feedback`]: a project, or a key
//! outside any, is a tenant).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::ApiJson;
use crate::api::responses::{JsonBody, Protected};
use crate::auth::Caller;
use crate::engine::{EntityExample, Record, SchemaExample};
use crate::error::ApiError;
use crate::feedback::{Example, MAX_EXAMPLE_BYTES};
use crate::requests::check_record;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackKind {
    Entity,
    Schema,
}

/// Entity feedback: `kind: entity` with `left`, `right`; schema feedback: `kind: schema`
/// with `source`, `target` column names. `match` says whether they match.
/// Its OpenAPI schema is written in [`crate::api::schemas`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub kind: FeedbackKind,
    /// `kind: entity` only (required there).
    #[serde(default)]
    pub left: Option<Record>,
    /// `kind: entity` only (required there).
    #[serde(default)]
    pub right: Option<Record>,
    /// `kind: schema` only (required there): a column name.
    #[serde(default)]
    pub source: Option<String>,
    /// `kind: schema` only (required there): a column name.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(rename = "match")]
    pub is_match: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackStored {
    pub id: String,
}

fn required<T>(v: Option<T>, field: &str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::invalid(field, format!("missing field `{field}`")))
}

/// One example is at most [`MAX_EXAMPLE_BYTES`] as JSON; the error names the larger part.
fn check_size(parts: [(&str, usize); 2]) -> Result<(), ApiError> {
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    if total > MAX_EXAMPLE_BYTES {
        let (field, n) = if parts[0].1 >= parts[1].1 {
            parts[0]
        } else {
            parts[1]
        };
        return Err(ApiError::invalid(
            field,
            format!(
                "a feedback example is at most {MAX_EXAMPLE_BYTES} bytes as JSON; this one is \
                 {total} (`{field}` alone {n})"
            ),
        ));
    }
    Ok(())
}

fn json_len(v: &impl Serialize) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// Record feedback on a match.
#[utoipa::path(post, path = "/api/v1/feedback", operation_id = "submit_feedback", tag = "matching", request_body = FeedbackRequest,
    responses((status = 201, body = FeedbackStored), Protected, JsonBody),
    description = "The example is used for the later requests of this API key and of the \
        other keys of its project, if it is in one (never for other keys); a project, or a key \
        outside any, keeps its newest 200 examples of each kind, each at most 8 KiB as JSON.",
    security(("api_key" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<FeedbackRequest>,
) -> Result<(StatusCode, Json<FeedbackStored>), ApiError> {
    let ex = match req.kind {
        FeedbackKind::Entity => {
            let left = required(req.left, "left")?;
            let right = required(req.right, "right")?;
            check_record("left", &left)?;
            check_record("right", &right)?;
            check_size([("left", json_len(&left)), ("right", json_len(&right))])?;
            Example::Entity(EntityExample {
                left,
                right,
                is_match: req.is_match,
            })
        }
        FeedbackKind::Schema => {
            let source = required(req.source.filter(|s| !s.trim().is_empty()), "source")?;
            let target = required(req.target.filter(|s| !s.trim().is_empty()), "target")?;
            check_size([("source", source.len()), ("target", target.len())])?;
            Example::Schema(SchemaExample {
                source,
                target,
                is_match: req.is_match,
            })
        }
    };
    let id = state.feedback.add(&caller, ex).await?;
    Ok((StatusCode::CREATED, Json(FeedbackStored { id })))
}
