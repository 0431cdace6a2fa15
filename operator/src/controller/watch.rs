//! The controller: the KcmfDeployment watch, the child watches (which also fill the reflector
//! stores [`super::observe`] reads), the Job, pod and Secret watches mapped back to their
//! KcmfDeployment, and graceful shutdown.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, PartialObjectMeta};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tracing::{debug, info};

use super::{Context, Workloads, error_policy, reconcile};
use crate::crd::KcmfDeployment;
use crate::validate::{self, DefaultImages};
use crate::{build, metrics};

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

/// Run the controller until shutdown (SIGTERM / ctrl-c) or `stop` resolves. `objects`
/// receives the controller's store of KcmfDeployments (their per-object metrics).
pub async fn run(
    client: Client,
    watch_namespace: Option<String>,
    instance: Option<String>,
    images: DefaultImages,
    objects: metrics::Objects,
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
    let ctx = Arc::new(
        Context::new(client, instance)
            .with_images(images)
            .with_workloads(Workloads {
                deployments: Some(deploy_store),
                stateful_sets: Some(sts_store),
                cron_jobs: Some(cj_store),
            }),
    );
    info!(namespace = ?watch_namespace, "starting controller");
    let controller = Controller::new(api, watcher::Config::default().any_semantic());
    let store = controller.store();
    *objects.write().unwrap_or_else(PoisonError::into_inner) = Some(store.clone());
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
                store
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
