//! Test harness: runs the real `kcmf-matcher` binary as a child process on a free port and
//! talks to it over HTTP. Service URLs come from `tests/services.sh` (KCMF_TEST_*); a test
//! that needs one fails — never skips — when it is missing.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kcmf-matcher");

/// A required service URL from the environment; panics with the fix when missing.
pub fn require_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: this test needs the real service. Run the suite with tests/run-all.sh \
             (or `tests/services.sh start` and source /tmp/kcmf-services/env.sh)"
        ),
    }
}

/// A port nothing listens on, drawn from 20000–32767: below Linux's ephemeral range
/// (32768–60999), so an outgoing connection of another test (a client, a pool) cannot be
/// given it between this check and the server's bind, as a port the kernel hands out for
/// `:0` can be. Two tests drawing one port stay possible but rare; [`Matcher::start_in`]
/// draws again when its server finds the port taken.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    for _ in 0..200 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = 20000 + (h.finish() % 12768) as u16;
        if std::net::TcpListener::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The admin key `serve` prints on its first start, if this stderr holds it.
fn bootstrap_key(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kcmf_"))
        .map(str::to_string)
}

/// Base environment for the child: nothing inherited but PATH and HOME.
fn base_command(data_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("KCMF_DATA_DIR", data_dir)
        .env("LOG_LEVEL", "warn");
    c
}

/// Runs a CLI subcommand to completion; returns (exit code, stdout, stderr).
pub fn run_cli(data_dir: &Path, env: &[(&str, String)], args: &[&str]) -> (i32, String, String) {
    let mut c = base_command(data_dir);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.args(args).output().expect("run kcmf-matcher");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub struct Matcher {
    pub child: Child,
    pub base: String,
    pub port: u16,
    /// The bootstrap admin key printed on first start, if any.
    pub key: Option<String>,
    pub data_dir: PathBuf,
    pub env: Vec<(&'static str, String)>,
    stderr_path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Matcher {
    /// Starts `serve` with a fresh data dir and the given extra environment.
    pub async fn start(env: &[(&'static str, String)]) -> Matcher {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().to_path_buf();
        let mut m = Self::start_in(&data, env).await;
        m._tmp = Some(tmp);
        m
    }

    /// Starts `serve` on a data dir that may hold an earlier run's data. A port taken
    /// between [`free_port`] and the server's bind (another test's server or client got it)
    /// is drawn again, up to five times; any other early exit fails the test.
    pub async fn start_in(data_dir: &Path, env: &[(&'static str, String)]) -> Matcher {
        // a bootstrap key printed by a try that then found its port taken is the data
        // dir's key: the next try does not print it again
        let mut key = None;
        for attempt in 1.. {
            match Self::try_start_in(data_dir, env).await {
                Ok(mut m) => {
                    if m.key.is_none() {
                        m.key = key;
                    }
                    return m;
                }
                // its own port taken, not a fixed one the test passed (`METRICS_PORT`)
                Err((port, stderr))
                    if attempt < 5
                        && stderr.contains(&format!(":{port}: Address already in use")) =>
                {
                    key = key.or_else(|| bootstrap_key(&stderr));
                }
                Err((_, stderr)) => panic!("kcmf-matcher exited early {stderr}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// One try of [`Self::start_in`]: the port drawn and the server's stderr when it
    /// exits before it is healthy.
    async fn try_start_in(
        data_dir: &Path,
        env: &[(&'static str, String)],
    ) -> Result<Matcher, (u16, String)> {
        let port = free_port();
        let stderr_path = data_dir.join(format!("stderr-{port}.log"));
        std::fs::create_dir_all(data_dir).expect("data dir");
        let errf = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut c = base_command(data_dir);
        // the server's "listening" line (info), however quiet the rest: the sign that this
        // child holds the port, so that the health poll cannot be answered by another
        // test's server that drew the same port first. RUST_LOG outranks LOG_LEVEL and a
        // config's monitoring.log_level: a test that needs other logs sets RUST_LOG in
        // its env, keeping `kcmf_matcher::server=info`
        c.env("PORT", port.to_string())
            .env("RATE_LIMIT", "100000")
            .env("RUST_LOG", "warn,kcmf_matcher::server=info");
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::from(errf))
            .spawn()
            .expect("spawn kcmf-matcher serve");
        let mut m = Matcher {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            key: None,
            data_dir: data_dir.to_path_buf(),
            env: env.to_vec(),
            stderr_path,
            _tmp: None,
        };
        m.wait_healthy().await.map_err(|e| (port, e))?;
        m.key = bootstrap_key(&m.stderr());
        Ok(m)
    }

    pub fn stderr(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.stderr_path) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Waits for `/health`; the server's stderr when it exits first.
    async fn wait_healthy(&mut self) -> Result<(), String> {
        // each poll bounded: whatever else holds the port may accept and never answer
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("({status}):\n{}", self.stderr()));
            }
            if self.stderr().contains("kcmf-matcher listening")
                && let Ok(r) = client.get(format!("{}/health", self.base)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                panic!("kcmf-matcher not healthy after 60 s:\n{}", self.stderr());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn key(&self) -> String {
        self.key
            .clone()
            .expect("bootstrap key printed on first start")
    }

    /// POSTs JSON with the given key; returns (status, body as JSON or Null).
    pub async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut r = reqwest::Client::new().post(self.url(path)).json(body);
        if let Some(k) = key {
            r = r.header("X-API-Key", k);
        }
        let resp = r.send().await.expect("request");
        let st = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            st,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        key: &str,
        ct: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let resp = reqwest::Client::new()
            .post(self.url(path))
            .header("X-API-Key", key)
            .header("Content-Type", ct)
            .body(body)
            .send()
            .await
            .expect("request");
        let st = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            st,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// GETs with an API key; returns (status, body text).
    pub async fn get_with_key(&self, path: &str, key: &str) -> (u16, String) {
        let resp = reqwest::Client::new()
            .get(self.url(path))
            .header("X-API-Key", key)
            .send()
            .await
            .expect("request");
        let st = resp.status().as_u16();
        (st, resp.text().await.unwrap_or_default())
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = reqwest::Client::new()
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let st = resp.status().as_u16();
        (st, resp.text().await.unwrap_or_default())
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Matcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database on the test server; returns its URL.
pub async fn fresh_pg_db() -> String {
    use sqlx::Connection;
    let admin = require_env("KCMF_TEST_PG_ADMIN_URL");
    let base = require_env("KCMF_TEST_DATABASE_URL");
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} OWNER kcmf"
    )))
    .execute(&mut conn)
    .await
    .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("db url has a path");
    format!("{prefix}/{name}")
}

/// A TCP proxy on loopback that can be cut and restored, to take a real server "down".
pub struct Proxy {
    pub port: u16,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(target: String) -> Proxy {
        Self::start_on(0, target).await
    }

    /// [`Proxy::start`] on a given port (0: any free one).
    pub async fn start_on(port: u16, target: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let (mut inbound, _) = match listener.accept().await {
                    Ok(x) => x,
                    Err(_) => continue,
                };
                if *rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let mut rx2 = rx.clone();
                tokio::spawn(async move {
                    let Ok(mut out) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut out) => {},
                        _ = rx2.wait_for(|down| *down) => {},
                    }
                });
            }
        });
        Proxy { port, stop: tx }
    }

    /// Cuts every open connection and refuses new ones until `restore`.
    pub fn cut(&self) {
        let _ = self.stop.send(true);
    }

    pub fn restore(&self) {
        let _ = self.stop.send(false);
    }
}
