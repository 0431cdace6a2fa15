//! Status: pure computation of `KcmfDeploymentStatus` from what `gather` observed about the
//! children after applying. The clock is an argument.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

use crate::build::{self, RestoreRequest};
use crate::crd::{KcmfDeploymentStatus, LastBackup, LastRestore, LastVerified};
use crate::validate::{Datastore, Validated};

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
use results::{FAILED, PENDING, RUNNING, SUCCEEDED, UNKNOWN};

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
    /// Applying the ServiceMonitor found no ServiceMonitor API (its CRD was removed).
    pub service_monitor_gone: bool,
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
    let desired = v.matcher.replicas;
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
    match (&v.backup, c) {
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
        SUCCEEDED
    } else if has("Failed") {
        FAILED
    } else {
        RUNNING
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
    if job_result(j) != SUCCEEDED {
        return None;
    }
    j.status
        .as_ref()
        .and_then(|s| s.completion_time.clone())
        .or_else(|| job_time(j))
}

/// When a Job finished: `completionTime`, or when its `Complete`/`Failed` condition turned true.
fn job_finish_time(j: &Job) -> Option<Time> {
    let st = j.status.as_ref()?;
    st.completion_time.clone().or_else(|| {
        st.conditions
            .iter()
            .flatten()
            .find(|c| (c.type_ == "Failed" || c.type_ == "Complete") && c.status == "True")
            .and_then(|c| c.last_transition_time.clone())
    })
}

/// Reason and message of a Job's `Failed` condition (e.g. `BackoffLimitExceeded`).
fn job_failure(j: &Job) -> Option<String> {
    let c = j
        .status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Failed" && c.status == "True")?;
    Some(match (&c.reason, &c.message) {
        (Some(r), Some(m)) => format!("{r}: {m}"),
        (Some(x), None) | (None, Some(x)) => x.clone(),
        (None, None) => "failed".into(),
    })
}

/// Kind of a `kcmf-matcher` termination message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// `backup run`
    Backup,
    /// `backup verify`
    Verify,
    /// `restore`
    Restore,
}

/// The one-line JSON result `kcmf-matcher backup run`, `backup verify` and `restore` write to
/// `/dev/termination-log` (see matcher/src/backup/cli.rs). Times are cut to whole seconds, as
/// Kubernetes stores them.
#[derive(Clone, Debug, PartialEq)]
pub struct TerminationMessage {
    /// Which command wrote it.
    pub kind: MessageKind,
    /// `Succeeded` or `Failed`.
    pub result: Option<String>,
    /// The set written (backup), checked (verify) or restored (restore).
    pub set: Option<String>,
    /// Start of the command.
    pub started_at: Option<Time>,
    /// End of the command.
    pub finished_at: Option<Time>,
    /// `backup run`: whether the restore drill passed (`None`: no drill).
    pub verified: Option<bool>,
    /// `backup verify`: when the drill passed.
    pub verified_at: Option<Time>,
    /// `restore`: the roll-back point taken first.
    pub safety_set: Option<String>,
    /// The error of a failed command.
    pub error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    kind: String,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    set: Option<String>,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    finished_at: Option<String>,
    #[serde(default)]
    verified: Option<bool>,
    #[serde(default)]
    verified_at: Option<String>,
    #[serde(default)]
    safety_set: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

fn parse_time(s: Option<String>) -> Option<Time> {
    let t: Timestamp = s?.parse().ok()?;
    Timestamp::from_second(t.as_second()).ok().map(Time)
}

/// Parse a termination message; `None` unless it is a `kcmf-matcher` JSON result.
pub fn parse_termination_message(text: &str) -> Option<TerminationMessage> {
    let value: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    if !value.is_object() {
        return None;
    }
    let raw: RawMessage = serde_json::from_value(value).ok()?;
    let kind = match raw.kind.as_str() {
        "backup" => MessageKind::Backup,
        "verify" => MessageKind::Verify,
        "restore" => MessageKind::Restore,
        _ => return None,
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    Some(TerminationMessage {
        kind,
        result: nonempty(raw.result),
        set: nonempty(raw.set),
        started_at: parse_time(raw.started_at),
        finished_at: parse_time(raw.finished_at),
        verified: raw.verified,
        verified_at: parse_time(raw.verified_at),
        safety_set: nonempty(raw.safety_set),
        error: nonempty(raw.error),
    })
}

/// What a Job's pods left in their termination messages.
#[derive(Clone, Debug, PartialEq)]
pub enum JobOutput {
    /// A `kcmf-matcher` JSON result.
    Message(TerminationMessage),
    /// Some other text (e.g. the log tail of a container that died before writing its result,
    /// with `terminationMessagePolicy: FallbackToLogsOnError`).
    Text(String),
    /// No pod with a termination message (still running, pods gone, or a cluster that runs
    /// no containers).
    Nothing,
}

/// Job name labels the Job controller puts on its pods.
const JOB_NAME_LABELS: [&str; 2] = ["batch.kubernetes.io/job-name", "job-name"];

fn pod_of_job(p: &Pod, j: &Job) -> bool {
    let owned = j.metadata.uid.as_deref().is_some_and(|uid| {
        p.metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.kind == "Job" && o.uid == uid)
    });
    let labelled = j.metadata.name.as_deref().is_some_and(|name| {
        let labels = p.metadata.labels.as_ref();
        JOB_NAME_LABELS
            .iter()
            .any(|k| labels.and_then(|l| l.get(*k)).map(String::as_str) == Some(name))
    });
    owned || labelled
}

/// The newest termination message of the Job's pods (`state.terminated`, else
/// `lastState.terminated` of a restarted container), parsed when it is a `kcmf-matcher` result.
pub fn job_output(j: &Job, pods: &[Pod]) -> JobOutput {
    let newest = pods
        .iter()
        .filter(|p| pod_of_job(p, j))
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .flat_map(|c| {
            [
                c.state.as_ref().and_then(|s| s.terminated.as_ref()),
                c.last_state.as_ref().and_then(|s| s.terminated.as_ref()),
            ]
        })
        .flatten()
        .filter_map(|t| {
            let m = t.message.as_deref()?.trim();
            (!m.is_empty()).then(|| (t.finished_at.clone(), m))
        })
        .max_by(|a, b| a.0.cmp(&b.0));
    match newest {
        None => JobOutput::Nothing,
        Some((_, text)) => match parse_termination_message(text) {
            Some(m) => JobOutput::Message(m),
            None => JobOutput::Text(text.to_string()),
        },
    }
}

/// What a Job of the backup CronJob's template runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobCommand {
    /// `backup run` (the CronJob's own command).
    BackupRun,
    /// `backup verify`
    Verify,
    /// `restore` (the runbook's manual restore overrides the template's arguments)
    Restore,
    /// Anything else.
    Other,
}

