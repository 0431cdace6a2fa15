//! `restore --from SET`: every checksum checked before anything is touched, the
//! maintenance flag raised, a safety set taken, the set restored and compared with its
//! manifest, the flag lowered.

use std::path::Path;
use std::time::Duration;

use sqlx::{AnyConnection, Connection};

use super::manifest::Manifest;
use super::{
    BackupError, PG_DUMP, REDIS_EXPORT, SQLITE_COPY, checked_set, db, db_err, env_u64,
    live_backend, lock_dir, maintenance, redis, redis_url, take_set,
};
use crate::config::Config;
use crate::store::{Backend, Store};

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
