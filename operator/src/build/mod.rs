//! Build: pure functions from a [`Validated`] spec (plus resolved secret material) to the
//! desired child objects. No API calls, no clocks, no randomness (secret generation takes the
//! random source as an argument).
//!
//! Connection URLs: the passwords stay in Secrets and are composed into `DATABASE_URL` /
//! `REDIS_URL` by Kubernetes' dependent environment variables
//! (`postgres://kcmf:$(POSTGRES_PASSWORD)@<name>-postgres:5432/kcmf`), so no Secret holds a
//! derived copy of a password. Passwords must therefore be URL-safe: generated ones are
//! alphanumeric; user-provided ones are the user's responsibility (documented on the field).
//!
//! Layout: one file per child kind — [`matcher`] (Deployment, Service, HPA, PDB),
//! [`datastores`] (Redis, PostgreSQL, their PVCs and NetworkPolicy), [`backup`] (CronJob and
//! restore Job), [`monitoring`] (ServiceMonitor, PrometheusRule), [`config`] (ConfigMap and config hash),
//! [`secrets`] (the generated Secret); [`pod`] and [`meta`] hold what they share, [`names`]
//! the child names. This module assembles them into the [`Desired`] state.

pub mod backup;
pub mod config;
pub mod datastores;
pub mod matcher;
pub mod meta;
pub mod monitoring;
pub mod names;
pub mod pod;
pub mod secrets;
#[cfg(test)]
pub(crate) mod testing;

pub use backup::{RestoreRequest, backup_cronjob, restore_job, restore_request};
pub use config::{config_hash, config_map, config_yaml};
pub use datastores::{
    datastore_service, network_policy, postgres_statefulset, pvc, redis_statefulset,
};
pub use matcher::{hpa, matcher_deployment, matcher_service, pdb};
pub use meta::{labels, matcher_selector_string, matcher_url, selector_labels};
pub use monitoring::{
    prometheus_rule, prometheus_rule_resource, service_monitor, service_monitor_resource,
};
pub use pod::{datastore_env, restricted_container_security};
pub use secrets::{
    SecretInputs, fill_generated, generated_secret, keys, referenced_secret_keys,
    references_secret, required_generated_keys,
};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use sha2::{Digest, Sha256};

use crate::Result;
use crate::validate::{Datastore, Validated};

/// HTTP port of the matcher.
pub const HTTP_PORT: i32 = 8000;

/// Metrics port of the matcher.
pub const METRICS_PORT: i32 = 9090;

/// Redis port.
pub const REDIS_PORT: i32 = 6379;

/// PostgreSQL port.
pub const POSTGRES_PORT: i32 = 5432;

/// Database user and name of managed PostgreSQL.
pub const PG_USER: &str = "kcmf";

/// Pod template annotation carrying the hash of config and secrets.
pub const CONFIG_HASH_ANNOTATION: &str = "kcmf.io/config-hash";

/// Matcher pod template annotation naming the last successful restore Job: a new value rolls
/// the matcher pods, so state loaded at start is re-read from the restored store.
pub const RESTORED_ANNOTATION: &str = "kcmf.io/restored-by";

/// Restore Job annotation: the requested set.
pub const RESTORE_SET_ANNOTATION: &str = "kcmf.io/restore-set";

/// Restore Job annotation: the request id.
pub const RESTORE_ID_ANNOTATION: &str = "kcmf.io/restore-id";

/// Label every child carries; the operator's watches select on it.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kcmf-operator");

/// Kinds of children.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildKind {
    /// v1 Secret
    Secret,
    /// v1 ConfigMap
    ConfigMap,
    /// v1 PersistentVolumeClaim
    PersistentVolumeClaim,
    /// v1 Service
    Service,
    /// apps/v1 StatefulSet
    StatefulSet,
    /// apps/v1 Deployment
    Deployment,
    /// autoscaling/v2 HorizontalPodAutoscaler
    HorizontalPodAutoscaler,
    /// policy/v1 PodDisruptionBudget
    PodDisruptionBudget,
    /// networking.k8s.io/v1 NetworkPolicy
    NetworkPolicy,
    /// batch/v1 CronJob
    CronJob,
    /// monitoring.coreos.com/v1 ServiceMonitor
    ServiceMonitor,
    /// monitoring.coreos.com/v1 PrometheusRule
    PrometheusRule,
}

