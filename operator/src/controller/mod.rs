//! The reconcile loop, one step after another: validate → gather → build → apply → observe →
//! restore → prune → status, then the Events. [`reconcile`] wraps it with metrics, the
//! failure Event and the failure status; every error names the [`Step`] that failed.
//!
//! Layout: only these modules talk to the API server — [`gather`] (Secrets, ServiceMonitor
//! discovery), [`apply`] (server-side apply behind the fingerprint cache, prune, the status
//! write), [`observe`] (workloads, backup and restore Jobs and their pods), [`restore`] (the
//! restore Job), [`events`] (what happened, published once) and [`watch`] (the controller and
//! its watches). The steps between them are pure: [`crate::validate`], [`crate::build`],
//! [`crate::status`].

mod apply;
mod events;
mod gather;
mod observe;
mod restore;
mod watch;

pub use apply::{apply, prune, write_status};
pub use gather::{Gathered, gather};
pub use observe::{backup_jobs, job_pods, observe};
pub use watch::run;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};
use tracing::{debug, warn};

use crate::crd::KcmfDeployment;
use crate::status;
use crate::validate::{self, Validated};
use crate::{Error, FIELD_MANAGER, Result, Step, StepContext, metrics};

/// Requeue interval of a healthy object (drift and referenced-secret changes are picked up).
pub const RESYNC: Duration = Duration::from_secs(300);

/// Requeue interval while components are not ready yet (child watches usually come first).
pub const NOT_READY_RESYNC: Duration = Duration::from_secs(30);

/// Shared state of the reconcilers.
pub struct Context {
    /// API client.
    pub client: Client,
    /// Event recorder.
    pub recorder: Recorder,
    /// Consecutive failures per object (`namespace/name`), for backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// Last successful apply per object UID (see [`Applied`]).
    applied: Mutex<HashMap<String, Applied>>,
    /// Whether the ServiceMonitor CRD is served, and when that was checked.
    service_monitors: Mutex<Option<(Instant, bool)>>,
    /// Job events published (`namespace/reason/job`) and when. The status decides which Jobs
    /// are news ([`status::backup_events`]); this guards against a reconcile that runs before
    /// the watch delivered this operator's own last status write and so sees an older status.
    job_events: Mutex<HashMap<String, Instant>>,
    /// The owned workloads as the controller's watches see them (empty in tests without a
    /// controller): [`observe`] reads them here instead of asking the API server.
    workloads: Workloads,
}

/// Reflector stores of the owned workloads, filled by the controller's child watches.
#[derive(Clone, Default)]
pub struct Workloads {
    deployments: Option<Store<Deployment>>,
    stateful_sets: Option<Store<StatefulSet>>,
    cron_jobs: Option<Store<CronJob>>,
}

/// How long a published Job event is remembered (the stale-status window is well under a second).
const JOB_EVENT_MEMORY: Duration = Duration::from_secs(3600);

/// How long a ServiceMonitor discovery answer is reused.
const DISCOVERY_TTL: Duration = Duration::from_secs(60);

/// What the last successful full apply of one object wrote.
///
/// A reconcile whose desired objects are byte-identical to the last apply (same fingerprint),
/// within [`RESYNC`], whose workloads still have the generations the apply produced (nobody
/// edited their specs), only reads the workloads for the status instead of re-applying
/// every child. Any difference falls back to the full apply.
#[derive(Clone, Debug)]
struct Applied {
    fingerprint: String,
    at: Instant,
    generations: BTreeMap<String, Option<i64>>,
}

impl Context {
    /// New context.
    pub fn new(client: Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            failures: Mutex::new(HashMap::new()),
            applied: Mutex::new(HashMap::new()),
            service_monitors: Mutex::new(None),
            job_events: Mutex::new(HashMap::new()),
            workloads: Workloads::default(),
        }
    }

    /// Reads owned workloads from these stores (see [`observe`]).
    pub fn with_workloads(mut self, w: Workloads) -> Self {
        self.workloads = w;
        self
    }

    /// True the first time this process reports `reason` about `job` (within an hour).
    fn first_job_event(&self, ns: &str, reason: &str, job: &str) -> bool {
        let Ok(mut sent) = self.job_events.lock() else {
            return true;
        };
        sent.retain(|_, at| at.elapsed() < JOB_EVENT_MEMORY);
        sent.insert(format!("{ns}/{reason}/{job}"), Instant::now())
            .is_none()
    }

    /// Whether `monitoring.coreos.com/v1` serves `servicemonitors` (cached for a minute).
    async fn service_monitors_available(&self) -> Result<bool> {
        if let Ok(cache) = self.service_monitors.lock()
            && let Some((at, available)) = *cache
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(available);
        }
        let available = match self
            .client
            .list_api_group_resources("monitoring.coreos.com/v1")
            .await
        {
            Ok(list) => list.resources.iter().any(|r| r.name == "servicemonitors"),
            Err(e) if is_not_found(&e) => false,
            Err(e) => {
                return Err(kube_err(
                    "discover",
                    "ServiceMonitor",
                    "monitoring.coreos.com/v1",
                )(e));
            }
        };
        if let Ok(mut cache) = self.service_monitors.lock() {
            *cache = Some((Instant::now(), available));
        }
        Ok(available)
    }

    /// Forget the ServiceMonitor discovery answer (the API disappeared under us).
    fn forget_service_monitors(&self) {
        if let Ok(mut cache) = self.service_monitors.lock() {
            *cache = None;
        }
    }

    fn cached_apply(&self, uid: &str) -> Option<Applied> {
        self.applied.lock().ok()?.get(uid).cloned()
    }

    fn record_apply(&self, uid: &str, record: Option<Applied>) {
        if let Ok(mut map) = self.applied.lock() {
            // Live objects re-apply at least every RESYNC; older entries belong to deleted ones.
            map.retain(|_, a| a.at.elapsed() < 2 * RESYNC);
            match record {
                Some(r) => map.insert(uid.to_string(), r),
                None => map.remove(uid),
            };
        }
    }

    fn failures(&self, key: &str, reset: bool) -> u32 {
        let Ok(mut map) = self.failures.lock() else {
            return 0;
        };
        if reset {
            map.remove(key);
            return 0;
        }
        let n = map.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }
}

