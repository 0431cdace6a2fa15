//! Backups and restores against the real PostgreSQL and Redis from `tests/services.sh`
//! (and the embedded SQLite store): fill the store through the API, back up, wipe, restore
//! and compare every row and key; corrupted and missing sets are refused before anything
//! is touched; retention on dated sets; a backup killed mid-run leaves no complete set;
//! the restore drill; maintenance mode on a serving matcher.
//!
//! Redis: each test uses its own database index on the shared test server and wipes it
//! with FLUSHDB (FLUSHALL would wipe the databases of suites running at the same time).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Matcher, fresh_pg_db, require_env, run_cli};
use kcmf_matcher::backup::manifest::{Manifest, Verification};
use serde_json::{Value, json};
use sqlx::{Connection, Row};

fn pair(i: usize) -> Value {
    json!({
        "left": {"name": format!("Arnie Morton's {i}"), "city": "Los Angeles", "phone": "310-246-1501"},
        "right": {"name": format!("Arnie Mortons {i}"), "city": "Los Angeles", "phone": "310/246-1501"}
    })
}

fn redis_db_url(db: u32) -> String {
    let base = require_env("KCMF_TEST_REDIS_URL");
    let (prefix, _) = base.rsplit_once('/').expect("redis url has a db");
    format!("{prefix}/{db}")
}

/// Runs the CLI and insists on success.
fn ok_cli(data: &Path, env: &[(&str, String)], args: &[&str]) -> String {
    let (code, out, err) = run_cli(data, env, args);
    assert_eq!(code, 0, "kcmf-matcher {args:?} failed:\n{out}\n{err}");
    out
}

fn list(data: &Path, env: &[(&str, String)], dir: &Path) -> Vec<Value> {
    let out = ok_cli(
        data,
        env,
        &[
            "backup",
            "list",
            "--json",
            "--dir",
            &dir.display().to_string(),
        ],
    );
    match serde_json::from_str::<Value>(&out).expect("list --json is JSON") {
        Value::Array(v) => v,
        other => panic!("list --json: {other}"),
    }
}

/// Fills the store and cache through the API: a key, matches (history, cache), a schema
/// match, feedback; returns the user key created over the API. The server is stopped with
/// SIGTERM so the request log is drained.
async fn fill_through_api(m: &mut Matcher) -> String {
    let admin = m.key();
    let client = reqwest::Client::new();
    let created: Value = client
        .post(m.url("/api/v1/keys"))
        .header("X-API-Key", &admin)
        .json(&json!({"name": "via-api"}))
        .send()
        .await
        .expect("create key")
        .json()
        .await
        .expect("key json");
    let user = created["key"].as_str().expect("key").to_string();
    // feedback first: the answers cached below are the ones for the key's examples (an
    // answer cached before a key's feedback is not served after it, restart or not)
    let fb = json!({"kind": "entity", "left": pair(1)["left"], "right": pair(1)["right"], "match": true});
    let (st, r) = m.post("/api/v1/feedback", Some(&user), &fb).await;
    assert_eq!(st, 201, "{r}");
    for i in 0..6 {
        let (st, r) = m.post("/api/v1/match/entity", Some(&user), &pair(i)).await;
        assert_eq!(st, 200, "{r}");
    }
    let schema = json!({
        "source": {"name": "customers", "columns": [{"name": "cust_name", "type": "text"}]},
        "target": {"name": "clients", "columns": [{"name": "client_name", "type": "varchar"}]}
    });
    let (st, r) = m.post("/api/v1/match/schema", Some(&user), &schema).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(m.terminate(), Some(0), "{}", m.stderr());
    user
}

type Rows = BTreeMap<String, Vec<String>>;

async fn pg_rows(url: &str) -> Rows {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'kcmf_maintenance'",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables");
    let mut out = Rows::new();
    for t in tables {
        let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT row_to_json(t)::text FROM \"{t}\" t"
        )))
        .fetch_all(&mut c)
        .await
        .expect("rows");
        rows.sort();
        out.insert(t, rows);
    }
    out
}

async fn pg_drop_all(url: &str) {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut c)
            .await
            .expect("tables");
    assert!(!tables.is_empty());
    let list = tables
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {list} CASCADE")))
        .execute(&mut c)
        .await
        .expect("drop tables");
}

