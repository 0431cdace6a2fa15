//! The development secret (no `SECRET_KEY`): kept in `<data dir>/dev-secret` with mode 0600,
//! not in the store it protects; an old store's `dev_secret_key` row moves into the file
//! (its data stays readable); a file others can read stops start-up, naming the file.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Matcher, free_port, run_cli};
use kcmf_matcher::crypto::Cipher;
use serde_json::json;
use sqlx::Connection;

const FILE: &str = "dev-secret";

fn pair() -> serde_json::Value {
    json!({
        "left": {"name": "Arnie Morton's of Chicago", "city": "Los Angeles"},
        "right": {"name": "Arnie Mortons of Chicago", "city": "Los Angeles"}
    })
}

async fn db(data: &Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", data.join("kcmf.db").display()))
        .await
        .expect("open the store")
}

async fn secret_rows(data: &Path) -> Vec<String> {
    sqlx::query_scalar("SELECT value FROM configs WHERE name = 'dev_secret_key'")
        .fetch_all(&mut db(data).await)
        .await
        .expect("configs")
}

/// Every stored match payload, decrypted with `secret` (panics on one that does not).
async fn decrypt_history(data: &Path, secret: &str) -> usize {
    let tokens: Vec<String> = sqlx::query_scalar("SELECT request_enc FROM match_history")
        .fetch_all(&mut db(data).await)
        .await
        .expect("history");
    let cipher = Cipher::from_secret(secret).expect("cipher");
    for t in &tokens {
        cipher
            .decrypt(t)
            .expect("the history decrypts with the file's secret");
    }
    tokens.len()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// One match through the API, then SIGTERM (the request log drains into the store).
async fn one_match(m: &mut Matcher) {
    let (st, r) = m
        .post("/api/v1/match/entity", Some(&m.key()), &pair())
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(m.terminate(), Some(0), "{}", m.stderr());
}

#[tokio::test]
async fn the_dev_secret_is_a_private_file_and_not_a_row() {
    let mut m = Matcher::start(&[]).await;
    let data = m.data_dir.clone();
    let path = data.join(FILE);
    assert!(path.is_file(), "{} exists", path.display());
    assert_eq!(mode(&path), 0o600);
    let secret = std::fs::read_to_string(&path).expect("read");
    assert!(secret.len() >= 40, "a generated secret: {secret:?}");
    let warnings = m
        .stderr()
        .lines()
        .filter(|l| l.contains("no SECRET_KEY"))
        .count();
    assert_eq!(warnings, 1, "one warning at start-up:\n{}", m.stderr());
    assert!(m.stderr().contains(&path.display().to_string()));
    one_match(&mut m).await;
    assert!(
        secret_rows(&data).await.is_empty(),
        "no secret in the store"
    );
    assert_eq!(decrypt_history(&data, &secret).await, 1);

    // A restart reads the same file back.
    let m2 = Matcher::start_in(&data, &[]).await;
    drop(m2);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), secret);
}

#[tokio::test]
async fn a_secret_row_of_an_old_store_moves_into_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path();
    // The layout of earlier versions: the secret in the store's configs, no file.
    let (code, out, err) = run_cli(data, &[], &["migrate"]);
    assert_eq!(code, 0, "{out}{err}");
    let old = "the-secret-an-earlier-version-generated";
    sqlx::query("INSERT INTO configs (name, value, updated_at) VALUES ('dev_secret_key', ?, 0)")
        .bind(old)
        .execute(&mut db(data).await)
        .await
        .expect("insert the old row");

    let mut m = Matcher::start_in(data, &[]).await;
    let path = data.join(FILE);
    assert_eq!(
        std::fs::read_to_string(&path).ok().as_deref(),
        Some(old),
        "the secret is moved into {}",
        path.display()
    );
    assert_eq!(mode(&path), 0o600);
    assert!(secret_rows(data).await.is_empty(), "the row is deleted");
    one_match(&mut m).await;
    assert_eq!(
        decrypt_history(data, old).await,
        1,
        "payloads are still encrypted with the old secret (earlier data stays readable)"
    );
}

/// Runs `serve` in `data`; returns its exit code and stderr, or fails if it is still
/// serving after 30 s.
fn serve_expecting_exit(data: &Path) -> (Option<i32>, String) {
    let err_path = data.join("serve.stderr");
    let errf = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KCMF_DATA_DIR", data)
        .env("LOG_LEVEL", "warn")
        .env("PORT", free_port().to_string())
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::from(errf))
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            let err = std::fs::read_to_string(&err_path).unwrap_or_default();
            return (st.code(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve is still running after 30 s (it should have refused to start):\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn a_secret_file_others_can_read_stops_start_up() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path();
    let path = data.join(FILE);
    std::fs::write(&path, "a-secret-someone-left-readable").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, err) = serve_expecting_exit(data);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains(&path.display().to_string()) && err.contains("chmod 600"),
        "the message names the file and the fix:\n{err}"
    );
    // Fixed as the message says, the same file is used.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let m = Matcher::start_in(data, &[]).await;
    drop(m);
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "a-secret-someone-left-readable"
    );
}

/// A row that disagrees with the file is not deleted: the data may be encrypted with
/// either, so start-up stops and says so.
#[tokio::test]
async fn a_row_that_differs_from_the_file_stops_start_up() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path();
    let (code, out, err) = run_cli(data, &[], &["migrate"]);
    assert_eq!(code, 0, "{out}{err}");
    sqlx::query(
        "INSERT INTO configs (name, value, updated_at) VALUES ('dev_secret_key', 'row', 0)",
    )
    .execute(&mut db(data).await)
    .await
    .expect("insert the old row");
    let path = data.join(FILE);
    std::fs::write(&path, "file").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (code, err) = serve_expecting_exit(data);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("differs from") && err.contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(
        secret_rows(data).await,
        vec!["row".to_string()],
        "the row is kept"
    );
}
