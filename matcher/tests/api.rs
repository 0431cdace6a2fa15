//! End-to-end tests of `kcmf-matcher serve` over HTTP: embedded defaults, auth, rate
//! limit, caching, bad input, and the real PostgreSQL and Redis from `tests/services.sh`.

mod common;

use std::time::Duration;

use common::{Matcher, Proxy, fresh_pg_db, require_env, run_cli};
use serde_json::{Value, json};

fn pair() -> Value {
    json!({
        "left": {"name": "Arnie Morton's of Chicago", "city": "Los Angeles", "phone": "310-246-1501"},
        "right": {"name": "Arnie Morton's of Chicago", "city": "Los Angeles", "phone": "310/246-1501"}
    })
}

fn schema_body() -> Value {
    json!({
        "source": {"name": "customers", "columns": [
            {"name": "cust_name", "type": "text", "samples": ["Ann Lee", "Bo Chan"]},
            {"name": "birth_date", "type": "date", "samples": ["1980-01-02"]}
        ]},
        "target": {"name": "clients", "columns": [
            {"name": "client_name", "type": "varchar", "samples": ["Ann Lee"]},
            {"name": "dob", "type": "date", "samples": ["1979-05-06"]}
        ]}
    })
}

#[tokio::test]
async fn embedded_defaults_serve_every_endpoint() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    assert!(key.starts_with("kcmf_"));

    let (st, body) = m.get("/health").await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = m.get("/ready").await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("sqlite") && body.contains("memory"), "{body}");

    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["cached"], false);
    assert_eq!(r["backbone"], "local");
    let score = r["results"][0]["score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score));
    assert!(r["results"][0]["rule"].is_string());
    assert!(r["results"][0]["reasoning"].is_array());

    let (st, r2) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!(st, 200);
    assert_eq!(
        r2["cached"], true,
        "second identical request is served from cache"
    );
    assert_eq!(r2["results"], r["results"]);

    let batch = json!({"pairs": [pair(), {"left": {"name": "a"}, "right": {"name": "zzz qqq"}}]});
    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &batch).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["results"].as_array().map(Vec::len), Some(2));

    let (st, r) = m
        .post("/api/v1/match/schema", Some(&key), &schema_body())
        .await;
    assert_eq!(st, 200, "{r}");
    assert!(r["matches"].is_array());

    let dedup = json!({"entities": [
        {"id": "a", "name": "John Smith", "city": "Boston"},
        {"id": "b", "name": "John Smith", "city": "Boston"},
        {"id": "c", "name": "Mary Jones", "city": "Denver"}
    ]});
    let (st, r) = m.post("/api/v1/match/dedup", Some(&key), &dedup).await;
    assert_eq!(st, 200, "{r}");
    assert!(r["clusters"].is_array());

    let (st, spec) = m.get("/api/v1/openapi.json").await;
    assert_eq!(st, 200);
    let spec: Value = serde_json::from_str(&spec).expect("openapi json");
    assert!(spec["paths"]["/api/v1/match/entity"].is_object());
    let (st, page) = m.get("/docs/").await;
    assert_eq!(st, 200);
    assert!(page.contains("swagger"), "docs UI served");

    let (st, metrics) = m.get("/metrics").await;
    assert_eq!(st, 200);
    assert!(metrics.contains("kcmf_requests_total"), "{metrics}");
    assert!(metrics.contains("kcmf_request_duration_seconds"));
    assert!(metrics.contains("kcmf_cache_hits_total"));
}

