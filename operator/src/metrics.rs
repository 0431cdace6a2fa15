//! Operator metrics (`/metrics`, Prometheus text) and health (`/health`, `/ready`).
//!
//! Two kinds of series: the reconcile loop's own (counters, a histogram, the leader gauge)
//! through the `metrics` recorder, and one set per KcmfDeployment (Ready, the last backup run)
//! rendered at scrape time from the status the operator wrote, as the controller's reflector
//! store holds it ([`object_metrics`]). The second kind is read from the store rather than
//! recorded during reconciles, so a deleted object's series disappear with it and a paused
//! or invalid one (no periodic reconcile) still reports; only the replica that runs the
//! controller (the leader) has a store, so a standby reports none. The chart's alerts
//! (`charts/kcmf-operator/templates/prometheusrule.yaml`) and the dashboard query these names:
//! a test here checks each of them is rendered.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::Error;
use crate::crd::KcmfDeployment;
use crate::status;

/// Reconciles, by result.
pub const RECONCILES: &str = "kcmf_operator_reconciles_total";
/// Failed reconciles, by error kind.
pub const ERRORS: &str = "kcmf_operator_reconcile_errors_total";
/// Reconcile duration.
pub const DURATION: &str = "kcmf_operator_reconcile_duration_seconds";
/// 1 while this replica holds the leader lease.
pub const LEADER: &str = "kcmf_operator_leader";
/// Per KcmfDeployment: 1 when its `Ready` condition is True, 0 when False (no series while
/// it is Unknown, e.g. paused, or before the first status).
pub const DEPLOYMENT_READY: &str = "kcmf_operator_deployment_ready";
/// Per KcmfDeployment with `spec.backup`: `status.lastBackup.lastSuccessTime` (Unix seconds).
pub const BACKUP_LAST_SUCCESS: &str = "kcmf_operator_backup_last_success_timestamp_seconds";
/// Per KcmfDeployment with `spec.backup`: 1 when the newest backup run failed, else 0.
pub const BACKUP_LAST_FAILED: &str = "kcmf_operator_backup_last_run_failed";

/// The controller's store of KcmfDeployments, once the controller runs (see [`object_metrics`]).
pub type Objects = Arc<RwLock<Option<Store<KcmfDeployment>>>>;

/// The Prometheus recorder's builder (the reconcile-duration buckets).
fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new().set_buckets_for_metric(
        Matcher::Full(DURATION.into()),
        &[
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ],
    )
}

/// Install the global Prometheus recorder.
pub fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    builder()?.install_recorder()
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