fn sqlite_url(data: &Path) -> String {
    format!("sqlite://{}", data.join("kcmf.db").display())
}

async fn sqlite_rows(data: &Path) -> Rows {
    let mut c = sqlx::SqliteConnection::connect(&sqlite_url(data))
        .await
        .expect("open sqlite");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'kcmf_maintenance'",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables");
    let mut out = Rows::new();
    for t in tables {
        let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
        )))
        .fetch_all(&mut c)
        .await
        .expect("cols");
        let expr = cols
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let mut rows: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {expr} FROM \"{t}\"")))
                .fetch_all(&mut c)
                .await
                .expect("rows");
        rows.sort();
        out.insert(t, rows);
    }
    out
}

type Keys = BTreeMap<Vec<u8>, (Vec<u8>, bool)>;

/// Every key of a Redis database: DUMP payload and whether it has a TTL.
fn redis_keys(url: &str) -> Keys {
    let mut c = redis::Client::open(url)
        .expect("redis url")
        .get_connection()
        .expect("connect to the test Redis");
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).expect("KEYS");
    let mut out = Keys::new();
    for k in keys {
        let d: Vec<u8> = redis::cmd("DUMP").arg(&k).query(&mut c).expect("DUMP");
        let t: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).expect("PTTL");
        out.insert(k, (d, t > 0));
    }
    out
}

fn redis_cmd(url: &str, args: &[&str]) -> redis::Value {
    let mut c = redis::Client::open(url)
        .expect("redis url")
        .get_connection()
        .expect("connect to the test Redis");
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut c).expect("redis command")
}

