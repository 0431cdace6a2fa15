//! Helpers shared by the cluster tests (kwok node, the operator as a child process) and the
//! end-to-end tests (a real node, the operator as a pod): a client that fails without a
//! cluster, kubectl, polling, fresh namespaces and a dependency-free HTTP GET.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ has a parent")
        .to_path_buf()
}

/// A client for the cluster in KUBECONFIG; panics (fails the test) when none is reachable.
pub async fn client() -> Client {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: start the control plane with hack/k8s/up.sh and source its env.sh"
    );
    kcmf_operator::install_crypto_provider();
    let c = Client::try_default()
        .await
        .expect("build a client from KUBECONFIG");
    c.apiserver_version()
        .await
        .expect("the API server in KUBECONFIG is not reachable");
    c
}

pub fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .output()
        .expect("run kubectl (is the control plane's env.sh sourced?)")
}

pub fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn kubectl_stdin(args: &[&str], input: &str) -> Output {
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
pub fn install_crds() {
    let crds = repo_root().join("crds");
    kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        crds.to_str().unwrap(),
    ]);
    wait_established("kcmfdeployments.kcmf.io");
}

/// Waits (60 s at most, else fails the test) until the CRD `name` is Established.
/// Polled, not `kubectl wait`: a CRD applied a moment ago may have no `status.conditions`
/// yet, and `kubectl wait` then fails at once ("<nil> is of the type <nil>") instead of
/// waiting; it failed a CI run so.
pub fn wait_established(name: &str) {
    let start = Instant::now();
    let timeout = Duration::from_secs(60);
    loop {
        let out = kubectl(&[
            "get",
            &format!("crd/{name}"),
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Established\")].status}",
        ]);
        if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "True" {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "CRD {name} not Established after {timeout:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Fresh namespace named after the test.
pub async fn namespace(c: &Client, name: &str) -> String {
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

pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
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

/// Minimal HTTP/1.0 GET (no client dependency for two endpoints); `None` on any failure,
/// including no answer within 30 s.
pub async fn http_get(url: &str) -> Option<String> {
    tokio::time::timeout(std::time::Duration::from_secs(30), http_get_inner(url))
        .await
        .ok()
        .flatten()
}

async fn http_get_inner(url: &str) -> Option<String> {
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

/// Minimal HTTP/1.0 POST of a JSON body (a new connection each time, as a load generator
/// wants: every request crosses the Service's routing again). The status code, or `None`
/// when the connection failed or no answer came within 30 s.
pub async fn http_post(url: &str, headers: &[(&str, &str)], body: &str) -> Option<u16> {
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        http_post_inner(url, headers, body),
    )
    .await
    .ok()
    .flatten()
}

async fn http_post_inner(url: &str, headers: &[(&str, &str)], body: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut s = tokio::net::TcpStream::connect(host).await.ok()?;
    let mut req = format!(
        "POST /{path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace().nth(1)?.parse().ok()
}
