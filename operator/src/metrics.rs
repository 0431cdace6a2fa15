//! Operator metrics (`/metrics`, Prometheus text) and health (`/health`, `/ready`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::Error;

/// Reconciles, by result.
pub const RECONCILES: &str = "kcmf_operator_reconciles_total";
/// Failed reconciles, by error kind.
pub const ERRORS: &str = "kcmf_operator_reconcile_errors_total";
/// Reconcile duration.
pub const DURATION: &str = "kcmf_operator_reconcile_duration_seconds";
/// 1 while this replica holds the leader lease.
pub const LEADER: &str = "kcmf_operator_leader";

/// Install the global Prometheus recorder.
pub fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(DURATION.into()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )?
        .install_recorder()
}

/// Record one reconcile.
pub fn reconciled(took: Duration, err: Option<&Error>) {
    let result = if err.is_some() { "error" } else { "ok" };
    metrics::counter!(RECONCILES, "result" => result).increment(1);
    if let Some(e) = err {
        metrics::counter!(ERRORS, "error" => e.metric_label()).increment(1);
    }
    metrics::histogram!(DURATION).record(took.as_secs_f64());
}

/// Record leadership.
pub fn set_leader(leader: bool) {
    metrics::gauge!(LEADER).set(if leader { 1.0 } else { 0.0 });
}

/// Shared state of the HTTP server.
#[derive(Clone)]
pub struct ServerState {
    /// Renders `/metrics`.
    pub handle: PrometheusHandle,
    /// Set once the operator is initialised (client built); `/ready` answers 503 before.
    pub ready: Arc<AtomicBool>,
}

/// The router: `/metrics`, `/health` (liveness), `/ready` (readiness).
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<ServerState>| async move { s.handle.render() }),
        )
        .route("/health", get(|| async { "ok" }))
        .route(
            "/ready",
            get(|State(s): State<ServerState>| async move {
                if s.ready.load(Ordering::Relaxed) {
                    (StatusCode::OK, "ready")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "starting")
                }
            }),
        )
        .with_state(state)
}

/// Serve the router on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, state: ServerState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router(state)).await
}
