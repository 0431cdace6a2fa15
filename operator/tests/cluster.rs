//! End-to-end tests against a real control plane (hack/k8s/up.sh) with the operator binary
//! running as a child process.
//!
//! Run (needs the `cluster` feature; never skipped — without a reachable cluster every test fails):
//!
//! ```sh
//! source "$(hack/k8s/up.sh | tail -n1)"
//! CARGO_TARGET_DIR=target/op cargo test -p kcmf-operator --features cluster --test cluster -- --test-threads=4
//! ```
//!
//! Each test uses its own namespace and its own operator process (`WATCH_NAMESPACE` set to that
//! namespace), so tests run in parallel without sharing state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kcmf_operator::build::names;
use kcmf_operator::crd::{KcmfDeployment, LastBackup, LastRestore, LastVerified};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(90);

mod common;
use common::*;

/// The operator binary running as a child process, killed on drop.
struct Operator {
    child: tokio::process::Child,
    stopped: bool,
    metrics: String,
    log: PathBuf,
}

/// A port nothing listens on, drawn from 20000–32767: below Linux's ephemeral range
/// (32768–60999), so an outgoing connection (the operator's own, another test's) cannot be
/// given it between this check and the operator's bind, as a port the kernel hands out
/// for `:0` can be (a matcher test lost its port that way in CI).
fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    for _ in 0..200 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = 20000 + (h.finish() % 12768) as u16;
        if std::net::TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000-32767 after 200 draws")
}

impl Operator {
    fn start(namespace: &str, leader_election: bool) -> Self {
        Self::start_with(namespace, leader_election, &[])
    }