fn only_complete_set(sets: &[Value]) -> String {
    let complete: Vec<&Value> = sets.iter().filter(|s| s["state"] == "complete").collect();
    assert_eq!(complete.len(), 1, "{sets:?}");
    complete[0]["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn postgres_and_redis_round_trip_through_the_api() {
    let db = fresh_pg_db().await;
    let redis_url = redis_db_url(3);
    redis_cmd(&redis_url, &["FLUSHDB"]);
    let env = vec![
        ("DATABASE_URL", db.clone()),
        ("REDIS_URL", redis_url.clone()),
    ];
    let mut m = Matcher::start(&env).await;
    let user = fill_through_api(&mut m).await;
    // A key without expiry next to the cache's TTL'd entries.
    redis_cmd(&redis_url, &["SET", "kcmf:pinned", "keep-me"]);

    let rows = pg_rows(&db).await;
    for t in ["api_keys", "request_log", "match_history", "feedback"] {
        assert!(
            !rows[t].is_empty(),
            "{t} was filled through the API: {rows:?}"
        );
    }
    // No SECRET_KEY: the generated secret is in the first matcher's data dir, not the store.
    assert!(
        rows["configs"]
            .iter()
            .all(|r| !r.contains("dev_secret_key")),
        "{:?}",
        rows["configs"]
    );
    let secret_file = m.data_dir.join("dev-secret");
    assert!(secret_file.is_file());
    let keys = redis_keys(&redis_url);
    assert!(
        keys.len() >= 3,
        "the cache holds the match results: {keys:?}"
    );

    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("backups");
    let dir_s = dir.display().to_string();
    let cenv: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.clone())).collect();
    let out = ok_cli(tmp.path(), &cenv, &["backup", "run", "--dir", &dir_s]);
    assert!(out.contains("complete"), "{out}");
    assert!(
        out.contains("the encryption secret is not in the set"),
        "{out}"
    );
    let set = only_complete_set(&list(tmp.path(), &cenv, &dir));
    let manifest = Manifest::read(&dir.join(&set)).expect("manifest");
    assert!(
        manifest.secret.contains("not in the set") && manifest.secret.contains("dev-secret"),
        "{}",
        manifest.secret
    );
    assert_eq!(manifest.source.store_backend, "postgres");
    assert!(
        manifest.source.store_version.starts_with("15"),
        "{:?}",
        manifest.source
    );
    assert!(manifest.source.redis_version.is_some());
    assert!(
        !manifest.source.store_url.contains(":kcmf@"),
        "password masked"
    );
    for f in [
        "postgres.dump",
        "redis.jsonl",
        "redis.rdb",
        "config/effective.yaml",
    ] {
        assert!(
            manifest.files.iter().any(|e| e.name == f),
            "{f} in {:?}",
            manifest.files
        );
    }
    for (t, r) in &rows {
        let stat = manifest
            .tables
            .iter()
            .find(|s| &s.name == t)
            .expect("table in manifest");
        assert_eq!(stat.rows as usize, r.len(), "row count of {t}");
    }
    assert_eq!(
        manifest.redis.as_ref().map(|r| r.keys),
        Some(keys.len() as u64)
    );
    let pg_magic = std::fs::read(dir.join(&set).join("postgres.dump")).expect("dump");
    assert_eq!(&pg_magic[..5], b"PGDMP", "custom-format dump");
    let eff = std::fs::read_to_string(dir.join(&set).join("config/effective.yaml")).expect("cfg");
    assert!(!eff.contains("kcmf:kcmf@"), "no plain secrets: {eff}");

    // Wipe: drop every table, empty the Redis database, leave a stray key.
    pg_drop_all(&db).await;
    redis_cmd(&redis_url, &["FLUSHDB"]);
    redis_cmd(&redis_url, &["SET", "stray", "x"]);
    assert!(pg_rows(&db).await.is_empty());

    let out = ok_cli(
        tmp.path(),
        &cenv,
        &["restore", "--from", &set, "--dir", &dir_s, "--yes"],
    );
    assert!(out.contains("match the manifest"), "{out}");
    assert!(
        out.contains("pre-restore"),
        "the roll-back point is named: {out}"
    );
    assert!(
        out.contains("the encryption secret is not in the set"),
        "{out}"
    );

    assert_eq!(pg_rows(&db).await, rows, "every row is back");
    let after = redis_keys(&redis_url);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        keys.keys().collect::<Vec<_>>(),
        "every key is back, the stray one is gone"
    );
    for (k, (d, ttl)) in &keys {
        assert_eq!(&after[k].0, d, "value of {}", String::from_utf8_lossy(k));
        assert_eq!(
            after[k].1,
            *ttl,
            "TTL kept on {}",
            String::from_utf8_lossy(k)
        );
    }
    let status = ok_cli(tmp.path(), &cenv, &["backup", "maintenance", "status"]);
    assert_eq!(
        status.trim(),
        "off",
        "the flag is lowered after a good restore"
    );

    // The restored store serves from a fresh data dir given the secret file, as the
    // backup said: the key created over the API works and the stored feedback decrypts.
    let data2 = tempfile::tempdir().expect("data dir");
    std::fs::copy(&secret_file, data2.path().join("dev-secret")).expect("copy the secret");
    let m2 = Matcher::start_in(data2.path(), &env).await;
    let (st, r) = m2.post("/api/v1/match/entity", Some(&user), &pair(0)).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["cached"], true, "the restored cache answers: {r}");
    assert!(!m2.stderr().contains("does not decrypt"), "{}", m2.stderr());
    redis_cmd(&redis_url, &["FLUSHDB"]);
}

#[tokio::test]
async fn sqlite_round_trip_through_the_api() {
    let mut m = Matcher::start(&[]).await;
    let user = fill_through_api(&mut m).await;
    let data = m.data_dir.clone();
    let rows = sqlite_rows(&data).await;
    assert!(!rows["match_history"].is_empty() && !rows["request_log"].is_empty());

    let term = data.join("termination-log");
    let out = ok_cli(
        &data,
        &[("KCMF_TERMINATION_LOG", term.display().to_string())],
        &["backup", "run"],
    );
    assert!(out.contains("complete"), "{out}");
    let dir = data.join("backups");
    let set = only_complete_set(&list(&data, &[], &dir));
    let msg: Value =
        serde_json::from_str(&std::fs::read_to_string(&term).expect("termination message"))
            .expect("json");
    assert_eq!(
        (msg["kind"].as_str(), msg["result"].as_str()),
        (Some("backup"), Some("Succeeded"))
    );
    assert_eq!(msg["set"].as_str(), Some(set.as_str()));
    assert!(dir.join(&set).join("store.sqlite").is_file());

    {
        let mut c = sqlx::SqliteConnection::connect(&sqlite_url(&data))
            .await
            .expect("open");
        for t in rows.keys() {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE \"{t}\"")))
                .execute(&mut c)
                .await
                .expect("drop");
        }
    }
    assert!(sqlite_rows(&data).await.is_empty());
    let out = ok_cli(&data, &[], &["restore", "--from", &set, "--yes"]);
    assert!(out.contains("match the manifest"), "{out}");
    assert_eq!(sqlite_rows(&data).await, rows);

    let m2 = Matcher::start_in(&data, &[]).await;
    let (st, r) = m2.post("/api/v1/match/entity", Some(&user), &pair(0)).await;
    assert_eq!(st, 200, "the restored key works: {r}");
}