/// The command of a Job: from its termination message when there is one, else from its
/// container's arguments. A Job whose arguments are unknown counts as a backup run.
pub fn job_command(j: &Job, out: &JobOutput) -> JobCommand {
    if let JobOutput::Message(m) = out {
        return match m.kind {
            MessageKind::Backup => JobCommand::BackupRun,
            MessageKind::Verify => JobCommand::Verify,
            MessageKind::Restore => JobCommand::Restore,
        };
    }
    let args = j
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .and_then(|c| c.args.as_ref());
    let Some(args) = args else {
        return JobCommand::BackupRun;
    };
    match (
        args.first().map(String::as_str),
        args.get(1).map(String::as_str),
    ) {
        (Some("backup"), Some("run")) => JobCommand::BackupRun,
        (Some("backup"), Some("verify")) => JobCommand::Verify,
        (Some("restore"), _) => JobCommand::Restore,
        _ => JobCommand::Other,
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// Set, drill result and message of one backup run, from what its pods left.
fn backup_details(j: &Job, out: &JobOutput) -> (Option<String>, Option<bool>, Option<String>) {
    let result = job_result(j);
    match out {
        JobOutput::Message(m) => {
            let message = m
                .error
                .clone()
                .or_else(|| (result == FAILED).then(|| job_failure(j)).flatten());
            (m.set.clone(), m.verified, message)
        }
        JobOutput::Text(t) => (
            None,
            None,
            Some(format!(
                "the set name is unknown: the termination message is not a kcmf-matcher result: {}",
                clip(t, 300)
            )),
        ),
        JobOutput::Nothing if result == RUNNING => (None, None, None),
        JobOutput::Nothing => {
            let failure = job_failure(j)
                .map(|f| format!("Job failed ({f}); "))
                .unwrap_or_default();
            (
                None,
                None,
                Some(format!(
                    "{failure}the set name is unknown: the Job's pod left no termination message"
                )),
            )
        }
    }
}

/// The backup runs among the Jobs, each with what its pods left.
fn backup_runs<'a>(jobs: &'a [Job], pods: &[Pod]) -> Vec<(&'a Job, JobOutput)> {
    jobs.iter()
        .map(|j| (j, job_output(j, pods)))
        .filter(|(j, out)| job_command(j, out) == JobCommand::BackupRun)
        .collect()
}

/// Last backup run from the CronJob's status and its Jobs. A Job created by hand
/// (`kubectl create job --from=cronjob/...`) does not update the CronJob's
/// `lastScheduleTime`/`lastSuccessfulTime`, so the newest Job wins when it is at least as new
/// as the last scheduled run. Jobs that are not `backup run` (a restore or drill started by
/// hand from the CronJob's template) are left out. The set name and drill result come from the
/// newest run's termination message, never from anywhere else.
pub fn last_backup_with_jobs(
    c: Option<&CronJob>,
    jobs: &[Job],
    pods: &[Pod],
) -> Option<LastBackup> {
    let runs = backup_runs(jobs, pods);
    let from_cronjob = last_backup(c);
    let newest = runs
        .iter()
        .filter_map(|(j, out)| job_time(j).map(|t| (t, *j, out)))
        .max_by(|a, b| a.0.0.cmp(&b.0.0));
    let job_success = runs
        .iter()
        .filter_map(|(j, _)| job_success_time(j))
        .max_by(|a, b| a.0.cmp(&b.0));
    let cj_success = from_cronjob
        .as_ref()
        .and_then(|l| l.last_success_time.clone());
    let last_success_time = match (cj_success, job_success) {
        (Some(a), Some(b)) => Some(if b.0 > a.0 { b } else { a }),
        (a, b) => a.or(b),
    };
    let from_job = |t: Time, j: &Job, out: &JobOutput| {
        let (set, verified, message) = backup_details(j, out);
        LastBackup {
            time: Some(t),
            result: Some(job_result(j).to_string()),
            last_success_time: last_success_time.clone(),
            job: j.metadata.name.clone(),
            set,
            verified,
            message,
        }
    };
    match (from_cronjob, newest) {
        (Some(l), Some((t, j, out))) if l.time.as_ref().is_none_or(|s| t.0 >= s.0) => {
            Some(from_job(t, j, out))
        }
        (Some(l), _) => Some(LastBackup {
            last_success_time,
            ..l
        }),
        (None, Some((t, j, out))) => Some(from_job(t, j, out)),
        (None, None) => None,
    }
}

/// Keep the set, drill result and message of the previous status for the same Job when its
/// pod (and so its termination message) is gone now.
pub fn carry_over_backup(new: Option<LastBackup>, prev: Option<&LastBackup>) -> Option<LastBackup> {
    let mut n = new?;
    if let Some(p) = prev
        && n.job.is_some()
        && n.job == p.job
        && n.result == p.result
        && n.set.is_none()
        && p.set.is_some()
    {
        n.set = p.set.clone();
        n.verified = p.verified;
        n.message = p.message.clone();
    }
    Some(n)
}

/// The newest verified set: from the termination messages of `backup run --verify` (the drill
/// passed) and `backup verify` runs, or the previous status when nothing newer is known.
pub fn last_verified(
    prev: Option<&LastVerified>,
    jobs: &[Job],
    pods: &[Pod],
) -> Option<LastVerified> {
    let found = jobs.iter().filter_map(|j| {
        let JobOutput::Message(m) = job_output(j, pods) else {
            return None;
        };
        if m.result.as_deref() != Some(SUCCEEDED) {
            return None;
        }
        let time = match m.kind {
            MessageKind::Backup if m.verified == Some(true) => m.finished_at.clone(),
            MessageKind::Verify => m.verified_at.clone().or_else(|| m.finished_at.clone()),
            _ => return None,
        };
        Some(LastVerified {
            set: m.set?,
            time,
            job: j.metadata.name.clone(),
        })
    });
    // On equal times the later candidate (found now) wins.
    prev.cloned()
        .into_iter()
        .chain(found)
        .max_by(|a, b| a.time.cmp(&b.time))
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

/// Events for backup runs that finished since the previous status: each finished run newer
/// than the previous `lastBackup`, or the same run when it was still `Running` then. Once the
/// status records a run as finished it is never reported again, so each Job gets one Event.
pub fn backup_events(prev: Option<&LastBackup>, jobs: &[Job], pods: &[Pod]) -> Vec<JobEvent> {
    let mut runs: Vec<(Time, &Job, JobOutput)> = backup_runs(jobs, pods)
        .into_iter()
        .filter(|(j, _)| job_result(j) != RUNNING)
        .filter_map(|(j, out)| job_time(j).map(|t| (t, j, out)))
        .collect();
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    let reported = |t: &Time| {
        prev.and_then(|p| p.time.as_ref().map(|pt| (pt, p.result.as_deref())))
            .is_some_and(|(pt, result)| t.0 < pt.0 || (t.0 == pt.0 && result != Some(RUNNING)))
    };
    runs.into_iter()
        .filter(|(t, _, _)| !reported(t))
        .map(|(_, j, out)| {
            let name = j.metadata.name.clone().unwrap_or_default();
            let (set, verified, message) = backup_details(j, &out);
            if job_result(j) == SUCCEEDED {
                let what = match (set, verified) {
                    (Some(s), Some(true)) => format!("set {s}, verified by the restore drill"),
                    (Some(s), _) => format!("set {s}"),
                    (None, _) => "set unknown: no termination message".to_string(),
                };
                JobEvent {
                    note: format!("backup Job {name} succeeded ({what})"),
                    job: name,
                    warning: false,
                    reason: "BackupSucceeded",
                }
            } else {
                JobEvent {
                    job: name.clone(),
                    warning: true,
                    reason: "BackupFailed",
                    note: format!(
                        "backup Job {name} failed: {}",
                        message.unwrap_or_else(|| "no error reported".into())
                    ),
                }
            }
        })
        .collect()
}

/// What to do about `spec.restore` this reconcile, from the request and the previous
/// `status.lastRestore`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreAction {
    /// No request, nothing running: keep the previous `lastRestore`.
    Idle,
    /// Read this Job (the request's, started earlier, or an earlier request's still running;
    /// a new request waits for it).
    Follow(String),
    /// Start the request's Job (when the datastores are ready).
    Start,
}

/// Decide what to do about `spec.restore`. A request whose Job was started (the previous
/// status names it and is not `Pending`) is only ever followed, never started again, even
/// when its Job has been deleted: a request restores at most once.
pub fn restore_action(req: Option<&RestoreRequest>, prev: Option<&LastRestore>) -> RestoreAction {
    match (req, prev) {
        (Some(r), Some(p)) if p.job == r.job && p.result != PENDING => {
            RestoreAction::Follow(r.job.clone())
        }
        (_, Some(p)) if p.result == RUNNING => RestoreAction::Follow(p.job.clone()),
        (Some(_), _) => RestoreAction::Start,
        (None, _) => RestoreAction::Idle,
    }
}

/// `lastRestore` from one restore Job and its pods. `uid` is the KcmfDeployment's: a Job of
/// that name it does not control is reported, not trusted.
pub fn restore_from_job(j: &Job, pods: &[Pod], uid: &str) -> LastRestore {
    let name = j.metadata.name.clone().unwrap_or_default();
    let ann = |k: &str| {
        j.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(k))
            .cloned()
    };
    let mut lr = LastRestore {
        set: ann(build::RESTORE_SET_ANNOTATION).unwrap_or_default(),
        id: ann(build::RESTORE_ID_ANNOTATION),
        job: name.clone(),
        result: job_result(j).to_string(),
        time: job_time(j),
        completion_time: job_finish_time(j),
        ..Default::default()
    };
    let controlled = j
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.controller == Some(true));
    if !controlled {
        lr.result = FAILED.into();
        lr.message = Some(format!(
            "a Job named {name} exists that this KcmfDeployment does not control; change spec.restore.id to start a new restore"
        ));
        return lr;
    }
    match job_output(j, pods) {
        JobOutput::Message(m) if m.kind == MessageKind::Restore => {
            lr.restored_set = m.set;
            lr.safety_set = m.safety_set;
            lr.message = m.error;
        }
        JobOutput::Message(_) | JobOutput::Text(_) | JobOutput::Nothing if lr.result == RUNNING => {
        }
        JobOutput::Text(t) => {
            lr.message = Some(format!(
                "termination message is not a kcmf-matcher result: {}",
                clip(&t, 300)
            ));
        }
        JobOutput::Message(_) | JobOutput::Nothing => {
            let failure = job_failure(j)
                .map(|f| format!("Job failed ({f}); "))
                .unwrap_or_default();
            lr.message = Some(format!(
                "{failure}the restored and safety sets are unknown: the Job's pod left no termination message"
            ));
        }
    }
    if lr.result == FAILED && lr.message.is_none() {
        lr.message = job_failure(j);
    }
    lr
}

