//! Named projects (Example as Knowledge shared by an admin's choice), on SQLite and on
//! PostgreSQL: keys of one project see each other's feedback examples (the `[examples]`
//! vote), a key outside sees none, a key moved out takes its examples along and stops
//! sharing, a restart resolves the same tenants from the store, only admins set projects
//! (403), and a bad project name is a 422 naming `project`. The cache generation follows
//! the examples across a restart (needs Redis: KCMF_TEST_REDIS_URL).

mod common;

use std::time::Duration;

use common::{Matcher, fresh_pg_db, run_cli};
use serde_json::{Value, json};

fn pair() -> Value {
    json!({
        "left": {"name": "Big Apple", "city": "x"},
        "right": {"name": "New York City", "city": "x"}
    })
}

fn example() -> Value {
    json!({"kind": "entity", "match": true,
        "left": {"name": "Big Apple", "city": "y"},
        "right": {"name": "New York City", "city": "y"}})
}

/// Whether a match answer carries the `[examples]` vote (a stored example was used).
fn voted(r: &Value) -> bool {
    r["results"][0]["reasoning"].as_array().is_some_and(|l| {
        l.iter()
            .any(|x| x.as_str().is_some_and(|s| s.starts_with("[examples]")))
    })
}

async fn put(m: &Matcher, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .put(m.url(path))
        .header("X-API-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    let st = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create_key(m: &Matcher, admin: &str, body: Value) -> (String, String) {
    let (st, r) = m.post("/api/v1/keys", Some(admin), &body).await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(
        r["project"],
        body.get("project").cloned().unwrap_or(Value::Null)
    );
    (
        r["id"].as_str().expect("id").to_string(),
        r["key"].as_str().expect("key").to_string(),
    )
}

/// `(voted, cached)` of the test pair's entity match for this key.
async fn vote(m: &Matcher, key: &str) -> (bool, bool) {
    let (st, r) = m.post("/api/v1/match/entity", Some(key), &pair()).await;
    assert_eq!(st, 200, "{r}");
    (voted(&r), r["cached"] == true)
}

async fn project_of(m: &Matcher, admin: &str, id: &str) -> Value {
    let (st, body) = m.get_with_key("/api/v1/keys", admin).await;
    assert_eq!(st, 200, "{body}");
    let keys: Value = serde_json::from_str(&body).expect("json");
    keys.as_array()
        .expect("array")
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("key {id} listed: {body}"))["project"]
        .clone()
}

