//! Apply: server-side apply of the desired children under one field manager — skipped when
//! the desired objects are byte-identical to the last apply (the fingerprint, see
//! [`super::Applied`]) and nobody changed the workloads since — then pruning what the spec no
//! longer wants (only children this object controls, UID-preconditioned) and the status write.

use std::time::Instant;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::info;

use super::observe::{observe, workload_generations};
use super::{Applied, Context, RESYNC, is_not_found, kube_err};
use crate::build::{self, Child, ChildKind, ChildRef, Desired};
use crate::crd::{KcmfDeployment, KcmfDeploymentStatus};
use crate::status::Observed;
use crate::validate::Validated;
use crate::{Error, FIELD_MANAGER, Result};

/// Apply the desired children, or — when they are what the last apply wrote (same
/// fingerprint, within [`RESYNC`], the spec unchanged) and the workloads still have the
/// generations that apply produced — only read the workloads for the status.
pub(super) async fn apply_or_reuse(
    ctx: &Context,
    v: &Validated,
    desired: &Desired,
    spec_changed: bool,
) -> Result<Observed> {
    let fingerprint = build::fingerprint(&desired.apply)?;
    let cached = ctx
        .cached_apply(&v.uid)
        .filter(|a| !spec_changed && a.fingerprint == fingerprint && a.at.elapsed() < RESYNC);
    if let Some(a) = cached {
        let obs = observe(ctx, v).await?;
        if workload_generations(&obs) == a.generations {
            return Ok(obs);
        }
    }
    ctx.record_apply(&v.uid, None);
    let obs = apply(&ctx.client, &v.namespace, &desired.apply).await?;
    ctx.record_apply(
        &v.uid,
        Some(Applied {
            fingerprint,
            at: Instant::now(),
            generations: workload_generations(&obs),
        }),
    );
    if obs.monitoring_api_gone {
        info!(namespace = %v.namespace, name = %v.name, "a monitoring.coreos.com API is gone; skipped its object");
        ctx.forget_monitoring_apis();
    }
    Ok(obs)
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
                AppliedChild::MonitoringApiGone => obs.monitoring_api_gone = true,
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
    /// The ServiceMonitor or PrometheusRule API is not served (any more): its CRD was
    /// removed after discovery.
    MonitoringApiGone,
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
            apply_dynamic(client, ns, kind, o, &build::service_monitor_resource()).await?
        }
        Child::PrometheusRule(o) => {
            apply_dynamic(client, ns, kind, o, &build::prometheus_rule_resource()).await?
        }
    })
}

/// Server-side apply of a child of a CRD that may be absent (ServiceMonitor, PrometheusRule):
/// a 404 means its API went away after discovery, which skips it instead of failing.
async fn apply_dynamic(
    client: &Client,
    ns: &str,
    kind: &'static str,
    o: &DynamicObject,
    resource: &ApiResource,
) -> Result<AppliedChild> {
    let name = o.name_any();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, resource);
    match api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(o),
        )
        .await
    {
        Ok(_) => Ok(AppliedChild::Other),
        Err(e) if is_not_found(&e) => Ok(AppliedChild::MonitoringApiGone),
        Err(e) => Err(kube_err("apply", kind, &name)(e)),
    }
}

/// Delete a child of a CRD that may be absent, only if this object owns it; a 404 (object
/// or API gone) is nothing to delete.
async fn delete_owned_dynamic(
    client: &Client,
    v: &Validated,
    name: &str,
    kind: &'static str,
    resource: &ApiResource,
) -> Result<bool> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &v.namespace, resource);
    match api.get_opt(name).await {
        Ok(Some(o)) if o.owner_references().iter().any(|o| o.uid == v.uid) => {
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => Ok(true),
                Err(e) if is_not_found(&e) => Ok(false),
                Err(e) => Err(kube_err("delete", kind, name)(e)),
            }
        }
        Ok(_) => Ok(false),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(kube_err("get", kind, name)(e)),
    }
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
                let resource = build::service_monitor_resource();
                delete_owned_dynamic(client, v, &r.name, kind, &resource).await?
            }
            ChildKind::PrometheusRule => {
                let resource = build::prometheus_rule_resource();
                delete_owned_dynamic(client, v, &r.name, kind, &resource).await?
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