fn flip_byte(path: &Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open");
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(at)).expect("seek");
    f.read_exact(&mut b).expect("read");
    f.seek(SeekFrom::Start(at)).expect("seek");
    f.write_all(&[b[0] ^ 0x01]).expect("write");
}

async fn count_keys(url: &str) -> i64 {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query("SELECT COUNT(*) AS n FROM api_keys")
        .fetch_one(&mut c)
        .await
        .expect("count")
        .get::<i64, _>("n")
}

#[tokio::test]
async fn corrupt_or_missing_sets_are_refused_before_anything_is_touched() {
    let db = fresh_pg_db().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let env = vec![("DATABASE_URL", db.clone())];
    let dir = tmp.path().join("backups");
    let dir_s = dir.display().to_string();
    ok_cli(tmp.path(), &env, &["migrate"]);
    ok_cli(tmp.path(), &env, &["keys", "create", "--name", "one"]);
    ok_cli(tmp.path(), &env, &["backup", "run", "--dir", &dir_s]);
    let set = only_complete_set(&list(tmp.path(), &env, &dir));
    // Data written after the backup must survive a refused restore.
    ok_cli(tmp.path(), &env, &["keys", "create", "--name", "two"]);
    assert_eq!(count_keys(&db).await, 2);

    let dump = dir.join(&set).join("postgres.dump");
    let size = std::fs::metadata(&dump).expect("dump").len();
    flip_byte(&dump, size / 2);
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["restore", "--from", &set, "--dir", &dir_s, "--yes"],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("refused") && err.contains("checksum mismatch on postgres.dump"),
        "{err}"
    );
    assert_eq!(count_keys(&db).await, 2, "nothing was touched");
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["backup", "verify", "--set", &set, "--dir", &dir_s],
    );
    assert_ne!(code, 0, "{err}");
    let sets = list(tmp.path(), &env, &dir);
    assert_eq!(
        sets[0]["verified"], false,
        "the failed drill is recorded: {sets:?}"
    );
    flip_byte(&dump, size / 2);

    // A flipped byte in the manifest itself.
    let man = dir.join(&set).join("manifest.json");
    flip_byte(&man, 20);
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["restore", "--from", &set, "--dir", &dir_s, "--yes"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("manifest.json does not match"), "{err}");
    flip_byte(&man, 20);

    // A missing file.
    let sum = dir.join(&set).join("config/effective.yaml");
    let saved = std::fs::read(&sum).expect("read");
    std::fs::remove_file(&sum).expect("rm");
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["restore", "--from", &set, "--dir", &dir_s, "--yes"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("config/effective.yaml is missing"), "{err}");
    std::fs::write(&sum, saved).expect("put back");

    // A set that does not exist, and one without --yes.
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &[
            "restore",
            "--from",
            "20200101T000000Z",
            "--dir",
            &dir_s,
            "--yes",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("not found"), "{err}");
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["restore", "--from", &set, "--dir", &dir_s],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(count_keys(&db).await, 2, "still nothing touched");

    // Repaired, it restores: the key made after the backup is gone.
    ok_cli(
        tmp.path(),
        &env,
        &["restore", "--from", &set, "--dir", &dir_s, "--yes"],
    );
    assert_eq!(count_keys(&db).await, 1);
}