    /// [`Operator::start`] with extra environment (overrides the defaults).
    fn start_with(namespace: &str, leader_election: bool, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let dir = repo_root().join("target").join("op").join("cluster-logs");
        std::fs::create_dir_all(&dir).expect("log dir");
        let log = dir.join(format!("{namespace}-{}.log", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kcmf-operator"))
            .arg("run")
            .env("WATCH_NAMESPACE", namespace)
            .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
            .env("LEADER_ELECTION", leader_election.to_string())
            .env("POD_NAMESPACE", namespace)
            .env("LEASE_NAME", "kcmf-operator-test")
            .env("LOG_LEVEL", "info,kcmf_operator=debug")
            .envs(env.iter().copied())
            .stdout(file.try_clone().expect("log fd"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .expect("start kcmf-operator");
        Self {
            child,
            stopped: false,
            metrics: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Body of `/metrics`, empty when not reachable yet.
    async fn metrics(&self) -> String {
        http_get(&format!("{}/metrics", self.metrics))
            .await
            .unwrap_or_default()
    }

    /// `kcmf_operator_leader` as the operator reports it (`None`: metrics not reachable).
    async fn is_leader(&self) -> Option<bool> {
        let m = http_get(&format!("{}/metrics", self.metrics)).await?;
        m.lines()
            .find(|l| l.starts_with("kcmf_operator_leader "))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v == 1.0)
    }

    /// Kills the process without letting it release its lease (a crashed node).
    async fn kill_hard(&mut self) {
        self.stopped = true;
        let _ = self.child.kill().await;
    }

    /// SIGTERM, so the lease is released, and wait (at most 10 s) for the exit; then make sure
    /// it is gone. Awaits instead of blocking a runtime worker.
    async fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .arg(pid.to_string())
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

impl Drop for Operator {
    /// Never blocks: an operator not stopped by [`Operator::stop`] is killed (SIGKILL, reaped
    /// by tokio). Tests that need the lease released call `stop().await` first.
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.start_kill();
        }
        eprintln!("operator log: {}", self.log.display());
    }
}

fn ready_status(k: &KcmfDeployment) -> Option<(String, Option<i64>)> {
    let st = k.status.as_ref()?;
    let c = st.conditions.iter().find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), st.observed_generation))
}

/// Wait until the KcmfDeployment is Ready=True for its current generation.
async fn wait_ready(api: &Api<KcmfDeployment>, name: &str) -> KcmfDeployment {
    let start = Instant::now();
    loop {
        if let Ok(k) = api.get(name).await {
            if let Some((s, g)) = ready_status(&k)
                && s == "True"
                && g == k.metadata.generation
            {
                return k;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "{name} not Ready within {TIMEOUT:?}: status {:?}",
                k.status
            );
        }
        assert!(start.elapsed() < TIMEOUT, "{name} not found");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn get<K>(c: &Client, ns: &str, name: &str) -> Option<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(c.clone(), ns)
        .get_opt(name)
        .await
        .expect("get")
}

fn assert_owned<K: Resource>(o: &K, owner: &KcmfDeployment) {
    let refs = o.meta().owner_references.clone().unwrap_or_default();
    assert!(
        refs.iter().any(|r| r.uid == owner.uid().unwrap_or_default()
            && r.kind == "KcmfDeployment"
            && r.controller == Some(true)),
        "{:?} not controlled by {}",
        o.meta().name,
        owner.name_any()
    );
    let labels = o.meta().labels.clone().unwrap_or_default();
    for k in [
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/part-of",
    ] {
        assert!(
            labels.contains_key(k),
            "{:?} lacks label {k}",
            o.meta().name
        );
    }
    assert_eq!(labels["app.kubernetes.io/instance"], owner.name_any());
}

fn apply_sample(ns: &str, file: &str) {
    let path = repo_root().join("config/samples").join(file);
    kubectl_ok(&["apply", "-n", ns, "-f", path.to_str().unwrap()]);
}

fn create_kcmf(ns: &str, name: &str, spec: serde_json::Value) {
    let doc = json!({
        "apiVersion": "kcmf.io/v1alpha1",
        "kind": "KcmfDeployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    });
    let out = kubectl_stdin(&["apply", "-f", "-"], &doc.to_string());
    assert!(
        out.status.success(),
        "apply {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// resourceVersion of every child (by kind/name), for "nothing changed" checks.
async fn child_versions(c: &Client, ns: &str, instance: &str) -> BTreeMap<String, String> {
    let lp = ListParams::default().labels(&format!(
        "app.kubernetes.io/instance={instance},app.kubernetes.io/managed-by=kcmf-operator"
    ));
    let mut out = BTreeMap::new();
    macro_rules! collect {
        ($t:ty, $kind:expr) => {
            for o in Api::<$t>::namespaced(c.clone(), ns)
                .list(&lp)
                .await
                .expect("list")
                .items
            {
                out.insert(
                    format!("{}/{}", $kind, o.name_any()),
                    o.resource_version().unwrap_or_default(),
                );
            }
        };
    }
    collect!(Secret, "Secret");
    collect!(ConfigMap, "ConfigMap");
    collect!(Service, "Service");
    collect!(PersistentVolumeClaim, "PersistentVolumeClaim");
    collect!(Deployment, "Deployment");
    collect!(StatefulSet, "StatefulSet");
    collect!(HorizontalPodAutoscaler, "HorizontalPodAutoscaler");
    collect!(PodDisruptionBudget, "PodDisruptionBudget");
    collect!(NetworkPolicy, "NetworkPolicy");
    collect!(CronJob, "CronJob");
    out
}

/// Events of one reason in `ns` whose note mentions `about`.
async fn events(c: &Client, ns: &str, reason: &str, about: &str) -> Vec<K8sEvent> {
    Api::<K8sEvent>::namespaced(c.clone(), ns)
        .list(&ListParams::default())
        .await
        .expect("list events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .filter(|e| e.note.as_deref().is_some_and(|n| n.contains(about)))
        .collect()
}

/// Exactly one Event of `reason` about the Job `job` (its related object), published once (no
/// series of repeats).
async fn assert_one_event(c: &Client, ns: &str, reason: &str, job: &str) -> K8sEvent {
    let about = job;
    let found = events(c, ns, reason, about).await;
    assert_eq!(found.len(), 1, "{reason} events about {about}: {found:#?}");
    let related = found[0].related.as_ref().expect("related object");
    assert_eq!(
        (related.kind.as_deref(), related.name.as_deref()),
        (Some("Job"), Some(job))
    );
    assert!(
        found[0].series.is_none(),
        "{reason} about {about} was published more than once: {:?}",
        found[0].series
    );
    found.into_iter().next().expect("one event")
}

async fn status_of(
    api: &Api<KcmfDeployment>,
    name: &str,
) -> kcmf_operator::crd::KcmfDeploymentStatus {
    api.get(name)
        .await
        .ok()
        .and_then(|k| k.status)
        .unwrap_or_default()
}

async fn last_restore(api: &Api<KcmfDeployment>, name: &str) -> Option<LastRestore> {
    status_of(api, name).await.last_restore
}

async fn last_backup(api: &Api<KcmfDeployment>, name: &str) -> Option<LastBackup> {
    status_of(api, name).await.last_backup
}

async fn last_verified(api: &Api<KcmfDeployment>, name: &str) -> Option<LastVerified> {
    status_of(api, name).await.last_verified
}

/// Trigger a reconcile without changing the spec (an annotation on the object).
fn touch(ns: &str, name: &str, value: &str) {
    kubectl_ok(&[
        "annotate",
        "--overwrite",
        "-n",
        ns,
        &format!("kcmf/{name}"),
        &format!("kcmf.io/test-touch={value}"),
    ]);
}

/// The one pod of a Job.
async fn job_pod(c: &Client, ns: &str, job: &str) -> Pod {
    let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}")))
        .await
        .expect("list pods");
    assert_eq!(list.items.len(), 1, "pods of {job}: {:?}", list.items);
    list.items.into_iter().next().expect("one pod")
}

/// What kubelet does when a container that wrote /dev/termination-log exits: put the text in
/// `status.containerStatuses[].state.terminated.message`. kwok runs no containers, so the test
/// patches the finished pod's status subresource (kwok leaves Succeeded pods alone).
async fn set_termination_message(c: &Client, ns: &str, job: &str, message: &serde_json::Value) {
    let pod = job_pod(c, ns, job).await;
    assert_eq!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded"),
        "pod of {job} has not finished"
    );
    let ctr = &pod.spec.as_ref().expect("pod spec").containers[0];
    let done = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.first())
        .and_then(|cs| cs.state.as_ref())
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.clone())
        .expect("terminated container");
    let at = serde_json::to_value(&done).unwrap();
    let patch = json!({"status": {"containerStatuses": [{
        "name": ctr.name, "image": ctr.image, "imageID": "", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": at,
                                 "finishedAt": at, "message": message.to_string()}}
    }]}});
    kubectl_ok(&[
        "patch",
        "pod",
        "-n",
        ns,
        &pod.name_any(),
        "--subresource=status",
        "--type=strategic",
        "-p",
        &patch.to_string(),
    ]);
    let after = job_pod(c, ns, job).await;
    let msg = after
        .status
        .and_then(|s| s.container_statuses)
        .and_then(|cs| cs.into_iter().next())
        .and_then(|cs| cs.state)
        .and_then(|s| s.terminated)
        .and_then(|t| t.message);
    assert_eq!(
        msg,
        Some(message.to_string()),
        "the API server kept the message"
    );
}

fn template_hash(d: &Deployment) -> String {
    d.spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get("kcmf.io/config-hash").cloned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_reconcile_to_ready_with_hardened_children() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-samples").await;
    let _op = Operator::start(&ns, true);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join("config/samples"))
        .expect("samples dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "samples: {files:?}");
    for f in &files {
        apply_sample(&ns, f);
    }
    for name in ["kcmf-minimal", "kcmf-full", "kcmf-external"] {
        let k = wait_ready(&api, name).await;
        let st = k.status.clone().unwrap();
        assert_eq!(st.observed_generation, k.metadata.generation);
        assert_eq!(st.ready_replicas, k.spec.matcher.replicas);
        assert!(
            st.url
                .unwrap()
                .starts_with(&format!("http://{name}-matcher.{ns}.svc"))
        );
        for t in [
            "Ready",
            "MatcherReady",
            "RedisReady",
            "PostgresReady",
            "BackupScheduled",
        ] {
            assert!(
                st.conditions.iter().any(|c| c.type_ == t),
                "{name} lacks condition {t}"
            );
        }

        let d: Deployment = get(&c, &ns, &format!("{name}-matcher"))
            .await
            .expect("matcher deployment");
        assert_owned(&d, &k);
        let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let ctr = &pod.containers[0];
        assert_eq!(
            ctr.liveness_probe
                .as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .as_deref(),
            Some("/health")
        );
        assert_eq!(
            ctr.readiness_probe
                .as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .as_deref(),
            Some("/ready")
        );
        let sc = ctr.security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop,
            Some(vec!["ALL".to_string()])
        );
        assert_eq!(
            pod.security_context
                .as_ref()
                .unwrap()
                .seccomp_profile
                .as_ref()
                .unwrap()
                .type_,
            "RuntimeDefault"
        );
        assert!(!template_hash(&d).is_empty());

        let svc: Service = get(&c, &ns, &format!("{name}-matcher"))
            .await
            .expect("matcher service");
        assert_owned(&svc, &k);
        let ports: Vec<i32> = svc
            .spec
            .unwrap()
            .ports
            .unwrap()
            .iter()
            .map(|p| p.port)
            .collect();
        assert_eq!(ports, vec![8000, 9090]);
        let cm: ConfigMap = get(&c, &ns, &format!("{name}-config"))
            .await
            .expect("configmap");
        assert_owned(&cm, &k);
        let sec: Secret = get(&c, &ns, &format!("{name}-generated"))
            .await
            .expect("generated secret");
        assert_owned(&sec, &k);
        let pdb: PodDisruptionBudget = get(&c, &ns, &format!("{name}-matcher")).await.expect("pdb");
        assert_owned(&pdb, &k);

        let managed = name != "kcmf-external";
        for ds in ["redis", "postgres"] {
            let sts: Option<StatefulSet> = get(&c, &ns, &format!("{name}-{ds}")).await;
            assert_eq!(sts.is_some(), managed, "{name}-{ds} StatefulSet");
            if let Some(sts) = sts {
                assert_owned(&sts, &k);
                let pvc: PersistentVolumeClaim = get(&c, &ns, &format!("{name}-{ds}-data"))
                    .await
                    .expect("pvc");
                assert_owned(&pvc, &k);
                let svc: Service = get(&c, &ns, &format!("{name}-{ds}"))
                    .await
                    .expect("ds service");
                assert_owned(&svc, &k);
                let ctr = &sts
                    .spec
                    .as_ref()
                    .unwrap()
                    .template
                    .spec
                    .as_ref()
                    .unwrap()
                    .containers[0];
                assert!(ctr.readiness_probe.is_some());
                assert_eq!(
                    ctr.security_context
                        .as_ref()
                        .unwrap()
                        .read_only_root_filesystem,
                    Some(true)
                );
            }
        }
        let np: Option<NetworkPolicy> = get(&c, &ns, &format!("{name}-datastores")).await;
        assert_eq!(np.is_some(), managed);
        if name == "kcmf-full" {
            let hpa: HorizontalPodAutoscaler = get(&c, &ns, name).await.expect("hpa");
            assert_owned(&hpa, &k);
            assert_eq!(hpa.spec.unwrap().scale_target_ref.kind, "KcmfDeployment");
            let cj: CronJob = get(&c, &ns, &format!("{name}-backup"))
                .await
                .expect("cronjob");
            assert_owned(&cj, &k);
            assert_eq!(cj.spec.as_ref().unwrap().schedule, "0 3 * * *");
            assert_eq!(cj.spec.as_ref().unwrap().suspend, Some(false));
            let vols = cj
                .spec
                .unwrap()
                .job_template
                .spec
                .unwrap()
                .template
                .spec
                .unwrap()
                .volumes
                .unwrap();
            assert!(vols.iter().any(|v| {
                v.persistent_volume_claim
                    .as_ref()
                    .is_some_and(|p| p.claim_name == "kcmf-full-backups")
            }));
        }
    }
    // Pods made Ready by kwok carry the operator's labels.
    let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
    let lp = ListParams::default()
        .labels("app.kubernetes.io/instance=kcmf-minimal,app.kubernetes.io/component=matcher");
    assert_eq!(pods.list(&lp).await.unwrap().items.len(), 1);
    // Printer columns.
    let out = kubectl_ok(&["get", "kcmf", "-n", &ns]);
    assert!(
        out.contains("READY") && out.contains("REPLICAS") && out.contains("LAST BACKUP"),
        "{out}"
    );
    assert!(out.contains("kcmf-minimal") && out.contains("1/1"), "{out}");
    // `kubectl explain` shows the doc comments.
    let explain = kubectl_ok(&["explain", "kcmf.spec.matcher.replicas"]);
    assert!(
        explain.contains("Desired number of matcher pods"),
        "{explain}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_hpa_and_config_rollout() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-scale").await;
    let op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let deps: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(c.clone(), &ns);
    create_kcmf(&ns, "demo", json!({"matcher": {"replicas": 1}}));
    wait_ready(&api, "demo").await;

