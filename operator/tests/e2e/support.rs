//! What the end-to-end tests share: the operator's Helm install, the installation's Service,
//! key and pods, calls through the Service (curl and a bounded load generator), psql in the
//! PostgreSQL pod, and waits for the states a real node reaches.

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Secret, Service};
use kcmf_operator::build::names;
use kcmf_operator::crd::{KcmfDeployment, LastRestore};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::common::*;

/// Pods start for real here (PostgreSQL runs initdb): far longer than on kwok.
pub const READY_TIMEOUT: Duration = Duration::from_secs(300);

pub const OPERATOR_NS: &str = "kcmf-system";

pub const RELEASE: &str = "kcmf-operator";

/// An image reference from the environment `hack/images/build.sh` writes.
pub fn image(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: build and load the images with hack/images/build.sh and source \
             the env file it prints"
        ),
    }
}

/// `repo/name:tag` → (`repo/name`, `tag`).
pub fn split_ref(r: &str) -> (String, String) {
    match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => panic!("image reference {r} has no tag"),
    }
}

/// `helm upgrade --install` of the chart, once per test binary; the result is shared.
pub fn operator_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let r = INSTALLED.get_or_init(|| {
        let (repo, tag) = split_ref(&image("KCMF_IMAGE_OPERATOR"));
        let chart = repo_root().join("charts/kcmf-operator");
        let out = Command::new("helm")
            .args([
                "upgrade",
                "--install",
                RELEASE,
                chart.to_str().unwrap(),
                "--namespace",
                OPERATOR_NS,
                "--create-namespace",
                "--set",
                &format!("image.repository={repo}"),
                "--set",
                &format!("image.tag={tag}"),
                "--set",
                "image.pullPolicy=IfNotPresent",
                "--set",
                &format!("defaultImages.matcher={}", image("KCMF_IMAGE_MATCHER")),
                "--set",
                &format!("defaultImages.redis={}", image("KCMF_IMAGE_REDIS")),
                "--set",
                &format!("defaultImages.postgres={}", image("KCMF_IMAGE_POSTGRES")),
                "--set",
                "logFormat=text",
                "--wait",
                "--timeout",
                "5m",
            ])
            .output()
            .map_err(|e| format!("run helm: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "helm install failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// The operator's pods (the chart's selector labels).
pub async fn operator_pods(c: &Client) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(c.clone(), OPERATOR_NS);
    pods.list(&ListParams::default().labels("app.kubernetes.io/name=kcmf-operator"))
        .await
        .expect("list operator pods")
        .items
}

pub fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn pod_ip(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .unwrap_or_else(|| panic!("pod {} has no IP", p.name_any()))
}

/// `curl` against a Service from the host (kube-proxy's rules route the ClusterIP).
pub fn curl_json(url: &str, key: &str, body: &Value) -> (u16, Value) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-m",
            "60",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-H",
            &format!("X-API-Key: {key}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
            url,
        ])
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (payload, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let code: u16 = code.trim().parse().unwrap_or(0);
    let v = serde_json::from_str(payload).unwrap_or(Value::String(payload.to_string()));
    (code, v)
}

pub async fn service_url(c: &Client, ns: &str, name: &str, port: u16) -> String {
    let svc: Api<Service> = Api::namespaced(c.clone(), ns);
    let s = svc.get(name).await.expect("get Service");
    let ip = s
        .spec
        .and_then(|s| s.cluster_ip)
        .expect("Service has a ClusterIP");
    format!("http://{ip}:{port}")
}

/// The first key of the generated Secret's `VALID_API_KEYS`.
pub async fn generated_key(c: &Client, ns: &str, name: &str) -> String {
    let secrets: Api<Secret> = Api::namespaced(c.clone(), ns);
    let s = secrets
        .get(&names::secret(name))
        .await
        .expect("generated Secret");
    let raw = s
        .data
        .and_then(|d| d.get("VALID_API_KEYS").cloned())
        .expect("VALID_API_KEYS in the generated Secret");
    let keys = String::from_utf8(raw.0).expect("utf-8 keys");
    keys.split(',').next().unwrap().trim().to_string()
}

/// The first Running pod with these labels.
pub async fn pod_of(c: &Client, ns: &str, instance: &str, component: &str) -> Pod {
    let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
    let sel =
        format!("app.kubernetes.io/instance={instance},app.kubernetes.io/component={component}");
    let list = pods
        .list(&ListParams::default().labels(&sel))
        .await
        .expect("list pods");
    list.items
        .into_iter()
        .find(pod_ready)
        .unwrap_or_else(|| panic!("no Ready {component} pod for {instance}"))
}

pub fn exec(ns: &str, pod: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", "-n", ns, pod, "--"];
    args.extend_from_slice(cmd);
    kubectl_ok(&args)
}

pub async fn wait_kcmf_ready(api: &Api<KcmfDeployment>, name: &str) -> Duration {
    let start = Instant::now();
    let mut last = None;
    loop {
        if let Ok(k) = api.get(name).await {
            let ready = k.status.as_ref().is_some_and(|st| {
                st.observed_generation == k.metadata.generation
                    && st
                        .conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True")
            });
            if ready {
                return start.elapsed();
            }
            last = k.status;
        }
        assert!(
            start.elapsed() < READY_TIMEOUT,
            "{name} not Ready within {READY_TIMEOUT:?}: status {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Creates or updates a KcmfDeployment from a spec (`kubectl apply`, as a user would).
pub fn apply_kcmf(ns: &str, name: &str, spec: Value) {
    let obj = json!({
        "apiVersion": "kcmf.io/v1alpha1", "kind": "KcmfDeployment",
        "metadata": {"name": name, "namespace": ns}, "spec": spec
    });
    let out = kubectl_stdin(&["apply", "-f", "-"], &obj.to_string());
    assert!(
        out.status.success(),
        "apply {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn merge_patch(ns: &str, name: &str, patch: Value) {
    kubectl_ok(&[
        "patch",
        "-n",
        ns,
        &format!("kcmf/{name}"),
        "--type=merge",
        "-p",
        &patch.to_string(),
    ]);
}

pub fn psql(ns: &str, pod: &str, sql: &str) -> String {
    exec(
        ns,
        pod,
        &["psql", "-U", "kcmf", "-d", "kcmf", "-At", "-c", sql],
    )
}

/// Rows of `match_history` in the installation's managed PostgreSQL.
pub async fn history_rows(c: &Client, ns: &str, name: &str) -> i64 {
    let pg = pod_of(c, ns, name, "postgres").await;
    let out = psql(ns, &pg.name_any(), "SELECT count(*) FROM match_history");
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("count(*) answered {out:?}"))
}

/// Waits until `match_history` holds at least `n` rows and the count has settled (the
/// matcher writes history in batches, a moment after answering); returns the count.
pub async fn wait_history_rows(c: &Client, ns: &str, name: &str, n: i64) -> i64 {
    let start = Instant::now();
    let mut last = -1;
    loop {
        let rows = history_rows(c, ns, name).await;
        if rows >= n && rows == last {
            return rows;
        }
        last = rows;
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "history holds {rows} rows, not {n}, a minute after the calls"
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

/// `n` distinct entity calls (each writes one history row).
pub fn entity_calls(base: &str, key: &str, tag: &str, n: usize) {
    for i in 0..n {
        let body = json!({"left": {"name": format!("{tag} {i}")}, "right": {"name": format!("{tag} {i}")}});
        let (code, v) = curl_json(&format!("{base}/api/v1/match/entity"), key, &body);
        assert_eq!(code, 200, "entity call {tag} {i}: {v}");
    }
}

/// Waits until an entity call through the Service answers 200; returns how long that took.
pub async fn wait_serving(base: &str, key: &str) -> Duration {
    let start = Instant::now();
    let url = format!("{base}/api/v1/match/entity");
    let body = json!({"left": {"name": "probe"}, "right": {"name": "probe"}}).to_string();
    loop {
        if http_post(&url, &[("X-API-Key", key)], &body).await == Some(200) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < READY_TIMEOUT,
            "the API did not recover within {READY_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A bounded load against the Service: one entity POST every 50 ms on a new connection, until
/// stopped or for at most five minutes. Each failure is kept with its time.
pub struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<(u64, Vec<String>)>,
}

impl Load {
    pub fn start(base: &str, key: &str) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (flag, url, key) = (
            stop.clone(),
            format!("{base}/api/v1/match/entity"),
            key.to_string(),
        );
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let (mut ok, mut failed) = (0u64, Vec::new());
            let mut i = 0u64;
            while !flag.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(300) {
                i += 1;
                let body = json!({"left": {"name": format!("load {}", i % 50)}, "right": {"name": "load"}})
                    .to_string();
                match http_post(&url, &[("X-API-Key", &key)], &body).await {
                    Some(200) => ok += 1,
                    other => {
                        failed.push(format!("{:?} after {:?}: {other:?}", i, started.elapsed()))
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (ok, failed)
        });
        Self { stop, task }
    }

    pub async fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.task.await.expect("load task")
    }
}

pub async fn matcher_pods(c: &Client, ns: &str, name: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
    let sel = format!("app.kubernetes.io/instance={name},app.kubernetes.io/component=matcher");
    pods.list(&ListParams::default().labels(&sel))
        .await
        .expect("list matcher pods")
        .items
}

/// All `n` matcher pods Ready, none terminating, none of another template.
pub async fn wait_matcher_settled(c: &Client, ns: &str, name: &str, n: usize) {
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), ns);
    wait_for(
        &format!("{n} settled matcher pods"),
        READY_TIMEOUT,
        || async {
            let Ok(d) = deploys.get(&names::matcher(name)).await else {
                return false;
            };
            let settled = d.status.as_ref().is_some_and(|s| {
                s.observed_generation == d.metadata.generation
                    && s.updated_replicas == Some(n as i32)
                    && s.ready_replicas == Some(n as i32)
                    && s.replicas == Some(n as i32)
            });
            let pods = matcher_pods(c, ns, name).await;
            settled
                && pods.len() == n
                && pods
                    .iter()
                    .all(|p| p.metadata.deletion_timestamp.is_none() && pod_ready(p))
        },
    )
    .await;
}

pub async fn wait_restore(api: &Api<KcmfDeployment>, name: &str, set: &str) -> LastRestore {
    let start = Instant::now();
    loop {
        let lr = api
            .get(name)
            .await
            .ok()
            .and_then(|k| k.status?.last_restore);
        if let Some(lr) = &lr
            && lr.set == set
        {
            assert_ne!(lr.result, "Failed", "restore of {set} failed: {lr:?}");
            if lr.result == "Succeeded" {
                println!("e2e: restore of {set} in {:?}", start.elapsed());
                return lr.clone();
            }
        }
        assert!(
            start.elapsed() < READY_TIMEOUT,
            "restore of {set} not done within {READY_TIMEOUT:?}: {lr:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The named object is confirmed absent (a failed GET is not taken for absence).
pub async fn gone<K>(api: &Api<K>, name: &str) -> bool
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    matches!(api.get_opt(name).await, Ok(None))
}
