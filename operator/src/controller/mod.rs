//! The reconcile loop, one step after another: validate → gather → build → apply → observe →
//! restore → prune → status, then the Events. [`reconcile`] wraps it with metrics, the
//! failure Event and the failure status; every error names the [`Step`] that failed.
//!
//! Layout: only these modules talk to the API server — [`gather`] (Secrets, ServiceMonitor and
//! PrometheusRule discovery), [`apply`] (server-side apply behind the fingerprint cache, prune, the status
//! write), [`observe`] (workloads, backup and restore Jobs and their pods), [`restore`] (the
//! restore Job), [`events`] (what happened, published once) and [`watch`] (the controller and
//! its watches). The steps between them are pure: [`crate::validate`], [`crate::build`],
//! [`crate::status`].

mod apply;
mod events;
#[cfg(test)]
mod fixtures;
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
use crate::validate::{self, DefaultImages, Validated};
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
    /// Which monitoring APIs are served, and when that was checked.
    monitoring: Mutex<Option<(Instant, MonitoringApis)>>,
    /// Job events published (`namespace/reason/job`) and when. The status decides which Jobs
    /// are news ([`status::backup_events`]); this guards against a reconcile that runs before
    /// the watch delivered this operator's own last status write and so sees an older status.
    job_events: Mutex<HashMap<String, Instant>>,
    /// The owned workloads as the controller's watches see them (empty in tests without a
    /// controller): [`observe`] reads them here instead of asking the API server.
    workloads: Workloads,
    /// The images of a spec that names none (the operator's `--*-image` flags).
    images: DefaultImages,
}

/// Which Prometheus Operator APIs (`monitoring.coreos.com/v1`) the cluster serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitoringApis {
    /// `servicemonitors`
    pub service_monitors: bool,
    /// `prometheusrules`
    pub prometheus_rules: bool,
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

