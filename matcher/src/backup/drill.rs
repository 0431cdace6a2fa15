//! `backup verify`, the restore drill: a set restored into a scratch database (and a
//! scratch Redis database), read back and compared with its manifest, the outcome
//! recorded in the set.

use std::path::Path;

use chrono::Utc;
use sqlx::{AnyConnection, Connection};

use super::manifest::{self, Manifest, Verification};
use super::{
    BackupError, PG_DUMP, REDIS_EXPORT, SQLITE_COPY, checked_set, db, db_err, lock_dir, redis,
    redis_url,
};
use crate::config::Config;
use crate::store::Backend;

/// `backup verify`: restores the set into a scratch database (and scratch Redis database)
/// and compares with the manifest; records the outcome in the set's `verify.json`.
pub async fn verify(cfg: &Config, dir: &Path, set: &str) -> Result<Verification, BackupError> {
    let _lock = lock_dir(dir)?;
    verify_locked(cfg, dir, set).await
}

pub(super) async fn verify_locked(
    cfg: &Config,
    dir: &Path,
    set: &str,
) -> Result<Verification, BackupError> {
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