impl ChildKind {
    /// Kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "Secret",
            Self::ConfigMap => "ConfigMap",
            Self::PersistentVolumeClaim => "PersistentVolumeClaim",
            Self::Service => "Service",
            Self::StatefulSet => "StatefulSet",
            Self::Deployment => "Deployment",
            Self::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Self::PodDisruptionBudget => "PodDisruptionBudget",
            Self::NetworkPolicy => "NetworkPolicy",
            Self::CronJob => "CronJob",
            Self::ServiceMonitor => "ServiceMonitor",
            Self::PrometheusRule => "PrometheusRule",
        }
    }
}

/// A kind + name of a child the spec no longer wants.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChildRef {
    /// Kind.
    pub kind: ChildKind,
    /// Name (in the KcmfDeployment's namespace).
    pub name: String,
}

/// One desired child object.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Child {
    /// Secret
    Secret(Secret),
    /// ConfigMap
    ConfigMap(ConfigMap),
    /// PVC
    PersistentVolumeClaim(PersistentVolumeClaim),
    /// Service
    Service(Service),
    /// StatefulSet
    StatefulSet(StatefulSet),
    /// Deployment
    Deployment(Deployment),
    /// HPA
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    /// PDB
    PodDisruptionBudget(PodDisruptionBudget),
    /// NetworkPolicy
    NetworkPolicy(NetworkPolicy),
    /// CronJob
    CronJob(CronJob),
    /// ServiceMonitor (dynamic type; the CRD may be absent)
    ServiceMonitor(DynamicObject),
    /// PrometheusRule (dynamic type; the CRD may be absent)
    PrometheusRule(DynamicObject),
}

impl Child {
    /// Kind of this child.
    pub fn kind(&self) -> ChildKind {
        match self {
            Child::Secret(_) => ChildKind::Secret,
            Child::ConfigMap(_) => ChildKind::ConfigMap,
            Child::PersistentVolumeClaim(_) => ChildKind::PersistentVolumeClaim,
            Child::Service(_) => ChildKind::Service,
            Child::StatefulSet(_) => ChildKind::StatefulSet,
            Child::Deployment(_) => ChildKind::Deployment,
            Child::HorizontalPodAutoscaler(_) => ChildKind::HorizontalPodAutoscaler,
            Child::PodDisruptionBudget(_) => ChildKind::PodDisruptionBudget,
            Child::NetworkPolicy(_) => ChildKind::NetworkPolicy,
            Child::CronJob(_) => ChildKind::CronJob,
            Child::ServiceMonitor(_) => ChildKind::ServiceMonitor,
            Child::PrometheusRule(_) => ChildKind::PrometheusRule,
        }
    }

    /// Metadata of this child.
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Child::Secret(o) => &o.metadata,
            Child::ConfigMap(o) => &o.metadata,
            Child::PersistentVolumeClaim(o) => &o.metadata,
            Child::Service(o) => &o.metadata,
            Child::StatefulSet(o) => &o.metadata,
            Child::Deployment(o) => &o.metadata,
            Child::HorizontalPodAutoscaler(o) => &o.metadata,
            Child::PodDisruptionBudget(o) => &o.metadata,
            Child::NetworkPolicy(o) => &o.metadata,
            Child::CronJob(o) => &o.metadata,
            Child::ServiceMonitor(o) => &o.metadata,
            Child::PrometheusRule(o) => &o.metadata,
        }
    }

    /// Name of this child.
    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }
}

/// Everything `build` needs beyond the validated spec.
#[derive(Clone, Debug, Default)]
pub struct BuildInputs {
    /// Secret material.
    pub secrets: SecretInputs,
    /// Whether the ServiceMonitor CRD is served by the cluster.
    pub service_monitor_available: bool,
    /// Whether the PrometheusRule CRD is served by the cluster.
    pub prometheus_rule_available: bool,
    /// The last restore Job that succeeded (from `status.lastRestore`): put on the matcher pod
    /// template ([`RESTORED_ANNOTATION`]) so a successful restore restarts the matcher pods once.
    pub restored_by: Option<String>,
}