/// How long a monitoring API discovery answer is reused.
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
            monitoring: Mutex::new(None),
            job_events: Mutex::new(HashMap::new()),
            workloads: Workloads::default(),
            images: DefaultImages::default(),
        }
    }

    /// Gives a spec that names no image these (see [`DefaultImages`]).
    pub fn with_images(mut self, images: DefaultImages) -> Self {
        self.images = images;
        self
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

    /// Which of the ServiceMonitor and PrometheusRule APIs `monitoring.coreos.com/v1`
    /// serves (one discovery call, cached for a minute).
    async fn monitoring_apis(&self) -> Result<MonitoringApis> {
        if let Ok(cache) = self.monitoring.lock()
            && let Some((at, apis)) = *cache
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(apis);
        }
        let apis = match self
            .client
            .list_api_group_resources("monitoring.coreos.com/v1")
            .await
        {
            Ok(list) => MonitoringApis {
                service_monitors: list.resources.iter().any(|r| r.name == "servicemonitors"),
                prometheus_rules: list.resources.iter().any(|r| r.name == "prometheusrules"),
            },
            Err(e) if is_not_found(&e) => MonitoringApis::default(),
            Err(e) => {
                return Err(kube_err(
                    "discover",
                    "monitoring.coreos.com/v1",
                    "servicemonitors, prometheusrules",
                )(e));
            }
        };
        if let Ok(mut cache) = self.monitoring.lock() {
            *cache = Some((Instant::now(), apis));
        }
        Ok(apis)
    }

    /// Forget the monitoring discovery answer (an API disappeared under us).
    fn forget_monitoring_apis(&self) {
        if let Ok(mut cache) = self.monitoring.lock() {
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
    match validate::validate_with(obj, &ctx.images) {
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

/// Reconcile decisions against the fake API server of [`fixtures`]: what one reconcile asks of
/// the API server, without a cluster.
#[cfg(test)]
mod tests {
    use super::fixtures::{Call, FakeApi, path};
    use super::*;
    use http::Method;
    use serde_json::{Value, json};

    const NS: &str = "ns";

    fn kcmf_path() -> String {
        path("kcmf.io/v1alpha1", NS, "kcmfdeployments", "demo")
    }

    /// Store a KcmfDeployment `demo` with `spec` and return the fake and a context on it.
    fn setup(spec: Value) -> (FakeApi, Arc<Context>) {
        let api = FakeApi::default();
        api.put(
            &kcmf_path(),
            json!({"apiVersion": "kcmf.io/v1alpha1", "kind": "KcmfDeployment",
                "metadata": {"name": "demo", "namespace": NS, "uid": "uid-demo", "generation": 1},
                "spec": spec}),
        );
        let ctx = Arc::new(Context::new(api.client(), None));
        (api, ctx)
    }

    /// One reconcile of the stored object; the requests it made.
    async fn reconcile_stored(api: &FakeApi, ctx: &Arc<Context>) -> Vec<Call> {
        api.take_calls();
        let obj = api.kcmf(NS, "demo");
        reconcile(Arc::new(obj), ctx.clone())
            .await
            .unwrap_or_else(|e| panic!("reconcile: {e}"));
        api.take_calls()
    }

    fn has(calls: &[Call], method: Method, suffix: &str) -> bool {
        calls
            .iter()
            .any(|c| c.method == method && c.path.ends_with(suffix))
    }

    /// Applies of children (not the status, not Events).
    fn child_applies(calls: &[Call]) -> Vec<&Call> {
        calls
            .iter()
            .filter(|c| c.method == Method::PATCH)
            .filter(|c| !c.path.ends_with("/status") && !c.path.contains("/events"))
            .collect()
    }

    /// Change the stored spec (a new generation).
    fn respec(api: &FakeApi, spec: Value) {
        api.edit(&kcmf_path(), |o| {
            o["spec"] = spec;
            o["metadata"]["generation"] = json!(2);
        });
    }

    #[tokio::test]
    async fn an_unchanged_object_is_not_applied_again_until_a_workload_is_edited() {
        let (api, ctx) = setup(json!({}));
        let first = reconcile_stored(&api, &ctx).await;
        assert!(has(&first, Method::PATCH, "/deployments/demo-matcher"));
        assert!(has(&first, Method::PATCH, "/kcmfdeployments/demo/status"));

        // Same spec, same desired objects, workloads as applied: read, never written.
        let second = reconcile_stored(&api, &ctx).await;
        assert_eq!(child_applies(&second), Vec::<&Call>::new());
        assert!(has(&second, Method::GET, "/deployments/demo-matcher"));

        // Someone edits the Deployment (its generation moves): the next reconcile applies.
        let deployment = path("apps/v1", NS, "deployments", "demo-matcher");
        api.edit(&deployment, |o| o["metadata"]["generation"] = json!(7));
        let third = reconcile_stored(&api, &ctx).await;
        assert!(has(&third, Method::PATCH, "/deployments/demo-matcher"));
    }

    #[tokio::test]
    async fn a_restore_starts_one_job_once_the_datastores_are_ready() {
        let (api, ctx) = setup(json!({
            "backup": {"schedule": "@daily"},
            "restore": {"set": "latest"},
        }));
        let jobs = path("batch/v1", NS, "jobs", "");
        let jobs = jobs.trim_end_matches('/');
        let created = |calls: &[Call]| {
            calls
                .iter()
                .filter(|c| c.method == Method::POST && c.path == jobs)
                .count()
        };

        // The StatefulSets have no ready pod yet: the request waits.
        let first = reconcile_stored(&api, &ctx).await;
        assert_eq!(created(&first), 0);
        let pending = api.kcmf(NS, "demo");
        let last = pending.status.and_then(|s| s.last_restore);
        assert!(last.is_some(), "the waiting request is in the status");

        for sts in ["demo-redis", "demo-postgres"] {
            api.edit(&path("apps/v1", NS, "statefulsets", sts), |o| {
                let generation = o["metadata"]["generation"].clone();
                o["status"] = json!({"replicas": 1, "readyReplicas": 1,
                    "observedGeneration": generation});
            });
        }
        let second = reconcile_stored(&api, &ctx).await;
        assert_eq!(created(&second), 1, "one restore Job");
        let job = api
            .kcmf(NS, "demo")
            .status
            .and_then(|s| s.last_restore)
            .map(|r| r.job)
            .unwrap_or_default();
        assert!(job.starts_with("demo-restore-"), "{job}");
        assert!(api.get(&format!("{jobs}/{job}")).is_some());

        // The same request again: the Job is followed, not created a second time.
        let third = reconcile_stored(&api, &ctx).await;
        assert_eq!(created(&third), 0);
        assert!(has(&third, Method::GET, &format!("/jobs/{job}")));
    }

    #[tokio::test]
    async fn a_spec_change_prunes_what_it_no_longer_wants_and_keeps_the_data() {
        let (api, ctx) = setup(json!({
            "matcher": {"autoscaling": {"minReplicas": 1, "maxReplicas": 3}},
        }));
        api.put(
            &path("v1", NS, "secrets", "redis-url"),
            json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "redis-url", "namespace": NS},
                "data": {"url": "cmVkaXM6Ly9yZWRpczo2Mzc5LzA="}}),
        );
        let first = reconcile_stored(&api, &ctx).await;
        assert!(has(&first, Method::PATCH, "/horizontalpodautoscalers/demo"));
        assert!(has(&first, Method::PATCH, "/statefulsets/demo-redis"));
        let policy = path(
            "networking.k8s.io/v1",
            NS,
            "networkpolicies",
            "demo-datastores",
        );
        let unchanged = reconcile_stored(&api, &ctx).await;
        assert!(!unchanged.iter().any(|c| c.method == Method::DELETE));

        respec(
            &api,
            json!({"redis": {"external": {"urlSecretRef": {"name": "redis-url", "key": "url"}}}}),
        );
        let second = reconcile_stored(&api, &ctx).await;
        assert!(has(
            &second,
            Method::DELETE,
            "/horizontalpodautoscalers/demo"
        ));
        assert!(has(&second, Method::DELETE, "/statefulsets/demo-redis"));
        assert!(has(&second, Method::DELETE, "/services/demo-redis"));
        assert!(
            !has(
                &second,
                Method::DELETE,
                "/persistentvolumeclaims/demo-redis-data"
            ),
            "switching to an external Redis keeps the data volume"
        );
        assert!(
            api.get(&path("apps/v1", NS, "statefulsets", "demo-redis"))
                .is_none()
        );
        assert!(
            api.get(&path("apps/v1", NS, "statefulsets", "demo-postgres"))
                .is_some()
        );
        assert!(
            api.get(&policy).is_some(),
            "PostgreSQL is still managed and guarded"
        );
    }

    #[tokio::test]
    async fn pruning_leaves_objects_of_other_owners() {
        let (api, ctx) = setup(json!({}));
        let hpa = path("autoscaling/v2", NS, "horizontalpodautoscalers", "demo");
        api.put(
            &hpa,
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "demo", "namespace": NS, "uid": "uid-other",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                        "name": "someone-else", "uid": "uid-other", "controller": true}]},
                "spec": {"maxReplicas": 2, "scaleTargetRef": {"kind": "Deployment", "name": "x"}}}),
        );
        let calls = reconcile_stored(&api, &ctx).await;
        assert!(has(&calls, Method::GET, "/horizontalpodautoscalers/demo"));
        assert!(!has(
            &calls,
            Method::DELETE,
            "/horizontalpodautoscalers/demo"
        ));
        assert!(api.get(&hpa).is_some());
    }

    /// Where `monitoring.coreos.com/v1` serves both kinds, the PrometheusRule is applied
    /// beside the ServiceMonitor (one discovery call) and pruned like it when the spec stops
    /// asking for it.
    #[tokio::test]
    async fn a_prometheus_rule_is_applied_where_served_and_pruned_when_unwanted() {
        let (api, ctx) = setup(json!({
            "monitoring": {"serviceMonitor": true, "prometheusRule": true},
        }));
        api.put(
            "/apis/monitoring.coreos.com/v1",
            json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": "monitoring.coreos.com/v1", "resources": [
                {"name": "servicemonitors", "singularName": "servicemonitor",
                    "namespaced": true, "kind": "ServiceMonitor", "verbs": ["get", "patch"]},
                {"name": "prometheusrules", "singularName": "prometheusrule",
                    "namespaced": true, "kind": "PrometheusRule", "verbs": ["get", "patch"]},
            ]}),
        );
        let rule = path("monitoring.coreos.com/v1", NS, "prometheusrules", "demo");
        let first = reconcile_stored(&api, &ctx).await;
        assert!(has(&first, Method::PATCH, "/servicemonitors/demo"));
        assert!(has(&first, Method::PATCH, "/prometheusrules/demo"));
        let discovery = first
            .iter()
            .filter(|c| c.path == "/apis/monitoring.coreos.com/v1")
            .count();
        assert_eq!(discovery, 1, "one discovery call for both kinds");
        let stored = api.get(&rule).expect("the PrometheusRule is stored");
        assert_eq!(
            stored["metadata"]["ownerReferences"][0]["uid"], "uid-demo",
            "{stored}"
        );
        assert!(
            stored["spec"]["groups"][0]["rules"][0]["expr"]
                .as_str()
                .is_some_and(|e| e.contains(r#"namespace="ns",job="demo-matcher""#)),
            "{stored}"
        );

        respec(&api, json!({"monitoring": {"serviceMonitor": true}}));
        let second = reconcile_stored(&api, &ctx).await;
        assert!(has(&second, Method::DELETE, "/prometheusrules/demo"));
        assert!(!has(&second, Method::DELETE, "/servicemonitors/demo"));
        assert!(api.get(&rule).is_none());
    }
}
