//! Telemetry: JSON (or pretty) logs through `tracing`, the Prometheus recorder, and the
//! middleware that counts and times every request (`kcmf_requests_total`,
//! `kcmf_request_duration_seconds`) and queues `/api/v1` calls for the request log.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::auth::Caller;
use crate::recorder::Entry;
use crate::state::AppState;
use crate::store::{RequestLogEntry, now_ms};

/// Installs the global log subscriber. `level` is a filter such as `info` or
/// `kcmf_matcher=debug,info`; `RUST_LOG` wins when set.
pub fn init_logging(level: &str, format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let res = if format == "pretty" {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(res);
}

/// Why the Prometheus recorder could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("metrics: invalid histogram buckets for `*duration_seconds`: {source}")]
    Buckets { source: BuildError },
    #[error("metrics: cannot install the Prometheus recorder: {source}")]
    Install { source: BuildError },
}

/// Histogram buckets of every `*duration_seconds` metric.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the Prometheus recorder once per process and returns its handle (the same
/// handle on later calls: tests build several states in one process). Fails when the
/// recorder cannot be installed, e.g. because another recorder holds the process-wide
/// slot: serving would otherwise answer `/metrics` with an empty page.
pub fn init_metrics() -> Result<PrometheusHandle, TelemetryError> {
    static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut slot = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(h) = slot.as_ref() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), DURATION_BUCKETS)
        .map_err(|source| TelemetryError::Buckets { source })?
        .install_recorder()
        .map_err(|source| TelemetryError::Install { source })?;
    *slot = Some(handle.clone());
    Ok(handle)
}

/// Middleware: metrics for every request; request-log entries for `/api/v1` calls.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    metrics::counter!("kcmf_requests_total", "endpoint" => endpoint.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("kcmf_request_duration_seconds", "endpoint" => endpoint.clone())
        .record(secs);
    if endpoint.starts_with("/api/v1/") && endpoint != "/api/v1/openapi.json" {
        let key_id = resp.extensions().get::<Caller>().map(|c| c.key_id.clone());
        state.recorder.record(Entry::Request(RequestLogEntry {
            key_id,
            method,
            endpoint,
            status,
            latency_ms: secs * 1000.0,
            request_id,
            created_at: now_ms(),
        }));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another recorder already holds the process-wide slot, so the Prometheus one cannot
    /// be installed: start-up must hear about it, not serve an empty `/metrics`.
    #[test]
    fn metrics_install_failure_is_reported() {
        // No other test in this binary installs a recorder (only `init_metrics` does).
        drop(metrics::set_global_recorder(metrics::NoopRecorder));
        match init_metrics() {
            Err(e @ TelemetryError::Install { .. }) => {
                assert!(e.to_string().contains("cannot install"), "{e}")
            }
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("the recorder was not installed, yet init_metrics returned a handle"),
        }
    }
}