/// The desired state: objects to apply (in order) and children to delete.
#[derive(Clone, Debug)]
pub struct Desired {
    /// Objects to server-side apply, in dependency order.
    pub apply: Vec<Child>,
    /// Children the spec no longer wants.
    pub unwanted: Vec<ChildRef>,
    /// Hash of config and secrets put in the matcher pod template.
    pub config_hash: String,
}

/// Fingerprint of the desired objects (sha256 of their JSON), to recognise an unchanged
/// desired state between reconciles.
pub fn fingerprint(children: &[Child]) -> Result<String> {
    let mut h = Sha256::new();
    for c in children {
        let json = match c {
            Child::Secret(o) => serde_json::to_vec(o),
            Child::ConfigMap(o) => serde_json::to_vec(o),
            Child::PersistentVolumeClaim(o) => serde_json::to_vec(o),
            Child::Service(o) => serde_json::to_vec(o),
            Child::StatefulSet(o) => serde_json::to_vec(o),
            Child::Deployment(o) => serde_json::to_vec(o),
            Child::HorizontalPodAutoscaler(o) => serde_json::to_vec(o),
            Child::PodDisruptionBudget(o) => serde_json::to_vec(o),
            Child::NetworkPolicy(o) => serde_json::to_vec(o),
            Child::CronJob(o) => serde_json::to_vec(o),
            Child::ServiceMonitor(o) => serde_json::to_vec(o),
            Child::PrometheusRule(o) => serde_json::to_vec(o),
        }
        .map_err(|source| crate::Error::Serialize {
            what: "child",
            source,
        })?;
        h.update(&json);
        h.update(b"\0");
    }
    Ok(hex::encode(h.finalize()))
}

