//! The reconcile loop: gather → validate → build → apply → status.
//!
//! Only [`gather`], [`apply`], [`prune`] and [`write_status`] talk to the API server; the
//! middle steps are [`crate::validate`], [`crate::build`] and [`crate::status`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, ObjectReference, PersistentVolumeClaim, Pod, Secret, Service,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, PartialObjectMeta, Patch, PatchParams,
    PostParams, Preconditions,
};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::{debug, info, warn};

use crate::build::{self, BuildInputs, Child, ChildKind, ChildRef, SecretInputs};
use crate::crd::{KcmfDeployment, KcmfDeploymentStatus};
use crate::status::{self, JobEvent, Observed, RestoreAction, RestoreObservation};
use crate::validate::{self, Validated};
use crate::{Error, FIELD_MANAGER, Result, metrics};

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

fn workload_generations(obs: &Observed) -> BTreeMap<String, Option<i64>> {
    let mut g = BTreeMap::new();
    if let Some(d) = &obs.matcher {
        g.insert(
            format!("Deployment/{}", d.name_any()),
            d.metadata.generation,
        );
    }
    for s in [&obs.redis, &obs.postgres].into_iter().flatten() {
        g.insert(
            format!("StatefulSet/{}", s.name_any()),
            s.metadata.generation,
        );
    }
    if let Some(c) = &obs.backup {
        g.insert(format!("CronJob/{}", c.name_any()), c.metadata.generation);
    }
    g
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
            publish(
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

async fn publish(
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
async fn publish_related(
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
async fn publish_job_event(ctx: &Context, obj: &KcmfDeployment, e: JobEvent, action: &str) {
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

async fn reconcile_inner(obj: &KcmfDeployment, ctx: &Context) -> Result<Action> {
    if obj.metadata.deletion_timestamp.is_some() {
        // Owner references let the garbage collector delete the children.
        return Ok(Action::await_change());
    }
    let generation = obj.metadata.generation.unwrap_or_default();

    // validate
    let v = match validate::validate(obj) {
        Ok(v) => v,
        Err(Error::InvalidSpec { field, message }) => {
            let st = status::invalid(obj.status.as_ref(), generation, &field, &message, &now());
            if obj.status.as_ref() != Some(&st) {
                publish(
                    ctx,
                    obj,
                    EventType::Warning,
                    "InvalidSpec",
                    "Validate",
                    format!("{field}: {message}"),
                )
                .await;
                write_status(&ctx.client, obj, st).await?;
            }
            return Ok(Action::await_change());
        }
        Err(e) => return Err(e),
    };

    if v.paused {
        let st = status::paused(obj.status.as_ref(), generation, &now());
        if obj.status.as_ref() != Some(&st) {
            publish(
                ctx,
                obj,
                EventType::Normal,
                "Paused",
                "Reconcile",
                "spec.paused is true: no child object is changed".into(),
            )
            .await;
            write_status(&ctx.client, obj, st).await?;
        }
        return Ok(Action::await_change());
    }

    let spec_changed = obj.status.as_ref().and_then(|s| s.observed_generation) != Some(generation);

    // gather
    let gathered = gather(ctx, &v, spec_changed).await?;
    let generated_keys = build::required_generated_keys(&v);
    let filled = build::fill_generated(&gathered.generated, &generated_keys, &mut rand::rng());
    let new_keys: Vec<String> = filled
        .keys()
        .filter(|k| !gathered.generated.contains_key(*k))
        .cloned()
        .collect();

    // build
    let inputs = BuildInputs {
        secrets: SecretInputs {
            generated: filled,
            referenced: gathered.referenced,
        },
        service_monitor_available: gathered.service_monitor_available,
        restored_by: status::restored_by(obj.status.as_ref()),
    };
    let desired = build::build(&v, &inputs)?;

    // apply (or, when nothing changed since the last apply, only read the workloads)
    let fingerprint = build::fingerprint(&desired.apply)?;
    let cached = ctx
        .cached_apply(&v.uid)
        .filter(|a| !spec_changed && a.fingerprint == fingerprint && a.at.elapsed() < RESYNC);
    let mut observed = None;
    if let Some(a) = cached {
        let obs = observe(ctx, &v).await?;
        if workload_generations(&obs) == a.generations {
            observed = Some(obs);
        }
    }
    let mut observed = match observed {
        Some(o) => o,
        None => {
            ctx.record_apply(&v.uid, None);
            let o = apply(&ctx.client, &v.namespace, &desired.apply).await?;
            ctx.record_apply(
                &v.uid,
                Some(Applied {
                    fingerprint,
                    at: Instant::now(),
                    generations: workload_generations(&o),
                }),
            );
            o
        }
    };
    if observed.service_monitor_gone {
        info!(object = %key(obj), "the ServiceMonitor API is gone; skipped the ServiceMonitor");
        ctx.forget_service_monitors();
    }
    observed.backup_jobs = backup_jobs(&ctx.client, &v).await?;

    // restore: after apply, because the Job mounts the backup PVC, ConfigMap and Secrets
    let previous = obj.status.as_ref();
    let prev_restore = previous.and_then(|s| s.last_restore.as_ref());
    let request = build::restore_request(&v, prev_restore);
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
        (RestoreAction::Start, Some(r)) if status::datastores_ready(&v, &observed) => {
            let job = create_job(&ctx.client, &v.namespace, &build::restore_job(&v, r)).await?;
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
    if !observed.backup_jobs.is_empty() || observed.restore.job.is_some() {
        observed.job_pods = job_pods(&ctx.client, &v).await?;
    }
    if !new_keys.is_empty() {
        publish(
            ctx,
            obj,
            EventType::Normal,
            "SecretGenerated",
            "GenerateSecret",
            format!(
                "generated {} in Secret {}",
                new_keys.join(", "),
                build::names::secret(&v.name)
            ),
        )
        .await;
    }
    if spec_changed {
        let deleted = prune(&ctx.client, &v, &desired.unwanted).await?;
        for d in deleted {
            publish(
                ctx,
                obj,
                EventType::Normal,
                "DeletedChild",
                "Prune",
                format!(
                    "deleted {} {}: no longer wanted by the spec",
                    d.kind.as_str(),
                    d.name
                ),
            )
            .await;
        }
    }

    // status
    let st = status::compute(&v, &observed, previous, &now());
    let ready = st
        .conditions
        .iter()
        .any(|c| c.type_ == status::types::READY && c.status == "True");
    // Events about finished Jobs, published once the status recording them is written, so
    // each Job is reported once.
    let mut events = status::backup_events(
        previous.and_then(|s| s.last_backup.as_ref()),
        &observed.backup_jobs,
        &observed.job_pods,
    );
    events.extend(status::restore_event(
        prev_restore,
        st.last_restore.as_ref(),
    ));
    if previous != Some(&st) {
        write_status(&ctx.client, obj, st).await?;
    }
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
    if spec_changed {
        publish(
            ctx,
            obj,
            EventType::Normal,
            "Applied",
            "Reconcile",
            format!(
                "applied generation {generation}: {} objects, config hash {}",
                desired.apply.len(),
                desired.config_hash
            ),
        )
        .await;
        info!(object = %key(obj), generation, "applied");
    }
    Ok(Action::requeue(if ready {
        RESYNC
    } else {
        NOT_READY_RESYNC
    }))
}

/// What gather reads before building.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Existing data of the generated Secret.
    pub generated: BTreeMap<String, String>,
    /// Values of referenced user secret keys (`secret/key` → value).
    pub referenced: BTreeMap<String, String>,
    /// Whether the ServiceMonitor CRD is served.
    pub service_monitor_available: bool,
}

fn secret_data(s: &Secret) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = s
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    for (k, v) in s.string_data.iter().flatten() {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Gather: the generated Secret, referenced user secrets, ServiceMonitor availability.
pub async fn gather(ctx: &Context, v: &Validated, spec_changed: bool) -> Result<Gathered> {
    let client = &ctx.client;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &v.namespace);
    let gen_name = build::names::secret(&v.name);
    let generated = secrets
        .get_opt(&gen_name)
        .await
        .map_err(kube_err("get", "Secret", &gen_name))?
        .map(|s| secret_data(&s))
        .unwrap_or_default();
    let mut referenced = BTreeMap::new();
    let mut cache: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for r in build::referenced_secret_keys(v) {
        if !cache.contains_key(&r.name) {
            let s = secrets
                .get_opt(&r.name)
                .await
                .map_err(kube_err("get", "Secret", &r.name))?
                .ok_or_else(|| Error::MissingSecret {
                    name: r.name.clone(),
                    message: "referenced by the spec but not found".into(),
                })?;
            cache.insert(r.name.clone(), secret_data(&s));
        }
        let value = cache
            .get(&r.name)
            .and_then(|d| d.get(&r.key))
            .ok_or_else(|| Error::MissingSecret {
                name: r.name.clone(),
                message: format!("has no key {:?}", r.key),
            })?;
        referenced.insert(format!("{}/{}", r.name, r.key), value.clone());
    }
    let service_monitor_available = if v.service_monitor || spec_changed {
        ctx.service_monitors_available().await?
    } else {
        false
    };
    Ok(Gathered {
        generated,
        referenced,
        service_monitor_available,
    })
}

/// The backup CronJob's Jobs (scheduled or created by hand from it): they carry the
/// instance's `backup` component labels from the job template.
pub async fn backup_jobs(client: &Client, v: &Validated) -> Result<Vec<Job>> {
    if v.backup.is_none() {
        return Ok(Vec::new());
    }
    let jobs: Api<Job> = Api::namespaced(client.clone(), &v.namespace);
    let selector = build::selector_labels(v, "backup")
        .iter()
        .map(|(k, val)| format!("{k}={val}"))
        .collect::<Vec<_>>()
        .join(",");
    let list = jobs
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(kube_err("list", "Job", &build::names::backup(&v.name)))?;
    Ok(list.items)
}

/// Label selector of the pods of this instance's backup and restore Jobs.
fn job_pods_selector(v: &Validated) -> String {
    format!(
        "app.kubernetes.io/name=kcmf,app.kubernetes.io/instance={},app.kubernetes.io/component in (backup,restore)",
        v.name
    )
}

/// Pods of the backup and restore Jobs (their termination messages carry the set names).
pub async fn job_pods(client: &Client, v: &Validated) -> Result<Vec<Pod>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &v.namespace);
    let list = pods
        .list(&ListParams::default().labels(&job_pods_selector(v)))
        .await
        .map_err(kube_err("list", "Pod", &format!("{} job pods", v.name)))?;
    Ok(list.items)
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

/// Drops what the status never reads from a stored workload: its managed fields, the
/// bulk of a server-side-applied object (the stores hold every child workload).
fn slim<K: Resource>(o: &mut K) {
    o.meta_mut().managed_fields = None;
}

/// Apis in the watched namespace, or in all namespaces.
struct ScopedApi<'a> {
    client: &'a Client,
    namespace: Option<&'a str>,
}

impl ScopedApi<'_> {
    fn api<K>(&self) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    {
        match self.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }
}

/// A watch of owned children (backoff on errors, managed fields dropped) that fills a
/// reflector store: the store, and the stream of touched objects for `owns_stream`.
fn stored_watch<K>(
    api: Api<K>,
    config: &watcher::Config,
) -> (
    Store<K>,
    impl futures::Stream<Item = std::result::Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store();
    let events = reflector(
        writer,
        watcher(api, config.clone()).default_backoff().modify(slim),
    )
    .touched_objects();
    (store, events)
}

/// An owned workload from the store when it holds it, else from the API server (the store
/// is still listing, or the object was created a moment ago).
async fn stored_or_get<K>(
    store: Option<&Store<K>>,
    api: &Api<K>,
    ns: &str,
    name: &str,
    kind: &'static str,
) -> Result<Option<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    if let Some(o) = store.and_then(|s| s.get(&ObjectRef::new(name).within(ns))) {
        return Ok(Some((*o).clone()));
    }
    api.get_opt(name).await.map_err(kube_err("get", kind, name))
}

/// Read the workloads the status is computed from (the cheap path of an unchanged object):
/// from the controller's reflector stores, so an unchanged object costs no request.
pub async fn observe(ctx: &Context, v: &Validated) -> Result<Observed> {
    let client = &ctx.client;
    let w = &ctx.workloads;
    let ns = v.namespace.as_str();
    let deps: Api<Deployment> = Api::namespaced(client.clone(), &v.namespace);
    let stss: Api<StatefulSet> = Api::namespaced(client.clone(), &v.namespace);
    let cjs: Api<CronJob> = Api::namespaced(client.clone(), &v.namespace);
    let matcher = build::names::matcher(&v.name);
    let redis = build::names::redis(&v.name);
    let postgres = build::names::postgres(&v.name);
    let backup = build::names::backup(&v.name);
    let (m, r, p, b) = futures::try_join!(
        stored_or_get(w.deployments.as_ref(), &deps, ns, &matcher, "Deployment"),
        async {
            if v.redis.managed().is_none() {
                return Ok(None);
            }
            stored_or_get(w.stateful_sets.as_ref(), &stss, ns, &redis, "StatefulSet").await
        },
        async {
            if v.postgres.managed().is_none() {
                return Ok(None);
            }
            stored_or_get(
                w.stateful_sets.as_ref(),
                &stss,
                ns,
                &postgres,
                "StatefulSet",
            )
            .await
        },
        async {
            if v.backup.is_none() {
                return Ok(None);
            }
            stored_or_get(w.cron_jobs.as_ref(), &cjs, ns, &backup, "CronJob").await
        },
    )?;
    Ok(Observed {
        matcher: m,
        redis: r,
        postgres: p,
        backup: b,
        ..Default::default()
    })
}

async fn apply_one<K>(client: &Client, ns: &str, kind: &'static str, obj: &K) -> Result<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug,
{
    let name = obj.meta().name.clone().unwrap_or_default();
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .map_err(kube_err("apply", kind, &name))
}

/// Apply: server-side apply every desired child under one field manager; returns the
/// workloads' state for the status.
pub async fn apply(client: &Client, ns: &str, children: &[Child]) -> Result<Observed> {
    // Two concurrent waves: what the workloads reference first (Secret, ConfigMap, PVCs,
    // Services), then the workloads and the rest.
    let (first, rest): (Vec<&Child>, Vec<&Child>) = children.iter().partition(|c| {
        matches!(
            c.kind(),
            ChildKind::Secret
                | ChildKind::ConfigMap
                | ChildKind::PersistentVolumeClaim
                | ChildKind::Service
        )
    });
    let mut obs = Observed::default();
    for wave in [first, rest] {
        let results =
            futures::future::try_join_all(wave.into_iter().map(|c| apply_child(client, ns, c)))
                .await?;
        for r in results {
            match r {
                AppliedChild::Deployment(d) => obs.matcher = Some(*d),
                AppliedChild::StatefulSet(s) => {
                    let redis = s
                        .labels()
                        .get("app.kubernetes.io/component")
                        .is_some_and(|c| c == "redis");
                    if redis {
                        obs.redis = Some(*s);
                    } else {
                        obs.postgres = Some(*s);
                    }
                }
                AppliedChild::CronJob(c) => obs.backup = Some(*c),
                AppliedChild::ServiceMonitorGone => obs.service_monitor_gone = true,
                AppliedChild::Other => {}
            }
        }
    }
    Ok(obs)
}

/// Result of applying one child: the workloads are kept for the status.
enum AppliedChild {
    Other,
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    CronJob(Box<CronJob>),
    /// The ServiceMonitor API is not served (any more): its CRD was removed after discovery.
    ServiceMonitorGone,
}

async fn apply_child(client: &Client, ns: &str, child: &Child) -> Result<AppliedChild> {
    let kind = child.kind().as_str();
    Ok(match child {
        Child::Secret(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::ConfigMap(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::PersistentVolumeClaim(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::Service(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::StatefulSet(o) => {
            AppliedChild::StatefulSet(Box::new(apply_one(client, ns, kind, o).await?))
        }
        Child::Deployment(o) => {
            AppliedChild::Deployment(Box::new(apply_one(client, ns, kind, o).await?))
        }
        Child::HorizontalPodAutoscaler(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::PodDisruptionBudget(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::NetworkPolicy(o) => {
            apply_one(client, ns, kind, o).await?;
            AppliedChild::Other
        }
        Child::CronJob(o) => AppliedChild::CronJob(Box::new(apply_one(client, ns, kind, o).await?)),
        Child::ServiceMonitor(o) => {
            let name = o.name_any();
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), ns, &build::service_monitor_resource());
            match api
                .patch(
                    &name,
                    &PatchParams::apply(FIELD_MANAGER).force(),
                    &Patch::Apply(o),
                )
                .await
            {
                Ok(_) => AppliedChild::Other,
                Err(e) if is_not_found(&e) => AppliedChild::ServiceMonitorGone,
                Err(e) => return Err(kube_err("apply", kind, &name)(e)),
            }
        }
    })
}

async fn delete_owned<K>(
    client: &Client,
    v: &Validated,
    name: &str,
    kind: &'static str,
) -> Result<bool>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), &v.namespace);
    let Some(existing) = api
        .get_opt(name)
        .await
        .map_err(kube_err("get", kind, name))?
    else {
        return Ok(false);
    };
    let owned = existing
        .owner_references()
        .iter()
        .any(|o| o.uid == v.uid && o.controller == Some(true));
    if !owned {
        return Ok(false);
    }
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: existing.uid(),
            resource_version: None,
        }),
        ..DeleteParams::background()
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(kube_err("delete", kind, name)(e)),
    }
}

