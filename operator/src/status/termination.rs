//! What a backup or restore Job ended with: the kcmf-matcher termination message of its
//! newest pod (the set name, the result), its command, times and failure reason.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

use super::results::{FAILED, RUNNING, SUCCEEDED};

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
pub(super) fn job_time(j: &Job) -> Option<Time> {
    j.status
        .as_ref()
        .and_then(|s| s.start_time.clone())
        .or_else(|| j.metadata.creation_timestamp.clone())
}

/// When a Job succeeded: `status.completionTime` when it is `Complete`.
pub(super) fn job_success_time(j: &Job) -> Option<Time> {
    if job_result(j) != SUCCEEDED {
        return None;
    }
    j.status
        .as_ref()
        .and_then(|s| s.completion_time.clone())
        .or_else(|| job_time(j))
}

/// When a Job finished: `completionTime`, or when its `Complete`/`Failed` condition turned true.
pub(super) fn job_finish_time(j: &Job) -> Option<Time> {
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
pub(super) fn job_failure(j: &Job) -> Option<String> {
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

pub(super) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::testing::*;
    use k8s_openapi::api::core::v1::ContainerState;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

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
}
