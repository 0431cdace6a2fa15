//! End-to-end tests on a real node: the operator installed by Helm runs as a pod from the image
//! built here, and every child of a `KcmfDeployment` really runs — matcher, Redis and PostgreSQL
//! pods from images built by `hack/images/build.sh`, Ready by their own probes, talking through
//! Services resolved by cluster DNS, with the generated Secret's key.
//!
//! Run (needs the `e2e` feature; never skipped — without the node or the images every test fails):
//!
//! ```sh
//! KCMF_K8S_NODE_MODE=real hack/k8s/up.sh && source /tmp/kcmf-k8s/env.sh
//! source "$(hack/images/build.sh --load | tail -n1)"   # exports KCMF_IMAGE_*
//! cargo test -p kcmf-operator --features e2e --test e2e -- --test-threads=1
//! ```
//!
//! The operator is installed once (the first test to need it) into `kcmf-system`; each test
//! uses its own namespace. Measured latencies are printed (`--nocapture` shows them).

mod common;

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use kcmf_operator::build::names;
use kcmf_operator::crd::KcmfDeployment;
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// Pods start for real here (PostgreSQL runs initdb): far longer than on kwok.
const READY_TIMEOUT: Duration = Duration::from_secs(300);
const OPERATOR_NS: &str = "kcmf-system";
const RELEASE: &str = "kcmf-operator";

/// An image reference from the environment `hack/images/build.sh` writes.
fn image(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: build and load the images with hack/images/build.sh and source \
             the env file it prints"
        ),
    }
}

/// `repo/name:tag` → (`repo/name`, `tag`).
fn split_ref(r: &str) -> (String, String) {
    match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => panic!("image reference {r} has no tag"),
    }
}

