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
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Pod, Secret, Service,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kcmf_operator::crd::KcmfDeployment;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(90);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ has a parent")
        .to_path_buf()
}

/// A client for the cluster in KUBECONFIG; panics (fails the test) when none is reachable.
async fn client() -> Client {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: start the control plane with hack/k8s/up.sh and source its env.sh"
    );
    let c = Client::try_default()
        .await
        .expect("build a client from KUBECONFIG");
    c.apiserver_version()
        .await
        .expect("the API server in KUBECONFIG is not reachable");
    c
}

fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .output()
        .expect("run kubectl (is the control plane's env.sh sourced?)")
}

fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kubectl_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("kubectl output")
}

/// `kubectl apply -f crds/` and wait until the CRD is established.
fn install_crds() {
    let crds = repo_root().join("crds");
    kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        crds.to_str().unwrap(),
    ]);
    kubectl_ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/kcmfdeployments.kcmf.io",
    ]);
}

/// Fresh namespace named after the test.
async fn namespace(c: &Client, name: &str) -> String {
    let api: Api<Namespace> = Api::all(c.clone());
    if api.get_opt(name).await.expect("get ns").is_some() {
        let _ = api.delete(name, &DeleteParams::default()).await;
        wait_for(
            &format!("namespace {name} deleted"),
            Duration::from_secs(120),
            || async { api.get_opt(name).await.ok().flatten().is_none() },
        )
        .await;
    }
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    api.create(&PostParams::default(), &ns)
        .await
        .expect("create ns");
    // ServiceAccount admission rejects pods until the default ServiceAccount exists.
    let sa: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::namespaced(c.clone(), name);
    wait_for(
        "default ServiceAccount",
        Duration::from_secs(30),
        || async { sa.get_opt("default").await.ok().flatten().is_some() },
    )
    .await;
    name.to_string()
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if f().await {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The operator binary running as a child process, killed on drop.
struct Operator {
    child: Child,
    stopped: bool,
    metrics: String,
    log: PathBuf,
}

impl Operator {
    fn start(namespace: &str, leader_election: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = repo_root().join("target").join("op").join("cluster-logs");
        std::fs::create_dir_all(&dir).expect("log dir");
        let log = dir.join(format!("{namespace}-{}.log", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kcmf-operator"))
            .arg("run")
            .env("WATCH_NAMESPACE", namespace)
            .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
            .env("LEADER_ELECTION", leader_election.to_string())
            .env("POD_NAMESPACE", namespace)
            .env("LEASE_NAME", "kcmf-operator-test")
            .env("LOG_LEVEL", "info,kcmf_operator=debug")
            .stdout(file.try_clone().expect("log fd"))
            .stderr(file)
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

    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        // SIGTERM first so the lease is released, then make sure it is gone.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.stop();
        eprintln!("operator log: {}", self.log.display());
    }
}

/// Minimal HTTP/1.0 GET (no client dependency for two endpoints).
async fn http_get(url: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut s = tokio::net::TcpStream::connect(host).await.ok()?;
    s.write_all(format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let status = head.lines().next()?;
    status.contains(" 200 ").then(|| body.to_string())
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
    op.stop();
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
    api.patch(
        "demo",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"matcher": {"replicas": 2, "config": {"rateLimit": 7}}}})),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
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

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join(format!("{ns}-{}.log", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_kcmf-operator"))
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
               "backup": {"schedule": "@daily"}, "monitoring": {"serviceMonitor": true}}),
    );
    wait_ready(&api, "demo").await;
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
    op.stop();
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
}