#[tokio::test]
async fn auth_rejects_missing_wrong_and_revoked_keys() {
    let mut m = Matcher::start(&[]).await;
    let (st, r) = m.post("/api/v1/match/entity", None, &pair()).await;
    assert_eq!(st, 401);
    assert_eq!(r["error"]["code"], "unauthorized");
    let (st, _) = m
        .post("/api/v1/match/entity", Some("kcmf_nope_nope"), &pair())
        .await;
    assert_eq!(st, 401);
    let (st, _) = m
        .post("/api/v1/match/entity", Some("garbage"), &pair())
        .await;
    assert_eq!(st, 401);

    let (code, out, err) = run_cli(&m.data_dir, &[], &["keys", "create", "--name", "ci"]);
    assert_eq!(code, 0, "{err}");
    let new_key = out.trim().to_string();
    assert!(new_key.starts_with("kcmf_"));
    let (st, _) = m
        .post("/api/v1/match/entity", Some(&new_key), &pair())
        .await;
    assert_eq!(st, 200);

    let (code, list, _) = run_cli(&m.data_dir, &[], &["keys", "list"]);
    assert_eq!(code, 0);
    assert!(
        list.contains("ci") && !list.contains(&new_key),
        "list never shows the key: {list}"
    );
    let id = new_key.split('_').nth(1).expect("id").to_string();
    let (code, _, err) = run_cli(&m.data_dir, &[], &["keys", "revoke", &id]);
    assert_eq!(code, 0, "{err}");
    // Successful lookups are trusted for 2 s; after that the revocation is seen.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let (st, _) = m
        .post("/api/v1/match/entity", Some(&new_key), &pair())
        .await;
    assert_eq!(st, 401, "revoked key refused");
    let (code, _, _) = run_cli(&m.data_dir, &[], &["keys", "revoke", &id]);
    assert_ne!(code, 0, "revoking twice fails");

    // A user key may not manage keys; the admin key may, and revocation is immediate.
    let admin = m.key();
    let client = reqwest::Client::new();
    let created: Value = client
        .post(m.url("/api/v1/keys"))
        .header("X-API-Key", &admin)
        .json(&json!({"name": "via-api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_key = created["key"].as_str().expect("key").to_string();
    let st = client
        .get(m.url("/api/v1/keys"))
        .header("X-API-Key", &user_key)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, 403);
    let st = client
        .delete(m.url(&format!("/api/v1/keys/{}", created["id"].as_str().unwrap())))
        .header("X-API-Key", &admin)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, 204);
    let (st, _) = m
        .post("/api/v1/match/entity", Some(&user_key), &pair())
        .await;
    assert_eq!(st, 401);

    // The last active admin key cannot be revoked (no one could manage keys after it):
    // 409, JSON; once a second admin exists, the first may go, and then not the second.
    let revoke = |key: String, id: String| {
        let client = client.clone();
        let url = m.url(&format!("/api/v1/keys/{id}"));
        async move {
            let r = client
                .delete(url)
                .header("X-API-Key", &key)
                .send()
                .await
                .unwrap();
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let admin_id = admin.split('_').nth(1).expect("id").to_string();
    let (st, body) = revoke(admin.clone(), admin_id.clone()).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let second: Value = client
        .post(m.url("/api/v1/keys"))
        .header("X-API-Key", &admin)
        .json(&json!({"name": "second-admin", "role": "admin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second_key = second["key"].as_str().expect("key").to_string();
    let second_id = second["id"].as_str().expect("id").to_string();
    let (st, _) = revoke(second_key.clone(), admin_id).await;
    assert_eq!(st, 204);
    let (st, _) = revoke(second_key.clone(), second_id.clone()).await;
    assert_eq!(st, 409, "the second admin is now the last");
    let (code, _, err) = run_cli(&m.data_dir, &[], &["keys", "revoke", &second_id]);
    assert_ne!(code, 0);
    assert!(err.contains("last active admin key"), "{err}");
    assert_eq!(m.terminate(), Some(0), "SIGTERM shuts down cleanly");
}

#[tokio::test]
async fn failed_authentications_are_limited_per_address() {
    let m = Matcher::start(&[("AUTH_FAILURE_LIMIT", "3".into())]).await;
    let key = m.key();
    for _ in 0..3 {
        let (st, _) = m
            .post("/api/v1/match/entity", Some("kcmf_guess_wrong"), &pair())
            .await;
        assert_eq!(st, 401);
    }
    let r = reqwest::Client::new()
        .post(m.url("/api/v1/match/entity"))
        .header("X-API-Key", "kcmf_guess_again")
        .json(&pair())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // the address is blocked: even a valid key waits (no lookup is made for it)
    let (st, _) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!(st, 429);
    let (_, metrics) = m.get("/metrics").await;
    assert!(
        metrics.contains("kcmf_auth_failures_total{result=\"unauthorized\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn matching_runs_off_the_async_workers() {
    // One runtime worker: a schema request computed on it would hold /health until done.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "app:\n  workers: 1\n").unwrap();
    let m = Matcher::start(&[("KCMF_CONFIG", cfg.display().to_string())]).await;
    let key = m.key();
    let table = |p: &str| {
        json!({"name": p, "columns": (0..150)
            .map(|i| json!({"name": format!("{p}_field_{i}"), "samples": [format!("{i}a"), "x y"]}))
            .collect::<Vec<_>>()})
    };
    let body = json!({"source": table("src"), "target": table("tgt")});
    let schema = async {
        let (st, _) = m.post("/api/v1/match/schema", Some(&key), &body).await;
        (st, std::time::Instant::now())
    };
    let health = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (st, _) = m.get("/health").await;
        (st, std::time::Instant::now())
    };
    let ((st_s, done_s), (st_h, done_h)) = tokio::join!(schema, health);
    assert_eq!((st_s, st_h), (200, 200));
    assert!(
        done_h < done_s,
        "/health answered only after the schema request finished"
    );
}

#[tokio::test]
async fn valid_api_keys_env_and_custom_header() {
    let m = Matcher::start(&[
        ("VALID_API_KEYS", "k-one,k-two".into()),
        ("API_KEY_HEADER", "X-Token".into()),
    ])
    .await;
    assert!(m.key.is_none(), "no bootstrap key when keys are configured");
    let client = reqwest::Client::new();
    for (hdr, key, want) in [
        ("X-Token", "k-two", 200),
        ("X-API-Key", "k-two", 401),
        ("X-Token", "k-three", 401),
    ] {
        let st = client
            .post(m.url("/api/v1/match/entity"))
            .header(hdr, key)
            .json(&pair())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(st.as_u16(), want, "{hdr}: {key}");
    }
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let m = Matcher::start(&[("RATE_LIMIT", "5".into())]).await;
    let key = m.key();
    let client = reqwest::Client::new();
    let mut codes = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let r = client
            .post(m.url("/api/v1/match/entity"))
            .header("X-API-Key", &key)
            .json(&pair())
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        codes.push(r.status().as_u16());
    }
    assert_eq!(&codes[..5], &[200; 5], "{codes:?}");
    assert!(codes[5..].iter().all(|c| *c == 429), "{codes:?}");
    let secs: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&secs));
    // Health stays reachable without a key and without counting.
    assert_eq!(m.get("/health").await.0, 200);
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_the_field() {
    let m = Matcher::start(&[("KCMF_MAX_BODY_BYTES_UNUSED", "1".into())]).await;
    let key = m.key();
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"left": {"name": "a"}}), 422, "right"),
        (json!({"pairs": []}), 422, "pairs"),
        (
            json!({"pairs": [{"left": {"name": "a"}}]}),
            422,
            "pairs[0].right",
        ),
        (
            json!({"pairs": [{"left": {"name": "a"}, "right": {"name": ["x"]}}]}),
            422,
            "pairs[0].right.name",
        ),
        (
            json!({"left": {"name": "a"}, "right": {"name": "b"}, "options": {"bogus": 1}}),
            422,
            "options.bogus",
        ),
        (
            json!({"left": {"name": "a"}, "right": {"name": "b"}, "options": {"threshold": 3}}),
            422,
            "options.threshold",
        ),
        (
            json!({"left": {"name": "a"}, "right": {"name": "b"}, "options": {"threshold": "high"}}),
            422,
            "options.threshold",
        ),
        (json!({"left": {}, "right": {"name": "b"}}), 422, "left"),
        (json!({"left": "x", "right": {"name": "b"}}), 422, "left"),
        (json!({"unexpected": true}), 422, "unexpected"),
    ];
    for (body, want, field) in cases {
        let (st, r) = m.post("/api/v1/match/entity", Some(&key), &body).await;
        assert_eq!(st, want, "{body} -> {r}");
        assert_eq!(r["error"]["field"], field, "{body} -> {r}");
    }
    let schema_cases: Vec<(Value, &str)> = vec![
        (
            json!({"source": {"name": "a", "columns": []}, "target": {"name": "b", "columns": [{"name": "x"}]}}),
            "source.columns",
        ),
        (
            json!({"source": {"name": "a", "columns": [{"name": "x"}]}}),
            "target",
        ),
        (
            json!({"source": {"name": "a", "columns": [{"name": "x"}, {"name": "x"}]}, "target": {"name": "b", "columns": [{"name": "x"}]}}),
            "source.columns[1].name",
        ),
        (
            json!({"source": {"name": "a", "columns": [{"nam": "x"}]}, "target": {"name": "b", "columns": [{"name": "x"}]}}),
            "source.columns[0].nam",
        ),
    ];
    for (body, field) in schema_cases {
        let (st, r) = m.post("/api/v1/match/schema", Some(&key), &body).await;
        assert_eq!(st, 422, "{body} -> {r}");
        assert_eq!(r["error"]["field"], field, "{body} -> {r}");
    }
    let (st, r) = m
        .post("/api/v1/match/dedup", Some(&key), &json!({"entities": []}))
        .await;
    assert_eq!((st, r["error"]["field"].as_str()), (422, Some("entities")));
    let (st, r) = m
        .post(
            "/api/v1/match/dedup",
            Some(&key),
            &json!({"entities": [{"id": "a", "n": 1}, {"id": "a", "n": 2}]}),
        )
        .await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("entities[1].id"))
    );
    // split_threshold: a probability, at least the threshold (given or configured)
    let two = json!([{"id": "a", "n": "x"}, {"id": "b", "n": "x"}]);
    for body in [
        json!({"entities": two, "threshold": 0.9, "split_threshold": 0.5}),
        json!({"entities": two, "split_threshold": 1.5}),
        json!({"entities": two, "split_threshold": 0.3}),
    ] {
        let (st, r) = m.post("/api/v1/match/dedup", Some(&key), &body).await;
        assert_eq!(
            (st, r["error"]["field"].as_str()),
            (422, Some("split_threshold")),
            "{body} -> {r}"
        );
    }
    let (st, r) = m
        .post(
            "/api/v1/match/dedup",
            Some(&key),
            &json!({"entities": two, "split_threshold": 0.95}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let many: Vec<Value> = (0..2001)
        .map(|i| json!({"id": i, "name": format!("n{i}")}))
        .collect();
    let (st, r) = m
        .post(
            "/api/v1/match/dedup",
            Some(&key),
            &json!({"entities": many}),
        )
        .await;
    assert_eq!(st, 413, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("/api/v1/jobs")
    );

    let (st, r) = m
        .post_raw(
            "/api/v1/match/entity",
            &key,
            "application/json",
            b"{\"left\": ".to_vec(),
        )
        .await;
    assert_eq!(st, 400, "{r}");
    assert_eq!(r["error"]["code"], "malformed_json");
    let (st, _) = m
        .post_raw("/api/v1/match/entity", &key, "text/plain", b"{}".to_vec())
        .await;
    assert_eq!(st, 415);
    let huge = format!(
        "{{\"left\": {{\"name\": \"{}\"}}, \"right\": {{\"name\": \"b\"}}}}",
        "x".repeat(11 * 1024 * 1024)
    );
    let (st, r) = m
        .post_raw(
            "/api/v1/match/entity",
            &key,
            "application/json",
            huge.into_bytes(),
        )
        .await;
    assert_eq!(st, 413, "{r}");
    let (st, r) = m.post("/api/v1/nope", Some(&key), &json!({})).await;
    assert_eq!(st, 404, "{r}");
    // A table past matching.max_columns (default 500) is refused before any work, named.
    let mut wide = schema_body();
    wide["target"]["columns"] = Value::Array(
        (0..501)
            .map(|i| json!({"name": format!("c{i}"), "samples": ["x"]}))
            .collect(),
    );
    let (st, r) = m.post("/api/v1/match/schema", Some(&key), &wide).await;
    assert_eq!(st, 422, "{r}");
    assert_eq!(r["error"]["field"], "target.columns", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|t| t.contains("matching.max_columns")),
        "{r}"
    );
    // Every error is JSON: a bad query parameter (named), a method the route does not
    // serve (405, its Allow header kept), a value an enum cannot take (named).
    let client = reqwest::Client::new();
    let r = client
        .get(m.url("/api/v1/jobs?limit=abc"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "limit", "{body}");
    let r = client.put(m.url("/health")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.headers().contains_key("allow"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    let (st, r) = m
        .post("/api/v1/feedback", Some(&key), &json!({"kind": 5}))
        .await;
    assert_eq!(st, 422, "{r}");
    assert_eq!(r["error"]["field"], "kind", "{r}");
    // The service is still healthy after all of it.
    assert_eq!(m.get("/ready").await.0, 200);
}

#[tokio::test]
async fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "app:\n  port: 8000\n  rate_limt: 5\n").unwrap();
    let cfg_s = cfg.to_string_lossy().to_string();
    let (code, _, err) = run_cli(dir.path(), &[], &["--config", &cfg_s, "migrate"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rate_limt"), "{err}");
    std::fs::write(&cfg, "matching:\n  entity_threshold: 2\n").unwrap();
    let (code, _, err) = run_cli(dir.path(), &[], &["--config", &cfg_s, "migrate"]);
    assert_eq!(code, 2);
    assert!(err.contains("matching.entity_threshold"), "{err}");
    let (code, _, err) = run_cli(dir.path(), &[("APP_ENV", "production".into())], &["serve"]);
    assert_eq!(code, 2);
    assert!(err.contains("SECRET_KEY"), "{err}");
    let (code, _, err) = run_cli(
        dir.path(),
        &[("APP_ENV", "production".into()), ("SECRET_KEY", "s".into())],
        &["serve"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("VALID_API_KEYS"), "{err}");
    let (code, _, err) = run_cli(
        dir.path(),
        &[("DATABASE_URL", "mysql://x".into())],
        &["migrate"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("database.url"), "{err}");
}

#[tokio::test]
async fn postgres_and_redis_cache_and_encrypted_history() {
    let db = fresh_pg_db().await;
    let redis_url = require_env("KCMF_TEST_REDIS_URL");
    let secret = "test-secret-for-fernet";
    let m = Matcher::start(&[
        ("DATABASE_URL", db.clone()),
        ("REDIS_URL", redis_url.clone()),
        ("SECRET_KEY", secret.into()),
    ])
    .await;
    let key = m.key();
    let (st, body) = m.get("/ready").await;
    assert_eq!(st, 200, "{body}");
    assert!(
        body.contains("postgres") && body.contains("redis"),
        "{body}"
    );
    // PostgreSQL locks the admin rows while it checks: the only admin cannot revoke itself.
    let id = key.split('_').nth(1).expect("id");
    let r = reqwest::Client::new()
        .delete(m.url(&format!("/api/v1/keys/{id}")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);

    // A request body unique to this run, so the shared Redis holds no earlier answer.
    let marker = uuid::Uuid::new_v4().to_string();
    let body = json!({"left": {"name": format!("Golden Dragon {marker}")}, "right": {"name": format!("Golden Dragon {marker}")}});
    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &body).await;
    assert_eq!((st, &r["cached"]), (200, &json!(false)), "{r}");
    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &body).await;
    assert_eq!((st, &r["cached"]), (200, &json!(true)), "{r}");

    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("kcmf:entity:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty(), "entity answer cached in Redis");

    // History rows: not plaintext, and they decrypt with the documented Fernet key.
    use sqlx::Connection;
    let mut pg = sqlx::PgConnection::connect(&db).await.unwrap();
    let mut rows: Vec<(String, String)> = Vec::new();
    for _ in 0..50 {
        rows = sqlx::query_as("SELECT request_enc, result_enc FROM match_history")
            .fetch_all(&mut pg)
            .await
            .unwrap();
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 1, "one computed answer, one history row");
    let (req_enc, res_enc) = &rows[0];
    assert!(!req_enc.contains(&marker) && !req_enc.contains("Golden"));
    use base64::Engine as _;
    use sha2::Digest;
    let fkey =
        base64::engine::general_purpose::URL_SAFE.encode(sha2::Sha256::digest(secret.as_bytes()));
    let f = fernet::Fernet::new(&fkey).unwrap();
    let plain = String::from_utf8(f.decrypt(req_enc).unwrap()).unwrap();
    assert!(plain.contains(&marker), "{plain}");
    let result: Value = serde_json::from_slice(&f.decrypt(res_enc).unwrap()).unwrap();
    assert!(result.is_array());

    // The request log names endpoint and status, and holds no secret.
    let mut logs: Vec<(String, i64)> = Vec::new();
    for _ in 0..50 {
        logs = sqlx::query_as("SELECT endpoint, status FROM request_log")
            .fetch_all(&mut pg)
            .await
            .unwrap();
        if logs.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        logs.iter()
            .any(|(e, s)| e == "/api/v1/match/entity" && *s == 200),
        "{logs:?}"
    );
    let key_hash_rows: Vec<(String,)> = sqlx::query_as("SELECT key_hash FROM api_keys")
        .fetch_all(&mut pg)
        .await
        .unwrap();
    assert!(
        key_hash_rows
            .iter()
            .all(|(h,)| h.len() == 64 && !h.contains("kcmf_"))
    );
}

#[tokio::test]
async fn redis_stopped_mid_test_still_answers() {
    let port = common::free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut redis = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server must be installed (tests/services.sh install)");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let m = Matcher::start(&[("REDIS_URL", format!("redis://127.0.0.1:{port}/0"))]).await;
    let key = m.key();
    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!(st, 200, "{r}");
    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!((st, &r["cached"]), (200, &json!(true)));

    redis.kill().unwrap();
    redis.wait().unwrap();
    for i in 0..3 {
        let body = json!({"left": {"name": format!("x{i}")}, "right": {"name": format!("y{i}")}});
        let (st, r) = m.post("/api/v1/match/entity", Some(&key), &body).await;
        assert_eq!(st, 200, "answered uncached while Redis is down: {r}");
        assert_eq!(r["cached"], false);
    }
    let (st, body) = m.get("/ready").await;
    assert_eq!(st, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["store"], "ok");
    assert_ne!(ready["cache"], "ok");
    let (_, metrics) = m.get("/metrics").await;
    assert!(
        metrics.contains("kcmf_cache_errors_total"),
        "failures counted"
    );
}

#[tokio::test]
async fn serve_waits_for_a_database_that_comes_up_after_it() {
    let db = fresh_pg_db().await;
    let (hostport, rest) = db
        .trim_start_matches("postgres://kcmf:kcmf@")
        .split_once('/')
        .expect("url shape");
    // nothing listens on the database's port when the matcher starts (connections are
    // refused, as a Service with no ready endpoint refuses them), and the database comes up
    // 3 s later: a matcher pod beside its PostgreSQL pod on a fresh install
    let port = common::free_port();
    let via_proxy = format!("postgres://kcmf:kcmf@127.0.0.1:{port}/{rest}");
    let target = hostport.to_string();
    let up = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        Proxy::start_on(port, target).await
    });
    // a connection pool that gives up after 1 s of its own retries: the outage outlasts it
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pool.yaml");
    std::fs::write(&cfg, "database:\n  pool_timeout: 1\n").expect("config");
    let m = Matcher::start(&[
        ("DATABASE_URL", via_proxy),
        ("SECRET_KEY", "s".into()),
        ("KCMF_CONFIG", cfg.display().to_string()),
    ])
    .await;
    assert_eq!(m.get("/ready").await.0, 200);
    assert!(
        m.stderr().contains("database not reachable yet"),
        "the wait is logged: {}",
        m.stderr()
    );
    drop(up);
}

#[tokio::test]
async fn store_down_makes_ready_503_and_recovers() {
    let db = fresh_pg_db().await;
    let (hostport, rest) = db
        .trim_start_matches("postgres://kcmf:kcmf@")
        .split_once('/')
        .expect("url shape");
    let proxy = Proxy::start(hostport.to_string()).await;
    let via_proxy = format!("postgres://kcmf:kcmf@127.0.0.1:{}/{rest}", proxy.port);
    let m = Matcher::start(&[("DATABASE_URL", via_proxy), ("SECRET_KEY", "s".into())]).await;
    assert_eq!(m.get("/ready").await.0, 200);
    proxy.cut();
    let (st, body) = m.get("/ready").await;
    assert_eq!(st, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_ne!(ready["store"], "ok");
    assert_eq!(ready["cache"], "ok");
    assert_eq!(
        m.get("/health").await.0,
        200,
        "liveness checks no dependency"
    );
    proxy.restore();
    let mut st = 0;
    for _ in 0..50 {
        st = m.get("/ready").await.0;
        if st == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(st, 200, "ready again once the store is back");
}

/// Each API key is a tenant: one key's feedback is a demonstration for its own requests only
/// (the `[examples]` vote), never for another key's, and never serves another key a cached
/// answer; an oversized example is refused naming the field.
#[tokio::test]
async fn feedback_is_scoped_to_its_key_and_bounded() {
    let m = Matcher::start(&[]).await;
    let a = m.key();
    let (st, created) = m
        .post("/api/v1/keys", Some(&a), &json!({"name": "tenant-b"}))
        .await;
    assert_eq!(st, 201, "{created}");
    let b = created["key"].as_str().expect("key").to_string();
    let body = json!({
        "left": {"name": "Big Apple", "city": "x"},
        "right": {"name": "New York City", "city": "x"}
    });
    let fb = json!({"kind": "entity", "match": true,
        "left": {"name": "Big Apple", "city": "y"},
        "right": {"name": "New York City", "city": "y"}});
    let (st, r) = m.post("/api/v1/feedback", Some(&a), &fb).await;
    assert_eq!(st, 201, "{r}");
    let voted = |r: &Value| {
        r["results"][0]["reasoning"].as_array().is_some_and(|l| {
            l.iter()
                .any(|x| x.as_str().is_some_and(|s| s.starts_with("[examples]")))
        })
    };
    let (st, ra) = m.post("/api/v1/match/entity", Some(&a), &body).await;
    assert_eq!(st, 200, "{ra}");
    assert!(voted(&ra), "key A's own example votes for A: {ra}");
    let (st, rb) = m.post("/api/v1/match/entity", Some(&b), &body).await;
    assert_eq!(st, 200, "{rb}");
    assert_eq!(rb["cached"], false, "A's cached answer is not B's: {rb}");
    assert!(!voted(&rb), "A's example must not vote for B: {rb}");

    let big = "x".repeat(9 * 1024);
    let huge = json!({"kind": "entity", "match": true,
        "left": {"name": big}, "right": {"name": "y"}});
    let (st, r) = m.post("/api/v1/feedback", Some(&b), &huge).await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("left")),
        "{r}"
    );
    let (st, r) = m
        .post(
            "/api/v1/feedback",
            Some(&b),
            &json!({"kind": "schema", "source": "a", "target": "b".repeat(9000), "match": true}),
        )
        .await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("target")),
        "{r}"
    );
}

#[tokio::test]
async fn feedback_is_stored_and_changes_the_cache_key() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    let (st, _) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!(st, 200);
    let fb =
        json!({"kind": "entity", "left": pair()["left"], "right": pair()["right"], "match": true});
    let (st, r) = m.post("/api/v1/feedback", Some(&key), &fb).await;
    assert_eq!(st, 201, "{r}");
    assert!(r["id"].is_string());
    let (st, r) = m.post("/api/v1/match/entity", Some(&key), &pair()).await;
    assert_eq!(st, 200);
    assert_eq!(
        r["cached"], false,
        "new feedback is not hidden by an older cached answer"
    );
    let (st, r) = m
        .post(
            "/api/v1/feedback",
            Some(&key),
            &json!({"kind": "schema", "source": "a", "match": true}),
        )
        .await;
    assert_eq!((st, r["error"]["field"].as_str()), (422, Some("target")));
    let (st, r) = m
        .post(
            "/api/v1/feedback",
            Some(&key),
            &json!({"kind": "graph", "match": true}),
        )
        .await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("kind")),
        "{r}"
    );
}
