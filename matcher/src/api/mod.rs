//! The HTTP surface: the router, its middleware stack and the OpenAPI document.
//! Handlers live in one module per concern; this file only wires them.

pub mod charts;
pub mod extract;
pub mod feedback;
pub mod jobs;
pub mod keys;
pub mod matching;
pub mod middleware;
pub mod responses;
pub mod review;
pub mod schemas;
pub mod system;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use self::middleware::require_key;
use crate::state::AppState;
use crate::telemetry::track;

#[derive(OpenApi)]
#[openapi(
    info(title = "KcMF matcher API", description = "Schema and entity matching with KcMF."),
    paths(
        matching::match_entity, matching::match_schema, matching::match_dedup,
        feedback::submit, keys::list, keys::create, keys::revoke, keys::set_project,
        jobs::submit, jobs::list, jobs::get, jobs::cancel, jobs::results,
        review::get_review, review::clusters, charts::sizes, charts::labels,
        system::health, system::ready, system::metrics
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecurityAddon, &Links)
)]
pub struct ApiDoc;

/// OpenAPI links from the operations that create an object to those that take its id: a
/// submitted job to its status, results and cancellation; a created key to its revocation
/// (clients and stateful testers follow them).
struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::link::Link;
        let by_id = |op: &str| {
            Link::builder()
                .operation_id(op)
                .parameter("id", "$response.body#/id")
                .build()
        };
        let links = [
            (
                "/api/v1/jobs",
                "202",
                vec![
                    ("GetJob", by_id("get_job")),
                    ("JobResults", by_id("job_results")),
                    ("CancelJob", by_id("cancel_job")),
                ],
            ),
            (
                "/api/v1/keys",
                "201",
                vec![
                    ("RevokeKey", by_id("revoke_key")),
                    ("SetKeyProject", by_id("set_key_project")),
                ],
            ),
        ];
        // (path of a POST, its status, the links)
        for (path, status, add) in links {
            let post = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|i| i.post.as_mut());
            if let Some(RefOr::T(resp)) = post.and_then(|o| o.responses.responses.get_mut(status)) {
                for (name, link) in add {
                    resp.links.insert(name.to_string(), RefOr::T(link));
                }
            }
        }
    }
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers(Any);
    if origins.iter().any(|o| o == "*") {
        return Some(base.allow_origin(Any));
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(base.allow_origin(AllowOrigin::list(list)))
}

/// The `/api/v1` routes that need an API key.
fn protected(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/match/entity", post(matching::match_entity))
        .route("/api/v1/match/schema", post(matching::match_schema))
        .route("/api/v1/match/dedup", post(matching::match_dedup))
        .route("/api/v1/feedback", post(feedback::submit))
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/keys/{id}", delete(keys::revoke))
        .route("/api/v1/keys/{id}/project", put(keys::set_project))
        .route(
            "/api/v1/jobs",
            get(jobs::list)
                .post(jobs::submit)
                .layer(DefaultBodyLimit::max(state.cfg.matching.max_upload_bytes)),
        )
        .route("/api/v1/jobs/{id}", get(jobs::get).delete(jobs::cancel))
        .route("/api/v1/jobs/{id}/results", get(jobs::results))
        .route("/api/v1/jobs/{id}/review", get(review::get_review))
        .route("/api/v1/jobs/{id}/clusters", get(review::clusters))
        .route("/api/v1/jobs/{id}/charts/sizes.svg", get(charts::sizes))
        .route("/api/v1/jobs/{id}/charts/labels.svg", get(charts::labels))
        .route_layer(from_fn_with_state(state.clone(), require_key))
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let cfg = state.cfg.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let mut app = Router::new()
        .merge(protected(&state))
        .route("/health", get(system::health))
        .route("/ready", get(system::ready))
        .route("/metrics", get(system::metrics))
        .merge(crate::ui::router())
        .merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
        .fallback(|| async { crate::error::ApiError::NotFound("no such route".into()) })
        .route_layer(from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(cfg.app.max_body_bytes));
    if let Some(c) = cors(&cfg.app.cors_origins) {
        app = app.layer(c);
    }
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
                }),
            )
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(axum::middleware::map_response(json_errors))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(cfg.app.timeout),
            ))
            .layer(CompressionLayer::new().compress_when(
                SizeAbove::new(1000).and(NotForContentType::GRPC),
            )),
    )
    .with_state(state)
}

/// Every error in the documented JSON shape: responses of 400 and above that are not JSON
/// already — axum's 405 (its `Allow` header kept), the timeout's 408, a body limit's 413,
/// a rejection's `text/plain` — get the `{"error": {"code", "message"}}` body, their text
/// (if any) as the message. (A 431 for oversized headers is written by the HTTP server
/// before any of this runs.)
pub async fn json_errors<B>(res: axum::http::Response<B>) -> axum::response::Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let status = res.status();
    let json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || json || res.headers().contains_key(CONTENT_ENCODING) {
        return res.map(axum::body::Body::new);
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(axum::body::Body::new(body), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let code = match status.as_u16() {
        400 => "bad_request",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid_request",
        s if s >= 500 => "internal",
        _ => "error",
    };
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let mut out = (
        status,
        axum::Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response();
    for (k, v) in parts.headers.iter() {
        out.headers_mut().insert(k.clone(), v.clone());
    }
    out
}

/// A router serving only `/metrics` (for `monitoring.metrics_port`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(system::metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Response, StatusCode, header};

    async fn json_of(r: axum::response::Response) -> serde_json::Value {
        let b = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn errors_without_a_json_body_get_one() {
        let timeout = Response::builder()
            .status(StatusCode::REQUEST_TIMEOUT)
            .body(Body::empty())
            .unwrap();
        let r = json_errors(timeout).await;
        assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(json_of(r).await["error"]["code"], "request_timeout");

        let limit = Response::builder()
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header("x-request-id", "abc")
            .body(Body::from("length limit exceeded"))
            .unwrap();
        let r = json_errors(limit).await;
        assert_eq!(r.headers()["x-request-id"], "abc");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let body = json_of(r).await;
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert_eq!(body["error"]["message"], "length limit exceeded");

        // JSON errors and successes pass unchanged
        let ok = Response::builder()
            .status(200)
            .body(Body::from("fine"))
            .unwrap();
        let r = json_errors(ok).await;
        let b = axum::body::to_bytes(r.into_body(), 64).await.unwrap();
        assert_eq!(&b[..], b"fine");
        let already = Response::builder()
            .status(422)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"error":{"code":"invalid_request","message":"x","field":"f"}}"#,
            ))
            .unwrap();
        assert_eq!(
            json_of(json_errors(already).await).await["error"]["field"],
            "f"
        );
    }
}
