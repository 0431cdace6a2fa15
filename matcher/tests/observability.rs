//! The Grafana dashboard and the alert rules query only metrics the matcher exports.
//!
//! A dashboard panel or an alert on a misspelt or renamed metric shows "no data" and never
//! fires, silently. This test reads every PromQL expression of the chart's dashboard
//! (`charts/kcmf-operator/dashboards/kcmf.json`) and of the matcher's alerts the operator puts
//! in each KcmfDeployment's PrometheusRule (`operator/src/build/prometheus-rules.json`), takes
//! the `kcmf_*` metric names out of them, and checks each against the `# TYPE` lines of a
//! real scrape of the `kcmf-matcher` binary after calls that create every series: entity
//! (twice: a cache hit), schema, dedup, feedback, a batch job, an unauthenticated call, and
//! LLM calls against a fake OpenAI-compatible server that answers, answers garbage and fails.
//! `_bucket`/`_sum`/`_count` names must belong to a histogram. The operator's own
//! `kcmf_operator_*` names (dashboard and the chart's rules) are checked by a unit test in
//! `operator/src/metrics.rs`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::Matcher;
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Every string under an `expr` or `definition` key (panel targets, variable queries).
fn exprs_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr" | "definition", Value::String(s)) => out.push(s.clone()),
                    _ => exprs_of(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| exprs_of(v, out)),
        _ => {}
    }
}

fn read_json(rel: &str) -> Value {
    let path = format!("{ROOT}/{rel}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// `kcmf_[a-z0-9_]+` identifiers in PromQL expressions, by the file that queries them.
fn queried_names(exprs: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in exprs {
        let mut rest = e.as_str();
        while let Some(i) = rest.find("kcmf_") {
            // An identifier starts here only if the character before is not part of one.
            let before = rest[..i].chars().last();
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(tail.len());
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.insert(tail[..end].to_string());
            }
            rest = &tail[end..];
        }
    }
    out
}

/// Metric families of a scrape: name → type, from the `# TYPE` lines.
fn families(page: &str) -> BTreeMap<String, String> {
    page.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_string(), t.trim().to_string()))
        .collect()
}

/// Whether `name` is exported: a family itself, or a histogram's `_bucket`/`_sum`/`_count`.
fn exported(name: &str, fams: &BTreeMap<String, String>) -> bool {
    if fams.contains_key(name) {
        return true;
    }
    ["_bucket", "_sum", "_count"].iter().any(|s| {
        name.strip_suffix(s)
            .is_some_and(|base| fams.get(base).is_some_and(|t| t == "histogram"))
    })
}

