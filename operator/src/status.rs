//! Status: pure computation of `KcmfDeploymentStatus` from what `gather` observed about the
//! children after applying. The clock is an argument.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::build;
use crate::crd::{KcmfDeploymentStatus, LastBackup};
use crate::validate::{Datastore, Validated};

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
}

/// A condition before timestamps are attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    /// Type.
    pub type_: &'static str,
    /// True / False / Unknown.
    pub status: &'static str,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Cond {
    fn new(type_: &'static str, ok: bool, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: if ok { "True" } else { "False" },
            reason: reason.into(),
            message: message.into(),
        }
    }
}

fn matcher_cond(v: &Validated, d: Option<&Deployment>) -> (Cond, i32, i32) {
    let desired = v.spec.matcher.replicas;
    let Some(d) = d else {
        return (
            Cond::new(
                types::MATCHER,
                false,
                "Missing",
                "matcher Deployment not found",
            ),
            0,
            0,
        );
    };
    let st = d.status.clone().unwrap_or_default();
    let replicas = st.replicas.unwrap_or(0);
    let ready = st.ready_replicas.unwrap_or(0);
    let updated = st.updated_replicas.unwrap_or(0);
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0);
    let cond = if observed < generation {
        Cond::new(
            types::MATCHER,
            false,
            "Progressing",
            "Deployment controller has not observed the latest spec yet",
        )
    } else if desired == 0 {
        Cond::new(
            types::MATCHER,
            true,
            "ScaledToZero",
            "spec.matcher.replicas is 0",
        )
    } else if updated < desired || replicas > updated {
        Cond::new(
            types::MATCHER,
            false,
            "RollingOut",
            format!("{updated} of {desired} pods updated, {replicas} pods in total"),
        )
    } else if ready < desired {
        Cond::new(
            types::MATCHER,
            false,
            "PodsNotReady",
            format!("{ready} of {desired} pods ready"),
        )
    } else {
        Cond::new(
            types::MATCHER,
            true,
            "DeploymentReady",
            format!("{ready} of {desired} pods ready"),
        )
    };
    (cond, replicas, ready)
}

fn datastore_cond(
    type_: &'static str,
    what: &str,
    ds: &Datastore,
    s: Option<&StatefulSet>,
) -> Cond {
    if let Datastore::External(_) = ds {
        return Cond::new(type_, true, "External", format!("using an external {what}"));
    }
    let Some(s) = s else {
        return Cond::new(
            type_,
            false,
            "Missing",
            format!("{what} StatefulSet not found"),
        );
    };
    let st = s.status.clone().unwrap_or_default();
    let ready = st.ready_replicas.unwrap_or(0);
    let gen_ok = st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(0);
    let rev_ok = st.update_revision.is_none() || st.current_revision == st.update_revision;
    if ready >= 1 && gen_ok && rev_ok {
        Cond::new(type_, true, "StatefulSetReady", format!("{what} is ready"))
    } else {
        Cond::new(
            type_,
            false,
            "PodNotReady",
            format!("{what} pod is not ready yet"),
        )
    }
}

fn backup_cond(v: &Validated, c: Option<&CronJob>) -> Cond {
    match (&v.spec.backup, c) {
        (None, _) => Cond::new(
            types::BACKUP,
            false,
            "NotConfigured",
            "spec.backup is not set",
        ),
        (Some(_), None) => Cond::new(types::BACKUP, false, "Missing", "backup CronJob not found"),
        (Some(b), Some(_)) if b.suspend => Cond::new(
            types::BACKUP,
            false,
            "Suspended",
            "spec.backup.suspend is true",
        ),
        (Some(b), Some(_)) => Cond::new(
            types::BACKUP,
            true,
            "Scheduled",
            format!("backups run on schedule {:?}", b.schedule),
        ),
    }
}

/// Outcome of one Job: `Succeeded` (condition `Complete`), `Failed` (condition `Failed`) or
/// `Running`.
pub fn job_result(j: &Job) -> &'static str {
    let conds = j
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let has = |t: &str| conds.iter().any(|c| c.type_ == t && c.status == "True");
    if has("Complete") {
        "Succeeded"
    } else if has("Failed") {
        "Failed"
    } else {
        "Running"
    }
}

/// When a Job started: `status.startTime`, else its creation time.
fn job_time(j: &Job) -> Option<Time> {
    j.status
        .as_ref()
        .and_then(|s| s.start_time.clone())
        .or_else(|| j.metadata.creation_timestamp.clone())
}