/// Copies a real set under another id and start time (manifest rewritten with a valid
/// checksum), optionally with a drill record.
fn dated_copy(dir: &Path, src: &str, days_ago: i64, verified: Option<bool>) -> String {
    let started = chrono::Utc::now() - chrono::Duration::days(days_ago);
    let id = started.format("%Y%m%dT%H%M%SZ").to_string();
    let to = dir.join(&id);
    std::fs::create_dir_all(to.join("config")).expect("mkdir");
    for e in std::fs::read_dir(dir.join(src)).expect("read") {
        let e = e.expect("entry");
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
    for e in std::fs::read_dir(dir.join(src).join("config")).expect("read") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join("config").join(e.file_name())).expect("copy");
    }
    let _ = std::fs::remove_file(to.join("verify.json"));
    let mut m = Manifest::read(&to).expect("manifest");
    m.id = id.clone();
    m.started_at = started;
    m.finished_at = started + chrono::Duration::seconds(5);
    m.write(&to).expect("write manifest");
    if let Some(ok) = verified {
        Verification {
            set: id.clone(),
            ok,
            verified_at: started + chrono::Duration::minutes(1),
            tool_version: "test".into(),
            checks: vec![],
            error: (!ok).then(|| "test".into()),
        }
        .write(&to)
        .expect("verification");
    }
    id
}

