//! The store: one sqlx `Any` pool over PostgreSQL (`DATABASE_URL=postgres://…`) or SQLite
//! (the embedded default, a file under the data dir), the embedded migrations, and the
//! queries for API keys, configs, the request log, match history and feedback.
//!
//! All SQL here is portable between the two databases (TEXT, BIGINT, DOUBLE PRECISION,
//! `$n` placeholders in increasing order).

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::config::DatabaseConfig;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unreachable: {0}")]
    Unavailable(String),
    #[error("store query `{what}` failed: {source}")]
    Query {
        what: &'static str,
        source: sqlx::Error,
    },
    #[error("cannot encode payload: {0}")]
    Encode(String),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// Outcome of [`Store::revoke_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoke {
    /// The key is revoked.
    Revoked,
    /// No active key has that id.
    NotFound,
    /// Refused: it is the last active admin key.
    LastAdmin,
}

/// Maps a sqlx error to [`StoreError`]: connection trouble is `Unavailable` (the API answers
/// 503), anything else a query error naming `what`.
pub(crate) fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| match source {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(format!("{what}: {source}"))
        }
        source => StoreError::Query { what, source },
    }
}

/// Which database backs the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

/// A stored API key (never the key itself).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub key_hash: String,
    pub role: String,
    /// The project whose keys share feedback examples; `null`: the key is its own tenant.
    pub project: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// One line of the request log.
#[derive(Debug, Clone)]
pub struct RequestLogEntry {
    pub key_id: Option<String>,
    pub method: String,
    pub endpoint: String,
    pub status: u16,
    pub latency_ms: f64,
    pub request_id: Option<String>,
    pub created_at: i64,
}

/// One match-history entry, payloads already encrypted.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub key_id: Option<String>,
    pub kind: String,
    pub request_hash: String,
    pub request_enc: String,
    pub result_enc: String,
    pub created_at: i64,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Row ids are UUIDv7 (time-ordered): inserts append to the primary-key B-tree instead of
/// landing on a random page each (with v4, a batch of request-log rows dirtied about one
/// page per row, which dominated the write cost on SQLite).
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The URL of the embedded SQLite file under `data_dir`.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("kcmf.db").display())
}

impl Store {
    /// Connects (creating the SQLite file and data dir if needed). Does not migrate.
    pub async fn connect(cfg: &DatabaseConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = match &cfg.url {
            Some(u) => u.clone(),
            None => {
                std::fs::create_dir_all(&cfg.data_dir).map_err(|source| StoreError::DataDir {
                    path: cfg.data_dir.display().to_string(),
                    source,
                })?;
                sqlite_url(&cfg.data_dir)
            }
        };
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let pool = AnyPoolOptions::new()
            .max_connections(cfg.pool_size)
            .min_connections(cfg.min_connections)
            .acquire_timeout(Duration::from_secs(cfg.pool_timeout))
            .connect(&url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connect: {e}")))?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await
                .map_err(q("enable WAL"))?;
        }
        Ok(Self { pool, backend, url })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The connection URL (may contain a password: never log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Applies the embedded migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    /// A cheap round trip, bounded in time, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let fut = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(Duration::from_secs(2), fut).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Unavailable(e.to_string())),
            Err(_) => Err(StoreError::Unavailable("ping timed out".into())),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- API keys -------------------------------------------------------------------

    pub async fn insert_key(
        &self,
        id: &str,
        name: &str,
        key_hash: &str,
        role: &str,
    ) -> Result<(), StoreError> {
        self.insert_key_in(id, name, key_hash, role, None).await
    }

    /// Inserts a key, a member of `project` when given (checked by the caller with
    /// [`crate::auth::check_project`]).
    pub async fn insert_key_in(
        &self,
        id: &str,
        name: &str,
        key_hash: &str,
        role: &str,
        project: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, role, project, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(name)
        .bind(key_hash)
        .bind(role)
        .bind(project)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(q("insert api key"))?;
        Ok(())
    }

    fn key_row(r: &AnyRow) -> Result<KeyRow, sqlx::Error> {
        Ok(KeyRow {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            key_hash: r.try_get("key_hash")?,
            role: r.try_get("role")?,
            project: r.try_get("project")?,
            created_at: r.try_get("created_at")?,
            revoked_at: r.try_get("revoked_at")?,
        })
    }

    pub async fn find_key(&self, id: &str) -> Result<Option<KeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, key_hash, role, project, created_at, revoked_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("find api key"))?;
        row.as_ref()
            .map(Self::key_row)
            .transpose()
            .map_err(q("decode api key"))
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, key_hash, role, project, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(q("list api keys"))?;
        rows.iter()
            .map(Self::key_row)
            .collect::<Result<_, _>>()
            .map_err(q("decode api key"))
    }

