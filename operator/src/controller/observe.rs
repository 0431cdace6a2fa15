//! Observe: the workloads the status is computed from (from the controller's reflector stores
//! when they hold them, so an unchanged object costs no request), and the backup and restore
//! Jobs with their pods (whose termination messages name the sets).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::{Context, kube_err};
use crate::Result;
use crate::build;
use crate::status::Observed;
use crate::validate::Validated;

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

pub(super) fn workload_generations(obs: &Observed) -> BTreeMap<String, Option<i64>> {
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
