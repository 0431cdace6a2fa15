//! The Redis side of backups. Two artefacts per set:
//!
//! * `redis.jsonl`: a logical export, one JSON line per key `{"k","t","d"}` (key, PTTL in
//!   ms or -1, `DUMP` payload; bytes in base64), written with `SCAN` + `DUMP`/`PTTL` and
//!   restored with `RESTORE … REPLACE`. It is what `restore` and `backup verify` use: it
//!   works against any reachable server, managed or not.
//! * `redis.rdb`: a `redis-cli --rdb` snapshot of the whole server, kept for operators who
//!   restore Redis by replacing its dump file.
//!
//! The maintenance flag key is never exported, deleted or restored.

use std::io::{BufRead, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use redis::aio::MultiplexedConnection;
use redis::{ConnectionAddr, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::manifest::RedisStat;
use super::{BackupError, io_err};
use crate::backup::maintenance::MAINT_KEY;

const SCAN_COUNT: usize = 500;

fn rerr(context: impl Into<String>) -> impl FnOnce(redis::RedisError) -> BackupError {
    let context = context.into();
    move |e| BackupError::Redis {
        context,
        message: e.to_string(),
    }
}

fn perr(context: &str, e: impl std::fmt::Display) -> BackupError {
    BackupError::Redis {
        context: context.to_string(),
        message: e.to_string(),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    /// Key, base64.
    k: String,
    /// PTTL at export time (ms), -1 for no expiry.
    t: i64,
    /// DUMP payload, base64.
    d: String,
}

/// A Redis server and database index.
#[derive(Clone)]
pub struct RedisTarget {
    pub client: redis::Client,
}

impl RedisTarget {
    pub fn open(url: &str) -> Result<Self, BackupError> {
        let client = redis::Client::open(url).map_err(rerr("invalid REDIS_URL"))?;
        Ok(Self { client })
    }

    pub fn db(&self) -> i64 {
        self.client.get_connection_info().redis_settings().db()
    }

    /// The same server and credentials, database index `db`.
    pub fn with_db(&self, db: i64) -> Result<Self, BackupError> {
        let info = self.client.get_connection_info().clone();
        let settings = info.redis_settings().clone().set_db(db);
        let client =
            redis::Client::open(info.set_redis_settings(settings)).map_err(rerr("scratch db"))?;
        Ok(Self { client })
    }

    pub async fn conn(&self) -> Result<MultiplexedConnection, BackupError> {
        let fut = self.client.get_multiplexed_async_connection();
        match tokio::time::timeout(std::time::Duration::from_secs(10), fut).await {
            Ok(r) => r.map_err(rerr("connect")),
            Err(_) => Err(perr("connect", "timed out after 10 s")),
        }
    }

    pub async fn version(&self) -> Result<String, BackupError> {
        let mut c = self.conn().await?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut c)
            .await
            .map_err(rerr("INFO server"))?;
        Ok(info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("unknown")
            .trim()
            .to_string())
    }

    pub async fn dbsize(&self) -> Result<u64, BackupError> {
        let mut c = self.conn().await?;
        redis::cmd("DBSIZE")
            .query_async(&mut c)
            .await
            .map_err(rerr("DBSIZE"))
    }

    /// Every key of the database but the maintenance flag.
    async fn keys(&self, c: &mut MultiplexedConnection) -> Result<Vec<Vec<u8>>, BackupError> {
        let mut cursor: u64 = 0;
        let mut out = Vec::new();
        loop {
            let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(c)
                .await
                .map_err(rerr("SCAN"))?;
            out.extend(batch.into_iter().filter(|k| k != MAINT_KEY.as_bytes()));
            if next == 0 {
                break;
            }
            cursor = next;
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// (DUMP, PTTL) of each key; `None` when the key vanished meanwhile.
    async fn dump_keys(
        &self,
        c: &mut MultiplexedConnection,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<(Vec<u8>, i64)>>, BackupError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(SCAN_COUNT) {
            let mut p = redis::pipe();
            for k in chunk {
                p.cmd("DUMP").arg(k).cmd("PTTL").arg(k);
            }
            let vals: Vec<Value> = p.query_async(c).await.map_err(rerr("DUMP/PTTL"))?;
            let mut it = vals.into_iter();
            while let (Some(d), Some(t)) = (it.next(), it.next()) {
                let d: Option<Vec<u8>> =
                    redis::from_redis_value(d).map_err(|e| perr("decode DUMP", e))?;
                let t: i64 = redis::from_redis_value(t).map_err(|e| perr("decode PTTL", e))?;
                out.push(match d {
                    Some(d) if t != -2 => Some((d, t)),
                    _ => None,
                });
            }
        }
        Ok(out)
    }

    /// Writes the logical export to `file`; returns its key count and checksum.
    pub async fn export(&self, file: &Path) -> Result<RedisStat, BackupError> {
        let mut c = self.conn().await?;
        let keys = self.keys(&mut c).await?;
        let dumps = self.dump_keys(&mut c, &keys).await?;
        let f =
            std::fs::File::create(file).map_err(io_err(format!("create {}", file.display())))?;
        let mut w = std::io::BufWriter::new(f);
        let mut sums = Vec::new();
        for (k, v) in keys.iter().zip(dumps) {
            let Some((d, t)) = v else { continue };
            sums.push(entry_sum(k, &d));
            let line = Line {
                k: B64.encode(k),
                t,
                d: B64.encode(&d),
            };
            serde_json::to_writer(&mut w, &line).map_err(|e| BackupError::Json {
                context: "write redis export".into(),
                source: e,
            })?;
            w.write_all(b"\n")
                .map_err(io_err(format!("write {}", file.display())))?;
        }
        let f = w.into_inner().map_err(|e| BackupError::Io {
            context: format!("flush {}", file.display()),
            source: e.into_error(),
        })?;
        f.sync_all()
            .map_err(io_err(format!("sync {}", file.display())))?;
        Ok(RedisStat {
            keys: sums.len() as u64,
            checksum: combine(sums),
            rdb: false,
        })
    }

    /// Deletes every key of the database but the maintenance flag.
    pub async fn clear(&self) -> Result<u64, BackupError> {
        let mut c = self.conn().await?;
        let keys = self.keys(&mut c).await?;
        for chunk in keys.chunks(SCAN_COUNT) {
            let mut cmd = redis::cmd("DEL");
            for k in chunk {
                cmd.arg(k);
            }
            let _: u64 = cmd.query_async(&mut c).await.map_err(rerr("DEL"))?;
        }
        Ok(keys.len() as u64)
    }

    /// Loads the export into the database (`RESTORE key ttl payload REPLACE`).
    pub async fn import(&self, file: &Path) -> Result<u64, BackupError> {
        let mut c = self.conn().await?;
        let lines = read_export(file)?;
        let mut n = 0u64;
        for chunk in lines.chunks(SCAN_COUNT) {
            let mut p = redis::pipe();
            for (k, t, d) in chunk {
                p.cmd("RESTORE")
                    .arg(k)
                    .arg(if *t > 0 { *t } else { 0 })
                    .arg(d)
                    .arg("REPLACE")
                    .ignore();
            }
            let () = p.query_async(&mut c).await.map_err(rerr("RESTORE"))?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// Compares the database with the export: every exported key must be there with the
    /// same DUMP payload; a key that had a TTL may have expired since (counted apart).
    /// Extra keys are reported as problems too.
    pub async fn compare(&self, file: &Path) -> Result<RedisCompare, BackupError> {
        let mut c = self.conn().await?;
        let lines = read_export(file)?;
        let keys: Vec<Vec<u8>> = lines.iter().map(|(k, _, _)| k.clone()).collect();
        let now = self.dump_keys(&mut c, &keys).await?;
        let mut out = RedisCompare::default();
        for ((k, t, d), found) in lines.iter().zip(now) {
            match found {
                Some((nd, _)) if &nd == d => out.matched += 1,
                Some(_) => out
                    .problems
                    .push(format!("key {} differs", String::from_utf8_lossy(k))),
                None if *t > 0 => out.expired += 1,
                None => out
                    .problems
                    .push(format!("key {} is missing", String::from_utf8_lossy(k))),
            }
        }
        let present = self.keys(&mut c).await?;
        let exported: std::collections::HashSet<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let extra = present
            .iter()
            .filter(|k| !exported.contains(k.as_slice()))
            .count();
        if extra > 0 {
            out.problems
                .push(format!("{extra} key(s) not in the backup are present"));
        }
        Ok(out)
    }

    /// `redis-cli --rdb FILE` against this server (password through `REDISCLI_AUTH`).
    pub async fn rdb_snapshot(&self, file: &Path) -> Result<(), BackupError> {
        let info = self.client.get_connection_info();
        let mut cmd = tokio::process::Command::new("redis-cli");
        cmd.env_remove("REDISCLI_AUTH");
        match info.addr() {
            ConnectionAddr::Tcp(h, p) => {
                cmd.arg("-h").arg(h).arg("-p").arg(p.to_string());
            }
            ConnectionAddr::TcpTls { host, port, .. } => {
                cmd.arg("-h")
                    .arg(host)
                    .arg("-p")
                    .arg(port.to_string())
                    .arg("--tls");
            }
            ConnectionAddr::Unix(path) => {
                cmd.arg("-s").arg(path);
            }
            other => {
                return Err(perr(
                    "redis-cli --rdb",
                    format!("unsupported address {other:?}"),
                ));
            }
        }
        let rs = info.redis_settings();
        if let Some(u) = rs.username() {
            cmd.arg("--user").arg(u);
        }
        if let Some(p) = rs.password() {
            cmd.env("REDISCLI_AUTH", p);
        }
        cmd.arg("--rdb").arg(file);
        super::db::run_tool("redis-cli", cmd).await
    }
}

#[derive(Debug, Default)]
pub struct RedisCompare {
    pub matched: u64,
    pub expired: u64,
    pub problems: Vec<String>,
}

type ExportLine = (Vec<u8>, i64, Vec<u8>);

fn read_export(file: &Path) -> Result<Vec<ExportLine>, BackupError> {
    let f = std::fs::File::open(file).map_err(io_err(format!("open {}", file.display())))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(io_err(format!("read {}", file.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad =
            |m: String| BackupError::Invalid(format!("{} line {}: {m}", file.display(), i + 1));
        let l: Line = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let k = B64.decode(&l.k).map_err(|e| bad(e.to_string()))?;
        let d = B64.decode(&l.d).map_err(|e| bad(e.to_string()))?;
        out.push((k, l.t, d));
    }
    Ok(out)
}

/// Key count and checksum of an export file, without a server.
pub fn export_stat(file: &Path) -> Result<(u64, String), BackupError> {
    let lines = read_export(file)?;
    let sums: Vec<[u8; 32]> = lines.iter().map(|(k, _, d)| entry_sum(k, d)).collect();
    Ok((sums.len() as u64, combine(sums)))
}

fn entry_sum(k: &[u8], d: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((k.len() as u64).to_be_bytes());
    h.update(k);
    h.update(d);
    h.finalize().into()
}

fn combine(mut sums: Vec<[u8; 32]>) -> String {
    sums.sort_unstable();
    let mut h = Sha256::new();
    for s in &sums {
        h.update(s);
    }
    hex::encode(h.finalize())
}