#[tokio::test]
async fn retention_deletes_old_sets_and_keeps_the_newest_good_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path();
    ok_cli(data, &[], &["migrate"]);
    ok_cli(data, &[], &["backup", "run", "--retention-days", "30"]);
    let dir = data.join("backups");
    let seed = only_complete_set(&list(data, &[], &dir));
    let old_verified = dated_copy(&dir, &seed, 60, Some(true));
    let older_verified = dated_copy(&dir, &seed, 90, Some(true));
    let old_unverified = dated_copy(&dir, &seed, 40, None);
    let old_failed = dated_copy(&dir, &seed, 50, Some(false));
    let recent = dated_copy(&dir, &seed, 2, None);
    // An unreadable old set (manifest gone) is never good.
    let broken = dated_copy(&dir, &seed, 45, None);
    std::fs::remove_file(dir.join(&broken).join("manifest.json")).expect("rm");

    let out = ok_cli(data, &[], &["backup", "run", "--retention-days", "30"]);
    let ids: Vec<String> = list(data, &[], &dir)
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    for kept in [&old_verified, &recent, &seed] {
        assert!(ids.contains(kept), "{kept} kept: {ids:?}\n{out}");
    }
    for gone in [&older_verified, &old_unverified, &old_failed, &broken] {
        assert!(!ids.contains(gone), "{gone} deleted: {ids:?}\n{out}");
        assert!(out.contains(&format!("retention: deleted {gone}")), "{out}");
    }
    assert_eq!(
        ids.len(),
        4,
        "seed, recent, newest verified, the new run: {ids:?}"
    );

    // Everything old and nothing verified: the newest complete set survives any age.
    let tmp2 = tempfile::tempdir().expect("tmp");
    let dir2 = tmp2.path().join("b");
    std::fs::create_dir_all(&dir2).expect("mkdir");
    let a = dated_copy(&dir, &seed, 100, None);
    let b = dated_copy(&dir, &seed, 80, None);
    for id in [&a, &b] {
        std::fs::rename(dir.join(id), dir2.join(id)).expect("move");
    }
    let term = data.join("termination-log");
    let (code, _, err) = run_cli(
        data,
        &[
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none".into()),
            ("KCMF_TERMINATION_LOG", term.display().to_string()),
        ],
        &[
            "backup",
            "run",
            "--dir",
            &dir2.display().to_string(),
            "--retention-days",
            "1",
        ],
    );
    assert_ne!(code, 0, "a failed run exits non-zero: {err}");
    let msg: Value =
        serde_json::from_str(&std::fs::read_to_string(&term).expect("termination message"))
            .expect("json");
    assert_eq!(msg["result"], "Failed", "{msg}");
    assert!(
        msg["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{msg}"
    );
    let left: Vec<String> = list(data, &[], &dir2)
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(
        left,
        vec![a.clone(), b.clone()],
        "a failed run deletes nothing"
    );
    let deleted = kcmf_matcher::backup::apply_retention(&dir2, 1).expect("retention");
    assert_eq!(deleted, vec![a]);
    assert!(
        dir2.join(&b).is_dir(),
        "the newest good set is kept whatever its age"
    );
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn a_backup_killed_mid_run_leaves_no_complete_set() {
    use std::os::unix::process::CommandExt;
    let db = fresh_pg_db().await;
    let admin = require_env("KCMF_TEST_PG_ADMIN_URL");
    let tmp = tempfile::tempdir().expect("tmp");
    let env = vec![("DATABASE_URL", db.clone())];
    let dir = tmp.path().join("backups");
    let dir_s = dir.display().to_string();
    ok_cli(tmp.path(), &env, &["migrate"]);
    ok_cli(tmp.path(), &env, &["keys", "create", "--name", "one"]);

    // Hold an ACCESS EXCLUSIVE lock: the real pg_dump blocks on it, mid-run.
    let mut locker = sqlx::PgConnection::connect(&db).await.expect("connect");
    let mut tx = locker.begin().await.expect("begin");
    sqlx::query("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .expect("lock");

    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("KCMF_DATA_DIR", tmp.path())
        .env("LOG_LEVEL", "warn")
        .env("DATABASE_URL", &db)
        .args(["backup", "run", "--dir", &dir_s])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn backup run");
    let partial: PathBuf = wait_for("the .partial directory", 30, || {
        std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.') && n.ends_with(".partial"))
            })
    });
    let dbname = db.rsplit('/').next().expect("db name").to_string();
    let mut adm = sqlx::PgConnection::connect(&admin).await.expect("admin");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump' AND wait_event_type = 'Lock'",
        )
        .bind(&dbname)
        .fetch_one(&mut adm)
        .await
        .expect("pg_stat_activity");
        if n > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pg_dump never blocked on the lock"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(child.try_wait().expect("wait").is_none(), "still running");
    // Kill the run and its pg_dump, as a node failure or OOM kill would.
    let pgid = child.id();
    let st = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .expect("kill");
    assert!(st.success());
    let _ = child.wait();
    tx.rollback().await.expect("unlock");

    assert!(
        partial.is_dir(),
        "the interrupted run left its partial directory"
    );
    assert!(!dir.join("manifest.json").exists());
    let sets = list(tmp.path(), &env, &dir);
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0]["state"], "incomplete", "{sets:?}");
    let id = sets[0]["id"].as_str().expect("id").to_string();
    assert!(
        !dir.join(&id).exists(),
        "no directory under the set's real name"
    );
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["restore", "--from", &id, "--dir", &dir_s, "--yes"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("incomplete"), "{err}");
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["backup", "verify", "--set", "latest", "--dir", &dir_s],
    );
    assert_ne!(code, 0, "no complete set to verify: {err}");

    // The next run cleans the leftovers and completes.
    ok_cli(tmp.path(), &env, &["backup", "run", "--dir", &dir_s]);
    let sets = list(tmp.path(), &env, &dir);
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0]["state"], "complete");
    assert!(!partial.exists());
}

