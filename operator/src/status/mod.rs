//! Status: pure computation of `KcmfDeploymentStatus` from what `gather` observed about the
//! children after applying. The clock is an argument.
//!
//! Layout: [`conditions`] (the Ready/…Ready conditions per component), [`termination`] (what a
//! backup or restore Job ended with: its termination message, arguments and times), [`backup`]
//! (`lastBackup`, `lastVerified` and backup Events), [`restore`] (the restore decision,
//! `lastRestore` and its Events); this module puts them together in [`compute`].

pub mod backup;
pub mod conditions;
pub mod restore;
pub mod termination;
#[cfg(test)]
pub(crate) mod testing;

pub use backup::{
    backup_events, carry_over_backup, last_backup, last_backup_with_jobs, last_verified,
};
pub use conditions::{Cond, finish_conditions};
pub use restore::{
    RestoreAction, last_restore, restore_action, restore_event, restore_from_job, restored_by,
};
pub use termination::{
    JobCommand, JobOutput, MessageKind, TerminationMessage, job_command, job_output, job_result,
    parse_termination_message,
};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use self::conditions::{backup_cond, datastore_cond, matcher_cond, replace_condition};
use crate::build::{self};
use crate::crd::KcmfDeploymentStatus;
use crate::validate::Validated;

/// Values of `lastBackup.result` / `lastRestore.result`.
pub mod results {
    /// The Job is still running.
    pub const RUNNING: &str = "Running";
    /// The Job completed.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The Job failed.
    pub const FAILED: &str = "Failed";
    /// A restore request that has not started its Job yet.
    pub const PENDING: &str = "Pending";
    /// The followed restore Job disappeared before it finished.
    pub const UNKNOWN: &str = "Unknown";
}

/// Condition types.
pub mod types {
    /// Everything needed to serve is ready.
    pub const READY: &str = "Ready";
    /// The matcher Deployment is rolled out and ready.
    pub const MATCHER: &str = "MatcherReady";
    /// Redis is ready (or external).
    pub const REDIS: &str = "RedisReady";
    /// PostgreSQL is ready (or external).
    pub const POSTGRES: &str = "PostgresReady";
    /// The backup CronJob exists and is not suspended.
    pub const BACKUP: &str = "BackupScheduled";
}

/// The children's state as read after applying.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Matcher Deployment.
    pub matcher: Option<Deployment>,
    /// Redis StatefulSet (managed only).
    pub redis: Option<StatefulSet>,
    /// PostgreSQL StatefulSet (managed only).
    pub postgres: Option<StatefulSet>,
    /// Backup CronJob.
    pub backup: Option<CronJob>,
    /// Jobs of the backup CronJob (scheduled, or created by hand with
    /// `kubectl create job --from=cronjob/NAME-backup`), which carry the instance's backup labels.
    pub backup_jobs: Vec<Job>,
    /// Pods of the backup and restore Jobs, for their termination messages.
    pub job_pods: Vec<Pod>,
    /// The restore Job followed this reconcile.
    pub restore: RestoreObservation,
    /// Applying the ServiceMonitor or PrometheusRule found its API gone (the CRD was removed).
    pub monitoring_api_gone: bool,
}

/// What the reconcile did and saw about `spec.restore` (see [`restore_action`]).
#[derive(Clone, Debug, Default)]
pub struct RestoreObservation {
    /// Name of the restore Job followed (the current request's, or an earlier one still running).
    pub followed: Option<String>,
    /// That Job as read or just created; `None` when it was not found.
    pub job: Option<Job>,
    /// The current request has not started: what it waits for.
    pub pending: Option<String>,
}

/// An Event to publish about a Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobEvent {
    /// The Job it is about.
    pub job: String,
    /// Warning (else Normal).
    pub warning: bool,
    /// Reason, e.g. `BackupSucceeded`.
    pub reason: &'static str,
    /// Human-readable note.
    pub note: String,
}

