//! Pieces shared by every pod the operator builds: environment variables from Secrets,
//! the restricted security context, volumes, ports, probes and default resources.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    ExecAction, HTTPGetAction, PersistentVolumeClaimVolumeSource, PodSecurityContext, Probe,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, ServicePort, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names;
use super::secrets::keys;
use super::{PG_USER, POSTGRES_PORT, REDIS_PORT};
use crate::crd::SecretKeyRef;
use crate::validate::{Datastore, Validated};

pub(super) fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
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

pub(super) fn value_env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

pub(super) fn secret_or_generated(
    v: &Validated,
    env: &str,
    r: Option<&SecretKeyRef>,
    key: &str,
) -> EnvVar {
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

pub(super) fn pod_security(uid: i64, gid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(gid),
        fs_group: Some(gid),
        seccomp_profile: Some(runtime_default()),
        ..Default::default()
    }
}

pub(super) fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

pub(super) fn pvc_volume(name: &str, claim: String) -> Volume {
    Volume {
        name: name.into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim,
            read_only: None,
        }),
        ..Default::default()
    }
}

pub(super) fn config_volume(v: &Validated) -> Volume {
    Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: names::config(&v.name),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(super) fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

pub(super) fn port(name: &str, p: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: p,
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

pub(super) fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, q)| (k.to_string(), Quantity(q.to_string())))
        .collect()
}

pub(super) fn default_resources(cpu: &str, mem: &str, mem_limit: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(quantities(&[("cpu", cpu), ("memory", mem)])),
        limits: Some(quantities(&[("memory", mem_limit)])),
        ..Default::default()
    }
}

pub(super) fn http_probe(path: &str, initial: i32, period: i32, failures: i32) -> Probe {
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

pub(super) fn exec_probe(cmd: &[&str], initial: i32, period: i32) -> Probe {
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

pub(super) fn service_port(name: &str, p: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port: p,
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}