/// Prune: delete children the spec no longer wants (only those this object controls).
pub async fn prune(client: &Client, v: &Validated, unwanted: &[ChildRef]) -> Result<Vec<ChildRef>> {
    let mut deleted = Vec::new();
    for r in unwanted {
        let kind = r.kind.as_str();
        let done = match r.kind {
            ChildKind::StatefulSet => delete_owned::<StatefulSet>(client, v, &r.name, kind).await?,
            ChildKind::Service => delete_owned::<Service>(client, v, &r.name, kind).await?,
            ChildKind::HorizontalPodAutoscaler => {
                delete_owned::<HorizontalPodAutoscaler>(client, v, &r.name, kind).await?
            }
            ChildKind::NetworkPolicy => {
                delete_owned::<NetworkPolicy>(client, v, &r.name, kind).await?
            }
            ChildKind::CronJob => delete_owned::<CronJob>(client, v, &r.name, kind).await?,
            ChildKind::PodDisruptionBudget => {
                delete_owned::<PodDisruptionBudget>(client, v, &r.name, kind).await?
            }
            ChildKind::PersistentVolumeClaim => {
                delete_owned::<PersistentVolumeClaim>(client, v, &r.name, kind).await?
            }
            ChildKind::Secret => delete_owned::<Secret>(client, v, &r.name, kind).await?,
            ChildKind::ConfigMap => delete_owned::<ConfigMap>(client, v, &r.name, kind).await?,
            ChildKind::Deployment => delete_owned::<Deployment>(client, v, &r.name, kind).await?,
            ChildKind::ServiceMonitor => {
                let api: Api<DynamicObject> = Api::namespaced_with(
                    client.clone(),
                    &v.namespace,
                    &build::service_monitor_resource(),
                );
                match api.get_opt(&r.name).await {
                    Ok(Some(o)) if o.owner_references().iter().any(|o| o.uid == v.uid) => {
                        match api.delete(&r.name, &DeleteParams::background()).await {
                            Ok(_) => true,
                            Err(e) if is_not_found(&e) => false,
                            Err(e) => return Err(kube_err("delete", kind, &r.name)(e)),
                        }
                    }
                    Ok(_) => false,
                    Err(e) if is_not_found(&e) => false,
                    Err(e) => return Err(kube_err("get", kind, &r.name)(e)),
                }
            }
        };
        if done {
            info!(kind, name = %r.name, "deleted unwanted child");
            deleted.push(r.clone());
        }
    }
    Ok(deleted)
}