#[tokio::test]
async fn restore_drill_reads_a_set_back_into_scratch_databases() {
    let db = fresh_pg_db().await;
    let redis_url = redis_db_url(5);
    let scratch = redis_db_url(6);
    redis_cmd(&redis_url, &["FLUSHDB"]);
    redis_cmd(&scratch, &["FLUSHDB"]);
    let tmp = tempfile::tempdir().expect("tmp");
    let env = vec![
        ("DATABASE_URL", db.clone()),
        ("REDIS_URL", redis_url.clone()),
        ("KCMF_BACKUP_VERIFY_REDIS_DB", "6".to_string()),
    ];
    let dir = tmp.path().join("backups");
    let dir_s = dir.display().to_string();
    ok_cli(tmp.path(), &env, &["migrate"]);
    for n in ["a", "b", "c"] {
        ok_cli(tmp.path(), &env, &["keys", "create", "--name", n]);
    }
    redis_cmd(&redis_url, &["SET", "kcmf:one", "1"]);
    redis_cmd(&redis_url, &["SET", "kcmf:two", "2", "EX", "3600"]);
    redis_cmd(&redis_url, &["RPUSH", "kcmf:list", "a", "b"]);

    let out = ok_cli(
        tmp.path(),
        &env,
        &["backup", "run", "--dir", &dir_s, "--verify"],
    );
    assert!(out.contains("restore drill passed"), "{out}");
    let sets = list(tmp.path(), &env, &dir);
    assert_eq!(sets[0]["verified"], true, "{sets:?}");
    let set = sets[0]["id"].as_str().expect("id").to_string();
    let v = Verification::read(&dir.join(&set)).expect("verify.json");
    assert!(
        v.ok && v.checks.iter().any(|c| c.contains("3 Redis key(s)")),
        "{v:?}"
    );
    assert!(
        v.checks.iter().any(|c| c.contains("scratch database")),
        "{v:?}"
    );
    assert!(redis_keys(&scratch).is_empty(), "scratch Redis emptied");
    let mut adm = sqlx::PgConnection::connect(&require_env("KCMF_TEST_PG_ADMIN_URL"))
        .await
        .expect("admin");
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'kcmf_verify_%'")
            .fetch_one(&mut adm)
            .await
            .expect("count");
    assert_eq!(left, 0, "scratch database dropped");

    // A set whose manifest disagrees with its dump (counts off by one, checksums intact)
    // passes the file checks but fails the drill: the drill really reads the data back.
    let m = dir.join(&set);
    let mut man = Manifest::read(&m).expect("manifest");
    let t = man
        .tables
        .iter_mut()
        .find(|t| t.name == "api_keys")
        .expect("api_keys");
    t.rows += 1;
    man.write(&m).expect("rewrite");
    let (code, _, err) = run_cli(
        tmp.path(),
        &env,
        &["backup", "verify", "--set", &set, "--dir", &dir_s],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("api_keys: 3 rows, the manifest says 4"),
        "{err}"
    );
    assert_eq!(list(tmp.path(), &env, &dir)[0]["verified"], false);
    redis_cmd(&redis_url, &["FLUSHDB"]);
}

#[tokio::test]
async fn maintenance_mode_stops_api_writes() {
    let m = Matcher::start(&[]).await;
    let key = m.key();
    let (st, _) = m.post("/api/v1/match/entity", Some(&key), &pair(1)).await;
    assert_eq!(st, 200);
    ok_cli(&m.data_dir, &[], &["backup", "maintenance", "on"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, body) = m.post("/api/v1/match/entity", Some(&key), &pair(2)).await;
        if st == 503 {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("maintenance"),
                "{body}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never answered 503");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (st, _) = m.get("/health").await;
    assert_eq!(st, 200, "health still answers");
    let out = ok_cli(&m.data_dir, &[], &["backup", "maintenance", "status"]);
    assert!(out.starts_with("on"), "{out}");
    ok_cli(&m.data_dir, &[], &["backup", "maintenance", "off"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, _) = m.post("/api/v1/match/entity", Some(&key), &pair(3)).await;
        if st == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "writes never resumed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `kcmf-matcher config` masks secrets as the configuration copies in a backup set do
/// (one function, `redact`): keys and tokens whole, URLs all but their password, so the
/// printout still shows which servers are used.
#[test]
fn config_command_masks_secrets_like_the_backup_copies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let env = [
        (
            "DATABASE_URL",
            "postgres://kcmf:pg-pw@db:5432/kcmf?sslmode=disable&password=query-pw".to_string(),
        ),
        ("REDIS_URL", "redis://:redis-pw@cache:6379/0".into()),
        ("SECRET_KEY", "secret-sk".into()),
        ("OPENAI_API_KEY", "sk-llm".into()),
        ("VALID_API_KEYS", "key-one,key-two".into()),
    ];
    let out = ok_cli(tmp.path(), &env, &["config"]);
    for secret in [
        "pg-pw",
        "query-pw",
        "redis-pw",
        "secret-sk",
        "sk-llm",
        "key-one",
        "key-two",
    ] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
    assert!(
        out.contains("postgres://kcmf:***@db:5432/kcmf?sslmode=disable&password=***"),
        "{out}"
    );
    assert!(out.contains("redis://:***@cache:6379/0"), "{out}");
}
