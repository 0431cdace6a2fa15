//! Build: pure functions from a [`Validated`] spec (plus resolved secret material) to the
//! desired child objects. No API calls, no clocks, no randomness (secret generation takes the
//! random source as an argument).
//!
//! Connection URLs: the passwords stay in Secrets and are composed into `DATABASE_URL` /
//! `REDIS_URL` by Kubernetes' dependent environment variables
//! (`postgres://kcmf:$(POSTGRES_PASSWORD)@<name>-postgres:5432/kcmf`), so no Secret holds a
//! derived copy of a password. Passwords must therefore be URL-safe: generated ones are
//! alphanumeric; user-provided ones are the user's responsibility (documented on the field).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, ExecAction, HTTPGetAction, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, Secret, SecretKeySelector,
    SecurityContext, Service, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta, OwnerReference,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Result;
use crate::crd::{AutoscalingSpec, LastRestore, SecretKeyRef};
use crate::validate::{Backup, Datastore, Managed, Validated};

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

/// Keys of the generated Secret.
pub mod keys {
    /// Payload encryption secret of the matcher.
    pub const SECRET_KEY: &str = "SECRET_KEY";
    /// Comma-separated client API keys.
    pub const API_KEYS: &str = "VALID_API_KEYS";
    /// Password of managed PostgreSQL.
    pub const POSTGRES_PASSWORD: &str = "POSTGRES_PASSWORD";
    /// Password of managed Redis.
    pub const REDIS_PASSWORD: &str = "REDIS_PASSWORD";
}

/// Names of the children of one KcmfDeployment.
pub mod names {
    /// Generated Secret.
    pub fn secret(n: &str) -> String {
        format!("{n}-generated")
    }
    /// Matcher ConfigMap.
    pub fn config(n: &str) -> String {
        format!("{n}-config")
    }
    /// Matcher Deployment, Service and PodDisruptionBudget.
    pub fn matcher(n: &str) -> String {
        format!("{n}-matcher")
    }
    /// Redis StatefulSet and Service.
    pub fn redis(n: &str) -> String {
        format!("{n}-redis")
    }
    /// Redis data PVC.
    pub fn redis_data(n: &str) -> String {
        format!("{n}-redis-data")
    }
    /// PostgreSQL StatefulSet and Service.
    pub fn postgres(n: &str) -> String {
        format!("{n}-postgres")
    }
    /// PostgreSQL data PVC.
    pub fn postgres_data(n: &str) -> String {
        format!("{n}-postgres-data")
    }
    /// Backup CronJob.
    pub fn backup(n: &str) -> String {
        format!("{n}-backup")
    }
    /// Backup PVC.
    pub fn backups_pvc(n: &str) -> String {
        format!("{n}-backups")
    }
    /// NetworkPolicy guarding the datastores.
    pub fn datastores_policy(n: &str) -> String {
        format!("{n}-datastores")
    }
    /// HorizontalPodAutoscaler (named as the KcmfDeployment it scales).
    pub fn hpa(n: &str) -> String {
        n.to_string()
    }
    /// ServiceMonitor (named as the KcmfDeployment it scrapes).
    pub fn service_monitor(n: &str) -> String {
        n.to_string()
    }
    /// Restore Job of one request: `<name>-restore-<10 hex digits of sha256(set, id, the
    /// previous restore Job)>`, at most 59 characters (names are at most 40), so it fits the
    /// 63 of the `job-name` pod label. See [`super::restore_request`] for why the previous
    /// Job is part of it.
    pub fn restore_job(n: &str, set: &str, id: Option<&str>, after: Option<&str>) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [set, id.unwrap_or_default(), after.unwrap_or_default()] {
            h.update(part.as_bytes());
            h.update(b"\0");
        }
        format!("{n}-restore-{}", &hex::encode(h.finalize())[..10])
    }
}

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
        }
    }

    /// Name of this child.
    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }
}

/// Secret material gathered from the cluster and completed before building.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretInputs {
    /// Full data of the `<name>-generated` Secret: the existing keys plus freshly generated
    /// ones for keys that were missing. Existing values are never replaced.
    pub generated: BTreeMap<String, String>,
    /// Values of user-referenced secret keys that the matcher uses, keyed `secret/key`
    /// (only hashed into the pod template, never written anywhere).
    pub referenced: BTreeMap<String, String>,
}

/// Everything `build` needs beyond the validated spec.
#[derive(Clone, Debug, Default)]
pub struct BuildInputs {
    /// Secret material.
    pub secrets: SecretInputs,
    /// Whether the ServiceMonitor CRD is served by the cluster.
    pub service_monitor_available: bool,
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

/// Keys the generated Secret must hold for this spec.
pub fn required_generated_keys(v: &Validated) -> Vec<&'static str> {
    let mut k = Vec::new();
    if v.matcher.secret_key_secret_ref.is_none() {
        k.push(keys::SECRET_KEY);
    }
    if v.matcher.api_keys_secret_ref.is_none() {
        k.push(keys::API_KEYS);
    }
    if let Datastore::Managed(m) = &v.postgres
        && m.password_secret_ref.is_none()
    {
        k.push(keys::POSTGRES_PASSWORD);
    }
    if let Datastore::Managed(m) = &v.redis
        && m.password_secret_ref.is_none()
    {
        k.push(keys::REDIS_PASSWORD);
    }
    k
}

/// User-provided secret keys the workloads read (hashed into the pod template).
pub fn referenced_secret_keys(v: &Validated) -> Vec<SecretKeyRef> {
    let m = &v.matcher;
    let mut refs: Vec<SecretKeyRef> = [
        m.secret_key_secret_ref.clone(),
        m.api_keys_secret_ref.clone(),
        m.llm.api_key_secret_ref.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for ds in [&v.redis, &v.postgres] {
        match ds {
            Datastore::Managed(m) => refs.extend(m.password_secret_ref.clone()),
            Datastore::External(e) => refs.push(e.url_secret_ref.clone()),
        }
    }
    refs
}

/// Whether the workloads read a key of the user's Secret `name` (in the object's
/// namespace): a change to it must roll them, so the operator watches Secrets.
pub fn references_secret(v: &Validated, name: &str) -> bool {
    referenced_secret_keys(v).iter().any(|r| r.name == name)
}

/// Complete the generated Secret's data: keep every existing key, generate the missing
/// required ones from `rng` (a CSPRNG in production).
pub fn fill_generated(
    existing: &BTreeMap<String, String>,
    required: &[&str],
    rng: &mut impl Rng,
) -> BTreeMap<String, String> {
    let mut out = existing.clone();
    for key in required {
        if !out.contains_key(*key) {
            let value = match *key {
                keys::API_KEYS => format!("kcmf_{}", random_alnum(rng, 40)),
                keys::SECRET_KEY => random_alnum(rng, 64),
                _ => random_alnum(rng, 32),
            };
            out.insert((*key).to_string(), value);
        }
    }
    out
}

fn random_alnum(rng: &mut impl Rng, len: usize) -> String {
    rng.sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Labels every child of `v` carries.
pub fn labels(v: &Validated, component: &str) -> BTreeMap<String, String> {
    let mut l = selector_labels(v, component);
    l.insert("app.kubernetes.io/part-of".into(), "kcmf".into());
    l.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
    l
}

/// Labels selecting the pods of one component.
pub fn selector_labels(v: &Validated, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), "kcmf".to_string()),
        ("app.kubernetes.io/instance".to_string(), v.name.clone()),
        (
            "app.kubernetes.io/component".to_string(),
            component.to_string(),
        ),
    ])
}

