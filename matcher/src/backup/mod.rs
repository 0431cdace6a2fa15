//! Backups, restores and restore drills of a matcher's store and cache.
//!
//! One `backup run` writes one *set*: a directory named after its UTC start time
//! (`20261128T030000Z`) under the backup directory, holding
//!
//! * `postgres.dump` (`pg_dump -Fc`) or `store.sqlite` (`VACUUM INTO`),
//! * `redis.jsonl` (logical export) and `redis.rdb` (`redis-cli --rdb`) when the cache is
//!   Redis,
//! * `config/effective.yaml` (and `config/config.yaml`, the file given with `--config`),
//!   secrets masked,
//! * `manifest.json` (sizes, SHA-256, source versions, per-table row counts and content
//!   checksums, start/end, where the encryption secret is kept) and `manifest.sha256`.
//!
//! The payload encryption secret is never part of a set: a set and its key stored together
//! would protect nothing ([`crate::secret`]). The manifest and the restore say where it is.
//!
//! The set is written as `.ID.partial` and renamed last, so an interrupted run never
//! leaves a set that looks complete. `restore` checks every checksum before touching
//! anything, raises the maintenance flag ([`maintenance`]), takes a safety set, restores,
//! compares row counts and checksums with the manifest, and lowers the flag. `verify`
//! restores a set into a scratch database and a scratch Redis database and records the
//! result in the set (`verify.json`).
//!
//! # Layout
//!
//! This file: the backup directory (lock, listing, set ids) and taking a set. `drill.rs`
//! `verify`; `restore.rs` `restore`; `termination.rs` the summary a job leaves for the
//! operator; `db.rs` and `redis.rs` the dump and load of each service; `manifest.rs`
//! the set's manifest; `retention.rs` which sets to delete; `maintenance.rs` the flag
//! that holds writes during a restore; `cli.rs` the subcommands.

pub mod cli;
pub mod db;
mod drill;
pub mod maintenance;
pub mod manifest;
pub mod redis;
mod restore;
pub mod retention;
mod termination;

pub use drill::verify;
pub use restore::{RestoreOptions, RestoreReport, restore};
pub use termination::{kinds, results, write_termination_message};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::Connection;

use crate::config::Config;
use crate::store::{Backend, Store, StoreError};
use manifest::{FileEntry, Manifest, Source, Verification};

pub const PG_DUMP: &str = "postgres.dump";
pub const SQLITE_COPY: &str = "store.sqlite";
pub const REDIS_EXPORT: &str = "redis.jsonl";
pub const REDIS_RDB: &str = "redis.rdb";
const LOCK_FILE: &str = ".lock";
const ID_FORMAT: &str = "%Y%m%dT%H%M%SZ";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("database: {context}: {source}")]
    Db {
        context: String,
        source: sqlx::Error,
    },
    #[error("redis: {context}: {message}")]
    Redis { context: String, message: String },
    #[error("{context}: {source}")]
    Json {
        context: String,
        source: serde_json::Error,
    },
    #[error("cannot run {tool}: {source} (is it installed and on PATH?)")]
    ToolMissing {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}): {stderr}")]
    Tool {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("backup set {set:?} not found in {dir} (`kcmf-matcher backup list` shows the sets)")]
    NotFound { set: String, dir: String },
    #[error("backup set {set} refused, nothing was changed: {reason}")]
    Refused { set: String, reason: String },
    #[error(
        "another backup, restore or verify is running (lock {0} is held); try again when it ends"
    )]
    Locked(String),
    #[error("restore of {set} did not check out: {problems}. {advice}")]
    Mismatch {
        set: String,
        problems: String,
        advice: String,
    },
    #[error("restore drill of {set} failed: {problems}")]
    VerifyFailed { set: String, problems: String },
    #[error("{0}")]
    Invalid(String),
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

pub(crate) fn db_err(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Db { context, source }
}

static CONFIG_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Remembers the `--config` file so a backup can keep a (redacted) copy of it.
pub fn set_config_file(path: Option<PathBuf>) {
    let _ = CONFIG_FILE.set(path);
}

fn config_file() -> Option<&'static Path> {
    CONFIG_FILE.get().and_then(|p| p.as_deref())
}

/// `KCMF_BACKUP_DIR`'s default: `<data dir>/backups` for the embedded SQLite store,
/// `/backups` (the CronJob's volume) otherwise.
pub fn default_dir(cfg: &Config) -> PathBuf {
    match &cfg.database.url {
        None => cfg.database.data_dir.join("backups"),
        Some(_) => PathBuf::from("/backups"),
    }
}

