//! The restore decision (start, follow or idle), `status.lastRestore` and the Events of
//! finished restores.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

use super::results::{FAILED, PENDING, RUNNING, SUCCEEDED, UNKNOWN};
use super::termination::{
    JobOutput, MessageKind, clip, job_failure, job_finish_time, job_output, job_result, job_time,
};
use super::{JobEvent, RestoreObservation};
use crate::build::{self, RestoreRequest};
use crate::crd::{KcmfDeploymentStatus, LastRestore};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::testing::*;
    use crate::status::*;

    use crate::crd::{KcmfDeploymentStatus, LastRestore};

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
