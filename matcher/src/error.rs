//! The API's error type: every failure a handler can return, mapped to an HTTP status and
//! a JSON body `{"error": {"code", "message", "field"?}}`. Nothing here panics; internal
//! failures are logged with context and answered 500 without leaking details.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::EngineError;
use crate::requests::RequestError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request at `{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("payload too large: {0}")]
    TooLarge(String),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("this API key may not do that")]
    Forbidden,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rate limit exceeded")]
    RateLimited { retry_after_secs: u64 },
    #[error("the matching backbone failed: {0}")]
    Upstream(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// JSON error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `invalid_request`.
    pub code: &'static str,
    pub message: String,
    /// The offending field (JSON path) when the request was at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<String>) {
        match self {
            ApiError::Invalid { field, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                Some(field.clone()),
            ),
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json", None),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
            ),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden", None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", None),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", None),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "backbone_failed", None),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", None),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = self.parts();
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "internal error; see the server log".to_string()
            }
            other => other.to_string(),
        };
        let mut resp = (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    field,
                },
            }),
        )
            .into_response();
        if let ApiError::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.max(1).to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::InvalidInput { field, message } => ApiError::Invalid { field, message },
            EngineError::Backbone { .. } => ApiError::Upstream(e.to_string()),
            EngineError::Config(m) => ApiError::Internal(m),
            EngineError::Cancelled => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::InvalidInput { field, message } => ApiError::Invalid { field, message },
            RequestError::TooLarge(m) => ApiError::TooLarge(m),
            RequestError::UnsupportedFormat(m) => ApiError::UnsupportedMediaType(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(format!("store: {m}")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_errors_answer_as_before() {
        let cases = [
            (
                RequestError::invalid("pairs[0].left", "record has no attributes"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                Some("pairs[0].left".to_string()),
            ),
            (
                RequestError::TooLarge("too many".into()),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                None,
            ),
            (
                RequestError::UnsupportedFormat("csv only".into()),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
            ),
        ];
        for (e, status, code, field) in cases {
            let text = e.to_string();
            let api = ApiError::from(e);
            assert_eq!(api.parts(), (status, code, field));
            // the client sees the same message the request error carries
            assert_eq!(api.to_string(), text);
        }
    }
}