/// When a Job succeeded: `status.completionTime` when it is `Complete`.
fn job_success_time(j: &Job) -> Option<Time> {
    if job_result(j) != "Succeeded" {
        return None;
    }
    j.status
        .as_ref()
        .and_then(|s| s.completion_time.clone())
        .or_else(|| job_time(j))
}

/// Last backup run from the CronJob's status and its Jobs. A Job created by hand
/// (`kubectl create job --from=cronjob/...`) does not update the CronJob's
/// `lastScheduleTime`/`lastSuccessfulTime`, so the newest Job wins when it is at least as new
/// as the last scheduled run.
pub fn last_backup_with_jobs(c: Option<&CronJob>, jobs: &[Job]) -> Option<LastBackup> {
    let from_cronjob = last_backup(c);
    let newest = jobs
        .iter()
        .filter_map(|j| job_time(j).map(|t| (t, j)))
        .max_by(|a, b| a.0.0.cmp(&b.0.0));
    let job_success = jobs
        .iter()
        .filter_map(job_success_time)
        .max_by(|a, b| a.0.cmp(&b.0));
    let cj_success = from_cronjob
        .as_ref()
        .and_then(|l| l.last_success_time.clone());
    let last_success_time = match (cj_success, job_success) {
        (Some(a), Some(b)) => Some(if b.0 > a.0 { b } else { a }),
        (a, b) => a.or(b),
    };
    let (time, result) = match (from_cronjob, newest) {
        (Some(l), Some((t, j))) => {
            if l.time.as_ref().is_none_or(|s| t.0 >= s.0) {
                (Some(t), Some(job_result(j).to_string()))
            } else {
                (l.time, l.result)
            }
        }
        (Some(l), None) => (l.time, l.result),
        (None, Some((t, j))) => (Some(t), Some(job_result(j).to_string())),
        (None, None) => return None,
    };
    Some(LastBackup {
        time,
        result,
        last_success_time,
    })
}

/// Last backup run from the CronJob's status.
pub fn last_backup(c: Option<&CronJob>) -> Option<LastBackup> {
    let st = c?.status.clone()?;
    let scheduled = st.last_schedule_time.clone()?;
    let active = st.active.as_ref().is_some_and(|a| !a.is_empty());
    let succeeded = st
        .last_successful_time
        .as_ref()
        .is_some_and(|t| t.0 >= scheduled.0);
    let result = if succeeded {
        "Succeeded"
    } else if active {
        "Running"
    } else {
        "Failed"
    };
    Some(LastBackup {
        time: Some(scheduled),
        result: Some(result.into()),
        last_success_time: st.last_successful_time,
    })
}