    /// Revokes a key, unless it is the last active admin key (no admin would be left to
    /// manage keys). One transaction: on PostgreSQL the active admin rows are locked first,
    /// so two admins revoking each other at once cannot both succeed; SQLite runs one
    /// writer at a time.
    pub async fn revoke_key(&self, id: &str) -> Result<Revoke, StoreError> {
        // SQLite: take the write lock first (BEGIN IMMEDIATE waits for it with the busy
        // timeout); a deferred transaction that reads and then writes fails at once with
        // "database is locked" when another connection wrote in between.
        let tx = match self.backend {
            Backend::Postgres => self.pool.begin().await,
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
        };
        let mut tx = tx.map_err(q("begin revoke api key"))?;
        let lock = match self.backend {
            Backend::Postgres => {
                "SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL FOR UPDATE"
            }
            Backend::Sqlite => {
                "SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL"
            }
        };
        let admins: Vec<String> = sqlx::query(lock)
            .fetch_all(&mut *tx)
            .await
            .map_err(q("lock admin keys"))?
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<Result<_, _>>()
            .map_err(q("decode admin keys"))?;
        if admins.len() == 1 && admins[0] == id {
            return Ok(Revoke::LastAdmin);
        }
        let res =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(q("revoke api key"))?;
        tx.commit().await.map_err(q("commit revoke api key"))?;
        Ok(if res.rows_affected() > 0 {
            Revoke::Revoked
        } else {
            Revoke::NotFound
        })
    }

    /// Moves an active key into `project`, or out of any (`None`). Returns the project it
    /// was in (`Some(None)`: none), or `None` when no active key has that id.
    pub async fn set_key_project(
        &self,
        id: &str,
        project: Option<&str>,
    ) -> Result<Option<Option<String>>, StoreError> {
        let tx = match self.backend {
            Backend::Postgres => self.pool.begin().await,
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
        };
        let mut tx = tx.map_err(q("begin move api key"))?;
        let lock = match self.backend {
            Backend::Postgres => {
                "SELECT project FROM api_keys WHERE id = $1 AND revoked_at IS NULL FOR UPDATE"
            }
            Backend::Sqlite => "SELECT project FROM api_keys WHERE id = $1 AND revoked_at IS NULL",
        };
        let Some(row) = sqlx::query(lock)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(q("find api key to move"))?
        else {
            return Ok(None);
        };
        let before: Option<String> = row.try_get("project").map_err(q("decode project"))?;
        sqlx::query("UPDATE api_keys SET project = $1 WHERE id = $2")
            .bind(project)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(q("move api key"))?;
        tx.commit().await.map_err(q("commit move api key"))?;
        Ok(Some(before))
    }

    pub async fn count_active_keys(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(q("count api keys"))?;
        row.try_get::<i64, _>("n").map_err(q("decode count"))
    }

    // ---- configs --------------------------------------------------------------------