/// Build every desired child and the list of unwanted ones.
pub fn build(v: &Validated, inputs: &BuildInputs) -> Result<Desired> {
    let config_yaml = config_yaml(v)?;
    let hash = config_hash(&config_yaml, &inputs.secrets);
    let mut apply = vec![
        Child::Secret(generated_secret(v, &inputs.secrets.generated)),
        Child::ConfigMap(config_map(v, config_yaml)),
    ];
    let mut unwanted = Vec::new();

    for (ds, component) in [(&v.redis, "redis"), (&v.postgres, "postgres")] {
        let (sts_name, pvc_name) = if component == "redis" {
            (names::redis(&v.name), names::redis_data(&v.name))
        } else {
            (names::postgres(&v.name), names::postgres_data(&v.name))
        };
        match ds {
            Datastore::Managed(m) => {
                apply.push(Child::PersistentVolumeClaim(pvc(
                    v,
                    pvc_name,
                    component,
                    &m.storage_size,
                    m.storage_class_name.as_deref(),
                )));
                apply.push(Child::Service(datastore_service(v, component)));
                apply.push(Child::StatefulSet(if component == "redis" {
                    redis_statefulset(v, m)
                } else {
                    postgres_statefulset(v, m)
                }));
            }
            // The data PVC of a formerly managed datastore is kept (it is garbage-collected
            // with the KcmfDeployment): switching to external must not destroy data.
            Datastore::External(_) => {
                unwanted.push(ChildRef {
                    kind: ChildKind::StatefulSet,
                    name: sts_name.clone(),
                });
                unwanted.push(ChildRef {
                    kind: ChildKind::Service,
                    name: sts_name,
                });
            }
        }
    }

    apply.push(Child::Service(matcher_service(v)));
    apply.push(Child::Deployment(matcher_deployment(
        v,
        &hash,
        inputs.restored_by.as_deref(),
    )));

    match &v.matcher.autoscaling {
        Some(a) => apply.push(Child::HorizontalPodAutoscaler(hpa(v, a))),
        None => unwanted.push(ChildRef {
            kind: ChildKind::HorizontalPodAutoscaler,
            name: names::hpa(&v.name),
        }),
    }
    apply.push(Child::PodDisruptionBudget(pdb(v)));
    match network_policy(v) {
        Some(np) => apply.push(Child::NetworkPolicy(np)),
        None => unwanted.push(ChildRef {
            kind: ChildKind::NetworkPolicy,
            name: names::datastores_policy(&v.name),
        }),
    }
    match &v.backup {
        Some(b) => {
            apply.push(Child::PersistentVolumeClaim(pvc(
                v,
                names::backups_pvc(&v.name),
                "backup",
                &b.storage_size,
                b.storage_class_name.as_deref(),
            )));
            apply.push(Child::CronJob(backup_cronjob(v, b, &hash)));
        }
        // The backup PVC is kept: removing the schedule must not delete existing backups.
        None => unwanted.push(ChildRef {
            kind: ChildKind::CronJob,
            name: names::backup(&v.name),
        }),
    }
    if inputs.service_monitor_available {
        if v.service_monitor {
            apply.push(Child::ServiceMonitor(service_monitor(v)));
        } else {
            unwanted.push(ChildRef {
                kind: ChildKind::ServiceMonitor,
                name: names::service_monitor(&v.name),
            });
        }
    }
    if inputs.prometheus_rule_available {
        if v.prometheus_rule {
            apply.push(Child::PrometheusRule(prometheus_rule(v)?));
        } else {
            unwanted.push(ChildRef {
                kind: ChildKind::PrometheusRule,
                name: names::prometheus_rule(&v.name),
            });
        }
    }
    Ok(Desired {
        apply,
        unwanted,
        config_hash: hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::*;

    use serde_json::json;

    #[test]
    fn default_spec_builds_every_child_with_owner_and_labels() {
        let (_, d) = desired(json!({}));
        let kinds: Vec<(ChildKind, &str)> = d.apply.iter().map(|c| (c.kind(), c.name())).collect();
        for want in [
            (ChildKind::Secret, "demo-generated"),
            (ChildKind::ConfigMap, "demo-config"),
            (ChildKind::Deployment, "demo-matcher"),
            (ChildKind::Service, "demo-matcher"),
            (ChildKind::StatefulSet, "demo-redis"),
            (ChildKind::Service, "demo-redis"),
            (ChildKind::PersistentVolumeClaim, "demo-redis-data"),
            (ChildKind::StatefulSet, "demo-postgres"),
            (ChildKind::Service, "demo-postgres"),
            (ChildKind::PersistentVolumeClaim, "demo-postgres-data"),
            (ChildKind::PodDisruptionBudget, "demo-matcher"),
            (ChildKind::NetworkPolicy, "demo-datastores"),
        ] {
            assert!(kinds.contains(&want), "missing {want:?} in {kinds:?}");
        }
        assert!(find(&d, ChildKind::HorizontalPodAutoscaler, "demo").is_none());
        assert!(find(&d, ChildKind::CronJob, "demo-backup").is_none());
        for c in &d.apply {
            let m = c.meta();
            assert_eq!(m.namespace.as_deref(), Some("ns"));
            let owners = m.owner_references.as_ref().unwrap();
            assert_eq!(owners.len(), 1);
            assert_eq!(owners[0].uid, "uid-1");
            assert_eq!(owners[0].kind, "KcmfDeployment");
            assert_eq!(owners[0].controller, Some(true));
            let l = m.labels.as_ref().unwrap();
            assert_eq!(l["app.kubernetes.io/name"], "kcmf");
            assert_eq!(l["app.kubernetes.io/instance"], "demo");
            assert_eq!(l["app.kubernetes.io/managed-by"], "kcmf-operator");
            assert!(l.contains_key("app.kubernetes.io/component"));
        }
        let mut unwanted: Vec<ChildKind> = d.unwanted.iter().map(|u| u.kind).collect();
        unwanted.sort();
        assert_eq!(
            unwanted,
            vec![ChildKind::HorizontalPodAutoscaler, ChildKind::CronJob]
        );
    }

    #[test]
    fn fingerprint_tracks_the_desired_objects() {
        let (_, a) = desired(json!({}));
        let (_, b) = desired(json!({}));
        assert_eq!(
            fingerprint(&a.apply).unwrap(),
            fingerprint(&b.apply).unwrap()
        );
        let (_, c) = desired(json!({"matcher": {"replicas": 2}}));
        assert_ne!(
            fingerprint(&a.apply).unwrap(),
            fingerprint(&c.apply).unwrap()
        );
    }
}