    // kubectl scale goes through the /scale subresource.
    kubectl_ok(&["scale", "-n", &ns, "kcmf/demo", "--replicas=3"]);
    wait_for("Deployment scaled to 3", TIMEOUT, || async {
        deps.get("demo-matcher")
            .await
            .ok()
            .and_then(|d| d.spec.and_then(|s| s.replicas))
            == Some(3)
    })
    .await;
    let k = wait_ready(&api, "demo").await;
    assert_eq!(k.status.unwrap().ready_replicas, 3);
    let scale = kubectl_ok(&[
        "get",
        "--raw",
        &format!("/apis/kcmf.io/v1alpha1/namespaces/{ns}/kcmfdeployments/demo/scale"),
    ]);
    let scale: serde_json::Value = serde_json::from_str(&scale).unwrap();
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["replicas"], 3);
    assert!(
        scale["status"]["selector"]
            .as_str()
            .unwrap()
            .contains("app.kubernetes.io/instance=demo")
    );

    // A user's HPA can target the resource: minReplicas above the current count scales it up.
    let hpa = json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "user-hpa", "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": "kcmf.io/v1alpha1", "kind": "KcmfDeployment", "name": "demo"},
            "minReplicas": 4, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
        }
    });
    let out = kubectl_stdin(&["apply", "-f", "-"], &hpa.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("HPA scales the KcmfDeployment to 4", TIMEOUT, || async {
        api.get("demo").await.ok().map(|k| k.spec.matcher.replicas) == Some(4)
    })
    .await;
    wait_for("Deployment follows to 4", TIMEOUT, || async {
        deps.get("demo-matcher")
            .await
            .ok()
            .and_then(|d| d.spec.and_then(|s| s.replicas))
            == Some(4)
    })
    .await;
    kubectl_ok(&["delete", "hpa", "-n", &ns, "user-hpa"]);

    // A config change rolls the pods (new template hash) and leaves the generated Secret alone.
    let before = deps.get("demo-matcher").await.unwrap();
    let secret_before = secrets.get("demo-generated").await.unwrap();
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"matcher": {"config": {"rateLimit": 42}}}})),
    )
    .await
    .unwrap();
    wait_for("new template hash", TIMEOUT, || async {
        deps.get("demo-matcher")
            .await
            .map(|d| template_hash(&d))
            .unwrap_or_default()
            != template_hash(&before)
    })
    .await;
    wait_ready(&api, "demo").await;
    let cm: ConfigMap = get(&c, &ns, "demo-config").await.unwrap();
    assert!(cm.data.unwrap()["config.yaml"].contains("rate_limit: 42"));
    let secret_after = secrets.get("demo-generated").await.unwrap();
    assert_eq!(
        secret_before.resource_version(),
        secret_after.resource_version()
    );
    assert_eq!(secret_before.data, secret_after.data);

    // Metrics and health of the operator.
    let m = op.metrics().await;
    assert!(m.contains("kcmf_operator_reconciles_total"), "{m}");
    assert!(
        m.contains("kcmf_operator_reconcile_duration_seconds"),
        "{m}"
    );
    assert_eq!(
        http_get(&format!("{}/health", op.metrics)).await.as_deref(),
        Some("ok")
    );
}

/// Two operators with leader election: one leads, the other stands by without
/// reconciling; when the leader dies without releasing the Lease (SIGKILL), the standby
/// takes over once the Lease expires and carries on (a spec change is applied).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_operator_takes_over_when_the_leader_dies() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-failover").await;
    let env = [
        ("LEASE_NAME", "kcmf-operator-failover"),
        ("LEASE_DURATION_SECONDS", "4"),
    ];
    let mut a = Operator::start_with(&ns, true, &[("POD_NAME", "op-a"), env[0], env[1]]);
    wait_for("operator a leads", TIMEOUT, || async {
        a.is_leader().await == Some(true)
    })
    .await;
    let b = Operator::start_with(&ns, true, &[("POD_NAME", "op-b"), env[0], env[1]]);
    wait_for("operator b is up as a standby", TIMEOUT, || async {
        b.is_leader().await == Some(false)
    })
    .await;
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let deps: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    create_kcmf(&ns, "demo", json!({"matcher": {"replicas": 1}}));
    wait_ready(&api, "demo").await;
    assert_eq!(b.is_leader().await, Some(false));
    assert_eq!(reconciles(&b).await, 0.0, "the standby reconciled");
    let lease: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(c.clone(), &ns);
    let holder = |l: k8s_openapi::api::coordination::v1::Lease| {
        l.spec.and_then(|s| s.holder_identity).unwrap_or_default()
    };
    assert_eq!(
        holder(lease.get("kcmf-operator-failover").await.unwrap()),
        "op-a"
    );

    a.kill_hard().await;
    wait_for("operator b takes over", TIMEOUT, || async {
        b.is_leader().await == Some(true)
    })
    .await;
    assert_eq!(
        holder(lease.get("kcmf-operator-failover").await.unwrap()),
        "op-b"
    );
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"matcher": {"replicas": 2}}})),
    )
    .await
    .unwrap();
    wait_for("the new leader applies the change", TIMEOUT, || async {
        deps.get("demo-matcher")
            .await
            .ok()
            .and_then(|d| d.spec.and_then(|s| s.replicas))
            == Some(2)
    })
    .await;
    // counted when the reconcile returns, a moment after its apply
    wait_for("operator b counts its reconciles", TIMEOUT, || async {
        reconciles(&b).await > 0.0
    })
    .await;
}

