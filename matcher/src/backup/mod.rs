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

pub mod cli;
pub mod db;
pub mod maintenance;
pub mod manifest;
pub mod redis;
pub mod retention;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{AnyConnection, Connection};

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
        let v = verify_locked(cfg, dir, &set).await?;
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

// ---- the restore drill -------------------------------------------------------------------------

/// `backup verify`: restores the set into a scratch database (and scratch Redis database)
/// and compares with the manifest; records the outcome in the set's `verify.json`.
pub async fn verify(cfg: &Config, dir: &Path, set: &str) -> Result<Verification, BackupError> {
    let _lock = lock_dir(dir)?;
    verify_locked(cfg, dir, set).await
}

async fn verify_locked(cfg: &Config, dir: &Path, set: &str) -> Result<Verification, BackupError> {
    let (path, m) = match checked_set(dir, set) {
        Ok(x) => x,
        Err(e) => {
            // A set that exists but does not check out is recorded as failing its drill.
            if let BackupError::Refused { set: id, reason } = &e
                && dir.join(id).join(manifest::MANIFEST).is_file()
            {
                let v = Verification {
                    set: id.clone(),
                    ok: false,
                    verified_at: Utc::now(),
                    tool_version: env!("CARGO_PKG_VERSION").into(),
                    checks: Vec::new(),
                    error: Some(reason.clone()),
                };
                v.write(&dir.join(id))?;
            }
            return Err(e);
        }
    };
    let mut checks = vec![format!(
        "{} file(s) match their size and sha256",
        m.files.len()
    )];
    let outcome = drill(cfg, dir, &path, &m, &mut checks).await;
    let (ok, error) = match &outcome {
        Ok(problems) if problems.is_empty() => (true, None),
        Ok(problems) => (false, Some(problems.join("; "))),
        Err(e) => (false, Some(e.to_string())),
    };
    let v = Verification {
        set: m.id.clone(),
        ok,
        verified_at: Utc::now(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        checks,
        error,
    };
    v.write(&path)?;
    outcome?;
    Ok(v)
}

/// The drill proper; returns the problems found (empty: the set reads back).
async fn drill(
    cfg: &Config,
    dir: &Path,
    path: &Path,
    m: &Manifest,
    checks: &mut Vec<String>,
) -> Result<Vec<String>, BackupError> {
    let mut problems = Vec::new();
    let found = match m.source.store_backend.as_str() {
        "postgres" => drill_postgres(cfg, path).await?,
        "sqlite" => drill_sqlite(dir, path).await?,
        other => {
            return Err(BackupError::Invalid(format!(
                "unknown store backend {other:?}"
            )));
        }
    };
    let p = db::compare_stats(&m.tables, &found);
    if p.is_empty() {
        checks.push(format!(
            "{} table(s) restored into a scratch database: row counts and checksums match ({} rows)",
            m.tables.len(),
            m.tables.iter().map(|t| t.rows).sum::<u64>()
        ));
    }
    problems.extend(p);
    if let Some(rs) = &m.redis {
        let file = path.join(REDIS_EXPORT);
        let (n, sum) = redis::export_stat(&file)?;
        if n != rs.keys || sum != rs.checksum {
            problems.push(format!(
                "redis export holds {n} keys with checksum {sum}, the manifest says {} / {}",
                rs.keys, rs.checksum
            ));
        }
        match redis_url(cfg) {
            Some(url) => {
                let live = redis::RedisTarget::open(url)?;
                let db = match std::env::var("KCMF_BACKUP_VERIFY_REDIS_DB") {
                    Ok(v) => v.trim().parse::<i64>().map_err(|_| {
                        BackupError::Invalid(format!("KCMF_BACKUP_VERIFY_REDIS_DB={v:?} is not a number"))
                    })?,
                    Err(_) => {
                        if live.db() == 15 {
                            14
                        } else {
                            15
                        }
                    }
                };
                if db == live.db() {
                    return Err(BackupError::Invalid(format!(
                        "the scratch Redis database {db} is the live one; set KCMF_BACKUP_VERIFY_REDIS_DB to another index"
                    )));
                }
                let scratch = live.with_db(db)?;
                if scratch.dbsize().await? > 0 {
                    return Err(BackupError::Invalid(format!(
                        "the scratch Redis database {db} is not empty; set KCMF_BACKUP_VERIFY_REDIS_DB to an unused index"
                    )));
                }
                let res = async {
                    let n = scratch.import(&file).await?;
                    let c = scratch.compare(&file).await?;
                    Ok::<_, BackupError>((n, c))
                }
                .await;
                let cleared = scratch.clear().await;
                let (n, c) = res?;
                cleared?;
                if c.problems.is_empty() {
                    checks.push(format!(
                        "{n} Redis key(s) restored into scratch database {db}: {} identical, {} expired since",
                        c.matched, c.expired
                    ));
                }
                problems.extend(c.problems);
            }
            None => checks.push(format!(
                "no Redis configured: the export's {n} key(s) were decoded and checksummed, not loaded"
            )),
        }
    }
    Ok(problems)
}

async fn drill_postgres(
    cfg: &Config,
    path: &Path,
) -> Result<Vec<manifest::TableStat>, BackupError> {
    let live = match &cfg.database.url {
        Some(u) if !u.starts_with("sqlite:") => u.clone(),
        _ => {
            return Err(BackupError::Invalid(
                "this set is a PostgreSQL dump: the drill needs DATABASE_URL (a PostgreSQL server to create the scratch database on)".into(),
            ));
        }
    };
    sqlx::any::install_default_drivers();
    if let Ok(url) = std::env::var("KCMF_BACKUP_VERIFY_DATABASE_URL")
        && !url.is_empty()
    {
        return restore_and_stat_pg(&url, path).await;
    }
    let name = format!(
        "kcmf_verify_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut admin = AnyConnection::connect(&live)
        .await
        .map_err(db_err("connect to PostgreSQL"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .map_err(db_err(format!(
            "create the scratch database {name} (the role needs CREATEDB, or set KCMF_BACKUP_VERIFY_DATABASE_URL to an empty scratch database)"
        )))?;
    let scratch = db::with_database(&live, &name)?;
    let res = restore_and_stat_pg(&scratch, path).await;
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .map_err(db_err(format!("drop the scratch database {name}")));
    let _ = admin.close().await;
    let stats = res?;
    dropped?;
    Ok(stats)
}

async fn restore_and_stat_pg(
    url: &str,
    path: &Path,
) -> Result<Vec<manifest::TableStat>, BackupError> {
    db::pg_restore(&db::split_password(url), &path.join(PG_DUMP)).await?;
    let mut c = AnyConnection::connect(url)
        .await
        .map_err(db_err("connect to the scratch database"))?;
    let stats = db::all_stats(&mut c, Backend::Postgres).await;
    let _ = c.close().await;
    stats
}

async fn drill_sqlite(dir: &Path, path: &Path) -> Result<Vec<manifest::TableStat>, BackupError> {
    let scratch = dir.join(format!(
        ".verify-{}.sqlite",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ));
    let res = async {
        let mut c = db::open_sqlite(&scratch, true).await?;
        let r = async {
            db::sqlite_restore(&mut c, &path.join(SQLITE_COPY)).await?;
            db::all_stats(&mut c, Backend::Sqlite).await
        }
        .await;
        let _ = c.close().await;
        r
    }
    .await;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
    res
}

// ---- restore ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// Without it, the set is checked and nothing is changed.
    pub yes: bool,
    /// Take a `-pre-restore` set of the current state first (the roll-back point).
    pub safety_backup: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    pub set: String,
    pub safety_set: Option<String>,
    pub tables: usize,
    pub rows: u64,
    pub redis_keys: Option<u64>,
    pub notes: Vec<String>,
}

/// `restore --from SET`.
pub async fn restore(
    cfg: &Config,
    dir: &Path,
    from: &str,
    opts: &RestoreOptions,
) -> Result<RestoreReport, BackupError> {
    let (path, m) = checked_set(dir, from)?;
    let backend = live_backend(cfg);
    if m.source.store_backend != backend.as_str() {
        return Err(BackupError::Refused {
            set: m.id.clone(),
            reason: format!(
                "the set holds a {} store, this matcher uses {}",
                m.source.store_backend,
                backend.as_str()
            ),
        });
    }
    let mut notes = Vec::new();
    let redis_live = redis_url(cfg).map(redis::RedisTarget::open).transpose()?;
    match (&m.redis, &redis_live) {
        (Some(_), None) => notes.push(
            "the set has a Redis export but no Redis is configured: the cache is not restored"
                .to_string(),
        ),
        (None, Some(_)) => notes.push(
            "the set has no Redis export (it was taken with the in-process cache): Redis is left as it is"
                .to_string(),
        ),
        _ => {}
    }
    if !m.secret.is_empty() {
        notes.push(m.secret.clone());
    }
    if !opts.yes {
        return Err(BackupError::Invalid(format!(
            "set {} checks out ({} files, {} tables); restoring replaces the current data: run again with --yes",
            m.id,
            m.files.len(),
            m.tables.len()
        )));
    }
    let _lock = lock_dir(dir)?;
    let store = Store::connect(&cfg.database).await?;
    let res = restore_with(
        cfg,
        dir,
        &path,
        &m,
        &store,
        redis_live.as_ref(),
        opts,
        notes,
    )
    .await;
    store.close().await;
    res
}

#[allow(clippy::too_many_arguments)]
async fn restore_with(
    cfg: &Config,
    dir: &Path,
    path: &Path,
    m: &Manifest,
    store: &Store,
    redis_live: Option<&redis::RedisTarget>,
    opts: &RestoreOptions,
    mut notes: Vec<String>,
) -> Result<RestoreReport, BackupError> {
    let switch =
        maintenance::Switch::new(store.pool().clone(), redis_live.map(|r| r.client.clone()));
    switch.enable(&format!("restore of {}", m.id)).await?;
    let grace = env_u64("KCMF_MAINTENANCE_GRACE_SECS", 3);
    tracing::info!(set = %m.id, grace_secs = grace, "maintenance flag raised; waiting for serving matchers to stop writing");
    tokio::time::sleep(Duration::from_secs(grace)).await;

    // Steps that leave the data as it was: on failure the flag comes down again.
    let before = async {
        let safety = if opts.safety_backup {
            Some(take_set(cfg, dir, "pre-restore").await?)
        } else {
            None
        };
        match store.backend() {
            Backend::Postgres => {
                db::pg_restore(&db::split_password(store.url()), &path.join(PG_DUMP)).await?
            }
            Backend::Sqlite => {
                sqlx::any::install_default_drivers();
                let mut c = AnyConnection::connect(store.url())
                    .await
                    .map_err(db_err("connect to the store"))?;
                let r = db::sqlite_restore(&mut c, &path.join(SQLITE_COPY)).await;
                let _ = c.close().await;
                r?
            }
        }
        Ok::<_, BackupError>(safety)
    }
    .await;
    let safety = match before {
        Ok(s) => s.map(|m| m.id),
        Err(e) => {
            if let Err(e2) = switch.disable().await {
                tracing::error!(error = %e2, "cannot lower the maintenance flag");
            }
            return Err(e);
        }
    };
    let advice = match &safety {
        Some(s) => format!(
            "The maintenance flag stays up. Roll back with `kcmf-matcher restore --from {s} --yes`, or lower the flag with `kcmf-matcher backup maintenance off`"
        ),
        None => "The maintenance flag stays up; lower it with `kcmf-matcher backup maintenance off` once the data is sound".to_string(),
    };
    let mismatch = |problems: String| BackupError::Mismatch {
        set: m.id.clone(),
        problems,
        advice: advice.clone(),
    };

    // From here the store holds the set's data: failures keep the flag up.
    let mut problems = Vec::new();
    let mut redis_keys = None;
    if let (Some(_), Some(r)) = (&m.redis, redis_live) {
        let file = path.join(REDIS_EXPORT);
        let step = async {
            let removed = r.clear().await?;
            let n = r.import(&file).await?;
            let c = r.compare(&file).await?;
            Ok::<_, BackupError>((removed, n, c))
        }
        .await;
        match step {
            Ok((removed, n, c)) => {
                notes.push(format!(
                    "redis: {removed} key(s) removed, {n} restored, {} identical, {} expired since the backup",
                    c.matched, c.expired
                ));
                problems.extend(c.problems);
                redis_keys = Some(n);
            }
            Err(e) => return Err(mismatch(format!("redis restore failed: {e}"))),
        }
    }
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(db_err("connect to the store"))?;
    let found = db::all_stats(&mut conn, store.backend()).await;
    drop(conn);
    let found = found.map_err(|e| mismatch(format!("cannot read back the tables: {e}")))?;
    problems.extend(db::compare_stats(&m.tables, &found));
    if !problems.is_empty() {
        return Err(mismatch(problems.join("; ")));
    }
    switch.disable().await?;
    Ok(RestoreReport {
        set: m.id.clone(),
        safety_set: safety,
        tables: m.tables.len(),
        rows: m.tables.iter().map(|t| t.rows).sum(),
        redis_keys,
        notes,
    })
}

/// The termination message's `result` values: the strings of the operator's
/// `status::results` (operator/src/status.rs), which reads them.
pub mod results {
    /// The command completed.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The command failed (the message carries `error`).
    pub const FAILED: &str = "Failed";
}

/// The termination message's `kind` values: the command that wrote it (the operator's
/// `MessageKind`).
pub mod kinds {
    /// `backup run`
    pub const BACKUP: &str = "backup";
    /// `backup verify`
    pub const VERIFY: &str = "verify";
    /// `restore`
    pub const RESTORE: &str = "restore";
}

/// Kubernetes keeps at most 4096 bytes of a termination message.
const TERMINATION_LIMIT: usize = 4000;

/// Fields shortened last, tier by tier: the operator reads the set names, times and
/// outcome (`TerminationMessage` in operator/src/status.rs); `kind` and `result` are
/// never shortened.
const TERMINATION_KEEP: [&[&str]; 3] = [
    &[
        "kind",
        "result",
        "set",
        "safetySet",
        "startedAt",
        "finishedAt",
        "verifiedAt",
        "verified",
    ],
    &["kind", "result", "set"],
    &["kind", "result"],
];

/// The termination message's text: the JSON of `v`, at most `limit` bytes, still JSON.
/// When too long, the longest other field is shortened first (a string keeps its start
/// and ends in `…`, a list loses its last items, anything else goes), until it fits.
fn termination_text(v: &serde_json::Value, limit: usize) -> String {
    use serde_json::Value;
    let text = v.to_string();
    if text.len() <= limit {
        return text;
    }
    let Value::Object(map) = v else {
        return "{}".to_string();
    };
    let mut m = map.clone();
    for keep in TERMINATION_KEEP {
        loop {
            let text = Value::Object(m.clone()).to_string();
            if text.len() <= limit {
                return text;
            }
            let longest = m
                .iter()
                .filter(|(k, _)| !keep.contains(&k.as_str()))
                .map(|(k, v)| (v.to_string().len(), k.clone()))
                .max();
            let Some((_, key)) = longest else { break };
            match m.get_mut(&key) {
                Some(Value::String(s)) if s.chars().count() > 1 => {
                    cut_json_string(s, text.len() - limit)
                }
                Some(Value::Array(a)) if !a.is_empty() => {
                    a.pop();
                }
                _ => {
                    m.remove(&key);
                }
            }
        }
    }
    "{}".to_string()
}

/// Shortens `s` so that its JSON form loses at least `excess` bytes, ending it in `…`.
fn cut_json_string(s: &mut String, excess: usize) {
    /// Bytes of `c` inside a JSON string (serde_json escapes only `"`, `\` and controls).
    fn escaped_len(c: char) -> usize {
        match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if u32::from(c) < 0x20 => 6,
            c => c.len_utf8(),
        }
    }
    let need = excess + '…'.len_utf8();
    let mut removed = 0;
    while removed < need {
        match s.pop() {
            Some(c) => removed += escaped_len(c),
            None => break,
        }
    }
    s.push('…');
}

/// Writes a one-line JSON summary where Kubernetes shows it in the pod's status
/// (`state.terminated.message`): `$KCMF_TERMINATION_LOG`, else `/dev/termination-log`
/// when it exists. Best effort. A message over [`TERMINATION_LIMIT`] bytes is shortened
/// inside the JSON ([`termination_text`]), so the operator can still read it.
pub fn write_termination_message(v: &serde_json::Value) {
    let path = match std::env::var_os("KCMF_TERMINATION_LOG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let p = PathBuf::from("/dev/termination-log");
            if !p.exists() {
                return;
            }
            p
        }
    };
    let text = termination_text(v, TERMINATION_LIMIT);
    if let Err(e) = std::fs::write(&path, text) {
        tracing::debug!(error = %e, path = %path.display(), "cannot write the termination message");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_keeps_the_termination_message_json_with_its_set() {
        // escapes (quotes, newlines, control characters) and multi-byte characters make the
        // serialized error longer than the string itself
        let error = format!(
            "pg_restore failed: {}",
            "a \"quoted\" line\n\u{1}é ".repeat(800)
        );
        let msg = serde_json::json!({
            "kind": "restore", "result": "Failed", "set": "20261128T030000Z",
            "error": error, "startedAt": "2026-11-28T03:00:00Z", "finishedAt": "2026-11-28T03:01:00Z",
        });
        assert!(msg.to_string().len() > TERMINATION_LIMIT);
        let text = termination_text(&msg, TERMINATION_LIMIT);
        assert!(text.len() <= TERMINATION_LIMIT, "{} bytes", text.len());
        let v: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        for key in ["kind", "result", "set", "startedAt", "finishedAt"] {
            assert_eq!(v[key], msg[key], "{key}");
        }
        let cut = v["error"].as_str().expect("error kept");
        assert!(
            cut.len() > 1000,
            "the error was cut more than needed: {cut:?}"
        );
        let kept = cut.strip_suffix('…').expect("the cut is marked");
        assert!(error.starts_with(kept));
    }

    #[test]
    fn termination_messages_that_fit_are_written_as_they_are() {
        let msg =
            serde_json::json!({"kind": "verify", "result": "Succeeded", "set": "s", "error": null});
        assert_eq!(termination_text(&msg, TERMINATION_LIMIT), msg.to_string());
    }

    #[test]
    fn a_long_list_or_set_name_is_cut_last() {
        let deleted: Vec<String> = (0..400).map(|i| format!("2026010{i:04}T030000Z")).collect();
        let msg = serde_json::json!({
            "kind": "backup", "result": "Succeeded", "set": "20261128T030000Z",
            "verified": true, "deleted": deleted,
        });
        let v: serde_json::Value =
            serde_json::from_str(&termination_text(&msg, TERMINATION_LIMIT)).expect("JSON");
        assert_eq!(v["set"], "20261128T030000Z");
        assert_eq!(v["verified"], true);
        let kept = v["deleted"].as_array().expect("still a list");
        assert!(!kept.is_empty() && kept.len() < 400);
        assert_eq!(
            kept[..],
            msg["deleted"].as_array().expect("list")[..kept.len()]
        );

        // nothing else left to cut: even the set name gives way before kind and result
        let msg =
            serde_json::json!({"kind": "restore", "result": "Failed", "set": "x".repeat(5000)});
        let text = termination_text(&msg, TERMINATION_LIMIT);
        assert!(text.len() <= TERMINATION_LIMIT);
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!((&v["kind"], &v["result"]), (&msg["kind"], &msg["result"]));
    }

    /// The operator matches these exact strings (operator/src/status.rs: `results`,
    /// `parse_termination_message`); changing one here breaks its status.
    #[test]
    fn termination_message_words_are_the_operators() {
        assert_eq!(
            (results::SUCCEEDED, results::FAILED),
            ("Succeeded", "Failed")
        );
        assert_eq!(
            (kinds::BACKUP, kinds::VERIFY, kinds::RESTORE),
            ("backup", "verify", "restore")
        );
    }

    #[test]
    fn set_ids_parse() {
        assert!(parse_id_time("20261128T030000Z").is_some());
        assert!(parse_id_time("20261128T030000Z-pre-restore").is_some());
        assert!(parse_id_time("20261128T030000").is_none());
        assert!(parse_id_time("backups").is_none());
    }
}