fn live_backend(cfg: &Config) -> Backend {
    match &cfg.database.url {
        Some(u) if !u.starts_with("sqlite:") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

fn redis_url(cfg: &Config) -> Option<&str> {
    cfg.cache.redis_url.as_deref().filter(|_| cfg.cache.enabled)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

// ---- the directory: lock, listing ----------------------------------------------------------

/// An exclusive lock on the backup directory, held for a run, restore or drill.
pub struct DirLock {
    _file: std::fs::File,
}

pub fn lock_dir(dir: &Path) -> Result<DirLock, BackupError> {
    std::fs::create_dir_all(dir).map_err(io_err(format!(
        "cannot create backup directory {}",
        dir.display()
    )))?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(format!("open {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(BackupError::Locked(path.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(format!("lock {}", path.display()))(e)),
    }
}

/// The start time encoded in a set id (`YYYYMMDDTHHMMSSZ…`).
pub fn parse_id_time(id: &str) -> Option<DateTime<Utc>> {
    let head = id.get(..15)?;
    if id.as_bytes().get(15) != Some(&b'Z') {
        return None;
    }
    NaiveDateTime::parse_from_str(head, "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetState {
    /// Renamed into place, manifest reads and matches its checksum.
    Complete,
    /// `.ID.partial`: a run that has not finished (or was killed).
    Incomplete,
    /// A set directory whose manifest is missing or does not check out.
    Unreadable(String),
}

#[derive(Debug, Clone)]
pub struct SetInfo {
    pub id: String,
    pub path: PathBuf,
    pub started_at: DateTime<Utc>,
    pub state: SetState,
    pub manifest: Option<Manifest>,
    pub verification: Option<Verification>,
}

impl SetInfo {
    pub fn state_str(&self) -> &'static str {
        match self.state {
            SetState::Complete => "complete",
            SetState::Incomplete => "incomplete",
            SetState::Unreadable(_) => "unreadable",
        }
    }

    pub fn verified_str(&self) -> &'static str {
        match &self.verification {
            Some(v) if v.ok => "yes",
            Some(_) => "FAILED",
            None => "no",
        }
    }
}

/// Every set (complete, incomplete, unreadable) in the directory, oldest first.
pub fn list_sets(dir: &Path) -> Result<Vec<SetInfo>, BackupError> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(format!("read {}", dir.display()))(e)),
    };
    for entry in rd {
        let entry = entry.map_err(io_err(format!("read {}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if let Some(id) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".partial"))
        {
            if let Some(t) = parse_id_time(id) {
                out.push(SetInfo {
                    id: id.to_string(),
                    path,
                    started_at: t,
                    state: SetState::Incomplete,
                    manifest: None,
                    verification: None,
                });
            }
            continue;
        }
        let Some(t) = parse_id_time(&name) else {
            continue;
        };
        let (state, manifest, started_at) = match Manifest::read(&path) {
            Ok(m) => {
                let s = m.started_at;
                (SetState::Complete, Some(m), s)
            }
            Err(e) => (SetState::Unreadable(e), None, t),
        };
        out.push(SetInfo {
            verification: Verification::read(&path),
            id: name,
            path,
            started_at,
            state,
            manifest,
        });
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Finds a set by id (or by the path of its directory) and checks its manifest and every
/// file's size and checksum. Nothing is modified.
pub fn checked_set(dir: &Path, set: &str) -> Result<(PathBuf, Manifest), BackupError> {
    let as_path = Path::new(set);
    let path = if set.contains('/') {
        as_path.to_path_buf()
    } else {
        if set.is_empty() || set.starts_with('.') {
            return Err(BackupError::Invalid(format!("{set:?} is not a set id")));
        }
        dir.join(set)
    };
    let id = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| set.to_string());
    if !path.is_dir() {
        let partial = path.with_file_name(format!(".{id}.partial"));
        if partial.is_dir() {
            return Err(BackupError::Refused {
                set: id,
                reason: "the set is incomplete (its backup did not finish)".into(),
            });
        }
        return Err(BackupError::NotFound {
            set: set.to_string(),
            dir: dir.display().to_string(),
        });
    }
    let refused = |reason: String| BackupError::Refused {
        set: id.clone(),
        reason,
    };
    let m = Manifest::read(&path).map_err(refused)?;
    m.check_files(&path).map_err(refused)?;
    Ok((path, m))
}

fn unique_id(dir: &Path, started: DateTime<Utc>, reason: &str) -> String {
    let mut base = started.format(ID_FORMAT).to_string();
    if reason != "scheduled" {
        base = format!("{base}-{reason}");
    }
    let mut id = base.clone();
    let mut n = 2;
    while dir.join(&id).exists() || dir.join(format!(".{id}.partial")).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Removes the `.ID.partial` directories of runs that died (called under the lock).
fn clean_partials(dir: &Path) {
    if let Ok(sets) = list_sets(dir) {
        for s in sets.into_iter().filter(|s| s.state == SetState::Incomplete) {
            tracing::warn!(set = %s.id, "removing the leftovers of an interrupted backup");
            if let Err(e) = std::fs::remove_dir_all(&s.path) {
                tracing::warn!(set = %s.id, error = %e, "cannot remove an interrupted backup");
            }
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

// ---- taking a set ----------------------------------------------------------------------------

/// What `backup run` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub set: String,
    pub path: PathBuf,
    pub manifest: Manifest,
    pub verification: Option<Verification>,
    pub deleted: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub retention_days: u32,
    /// Run the restore drill on the new set before calling the run a success.
    pub verify: bool,
}

/// `backup run`: one set, then (if asked) its drill, then retention.
pub async fn run(cfg: &Config, dir: &Path, opts: &RunOptions) -> Result<RunReport, BackupError> {
    let _lock = lock_dir(dir)?;
    clean_partials(dir);
    let manifest = take_set(cfg, dir, "scheduled").await?;
    let set = manifest.id.clone();
    let path = dir.join(&set);
    let verification = if opts.verify {
        let v = drill::verify_locked(cfg, dir, &set).await?;
        if !v.ok {
            return Err(BackupError::VerifyFailed {
                set,
                problems: v.error.clone().unwrap_or_default(),
            });
        }
        Some(v)
    } else {
        None
    };
    let deleted = apply_retention(dir, opts.retention_days)?;
    Ok(RunReport {
        set,
        path,
        manifest,
        verification,
        deleted,
    })
}

/// Deletes the sets [`retention::plan`] names; returns their ids.
pub fn apply_retention(dir: &Path, days: u32) -> Result<Vec<String>, BackupError> {
    let sets = list_sets(dir)?;
    let cands: Vec<retention::Candidate> = sets
        .iter()
        .filter(|s| s.state != SetState::Incomplete)
        .map(|s| retention::Candidate {
            id: s.id.clone(),
            started_at: s.started_at,
            complete: s.state == SetState::Complete,
            verified: s.verification.as_ref().map(|v| v.ok),
        })
        .collect();
    let doomed = retention::plan(&cands, Utc::now(), days);
    for id in &doomed {
        let p = dir.join(id);
        tracing::info!(set = %id, "retention: deleting backup set");
        std::fs::remove_dir_all(&p).map_err(io_err(format!("delete {}", p.display())))?;
    }
    Ok(doomed)
}

/// Writes one set as `.ID.partial`, renames it into place last; removes it on failure.
async fn take_set(cfg: &Config, dir: &Path, reason: &str) -> Result<Manifest, BackupError> {
    std::fs::create_dir_all(dir).map_err(io_err(format!(
        "cannot create backup directory {}",
        dir.display()
    )))?;
    let started = Utc::now();
    let id = unique_id(dir, started, reason);
    let partial = dir.join(format!(".{id}.partial"));
    std::fs::create_dir(&partial).map_err(io_err(format!("create {}", partial.display())))?;
    tracing::info!(set = %id, dir = %dir.display(), "backup started");
    match fill_set(cfg, &partial, &id, started, reason).await {
        Ok(m) => {
            sync_dir(&partial);
            let fin = dir.join(&id);
            std::fs::rename(&partial, &fin).map_err(io_err(format!(
                "rename {} to {}",
                partial.display(),
                fin.display()
            )))?;
            sync_dir(dir);
            tracing::info!(set = %id, "backup complete");
            Ok(m)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

async fn fill_set(
    cfg: &Config,
    out: &Path,
    id: &str,
    started: DateTime<Utc>,
    reason: &str,
) -> Result<Manifest, BackupError> {
    let store = Store::connect(&cfg.database).await?;
    let res = fill_set_with(cfg, &store, out, id, started, reason).await;
    store.close().await;
    res
}

async fn fill_set_with(
    cfg: &Config,
    store: &Store,
    out: &Path,
    id: &str,
    started: DateTime<Utc>,
    reason: &str,
) -> Result<Manifest, BackupError> {
    let backend = store.backend();
    let mut names = Vec::new();
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(db_err("connect to the store"))?;
    let store_version = db::server_version(&mut conn, backend).await?;
    let tables = match backend {
        Backend::Postgres => {
            // One snapshot for the dump and the statistics, so they describe the same data.
            let mut tx = conn.begin().await.map_err(db_err("begin snapshot"))?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(db_err("start snapshot"))?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err("export snapshot"))?;
            let target = db::split_password(store.url());
            let cmd = db::pg_dump_command(&target, &snapshot, &out.join(PG_DUMP));
            let (dumped, stats) = tokio::join!(
                db::run_tool("pg_dump", cmd),
                db::all_stats(&mut tx, backend)
            );
            let _ = tx.rollback().await;
            dumped?;
            names.push(PG_DUMP.to_string());
            stats?
        }
        Backend::Sqlite => {
            let copy = out.join(SQLITE_COPY);
            db::sqlite_copy(&mut conn, &copy).await?;
            let mut c = db::open_sqlite(&copy, false).await?;
            let stats = db::all_stats(&mut c, backend).await;
            let _ = c.close().await;
            names.push(SQLITE_COPY.to_string());
            stats?
        }
    };
    drop(conn);

    let mut source = Source {
        store_backend: backend.as_str().to_string(),
        store_version,
        store_url: crate::redact::url(store.url()),
        redis_version: None,
        redis_url: None,
        redis_db: None,
    };
    let redis_stat = match redis_url(cfg) {
        Some(url) => {
            let target = redis::RedisTarget::open(url)?;
            source.redis_version = Some(target.version().await?);
            source.redis_url = Some(crate::redact::url(url));
            source.redis_db = Some(target.db());
            let mut stat = target.export(&out.join(REDIS_EXPORT)).await?;
            names.push(REDIS_EXPORT.to_string());
            if std::env::var("KCMF_BACKUP_REDIS_RDB").map_or(true, |v| v != "false" && v != "0") {
                target.rdb_snapshot(&out.join(REDIS_RDB)).await.map_err(|e| {
                    BackupError::Invalid(format!(
                        "{e} (set KCMF_BACKUP_REDIS_RDB=false to skip the .rdb snapshot where the server refuses replication; the logical export is still taken)"
                    ))
                })?;
                names.push(REDIS_RDB.to_string());
                stat.rdb = true;
            }
            Some(stat)
        }
        None => None,
    };

    names.extend(write_config(cfg, out)?);

    let mut files = Vec::new();
    for n in &names {
        let p = out.join(n);
        if let Ok(f) = std::fs::File::open(&p) {
            let _ = f.sync_all();
        }
        let (size, sha256) = manifest::file_digest(&p)?;
        files.push(FileEntry {
            name: n.clone(),
            size,
            sha256,
        });
    }
    let m = Manifest {
        format: manifest::FORMAT,
        id: id.to_string(),
        tool: "kcmf-matcher".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        status: "complete".into(),
        started_at: started,
        finished_at: Utc::now(),
        reason: reason.to_string(),
        source,
        files,
        tables,
        redis: redis_stat,
        secret: crate::secret::backup_note(cfg),
    };
    m.write(out)?;
    Ok(m)
}

// ---- configuration ---------------------------------------------------------------------------

/// `config/effective.yaml` and, with `--config`, `config/config.yaml`, secrets masked.
fn write_config(cfg: &Config, out: &Path) -> Result<Vec<String>, BackupError> {
    let dir = out.join("config");
    std::fs::create_dir_all(&dir).map_err(io_err(format!("create {}", dir.display())))?;
    let mut names = Vec::new();
    let eff = serde_yaml_ng::to_string(&crate::redact::config(cfg))
        .map_err(|e| BackupError::Invalid(format!("cannot render the configuration: {e}")))?;
    manifest::write_atomic(&dir.join("effective.yaml"), eff.as_bytes())?;
    names.push("config/effective.yaml".to_string());
    if let Some(p) = config_file() {
        let text = std::fs::read_to_string(p).map_err(io_err(format!("read {}", p.display())))?;
        let mut v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
            .map_err(|e| BackupError::Invalid(format!("{}: {e}", p.display())))?;
        crate::redact::yaml(&mut v);
        let text = serde_yaml_ng::to_string(&v)
            .map_err(|e| BackupError::Invalid(format!("cannot render {}: {e}", p.display())))?;
        manifest::write_atomic(&dir.join("config.yaml"), text.as_bytes())?;
        names.push("config/config.yaml".to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ids_parse() {
        assert!(parse_id_time("20261128T030000Z").is_some());
        assert!(parse_id_time("20261128T030000Z-pre-restore").is_some());
        assert!(parse_id_time("20261128T030000").is_none());
        assert!(parse_id_time("backups").is_none());
    }
}