/// Sum of the operator's reconcile counter.
async fn reconciles(op: &Operator) -> f64 {
    op.metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("kcmf_operator_reconciles_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A change to a user Secret the workloads read rolls the matcher at once: the operator
/// watches Secrets (metadata only). The Secret is changed once the operator has been idle
/// for 8 s (no reconcile: the object is Ready, its next resync is 300 s away), so only the
/// watch can bring the change in within the 15 s the test allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_user_secret_rolls_the_matcher() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-secret-watch").await;
    let op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let deps: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    let secret = |redis: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "urls"},
               "stringData": {"redis": redis, "db": "postgres://kcmf:pw@pg.example:5432/kcmf"}})
        .to_string()
    };
    let s = kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &secret("redis://:pw@redis.example:6379/0"),
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    create_kcmf(
        &ns,
        "demo",
        json!({"redis": {"external": {"urlSecretRef": {"name": "urls", "key": "redis"}}},
               "postgres": {"external": {"urlSecretRef": {"name": "urls", "key": "db"}}}}),
    );
    wait_ready(&api, "demo").await;
    let before = template_hash(&deps.get("demo-matcher").await.unwrap());
    assert!(!before.is_empty());

    // wait for a quiet operator: the reconcile count unchanged for 8 s
    let start = Instant::now();
    let (mut last, mut since) = (reconciles(&op).await, Instant::now());
    while since.elapsed() < Duration::from_secs(8) {
        assert!(start.elapsed() < TIMEOUT, "the operator never went idle");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = reconciles(&op).await;
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    assert!(last > 0.0, "no reconcile counted: metrics unreadable?");
    assert_eq!(
        template_hash(&deps.get("demo-matcher").await.unwrap()),
        before
    );

    // a Secret nobody references triggers no reconcile
    let other = kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "unrelated"},
                "stringData": {"x": "1"}})
        .to_string(),
    );
    assert!(other.status.success());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        reconciles(&op).await,
        last,
        "an unrelated Secret was reconciled"
    );

    let s = kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &secret("redis://:rotated@redis.example:6379/0"),
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    wait_for(
        "new template hash after the referenced Secret changed",
        Duration::from_secs(15),
        || async {
            deps.get("demo-matcher")
                .await
                .map(|d| template_hash(&d))
                .unwrap_or_default()
                != before
        },
    )
    .await;
    wait_ready(&api, "demo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwanted_children_are_deleted_and_gc_removes_the_rest() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-prune").await;
    let _op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    create_kcmf(
        &ns,
        "demo",
        json!({"matcher": {"autoscaling": {"minReplicas": 1, "maxReplicas": 3}},
               "backup": {"schedule": "@daily"}}),
    );
    wait_ready(&api, "demo").await;
    assert!(get::<StatefulSet>(&c, &ns, "demo-redis").await.is_some());
    assert!(
        get::<HorizontalPodAutoscaler>(&c, &ns, "demo")
            .await
            .is_some()
    );
    assert!(get::<CronJob>(&c, &ns, "demo-backup").await.is_some());

    // External Redis instead of managed; autoscaling and backups removed.
    let s = kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "redis-url"},
                "stringData": {"url": "redis://:pw@redis.example:6379/0"}})
        .to_string(),
    );
    assert!(s.status.success());
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {
            "redis": {"managed": null, "external": {"urlSecretRef": {"name": "redis-url", "key": "url"}}},
            "matcher": {"autoscaling": null},
            "backup": null
        }})),
    )
    .await
    .unwrap();
    wait_for("managed Redis StatefulSet deleted", TIMEOUT, || async {
        get::<StatefulSet>(&c, &ns, "demo-redis").await.is_none()
    })
    .await;
    wait_for("HPA deleted", TIMEOUT, || async {
        get::<HorizontalPodAutoscaler>(&c, &ns, "demo")
            .await
            .is_none()
    })
    .await;
    wait_for("CronJob deleted", TIMEOUT, || async {
        get::<CronJob>(&c, &ns, "demo-backup").await.is_none()
    })
    .await;
    assert!(get::<Service>(&c, &ns, "demo-redis").await.is_none());
    let k = wait_ready(&api, "demo").await;
    let redis = k
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "RedisReady")
        .unwrap();
    assert_eq!(redis.reason, "External");
    let events = kubectl_ok(&["get", "events.events.k8s.io", "-n", &ns, "-o", "json"]);
    assert!(events.contains("DeletedChild"), "no DeletedChild event");

    // Deleting the resource garbage-collects every child.
    assert!(!child_versions(&c, &ns, "demo").await.is_empty());
    api.delete("demo", &DeleteParams::foreground())
        .await
        .unwrap();
    wait_for(
        "all children garbage-collected",
        Duration::from_secs(120),
        || async { child_versions(&c, &ns, "demo").await.is_empty() },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_specs_are_rejected_by_the_api_server() {
    let _c = client().await;
    install_crds();
    let cases = [
        (
            json!({"redis": {"managed": {}, "external": {"urlSecretRef": {"name": "a", "key": "b"}}}}),
            "exactly one of redis.managed or redis.external must be set",
        ),
        (
            json!({"postgres": {}}),
            "exactly one of postgres.managed or postgres.external must be set",
        ),
        (
            json!({"matcher": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}),
            "minReplicas must be less than or equal to",
        ),
        (
            json!({"backup": {"schedule": "every day"}}),
            "schedule must be a cron expression",
        ),
        (
            json!({"backup": {"schedule": "* * *"}}),
            "schedule must be a cron expression",
        ),
        (
            json!({"matcher": {"replicas": -1}}),
            "replicas must not be negative",
        ),
        (
            json!({"matcher": {"config": {"entityThreshold": 1.5}}}),
            "entityThreshold must be between 0 and 1",
        ),
        (
            json!({"matcher": {"llm": {"provider": "claude"}}}),
            "Unsupported value",
        ),
        (
            json!({"postgres": {"managed": {"storageSize": "lots"}}}),
            "storageSize",
        ),
        (
            json!({"restore": {"set": "latest"}}),
            "spec.restore needs spec.backup",
        ),
        (
            json!({"backup": {"schedule": "@daily"}, "restore": {"set": "../etc/passwd"}}),
            "set must be latest or a backup set id",
        ),
        (
            json!({"backup": {"schedule": "@daily"}, "restore": {"set": "20261128T030000Z", "id": "Retry_1"}}),
            "id must be a DNS label",
        ),
    ];
    for (spec, msg) in cases {
        let doc = json!({"apiVersion": "kcmf.io/v1alpha1", "kind": "KcmfDeployment",
                         "metadata": {"name": "bad", "namespace": "default"}, "spec": spec});
        let out = kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], &doc.to_string());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "accepted: {spec}");
        assert!(err.contains(msg), "for {spec}: expected {msg:?} in {err}");
    }
    let long = "x".repeat(41);
    let doc = json!({"apiVersion": "kcmf.io/v1alpha1", "kind": "KcmfDeployment",
                     "metadata": {"name": long, "namespace": "default"}, "spec": {}});
    let out = kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], &doc.to_string());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 40 characters"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_changes_nothing_and_paused_stops_changes() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-restart").await;
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let deps: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    let mut op = Operator::start(&ns, true);
    create_kcmf(
        &ns,
        "demo",
        json!({"backup": {"schedule": "0 1 * * *"}, "matcher": {"autoscaling": {"minReplicas": 1, "maxReplicas": 2}}}),
    );
    wait_ready(&api, "demo").await;
    // Let the status settle, then snapshot.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = child_versions(&c, &ns, "demo").await;
    let kcmf_before = api.get("demo").await.unwrap().resource_version();
    assert!(before.len() >= 12, "{before:?}");
    op.stop().await;
    drop(op);

    let op2 = Operator::start(&ns, true);
    wait_for("restarted operator reconciled", TIMEOUT, || async {
        op2.metrics()
            .await
            .contains("kcmf_operator_reconciles_total{result=\"ok\"}")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = child_versions(&c, &ns, "demo").await;
    assert_eq!(before, after, "a restart changed children");
    assert_eq!(
        kcmf_before,
        api.get("demo").await.unwrap().resource_version()
    );

    // Paused: spec changes are not applied.
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    wait_for("Paused condition", TIMEOUT, || async {
        api.get("demo").await.ok().and_then(|k| {
            k.status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")
                .map(|c| c.reason == "Paused")
        }) == Some(true)
    })
    .await;
    let paused_versions = child_versions(&c, &ns, "demo").await;
    let changed = api
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"matcher": {"replicas": 2, "config": {"rateLimit": 7}}}}),
            ),
        )
        .await
        .unwrap();
    // The operator has reconciled the change (while paused) once its Paused condition names
    // the new generation: only then is "nothing changed" evidence, not a race with a sleep.
    let generation = changed.metadata.generation;
    wait_for(
        "the paused reconcile of the new generation",
        TIMEOUT,
        || async {
            api.get("demo").await.ok().and_then(|k| {
                k.status?
                    .conditions
                    .into_iter()
                    .find(|c| c.type_ == "Ready")
                    .map(|c| c.reason == "Paused" && c.observed_generation == generation)
            }) == Some(true)
        },
    )
    .await;
    // The HPA's status is written by the HPA controller when the scale target's replicas
    // change, so it is left out; everything the operator writes must be unchanged.
    let without_hpa = |mut m: BTreeMap<String, String>| {
        m.retain(|k, _| !k.starts_with("HorizontalPodAutoscaler/"));
        m
    };
    assert_eq!(
        without_hpa(paused_versions),
        without_hpa(child_versions(&c, &ns, "demo").await),
        "paused object changed"
    );
    assert_eq!(
        deps.get("demo-matcher")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(1)
    );
    // Unpause: the pending change is applied.
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    wait_for("unpaused change applied", TIMEOUT, || async {
        deps.get("demo-matcher")
            .await
            .ok()
            .and_then(|d| d.spec?.replicas)
            == Some(2)
    })
    .await;
    wait_ready(&api, "demo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_stored_spec_gets_condition_naming_the_field() {
    // The CEL rules stop bad specs at the API server; a spec the schema accepts but the
    // operator rejects (cron minute out of range) gets Ready=False/InvalidSpec naming the field.
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-invalid").await;
    let _op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    create_kcmf(&ns, "demo", json!({"backup": {"schedule": "75 3 * * *"}}));
    wait_for("InvalidSpec condition", TIMEOUT, || async {
        api.get("demo").await.ok().and_then(|k| {
            k.status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")
                .map(|c| c.reason == "InvalidSpec" && c.message.contains("spec.backup.schedule"))
        }) == Some(true)
    })
    .await;
    assert!(get::<Deployment>(&c, &ns, "demo-matcher").await.is_none());
    let events = kubectl_ok(&["get", "events.events.k8s.io", "-n", &ns, "-o", "json"]);
    assert!(events.contains("InvalidSpec"));

    // A set id of the right shape but no real time (month 13): the API server lets it
    // through, the operator names the field and starts no restore.
    create_kcmf(
        &ns,
        "demo2",
        json!({"backup": {"schedule": "@daily"}, "restore": {"set": "20261399T030000Z"}}),
    );
    wait_for(
        "InvalidSpec condition naming spec.restore.set",
        TIMEOUT,
        || async {
            api.get("demo2").await.ok().and_then(|k| {
                k.status?
                    .conditions
                    .into_iter()
                    .find(|c| c.type_ == "Ready")
                    .map(|c| c.reason == "InvalidSpec" && c.message.contains("spec.restore.set"))
            }) == Some(true)
        },
    )
    .await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), &ns);
    assert!(
        jobs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_chart_lints_and_applies_server_side() {
    let _c = client().await;
    install_crds();
    let chart = repo_root().join("charts/kcmf-operator");
    let chart = chart.to_str().unwrap();
    let lint = Command::new("helm")
        .args(["lint", chart])
        .output()
        .expect("run helm");
    assert!(
        lint.status.success(),
        "helm lint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    for extra in [&[][..], &["--set", "watchNamespace=default"][..]] {
        let mut args = vec![
            "template",
            "kcmf",
            chart,
            "--namespace",
            "default",
            "--include-crds",
        ];
        args.extend_from_slice(extra);
        let t = Command::new("helm")
            .args(&args)
            .output()
            .expect("helm template");
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        let out = kubectl_stdin(
            &["apply", "--dry-run=server", "-f", "-"],
            &String::from_utf8_lossy(&t.stdout),
        );
        assert!(
            out.status.success(),
            "dry-run apply: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_works_with_the_charts_least_privilege_rbac() {
    // Render the chart for one namespace (Role instead of ClusterRole), apply its RBAC and
    // ServiceAccount, and run the operator with that ServiceAccount's token.
    let c = client().await;
    install_crds();
    let _serial = SERVICE_MONITOR_CRD.lock().await;
    let ns = namespace(&c, "kcmf-e2e-rbac").await;
    let chart = repo_root().join("charts/kcmf-operator");
    let t = Command::new("helm")
        .args([
            "template",
            "kcmf",
            chart.to_str().unwrap(),
            "--namespace",
            &ns,
            "--set",
            &format!("watchNamespace={ns}"),
            "--show-only",
            "templates/rbac.yaml",
            "--show-only",
            "templates/serviceaccount.yaml",
        ])
        .output()
        .expect("helm template");
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let rendered = String::from_utf8_lossy(&t.stdout).into_owned();
    assert!(
        !rendered.contains("kind: ClusterRole"),
        "namespaced install must not need a ClusterRole"
    );
    let out = kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &rendered);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = kubectl_ok(&[
        "create",
        "token",
        "kcmf-kcmf-operator",
        "-n",
        &ns,
        "--duration=1h",
    ]);
    let server = kubectl_ok(&[
        "config",
        "view",
        "--raw",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.server}",
    ]);
    let ca = kubectl_ok(&[
        "config",
        "view",
        "--raw",
        "--minify",
        "-o",
        "jsonpath={.clusters[0].cluster.certificate-authority-data}",
    ]);
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: sa\n  user:\n    token: {}\ncontexts:\n- name: sa\n  context: {{cluster: c, user: sa, namespace: {ns}}}\ncurrent-context: sa\n",
        token.trim()
    );
    let dir = repo_root().join("target/op/cluster-logs");
    std::fs::create_dir_all(&dir).unwrap();
    let kc_path = dir.join(format!("{ns}.kubeconfig"));
    std::fs::write(&kc_path, kubeconfig).unwrap();

    let port = free_port();
    let log = dir.join(format!("{ns}-{}.log", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kcmf-operator"))
        .arg("run")
        .env("KUBECONFIG", &kc_path)
        .env("WATCH_NAMESPACE", &ns)
        .env("POD_NAMESPACE", &ns)
        .env("LEADER_ELECTION", "true")
        .env("LEASE_NAME", "kcmf-operator-rbac")
        .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_LEVEL", "info,kcmf_operator=debug")
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .expect("start operator");
    let mut op = Operator {
        child,
        stopped: false,
        metrics: format!("http://127.0.0.1:{port}"),
        log,
    };

    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    create_kcmf(
        &ns,
        "demo",
        json!({"matcher": {"autoscaling": {"minReplicas": 1, "maxReplicas": 2}},
               "backup": {"schedule": "@daily"}, "monitoring": {"serviceMonitor": true},
               "restore": {"set": "latest"}}),
    );
    wait_ready(&api, "demo").await;
    // The restore Job is created and read, with its pod, under the chart's RBAC.
    wait_for("restore Succeeded under chart RBAC", TIMEOUT, || async {
        last_restore(&api, "demo")
            .await
            .is_some_and(|r| r.result == "Succeeded")
    })
    .await;
    // Deletion verbs: drop the HPA and the managed Redis.
    let s = kubectl_stdin(
        &["apply", "-n", &ns, "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "redis-url"},
                "stringData": {"url": "redis://:pw@redis.example:6379/0"}})
        .to_string(),
    );
    assert!(s.status.success());
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {
            "redis": {"managed": null, "external": {"urlSecretRef": {"name": "redis-url", "key": "url"}}},
            "matcher": {"autoscaling": null}}})),
    )
    .await
    .unwrap();
    wait_for("Redis StatefulSet and HPA deleted", TIMEOUT, || async {
        get::<StatefulSet>(&c, &ns, "demo-redis").await.is_none()
            && get::<HorizontalPodAutoscaler>(&c, &ns, "demo")
                .await
                .is_none()
    })
    .await;
    wait_ready(&api, "demo").await;
    let m = op.metrics().await;
    assert!(
        !m.contains("kcmf_operator_reconcile_errors_total"),
        "errors under chart RBAC: {m}"
    );
    op.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_cronjob_and_manual_run_reported_in_status() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-backup").await;
    let _op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    create_kcmf(
        &ns,
        "demo",
        json!({"backup": {"schedule": "0 4 * * *", "suspend": true, "retentionDays": 9, "verify": true}}),
    );
    let k = wait_ready(&api, "demo").await;
    let cj: CronJob = get(&c, &ns, "demo-backup").await.expect("cronjob");
    assert_owned(&cj, &k);
    let spec = cj.spec.clone().unwrap();
    assert_eq!(spec.schedule, "0 4 * * *");
    assert_eq!(spec.suspend, Some(true));
    let pod = spec.job_template.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.automount_service_account_token, Some(false));
    let psc = pod.security_context.clone().unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert!(pod.volumes.iter().flatten().any(|v| {
        v.name == "backups"
            && v.persistent_volume_claim
                .as_ref()
                .is_some_and(|p| p.claim_name == "demo-backups")
    }));
    let ctr = &pod.containers[0];
    assert!(
        ctr.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.name == "backups"
                && m.mount_path == "/backups"
                && m.read_only != Some(true))
    );
    let args = ctr.args.clone().unwrap();
    assert_eq!(args[..2], ["backup".to_string(), "run".into()]);
    let env: BTreeMap<String, Option<String>> = ctr
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone()))
        .collect();
    assert!(env.contains_key("DATABASE_URL") && env.contains_key("REDIS_URL"));
    assert_eq!(env["KCMF_BACKUP_DIR"].as_deref(), Some("/backups"));
    assert_eq!(env["KCMF_BACKUP_RETENTION_DAYS"].as_deref(), Some("9"));
    assert_eq!(env["KCMF_BACKUP_VERIFY"].as_deref(), Some("true"));
    let sc = ctr.security_context.clone().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert!(
        sc.capabilities
            .and_then(|c| c.drop)
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
    );
    // Suspended, never scheduled: no lastBackup yet.
    assert!(k.status.as_ref().unwrap().last_backup.is_none());

    // A manual run does not touch the CronJob's status; the operator reads the Job.
    kubectl_ok(&[
        "create",
        "job",
        "--from=cronjob/demo-backup",
        "manual-1",
        "-n",
        &ns,
    ]);
    let jobs: Api<Job> = Api::namespaced(c.clone(), &ns);
    wait_for("manual-1 complete", TIMEOUT, || async {
        jobs.get_opt("manual-1")
            .await
            .ok()
            .flatten()
            .and_then(|j| j.status)
            .and_then(|s| s.conditions)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Complete" && c.status == "True")
            })
    })
    .await;
    let job = jobs.get("manual-1").await.unwrap();
    let started = job.status.as_ref().and_then(|s| s.start_time.clone());
    wait_for("status.lastBackup Succeeded", TIMEOUT, || async {
        api.get("demo")
            .await
            .ok()
            .and_then(|k| k.status)
            .and_then(|s| s.last_backup)
            .is_some_and(|lb| {
                lb.result.as_deref() == Some("Succeeded")
                    && lb.time == started
                    && lb.last_success_time.is_some()
            })
    })
    .await;
    // kwok runs no container, so no termination message: the status tells what the Job tells
    // and says the set is unknown, never a made-up set name.
    let lb = last_backup(&api, "demo").await.unwrap();
    assert_eq!(lb.job.as_deref(), Some("manual-1"));
    assert_eq!((lb.set.clone(), lb.verified), (None, None));
    assert!(
        lb.message
            .as_deref()
            .is_some_and(|m| m.contains("no termination message")),
        "{lb:?}"
    );
    assert!(last_verified(&api, "demo").await.is_none());
    wait_for("BackupSucceeded event", TIMEOUT, || async {
        !events(&c, &ns, "BackupSucceeded", "manual-1")
            .await
            .is_empty()
    })
    .await;
    let ev = assert_one_event(&c, &ns, "BackupSucceeded", "manual-1").await;
    assert_eq!(ev.type_.as_deref(), Some("Normal"));

    // What kubelet reports for a real run: the matcher's JSON result as termination message.
    let set = "20261128T040000Z";
    set_termination_message(
        &c,
        &ns,
        "manual-1",
        &json!({"kind": "backup", "result": "Succeeded", "set": set,
                "startedAt": "2026-11-28T04:00:00.250Z", "finishedAt": "2026-11-28T04:01:02.5Z",
                "verified": true, "deleted": []}),
    )
    .await;
    wait_for(
        "lastBackup.set from the termination message",
        TIMEOUT,
        || async {
            last_backup(&api, "demo")
                .await
                .is_some_and(|lb| lb.set.as_deref() == Some(set) && lb.verified == Some(true))
        },
    )
    .await;
    let lb = last_backup(&api, "demo").await.unwrap();
    assert_eq!(lb.message, None);
    assert_eq!(lb.result.as_deref(), Some("Succeeded"));
    let lv = last_verified(&api, "demo").await.expect("lastVerified");
    assert_eq!(lv.set, set);
    assert_eq!(lv.job.as_deref(), Some("manual-1"));
    assert_eq!(
        serde_json::to_value(&lv.time).unwrap(),
        json!("2026-11-28T04:01:02Z")
    );
    // The same Job is not reported again (several reconciles happened since).
    touch(&ns, "demo", "1");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_one_event(&c, &ns, "BackupSucceeded", "manual-1").await;

    // A failed run: a Job from the template that cannot be scheduled and times out.
    let out = kubectl_ok(&[
        "create",
        "job",
        "--from=cronjob/demo-backup",
        "manual-2",
        "-n",
        &ns,
        "--dry-run=client",
        "-o",
        "json",
    ]);
    let mut failing: serde_json::Value = serde_json::from_str(&out).unwrap();
    failing["spec"]["activeDeadlineSeconds"] = json!(2);
    failing["spec"]["template"]["spec"]["nodeSelector"] = json!({"kcmf.io/test": "no-such-node"});
    let applied = kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &failing.to_string());
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    wait_for("lastBackup Failed (manual-2)", TIMEOUT, || async {
        last_backup(&api, "demo").await.is_some_and(|lb| {
            lb.job.as_deref() == Some("manual-2") && lb.result.as_deref() == Some("Failed")
        })
    })
    .await;
    let lb = last_backup(&api, "demo").await.unwrap();
    assert_eq!(lb.set, None);
    assert!(
        lb.message
            .as_deref()
            .is_some_and(|m| m.contains("DeadlineExceeded")),
        "{lb:?}"
    );
    // The last success and the last verified set stay what they were.
    assert!(lb.last_success_time.is_some());
    assert_eq!(
        last_verified(&api, "demo").await.map(|v| v.set),
        Some(set.into())
    );
    wait_for("BackupFailed event", TIMEOUT, || async {
        !events(&c, &ns, "BackupFailed", "manual-2").await.is_empty()
    })
    .await;
    let ev = assert_one_event(&c, &ns, "BackupFailed", "manual-2").await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    assert_one_event(&c, &ns, "BackupSucceeded", "manual-1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declarative_restore_starts_one_job_and_reports_it() {
    let c = client().await;
    install_crds();
    let ns = namespace(&c, "kcmf-e2e-restore").await;
    let _op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let jobs: Api<Job> = Api::namespaced(c.clone(), &ns);
    let deps: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    create_kcmf(
        &ns,
        "demo",
        json!({"backup": {"schedule": "0 4 * * *", "suspend": true, "verify": true}}),
    );
    let k = wait_ready(&api, "demo").await;
    assert!(k.status.as_ref().unwrap().last_restore.is_none());
    let restore_jobs = || async {
        let mut names: Vec<String> = jobs
            .list(
                &ListParams::default()
                    .labels("app.kubernetes.io/instance=demo,app.kubernetes.io/component=restore"),
            )
            .await
            .expect("list jobs")
            .items
            .iter()
            .map(|j| j.name_any())
            .collect();
        names.sort();
        names
    };
    assert!(restore_jobs().await.is_empty());
    let restored_by = || async {
        deps.get("demo-matcher")
            .await
            .ok()
            .and_then(|d| d.spec?.template.metadata?.annotations)
            .and_then(|a| a.get("kcmf.io/restored-by").cloned())
    };
    assert_eq!(restored_by().await, None);

    // Setting spec.restore.set starts one restore Job.
    let set = "20261128T030000Z";
    let first = names::restore_job("demo", set, None, None);
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"restore": {"set": set}}})),
    )
    .await
    .unwrap();
    wait_for("lastRestore Succeeded", TIMEOUT, || async {
        last_restore(&api, "demo")
            .await
            .is_some_and(|r| r.job == first && r.result == "Succeeded")
    })
    .await;
    assert_eq!(restore_jobs().await, vec![first.clone()]);
    let lr = last_restore(&api, "demo").await.unwrap();
    assert_eq!((lr.set.as_str(), lr.id.as_deref()), (set, None));
    assert!(lr.time.is_some() && lr.completion_time.is_some(), "{lr:?}");
    // kwok: no termination message, so the restored and safety sets are unknown, and said so.
    assert_eq!(
        (lr.restored_set.clone(), lr.safety_set.clone()),
        (None, None)
    );
    assert!(
        lr.message
            .as_deref()
            .is_some_and(|m| m.contains("no termination message")),
        "{lr:?}"
    );

    // The Job: `restore --from SET --yes` with the backup CronJob's volume, env and security.
    let job = jobs.get(&first).await.unwrap();
    assert_owned(&job, &k);
    let spec = job.spec.clone().unwrap();
    assert_eq!(spec.backoff_limit, Some(0));
    let pod = spec.template.spec.clone().unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let ctr = &pod.containers[0];
    assert_eq!(ctr.command, Some(vec!["kcmf-matcher".to_string()]));
    assert_eq!(
        ctr.args.clone().unwrap(),
        [
            "restore",
            "--from",
            set,
            "--yes",
            "--config",
            "/etc/kcmf/config.yaml"
        ]
    );
    let cj: CronJob = get(&c, &ns, "demo-backup").await.expect("cronjob");
    let bpod = cj
        .spec
        .unwrap()
        .job_template
        .spec
        .unwrap()
        .template
        .spec
        .unwrap();
    let bctr = &bpod.containers[0];
    assert_eq!(pod.volumes, bpod.volumes);
    assert!(pod.volumes.iter().flatten().any(|v| {
        v.persistent_volume_claim
            .as_ref()
            .is_some_and(|p| p.claim_name == "demo-backups")
    }));
    assert_eq!(pod.security_context, bpod.security_context);
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert_eq!(ctr.security_context, bctr.security_context);
    assert_eq!(
        ctr.security_context
            .as_ref()
            .unwrap()
            .read_only_root_filesystem,
        Some(true)
    );
    assert_eq!(ctr.volume_mounts, bctr.volume_mounts);
    assert_eq!(ctr.image, bctr.image);
    let env = |c: &k8s_openapi::api::core::v1::Container| -> BTreeMap<String, String> {
        c.env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), format!("{:?}{:?}", e.value, e.value_from)))
            .collect()
    };
    let (renv, benv) = (env(ctr), env(bctr));
    for k in [
        "DATABASE_URL",
        "REDIS_URL",
        "KCMF_BACKUP_DIR",
        "KCMF_DATA_DIR",
    ] {
        assert!(renv.contains_key(k), "restore Job lacks {k}");
        assert_eq!(renv.get(k), benv.get(k), "{k}");
    }
    // Restarted matcher pods after the restore: the template names the restore Job.
    wait_for("matcher template names the restore", TIMEOUT, || async {
        restored_by().await.as_deref() == Some(first.as_str())
    })
    .await;
    assert_one_event(&c, &ns, "RestoreStarted", &first).await;
    wait_for("RestoreSucceeded event", TIMEOUT, || async {
        !events(&c, &ns, "RestoreSucceeded", &first).await.is_empty()
    })
    .await;
    assert_one_event(&c, &ns, "RestoreSucceeded", &first).await;

    // Reconciles without a spec change start nothing.
    touch(&ns, "demo", "1");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(restore_jobs().await, vec![first.clone()]);

    // The termination message (what kubelet reports for a real run) names the sets.
    let safety = "20261128T101502Z-pre-restore";
    set_termination_message(
        &c,
        &ns,
        &first,
        &json!({"kind": "restore", "result": "Succeeded", "set": set, "safetySet": safety,
                "startedAt": "2026-11-28T10:15:02Z", "finishedAt": "2026-11-28T10:15:40Z"}),
    )
    .await;
    wait_for(
        "lastRestore sets from the termination message",
        TIMEOUT,
        || async {
            last_restore(&api, "demo").await.is_some_and(|r| {
                r.restored_set.as_deref() == Some(set) && r.safety_set.as_deref() == Some(safety)
            })
        },
    )
    .await;
    assert_eq!(last_restore(&api, "demo").await.unwrap().message, None);

    // Deleting the Job does not restore again: a request runs at most once.
    jobs.delete(&first, &DeleteParams::background())
        .await
        .unwrap();
    wait_for("restore Job deleted", TIMEOUT, || async {
        jobs.get_opt(&first).await.ok().flatten().is_none()
    })
    .await;
    touch(&ns, "demo", "2");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(restore_jobs().await.is_empty());
    let lr = last_restore(&api, "demo").await.unwrap();
    assert_eq!(
        (lr.job.as_str(), lr.result.as_str()),
        (first.as_str(), "Succeeded")
    );

    // A new request id restores the same set once more: one more Job.
    let second = names::restore_job("demo", set, Some("again"), Some(&first));
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"restore": {"id": "again"}}})),
    )
    .await
    .unwrap();
    wait_for("second restore Succeeded", TIMEOUT, || async {
        last_restore(&api, "demo")
            .await
            .is_some_and(|r| r.job == second && r.result == "Succeeded")
    })
    .await;
    assert_eq!(restore_jobs().await, vec![second.clone()]);
    assert_eq!(
        last_restore(&api, "demo").await.unwrap().id.as_deref(),
        Some("again")
    );
    wait_for(
        "matcher template names the second restore",
        TIMEOUT,
        || async { restored_by().await.as_deref() == Some(second.as_str()) },
    )
    .await;
    assert_one_event(&c, &ns, "RestoreStarted", &second).await;

    // Changing back to the first request is a change too: one more Job, with a new name.
    let third = names::restore_job("demo", set, None, Some(&second));
    assert_ne!(third, first);
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"restore": {"id": null}}})),
    )
    .await
    .unwrap();
    wait_for("third restore Succeeded", TIMEOUT, || async {
        last_restore(&api, "demo")
            .await
            .is_some_and(|r| r.job == third && r.result == "Succeeded")
    })
    .await;
    let mut want = vec![second.clone(), third.clone()];
    want.sort();
    assert_eq!(restore_jobs().await, want);
    assert_one_event(&c, &ns, "RestoreSucceeded", &third).await;
    wait_ready(&api, "demo").await;
}