/// Attach timestamps and observed generation, keeping `lastTransitionTime` of conditions whose
/// status did not change.
pub fn finish_conditions(
    conds: Vec<Cond>,
    previous: &[Condition],
    generation: i64,
    now: &Time,
) -> Vec<Condition> {
    conds
        .into_iter()
        .map(|c| {
            let last = previous
                .iter()
                .find(|p| p.type_ == c.type_ && p.status == c.status)
                .map(|p| p.last_transition_time.clone())
                .unwrap_or_else(|| now.clone());
            Condition {
                type_: c.type_.into(),
                status: c.status.into(),
                reason: c.reason,
                message: c.message,
                observed_generation: Some(generation),
                last_transition_time: last,
            }
        })
        .collect()
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
        replicas_summary: Some(format!("{ready}/{}", v.spec.matcher.replicas)),
        selector: Some(build::matcher_selector_string(v)),
        url: Some(build::matcher_url(v)),
        last_backup: last_backup_with_jobs(obs.backup.as_ref(), &obs.backup_jobs),
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

fn replace_condition(st: &mut KcmfDeploymentStatus, c: Cond, generation: i64, now: &Time) {
    let done = finish_conditions(vec![c], &st.conditions, generation, now);
    for new in done {
        match st.conditions.iter_mut().find(|p| p.type_ == new.type_) {
            Some(slot) => *slot = new,
            None => st.conditions.insert(0, new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::*;
    use crate::validate::validate;
    use k8s_openapi::api::apps::v1::{DeploymentStatus, StatefulSetStatus};
    use k8s_openapi::api::batch::v1::CronJobStatus;
    use k8s_openapi::jiff::Timestamp;

    fn v(json: serde_json::Value) -> Validated {
        let spec: KcmfDeploymentSpec = serde_json::from_value(json).unwrap();
        let mut o = KcmfDeployment::new("demo", spec);
        o.metadata.namespace = Some("ns".into());
        o.metadata.uid = Some("u".into());
        o.metadata.generation = Some(2);
        validate(&o).unwrap()
    }

    fn t(s: i64) -> Time {
        Time(Timestamp::from_second(s).unwrap())
    }

    fn deploy(g: i64, replicas: i32, ready: i32, updated: i32) -> Deployment {
        let mut d = Deployment::default();
        d.metadata.generation = Some(g);
        d.status = Some(DeploymentStatus {
            observed_generation: Some(g),
            replicas: Some(replicas),
            ready_replicas: Some(ready),
            updated_replicas: Some(updated),
            ..Default::default()
        });
        d
    }

    fn sts(ready: i32) -> StatefulSet {
        let mut s = StatefulSet::default();
        s.metadata.generation = Some(1);
        s.status = Some(StatefulSetStatus {
            observed_generation: Some(1),
            ready_replicas: Some(ready),
            replicas: 1,
            ..Default::default()
        });
        s
    }

    fn cond<'a>(st: &'a KcmfDeploymentStatus, ty: &str) -> &'a Condition {
        st.conditions.iter().find(|c| c.type_ == ty).unwrap()
    }

    #[test]
    fn all_ready_is_ready_with_generation() {
        let v = v(serde_json::json!({"matcher": {"replicas": 2}}));
        let obs = Observed {
            matcher: Some(deploy(1, 2, 2, 2)),
            redis: Some(sts(1)),
            postgres: Some(sts(1)),
            backup: None,
            backup_jobs: Vec::new(),
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
        };
        let st = compute(&v, &obs, None, &t(1));
        assert_eq!(cond(&st, types::MATCHER).reason, "RollingOut");
    }

    #[test]
    fn backup_status() {
        let v = v(serde_json::json!({"backup": {"schedule": "0 3 * * *"}}));
        let mut cj = CronJob {
            status: Some(CronJobStatus {
                last_schedule_time: Some(t(50)),
                last_successful_time: Some(t(60)),
                active: None,
            }),
            ..Default::default()
        };
        let obs = Observed {
            backup: Some(cj.clone()),
            ..Default::default()
        };
        let st = compute(&v, &obs, None, &t(100));
        assert_eq!(cond(&st, types::BACKUP).status, "True");
        let lb = st.last_backup.unwrap();
        assert_eq!(lb.result.as_deref(), Some("Succeeded"));
        cj.status = Some(CronJobStatus {
            last_schedule_time: Some(t(70)),
            last_successful_time: Some(t(60)),
            active: None,
        });
        assert_eq!(
            last_backup(Some(&cj)).unwrap().result.as_deref(),
            Some("Failed")
        );
    }

    #[test]
    fn manual_job_is_the_last_backup() {
        use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
        let job = |start: i64, cond: Option<&str>, done: Option<i64>| Job {
            status: Some(JobStatus {
                start_time: Some(t(start)),
                completion_time: done.map(t),
                conditions: cond.map(|c| {
                    vec![JobCondition {
                        type_: c.into(),
                        status: "True".into(),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        // No CronJob run yet, one manual Job running, then complete.
        let cj = CronJob::default();
        let running = last_backup_with_jobs(Some(&cj), &[job(80, None, None)]).unwrap();
        assert_eq!(running.time, Some(t(80)));
        assert_eq!(running.result.as_deref(), Some("Running"));
        assert_eq!(running.last_success_time, None);
        let done =
            last_backup_with_jobs(Some(&cj), &[job(80, Some("Complete"), Some(90))]).unwrap();
        assert_eq!(done.result.as_deref(), Some("Succeeded"));
        assert_eq!(done.last_success_time, Some(t(90)));
        // A scheduled run newer than the manual Job wins; success time is the newest.
        let cj = CronJob {
            status: Some(CronJobStatus {
                last_schedule_time: Some(t(100)),
                last_successful_time: None,
                active: None,
            }),
            ..Default::default()
        };
        let lb = last_backup_with_jobs(
            Some(&cj),
            &[
                job(80, Some("Complete"), Some(90)),
                job(60, Some("Failed"), None),
            ],
        )
        .unwrap();
        assert_eq!(lb.time, Some(t(100)));
        assert_eq!(lb.result.as_deref(), Some("Failed"));
        assert_eq!(lb.last_success_time, Some(t(90)));
        // A failed manual Job after the scheduled run.
        let lb = last_backup_with_jobs(Some(&cj), &[job(110, Some("Failed"), None)]).unwrap();
        assert_eq!(lb.result.as_deref(), Some("Failed"));
        assert_eq!(lb.time, Some(t(110)));
        assert_eq!(last_backup_with_jobs(None, &[]), None);
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