fn key(obj: &KcmfDeployment) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

fn now() -> Time {
    Time(Timestamp::now())
}

fn kube_err(
    action: &'static str,
    kind: &'static str,
    name: &str,
) -> impl FnOnce(kube::Error) -> Error {
    let name = name.to_string();
    move |source| Error::Kube {
        action,
        kind,
        name,
        source,
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Reconcile one KcmfDeployment (metrics, events and failure status around [`reconcile_inner`]).
pub async fn reconcile(obj: Arc<KcmfDeployment>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_inner(&obj, &ctx).await;
    metrics::reconciled(started.elapsed(), result.as_ref().err());
    match &result {
        Ok(_) => {
            ctx.failures(&key(&obj), true);
        }
        Err(e) => {
            warn!(object = %key(&obj), error = %e, "reconcile failed");
            events::publish(
                &ctx,
                &obj,
                EventType::Warning,
                "ReconcileFailed",
                "Reconcile",
                e.to_string(),
            )
            .await;
            // Best effort: surface the error in the status too.
            let generation = obj.metadata.generation.unwrap_or_default();
            let st = status::failed(
                obj.status.as_ref(),
                generation,
                e.metric_label(),
                &e.to_string(),
                &now(),
            );
            if let Err(se) = write_status(&ctx.client, &obj, st).await {
                debug!(error = %se, "could not record the failure in the status");
            }
        }
    }
    result
}

/// Requeue with exponential backoff per object.
pub fn error_policy(obj: Arc<KcmfDeployment>, _err: &Error, ctx: Arc<Context>) -> Action {
    let n = ctx.failures(&key(&obj), false);
    Action::requeue(Error::backoff(n))
}

async fn reconcile_inner(obj: &KcmfDeployment, ctx: &Context) -> Result<Action> {
    if obj.metadata.deletion_timestamp.is_some() {
        // Owner references let the garbage collector delete the children.
        return Ok(Action::await_change());
    }
    let generation = obj.metadata.generation.unwrap_or_default();
    let Some(v) = validated(ctx, obj, generation).await? else {
        return Ok(Action::await_change());
    };
    if v.paused {
        events::paused(ctx, obj, generation)
            .await
            .step(Step::Status)?;
        return Ok(Action::await_change());
    }
    let previous = obj.status.as_ref();
    let spec_changed = previous.and_then(|s| s.observed_generation) != Some(generation);

    let gathered = gather::gather(ctx, &v, spec_changed)
        .await
        .step(Step::Gather)?;
    let (inputs, new_keys) = gather::build_inputs(&v, gathered, previous, &mut rand::rng());
    let desired = crate::build::build(&v, &inputs).step(Step::Build)?;
    let mut observed = apply::apply_or_reuse(ctx, &v, &desired, spec_changed)
        .await
        .step(Step::Apply)?;
    observed.backup_jobs = observe::backup_jobs(&ctx.client, &v)
        .await
        .step(Step::Observe)?;
    let started = restore::restore(ctx, &v, previous, &mut observed)
        .await
        .step(Step::Restore)?;
    if !observed.backup_jobs.is_empty() || observed.restore.job.is_some() {
        observed.job_pods = observe::job_pods(&ctx.client, &v)
            .await
            .step(Step::Observe)?;
    }
    events::secrets_generated(ctx, obj, &v, &new_keys).await;
    if spec_changed {
        let deleted = apply::prune(&ctx.client, &v, &desired.unwanted)
            .await
            .step(Step::Prune)?;
        events::pruned(ctx, obj, &deleted).await;
    }

    let st = status::compute(&v, &observed, previous, &now());
    let ready = status::is_ready(&st);
    let job_events = events::job_events(previous, &st, &observed);
    if previous != Some(&st) {
        apply::write_status(&ctx.client, obj, st)
            .await
            .step(Step::Status)?;
    }
    events::jobs_reported(ctx, obj, started, job_events).await;
    if spec_changed {
        events::applied(ctx, obj, generation, &desired).await;
    }
    Ok(Action::requeue(if ready {
        RESYNC
    } else {
        NOT_READY_RESYNC
    }))
}

/// The validated spec, or `None` when it is invalid: that is reported (status and Event) and
/// reconciling waits for a change of the spec.
async fn validated(
    ctx: &Context,
    obj: &KcmfDeployment,
    generation: i64,
) -> Result<Option<Validated>> {
    match validate::validate(obj) {
        Ok(v) => Ok(Some(v)),
        Err(Error::InvalidSpec { field, message }) => {
            events::invalid_spec(ctx, obj, generation, &field, &message)
                .await
                .step(Step::Status)?;
            Ok(None)
        }
        Err(e) => Err(e).step(Step::Validate),
    }
}
