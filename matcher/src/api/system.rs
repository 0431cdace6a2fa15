//! Liveness, readiness and metrics: `GET /health`, `GET /ready`, `GET /metrics`. None of
//! them needs an API key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// Liveness: the process answers. Checks no dependency.
#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// `ok` or the store's error.
    pub store: String,
    /// `ok` or the cache's error.
    pub cache: String,
    pub store_backend: &'static str,
    pub cache_backend: &'static str,
}

/// Readiness: the store and the cache answer; 503 naming the one that failed.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let (store, cache) = tokio::join!(state.store.ping(), state.cache.ping());
    let ok = store.is_ok() && cache.is_ok();
    let body = Readiness {
        status: if ok { "ready" } else { "not_ready" },
        store: store
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string()),
        cache: cache
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string()),
        store_backend: state.store.backend().as_str(),
        cache_backend: state.cache.kind(),
    };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