/// `helm upgrade --install` of the chart, once per test binary; the result is shared.
fn operator_installed() {
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
async fn operator_pods(c: &Client) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(c.clone(), OPERATOR_NS);
    pods.list(&ListParams::default().labels("app.kubernetes.io/name=kcmf-operator"))
        .await
        .expect("list operator pods")
        .items
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_ip(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .unwrap_or_else(|| panic!("pod {} has no IP", p.name_any()))
}

#[tokio::test]
async fn helm_installs_the_operator_as_a_pod_that_leads_and_serves_metrics() {
    let c = client().await;
    operator_installed();
    let pods = operator_pods(&c).await;
    assert_eq!(pods.len(), 1, "one operator pod: {pods:?}");
    let pod = &pods[0];
    assert!(pod_ready(pod), "operator pod not Ready: {:?}", pod.status);
    // It runs the image built here, not a registry's.
    let spec_image = pod.spec.as_ref().unwrap().containers[0].image.clone();
    assert_eq!(
        spec_image.as_deref(),
        Some(image("KCMF_IMAGE_OPERATOR").as_str())
    );

    // The Lease names this pod as holder (identity = POD_NAME from the downward API).
    let leases: Api<Lease> = Api::namespaced(c.clone(), OPERATOR_NS);
    let pod_name = pod.name_any();
    wait_for(
        "the operator pod to hold its Lease",
        Duration::from_secs(60),
        || async {
            leases
                .get_opt("kcmf-operator-leader")
                .await
                .ok()
                .flatten()
                .and_then(|l| l.spec?.holder_identity)
                .is_some_and(|h| h == pod_name)
        },
    )
    .await;

    // Metrics from the pod's own address (bridge network): leader gauge is 1.
    let url = format!("http://{}:8080/metrics", pod_ip(pod));
    let start = Instant::now();
    loop {
        let body = http_get(&url).await.unwrap_or_default();
        if body
            .lines()
            .any(|l| l.starts_with("kcmf_operator_leader") && l.ends_with(" 1"))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no leader gauge of 1 at {url}: {body}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `curl` against a Service from the host (kube-proxy's rules route the ClusterIP).
fn curl_json(url: &str, key: &str, body: &Value) -> (u16, Value) {
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

async fn service_url(c: &Client, ns: &str, name: &str, port: u16) -> String {
    let svc: Api<Service> = Api::namespaced(c.clone(), ns);
    let s = svc.get(name).await.expect("get Service");
    let ip = s
        .spec
        .and_then(|s| s.cluster_ip)
        .expect("Service has a ClusterIP");
    format!("http://{ip}:{port}")
}

/// The first key of the generated Secret's `VALID_API_KEYS`.
async fn generated_key(c: &Client, ns: &str, name: &str) -> String {
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
async fn pod_of(c: &Client, ns: &str, instance: &str, component: &str) -> Pod {
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

fn exec(ns: &str, pod: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", "-n", ns, pod, "--"];
    args.extend_from_slice(cmd);
    kubectl_ok(&args)
}

async fn wait_kcmf_ready(api: &Api<KcmfDeployment>, name: &str) -> Duration {
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

#[tokio::test]
async fn minimal_sample_serves_the_readme_calls_scales_and_is_collected() {
    let c = client().await;
    operator_installed();
    let ns = namespace(&c, "e2e-minimal").await;
    let sample = repo_root().join("config/samples/kcmf_v1alpha1_kcmfdeployment_minimal.yaml");
    kubectl_ok(&["apply", "-n", &ns, "-f", sample.to_str().unwrap()]);
    let name = "kcmf-minimal";
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let took = wait_kcmf_ready(&api, name).await;
    println!(
        "e2e: minimal sample Ready (matcher, Redis, PostgreSQL pods by their probes) in {took:?}"
    );

    // Every child runs the images built here (the operator's defaults from the chart).
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), &ns);
    let d = deploys
        .get(&names::matcher(name))
        .await
        .expect("matcher Deployment");
    let pod_image = d.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone();
    assert_eq!(
        pod_image.as_deref(),
        Some(image("KCMF_IMAGE_MATCHER").as_str())
    );

    let key = generated_key(&c, &ns, name).await;
    let base = service_url(&c, &ns, &names::matcher(name), 8000).await;

    // The README's entity call, twice: the second answer comes from the cache.
    let entity = json!({
        "left":  {"name": "Arnie Morton's of Chicago", "city": "Los Angeles", "phone": "310-246-1501"},
        "right": {"name": "Arnie Morton's of Chicago", "city": "Los Angeles", "phone": "310/246-1501"}
    });
    let (code, first) = curl_json(&format!("{base}/api/v1/match/entity"), &key, &entity);
    assert_eq!(code, 200, "entity: {first}");
    assert_eq!(first["results"][0]["match"], json!(true), "{first}");
    assert_eq!(first["cached"], json!(false), "{first}");
    let (code, second) = curl_json(&format!("{base}/api/v1/match/entity"), &key, &entity);
    assert_eq!(code, 200, "entity again: {second}");
    assert_eq!(
        second["cached"],
        json!(true),
        "second identical call: {second}"
    );
    assert_eq!(second["results"], first["results"]);
    // A wrong key is refused by the pod, not by anything in front of it.
    let (code, _) = curl_json(
        &format!("{base}/api/v1/match/entity"),
        "kcmf_wrong",
        &entity,
    );
    assert_eq!(code, 401);

    let schema = json!({
        "source": {"name": "customers", "columns": [{"name": "cust_name", "type": "text"}, {"name": "birth_date", "type": "date"}]},
        "target": {"name": "clients", "columns": [{"name": "client_name"}, {"name": "dob", "type": "date"}]},
        "options": {"threshold": 0.5}
    });
    let (code, v) = curl_json(&format!("{base}/api/v1/match/schema"), &key, &schema);
    assert_eq!(code, 200, "schema: {v}");
    assert!(
        v.get("matches").is_some_and(Value::is_array),
        "schema answer: {v}"
    );

    let dedup = json!({"entities": [
        {"id": "a", "name": "John Smith", "city": "Boston"},
        {"id": "b", "name": "Jon Smith", "city": "Boston"}
    ]});
    let (code, v) = curl_json(&format!("{base}/api/v1/match/dedup"), &key, &dedup);
    assert_eq!(code, 200, "dedup: {v}");

    // The cache is the managed Redis (reached by Service name from the pod): it holds keys.
    let redis = pod_of(&c, &ns, name, "redis").await;
    let dbsize = exec(
        &ns,
        &redis.name_any(),
        &[
            "sh",
            "-c",
            "redis-cli --no-auth-warning -a \"$REDIS_PASSWORD\" dbsize",
        ],
    );
    let n: u64 = dbsize.trim().parse().unwrap_or(0);
    assert!(n > 0, "Redis holds no cache entries: {dbsize:?}");

    // History rows in PostgreSQL are Fernet tokens (version byte 0x80 → "gAAAAA").
    wait_history_rows(&c, &ns, name, 2).await;
    let pg = pod_of(&c, &ns, name, "postgres").await;
    let rows = exec(
        &ns,
        &pg.name_any(),
        &[
            "psql",
            "-U",
            "kcmf",
            "-d",
            "kcmf",
            "-At",
            "-c",
            "SELECT request_enc || ' ' || result_enc FROM match_history",
        ],
    );
    let tokens: Vec<&str> = rows.split_whitespace().collect();
    assert!(tokens.len() >= 2, "no history rows: {rows:?}");
    for t in &tokens {
        assert!(
            t.starts_with("gAAAAA"),
            "history value is not a Fernet token: {t}"
        );
        let raw = base64::engine::general_purpose::URL_SAFE
            .decode(t)
            .expect("Fernet tokens are base64url");
        assert_eq!(raw[0], 0x80);
        assert!(
            !String::from_utf8_lossy(&raw).contains("Morton"),
            "plaintext in the history"
        );
    }

    // kubectl scale on the custom resource → three pods serving behind the Service.
    let scaled_at = Instant::now();
    kubectl_ok(&["scale", "-n", &ns, &format!("kcmf/{name}"), "--replicas=3"]);
    wait_for("three Ready matcher pods", READY_TIMEOUT, || async {
        deploys
            .get(&names::matcher(name))
            .await
            .ok()
            .and_then(|d| d.status?.ready_replicas)
            == Some(3)
    })
    .await;
    println!(
        "e2e: scaled 1 -> 3 matcher pods Ready in {:?}",
        scaled_at.elapsed()
    );
    for i in 0..30 {
        let body = json!({"left": {"name": format!("n{i}")}, "right": {"name": format!("n{i}")}});
        let (code, v) = curl_json(&format!("{base}/api/v1/match/entity"), &key, &body);
        assert_eq!(code, 200, "request {i} after scaling: {v}");
    }

    // Deleting the KcmfDeployment garbage-collects its children.
    api.delete(name, &DeleteParams::foreground())
        .await
        .expect("delete KcmfDeployment");
    let sts: Api<StatefulSet> = Api::namespaced(c.clone(), &ns);
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(c.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
    wait_for("children garbage-collected", READY_TIMEOUT, || async {
        deploys
            .get_opt(&names::matcher(name))
            .await
            .ok()
            .flatten()
            .is_none()
            && sts
                .get_opt(&names::redis(name))
                .await
                .ok()
                .flatten()
                .is_none()
            && sts
                .get_opt(&names::postgres(name))
                .await
                .ok()
                .flatten()
                .is_none()
            && cms
                .get_opt(&names::config(name))
                .await
                .ok()
                .flatten()
                .is_none()
            && secrets
                .get_opt(&names::secret(name))
                .await
                .ok()
                .flatten()
                .is_none()
            && pods
                .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}")))
                .await
                .is_ok_and(|l| l.items.is_empty())
    })
    .await;
}

/// Creates or updates a KcmfDeployment from a spec (`kubectl apply`, as a user would).
fn apply_kcmf(ns: &str, name: &str, spec: Value) {
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

fn merge_patch(ns: &str, name: &str, patch: Value) {
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

fn psql(ns: &str, pod: &str, sql: &str) -> String {
    exec(
        ns,
        pod,
        &["psql", "-U", "kcmf", "-d", "kcmf", "-At", "-c", sql],
    )
}

/// Rows of `match_history` in the installation's managed PostgreSQL.
async fn history_rows(c: &Client, ns: &str, name: &str) -> i64 {
    let pg = pod_of(c, ns, name, "postgres").await;
    let out = psql(ns, &pg.name_any(), "SELECT count(*) FROM match_history");
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("count(*) answered {out:?}"))
}

/// Waits until `match_history` holds at least `n` rows (the matcher writes history in
/// batches, a moment after answering); returns the count.
async fn wait_history_rows(c: &Client, ns: &str, name: &str, n: i64) -> i64 {
    let start = Instant::now();
    loop {
        let rows = history_rows(c, ns, name).await;
        if rows >= n {
            return rows;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "history holds {rows} rows, not {n}, a minute after the calls"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `n` distinct entity calls (each writes one history row).
fn entity_calls(base: &str, key: &str, tag: &str, n: usize) {
    for i in 0..n {
        let body = json!({"left": {"name": format!("{tag} {i}")}, "right": {"name": format!("{tag} {i}")}});
        let (code, v) = curl_json(&format!("{base}/api/v1/match/entity"), key, &body);
        assert_eq!(code, 200, "entity call {tag} {i}: {v}");
    }
}

/// Waits until an entity call through the Service answers 200; returns how long that took.
async fn wait_serving(base: &str, key: &str) -> Duration {
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
struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<(u64, Vec<String>)>,
}

impl Load {
    fn start(base: &str, key: &str) -> Self {
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

    async fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.task.await.expect("load task")
    }
}

async fn matcher_pods(c: &Client, ns: &str, name: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
    let sel = format!("app.kubernetes.io/instance={name},app.kubernetes.io/component=matcher");
    pods.list(&ListParams::default().labels(&sel))
        .await
        .expect("list matcher pods")
        .items
}

/// All `n` matcher pods Ready, none terminating, none of another template.
async fn wait_matcher_settled(c: &Client, ns: &str, name: &str, n: usize) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_change_rolls_the_matcher_without_a_failed_request() {
    let c = client().await;
    operator_installed();
    let ns = namespace(&c, "e2e-rollout").await;
    let name = "kcmf-rollout";
    // The load sends ~20 requests a second with one key: above the default 100 a minute.
    apply_kcmf(
        &ns,
        name,
        json!({"matcher": {"replicas": 2, "config": {"rateLimit": 100000}}}),
    );
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    wait_kcmf_ready(&api, name).await;
    wait_matcher_settled(&c, &ns, name, 2).await;
    let key = generated_key(&c, &ns, name).await;
    let base = service_url(&c, &ns, &names::matcher(name), 8000).await;
    let old: Vec<String> = matcher_pods(&c, &ns, name)
        .await
        .iter()
        .map(|p| p.name_any())
        .collect();

    let load = Load::start(&base, &key);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rolled_at = Instant::now();
    merge_patch(
        &ns,
        name,
        json!({"spec": {"matcher": {"config": {"entityThreshold": 0.7}}}}),
    );
    wait_for("the matcher pods replaced", READY_TIMEOUT, || async {
        let pods = matcher_pods(&c, &ns, name).await;
        !pods.is_empty() && pods.iter().all(|p| !old.contains(&p.name_any()))
    })
    .await;
    wait_matcher_settled(&c, &ns, name, 2).await;
    let took = rolled_at.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (ok, failed) = load.finish().await;
    println!(
        "e2e: config rollout of 2 matcher pods in {took:?} under load: {ok} ok, {} failed",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "failed requests during the rollout: {failed:?}"
    );
    assert!(
        ok >= 20,
        "the load sent too few requests to mean anything: {ok}"
    );
    api.delete(name, &DeleteParams::default())
        .await
        .expect("delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_matcher_postgres_and_redis_pods_loses_nothing() {
    let c = client().await;
    operator_installed();
    let ns = namespace(&c, "e2e-chaos").await;
    let name = "kcmf-chaos";
    // The load sends ~20 requests a second with one key: above the default 100 a minute.
    apply_kcmf(
        &ns,
        name,
        json!({"matcher": {"replicas": 2, "config": {"rateLimit": 100000}}}),
    );
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    wait_kcmf_ready(&api, name).await;
    wait_matcher_settled(&c, &ns, name, 2).await;
    let key = generated_key(&c, &ns, name).await;
    let base = service_url(&c, &ns, &names::matcher(name), 8000).await;
    entity_calls(&base, &key, "kept", 5);
    let rows = wait_history_rows(&c, &ns, name, 5).await;

    // A matcher pod deleted under load: the other one and the drain serve every request.
    let load = Load::start(&base, &key);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let victim = matcher_pods(&c, &ns, name).await[0].name_any();
    kubectl_ok(&["delete", "pod", "-n", &ns, &victim, "--wait=false"]);
    wait_for(
        "the deleted matcher pod replaced",
        READY_TIMEOUT,
        || async {
            let pods = matcher_pods(&c, &ns, name).await;
            !pods.iter().any(|p| p.name_any() == victim)
        },
    )
    .await;
    wait_matcher_settled(&c, &ns, name, 2).await;
    let (ok, failed) = load.finish().await;
    println!(
        "e2e: matcher pod deleted under load: {ok} ok, {} failed",
        failed.len()
    );
    assert!(failed.is_empty(), "failed requests: {failed:?}");

    // PostgreSQL: the StatefulSet brings the pod back on its PVC; the rows are still there.
    for component in ["postgres", "redis"] {
        let pod = pod_of(&c, &ns, name, component).await;
        let uid = pod.uid();
        kubectl_ok(&["delete", "pod", "-n", &ns, &pod.name_any(), "--wait=false"]);
        let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
        let sel =
            format!("app.kubernetes.io/instance={name},app.kubernetes.io/component={component}");
        wait_for(
            &format!("a new {component} pod Ready"),
            READY_TIMEOUT,
            || async {
                pods.list(&ListParams::default().labels(&sel))
                    .await
                    .is_ok_and(|l| l.items.iter().any(|p| p.uid() != uid && pod_ready(p)))
            },
        )
        .await;
        let took = wait_serving(&base, &key).await;
        println!(
            "e2e: {component} pod deleted: the API answered again {took:?} after its replacement was Ready"
        );
        let now = history_rows(&c, &ns, name).await;
        assert!(
            now >= rows,
            "history rows lost after deleting {component}: {rows} -> {now}"
        );
    }
    api.delete(name, &DeleteParams::default())
        .await
        .expect("delete");
}

#[tokio::test]
async fn a_backup_from_the_cronjob_verifies_and_a_restore_brings_deleted_rows_back() {
    let c = client().await;
    operator_installed();
    let ns = namespace(&c, "e2e-backup").await;
    let name = "kcmf-backup";
    apply_kcmf(
        &ns,
        name,
        json!({"backup": {"schedule": "0 4 * * *", "suspend": true, "verify": true}}),
    );
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    wait_kcmf_ready(&api, name).await;
    let key = generated_key(&c, &ns, name).await;
    let base = service_url(&c, &ns, &names::matcher(name), 8000).await;
    entity_calls(&base, &key, "before backup", 4);
    let rows = wait_history_rows(&c, &ns, name, 4).await;

    // A Job from the CronJob, as `kubectl create job --from` makes it: pg_dump 17 against the
    // PostgreSQL 17 pod, a verified set, reported in the status.
    let started = Instant::now();
    kubectl_ok(&[
        "create",
        "job",
        "--from",
        &format!("cronjob/{}", names::backup(name)),
        "manual-1",
        "-n",
        &ns,
    ]);
    let set = loop {
        let lb = api.get(name).await.ok().and_then(|k| k.status?.last_backup);
        if let Some(lb) = &lb
            && lb.job.as_deref() == Some("manual-1")
        {
            assert_ne!(
                lb.result.as_deref(),
                Some("Failed"),
                "backup failed: {lb:?}"
            );
            if lb.result.as_deref() == Some("Succeeded") {
                assert_eq!(lb.verified, Some(true), "{lb:?}");
                break lb
                    .set
                    .clone()
                    .expect("the Job's termination message names the set");
            }
        }
        assert!(
            started.elapsed() < READY_TIMEOUT,
            "no successful backup by manual-1 within {READY_TIMEOUT:?}: {lb:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    println!(
        "e2e: backup set {set} written and verified in {:?}",
        started.elapsed()
    );

    // Rows deleted after the backup come back with spec.restore.set.
    let pg = pod_of(&c, &ns, name, "postgres").await;
    psql(&ns, &pg.name_any(), "DELETE FROM match_history");
    assert_eq!(history_rows(&c, &ns, name).await, 0);
    let restore = |set: &str| {
        merge_patch(&ns, name, json!({"spec": {"restore": {"set": set}}}));
    };
    restore(&set);
    let restored = wait_restore(&api, name, &set).await;
    assert_eq!(restored.restored_set.as_deref(), Some(set.as_str()));
    assert_eq!(
        history_rows(&c, &ns, name).await,
        rows,
        "rows after the restore"
    );
    wait_serving(&base, &key).await;

    // The safety set the restore printed rolls it back (to no rows).
    let safety = restored
        .safety_set
        .clone()
        .expect("the restore names its safety set");
    restore(&safety);
    wait_restore(&api, name, &safety).await;
    assert_eq!(
        history_rows(&c, &ns, name).await,
        0,
        "rows after rolling back"
    );
    api.delete(name, &DeleteParams::default())
        .await
        .expect("delete");
}

async fn wait_restore(
    api: &Api<KcmfDeployment>,
    name: &str,
    set: &str,
) -> kcmf_operator::crd::LastRestore {
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

#[tokio::test]
async fn external_mode_uses_the_tests_own_redis_and_postgres() {
    let c = client().await;
    operator_installed();
    let ns = namespace(&c, "e2e-external").await;
    // The test's own datastores: plain Deployments of the images built here, with Services.
    let (redis_img, pg_img) = (image("KCMF_IMAGE_REDIS"), image("KCMF_IMAGE_POSTGRES"));
    let manifests = format!(
        r#"
apiVersion: v1
kind: Secret
metadata: {{name: ext-urls}}
stringData:
  redis-url: redis://:ext-redis-pw@ext-redis.{ns}.svc.cluster.local:6379/0
  database-url: postgres://kcmf:ext-pg-pw@ext-postgres.{ns}.svc.cluster.local:5432/kcmf
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ext-redis}}
spec:
  selector: {{matchLabels: {{app: ext-redis}}}}
  template:
    metadata: {{labels: {{app: ext-redis}}}}
    spec:
      containers:
      - name: redis
        image: {redis_img}
        command: [redis-server]
        args: [--requirepass, ext-redis-pw, --port, "6379"]
        ports: [{{containerPort: 6379}}]
---
apiVersion: v1
kind: Service
metadata: {{name: ext-redis}}
spec: {{selector: {{app: ext-redis}}, ports: [{{port: 6379}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ext-postgres}}
spec:
  selector: {{matchLabels: {{app: ext-postgres}}}}
  template:
    metadata: {{labels: {{app: ext-postgres}}}}
    spec:
      containers:
      - name: postgres
        image: {pg_img}
        env:
        - {{name: POSTGRES_USER, value: kcmf}}
        - {{name: POSTGRES_DB, value: kcmf}}
        - {{name: POSTGRES_PASSWORD, value: ext-pg-pw}}
        - {{name: PGDATA, value: /var/lib/postgresql/data/pgdata}}
        ports: [{{containerPort: 5432}}]
        readinessProbe:
          exec: {{command: [pg_isready, -U, kcmf, -d, kcmf, -h, 127.0.0.1, -p, "5432"]}}
          periodSeconds: 2
        volumeMounts:
        - {{name: data, mountPath: /var/lib/postgresql/data}}
        - {{name: run, mountPath: /var/run/postgresql}}
      volumes:
      - {{name: data, emptyDir: {{}}}}
      - {{name: run, emptyDir: {{}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: ext-postgres}}
spec: {{selector: {{app: ext-postgres}}, ports: [{{port: 5432}}]}}
"#
    );
    let out = kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &manifests);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sample = repo_root().join("config/samples/kcmf_v1alpha1_kcmfdeployment_external.yaml");
    let text = std::fs::read_to_string(&sample).expect("external sample");
    // The sample's KcmfDeployment, pointed at this test's Secret.
    let kcmf = text
        .split("\n---\n")
        .find(|d| d.contains("kind: KcmfDeployment"))
        .expect("a KcmfDeployment in the sample")
        .replace("kcmf-external-urls", "ext-urls");
    let out = kubectl_stdin(&["apply", "-n", &ns, "-f", "-"], &kcmf);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = "kcmf-external";
    let api: Api<KcmfDeployment> = Api::namespaced(c.clone(), &ns);
    let took = wait_kcmf_ready(&api, name).await;
    println!("e2e: external-mode sample Ready in {took:?}");
    let sts: Api<StatefulSet> = Api::namespaced(c.clone(), &ns);
    assert!(
        sts.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "external mode must not run datastores"
    );
    let key = generated_key(&c, &ns, name).await;
    let base = service_url(&c, &ns, &names::matcher(name), 8000).await;
    entity_calls(&base, &key, "external", 3);
    // The rows are in the test's PostgreSQL.
    let pods: Api<Pod> = Api::namespaced(c.clone(), &ns);
    let pg = pods
        .list(&ListParams::default().labels("app=ext-postgres"))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(pod_ready)
        .expect("the test's PostgreSQL pod");
    let start = Instant::now();
    loop {
        let n: i64 = psql(&ns, &pg.name_any(), "SELECT count(*) FROM match_history")
            .trim()
            .parse()
            .unwrap();
        if n >= 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "history rows in the external PostgreSQL: {n}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    api.delete(name, &DeleteParams::default())
        .await
        .expect("delete");
}