/// Whether managed PostgreSQL and Redis are ready (external ones count as ready): a restore
/// starts only then.
pub fn datastores_ready(v: &Validated, obs: &Observed) -> bool {
    let redis = datastore_cond(types::REDIS, "Redis", &v.redis, obs.redis.as_ref());
    let postgres = datastore_cond(
        types::POSTGRES,
        "PostgreSQL",
        &v.postgres,
        obs.postgres.as_ref(),
    );
    redis.status == "True" && postgres.status == "True"
}

/// Whether the status says `Ready=True`.
pub fn is_ready(st: &KcmfDeploymentStatus) -> bool {
    st.conditions
        .iter()
        .any(|c| c.type_ == types::READY && c.status == "True")
}

/// Status after a successful apply.
pub fn compute(
    v: &Validated,
    obs: &Observed,
    previous: Option<&KcmfDeploymentStatus>,
    now: &Time,
) -> KcmfDeploymentStatus {
    let (matcher, replicas, ready) = matcher_cond(v, obs.matcher.as_ref());
    let redis = datastore_cond(types::REDIS, "Redis", &v.redis, obs.redis.as_ref());
    let postgres = datastore_cond(
        types::POSTGRES,
        "PostgreSQL",
        &v.postgres,
        obs.postgres.as_ref(),
    );
    let backup = backup_cond(v, obs.backup.as_ref());
    let not_ready: Vec<&Cond> = [&matcher, &redis, &postgres]
        .into_iter()
        .filter(|c| c.status != "True")
        .collect();
    let overall = if not_ready.is_empty() {
        Cond::new(
            types::READY,
            true,
            "AllComponentsReady",
            "matcher, Redis and PostgreSQL are ready",
        )
    } else {
        let msg = not_ready
            .iter()
            .map(|c| format!("{}: {}", c.type_, c.message))
            .collect::<Vec<_>>()
            .join("; ");
        Cond::new(types::READY, false, "ComponentsNotReady", msg)
    };
    let prev_conds = previous.map(|p| p.conditions.as_slice()).unwrap_or(&[]);
    KcmfDeploymentStatus {
        observed_generation: Some(v.generation),
        conditions: finish_conditions(
            vec![overall, matcher, redis, postgres, backup],
            prev_conds,
            v.generation,
            now,
        ),
        replicas,
        ready_replicas: ready,
        replicas_summary: Some(format!("{ready}/{}", v.matcher.replicas)),
        selector: Some(build::matcher_selector_string(v)),
        url: Some(build::matcher_url(v)),
        last_backup: carry_over_backup(
            last_backup_with_jobs(obs.backup.as_ref(), &obs.backup_jobs, &obs.job_pods),
            previous.and_then(|p| p.last_backup.as_ref()),
        ),
        last_verified: last_verified(
            previous.and_then(|p| p.last_verified.as_ref()),
            &obs.backup_jobs,
            &obs.job_pods,
        ),
        last_restore: last_restore(
            build::restore_request(v, previous.and_then(|p| p.last_restore.as_ref())).as_ref(),
            previous.and_then(|p| p.last_restore.as_ref()),
            &obs.restore,
            &obs.job_pods,
            &v.uid,
        ),
    }
}

/// Status for a spec that failed validation: `Ready=False` with a condition naming the field.
/// Keeps the replica counts and other fields of the previous status.
pub fn invalid(
    previous: Option<&KcmfDeploymentStatus>,
    generation: i64,
    field: &str,
    message: &str,
    now: &Time,
) -> KcmfDeploymentStatus {
    let mut st = previous.cloned().unwrap_or_default();
    let cond = Cond {
        type_: types::READY,
        status: "False",
        reason: "InvalidSpec".into(),
        message: format!("{field}: {message}"),
    };
    replace_condition(&mut st, cond, generation, now);
    st.observed_generation = Some(generation);
    st
}

/// Status while `spec.paused` is set: `Ready=Unknown`, reason `Paused`; everything else kept.
pub fn paused(
    previous: Option<&KcmfDeploymentStatus>,
    generation: i64,
    now: &Time,
) -> KcmfDeploymentStatus {
    let mut st = previous.cloned().unwrap_or_default();
    let cond = Cond {
        type_: types::READY,
        status: "Unknown",
        reason: "Paused".into(),
        message: "spec.paused is true: the operator changes no child object".into(),
    };
    replace_condition(&mut st, cond, generation, now);
    st
}

