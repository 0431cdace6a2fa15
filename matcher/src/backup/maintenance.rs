//! Maintenance mode: the flag a restore raises so serving matchers stop writing.
//!
//! The flag lives in two places, and is up when either says so:
//! * a row in the `kcmf_maintenance` table of the store (every deployment has a store);
//!   backups exclude that table, so `pg_restore --clean` never drops it mid-restore;
//! * the Redis key `kcmf:maintenance` when the cache is Redis (never exported, deleted or
//!   restored by backups).
//!
//! Serving matchers poll it every [`POLL`] and, while it is up, answer every `/api/v1/*`
//! call with 503 `unavailable` and `Retry-After` (every such call writes: request log,
//! history, feedback, keys). `/health`, `/ready` and `/metrics` keep answering.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::{AnyPool, Row};

use super::{BackupError, db_err};
use crate::error::ApiError;

pub const MAINT_TABLE: &str = "kcmf_maintenance";
pub const MAINT_KEY: &str = "kcmf:maintenance";
/// How often serving matchers re-read the flag.
pub const POLL: Duration = Duration::from_secs(1);

/// Raises and lowers the flag (used by `restore` and `backup maintenance`).
pub struct Switch {
    pool: AnyPool,
    redis: Option<redis::Client>,
}

impl Switch {
    pub fn new(pool: AnyPool, redis: Option<redis::Client>) -> Self {
        Self { pool, redis }
    }

    async fn ensure_table(&self) -> Result<(), BackupError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS kcmf_maintenance (id BIGINT PRIMARY KEY, reason TEXT NOT NULL, since BIGINT NOT NULL)",
        )
        .execute(&self.pool)
        .await
        .map_err(db_err("create the maintenance table"))?;
        Ok(())
    }

    pub async fn enable(&self, reason: &str) -> Result<(), BackupError> {
        self.ensure_table().await?;
        sqlx::query(
            "INSERT INTO kcmf_maintenance (id, reason, since) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, since = excluded.since",
        )
        .bind(reason)
        .bind(crate::store::now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err("raise the maintenance flag"))?;
        if let Some(c) = &self.redis {
            let mut con = c
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| redis_err("raise the maintenance flag", e))?;
            let () = redis::cmd("SET")
                .arg(MAINT_KEY)
                .arg(reason)
                .query_async(&mut con)
                .await
                .map_err(|e| redis_err("raise the maintenance flag", e))?;
        }
        Ok(())
    }

    pub async fn disable(&self) -> Result<(), BackupError> {
        self.ensure_table().await?;
        sqlx::query("DELETE FROM kcmf_maintenance")
            .execute(&self.pool)
            .await
            .map_err(db_err("lower the maintenance flag"))?;
        if let Some(c) = &self.redis {
            let mut con = c
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| redis_err("lower the maintenance flag", e))?;
            let _: i64 = redis::cmd("DEL")
                .arg(MAINT_KEY)
                .query_async(&mut con)
                .await
                .map_err(|e| redis_err("lower the maintenance flag", e))?;
        }
        Ok(())
    }

    /// The reason the flag is up, if it is.
    pub async fn status(&self) -> Result<Option<String>, BackupError> {
        if let Some(c) = &self.redis {
            let mut con = c
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| redis_err("read the maintenance flag", e))?;
            let v: Option<String> = redis::cmd("GET")
                .arg(MAINT_KEY)
                .query_async(&mut con)
                .await
                .map_err(|e| redis_err("read the maintenance flag", e))?;
            if v.is_some() {
                return Ok(v);
            }
        }
        read_table(&self.pool).await
    }
}

fn redis_err(context: &str, e: redis::RedisError) -> BackupError {
    BackupError::Redis {
        context: context.to_string(),
        message: e.to_string(),
    }
}

async fn read_table(pool: &AnyPool) -> Result<Option<String>, BackupError> {
    match sqlx::query("SELECT reason FROM kcmf_maintenance WHERE id = 1")
        .fetch_optional(pool)
        .await
    {
        Ok(r) => r
            .map(|r| r.try_get::<String, _>("reason"))
            .transpose()
            .map_err(db_err("decode the maintenance flag")),
        // No table yet: no flag.
        Err(sqlx::Error::Database(_)) => Ok(None),
        Err(e) => Err(db_err("read the maintenance flag")(e)),
    }
}

/// The flag as serving matchers see it, refreshed in the background.
#[derive(Clone, Default)]
pub struct MaintenanceFlag(Arc<AtomicBool>);

impl MaintenanceFlag {
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Starts polling the store (and Redis when given) every [`POLL`]. A failed read keeps
    /// the previous value.
    pub fn watch(pool: AnyPool, cache: &crate::config::CacheConfig) -> MaintenanceFlag {
        let flag = MaintenanceFlag::default();
        let out = flag.clone();
        let redis = cache
            .redis_url
            .as_deref()
            .filter(|_| cache.enabled)
            .and_then(|u| redis::Client::open(u).ok());
        tokio::spawn(async move {
            // The table exists from the start, so polling never fails (and never fills the
            // PostgreSQL log with "relation does not exist").
            if let Err(e) = Switch::new(pool.clone(), None).ensure_table().await {
                tracing::warn!(error = %e, "cannot create the maintenance table; polling anyway");
            }
            let mut con = None;
            let mut t = tokio::time::interval(POLL);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                t.tick().await;
                let mut redis_on = None;
                if let Some(c) = &redis {
                    if con.is_none() {
                        con = tokio::time::timeout(
                            Duration::from_millis(500),
                            c.get_multiplexed_async_connection(),
                        )
                        .await
                        .ok()
                        .and_then(Result::ok);
                    }
                    if let Some(cm) = con.as_mut() {
                        let mut cmd = redis::cmd("EXISTS");
                        cmd.arg(MAINT_KEY);
                        let q = cmd.query_async::<i64>(cm);
                        match tokio::time::timeout(Duration::from_millis(500), q).await {
                            Ok(Ok(n)) => redis_on = Some(n > 0),
                            _ => con = None,
                        }
                    }
                }
                let table_on = tokio::time::timeout(Duration::from_secs(2), read_table(&pool))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|r| r.is_some());
                let on = match (redis_on, table_on) {
                    (Some(true), _) | (_, Some(true)) => true,
                    (None, None) => flag.is_on(),
                    _ => false,
                };
                if on != flag.is_on() {
                    tracing::warn!(maintenance = on, "maintenance mode changed");
                }
                metrics::gauge!("kcmf_maintenance_mode").set(if on { 1.0 } else { 0.0 });
                flag.0.store(on, Ordering::Relaxed);
            }
        });
        out
    }
}

/// Middleware: 503 for `/api/v1/*` while the flag is up.
pub async fn guard(State(flag): State<MaintenanceFlag>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if flag.is_on() && path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
        let mut resp =
            ApiError::Unavailable("maintenance: a restore is in progress, retry later".into())
                .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return resp;
    }
    next.run(req).await
}