/// The matcher pods' selector as a string (status `selector`, used by `/scale`).
pub fn matcher_selector_string(v: &Validated) -> String {
    selector_labels(v, "matcher")
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// In-cluster URL of the matcher Service.
pub fn matcher_url(v: &Validated) -> String {
    format!(
        "http://{}.{}.svc:{HTTP_PORT}",
        names::matcher(&v.name),
        v.namespace
    )
}

fn owner_reference(v: &Validated) -> OwnerReference {
    OwnerReference {
        api_version: "kcmf.io/v1alpha1".into(),
        kind: "KcmfDeployment".into(),
        name: v.name.clone(),
        uid: v.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn meta(v: &Validated, name: String, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(v.namespace.clone()),
        labels: Some(labels(v, component)),
        owner_references: Some(vec![owner_reference(v)]),
        ..Default::default()
    }
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
    Ok(Desired {
        apply,
        unwanted,
        config_hash: hash,
    })
}

/// The matcher's `config.yaml`. Emits only keys the matcher knows (its sections deny unknown
/// keys); everything not set in the spec keeps the matcher's defaults.
pub fn config_yaml(v: &Validated) -> Result<String> {
    let m = &v.matcher;
    let c = &m.config;
    let mut app = serde_json::Map::new();
    app.insert("name".into(), json!(v.name));
    app.insert("env".into(), json!(c.env.unwrap_or_default().as_str()));
    app.insert("host".into(), json!("0.0.0.0"));
    app.insert("port".into(), json!(HTTP_PORT));
    if let Some(w) = c.workers {
        app.insert("workers".into(), json!(w));
    }
    if let Some(t) = c.timeout_seconds {
        app.insert("timeout".into(), json!(t));
    }
    if let Some(r) = c.rate_limit {
        app.insert("rate_limit".into(), json!(r));
    }
    if let Some(h) = &c.api_key_header {
        app.insert("api_key_header".into(), json!(h));
    }
    if !c.cors_origins.is_empty() {
        app.insert("cors_origins".into(), json!(c.cors_origins));
    }
    let mut llm = serde_json::Map::new();
    llm.insert("provider".into(), json!(m.llm.provider.as_str()));
    if let Some(model) = &m.llm.model {
        llm.insert("model".into(), json!(model));
    }
    if let Some(url) = &m.llm.base_url {
        llm.insert("base_url".into(), json!(url));
    }
    let mut cache = serde_json::Map::new();
    if let Some(e) = c.cache_enabled {
        cache.insert("enabled".into(), json!(e));
    }
    if let Some(t) = c.schema_cache_ttl_seconds {
        cache.insert("schema_ttl".into(), json!(t));
    }
    if let Some(t) = c.entity_cache_ttl_seconds {
        cache.insert("entity_ttl".into(), json!(t));
    }
    let mut matching = serde_json::Map::new();
    if let Some(t) = c.schema_threshold {
        matching.insert("schema_threshold".into(), json!(t));
    }
    if let Some(t) = c.entity_threshold {
        matching.insert("entity_threshold".into(), json!(t));
    }
    let mut monitoring = serde_json::Map::new();
    monitoring.insert("metrics_port".into(), json!(METRICS_PORT));
    monitoring.insert(
        "log_level".into(),
        json!(c.log_level.map(|l| l.as_str()).unwrap_or("info")),
    );
    monitoring.insert("log_format".into(), json!("json"));
    let doc = json!({
        "app": app,
        "llm": llm,
        "cache": cache,
        "database": { "data_dir": "/data" },
        "matching": matching,
        "monitoring": monitoring,
    });
    Ok(serde_yaml_ng::to_string(&doc)?)
}

/// Hash of everything the matcher pods read at start: config and secret values.
pub fn config_hash(config_yaml: &str, secrets: &SecretInputs) -> String {
    let mut h = Sha256::new();
    h.update(b"config.yaml\0");
    h.update(config_yaml.as_bytes());
    for (k, val) in secrets.generated.iter().chain(secrets.referenced.iter()) {
        h.update(b"\0");
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(val.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The `<name>-generated` Secret.
pub fn generated_secret(v: &Validated, data: &BTreeMap<String, String>) -> Secret {
    Secret {
        metadata: meta(v, names::secret(&v.name), "secrets"),
        type_: Some("Opaque".into()),
        data: Some(
            data.iter()
                .map(|(k, val)| (k.clone(), ByteString(val.as_bytes().to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}

/// The matcher ConfigMap.
pub fn config_map(v: &Validated, config_yaml: String) -> ConfigMap {
    ConfigMap {
        metadata: meta(v, names::config(&v.name), "matcher"),
        data: Some(BTreeMap::from([("config.yaml".to_string(), config_yaml)])),
        ..Default::default()
    }
}

fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn value_env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn secret_or_generated(v: &Validated, env: &str, r: Option<&SecretKeyRef>, key: &str) -> EnvVar {
    match r {
        Some(r) => secret_env(env, &r.name, &r.key),
        None => secret_env(env, &names::secret(&v.name), key),
    }
}

/// `DATABASE_URL` / `REDIS_URL` (and the password variables they are composed from).
pub fn datastore_env(v: &Validated) -> Vec<EnvVar> {
    let mut env = Vec::new();
    match &v.postgres {
        Datastore::Managed(m) => {
            env.push(secret_or_generated(
                v,
                "POSTGRES_PASSWORD",
                m.password_secret_ref.as_ref(),
                keys::POSTGRES_PASSWORD,
            ));
            env.push(value_env(
                "DATABASE_URL",
                format!(
                    "postgres://{PG_USER}:$(POSTGRES_PASSWORD)@{}:{POSTGRES_PORT}/{PG_USER}",
                    names::postgres(&v.name)
                ),
            ));
        }
        Datastore::External(e) => env.push(secret_env(
            "DATABASE_URL",
            &e.url_secret_ref.name,
            &e.url_secret_ref.key,
        )),
    }
    match &v.redis {
        Datastore::Managed(m) => {
            env.push(secret_or_generated(
                v,
                "REDIS_PASSWORD",
                m.password_secret_ref.as_ref(),
                keys::REDIS_PASSWORD,
            ));
            env.push(value_env(
                "REDIS_URL",
                format!(
                    "redis://:$(REDIS_PASSWORD)@{}:{REDIS_PORT}/0",
                    names::redis(&v.name)
                ),
            ));
        }
        Datastore::External(e) => env.push(secret_env(
            "REDIS_URL",
            &e.url_secret_ref.name,
            &e.url_secret_ref.key,
        )),
    }
    env
}

fn matcher_env(v: &Validated) -> Vec<EnvVar> {
    let m = &v.matcher;
    let mut env = vec![
        secret_or_generated(
            v,
            "SECRET_KEY",
            m.secret_key_secret_ref.as_ref(),
            keys::SECRET_KEY,
        ),
        secret_or_generated(
            v,
            "VALID_API_KEYS",
            m.api_keys_secret_ref.as_ref(),
            keys::API_KEYS,
        ),
    ];
    if let Some(r) = &m.llm.api_key_secret_ref {
        env.push(secret_env("OPENAI_API_KEY", &r.name, &r.key));
    }
    env.extend(datastore_env(v));
    env.push(value_env("KCMF_DATA_DIR", "/data"));
    env.extend(m.env.iter().cloned());
    env
}

/// Container security context: non-root, read-only root, no capabilities, RuntimeDefault seccomp.
pub fn restricted_container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        seccomp_profile: Some(runtime_default()),
        ..Default::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        localhost_profile: None,
    }
}

fn pod_security(uid: i64, gid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        fs_group: Some(gid),
        seccomp_profile: Some(runtime_default()),
        ..Default::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

fn pvc_volume(name: &str, claim: String) -> Volume {
    Volume {
        name: name.into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim,
            read_only: None,
        }),
        ..Default::default()
    }
}

fn config_volume(v: &Validated) -> Volume {
    Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: names::config(&v.name),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

fn port(name: &str, p: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: p,
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, q)| (k.to_string(), Quantity(q.to_string())))
        .collect()
}

fn default_resources(cpu: &str, mem: &str, mem_limit: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(quantities(&[("cpu", cpu), ("memory", mem)])),
        limits: Some(quantities(&[("memory", mem_limit)])),
        ..Default::default()
    }
}

fn http_probe(path: &str, initial: i32, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(failures),
        ..Default::default()
    }
}

fn exec_probe(cmd: &[&str], initial: i32, period: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(cmd.iter().map(|s| s.to_string()).collect()),
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Default::default()
    }
}

/// The matcher Deployment. `restored_by` names the last successful restore Job (a new one
/// rolls the pods).
pub fn matcher_deployment(
    v: &Validated,
    config_hash: &str,
    restored_by: Option<&str>,
) -> Deployment {
    let mut annotations =
        BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_string(), config_hash.to_string())]);
    if let Some(job) = restored_by {
        annotations.insert(RESTORED_ANNOTATION.to_string(), job.to_string());
    }
    let m = &v.matcher;
    let container = Container {
        name: "matcher".into(),
        image: Some(m.image.clone()),
        image_pull_policy: m.image_pull_policy.map(|p| p.as_str().to_string()),
        command: Some(vec!["kcmf-matcher".into()]),
        args: Some(vec![
            "serve".into(),
            "--config".into(),
            "/etc/kcmf/config.yaml".into(),
        ]),
        ports: Some(vec![port("http", HTTP_PORT), port("metrics", METRICS_PORT)]),
        env: Some(matcher_env(v)),
        resources: Some(
            m.resources
                .clone()
                .unwrap_or_else(|| default_resources("100m", "256Mi", "1Gi")),
        ),
        liveness_probe: Some(http_probe("/health", 10, 10, 3)),
        readiness_probe: Some(http_probe("/ready", 2, 5, 3)),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![
            mount("config", "/etc/kcmf", true),
            mount("data", "/data", false),
            mount("tmp", "/tmp", false),
        ]),
        ..Default::default()
    };
    Deployment {
        metadata: meta(v, names::matcher(&v.name), "matcher"),
        spec: Some(DeploymentSpec {
            replicas: Some(m.replicas),
            selector: LabelSelector {
                match_labels: Some(selector_labels(v, "matcher")),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(v, "matcher")),
                    annotations: Some(annotations),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(10001, 10001)),
                    containers: vec![container],
                    volumes: Some(vec![config_volume(v), empty_dir("data"), empty_dir("tmp")]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn service_port(name: &str, p: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port: p,
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// The matcher Service (8000 http, 9090 metrics).
pub fn matcher_service(v: &Validated) -> Service {
    Service {
        metadata: meta(v, names::matcher(&v.name), "matcher"),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(v, "matcher")),
            ports: Some(vec![
                service_port("http", HTTP_PORT),
                service_port("metrics", METRICS_PORT),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Headless Service of a managed datastore (`redis` or `postgres`).
pub fn datastore_service(v: &Validated, component: &str) -> Service {
    let (name, p) = if component == "redis" {
        (names::redis(&v.name), REDIS_PORT)
    } else {
        (names::postgres(&v.name), POSTGRES_PORT)
    };
    Service {
        metadata: meta(v, name, component),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(selector_labels(v, component)),
            ports: Some(vec![service_port(component, p)]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A PersistentVolumeClaim owned by the KcmfDeployment.
pub fn pvc(
    v: &Validated,
    name: String,
    component: &str,
    size: &str,
    class: Option<&str>,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(v, name, component),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: class.map(str::to_string),
            resources: Some(VolumeResourceRequirements {
                requests: Some(quantities(&[("storage", size)])),
                limits: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn statefulset(
    v: &Validated,
    component: &str,
    container: Container,
    volumes: Vec<Volume>,
    security: PodSecurityContext,
) -> StatefulSet {
    let name = if component == "redis" {
        names::redis(&v.name)
    } else {
        names::postgres(&v.name)
    };
    StatefulSet {
        metadata: meta(v, name.clone(), component),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(name),
            selector: LabelSelector {
                match_labels: Some(selector_labels(v, component)),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(v, component)),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    security_context: Some(security),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Managed Redis: password from a Secret, AOF persistence on the data PVC.
pub fn redis_statefulset(v: &Validated, m: &Managed) -> StatefulSet {
    let container = Container {
        name: "redis".into(),
        image: Some(m.image.clone()),
        command: Some(vec!["redis-server".into()]),
        args: Some(
            [
                "--requirepass",
                "$(REDIS_PASSWORD)",
                "--appendonly",
                "yes",
                "--dir",
                "/data",
                "--port",
                "6379",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        env: Some(vec![secret_or_generated(
            v,
            "REDIS_PASSWORD",
            m.password_secret_ref.as_ref(),
            keys::REDIS_PASSWORD,
        )]),
        ports: Some(vec![port("redis", REDIS_PORT)]),
        resources: Some(
            m.resources
                .clone()
                .unwrap_or_else(|| default_resources("50m", "64Mi", "256Mi")),
        ),
        readiness_probe: Some(exec_probe(
            &[
                "sh",
                "-c",
                "redis-cli --no-auth-warning -a \"$REDIS_PASSWORD\" ping | grep -q PONG",
            ],
            2,
            5,
        )),
        liveness_probe: Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String("redis".into()),
                host: None,
            }),
            initial_delay_seconds: Some(10),
            period_seconds: Some(10),
            ..Default::default()
        }),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![
            mount("data", "/data", false),
            mount("tmp", "/tmp", false),
        ]),
        ..Default::default()
    };
    statefulset(
        v,
        "redis",
        container,
        vec![
            pvc_volume("data", names::redis_data(&v.name)),
            empty_dir("tmp"),
        ],
        // uid/gid of the redis user in the official alpine image
        pod_security(999, 1000),
    )
}

/// Managed PostgreSQL: readiness and liveness via `pg_isready`.
pub fn postgres_statefulset(v: &Validated, m: &Managed) -> StatefulSet {
    let pg_isready = [
        "pg_isready",
        "-U",
        PG_USER,
        "-d",
        PG_USER,
        "-h",
        "127.0.0.1",
        "-p",
        "5432",
    ];
    let container = Container {
        name: "postgres".into(),
        image: Some(m.image.clone()),
        env: Some(vec![
            value_env("POSTGRES_USER", PG_USER),
            value_env("POSTGRES_DB", PG_USER),
            secret_or_generated(
                v,
                "POSTGRES_PASSWORD",
                m.password_secret_ref.as_ref(),
                keys::POSTGRES_PASSWORD,
            ),
            value_env("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ]),
        ports: Some(vec![port("postgres", POSTGRES_PORT)]),
        resources: Some(
            m.resources
                .clone()
                .unwrap_or_else(|| default_resources("100m", "256Mi", "1Gi")),
        ),
        readiness_probe: Some(exec_probe(&pg_isready, 5, 5)),
        liveness_probe: Some(exec_probe(&pg_isready, 30, 15)),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![
            mount("data", "/var/lib/postgresql/data", false),
            mount("run", "/var/run/postgresql", false),
            mount("tmp", "/tmp", false),
        ]),
        ..Default::default()
    };
    statefulset(
        v,
        "postgres",
        container,
        vec![
            pvc_volume("data", names::postgres_data(&v.name)),
            empty_dir("run"),
            empty_dir("tmp"),
        ],
        // uid/gid of the postgres user in the official alpine image
        pod_security(70, 70),
    )
}

/// HPA scaling the KcmfDeployment through its `/scale` subresource, so the operator's
/// Deployment replicas and the HPA never fight.
pub fn hpa(v: &Validated, a: &AutoscalingSpec) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: meta(v, names::hpa(&v.name), "matcher"),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("kcmf.io/v1alpha1".into()),
                kind: "KcmfDeployment".into(),
                name: v.name.clone(),
            },
            min_replicas: Some(a.min_replicas),
            max_replicas: a.max_replicas,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(a.target_cpu_utilization_percentage),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            behavior: None,
        }),
        ..Default::default()
    }
}

/// PDB of the matcher: at most one pod voluntarily disrupted at a time.
pub fn pdb(v: &Validated) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(v, names::matcher(&v.name), "matcher"),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(selector_labels(v, "matcher")),
                match_expressions: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// NetworkPolicy: only this installation's matcher, backup and restore pods reach its managed
/// Redis and PostgreSQL. `None` when nothing is managed.
pub fn network_policy(v: &Validated) -> Option<NetworkPolicy> {
    let mut components = Vec::new();
    let mut ports = Vec::new();
    if v.redis.managed().is_some() {
        components.push("redis".to_string());
        ports.push(REDIS_PORT);
    }
    if v.postgres.managed().is_some() {
        components.push("postgres".to_string());
        ports.push(POSTGRES_PORT);
    }
    if components.is_empty() {
        return None;
    }
    let instance = |values: Vec<String>| LabelSelector {
        match_labels: Some(BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), "kcmf".to_string()),
            ("app.kubernetes.io/instance".to_string(), v.name.clone()),
        ])),
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "app.kubernetes.io/component".into(),
            operator: "In".into(),
            values: Some(values),
        }]),
    };
    Some(NetworkPolicy {
        metadata: meta(v, names::datastores_policy(&v.name), "datastores"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(instance(components)),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(instance(vec![
                        "matcher".into(),
                        "backup".into(),
                        "restore".into(),
                    ])),
                    ..Default::default()
                }]),
                ports: Some(
                    ports
                        .into_iter()
                        .map(|p| NetworkPolicyPort {
                            port: Some(IntOrString::Int(p)),
                            protocol: Some("TCP".into()),
                            end_port: None,
                        })
                        .collect(),
                ),
            }]),
            egress: None,
        }),
    })
}

