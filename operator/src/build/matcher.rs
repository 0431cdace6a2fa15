//! The matcher API server: Deployment, Service, HorizontalPodAutoscaler and
//! PodDisruptionBudget.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, Lifecycle, LifecycleHandler, PodSpec, PodTemplateSpec, Service, ServiceSpec,
    SleepAction,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::meta::{labels, meta, selector_labels};
use super::names;
use super::pod::{
    config_volume, datastore_env, default_resources, empty_dir, http_probe, mount, pod_security,
    port, restricted_container_security, secret_env, secret_or_generated, service_port, value_env,
};
use super::secrets::keys;
use super::{CONFIG_HASH_ANNOTATION, HTTP_PORT, METRICS_PORT, RESTORED_ANNOTATION};
use crate::crd::AutoscalingSpec;
use crate::validate::Validated;

/// The matcher's payload key and API keys (Secret references). The matcher refuses to start
/// in production without both, whatever the subcommand: the matcher pods and the backup and
/// restore Jobs get them alike.
pub(super) fn key_env(v: &Validated) -> Vec<EnvVar> {
    let m = &v.matcher;
    vec![
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
    ]
}

fn matcher_env(v: &Validated) -> Vec<EnvVar> {
    let m = &v.matcher;
    let mut env = key_env(v);
    if let Some(r) = &m.llm.api_key_secret_ref {
        env.push(secret_env("OPENAI_API_KEY", &r.name, &r.key));
    }
    env.extend(datastore_env(v));
    env.push(value_env("KCMF_DATA_DIR", "/data"));
    env.extend(m.env.iter().cloned());
    env
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
        image: Some(v.matcher_image.clone()),
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
        // A deleted pod leaves the Service's endpoints while kube-proxy and load balancers
        // still send it new connections for a moment; SIGTERM closes the listener at once, so
        // those would be refused. The pod keeps serving for a few seconds first (a sleep
        // action: no shell or binary needed in the image).
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: PRE_STOP_DRAIN_SECONDS,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
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

/// Seconds a terminating matcher pod keeps serving before it gets SIGTERM (within the
/// default 30 s grace period).
pub const PRE_STOP_DRAIN_SECONDS: i64 = 5;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::testing::*;
    use crate::build::*;

    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    use serde_json::json;

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
        let drain = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref());
        assert_eq!(
            drain.and_then(|h| h.sleep.as_ref()).map(|s| s.seconds),
            Some(PRE_STOP_DRAIN_SECONDS)
        );
        assert!(PRE_STOP_DRAIN_SECONDS < pod.termination_grace_period_seconds.unwrap_or(30));
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