/// The story on a running server, whatever its store; returns the admin key, a's id, a's
/// and b's keys (both in `team-1`, a gave one example).
async fn projects_share_examples(m: &Matcher) -> (String, String, String, String) {
    let admin = m.key();
    let (a_id, a) = create_key(m, &admin, json!({"name": "a", "project": "team-1"})).await;
    let (_, b) = create_key(m, &admin, json!({"name": "b", "project": "team-1"})).await;
    let (_, c) = create_key(m, &admin, json!({"name": "c"})).await;
    assert_eq!(project_of(m, &admin, &a_id).await, "team-1");

    // nobody gave an example yet
    assert_eq!(vote(m, &b).await, (false, false));
    let (st, r) = m.post("/api/v1/feedback", Some(&a), &example()).await;
    assert_eq!(st, 201, "{r}");
    // b gave none: a's example, through the project, votes for b (and is not hidden by
    // b's cached answer from before)
    assert_eq!(vote(m, &b).await, (true, false), "a's example votes for b");
    assert!(vote(m, &a).await.0);
    assert!(!vote(m, &c).await.0, "c is outside the project");

    // only admins set projects
    let (st, r) = put(
        m,
        &format!("/api/v1/keys/{a_id}/project"),
        &b,
        &json!({"project": null}),
    )
    .await;
    assert_eq!(
        (st, r["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{r}"
    );
    let (st, r) = m
        .post(
            "/api/v1/keys",
            Some(&b),
            &json!({"name": "x", "project": "team-1"}),
        )
        .await;
    assert_eq!(st, 403, "{r}");
    assert!(r["error"]["message"].is_string(), "{r}");

    // project names are checked, the error names `project`
    for bad in [
        json!(""),
        json!("a b"),
        json!("-x"),
        json!("p".repeat(65)),
        json!(7),
    ] {
        let (st, r) = m
            .post(
                "/api/v1/keys",
                Some(&admin),
                &json!({"name": "x", "project": bad}),
            )
            .await;
        assert_eq!(
            (st, r["error"]["field"].as_str()),
            (422, Some("project")),
            "{bad}: {r}"
        );
        let (st, r) = put(
            m,
            &format!("/api/v1/keys/{a_id}/project"),
            &admin,
            &json!({"project": bad}),
        )
        .await;
        assert_eq!(
            (st, r["error"]["field"].as_str()),
            (422, Some("project")),
            "{bad}: {r}"
        );
    }
    let (st, r) = put(
        m,
        &format!("/api/v1/keys/{a_id}/project"),
        &admin,
        &json!({}),
    )
    .await;
    assert_eq!(
        (st, r["error"]["field"].as_str()),
        (422, Some("project")),
        "{r}"
    );
    let (st, r) = put(
        m,
        "/api/v1/keys/nosuchkey/project",
        &admin,
        &json!({"project": "p"}),
    )
    .await;
    assert_eq!(st, 404, "{r}");
    assert_eq!(
        project_of(m, &admin, &a_id).await,
        "team-1",
        "refused moves changed nothing"
    );

    // a leaves: its example goes with it, b no longer sees it, a still does
    let (st, r) = put(
        m,
        &format!("/api/v1/keys/{a_id}/project"),
        &admin,
        &json!({"project": null}),
    )
    .await;
    assert_eq!((st, &r["project"]), (200, &Value::Null), "{r}");
    assert_eq!(r["id"], a_id.as_str());
    assert_eq!(project_of(m, &admin, &a_id).await, Value::Null);
    // (b's answer from before any example may come from the cache now: the same
    // examples, none, give the same answer)
    assert!(!vote(m, &b).await.0, "moving a out stops sharing");
    assert!(vote(m, &a).await.0, "a keeps its own example");

    // and back in: shared again
    let (st, r) = put(
        m,
        &format!("/api/v1/keys/{a_id}/project"),
        &admin,
        &json!({"project": "team-1"}),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    // (the same examples as before a left: b's answer cached then is the right one)
    assert_eq!(vote(m, &b).await, (true, true));
    (admin, a_id, a, b)
}

/// After a restart the tenants are resolved from the store again.
async fn after_restart(m: &Matcher, b: &str, c_outside: &str) {
    assert!(vote(m, b).await.0, "project sharing survives a restart");
    assert!(!vote(m, c_outside).await.0);
}

#[tokio::test]
async fn projects_share_examples_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("SECRET_KEY", "projects-secret".to_string())];
    let mut m = Matcher::start_in(dir.path(), &env).await;
    let (admin, a_id, a, b) = projects_share_examples(&m).await;
    let (_, outside) = create_key(&m, &admin, json!({"name": "outside"})).await;

    // the CLI moves a key too (and lists and creates keys with projects)
    let (code, out, err) = run_cli(dir.path(), &env, &["keys", "project", &a_id, "--none"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_cli(dir.path(), &env, &["keys", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("PROJECT"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with(a_id.as_str()))
        .expect("a listed");
    assert!(!line.contains("team-1"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("team-1") && l.ends_with(" b")),
        "{out}"
    );
    let (code, _, err) = run_cli(
        dir.path(),
        &env,
        &["keys", "project", &a_id, "--project", "a b"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--project"), "{err}");
    let (code, out, err) = run_cli(
        dir.path(),
        &env,
        &["keys", "create", "--name", "cli", "--project", "team-2"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().starts_with("kcmf_"), "{out}");
    let (code, out, _) = run_cli(dir.path(), &env, &["keys", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.contains("team-2") && l.ends_with(" cli")),
        "{out}"
    );

    // the running server follows the CLI's move on the moved key's next request (once its
    // key lookup, trusted for 2 s, is refreshed): a keeps its example, b loses it
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert!(vote(&m, &a).await.0);
    assert!(!vote(&m, &b).await.0, "a left team-1 through the CLI");

    // a restart resolves the tenants from the store: a is still out
    m.terminate();
    drop(m);
    let m = Matcher::start_in(dir.path(), &env).await;
    assert!(!vote(&m, &b).await.0, "a left team-1 through the CLI");
    let (st, r) = put(
        &m,
        &format!("/api/v1/keys/{a_id}/project"),
        &admin,
        &json!({"project": "team-1"}),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    after_restart(&m, &b, &outside).await;
}

#[tokio::test]
async fn projects_share_examples_on_postgres() {
    let db = fresh_pg_db().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("DATABASE_URL", db),
        ("SECRET_KEY", "projects-secret".to_string()),
    ];
    let mut m = Matcher::start_in(dir.path(), &env).await;
    let (admin, _, _, b) = projects_share_examples(&m).await;
    let (_, outside) = create_key(&m, &admin, json!({"name": "outside"})).await;
    m.terminate();
    drop(m);
    let m = Matcher::start_in(dir.path(), &env).await;
    after_restart(&m, &b, &outside).await;
}

/// The cache generation follows the examples, not the process: after a restart, an answer
/// cached (in Redis) before the key's feedback is not served (it was: every key's
/// generation went back to 0), and an answer cached with the same examples still is.
#[tokio::test]
async fn cached_answers_follow_the_examples_across_a_restart() {
    let redis = common::require_env("KCMF_TEST_REDIS_URL");
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("SECRET_KEY", "projects-secret".to_string()),
        ("REDIS_URL", redis),
    ];
    let mut m = Matcher::start_in(dir.path(), &env).await;
    let admin = m.key();
    let (_, k) = create_key(&m, &admin, json!({"name": "k"})).await;
    assert_eq!(vote(&m, &k).await, (false, false));
    assert_eq!(vote(&m, &k).await, (false, true), "cached");
    let (st, r) = m.post("/api/v1/feedback", Some(&k), &example()).await;
    assert_eq!(st, 201, "{r}");
    m.terminate();
    drop(m);
    let m = Matcher::start_in(dir.path(), &env).await;
    assert_eq!(
        vote(&m, &k).await,
        (true, false),
        "the answer cached before the feedback is not served after it"
    );
    assert_eq!(vote(&m, &k).await, (true, true));
    let mut m = m;
    m.terminate();
    drop(m);
    let m = Matcher::start_in(dir.path(), &env).await;
    assert_eq!(
        vote(&m, &k).await,
        (true, true),
        "the same examples after a restart find their cached answer"
    );
}