/// Pod of a backup-volume Job (backup CronJob, restore Job): `kcmf-matcher ARGS --config ...`
/// in the matcher image, datastore URLs, the backups PVC at `/backups`, the restricted security
/// context. `extra_env` comes after the common variables.
fn backup_volume_pod(
    v: &Validated,
    component: &str,
    args: &[&str],
    extra_env: Vec<EnvVar>,
    restart_policy: &str,
    annotations: Option<BTreeMap<String, String>>,
) -> PodTemplateSpec {
    let mut env = datastore_env(v);
    env.push(value_env("KCMF_BACKUP_DIR", "/backups"));
    env.extend(extra_env);
    env.push(value_env("KCMF_DATA_DIR", "/data"));
    let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    argv.extend(["--config".to_string(), "/etc/kcmf/config.yaml".into()]);
    let container = Container {
        name: component.into(),
        image: Some(v.matcher.image.clone()),
        image_pull_policy: v.matcher.image_pull_policy.map(|p| p.as_str().to_string()),
        command: Some(vec!["kcmf-matcher".into()]),
        args: Some(argv),
        env: Some(env),
        resources: Some(default_resources("50m", "128Mi", "512Mi")),
        security_context: Some(restricted_container_security()),
        // The matcher writes a one-line JSON result to /dev/termination-log; when it dies
        // before that (e.g. a configuration error), the log tail is the message instead.
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        volume_mounts: Some(vec![
            mount("backups", "/backups", false),
            mount("config", "/etc/kcmf", true),
            mount("data", "/data", false),
            mount("tmp", "/tmp", false),
        ]),
        ..Default::default()
    };
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(v, component)),
            annotations,
            ..Default::default()
        }),
        spec: Some(PodSpec {
            restart_policy: Some(restart_policy.into()),
            automount_service_account_token: Some(false),
            security_context: Some(pod_security(10001, 10001)),
            containers: vec![container],
            volumes: Some(vec![
                pvc_volume("backups", names::backups_pvc(&v.name)),
                config_volume(v),
                empty_dir("data"),
                empty_dir("tmp"),
            ]),
            ..Default::default()
        }),
    }
}

