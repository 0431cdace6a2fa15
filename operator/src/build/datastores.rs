//! Managed Redis and PostgreSQL: StatefulSets, headless Services, data PVCs, and the
//! NetworkPolicy that admits only this installation's own pods.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, Service, ServiceSpec, TCPSocketAction, Volume,
    VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::meta::{labels, meta, selector_labels};
use super::names;
use super::pod::{
    default_resources, empty_dir, exec_probe, mount, pod_security, port, pvc_volume, quantities,
    restricted_container_security, secret_or_generated, service_port, value_env,
};
use super::secrets::keys;
use super::{PG_USER, POSTGRES_PORT, REDIS_PORT};
use crate::validate::{Managed, Validated};

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

#[cfg(test)]
mod tests {

    use crate::build::testing::*;
    use crate::build::*;

    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    use serde_json::json;

    #[test]
    fn external_redis_drops_managed_redis() {
        let (_, d) =
            desired(json!({"redis": {"external": {"urlSecretRef": {"name": "r", "key": "url"}}}}));
        assert!(find_statefulset(&d, "demo-redis").is_none());
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
        let pg = find_statefulset(&d, "demo-postgres").unwrap();
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
        let redis = find_statefulset(&d, "demo-redis").unwrap();
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
}
