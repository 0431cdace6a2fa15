//! A request that times out cancels its matching: the engine stops at its next check
//! instead of running to the end on its blocking thread and holding a matching slot
//! (issue 16, item 1).

mod common;

use common::Matcher;
use serde_json::{Value, json};

fn table(name: &str, n: usize, word: &str) -> Value {
    let columns: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "name": format!("{word}_{i}_field"),
                "type": "string",
                "samples": [format!("v{i}a"), format!("v{i}b"), format!("{word}{i}")]
            })
        })
        .collect();
    json!({ "name": name, "columns": columns })
}

fn cancelled(metrics: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with("kcmf_matching_cancelled_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_timed_out_schema_request_cancels_its_matching() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("cancel.yaml");
    // 2,000 x 2,000 columns: four million pairs, far more than a second's work
    std::fs::write(
        &cfg,
        "app:\n  timeout: 1\nmatching:\n  max_columns: 2000\ncache:\n  enabled: false\n",
    )
    .expect("config");
    let m = Matcher::start(&[("KCMF_CONFIG", cfg.display().to_string())]).await;
    let key = m.key();
    let body = json!({
        "source": table("customers", 2000, "customer"),
        "target": table("clients", 2000, "client"),
    });
    let (st, err) = m.post("/api/v1/match/schema", Some(&key), &body).await;
    assert_eq!(st, 408, "{err}");
    let mut seen = 0.0;
    for _ in 0..120 {
        if seen >= 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        seen = cancelled(&m.get("/metrics").await.1);
    }
    assert!(
        seen >= 1.0,
        "the matching behind the timed-out request was not cancelled (kcmf_matching_cancelled_total = {seen})"
    );
    // the server still matches: a small request is answered
    let small = json!({
        "source": table("a", 3, "phone"),
        "target": table("b", 3, "phone"),
    });
    let (st, ok) = m.post("/api/v1/match/schema", Some(&key), &small).await;
    assert_eq!(st, 200, "{ok}");
}