/// Serialises the tests that depend on whether the ServiceMonitor CRD exists: the one that
/// installs it and the RBAC test (whose object asks for a ServiceMonitor).
static SERVICE_MONITOR_CRD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SERVICE_MONITOR_CRD_NAME: &str = "servicemonitors.monitoring.coreos.com";
const PROMETHEUS_RULE_CRD_NAME: &str = "prometheusrules.monitoring.coreos.com";

/// Deletes one of the test's Prometheus-operator CRDs when dropped, also when the test fails.
struct CrdGuard(&'static str);

impl Drop for CrdGuard {
    fn drop(&mut self) {
        let out = kubectl(&[
            "delete",
            "crd",
            self.0,
            "--ignore-not-found",
            "--wait=true",
            "--timeout=60s",
        ]);
        if !out.status.success() {
            eprintln!(
                "could not delete the CRD {}: {}",
                self.0,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A minimal stand-in for one of the Prometheus operator's CRDs (`monitoring.coreos.com/v1`,
/// namespaced, any content), applied and waited for until Established; deleted when the
/// returned guard drops.
fn stand_in_crd(name: &'static str, kind: &str, plural: &str) -> CrdGuard {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "labels": {"kcmf.io/test": "cluster"}},
        "spec": {
            "group": "monitoring.coreos.com",
            "names": {"kind": kind, "listKind": format!("{kind}List"),
                      "plural": plural, "singular": kind.to_lowercase()},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object",
                                     "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    });
    let guard = CrdGuard(name);
    let out = kubectl_stdin(&["apply", "--server-side", "-f", "-"], &crd.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_established(name);
    guard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_monitor_and_prometheus_rule_created_where_their_crds_are_served() {
    let c = client().await;
    install_crds();
    let _serial = SERVICE_MONITOR_CRD.lock().await;
    let _crd = stand_in_crd(
        SERVICE_MONITOR_CRD_NAME,
        "ServiceMonitor",
        "servicemonitors",
    );
    let _rule_crd = stand_in_crd(
        PROMETHEUS_RULE_CRD_NAME,
        "PrometheusRule",
        "prometheusrules",
    );
    // The operator caches discovery for a minute: start it only once the API is served.
    wait_for("monitoring.coreos.com/v1 served", TIMEOUT, || async {
        c.list_api_group_resources("monitoring.coreos.com/v1")
            .await
            .is_ok_and(|l| {
                ["servicemonitors", "prometheusrules"]
                    .iter()
                    .all(|want| l.resources.iter().any(|r| r.name == *want))
            })
    })
    .await;
    let ns = namespace(&c, "kcmf-e2e-servicemonitor").await;
    let mut op = Operator::start(&ns, false);
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let sms: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        &ns,
        &kcmf_operator::build::service_monitor_resource(),
    );
    let rules: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        &ns,
        &kcmf_operator::build::prometheus_rule_resource(),
    );
    create_kcmf(
        &ns,
        "demo",
        json!({"monitoring": {"serviceMonitor": true, "prometheusRule": true}}),
    );
    let k = wait_ready(&api, "demo").await;
    wait_for(
        "ServiceMonitor and PrometheusRule demo",
        TIMEOUT,
        || async {
            sms.get_opt("demo").await.ok().flatten().is_some()
                && rules.get_opt("demo").await.ok().flatten().is_some()
        },
    )
    .await;
    // The alerts select this object's scrape targets: its namespace and the job the
    // ServiceMonitor gives them (the matcher Service's name).
    let pr = rules.get("demo").await.unwrap();
    assert_owned(&pr, &k);
    let groups = pr.data["spec"]["groups"].as_array().expect("spec.groups");
    let exprs: Vec<&str> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter_map(|r| r["expr"].as_str())
        .collect();
    assert!(!exprs.is_empty(), "{pr:?}");
    for e in &exprs {
        assert!(!e.contains('$'), "a placeholder left in {e}");
    }
    assert!(
        exprs
            .iter()
            .any(|e| e.contains("job=\"demo-matcher\"")
                && e.contains(&format!("namespace=\"{ns}\""))),
        "{exprs:?}"
    );
    let sm = sms.get("demo").await.unwrap();
    assert_owned(&sm, &k);
    let ep = &sm.data["spec"]["endpoints"][0];
    assert_eq!(ep["port"], "metrics");
    assert_eq!(ep["path"], "/metrics");
    // It selects the matcher Service, whose `metrics` port is 9090.
    let sel = &sm.data["spec"]["selector"]["matchLabels"];
    assert_eq!(sel["app.kubernetes.io/instance"], "demo");
    assert_eq!(sel["app.kubernetes.io/component"], "matcher");
    let svc: Service = get(&c, &ns, "demo-matcher").await.expect("matcher service");
    let svc_labels = svc.metadata.labels.clone().unwrap_or_default();
    for (k, v) in sel.as_object().unwrap() {
        assert_eq!(svc_labels.get(k).map(String::as_str), v.as_str(), "{k}");
    }
    assert!(
        svc.spec
            .unwrap()
            .ports
            .unwrap()
            .iter()
            .any(|p| { p.name.as_deref() == Some("metrics") && p.port == 9090 })
    );
    // Turned off: the ServiceMonitor is deleted.
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"monitoring": {"serviceMonitor": false}}})),
    )
    .await
    .unwrap();
    wait_for("ServiceMonitor deleted", TIMEOUT, || async {
        sms.get_opt("demo").await.ok().flatten().is_none()
    })
    .await;
    // the PrometheusRule is still wanted, so kept
    assert!(rules.get_opt("demo").await.unwrap().is_some());
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"monitoring": {"prometheusRule": false}}})),
    )
    .await
    .unwrap();
    wait_for("PrometheusRule deleted", TIMEOUT, || async {
        rules.get_opt("demo").await.ok().flatten().is_none()
    })
    .await;
    drop(_rule_crd);
    wait_ready(&api, "demo").await;

    // The CRD removed under the running operator, which still has "served" cached (a minute):
    // a ServiceMonitor it then fails to apply is skipped, not a reconcile error.
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"monitoring": {"serviceMonitor": true}}})),
    )
    .await
    .unwrap();
    wait_for("ServiceMonitor demo again", TIMEOUT, || async {
        sms.get_opt("demo").await.ok().flatten().is_some()
    })
    .await;
    drop(_crd);
    wait_for("monitoring.coreos.com/v1 gone", TIMEOUT, || async {
        c.list_api_group_resources("monitoring.coreos.com/v1")
            .await
            .is_err()
    })
    .await;
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"matcher": {"replicas": 2}}})),
    )
    .await
    .unwrap();
    wait_ready(&api, "demo").await;
    let m = op.metrics().await;
    assert!(m.contains("kcmf_operator_reconciles_total"), "{m}");
    assert!(
        !m.contains("kcmf_operator_reconcile_errors_total"),
        "reconcile errors after the CRD was removed: {m}"
    );
    op.stop().await;
}