    pub async fn get_config(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM configs WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("get config"))?;
        row.map(|r| r.try_get::<String, _>("value"))
            .transpose()
            .map_err(q("decode config"))
    }

    /// Deletes the named config row, if any.
    pub async fn delete_config(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM configs WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(q("delete config"))?;
        Ok(())
    }

    // ---- request log and history ------------------------------------------------------

    /// Writes request-log lines, many rows per INSERT (one transaction).
    pub async fn insert_request_logs(&self, entries: &[RequestLogEntry]) -> Result<(), StoreError> {
        // SQLite resolves each numbered parameter's name with a linear scan (O(params²)
        // per statement), so SQLite gets anonymous `?` placeholders, bound in order;
        // PostgreSQL needs `$n`.
        const ROWS: usize = 32;
        const COLS: usize = 8;
        let anonymous = self.backend == Backend::Sqlite;
        let mut tx = self.pool.begin().await.map_err(q("begin request log"))?;
        for chunk in entries.chunks(ROWS) {
            let mut sql = String::from(
                "INSERT INTO request_log (id, key_id, method, endpoint, status, latency_ms, request_id, created_at) VALUES ",
            );
            for r in 0..chunk.len() {
                if r > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for c in 0..COLS {
                    if c > 0 {
                        sql.push(',');
                    }
                    if anonymous {
                        sql.push('?');
                    } else {
                        sql.push_str(&format!("${}", r * COLS + c + 1));
                    }
                }
                sql.push(')');
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                query = query
                    .bind(new_id())
                    .bind(e.key_id.as_deref())
                    .bind(e.method.as_str())
                    .bind(e.endpoint.as_str())
                    .bind(i64::from(e.status))
                    .bind(e.latency_ms)
                    .bind(e.request_id.as_deref())
                    .bind(e.created_at);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(q("insert request log"))?;
        }
        tx.commit().await.map_err(q("commit request log"))?;
        Ok(())
    }

    pub async fn insert_history(&self, entries: &[HistoryEntry]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("begin history"))?;
        for e in entries {
            sqlx::query(
                "INSERT INTO match_history (id, key_id, kind, request_hash, request_enc, result_enc, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(e.key_id.as_deref())
            .bind(&e.kind)
            .bind(&e.request_hash)
            .bind(&e.request_enc)
            .bind(&e.result_enc)
            .bind(e.created_at)
            .execute(&mut *tx)
            .await
            .map_err(q("insert history"))?;
        }
        tx.commit().await.map_err(q("commit history"))?;
        Ok(())
    }

    // ---- feedback ---------------------------------------------------------------------

    pub async fn insert_feedback(
        &self,
        key_id: Option<&str>,
        kind: &str,
        payload_enc: &str,
    ) -> Result<String, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO feedback (id, key_id, kind, payload_enc, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(key_id)
        .bind(kind)
        .bind(payload_enc)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(q("insert feedback"))?;
        Ok(id)
    }

    /// The newest `limit` feedback examples of a kind for each tenant (see [`tenant_of`]:
    /// a project, or a key outside any), newest first; with
    /// `tenant`, that tenant's only. The tenant is resolved now, from the giving key's
    /// current project: a key that moves takes its examples along. Feedback without a key
    /// belongs to no tenant and is not listed.
    pub async fn list_feedback(
        &self,
        kind: &str,
        limit: i64,
        tenant: Option<&str>,
    ) -> Result<Vec<FeedbackRow>, StoreError> {
        let sql = format!(
            "SELECT tenant, id, payload_enc FROM (\
               SELECT tenant, payload_enc, created_at, id, \
                 ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY created_at DESC, id DESC) AS rn \
               FROM (SELECT f.id, f.payload_enc, f.created_at, {TENANT_SQL} AS tenant \
                     FROM feedback f LEFT JOIN api_keys k ON k.id = f.key_id \
                     WHERE f.kind = $1 AND f.key_id IS NOT NULL{}) t) newest \
             WHERE rn <= $2 ORDER BY created_at DESC, id DESC",
            if tenant.is_some() {
                format!(" AND {TENANT_SQL} = $3")
            } else {
                String::new()
            }
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind).bind(limit);
        if let Some(t) = tenant {
            query = query.bind(t);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(q("list feedback"))?;
        rows.iter()
            .map(|r| {
                Ok(FeedbackRow {
                    tenant: r.try_get("tenant")?,
                    id: r.try_get("id")?,
                    payload_enc: r.try_get("payload_enc")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(q("decode feedback"))
    }
}

/// One stored feedback example, as [`Store::list_feedback`] reads it.
#[derive(Debug, Clone)]
pub struct FeedbackRow {
    /// Whose example it is now ([`tenant_of`] its key).
    pub tenant: String,
    pub id: String,
    pub payload_enc: String,
}

impl Store {
    /// The tenant each key that gave feedback belongs to now, by key id.
    pub async fn feedback_keys(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT f.key_id, {TENANT_SQL} AS tenant \
             FROM feedback f LEFT JOIN api_keys k ON k.id = f.key_id WHERE f.key_id IS NOT NULL"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(q("list feedback keys"))?;
        rows.iter()
            .map(|r| Ok((r.try_get("key_id")?, r.try_get("tenant")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(q("decode feedback keys"))
    }
}

impl Store {
    /// The tenant key `key_id` belongs to now ([`tenant_of`]; a key with no row, one given
    /// in `VALID_API_KEYS`, is its own): what a job worker reads the examples of.
    pub async fn key_tenant(&self, key_id: &str) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT project FROM api_keys WHERE id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read key project"))?;
        let project: Option<String> = match row {
            Some(r) => r.try_get("project").map_err(q("decode key project"))?,
            None => None,
        };
        Ok(tenant_of(key_id, project.as_deref()))
    }
}

/// [`tenant_of`] in SQL, over `feedback f LEFT JOIN api_keys k` (a key given in
/// `VALID_API_KEYS` has no row: its own tenant).
const TENANT_SQL: &str = "COALESCE('project:' || k.project, 'key:' || f.key_id)";

/// Whose feedback examples a key sees: its project's (every member's), or, outside any
/// project, its own. The one place besides [`TENANT_SQL`] that spells a tenant.
pub fn tenant_of(key_id: &str, project: Option<&str>) -> String {
    match project {
        Some(p) => format!("project:{p}"),
        None => format!("key:{key_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn request_logs_are_written_in_multi_row_batches() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = DatabaseConfig {
            data_dir: dir.path().to_path_buf(),
            ..DatabaseConfig::default()
        };
        let store = Store::connect(&cfg).await.unwrap();
        store.migrate().await.unwrap();
        let entries: Vec<RequestLogEntry> = (0..250)
            .map(|i| RequestLogEntry {
                key_id: (i % 2 == 0).then(|| format!("k{i}")),
                method: "POST".into(),
                endpoint: "/api/v1/match/entity".into(),
                status: 200 + (i % 3) as u16,
                latency_ms: i as f64 / 10.0,
                request_id: None,
                created_at: 1_000 + i as i64,
            })
            .collect();
        store.insert_request_logs(&entries).await.unwrap();
        let rows: Vec<(Option<String>, i64, f64, i64)> = sqlx::query_as(
            "SELECT key_id, status, latency_ms, created_at FROM request_log ORDER BY created_at",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 250);
        for (i, (k, st, lat, at)) in rows.iter().enumerate() {
            assert_eq!(*k, (i % 2 == 0).then(|| format!("k{i}")));
            assert_eq!(*st, 200 + (i % 3) as i64);
            assert!((lat - i as f64 / 10.0).abs() < 1e-9);
            assert_eq!(*at, 1_000 + i as i64);
        }
    }

    /// Revocations racing other writers on SQLite wait for the write lock instead of
    /// failing with "database is locked" (their transaction read before it wrote).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_revocations_race_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = DatabaseConfig {
            data_dir: dir.path().to_path_buf(),
            ..DatabaseConfig::default()
        };
        let store = Store::connect(&cfg).await.unwrap();
        store.migrate().await.unwrap();
        store
            .insert_key("admin", "admin", "h", "admin")
            .await
            .unwrap();
        for i in 0..40 {
            store
                .insert_key(&format!("u{i}"), "u", "h", "user")
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for i in 0..40 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.revoke_key(&format!("u{i}"))
                    .await
                    .map(|r| r == Revoke::Revoked)
            }));
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.insert_key(&format!("n{i}"), "n", "h", "user")
                    .await
                    .map(|()| true)
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().unwrap());
        }
        assert_eq!(store.revoke_key("admin").await.unwrap(), Revoke::LastAdmin);
    }
}