/// `status.lastRestore` after this reconcile.
pub fn last_restore(
    req: Option<&RestoreRequest>,
    prev: Option<&LastRestore>,
    obs: &RestoreObservation,
    pods: &[Pod],
    uid: &str,
) -> Option<LastRestore> {
    if let (Some(r), Some(why)) = (req, &obs.pending) {
        return Some(LastRestore {
            set: r.set.clone(),
            id: r.id.clone(),
            job: r.job.clone(),
            result: PENDING.into(),
            message: Some(why.clone()),
            ..Default::default()
        });
    }
    if let Some(name) = &obs.followed {
        return match &obs.job {
            Some(j) => Some(restore_from_job(j, pods, uid)),
            None => prev.filter(|p| p.job == *name).map(|p| {
                let mut p = p.clone();
                if p.result == RUNNING || p.result == PENDING {
                    p.result = UNKNOWN.into();
                    p.message = Some(format!("Job {name} was deleted before it finished"));
                }
                p
            }),
        };
    }
    // Nothing followed: keep what was reported, but forget a request withdrawn before it started.
    prev.filter(|p| p.result != PENDING || req.is_some_and(|r| r.job == p.job))
        .cloned()
}

/// The Event for a restore that finished since the previous status (once per Job).
pub fn restore_event(prev: Option<&LastRestore>, new: Option<&LastRestore>) -> Option<JobEvent> {
    let n = new?;
    if n.result != SUCCEEDED && n.result != FAILED {
        return None;
    }
    if prev.is_some_and(|p| p.job == n.job && p.result == n.result) {
        return None;
    }
    Some(if n.result == SUCCEEDED {
        let mut note = format!("restore Job {} restored {}", n.job, n.set);
        if let Some(r) = n.restored_set.as_ref().filter(|r| **r != n.set) {
            note.push_str(&format!(" ({r})"));
        }
        if let Some(s) = &n.safety_set {
            note.push_str(&format!("; roll back with spec.restore.set: {s}"));
        }
        note.push_str("; the matcher pods are restarted");
        JobEvent {
            job: n.job.clone(),
            warning: false,
            reason: "RestoreSucceeded",
            note,
        }
    } else {
        JobEvent {
            job: n.job.clone(),
            warning: true,
            reason: "RestoreFailed",
            note: format!(
                "restore Job {} of set {} failed: {}",
                n.job,
                n.set,
                n.message
                    .clone()
                    .unwrap_or_else(|| "no error reported".into())
            ),
        }
    })
}