/// A fake OpenAI-compatible chat endpoint: prompts mentioning `BROKEN` get a 400 (an LLM
/// error the client does not retry), `GARBLE` an answer that is no verdict (a badly
/// formatted answer), anything else "yes" with token usage.
async fn fake_llm() -> String {
    async fn chat(Json(body): Json<Value>) -> Response {
        let prompt = body["messages"].to_string();
        if prompt.contains("BROKEN") {
            return (StatusCode::BAD_REQUEST, "no such model").into_response();
        }
        let content = if prompt.contains("GARBLE") {
            "purple elephants"
        } else {
            "yes"
        };
        Json(json!({
            "choices": [{"message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 1},
        }))
        .into_response()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake LLM");
    let addr = listener.local_addr().expect("fake LLM address");
    let app = axum::Router::new().route("/v1/chat/completions", post(chat));
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("fake LLM serves");
    });
    format!("http://{addr}/v1")
}

fn pair(left: &str, right: &str) -> Value {
    json!({"left": {"name": left, "city": "Boston"}, "right": {"name": right, "city": "Boston"}})
}

/// Calls that create every series the dashboard and the rules read, then the scrape.
async fn exercised_scrape() -> String {
    let llm = fake_llm().await;
    let m = Matcher::start(&[
        ("LLM_PROVIDER", "openai".to_string()),
        ("LLM_BASE_URL", llm),
        ("LLM_MODEL", "fake".to_string()),
        ("OPENAI_API_KEY", "test".to_string()),
    ])
    .await;
    let key = m.key();
    let k = Some(key.as_str());

    let (st, r) = m.post("/api/v1/match/entity", None, &pair("a", "b")).await;
    assert_eq!(st, 401, "{r}");
    let p = pair("Arnie Morton's of Chicago", "Arnie Mortons Chicago");
    for _ in 0..2 {
        let (st, r) = m.post("/api/v1/match/entity", k, &p).await;
        assert_eq!(st, 200, "{r}");
    }
    // The LLM answers garbage for one pair and fails for the other: whatever the endpoint
    // answers, the matcher has counted both.
    let (st, r) = m
        .post("/api/v1/match/entity", k, &pair("GARBLE one", "GARBLE two"))
        .await;
    assert_eq!(st, 200, "{r}");
    let (st, r) = m
        .post("/api/v1/match/entity", k, &pair("BROKEN one", "BROKEN two"))
        .await;
    assert!(st == 200 || st >= 500, "{st} {r}");

    let schema = json!({
        "source": {"name": "customers", "columns": [{"name": "cust_name", "type": "text"}, {"name": "birth_date", "type": "date"}]},
        "target": {"name": "clients", "columns": [{"name": "client_name"}, {"name": "dob", "type": "date"}]},
    });
    let (st, r) = m.post("/api/v1/match/schema", k, &schema).await;
    assert_eq!(st, 200, "{r}");
    let dedup = json!({"entities": [
        {"id": "a", "name": "John Smith", "city": "Boston"},
        {"id": "b", "name": "Jon Smith", "city": "Boston"},
    ]});
    let (st, r) = m.post("/api/v1/match/dedup", k, &dedup).await;
    assert_eq!(st, 200, "{r}");
    let feedback =
        json!({"kind": "schema", "source": "birth_date", "target": "dob", "match": true});
    let (st, r) = m.post("/api/v1/feedback", k, &feedback).await;
    assert_eq!(st, 201, "{r}");
    let job = json!({"type": "entity_match", "input": {"pairs": [pair("a", "a")]}});
    let (st, r) = m.post("/api/v1/jobs", k, &job).await;
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().expect("job id").to_string();

    // The job's chunk duration is recorded when its chunk completes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let resp = reqwest::Client::new()
            .get(m.url(&format!("/api/v1/jobs/{id}")))
            .header("X-API-Key", &key)
            .send()
            .await
            .expect("job status");
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if body["state"] == "succeeded" {
            break;
        }
        assert!(
            body["state"] != "failed" && Instant::now() < deadline,
            "job did not succeed: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (st, page) = m.get("/metrics").await;
    assert_eq!(st, 200, "{page}");
    page
}

#[tokio::test]
async fn every_matcher_metric_the_dashboard_and_the_rules_query_is_exported() {
    let page = exercised_scrape().await;
    let fams = families(&page);

    let mut sources: Vec<(&str, Vec<String>)> = Vec::new();
    for rel in [
        "charts/kcmf-operator/dashboards/kcmf.json",
        "operator/src/build/prometheus-rules.json",
    ] {
        let mut exprs = Vec::new();
        exprs_of(&read_json(rel), &mut exprs);
        sources.push((rel, exprs));
    }
    let mut missing = Vec::new();
    let mut checked = BTreeSet::new();
    for (rel, exprs) in &sources {
        assert!(!exprs.is_empty(), "{rel}: no expressions found");
        let names = queried_names(exprs);
        // The operator's own metrics are not the matcher's (checked in operator/src/metrics.rs).
        let names: Vec<&String> = names
            .iter()
            .filter(|n| !n.starts_with("kcmf_operator_"))
            .collect();
        assert!(!names.is_empty(), "{rel}: queries no matcher metric");
        for n in names {
            checked.insert(n.clone());
            if !exported(n, &fams) {
                missing.push(format!("{rel}: {n}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "queried but not exported by /metrics:\n  {}\nexported families: {:?}",
        missing.join("\n  "),
        fams
    );
    // What the issue asks the dashboard and the alerts to cover, so an edit that drops a
    // panel's query does not pass as "nothing missing".
    for want in [
        "kcmf_requests_total",
        "kcmf_request_duration_seconds_bucket",
        "kcmf_cache_hits_total",
        "kcmf_cache_misses_total",
        "kcmf_llm_calls_total",
        "kcmf_llm_errors_total",
        "kcmf_llm_tokens_total",
        "kcmf_job_queue_depth",
        "kcmf_job_chunk_duration_seconds_bucket",
        "kcmf_jobs_total",
    ] {
        assert!(
            checked.contains(want),
            "nothing queries {want}: {checked:?}"
        );
    }
}

#[test]
fn names_are_taken_out_of_promql() {
    let names = queried_names(&[
        r#"sum(rate(kcmf_a_total{job="x"}[5m])) / histogram_quantile(0.9, kcmf_b_seconds_bucket)"#
            .to_string(),
        "xkcmf_not_this + kcmf_c".to_string(),
    ]);
    let want: BTreeSet<String> = ["kcmf_a_total", "kcmf_b_seconds_bucket", "kcmf_c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, want);
    let fams = families("# TYPE kcmf_b_seconds histogram\n# TYPE kcmf_c gauge\n");
    assert!(exported("kcmf_b_seconds_bucket", &fams));
    assert!(exported("kcmf_c", &fams));
    assert!(
        !exported("kcmf_c_bucket", &fams),
        "only histograms have buckets"
    );
    assert!(!exported("kcmf_a_total", &fams));
}
