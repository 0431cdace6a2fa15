//! Events and the reports that go with them: an invalid or paused spec (status and Event),
//! generated secrets, pruned children, finished Jobs (each published once, after the status
//! recording it is written), a started restore, an applied generation. Publishing is best
//! effort: a failed Event never fails the reconcile.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use tracing::{debug, info};

use super::apply::write_status;
use super::{Context, key, now};
use crate::Result;
use crate::build::{self, ChildRef, Desired, RestoreRequest};
use crate::crd::{KcmfDeployment, KcmfDeploymentStatus};
use crate::status::{self, JobEvent, Observed};
use crate::validate::Validated;

/// An invalid spec: the status says which field and why (with an Event when that is news).
pub(super) async fn invalid_spec(
    ctx: &Context,
    obj: &KcmfDeployment,
    generation: i64,
    field: &str,
    message: &str,
) -> Result<()> {
    let st = status::invalid(obj.status.as_ref(), generation, field, message, &now());
    if obj.status.as_ref() != Some(&st) {
        let note = format!("{field}: {message}");
        publish(
            ctx,
            obj,
            EventType::Warning,
            "InvalidSpec",
            "Validate",
            note,
        )
        .await;
        write_status(&ctx.client, obj, st).await?;
    }
    Ok(())
}

/// `spec.paused`: the status says so (with an Event when that is news).
pub(super) async fn paused(ctx: &Context, obj: &KcmfDeployment, generation: i64) -> Result<()> {
    let st = status::paused(obj.status.as_ref(), generation, &now());
    if obj.status.as_ref() != Some(&st) {
        let note = "spec.paused is true: no child object is changed".to_string();
        publish(ctx, obj, EventType::Normal, "Paused", "Reconcile", note).await;
        write_status(&ctx.client, obj, st).await?;
    }
    Ok(())
}

/// Keys generated into the `<name>-generated` Secret this reconcile.
pub(super) async fn secrets_generated(
    ctx: &Context,
    obj: &KcmfDeployment,
    v: &Validated,
    new_keys: &[String],
) {
    if new_keys.is_empty() {
        return;
    }
    let note = format!(
        "generated {} in Secret {}",
        new_keys.join(", "),
        build::names::secret(&v.name)
    );
    publish(
        ctx,
        obj,
        EventType::Normal,
        "SecretGenerated",
        "GenerateSecret",
        note,
    )
    .await;
}

/// Children deleted because the spec no longer wants them.
pub(super) async fn pruned(ctx: &Context, obj: &KcmfDeployment, deleted: &[ChildRef]) {
    for d in deleted {
        let note = format!(
            "deleted {} {}: no longer wanted by the spec",
            d.kind.as_str(),
            d.name
        );
        publish(ctx, obj, EventType::Normal, "DeletedChild", "Prune", note).await;
    }
}

/// Events about finished Jobs that the new status `st` records for the first time.
pub(super) fn job_events(
    previous: Option<&KcmfDeploymentStatus>,
    st: &KcmfDeploymentStatus,
    observed: &Observed,
) -> Vec<JobEvent> {
    let mut events = status::backup_events(
        previous.and_then(|s| s.last_backup.as_ref()),
        &observed.backup_jobs,
        &observed.job_pods,
    );
    events.extend(status::restore_event(
        previous.and_then(|s| s.last_restore.as_ref()),
        st.last_restore.as_ref(),
    ));
    events
}

/// After the status write: the restore started now, and the finished Jobs.
pub(super) async fn jobs_reported(
    ctx: &Context,
    obj: &KcmfDeployment,
    started: Option<RestoreRequest>,
    events: Vec<JobEvent>,
) {
    if let Some(r) = started {
        let note = format!(
            "started restore Job {} of set {}{}",
            r.job,
            r.set,
            r.id.map(|i| format!(" (request id {i})"))
                .unwrap_or_default()
        );
        let e = JobEvent {
            job: r.job,
            warning: false,
            reason: "RestoreStarted",
            note,
        };
        publish_job_event(ctx, obj, e, "Restore").await;
    }
    for e in events {
        publish_job_event(ctx, obj, e, "Observe").await;
    }
}

/// A new generation applied.
pub(super) async fn applied(
    ctx: &Context,
    obj: &KcmfDeployment,
    generation: i64,
    desired: &Desired,
) {
    let note = format!(
        "applied generation {generation}: {} objects, config hash {}",
        desired.apply.len(),
        desired.config_hash
    );
    publish(ctx, obj, EventType::Normal, "Applied", "Reconcile", note).await;
    info!(object = %key(obj), generation, "applied");
}

pub(super) async fn publish(
    ctx: &Context,
    obj: &KcmfDeployment,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    publish_related(ctx, obj, type_, reason, action, note, None).await;
}

/// Publish an Event about `obj`, optionally naming a related object. The recorder folds
/// Events with the same type, action, reason, object and related object into one series (the
/// note is not part of that key), so Events about different Jobs name their Job.
pub(super) async fn publish_related(
    ctx: &Context,
    obj: &KcmfDeployment,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
    related: Option<ObjectReference>,
) {
    let ev = Event {
        type_,
        reason: reason.into(),
        note: Some(note.chars().take(1000).collect()),
        action: action.into(),
        secondary: related,
    };
    if let Err(e) = ctx.recorder.publish(&ev, &obj.object_ref(&())).await {
        debug!(error = %e, "could not publish event");
    }
}

/// Publish an Event about a Job once (see [`Context::first_job_event`]).
pub(super) async fn publish_job_event(
    ctx: &Context,
    obj: &KcmfDeployment,
    e: JobEvent,
    action: &str,
) {
    let ns = obj.namespace().unwrap_or_default();
    if !ctx.first_job_event(&ns, e.reason, &e.job) {
        debug!(job = %e.job, reason = e.reason, "event already published");
        return;
    }
    let type_ = if e.warning {
        EventType::Warning
    } else {
        EventType::Normal
    };
    let job = ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: Some(e.job.clone()),
        namespace: Some(ns),
        ..Default::default()
    };
    publish_related(ctx, obj, type_, e.reason, action, e.note, Some(job)).await;
}