/// The per-KcmfDeployment series of `objects` in the Prometheus text format, from the status
/// each object holds (see the module docs).
pub fn object_metrics<'a>(objects: impl IntoIterator<Item = &'a KcmfDeployment>) -> String {
    let mut ready = Vec::new();
    let mut last_success = Vec::new();
    let mut last_failed = Vec::new();
    for o in objects {
        let labels = format!(
            "namespace=\"{}\",name=\"{}\"",
            escape(&o.namespace().unwrap_or_default()),
            escape(&o.name_any())
        );
        let Some(st) = o.status.as_ref() else {
            continue;
        };
        let condition = st
            .conditions
            .iter()
            .find(|c| c.type_ == status::types::READY);
        match condition.map(|c| c.status.as_str()) {
            Some("True") => ready.push((labels.clone(), 1.0)),
            Some("False") => ready.push((labels.clone(), 0.0)),
            _ => {}
        }
        if o.spec.backup.is_none() {
            continue;
        }
        if let Some(lb) = &st.last_backup {
            if let Some(t) = &lb.last_success_time {
                last_success.push((labels.clone(), t.0.as_millisecond() as f64 / 1000.0));
            }
            let failed = lb.result.as_deref() == Some("Failed");
            last_failed.push((labels, if failed { 1.0 } else { 0.0 }));
        }
    }
    let mut out = String::new();
    for (name, series) in [
        (DEPLOYMENT_READY, ready),
        (BACKUP_LAST_SUCCESS, last_success),
        (BACKUP_LAST_FAILED, last_failed),
    ] {
        if series.is_empty() {
            continue;
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in series {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
        out.push('\n');
    }
    out
}

/// A label value in the text format: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `/metrics`: the recorder's series, then the per-KcmfDeployment ones.
fn render(s: &ServerState) -> String {
    let mut out = s.handle.render();
    let store = s.objects.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = store.as_ref() {
        let objects = store.state();
        out.push_str(&object_metrics(objects.iter().map(|o| &**o)));
    }
    out
}

/// Shared state of the HTTP server.
#[derive(Clone)]
pub struct ServerState {
    /// Renders the recorder's part of `/metrics`.
    pub handle: PrometheusHandle,
    /// The KcmfDeployments, set by the controller when it starts.
    pub objects: Objects,
    /// Set once the operator is initialised (client built); `/ready` answers 503 before.
    pub ready: Arc<AtomicBool>,
}

/// The router: `/metrics`, `/health` (liveness), `/ready` (readiness).
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<ServerState>| async move { render(&s) }),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
    use k8s_openapi::jiff::Timestamp;

    use super::*;
    use crate::crd::{KcmfDeploymentSpec, KcmfDeploymentStatus, LastBackup};

    fn object(
        name: &str,
        spec: serde_json::Value,
        ready: &str,
        backup: Option<LastBackup>,
    ) -> KcmfDeployment {
        let spec: KcmfDeploymentSpec = serde_json::from_value(spec).unwrap();
        let mut o = KcmfDeployment::new(name, spec);
        o.metadata.namespace = Some("ns".into());
        o.status = Some(KcmfDeploymentStatus {
            conditions: vec![Condition {
                type_: "Ready".into(),
                status: ready.into(),
                reason: "R".into(),
                message: String::new(),
                last_transition_time: Time(Timestamp::UNIX_EPOCH),
                observed_generation: None,
            }],
            last_backup: backup,
            ..Default::default()
        });
        o
    }

    fn failed_backup() -> LastBackup {
        LastBackup {
            result: Some("Failed".into()),
            last_success_time: Some(Time(Timestamp::from_second(1_800_000_000).unwrap())),
            ..Default::default()
        }
    }

    #[test]
    fn object_metrics_follow_the_status() {
        let backup = serde_json::json!({"backup": {"schedule": "@daily"}});
        let objects = [
            object("a", backup.clone(), "True", Some(failed_backup())),
            object("b", serde_json::json!({}), "False", None),
            object("c", serde_json::json!({}), "Unknown", None),
            // lastBackup of a formerly scheduled backup: no backup series without spec.backup
            object("d", serde_json::json!({}), "True", Some(failed_backup())),
        ];
        let text = object_metrics(&objects);
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines,
            vec![
                "# TYPE kcmf_operator_deployment_ready gauge",
                r#"kcmf_operator_deployment_ready{namespace="ns",name="a"} 1"#,
                r#"kcmf_operator_deployment_ready{namespace="ns",name="b"} 0"#,
                r#"kcmf_operator_deployment_ready{namespace="ns",name="d"} 1"#,
                "# TYPE kcmf_operator_backup_last_success_timestamp_seconds gauge",
                r#"kcmf_operator_backup_last_success_timestamp_seconds{namespace="ns",name="a"} 1800000000"#,
                "# TYPE kcmf_operator_backup_last_run_failed gauge",
                r#"kcmf_operator_backup_last_run_failed{namespace="ns",name="a"} 1"#,
            ]
        );
        assert_eq!(object_metrics(&[]), "");
    }

    /// The metric families of a Prometheus text page (`# TYPE` lines), with their types.
    fn families(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| (n.to_string(), t.trim().to_string()))
            .collect()
    }

    /// `kcmf_operator_*` names in PromQL expressions.
    fn queried(exprs: &[String]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for e in exprs {
            let mut rest = e.as_str();
            while let Some(i) = rest.find("kcmf_operator_") {
                let tail = &rest[i..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(tail.len());
                out.insert(tail[..end].to_string());
                rest = &tail[end..];
            }
        }
        out
    }

    /// Every `expr` of the dashboard (and its variable queries) and of the chart's rules.
    fn chart_exprs() -> Vec<String> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../charts/kcmf-operator");
        let dash = std::fs::read_to_string(format!("{root}/dashboards/kcmf.json")).unwrap();
        let dash: serde_json::Value = serde_json::from_str(&dash).unwrap();
        let mut exprs = Vec::new();
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("expr" | "definition", serde_json::Value::String(s)) => {
                                out.push(s.clone())
                            }
                            _ => walk(v, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        walk(&dash, &mut exprs);
        let rules =
            std::fs::read_to_string(format!("{root}/templates/prometheusrule.yaml")).unwrap();
        exprs.extend(
            rules
                .lines()
                .filter_map(|l| l.trim().strip_prefix("expr:"))
                .map(str::to_string),
        );
        exprs
    }

    /// Every `kcmf_operator_*` metric the chart's dashboard and alerts query is one this
    /// operator exports, with the type the query assumes (`_bucket` of a histogram).
    #[test]
    fn every_operator_metric_the_chart_queries_is_exported() {
        let recorder = builder().unwrap().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            reconciled(Duration::from_millis(3), None);
            reconciled(
                Duration::from_millis(3),
                Some(&Error::MissingMetadata("namespace")),
            );
            set_leader(true);
        });
        let objects = [object(
            "a",
            serde_json::json!({"backup": {"schedule": "@daily"}}),
            "True",
            Some(failed_backup()),
        )];
        let page = format!("{}{}", handle.render(), object_metrics(&objects));
        let exported = families(&page);
        let wanted = queried(&chart_exprs());
        assert!(
            wanted.len() >= 7,
            "the chart queries fewer operator metrics than expected: {wanted:?}"
        );
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|q| {
                !exported.iter().any(|(name, kind)| {
                    *q == name
                        || (kind == "histogram"
                            && ["_bucket", "_sum", "_count"]
                                .iter()
                                .any(|s| **q == format!("{name}{s}")))
                })
            })
            .collect();
        assert!(
            missing.is_empty(),
            "queried by the chart but not exported by the operator: {missing:?}\nexported: {exported:?}"
        );
    }
}
