//! Names of the children of one KcmfDeployment: every name derives from `metadata.name`
//! (at most 40 characters, see [`crate::validate::MAX_NAME_LEN`]), so each fits its kind's limit.

/// Generated Secret.
pub fn secret(n: &str) -> String {
    format!("{n}-generated")
}
/// Matcher ConfigMap.
pub fn config(n: &str) -> String {
    format!("{n}-config")
}
/// Matcher Deployment, Service and PodDisruptionBudget.
pub fn matcher(n: &str) -> String {
    format!("{n}-matcher")
}
/// Redis StatefulSet and Service.
pub fn redis(n: &str) -> String {
    format!("{n}-redis")
}
/// Redis data PVC.
pub fn redis_data(n: &str) -> String {
    format!("{n}-redis-data")
}
/// PostgreSQL StatefulSet and Service.
pub fn postgres(n: &str) -> String {
    format!("{n}-postgres")
}
/// PostgreSQL data PVC.
pub fn postgres_data(n: &str) -> String {
    format!("{n}-postgres-data")
}
/// Backup CronJob.
pub fn backup(n: &str) -> String {
    format!("{n}-backup")
}
/// Backup PVC.
pub fn backups_pvc(n: &str) -> String {
    format!("{n}-backups")
}
/// NetworkPolicy guarding the datastores.
pub fn datastores_policy(n: &str) -> String {
    format!("{n}-datastores")
}
/// HorizontalPodAutoscaler (named as the KcmfDeployment it scales).
pub fn hpa(n: &str) -> String {
    n.to_string()
}
/// ServiceMonitor (named as the KcmfDeployment it scrapes).
pub fn service_monitor(n: &str) -> String {
    n.to_string()
}
/// PrometheusRule (named as the KcmfDeployment it watches).
pub fn prometheus_rule(n: &str) -> String {
    n.to_string()
}
/// Restore Job of one request: `<name>-restore-<10 hex digits of sha256(set, id, the
/// previous restore Job)>`, at most 59 characters (names are at most 40), so it fits the
/// 63 of the `job-name` pod label. See [`super::backup::restore_request`] for why the previous
/// Job is part of it.
pub fn restore_job(n: &str, set: &str, id: Option<&str>, after: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [set, id.unwrap_or_default(), after.unwrap_or_default()] {
        h.update(part.as_bytes());
        h.update(b"\0");
    }
    format!("{n}-restore-{}", &hex::encode(h.finalize())[..10])
}
