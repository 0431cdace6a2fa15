//! Batch jobs end to end: submission, progress, results, ownership, cancel, bad input, and
//! a worker killed with SIGKILL mid-job on SQLite and on the real PostgreSQL — nothing
//! lost, nothing duplicated.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Matcher, fresh_pg_db};
use serde_json::{Value, json};

fn pairs(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let same = i % 3 == 0;
            json!({
                "left": {"name": format!("Restaurant {i} Grill"), "city": "Boston", "phone": format!("617-555-{i:04}")},
                "right": {"name": if same { format!("Restaurant {i} Grill") } else { format!("Cafe {} Bistro", i * 7 + 1) },
                          "city": if same { "Boston" } else { "Denver" }, "phone": format!("617-555-{i:04}")}
            })
        })
        .collect()
}

async fn submit(m: &Matcher, key: &str, body: Value) -> (u16, Value, Option<String>) {
    let r = reqwest::Client::new()
        .post(m.url("/api/v1/jobs"))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (st, r.json().await.unwrap_or(Value::Null), loc)
}

async fn job(m: &Matcher, key: &str, id: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(m.url(&format!("/api/v1/jobs/{id}")))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn wait_state(m: &Matcher, key: &str, id: &str, want: &str, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (_, j) = job(m, key, id).await;
        if j["state"] == want {
            return j;
        }
        assert!(
            !matches!(j["state"].as_str(), Some("failed" | "cancelled")) || want == j["state"],
            "job ended {}: {j}",
            j["state"]
        );
        assert!(
            Instant::now() < deadline,
            "job not {want} after {secs}s: {j}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The synchronous endpoint's answers, asked `batch` pairs at a time.
async fn sync_by_chunks(m: &Matcher, key: &str, all: &[Value], batch: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for c in all.chunks(batch) {
        let (st, r) = m
            .post("/api/v1/match/entity", Some(key), &json!({"pairs": c}))
            .await;
        assert_eq!(st, 200, "{r}");
        out.extend(r["results"].as_array().cloned().unwrap_or_default());
    }
    out
}

async fn all_results(m: &Matcher, key: &str, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let r: Value = reqwest::Client::new()
            .get(m.url(&format!(
                "/api/v1/jobs/{id}/results?offset={offset}&limit=7"
            )))
            .header("X-API-Key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.extend(r["results"].as_array().cloned().unwrap_or_default());
        match r["next_offset"].as_i64() {
            Some(n) => offset = n,
            None => return out,
        }
    }
}

#[tokio::test]
async fn entity_job_runs_in_process_and_serves_results() {
    let m = Matcher::start(&[("BATCH_SIZE", "10".into())]).await;
    let key = m.key();
    let (st, r, loc) = submit(
        &m,
        &key,
        json!({"type": "entity_match", "input": {"pairs": pairs(25)}}),
    )
    .await;
    assert_eq!(st, 202, "{r}");
    assert_eq!(r["state"], "queued");
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(loc.as_deref(), Some(format!("/api/v1/jobs/{id}").as_str()));
    let j = wait_state(&m, &key, &id, "succeeded", 60).await;
    assert_eq!(j["progress"]["total"], 25);
    assert_eq!(j["progress"]["done"], 25);
    assert_eq!(j["progress"]["total_chunks"], 3);
    assert_eq!(j["progress"]["percent"], 100.0);
    assert_eq!(j["result_count"], 25);

    let results = all_results(&m, &key, &id).await;
    let mut idx: Vec<i64> = results
        .iter()
        .map(|r| r["index"].as_i64().unwrap())
        .collect();
    idx.sort();
    assert_eq!(idx, (0..25).collect::<Vec<_>>());
    // The job's answers are the engine's on each chunk: compare with the synchronous
    // endpoint called chunk by chunk (knowledge comes from the pairs of one request).
    let sync = sync_by_chunks(&m, &key, &pairs(25), 10).await;
    for r in &results {
        let i = r["index"].as_u64().unwrap() as usize;
        assert_eq!(r["match"], sync[i]["match"], "pair {i}");
        assert_eq!(r["score"], sync[i]["score"], "pair {i}");
    }
    assert!(
        results.iter().any(|r| r["match"] == true) && results.iter().any(|r| r["match"] == false)
    );

    let nd = reqwest::Client::new()
        .get(m.url(&format!("/api/v1/jobs/{id}/results?format=ndjson")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(nd.headers()["content-type"], "application/x-ndjson");
    let text = nd.text().await.unwrap();
    assert_eq!(text.lines().count(), 25);
    let csv = reqwest::Client::new()
        .get(m.url(&format!("/api/v1/jobs/{id}/results?format=csv")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("index,match,score,rule\n"), "{csv}");
    assert_eq!(csv.lines().count(), 26);

    // Another key cannot see the job.
    let (code, other, _) =
        common::run_cli(&m.data_dir, &[], &["keys", "create", "--name", "other"]);
    assert_eq!(code, 0);
    let (st, _) = job(&m, other.trim(), &id).await;
    assert_eq!(st, 404);
    let listed: Value = reqwest::Client::new()
        .get(m.url("/api/v1/jobs?state=succeeded"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let (_, metrics) = m.get("/metrics").await;
    assert!(metrics.contains("kcmf_jobs_total"), "{metrics}");
    assert!(metrics.contains("kcmf_job_chunk_duration_seconds"));
}

#[tokio::test]
async fn dedup_link_and_schema_jobs() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    let people = json!([
        {"id": "a1", "given_name": "michaela", "surname": "neumann", "suburb": "winston hills", "postcode": "4223"},
        {"id": "a2", "given_name": "michaela", "surname": "neuman", "suburb": "winston hills", "postcode": "4223"},
        {"id": "b1", "given_name": "courtney", "surname": "painter", "suburb": "richlands", "postcode": "4560"},
        {"id": "c1", "given_name": "charles", "surname": "green", "suburb": "bellbird park", "postcode": "4300"},
        {"id": "c2", "given_name": "charles", "surname": "green", "suburb": "bellbird park", "postcode": "4300"}
    ]);
    let (st, r, _) = submit(
        &m,
        &key,
        json!({"type": "dedup", "input": {"entities": people}}),
    )
    .await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    wait_state(&m, &key, &id, "succeeded", 60).await;
    let clusters = all_results(&m, &key, &id).await;
    let ids: Vec<Vec<String>> = clusters
        .iter()
        .map(|c| {
            c["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert!(
        ids.contains(&vec!["c1".to_string(), "c2".to_string()]),
        "{ids:?}"
    );
    assert!(
        !ids.iter().any(|c| c.contains(&"b1".to_string())),
        "{ids:?}"
    );

    let (st, r, _) = submit(
        &m,
        &key,
        json!({"type": "link", "input": {"left": [people[0], people[2]], "right": [people[1], people[3]]}}),
    )
    .await;
    assert_eq!(st, 202, "{r}");
    wait_state(&m, &key, r["id"].as_str().unwrap(), "succeeded", 60).await;

    let schema_pair = json!({
        "source": {"name": "customers", "columns": [{"name": "cust_name"}, {"name": "birth_date", "type": "date"}]},
        "target": {"name": "clients", "columns": [{"name": "client_name"}, {"name": "dob", "type": "date"}]}
    });
    let (st, r, _) = submit(
        &m,
        &key,
        json!({"type": "schema_batch", "input": {"pairs": [schema_pair, schema_pair]}}),
    )
    .await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    wait_state(&m, &key, &id, "succeeded", 60).await;
    let res = all_results(&m, &key, &id).await;
    assert_eq!(res.len(), 2);
    assert!(res[0]["matches"].is_array());

    // Upload: CSV of records with an id column.
    let csv = "rid,given_name,surname\nx1,ann,lee\nx2,ann,lee\nx3,bo,chan\n";
    let r = reqwest::Client::new()
        .post(m.url("/api/v1/jobs?type=dedup&id_column=rid"))
        .header("X-API-Key", &key)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn bad_job_input_is_refused_before_queueing() {
    let m = Matcher::start(&[("KCMF_INPROCESS_WORKERS", "false".into())]).await;
    let key = m.key();
    let cases = vec![
        (json!({"type": "translate", "input": {}}), "type"),
        (
            json!({"type": "dedup", "input": {"entities": []}}),
            "input.entities",
        ),
        (
            json!({"type": "dedup", "input": {"records": []}}),
            "input.records",
        ),
        (
            json!({"type": "entity_match", "input": {"pairs": [{"left": {"a": 1}}]}}),
            "input.pairs[0].right",
        ),
        (
            json!({"type": "entity_match", "input": {"pairs": [{"left": {"a": 1}, "right": {"a": 2}}]}, "options": {"threshold": -1}}),
            "options.threshold",
        ),
        (json!({"input": {}}), "type"),
        // below the configured default threshold (0.85): refused before anything is queued
        (
            json!({"type": "dedup", "input": {"entities": [{"id": 1, "a": "x"}, {"id": 2, "a": "x"}]}, "options": {"split_threshold": 0.3}}),
            "options.split_threshold",
        ),
    ];
    for (body, field) in cases {
        let (st, r, _) = submit(&m, &key, body.clone()).await;
        assert_eq!(st, 422, "{body} -> {r}");
        assert_eq!(r["error"]["field"], field, "{body} -> {r}");
    }
    let up = |ct: &'static str, q: &'static str, body: &'static str| {
        let url = m.url(&format!("/api/v1/jobs{q}"));
        let key = key.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("X-API-Key", key)
                .header("Content-Type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (st, r) = up("text/csv", "?type=dedup", "id,name\n1,a\n2,b,c\n").await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("body line 3")),
        "{r}"
    );
    let (st, r) = up("text/csv", "?type=dedup&id_column=key", "id,name\n1,a\n").await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("id_column")),
        "{r}"
    );
    let (st, r) = up("text/csv", "", "id,name\n1,a\n").await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("type")),
        "{r}"
    );
    let (st, _) = up("text/plain", "?type=dedup", "x").await;
    assert_eq!(st, 415);
    let listed: Value = reqwest::Client::new()
        .get(m.url("/api/v1/jobs"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]), "nothing was queued");

    // Cancel: with no worker running the job stays queued, then is cancelled.
    let (st, r, _) = submit(
        &m,
        &key,
        json!({"type": "entity_match", "input": {"pairs": pairs(3)}}),
    )
    .await;
    assert_eq!(st, 202);
    let id = r["id"].as_str().unwrap();
    let r: Value = reqwest::Client::new()
        .delete(m.url(&format!("/api/v1/jobs/{id}")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["state"], "cancelled");
    let st = reqwest::Client::new()
        .delete(m.url("/api/v1/jobs/does-not-exist"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, 404);
}

fn spawn_worker(data_dir: &std::path::Path, env: &[(&'static str, String)]) -> Child {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KCMF_DATA_DIR", data_dir)
        .env("LOG_LEVEL", "warn")
        .env("MAX_WORKERS", "2")
        .env("KCMF_LEASE_SECS", "2")
        .env("KCMF_CHUNK_PAUSE_MS", "60");
    for (k, v) in env {
        c.env(k, v);
    }
    c.arg("worker")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker")
}

/// Kills a worker with SIGKILL mid-job, starts another, and checks that every pair has
/// exactly one result, equal to the engine's synchronous answer.
async fn kill_worker_mid_job(env: Vec<(&'static str, String)>) {
    let mut server_env = env.clone();
    server_env.push(("KCMF_INPROCESS_WORKERS", "false".into()));
    server_env.push(("BATCH_SIZE", "5".into()));
    let m = Matcher::start(&server_env).await;
    let key = m.key();
    let n = 200;
    let (st, r, _) = submit(
        &m,
        &key,
        json!({"type": "entity_match", "input": {"pairs": pairs(n)}}),
    )
    .await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().unwrap().to_string();

    let mut w1 = spawn_worker(&m.data_dir, &env);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, j) = job(&m, &key, &id).await;
        let done = j["progress"]["done_chunks"].as_i64().unwrap_or(0);
        if done >= 5 {
            assert_ne!(
                j["state"], "succeeded",
                "the job must still be running when the worker dies"
            );
            break;
        }
        assert!(Instant::now() < deadline, "worker made no progress: {j}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    w1.kill().expect("SIGKILL worker");
    w1.wait().unwrap();
    let (_, j) = job(&m, &key, &id).await;
    assert_eq!(j["state"], "running", "{j}");

    let mut w2 = spawn_worker(&m.data_dir, &env);
    let j = wait_state(&m, &key, &id, "succeeded", 120).await;
    let _ = w2.kill();
    let _ = w2.wait();
    assert_eq!(j["result_count"], n);
    assert_eq!(j["progress"]["done"], n);

    let results = all_results(&m, &key, &id).await;
    assert_eq!(results.len(), n, "no result lost or duplicated");
    let mut idx: Vec<i64> = results
        .iter()
        .map(|r| r["index"].as_i64().unwrap())
        .collect();
    idx.sort();
    idx.dedup();
    assert_eq!(idx, (0..n as i64).collect::<Vec<_>>());
    let sync = sync_by_chunks(&m, &key, &pairs(n), 5).await;
    for r in &results {
        let i = r["index"].as_u64().unwrap() as usize;
        assert_eq!(r["match"], sync[i]["match"], "pair {i}");
        assert_eq!(r["score"], sync[i]["score"], "pair {i}");
    }
}

#[tokio::test]
async fn killed_worker_loses_nothing_on_sqlite() {
    kill_worker_mid_job(vec![("SECRET_KEY", "jobs-secret".into())]).await;
}

#[tokio::test]
async fn killed_worker_loses_nothing_on_postgres() {
    let db = fresh_pg_db().await;
    kill_worker_mid_job(vec![
        ("DATABASE_URL", db),
        ("SECRET_KEY", "jobs-secret".into()),
    ])
    .await;
}
