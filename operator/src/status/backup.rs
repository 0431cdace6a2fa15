//! `status.lastBackup`, `status.lastVerified` and the Events of finished backup Jobs.

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::JobEvent;
use super::results::{FAILED, RUNNING, SUCCEEDED};
use super::termination::{
    JobCommand, JobOutput, MessageKind, clip, job_command, job_failure, job_output, job_result,
    job_success_time, job_time,
};
use crate::crd::{LastBackup, LastVerified};

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
        SUCCEEDED
    } else if active {
        RUNNING
    } else {
        FAILED
    };
    Some(LastBackup {
        time: Some(scheduled),
        result: Some(result.into()),
        last_success_time: st.last_successful_time,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::testing::*;
    use crate::status::*;

    use k8s_openapi::api::batch::v1::CronJobStatus;

    use k8s_openapi::api::batch::v1::{CronJob, Job};

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use crate::crd::LastBackup;

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
}
