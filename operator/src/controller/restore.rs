//! Restore: what to do about `spec.restore` this reconcile (decided by
//! [`status::restore_action`]) — follow the Job already started, start it once PostgreSQL and
//! Redis are ready, or nothing. Runs after apply: the Job mounts the backup PVC, ConfigMap and
//! Secrets that apply wrote.

use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use kube::api::{Api, PostParams};
use tracing::info;

use super::{Context, kube_err};
use crate::build::{self, RestoreRequest};
use crate::crd::KcmfDeploymentStatus;
use crate::status::{self, Observed, RestoreAction, RestoreObservation};
use crate::validate::Validated;
use crate::{FIELD_MANAGER, Result};

/// Follow or start the restore the spec asks for, recording it in `observed.restore`; the
/// request whose Job this reconcile created, if any.
pub(super) async fn restore(
    ctx: &Context,
    v: &Validated,
    previous: Option<&KcmfDeploymentStatus>,
    observed: &mut Observed,
) -> Result<Option<RestoreRequest>> {
    let prev_restore = previous.and_then(|s| s.last_restore.as_ref());
    let request = build::restore_request(v, prev_restore);
    let mut started = None;
    observed.restore = match (
        status::restore_action(request.as_ref(), prev_restore),
        &request,
    ) {
        (RestoreAction::Follow(name), _) => RestoreObservation {
            job: get_job(&ctx.client, &v.namespace, &name).await?,
            followed: Some(name),
            pending: None,
        },
        (RestoreAction::Start, Some(r)) if status::datastores_ready(v, observed) => {
            let job = create_job(&ctx.client, &v.namespace, &build::restore_job(v, r)).await?;
            started = Some(r.clone());
            RestoreObservation {
                followed: Some(r.job.clone()),
                job: Some(job),
                pending: None,
            }
        }
        (RestoreAction::Start, Some(_)) => RestoreObservation {
            pending: Some("waiting for PostgreSQL and Redis to be ready".into()),
            ..Default::default()
        },
        (RestoreAction::Start, None) | (RestoreAction::Idle, _) => RestoreObservation::default(),
    };
    Ok(started)
}

/// One Job by name (`None` when absent).
async fn get_job(client: &Client, ns: &str, name: &str) -> Result<Option<Job>> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    jobs.get_opt(name)
        .await
        .map_err(kube_err("get", "Job", name))
}

/// Create a Job; when one of that name exists already (a reconcile whose status write was
/// lost), return that one. Jobs are never patched: their pod template is immutable.
async fn create_job(client: &Client, ns: &str, job: &Job) -> Result<Job> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let pp = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    match jobs.create(&pp, job).await {
        Ok(j) => {
            info!(job = %name, "created restore Job");
            Ok(j)
        }
        Err(kube::Error::Api(s)) if s.code == 409 => {
            jobs.get(&name).await.map_err(kube_err("get", "Job", &name))
        }
        Err(e) => Err(kube_err("create", "Job", &name)(e)),
    }
}