/// The last successful restore Job, put on the matcher pod template so it restarts once.
pub fn restored_by(st: Option<&KcmfDeploymentStatus>) -> Option<String> {
    st?.last_restore
        .as_ref()
        .filter(|r| r.result == SUCCEEDED)
        .map(|r| r.job.clone())
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
        ..Default::default()
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
        let running = last_backup_with_jobs(Some(&cj), &[job(80, None, None)], &[]).unwrap();
        assert_eq!(running.time, Some(t(80)));
        assert_eq!(running.result.as_deref(), Some("Running"));
        assert_eq!(running.last_success_time, None);
        let done =
            last_backup_with_jobs(Some(&cj), &[job(80, Some("Complete"), Some(90))], &[]).unwrap();
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
            &[],
        )
        .unwrap();
        assert_eq!(lb.time, Some(t(100)));
        assert_eq!(lb.result.as_deref(), Some("Failed"));
        assert_eq!(lb.last_success_time, Some(t(90)));
        // A failed manual Job after the scheduled run.
        let lb = last_backup_with_jobs(Some(&cj), &[job(110, Some("Failed"), None)], &[]).unwrap();
        assert_eq!(lb.result.as_deref(), Some("Failed"));
        assert_eq!(lb.time, Some(t(110)));
        assert_eq!(last_backup_with_jobs(None, &[], &[]), None);
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

    // ---- Jobs, termination messages, restore -------------------------------------------

    use k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};
    use k8s_openapi::api::core::v1::{
        Container, ContainerState, ContainerStateTerminated, ContainerStatus, PodSpec, PodStatus,
        PodTemplateSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use std::collections::BTreeMap;

    /// A Job named `name` (uid `name`-uid) started at `start`; `cond` Complete/Failed.
    fn job(name: &str, start: i64, cond: Option<&str>, args: Option<&[&str]>) -> Job {
        let mut j = Job::default();
        j.metadata.name = Some(name.into());
        j.metadata.uid = Some(format!("{name}-uid"));
        j.metadata.creation_timestamp = Some(t(start));
        j.spec = args.map(|a| JobSpec {
            template: PodTemplateSpec {
                metadata: None,
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "backup".into(),
                        args: Some(a.iter().map(|s| s.to_string()).collect()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            ..Default::default()
        });
        j.status = Some(JobStatus {
            start_time: Some(t(start)),
            completion_time: (cond == Some("Complete")).then(|| t(start + 10)),
            conditions: cond.map(|c| {
                vec![JobCondition {
                    type_: c.into(),
                    status: "True".into(),
                    reason: (c == "Failed").then(|| "BackoffLimitExceeded".to_string()),
                    message: (c == "Failed")
                        .then(|| "Job has reached the specified backoff limit".to_string()),
                    last_transition_time: Some(t(start + 10)),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        });
        j
    }

    /// A finished pod of `job` whose container left `message` (owner reference or labels).
    fn pod(job: &Job, message: Option<&str>, finished: i64, by_owner: bool) -> Pod {
        let name = job.metadata.name.clone().unwrap();
        let mut p = Pod::default();
        p.metadata.name = Some(format!("{name}-abcde"));
        if by_owner {
            p.metadata.owner_references = Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: name.clone(),
                uid: job.metadata.uid.clone().unwrap(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]);
        } else {
            p.metadata.labels = Some(BTreeMap::from([("job-name".to_string(), name)]));
        }
        p.status = Some(PodStatus {
            phase: Some("Succeeded".into()),
            container_statuses: Some(vec![ContainerStatus {
                name: "backup".into(),
                state: Some(ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        exit_code: 0,
                        finished_at: Some(t(finished)),
                        message: message.map(str::to_string),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        });
        p
    }

    const BACKUP_OK: &str = r#"{"kind":"backup","result":"Succeeded","set":"20261128T030000Z","startedAt":"2026-11-28T03:00:00.123456789Z","finishedAt":"2026-11-28T03:01:30.987Z","verified":true,"deleted":[]}"#;

    #[test]
    fn termination_messages_parse() {
        let m = parse_termination_message(BACKUP_OK).unwrap();
        assert_eq!(m.kind, MessageKind::Backup);
        assert_eq!(m.result.as_deref(), Some("Succeeded"));
        assert_eq!(m.set.as_deref(), Some("20261128T030000Z"));
        assert_eq!(m.verified, Some(true));
        // Whole seconds, as the status stores them (else every reconcile would rewrite it).
        let fin = m.finished_at.clone().unwrap();
        assert_eq!(fin.0.subsec_nanosecond(), 0);
        assert_eq!(fin.0.to_string(), "2026-11-28T03:01:30Z");
        let no_drill = parse_termination_message(
            r#"{"kind":"backup","result":"Succeeded","set":"x","verified":null}"#,
        )
        .unwrap();
        assert_eq!(no_drill.verified, None);
        let failed = parse_termination_message(
            r#"{"kind":"backup","result":"Failed","startedAt":"2026-11-28T03:00:00Z","finishedAt":"2026-11-28T03:00:01Z","error":"pg_dump failed"}"#,
        )
        .unwrap();
        assert_eq!(failed.set, None);
        assert_eq!(failed.error.as_deref(), Some("pg_dump failed"));
        let v = parse_termination_message(
            r#"{"kind":"verify","result":"Succeeded","set":"20261128T030000Z","verifiedAt":"2026-11-28T04:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(v.kind, MessageKind::Verify);
        assert_eq!(
            v.verified_at,
            Some(Time("2026-11-28T04:00:00Z".parse().unwrap()))
        );
        let r = parse_termination_message(
            r#"{"kind":"restore","result":"Succeeded","set":"20261128T030000Z","safetySet":"20261128T101502Z-pre-restore"}"#,
        )
        .unwrap();
        assert_eq!(r.kind, MessageKind::Restore);
        assert_eq!(
            r.safety_set.as_deref(),
            Some("20261128T101502Z-pre-restore")
        );
        for bad in [
            "",
            "done",
            "{}",
            r#"{"kind":"other"}"#,
            r#"["backup"]"#,
            "Error: config: unknown key app.foo",
        ] {
            assert_eq!(parse_termination_message(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn job_output_takes_the_newest_message_of_the_jobs_pods() {
        let j = job("demo-backup-1", 100, Some("Complete"), None);
        let other = job("demo-backup-0", 50, Some("Complete"), None);
        assert_eq!(job_output(&j, &[]), JobOutput::Nothing);
        // kwok: a completed pod without a message.
        assert_eq!(
            job_output(&j, &[pod(&j, None, 110, true)]),
            JobOutput::Nothing
        );
        let pods = [
            pod(&other, Some(BACKUP_OK), 200, true),
            pod(&j, Some("pod 1 log tail"), 105, false),
            pod(&j, Some(BACKUP_OK), 110, true),
        ];
        match job_output(&j, &pods) {
            JobOutput::Message(m) => assert_eq!(m.set.as_deref(), Some("20261128T030000Z")),
            o => panic!("{o:?}"),
        }
        assert_eq!(
            job_output(&j, &pods[..2]),
            JobOutput::Text("pod 1 log tail".into())
        );
        // A container restarted by restartPolicy OnFailure: the last termination counts too.
        let mut p = pod(&j, None, 110, true);
        let cs = &mut p
            .status
            .as_mut()
            .unwrap()
            .container_statuses
            .as_mut()
            .unwrap()[0];
        cs.last_state = cs.state.clone();
        cs.last_state
            .as_mut()
            .unwrap()
            .terminated
            .as_mut()
            .unwrap()
            .message = Some(r#"{"kind":"backup","result":"Failed","error":"disk full"}"#.into());
        cs.state = Some(ContainerState::default());
        match job_output(&j, &[p]) {
            JobOutput::Message(m) => assert_eq!(m.error.as_deref(), Some("disk full")),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn job_commands_from_messages_or_arguments() {
        let run = job("a", 1, None, Some(&["backup", "run", "--config", "x"]));
        let verify = job("b", 1, None, Some(&["backup", "verify", "--set", "latest"]));
        let restore = job("c", 1, None, Some(&["restore", "--from", "x", "--yes"]));
        let list = job("d", 1, None, Some(&["backup", "list"]));
        let unknown = job("e", 1, None, None);
        let n = JobOutput::Nothing;
        assert_eq!(job_command(&run, &n), JobCommand::BackupRun);
        assert_eq!(job_command(&verify, &n), JobCommand::Verify);
        assert_eq!(job_command(&restore, &n), JobCommand::Restore);
        assert_eq!(job_command(&list, &n), JobCommand::Other);
        assert_eq!(job_command(&unknown, &n), JobCommand::BackupRun);
        // The message wins over the arguments.
        let m = JobOutput::Message(parse_termination_message(r#"{"kind":"restore"}"#).unwrap());
        assert_eq!(job_command(&run, &m), JobCommand::Restore);
    }

    #[test]
    fn last_backup_names_the_set_only_from_a_termination_message() {
        let args: &[&str] = &["backup", "run"];
        let j = job("demo-backup-1", 100, Some("Complete"), Some(args));
        // No message (kwok): what the Job tells, and says so.
        let lb = last_backup_with_jobs(None, std::slice::from_ref(&j), &[pod(&j, None, 110, true)])
            .unwrap();
        assert_eq!(lb.job.as_deref(), Some("demo-backup-1"));
        assert_eq!(lb.result.as_deref(), Some("Succeeded"));
        assert_eq!(lb.last_success_time, Some(t(110)));
        assert_eq!(lb.set, None);
        assert_eq!(lb.verified, None);
        assert!(
            lb.message
                .as_deref()
                .unwrap()
                .contains("no termination message"),
            "{lb:?}"
        );
        // With the message: set and drill result.
        let pods = [pod(&j, Some(BACKUP_OK), 110, true)];
        let lb = last_backup_with_jobs(None, std::slice::from_ref(&j), &pods).unwrap();
        assert_eq!(lb.set.as_deref(), Some("20261128T030000Z"));
        assert_eq!(lb.verified, Some(true));
        assert_eq!(lb.message, None);
        // Running: nothing claimed, nothing explained.
        let r = job("demo-backup-2", 200, None, Some(args));
        let lb = last_backup_with_jobs(None, &[j.clone(), r.clone()], &pods).unwrap();
        assert_eq!(
            (lb.job.as_deref(), lb.result.as_deref(), lb.set.as_deref()),
            (Some("demo-backup-2"), Some("Running"), None)
        );
        assert_eq!(lb.message, None);
        // A failed run without a message reports the Job's failure.
        let f = job("demo-backup-3", 300, Some("Failed"), Some(args));
        let lb = last_backup_with_jobs(None, &[j.clone(), f], &pods).unwrap();
        assert_eq!(lb.result.as_deref(), Some("Failed"));
        let msg = lb.message.unwrap();
        assert!(
            msg.contains("BackoffLimitExceeded") && msg.contains("unknown"),
            "{msg}"
        );
        // A restore or drill started by hand from the CronJob's template is not a backup run.
        let manual_restore = job("manual-restore", 400, Some("Complete"), Some(&["restore"]));
        let drill = job("drill", 500, Some("Complete"), Some(&["backup", "verify"]));
        let lb = last_backup_with_jobs(None, &[j.clone(), manual_restore, drill], &pods).unwrap();
        assert_eq!(lb.job.as_deref(), Some("demo-backup-1"));
    }

    #[test]
    fn set_of_the_same_job_survives_its_pod() {
        let j = job("demo-backup-1", 100, Some("Complete"), None);
        let with = last_backup_with_jobs(
            None,
            std::slice::from_ref(&j),
            &[pod(&j, Some(BACKUP_OK), 110, true)],
        );
        let without = last_backup_with_jobs(None, std::slice::from_ref(&j), &[]);
        let kept = carry_over_backup(without.clone(), with.as_ref()).unwrap();
        assert_eq!(kept.set.as_deref(), Some("20261128T030000Z"));
        assert_eq!(kept.verified, Some(true));
        assert_eq!(kept.message, None);
        // Another Job: nothing carried over.
        let k = job("demo-backup-2", 200, Some("Complete"), None);
        let other = last_backup_with_jobs(None, &[j, k], &[]);
        assert_eq!(carry_over_backup(other.clone(), with.as_ref()), other);
        assert_eq!(carry_over_backup(None, with.as_ref()), None);
    }

    #[test]
    fn last_verified_from_drills_only() {
        let run = job("demo-backup-1", 100, Some("Complete"), None);
        let unverified = job("demo-backup-2", 200, Some("Complete"), None);
        let drill = job("drill-1", 300, Some("Complete"), None);
        let pods = [
            pod(&run, Some(BACKUP_OK), 110, true),
            pod(
                &unverified,
                Some(
                    r#"{"kind":"backup","result":"Succeeded","set":"20261128T050000Z","finishedAt":"2026-11-28T05:00:10Z","verified":null}"#,
                ),
                210,
                true,
            ),
        ];
        let lv = last_verified(None, &[run.clone(), unverified.clone()], &pods).unwrap();
        assert_eq!(lv.set, "20261128T030000Z");
        assert_eq!(lv.job.as_deref(), Some("demo-backup-1"));
        assert_eq!(lv.time, Some(Time("2026-11-28T03:01:30Z".parse().unwrap())));
        // A later `backup verify` of an older set.
        let mut all = pods.to_vec();
        all.push(pod(
            &drill,
            Some(r#"{"kind":"verify","result":"Succeeded","set":"20261127T030000Z","verifiedAt":"2026-11-28T06:00:00Z"}"#),
            310,
            true,
        ));
        let lv2 = last_verified(Some(&lv), &[run.clone(), unverified, drill], &all).unwrap();
        assert_eq!(lv2.set, "20261127T030000Z");
        // Nothing known now (Jobs gone, or kwok): the previous value stays; never invented.
        assert_eq!(last_verified(Some(&lv2), &[], &[]), Some(lv2.clone()));
        assert_eq!(last_verified(None, std::slice::from_ref(&run), &[]), None);
        // A failed drill verifies nothing.
        let bad = job("drill-2", 400, Some("Failed"), None);
        let p = pod(
            &bad,
            Some(r#"{"kind":"verify","result":"Failed","set":"x","error":"row counts differ"}"#),
            410,
            true,
        );
        assert_eq!(last_verified(Some(&lv2), &[bad], &[p]), Some(lv2));
    }

    #[test]
    fn each_finished_backup_job_gets_one_event() {
        let running = job("demo-backup-1", 100, None, None);
        let done = job("demo-backup-1", 100, Some("Complete"), None);
        let failed = job("demo-backup-2", 200, Some("Failed"), None);
        let pods = [pod(&done, Some(BACKUP_OK), 110, true)];
        // Still running: nothing.
        assert!(backup_events(None, std::slice::from_ref(&running), &[]).is_empty());
        let prev = last_backup_with_jobs(None, std::slice::from_ref(&running), &[]);
        // It finished: one Normal event naming the set.
        let ev = backup_events(prev.as_ref(), std::slice::from_ref(&done), &pods);
        assert_eq!(ev.len(), 1);
        assert_eq!((ev[0].warning, ev[0].reason), (false, "BackupSucceeded"));
        assert!(ev[0].note.contains("20261128T030000Z"), "{}", ev[0].note);
        assert!(ev[0].note.contains("verified"), "{}", ev[0].note);
        // Once the status records it: never again.
        let prev = last_backup_with_jobs(None, std::slice::from_ref(&done), &pods);
        assert!(backup_events(prev.as_ref(), std::slice::from_ref(&done), &pods).is_empty());
        // A newer run failed: one Warning, the older one is not repeated.
        let ev = backup_events(prev.as_ref(), &[done.clone(), failed.clone()], &pods);
        assert_eq!(ev.len(), 1);
        assert_eq!((ev[0].warning, ev[0].reason), (true, "BackupFailed"));
        assert!(
            ev[0].note.contains("BackoffLimitExceeded"),
            "{}",
            ev[0].note
        );
        let prev = last_backup_with_jobs(None, &[done.clone(), failed.clone()], &pods);
        assert!(backup_events(prev.as_ref(), &[done.clone(), failed], &pods).is_empty());
        // Finished between two reconciles, never seen running: reported (no message: said so).
        let ev = backup_events(None, std::slice::from_ref(&done), &[]);
        assert_eq!(ev.len(), 1);
        assert!(ev[0].note.contains("set unknown"), "{}", ev[0].note);
        // A status from before Jobs were named (time and result only) counts as reported.
        let old = LastBackup {
            time: Some(t(100)),
            result: Some("Succeeded".into()),
            ..Default::default()
        };
        assert!(backup_events(Some(&old), std::slice::from_ref(&done), &[]).is_empty());
        // A restore started by hand from the template is no backup run.
        let manual = job("manual-restore", 300, Some("Complete"), Some(&["restore"]));
        assert!(backup_events(prev.as_ref(), &[manual], &[]).is_empty());
    }

    fn request(set: &str, id: Option<&str>) -> RestoreRequest {
        RestoreRequest {
            set: set.into(),
            id: id.map(str::to_string),
            job: build::names::restore_job("demo", set, id, None),
        }
    }

    fn lr(req: &RestoreRequest, result: &str) -> LastRestore {
        LastRestore {
            set: req.set.clone(),
            id: req.id.clone(),
            job: req.job.clone(),
            result: result.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_restore_request_starts_one_job() {
        use RestoreAction::*;
        let a = request("20261128T030000Z", None);
        let b = request("20261128T030000Z", Some("again"));
        assert_eq!(restore_action(None, None), Idle);
        assert_eq!(restore_action(Some(&a), None), Start);
        // Waiting for the datastores: still to start.
        assert_eq!(restore_action(Some(&a), Some(&lr(&a, PENDING))), Start);
        // Started: followed, whatever became of it, never started again.
        for r in [RUNNING, SUCCEEDED, FAILED, UNKNOWN] {
            assert_eq!(
                restore_action(Some(&a), Some(&lr(&a, r))),
                Follow(a.job.clone()),
                "{r}"
            );
        }
        // A new request (new id) after a finished one: start it.
        assert_eq!(restore_action(Some(&b), Some(&lr(&a, SUCCEEDED))), Start);
        assert_eq!(restore_action(Some(&b), Some(&lr(&a, FAILED))), Start);
        // ... but not while the earlier one still runs: follow that one first.
        assert_eq!(
            restore_action(Some(&b), Some(&lr(&a, RUNNING))),
            Follow(a.job.clone())
        );
        // Request removed: follow a running Job to its end, else nothing.
        assert_eq!(
            restore_action(None, Some(&lr(&a, RUNNING))),
            Follow(a.job.clone())
        );
        assert_eq!(restore_action(None, Some(&lr(&a, SUCCEEDED))), Idle);
    }

    fn restore_job_of(req: &RestoreRequest, cond: Option<&str>, owner_uid: &str) -> Job {
        let mut j = job(
            &req.job,
            100,
            cond,
            Some(&["restore", "--from", &req.set, "--yes"]),
        );
        j.metadata.annotations = Some(BTreeMap::from([(
            build::RESTORE_SET_ANNOTATION.to_string(),
            req.set.clone(),
        )]));
        j.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "kcmf.io/v1alpha1".into(),
            kind: "KcmfDeployment".into(),
            name: "demo".into(),
            uid: owner_uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        j
    }

    #[test]
    fn last_restore_follows_the_job() {
        let a = request("latest", None);
        // Pending while the datastores are not ready.
        let pending = RestoreObservation {
            pending: Some("waiting for PostgreSQL and Redis to be ready".into()),
            ..Default::default()
        };
        let st = last_restore(Some(&a), None, &pending, &[], "u").unwrap();
        assert_eq!(
            (st.result.as_str(), st.job.as_str()),
            (PENDING, a.job.as_str())
        );
        assert!(st.message.unwrap().contains("PostgreSQL"));
        // Running, then done with its message.
        let running = restore_job_of(&a, None, "u");
        let obs = RestoreObservation {
            followed: Some(a.job.clone()),
            job: Some(running.clone()),
            pending: None,
        };
        let st = last_restore(Some(&a), None, &obs, &[], "u").unwrap();
        assert_eq!((st.result.as_str(), st.set.as_str()), (RUNNING, "latest"));
        assert_eq!((st.time.clone(), st.message.clone()), (Some(t(100)), None));
        let done = restore_job_of(&a, Some("Complete"), "u");
        let msg = r#"{"kind":"restore","result":"Succeeded","set":"20261128T030000Z","safetySet":"20261128T101502Z-pre-restore"}"#;
        let pods = [pod(&done, Some(msg), 110, true)];
        let obs = RestoreObservation {
            followed: Some(a.job.clone()),
            job: Some(done.clone()),
            pending: None,
        };
        let st = last_restore(Some(&a), Some(&st), &obs, &pods, "u").unwrap();
        assert_eq!(st.result, SUCCEEDED);
        assert_eq!(st.completion_time, Some(t(110)));
        assert_eq!(st.restored_set.as_deref(), Some("20261128T030000Z"));
        assert_eq!(
            st.safety_set.as_deref(),
            Some("20261128T101502Z-pre-restore")
        );
        assert_eq!(st.message, None);
        // Without a message (kwok): the Job's result, and says what is unknown.
        let bare = last_restore(Some(&a), None, &obs, &[], "u").unwrap();
        assert_eq!(
            (bare.result.as_str(), bare.restored_set.clone()),
            (SUCCEEDED, None)
        );
        assert!(bare.message.unwrap().contains("no termination message"));
        // The Job deleted: the last state stays (a running one becomes Unknown).
        let gone = RestoreObservation {
            followed: Some(a.job.clone()),
            ..Default::default()
        };
        assert_eq!(
            last_restore(Some(&a), Some(&st), &gone, &[], "u"),
            Some(st.clone())
        );
        let was_running = lr(&a, RUNNING);
        let unknown = last_restore(None, Some(&was_running), &gone, &[], "u").unwrap();
        assert_eq!(unknown.result, UNKNOWN);
        assert!(unknown.message.unwrap().contains("deleted"));
        // Idle keeps the last restore; a request withdrawn before it started is forgotten.
        let idle = RestoreObservation::default();
        assert_eq!(
            last_restore(None, Some(&st), &idle, &[], "u"),
            Some(st.clone())
        );
        assert_eq!(
            last_restore(None, Some(&lr(&a, PENDING)), &idle, &[], "u"),
            None
        );
        // A failed restore carries the matcher's error.
        let failed = restore_job_of(&a, Some("Failed"), "u");
        let fmsg = r#"{"kind":"restore","result":"Failed","set":"20261128T030000Z","error":"backup set 20261128T030000Z refused, nothing was changed: checksum mismatch"}"#;
        let obs = RestoreObservation {
            followed: Some(a.job.clone()),
            job: Some(failed.clone()),
            pending: None,
        };
        let st = last_restore(
            Some(&a),
            None,
            &obs,
            &[pod(&failed, Some(fmsg), 110, true)],
            "u",
        )
        .unwrap();
        assert_eq!(st.result, FAILED);
        assert!(st.message.unwrap().contains("checksum mismatch"));
        // A same-named Job this object does not control is not trusted.
        let foreign = restore_job_of(&a, Some("Complete"), "someone-else");
        let obs = RestoreObservation {
            followed: Some(a.job.clone()),
            job: Some(foreign),
            pending: None,
        };
        let st = last_restore(Some(&a), None, &obs, &[], "u").unwrap();
        assert_eq!(st.result, FAILED);
        assert!(st.message.unwrap().contains("does not control"));
    }

    #[test]
    fn each_finished_restore_gets_one_event() {
        let a = request("20261128T030000Z", None);
        let mut done = lr(&a, SUCCEEDED);
        done.safety_set = Some("20261128T101502Z-pre-restore".into());
        assert_eq!(restore_event(None, Some(&lr(&a, RUNNING))), None);
        assert_eq!(restore_event(None, Some(&lr(&a, PENDING))), None);
        let ev = restore_event(Some(&lr(&a, RUNNING)), Some(&done)).unwrap();
        assert_eq!((ev.warning, ev.reason), (false, "RestoreSucceeded"));
        assert!(
            ev.note.contains("20261128T101502Z-pre-restore"),
            "{}",
            ev.note
        );
        assert_eq!(restore_event(Some(&done), Some(&done)), None);
        let ev = restore_event(None, Some(&lr(&a, FAILED))).unwrap();
        assert_eq!((ev.warning, ev.reason), (true, "RestoreFailed"));
        // The matcher restart follows the last successful restore only.
        let st = |r: LastRestore| KcmfDeploymentStatus {
            last_restore: Some(r),
            ..Default::default()
        };
        assert_eq!(restored_by(Some(&st(done))), Some(a.job.clone()));
        assert_eq!(restored_by(Some(&st(lr(&a, FAILED)))), None);
        assert_eq!(restored_by(None), None);
    }

    #[test]
    fn restores_wait_for_the_datastores() {
        let managed = v(serde_json::json!({}));
        let mut obs = Observed::default();
        assert!(!datastores_ready(&managed, &obs));
        obs.redis = Some(sts(1));
        obs.postgres = Some(sts(0));
        assert!(!datastores_ready(&managed, &obs));
        obs.postgres = Some(sts(1));
        assert!(datastores_ready(&managed, &obs));
        let ext = v(serde_json::json!({
            "redis": {"external": {"urlSecretRef": {"name": "r", "key": "u"}}},
            "postgres": {"external": {"urlSecretRef": {"name": "p", "key": "u"}}}
        }));
        assert!(datastores_ready(&ext, &Observed::default()));
    }
}