/// Status after a failed reconcile (API error, missing secret): `Ready=False` with the error.
pub fn failed(
    previous: Option<&KcmfDeploymentStatus>,
    generation: i64,
    reason: &str,
    message: &str,
    now: &Time,
) -> KcmfDeploymentStatus {
    let mut st = previous.cloned().unwrap_or_default();
    let cond = Cond {
        type_: types::READY,
        status: "False",
        reason: reason.into(),
        message: message.into(),
    };
    replace_condition(&mut st, cond, generation, now);
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::testing::*;

    use crate::crd::KcmfDeploymentStatus;

    #[test]
    fn all_ready_is_ready_with_generation() {
        let v = v(serde_json::json!({"matcher": {"replicas": 2}}));
        let obs = Observed {
            matcher: Some(deploy(1, 2, 2, 2)),
            redis: Some(sts(1)),
            postgres: Some(sts(1)),
            backup: None,
            backup_jobs: Vec::new(),
            ..Default::default()
        };
        let st = compute(&v, &obs, None, &t(100));
        assert_eq!(st.observed_generation, Some(2));
        assert_eq!(cond(&st, types::READY).status, "True");
        assert_eq!(cond(&st, types::BACKUP).reason, "NotConfigured");
        assert_eq!(st.ready_replicas, 2);
        assert_eq!(st.replicas_summary.as_deref(), Some("2/2"));
        assert_eq!(
            st.selector.as_deref(),
            Some(
                "app.kubernetes.io/component=matcher,app.kubernetes.io/instance=demo,app.kubernetes.io/name=kcmf"
            )
        );
        assert_eq!(st.url.as_deref(), Some("http://demo-matcher.ns.svc:8000"));
    }

    #[test]
    fn not_ready_names_components_and_keeps_transition_time() {
        let v = v(
            serde_json::json!({"redis": {"external": {"urlSecretRef": {"name": "r", "key": "u"}}}}),
        );
        let obs = Observed {
            matcher: Some(deploy(1, 1, 0, 1)),
            redis: None,
            postgres: Some(sts(0)),
            backup: None,
            backup_jobs: Vec::new(),
            ..Default::default()
        };
        let st1 = compute(&v, &obs, None, &t(100));
        let ready = cond(&st1, types::READY);
        assert_eq!(ready.status, "False");
        assert!(ready.message.contains("MatcherReady"), "{}", ready.message);
        assert!(ready.message.contains("PostgresReady"), "{}", ready.message);
        assert_eq!(cond(&st1, types::REDIS).reason, "External");
        // Same state later: transition times unchanged, so the status is byte-identical.
        let st2 = compute(&v, &obs, Some(&st1), &t(200));
        assert_eq!(st1, st2);
    }

    #[test]
    fn rollout_in_progress_is_not_ready() {
        let v = v(serde_json::json!({"matcher": {"replicas": 2}}));
        let obs = Observed {
            matcher: Some(deploy(3, 3, 3, 1)),
            redis: Some(sts(1)),
            postgres: Some(sts(1)),
            backup: None,
            backup_jobs: Vec::new(),
            ..Default::default()
        };
        let st = compute(&v, &obs, None, &t(1));
        assert_eq!(cond(&st, types::MATCHER).reason, "RollingOut");
    }

    #[test]
    fn invalid_and_paused_keep_other_fields() {
        let prev = KcmfDeploymentStatus {
            ready_replicas: 3,
            ..Default::default()
        };
        let st = invalid(Some(&prev), 4, "spec.backup.schedule", "bad", &t(1));
        assert_eq!(st.ready_replicas, 3);
        assert_eq!(st.observed_generation, Some(4));
        let c = cond(&st, types::READY);
        assert_eq!(c.reason, "InvalidSpec");
        assert!(c.message.starts_with("spec.backup.schedule"));
        let p = paused(Some(&st), 5, &t(2));
        assert_eq!(cond(&p, types::READY).status, "Unknown");
        assert_eq!(p.observed_generation, Some(4));
    }
}