/// Status: server-side apply of the status subresource under the operator's field manager.
pub async fn write_status(
    client: &Client,
    obj: &KcmfDeployment,
    st: KcmfDeploymentStatus,
) -> Result<()> {
    let ns = obj.namespace().ok_or(Error::MissingMetadata("namespace"))?;
    let name = obj.name_any();
    let api: Api<KcmfDeployment> = Api::namespaced(client.clone(), &ns);
    let patch = json!({
        "apiVersion": "kcmf.io/v1alpha1",
        "kind": "KcmfDeployment",
        "status": st,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(kube_err("apply status", "KcmfDeployment", &name))?;
    Ok(())
}

/// The KcmfDeployment a backup or restore Job, or a pod of one, belongs to (its
/// `app.kubernetes.io/instance` label).
fn job_owner<K: Resource>(o: K) -> Option<ObjectRef<KcmfDeployment>> {
    let labels = o.labels();
    let component = labels.get("app.kubernetes.io/component")?;
    if component != "backup" && component != "restore" {
        return None;
    }
    let name = labels.get("app.kubernetes.io/instance")?;
    let ns = o.namespace()?;
    Some(ObjectRef::new(name).within(&ns))
}

/// Run the controller until shutdown (SIGTERM / ctrl-c) or `stop` resolves.
pub async fn run(
    client: Client,
    watch_namespace: Option<String>,
    instance: Option<String>,
    stop: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let scoped = ScopedApi {
        client: &client,
        namespace: watch_namespace.as_deref(),
    };
    let (api, jobs, pods) = (
        scoped.api::<KcmfDeployment>(),
        scoped.api::<Job>(),
        scoped.api::<Pod>(),
    );
    // Only the pods of backup and restore Jobs: their termination messages name the sets.
    let job_pods = watcher::Config::default()
        .labels(&format!(
            "{}={},app.kubernetes.io/component in (backup,restore)",
            build::MANAGED_BY.0,
            build::MANAGED_BY.1
        ))
        .any_semantic();
    let owned = watcher::Config::default()
        .labels(&format!("{}={}", build::MANAGED_BY.0, build::MANAGED_BY.1))
        .any_semantic();
    // User Secrets the workloads read (LLM key, external URLs, passwords): a change must
    // roll the pods now, not at the next resync. Metadata only (no Secret data is held);
    // a changed resourceVersion is the trigger, mapped to the objects that reference it.
    let secrets = scoped.api::<PartialObjectMeta<Secret>>();
    // The child watches also fill reflector stores that `observe` reads.
    let (deploy_store, deploy_events) = stored_watch(scoped.api::<Deployment>(), &owned);
    let (sts_store, sts_events) = stored_watch(scoped.api::<StatefulSet>(), &owned);
    let (cj_store, cj_events) = stored_watch(scoped.api::<CronJob>(), &owned);
    let ctx = Arc::new(Context::new(client, instance).with_workloads(Workloads {
        deployments: Some(deploy_store),
        stateful_sets: Some(sts_store),
        cron_jobs: Some(cj_store),
    }));
    info!(namespace = ?watch_namespace, "starting controller");
    let controller = Controller::new(api, watcher::Config::default().any_semantic());
    let objects = controller.store();
    controller
        // Debounce merges the bursts of child status changes (pods becoming ready) into one
        // reconcile; bounded concurrency keeps the peak (and, as the allocator keeps what
        // it had, the idle) memory low: the API server is the bottleneck long before 16
        // reconciles in flight are.
        .with_config(
            ControllerConfig::default()
                .debounce(Duration::from_millis(500))
                .concurrency(16),
        )
        .owns_stream(deploy_events)
        .owns_stream(sts_events)
        .owns_stream(cj_events)
        // Backup Jobs are owned by the CronJob, not by the KcmfDeployment: map them back
        // through the instance label (manual runs do not touch the CronJob's status); restore
        // Jobs and the pods of both the same way.
        .watches(jobs, owned, job_owner::<Job>)
        .watches(pods, job_pods, job_owner::<Pod>)
        .watches(
            secrets,
            watcher::Config::default().any_semantic(),
            move |s| {
                let (ns, name) = (s.namespace(), s.name_any());
                objects
                    .state()
                    .into_iter()
                    .filter(|o| o.namespace() == ns)
                    .filter(|o| {
                        validate::validate(o).is_ok_and(|v| build::references_secret(&v, &name))
                    })
                    .map(|o| ObjectRef::from_obj(&*o))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(stop)
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            match res {
                Ok((o, _)) => debug!(object = %o.name, "reconciled"),
                Err(e) => debug!(error = %e, "reconcile loop"),
            }
        })
        .await;
    info!("controller stopped");
}