/// The backup CronJob: `kcmf-matcher backup run` in the matcher image with the backups PVC
/// at `/backups`. Its job's contents are the matcher's; here it exists with the schedule,
/// suspend flag and volume.
pub fn backup_cronjob(v: &Validated, b: &Backup, config_hash: &str) -> CronJob {
    let mut env = vec![value_env(
        "KCMF_BACKUP_RETENTION_DAYS",
        b.retention_days.to_string(),
    )];
    if b.verify {
        env.push(value_env("KCMF_BACKUP_VERIFY", "true"));
    }
    let template = backup_volume_pod(
        v,
        "backup",
        &["backup", "run"],
        env,
        "OnFailure",
        Some(BTreeMap::from([(
            CONFIG_HASH_ANNOTATION.to_string(),
            config_hash.to_string(),
        )])),
    );
    CronJob {
        metadata: meta(v, names::backup(&v.name), "backup"),
        spec: Some(CronJobSpec {
            schedule: b.schedule.clone(),
            suspend: Some(b.suspend),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(v, "backup")),
                    ..Default::default()
                }),
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template,
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One restore request of `spec.restore`, with the name of its Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreRequest {
    /// Requested set.
    pub set: String,
    /// Request id.
    pub id: Option<String>,
    /// Name of the Job of this request ([`names::restore_job`]).
    pub job: String,
}

/// The restore request of the spec, if any, given the previous `status.lastRestore`.
///
/// The request is the pair (`set`, `id`). The request the previous status describes keeps its
/// Job name (started, or still waiting to start). A new request is named after the restore
/// Job before it: changing back to an earlier set or id is a new request with a new Job,
/// while every reconcile that reads the same previous status (also one that runs before the
/// watch delivered the operator's own last status write) computes the same name, so it finds
/// the Job already created instead of starting a second one.
pub fn restore_request(v: &Validated, prev: Option<&LastRestore>) -> Option<RestoreRequest> {
    let r = v.restore.as_ref()?;
    let job = match prev {
        Some(p) if p.set == r.set && p.id == r.id => p.job.clone(),
        Some(p) => names::restore_job(&v.name, &r.set, r.id.as_deref(), Some(&p.job)),
        None => names::restore_job(&v.name, &r.set, r.id.as_deref(), None),
    };
    Some(RestoreRequest {
        set: r.set.clone(),
        id: r.id.clone(),
        job,
    })
}

/// The restore Job of one request: `kcmf-matcher restore --from SET --yes` with the same
/// image, volumes, environment and security context as the backup CronJob's jobs. One
/// attempt (`backoffLimit: 0`, `restartPolicy: Never`): a failed restore is reported, and
/// retried only when the request changes. The Job is created once and never re-applied (its
/// pod template is immutable), so nothing in it may depend on state that changes later.
pub fn restore_job(v: &Validated, req: &RestoreRequest) -> Job {
    let mut annotations = BTreeMap::from([(RESTORE_SET_ANNOTATION.to_string(), req.set.clone())]);
    if let Some(id) = &req.id {
        annotations.insert(RESTORE_ID_ANNOTATION.to_string(), id.clone());
    }
    let mut metadata = meta(v, req.job.clone(), "restore");
    metadata.annotations = Some(annotations);
    Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            template: backup_volume_pod(
                v,
                "restore",
                &["restore", "--from", &req.set, "--yes"],
                Vec::new(),
                "Never",
                None,
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The ServiceMonitor API resource.
pub fn service_monitor_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor"),
        "servicemonitors",
    )
}

/// ServiceMonitor scraping the matcher's metrics port.
pub fn service_monitor(v: &Validated) -> DynamicObject {
    let mut o = DynamicObject::new(
        &names::service_monitor(&v.name),
        &service_monitor_resource(),
    );
    o.metadata = meta(v, names::service_monitor(&v.name), "matcher");
    o.data = json!({
        "spec": {
            "selector": { "matchLabels": selector_labels(v, "matcher") },
            "endpoints": [ { "port": "metrics", "path": "/metrics", "interval": "30s" } ],
        }
    });
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{KcmfDeployment, KcmfDeploymentSpec};
    use crate::validate::validate;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn v(json: serde_json::Value) -> Validated {
        let spec: KcmfDeploymentSpec = serde_json::from_value(json).unwrap();
        let mut o = KcmfDeployment::new("demo", spec);
        o.metadata.namespace = Some("ns".into());
        o.metadata.uid = Some("uid-1".into());
        o.metadata.generation = Some(1);
        validate(&o).unwrap()
    }

    fn inputs(v: &Validated) -> BuildInputs {
        let generated = fill_generated(
            &BTreeMap::new(),
            &required_generated_keys(v),
            &mut StdRng::seed_from_u64(7),
        );
        BuildInputs {
            secrets: SecretInputs {
                generated,
                referenced: BTreeMap::new(),
            },
            service_monitor_available: false,
            restored_by: None,
        }
    }

    fn desired(json: serde_json::Value) -> (Validated, Desired) {
        let v = v(json);
        let d = build(&v, &inputs(&v)).unwrap();
        (v, d)
    }

    #[test]
    fn secret_references_are_what_the_workloads_read() {
        let v = v(serde_json::json!({
            "matcher": {"llm": {"apiKeySecretRef": {"name": "llm-key", "key": "token"}}},
            "redis": {"external": {"urlSecretRef": {"name": "urls", "key": "redis"}}}
        }));
        assert!(references_secret(&v, "llm-key"));
        assert!(references_secret(&v, "urls"));
        // the generated Secret is the operator's own; other Secrets are not read
        assert!(!references_secret(&v, &names::secret("demo")));
        assert!(!references_secret(&v, "unrelated"));
    }

    fn find<'a>(d: &'a Desired, kind: ChildKind, name: &str) -> Option<&'a Child> {
        d.apply
            .iter()
            .find(|c| c.kind() == kind && c.name() == name)
    }

    fn deployment(d: &Desired) -> &Deployment {
        match find(d, ChildKind::Deployment, "demo-matcher") {
            Some(Child::Deployment(x)) => x,
            _ => panic!("no matcher deployment"),
        }
    }

    fn statefulset<'a>(d: &'a Desired, name: &str) -> Option<&'a StatefulSet> {
        match find(d, ChildKind::StatefulSet, name) {
            Some(Child::StatefulSet(x)) => Some(x),
            _ => None,
        }
    }

    fn env_of(c: &Container) -> BTreeMap<String, EnvVar> {
        c.env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.clone()))
            .collect()
    }

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
    fn matcher_deployment_is_hardened_and_probed() {
        let (_, d) = desired(json!({"matcher": {"replicas": 3}}));
        let dep = deployment(&d);
        let spec = dep.spec.as_ref().unwrap();
        assert_eq!(spec.replicas, Some(3));
        let pod = spec.template.spec.as_ref().unwrap();
        let psc = pod.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(
            psc.seccomp_profile.as_ref().unwrap().type_,
            "RuntimeDefault"
        );
        let c = &pod.containers[0];
        assert_eq!(c.image.as_deref(), Some("ghcr.io/kcmf/kcmf-matcher:0.1.0"));
        assert_eq!(
            c.args.as_ref().unwrap(),
            &vec![
                "serve".to_string(),
                "--config".into(),
                "/etc/kcmf/config.yaml".into()
            ]
        );
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop.as_ref().unwrap(),
            &vec!["ALL".to_string()]
        );
        assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
        let live = c
            .liveness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        assert_eq!(live.path.as_deref(), Some("/health"));
        let ready = c
            .readiness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap();
        assert_eq!(ready.path.as_deref(), Some("/ready"));
        let ports: Vec<i32> = c.ports.iter().flatten().map(|p| p.container_port).collect();
        assert_eq!(ports, vec![8000, 9090]);
        let mounts: Vec<&str> = c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert_eq!(mounts, vec!["/etc/kcmf", "/data", "/tmp"]);
        let env = env_of(c);
        assert_eq!(env["KCMF_DATA_DIR"].value.as_deref(), Some("/data"));
        assert_eq!(
            env["SECRET_KEY"]
                .value_from
                .as_ref()
                .unwrap()
                .secret_key_ref
                .as_ref()
                .unwrap()
                .name,
            "demo-generated"
        );
        assert_eq!(
            env["DATABASE_URL"].value.as_deref(),
            Some("postgres://kcmf:$(POSTGRES_PASSWORD)@demo-postgres:5432/kcmf")
        );
        assert_eq!(
            env["REDIS_URL"].value.as_deref(),
            Some("redis://:$(REDIS_PASSWORD)@demo-redis:6379/0")
        );
        // $(VAR) composition only works when the variable is defined earlier.
        let names: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("POSTGRES_PASSWORD") < pos("DATABASE_URL"));
        assert!(pos("REDIS_PASSWORD") < pos("REDIS_URL"));
        let annotations = spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap();
        assert_eq!(annotations[CONFIG_HASH_ANNOTATION], d.config_hash);
        let svc = match find(&d, ChildKind::Service, "demo-matcher") {
            Some(Child::Service(s)) => s,
            _ => panic!(),
        };
        let sp: Vec<i32> = svc
            .spec
            .as_ref()
            .unwrap()
            .ports
            .iter()
            .flatten()
            .map(|p| p.port)
            .collect();
        assert_eq!(sp, vec![8000, 9090]);
    }

    #[test]
    fn config_hash_follows_config_and_secrets_not_replicas() {
        let (_, a) = desired(json!({"matcher": {"replicas": 1}}));
        let (_, b) = desired(json!({"matcher": {"replicas": 4}}));
        assert_eq!(a.config_hash, b.config_hash);
        let (_, c) = desired(json!({"matcher": {"config": {"rateLimit": 10}}}));
        assert_ne!(a.config_hash, c.config_hash);
        let v = v(json!({}));
        let mut i = inputs(&v);
        let h1 = build(&v, &i).unwrap().config_hash;
        i.secrets.referenced.insert("user/key".into(), "x".into());
        assert_ne!(h1, build(&v, &i).unwrap().config_hash);
    }

    #[test]
    fn config_yaml_emits_only_known_keys() {
        let v = v(json!({"matcher": {
            "llm": {"provider": "openai", "model": "gpt-4o-mini", "baseUrl": "http://llm:8080/v1"},
            "config": {"env": "staging", "rateLimit": 100, "workers": 2, "timeoutSeconds": 30,
                       "apiKeyHeader": "X-Key", "corsOrigins": ["*"], "schemaThreshold": 0.7,
                       "entityThreshold": 0.9, "cacheEnabled": true, "schemaCacheTtlSeconds": 60,
                       "entityCacheTtlSeconds": 30, "logLevel": "debug"}}}));
        let y = config_yaml(&v).unwrap();
        let doc: serde_json::Value = serde_yaml_ng::from_str(&y).unwrap();
        let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
            (
                "app",
                &[
                    "name",
                    "env",
                    "host",
                    "port",
                    "workers",
                    "timeout",
                    "rate_limit",
                    "max_body_bytes",
                    "api_key_header",
                    "cors_origins",
                    "inprocess_workers",
                ][..],
            ),
            (
                "llm",
                &[
                    "provider",
                    "model",
                    "base_url",
                    "temperature",
                    "top_p",
                    "max_tokens",
                    "timeout",
                    "retry_attempts",
                    "model_path",
                ][..],
            ),
            (
                "cache",
                &["enabled", "schema_ttl", "entity_ttl", "max_size"][..],
            ),
            (
                "database",
                &["pool_size", "min_connections", "pool_timeout", "data_dir"][..],
            ),
            (
                "matching",
                &[
                    "schema_threshold",
                    "entity_threshold",
                    "batch_size",
                    "max_parallel",
                    "dedup_sync_limit",
                    "max_pairs",
                    "ensemble",
                    "demonstrations",
                ][..],
            ),
            (
                "monitoring",
                &["metrics_port", "log_level", "log_format"][..],
            ),
        ]);
        let top = doc.as_object().unwrap();
        for (section, body) in top {
            let keys = allowed
                .get(section.as_str())
                .unwrap_or_else(|| panic!("unknown section {section}"));
            for k in body.as_object().unwrap().keys() {
                assert!(keys.contains(&k.as_str()), "unknown key {section}.{k}");
            }
        }
        assert_eq!(doc["app"]["env"], "staging");
        assert_eq!(doc["app"]["port"], 8000);
        assert_eq!(doc["app"]["rate_limit"], 100);
        assert_eq!(doc["llm"]["provider"], "openai");
        assert_eq!(doc["llm"]["base_url"], "http://llm:8080/v1");
        assert_eq!(doc["matching"]["entity_threshold"], 0.9);
        assert_eq!(doc["cache"]["schema_ttl"], 60);
        assert_eq!(doc["monitoring"]["metrics_port"], 9090);
        assert_eq!(doc["monitoring"]["log_level"], "debug");
        assert_eq!(doc["database"]["data_dir"], "/data");
        // Deterministic: same spec, same bytes.
        assert_eq!(y, config_yaml(&v).unwrap());
    }

    #[test]
    fn generated_secrets_are_filled_once_and_never_replaced() {
        let v = v(json!({}));
        let req = required_generated_keys(&v);
        assert_eq!(
            req,
            vec![
                keys::SECRET_KEY,
                keys::API_KEYS,
                keys::POSTGRES_PASSWORD,
                keys::REDIS_PASSWORD
            ]
        );
        let first = fill_generated(&BTreeMap::new(), &req, &mut StdRng::seed_from_u64(1));
        assert_eq!(first.len(), 4);
        assert_eq!(first[keys::SECRET_KEY].len(), 64);
        assert!(first[keys::API_KEYS].starts_with("kcmf_"));
        assert!(first.values().all(|s| {
            s.trim_start_matches("kcmf_")
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        }));
        // A different random source must not change existing values.
        let again = fill_generated(&first, &req, &mut StdRng::seed_from_u64(2));
        assert_eq!(first, again);
        // Keys no longer required are kept too (switching to external keeps the old password).
        let mut partial = first.clone();
        partial.remove(keys::REDIS_PASSWORD);
        let refilled = fill_generated(&partial, &req[..2], &mut StdRng::seed_from_u64(3));
        assert_eq!(
            refilled.get(keys::POSTGRES_PASSWORD),
            first.get(keys::POSTGRES_PASSWORD)
        );
        assert!(!refilled.contains_key(keys::REDIS_PASSWORD));
        // Secret objects carry `data` only (stringData would make every apply a change).
        let s = generated_secret(&v, &first);
        assert!(s.string_data.is_none());
        assert_eq!(
            s.data.as_ref().unwrap()[keys::SECRET_KEY].0,
            first[keys::SECRET_KEY].as_bytes()
        );
    }

    #[test]
    fn user_secret_references_win() {
        let v = v(json!({
            "matcher": {
                "apiKeysSecretRef": {"name": "mine", "key": "keys"},
                "secretKeySecretRef": {"name": "mine", "key": "secret"},
                "llm": {"provider": "openai", "apiKeySecretRef": {"name": "llm", "key": "token"}}
            },
            "postgres": {"managed": {"passwordSecretRef": {"name": "pg", "key": "pw"}}}
        }));
        assert_eq!(required_generated_keys(&v), vec![keys::REDIS_PASSWORD]);
        let refs = referenced_secret_keys(&v);
        assert_eq!(refs.len(), 4);
        let d = build(&v, &inputs(&v)).unwrap();
        let c = &deployment(&d)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        let env = env_of(c);
        let sref = |n: &str| {
            env[n]
                .value_from
                .as_ref()
                .unwrap()
                .secret_key_ref
                .clone()
                .unwrap()
        };
        assert_eq!(
            (sref("VALID_API_KEYS").name, sref("VALID_API_KEYS").key),
            ("mine".into(), "keys".into())
        );
        assert_eq!(sref("SECRET_KEY").key, "secret");
        assert_eq!(sref("OPENAI_API_KEY").name, "llm");
        assert_eq!(sref("POSTGRES_PASSWORD").name, "pg");
        assert_eq!(sref("REDIS_PASSWORD").name, "demo-generated");
    }

    #[test]
    fn external_redis_drops_managed_redis() {
        let (_, d) =
            desired(json!({"redis": {"external": {"urlSecretRef": {"name": "r", "key": "url"}}}}));
        assert!(statefulset(&d, "demo-redis").is_none());
        assert!(find(&d, ChildKind::Service, "demo-redis").is_none());
        assert!(d.unwanted.contains(&ChildRef {
            kind: ChildKind::StatefulSet,
            name: "demo-redis".into()
        }));
        assert!(d.unwanted.contains(&ChildRef {
            kind: ChildKind::Service,
            name: "demo-redis".into()
        }));
        let c = &deployment(&d)
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        let env = env_of(c);
        assert!(!env.contains_key("REDIS_PASSWORD"));
        assert_eq!(
            env["REDIS_URL"]
                .value_from
                .as_ref()
                .unwrap()
                .secret_key_ref
                .as_ref()
                .unwrap()
                .name,
            "r"
        );
        let np = match find(&d, ChildKind::NetworkPolicy, "demo-datastores") {
            Some(Child::NetworkPolicy(n)) => n,
            _ => panic!(),
        };
        let sel = np.spec.as_ref().unwrap().pod_selector.as_ref().unwrap();
        assert_eq!(
            sel.match_expressions.as_ref().unwrap()[0].values,
            Some(vec!["postgres".to_string()])
        );
    }

    #[test]
    fn all_external_has_no_network_policy() {
        let (_, d) = desired(json!({
            "redis": {"external": {"urlSecretRef": {"name": "r", "key": "url"}}},
            "postgres": {"external": {"urlSecretRef": {"name": "p", "key": "url"}}}
        }));
        assert!(find(&d, ChildKind::NetworkPolicy, "demo-datastores").is_none());
        assert!(
            d.unwanted
                .iter()
                .any(|u| u.kind == ChildKind::NetworkPolicy)
        );
    }

    #[test]
    fn network_policy_admits_only_matcher_backup_and_restore() {
        let (_, d) = desired(json!({}));
        let np = match find(&d, ChildKind::NetworkPolicy, "demo-datastores") {
            Some(Child::NetworkPolicy(n)) => n,
            _ => panic!(),
        };
        let spec = np.spec.as_ref().unwrap();
        assert_eq!(spec.policy_types, Some(vec!["Ingress".to_string()]));
        let rule = &spec.ingress.as_ref().unwrap()[0];
        let from = rule.from.as_ref().unwrap()[0]
            .pod_selector
            .as_ref()
            .unwrap();
        assert_eq!(
            from.match_labels.as_ref().unwrap()["app.kubernetes.io/instance"],
            "demo"
        );
        assert_eq!(
            from.match_expressions.as_ref().unwrap()[0].values,
            Some(vec![
                "matcher".to_string(),
                "backup".to_string(),
                "restore".to_string()
            ])
        );
        let ports: Vec<_> = rule
            .ports
            .iter()
            .flatten()
            .map(|p| p.port.clone())
            .collect();
        assert_eq!(
            ports,
            vec![Some(IntOrString::Int(6379)), Some(IntOrString::Int(5432))]
        );
    }

    #[test]
    fn datastores_are_hardened_with_probes_and_pvcs() {
        let (_, d) = desired(
            json!({"postgres": {"managed": {"storageSize": "10Gi", "storageClassName": "fast"}}}),
        );
        let pg = statefulset(&d, "demo-postgres").unwrap();
        let pod = pg.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let c = &pod.containers[0];
        let cmd = c
            .readiness_probe
            .as_ref()
            .unwrap()
            .exec
            .as_ref()
            .unwrap()
            .command
            .clone()
            .unwrap();
        assert_eq!(cmd[0], "pg_isready");
        assert_eq!(
            c.security_context
                .as_ref()
                .unwrap()
                .read_only_root_filesystem,
            Some(true)
        );
        assert!(pod.volumes.iter().flatten().any(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|p| p.claim_name == "demo-postgres-data")
        }));
        let pvc = match find(&d, ChildKind::PersistentVolumeClaim, "demo-postgres-data") {
            Some(Child::PersistentVolumeClaim(p)) => p,
            _ => panic!(),
        };
        let ps = pvc.spec.as_ref().unwrap();
        assert_eq!(ps.storage_class_name.as_deref(), Some("fast"));
        assert_eq!(
            ps.resources.as_ref().unwrap().requests.as_ref().unwrap()["storage"].0,
            "10Gi"
        );
        let redis = statefulset(&d, "demo-redis").unwrap();
        let rc = &redis
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        let args = rc.args.clone().unwrap();
        assert!(
            args.windows(2)
                .any(|w| w == ["--requirepass", "$(REDIS_PASSWORD)"])
        );
        assert!(args.windows(2).any(|w| w == ["--appendonly", "yes"]));
        assert!(rc.readiness_probe.is_some() && rc.liveness_probe.is_some());
    }

    #[test]
    fn autoscaling_builds_hpa_on_the_scale_subresource() {
        let (_, d) =
            desired(json!({"matcher": {"autoscaling": {"minReplicas": 2, "maxReplicas": 5}}}));
        let h = match find(&d, ChildKind::HorizontalPodAutoscaler, "demo") {
            Some(Child::HorizontalPodAutoscaler(h)) => h,
            _ => panic!(),
        };
        let s = h.spec.as_ref().unwrap();
        assert_eq!(s.scale_target_ref.kind, "KcmfDeployment");
        assert_eq!(
            s.scale_target_ref.api_version.as_deref(),
            Some("kcmf.io/v1alpha1")
        );
        assert_eq!(s.min_replicas, Some(2));
        assert_eq!(s.max_replicas, 5);
        let m = &s.metrics.as_ref().unwrap()[0];
        assert_eq!(
            m.resource.as_ref().unwrap().target.average_utilization,
            Some(80)
        );
        assert!(
            !d.unwanted
                .iter()
                .any(|u| u.kind == ChildKind::HorizontalPodAutoscaler)
        );
    }

    #[test]
    fn backup_cronjob_has_schedule_suspend_and_volume() {
        let (_, d) = desired(
            json!({"backup": {"schedule": "0 3 * * *", "suspend": true, "retentionDays": 7}}),
        );
        let cj = match find(&d, ChildKind::CronJob, "demo-backup") {
            Some(Child::CronJob(c)) => c,
            _ => panic!(),
        };
        let s = cj.spec.as_ref().unwrap();
        assert_eq!(s.schedule, "0 3 * * *");
        assert_eq!(s.suspend, Some(true));
        let pod = s
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap();
        assert!(pod.volumes.iter().flatten().any(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|p| p.claim_name == "demo-backups")
        }));
        let c = &pod.containers[0];
        assert_eq!(
            c.args.as_ref().unwrap()[..2],
            ["backup".to_string(), "run".into()]
        );
        let env = env_of(c);
        assert_eq!(env["KCMF_BACKUP_DIR"].value.as_deref(), Some("/backups"));
        assert_eq!(
            env["KCMF_BACKUP_RETENTION_DAYS"].value.as_deref(),
            Some("7")
        );
        assert!(env.contains_key("DATABASE_URL") && env.contains_key("REDIS_URL"));
        assert!(!env.contains_key("KCMF_BACKUP_VERIFY"));
        let labels = s
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert_eq!(labels["app.kubernetes.io/component"], "backup");
        assert!(find(&d, ChildKind::PersistentVolumeClaim, "demo-backups").is_some());
    }

    #[test]
    fn backup_verify_sets_env() {
        let (_, d) = desired(json!({"backup": {"schedule": "@daily", "verify": true}}));
        let cj = match find(&d, ChildKind::CronJob, "demo-backup") {
            Some(Child::CronJob(c)) => c,
            _ => panic!(),
        };
        let pod = cj
            .spec
            .as_ref()
            .unwrap()
            .job_template
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap();
        let env = env_of(&pod.containers[0]);
        assert_eq!(env["KCMF_BACKUP_VERIFY"].value.as_deref(), Some("true"));
    }

    fn cronjob_pod(d: &Desired) -> PodSpec {
        match find(d, ChildKind::CronJob, "demo-backup") {
            Some(Child::CronJob(c)) => c
                .spec
                .clone()
                .unwrap()
                .job_template
                .spec
                .unwrap()
                .template
                .spec
                .unwrap(),
            _ => panic!("no backup CronJob"),
        }
    }

    #[test]
    fn restore_job_runs_restore_with_the_backup_pod_setup() {
        let (v, d) = desired(json!({
            "backup": {"schedule": "@daily", "retentionDays": 7, "verify": true},
            "restore": {"set": "20261128T030000Z", "id": "retry-1"}
        }));
        // The restore Job is not a child applied on every reconcile: it is created once.
        assert!(d.apply.iter().all(|c| !c.name().contains("restore")));
        let req = restore_request(&v, None).unwrap();
        assert_eq!(req.set, "20261128T030000Z");
        assert_eq!(req.id.as_deref(), Some("retry-1"));
        assert_eq!(
            req.job,
            names::restore_job("demo", "20261128T030000Z", Some("retry-1"), None)
        );
        let job = restore_job(&v, &req);
        let m = &job.metadata;
        assert_eq!(m.name.as_deref(), Some(req.job.as_str()));
        assert_eq!(m.namespace.as_deref(), Some("ns"));
        let owner = &m.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.uid.as_str(), owner.controller),
            ("uid-1", Some(true))
        );
        assert_eq!(
            m.labels.as_ref().unwrap()["app.kubernetes.io/component"],
            "restore"
        );
        let ann = m.annotations.as_ref().unwrap();
        assert_eq!(ann[RESTORE_SET_ANNOTATION], "20261128T030000Z");
        assert_eq!(ann[RESTORE_ID_ANNOTATION], "retry-1");
        let spec = job.spec.as_ref().unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(
            spec.template
                .metadata
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap()["app.kubernetes.io/component"],
            "restore"
        );
        let c = &pod.containers[0];
        assert_eq!(c.name, "restore");
        assert_eq!(c.command, Some(vec!["kcmf-matcher".to_string()]));
        assert_eq!(
            c.args.clone().unwrap(),
            [
                "restore",
                "--from",
                "20261128T030000Z",
                "--yes",
                "--config",
                "/etc/kcmf/config.yaml"
            ]
        );
        assert_eq!(
            c.termination_message_policy.as_deref(),
            Some("FallbackToLogsOnError")
        );
        // Same volumes, mounts, security context and datastore environment as the backup
        // CronJob's pods; no retention or drill settings.
        let backup = cronjob_pod(&d);
        let bc = &backup.containers[0];
        assert_eq!(pod.volumes, backup.volumes);
        assert_eq!(pod.security_context, backup.security_context);
        assert_eq!(
            pod.automount_service_account_token,
            backup.automount_service_account_token
        );
        assert_eq!(c.volume_mounts, bc.volume_mounts);
        assert_eq!(c.security_context, bc.security_context);
        assert_eq!(c.image, bc.image);
        let (renv, benv) = (env_of(c), env_of(bc));
        for k in [
            "DATABASE_URL",
            "REDIS_URL",
            "POSTGRES_PASSWORD",
            "REDIS_PASSWORD",
            "KCMF_BACKUP_DIR",
            "KCMF_DATA_DIR",
        ] {
            assert_eq!(renv.get(k), benv.get(k), "{k}");
        }
        assert!(!renv.contains_key("KCMF_BACKUP_RETENTION_DAYS"));
        assert!(!renv.contains_key("KCMF_BACKUP_VERIFY"));
        // $(VAR) composition only works when the variable is defined earlier.
        let names: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("POSTGRES_PASSWORD") < pos("DATABASE_URL"));
        // Deterministic: same request, same Job.
        assert_eq!(
            serde_json::to_value(&job).unwrap(),
            serde_json::to_value(restore_job(&v, &req)).unwrap()
        );
    }

    #[test]
    fn restore_job_names_follow_the_request() {
        let set = "20261128T030000Z";
        let a = names::restore_job("demo", set, None, None);
        assert!(a.starts_with("demo-restore-") && a.len() == "demo-restore-".len() + 10);
        assert_eq!(a, names::restore_job("demo", set, None, None));
        assert_ne!(a, names::restore_job("demo", set, Some("2"), None));
        assert_ne!(
            a,
            names::restore_job("demo", "20261129T030000Z", None, None)
        );
        assert_ne!(a, names::restore_job("demo", set, None, Some("x")));
        // No ambiguity between the parts.
        assert_ne!(
            names::restore_job("demo", "a", Some("b"), None),
            names::restore_job("demo", "a", None, Some("b"))
        );
        let longest = names::restore_job(&"x".repeat(40), "latest", None, Some(&a));
        assert!(longest.len() <= 63, "{longest}");

        let (none, _) = desired(json!({"backup": {"schedule": "@daily"}}));
        assert_eq!(restore_request(&none, None), None);
        let (v, _) = desired(json!({"backup": {"schedule": "@daily"}, "restore": {"set": set}}));
        let first = restore_request(&v, None).unwrap();
        assert_eq!(first.job, a);
        let seen = |req: &RestoreRequest, result: &str| LastRestore {
            set: req.set.clone(),
            id: req.id.clone(),
            job: req.job.clone(),
            result: result.into(),
            ..Default::default()
        };
        // The request of the previous status keeps its Job, whatever became of it.
        for result in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
            assert_eq!(
                restore_request(&v, Some(&seen(&first, result))),
                Some(first.clone()),
                "{result}"
            );
        }
        // Another request, then back to the first set: a new Job each time.
        let (v2, _) = desired(
            json!({"backup": {"schedule": "@daily"}, "restore": {"set": set, "id": "again"}}),
        );
        let second = restore_request(&v2, Some(&seen(&first, "Succeeded"))).unwrap();
        assert_eq!(
            second.job,
            names::restore_job("demo", set, Some("again"), Some(&a))
        );
        let back = restore_request(&v, Some(&seen(&second, "Succeeded"))).unwrap();
        assert_eq!((back.set.as_str(), back.id.as_deref()), (set, None));
        assert_ne!(back.job, first.job);
        assert_ne!(back.job, second.job);
        // Deterministic for the same previous status (a re-reconcile finds the same Job).
        assert_eq!(
            restore_request(&v, Some(&seen(&second, "Succeeded"))),
            Some(back)
        );
    }

    #[test]
    fn a_successful_restore_rolls_the_matcher_once() {
        let v = v(json!({}));
        let mut i = inputs(&v);
        let plain = build(&v, &i).unwrap();
        let ann = |d: &Desired| {
            deployment(d)
                .spec
                .as_ref()
                .unwrap()
                .template
                .metadata
                .as_ref()
                .unwrap()
                .annotations
                .clone()
                .unwrap()
        };
        assert!(!ann(&plain).contains_key(RESTORED_ANNOTATION));
        i.restored_by = Some("demo-restore-0123456789".into());
        let restored = build(&v, &i).unwrap();
        assert_eq!(
            ann(&restored)[RESTORED_ANNOTATION],
            "demo-restore-0123456789"
        );
        assert_eq!(plain.config_hash, restored.config_hash);
        assert_ne!(
            fingerprint(&plain.apply).unwrap(),
            fingerprint(&restored.apply).unwrap()
        );
    }

    #[test]
    fn service_monitor_only_where_available() {
        let v = v(json!({"monitoring": {"serviceMonitor": true}}));
        let mut i = inputs(&v);
        let d = build(&v, &i).unwrap();
        assert!(
            d.apply
                .iter()
                .all(|c| c.kind() != ChildKind::ServiceMonitor)
        );
        i.service_monitor_available = true;
        let d = build(&v, &i).unwrap();
        let sm = match find(&d, ChildKind::ServiceMonitor, "demo") {
            Some(Child::ServiceMonitor(s)) => s,
            _ => panic!(),
        };
        assert_eq!(sm.types.as_ref().unwrap().kind, "ServiceMonitor");
        assert_eq!(sm.data["spec"]["endpoints"][0]["port"], "metrics");
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

    #[test]
    fn pdb_allows_one_disruption() {
        let (_, d) = desired(json!({}));
        let p = match find(&d, ChildKind::PodDisruptionBudget, "demo-matcher") {
            Some(Child::PodDisruptionBudget(p)) => p,
            _ => panic!(),
        };
        assert_eq!(
            p.spec.as_ref().unwrap().max_unavailable,
            Some(IntOrString::Int(1))
        );
    }
}
