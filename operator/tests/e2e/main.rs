//! End-to-end tests on a real node: the operator installed by Helm runs as a pod from the image
//! built here, and every child of a `KcmfDeployment` really runs — matcher, Redis and PostgreSQL
//! pods from images built by `hack/images/build.sh`, Ready by their own probes, talking through
//! Services resolved by cluster DNS, with the generated Secret's key.
//!
//! Run (needs the `e2e` feature; never skipped — without the node or the images every test fails):
//!
//! ```sh
//! cargo build --workspace --bins
//! hack/images/build.sh --matcher-bin target/debug/kcmf-matcher --operator-bin target/debug/kcmf-operator
//! KCMF_K8S_NODE_MODE=real hack/k8s/up.sh && source /tmp/kcmf-k8s/env.sh
//! set -a; source target/images/images.env; set +a        # KCMF_IMAGE_* and their tars
//! hack/k8s/load-image.sh "$KCMF_IMAGE_MATCHER_TAR" "$KCMF_IMAGE_OPERATOR_TAR" "$KCMF_IMAGE_REDIS_TAR" "$KCMF_IMAGE_POSTGRES_TAR"
//! cargo test --workspace --features kcmf-operator/e2e --test e2e -- --test-threads=1 --nocapture
//! ```
//!
//! The operator is installed once (the first test to need it) into `kcmf-system`; each test
//! uses its own namespace. Measured latencies are printed (`--nocapture` shows them).
//! `support.rs` holds the steps the tests share (install, calls through a Service, psql, load).

#[path = "../common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kcmf_operator::build::names;
use kcmf_operator::crd::KcmfDeployment;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams};
use serde_json::{Value, json};
use support::*;

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
    // Ready pods do not mean kube-proxy has programmed the ClusterIP yet.
    wait_serving(&base, &key).await;

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
        gone(&deploys, &names::matcher(name)).await
            && gone(&sts, &names::redis(name)).await
            && gone(&sts, &names::postgres(name)).await
            && gone(&cms, &names::config(name)).await
            && gone(&secrets, &names::secret(name)).await
            && pods
                .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}")))
                .await
                .is_ok_and(|l| l.items.is_empty())
    })
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
    // Ready pods do not mean kube-proxy has programmed the ClusterIP yet.
    wait_serving(&base, &key).await;
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
    // Ready pods do not mean kube-proxy has programmed the ClusterIP yet.
    wait_serving(&base, &key).await;
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
    // Everything the load wrote counts from here on.
    let rows = wait_history_rows(&c, &ns, name, rows).await;

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
        if component == "redis" {
            // The new Redis pod is the cache again: an answer lands in it.
            entity_calls(&base, &key, "after redis", 1);
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
            assert!(n > 0, "the new Redis pod holds no cache entry: {dbsize:?}");
        }
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
    // Ready pods do not mean kube-proxy has programmed the ClusterIP yet.
    wait_serving(&base, &key).await;
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
    // Ready pods do not mean kube-proxy has programmed the ClusterIP yet.
    wait_serving(&base, &key).await;
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
