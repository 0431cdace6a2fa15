//! The job queue in the store. Claiming a chunk is one atomic UPDATE: on PostgreSQL the
//! candidate row is picked with `FOR UPDATE SKIP LOCKED`, on SQLite the single writer
//! serializes claims. A chunk is claimable when pending and due, or leased with an expired
//! lease (its worker died). Completion writes the results, marks the chunk done and bumps
//! the job's progress in one transaction, guarded by the lease owner, so results are
//! written exactly once.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{JobState, JobType, PreparedJob};
use crate::crypto::Cipher;
use crate::store::{Backend, Store, StoreError, now_ms, q};

/// A job row.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: String,
    pub key_id: String,
    pub job_type: String,
    pub state: String,
    pub options: String,
    pub total_chunks: i64,
    pub done_chunks: i64,
    pub total_items: i64,
    pub done_items: i64,
    pub result_count: i64,
    /// The most labelled examples one chunk used (dedup: one chunk, so its count).
    pub labels_used: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const JOB_COLS: &str = "id, key_id, job_type, state, options, total_chunks, done_chunks, total_items, \
     done_items, result_count, labels_used, error, created_at, started_at, finished_at";

fn job_row(r: &AnyRow) -> Result<JobRow, sqlx::Error> {
    Ok(JobRow {
        id: r.try_get("id")?,
        key_id: r.try_get("key_id")?,
        job_type: r.try_get("job_type")?,
        state: r.try_get("state")?,
        options: r.try_get("options")?,
        total_chunks: r.try_get("total_chunks")?,
        done_chunks: r.try_get("done_chunks")?,
        total_items: r.try_get("total_items")?,
        done_items: r.try_get("done_items")?,
        result_count: r.try_get("result_count")?,
        labels_used: r.try_get("labels_used")?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// What a worker reads of a chunk's job: its type and options, as stored (the worker
/// parses them and refuses what it does not know).
#[derive(Debug, Clone)]
pub struct JobMeta {
    pub job_type: String,
    pub options: String,
    /// The key that submitted the job (its tenant's stored examples feed dedup and link).
    pub key_id: String,
}

/// A leased chunk.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job_id: String,
    pub seq: i64,
    pub items: i64,
    pub input_enc: String,
    pub attempts: i64,
    pub owner: String,
}

/// What a completion achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    /// Results written; `true` when this chunk finished the job.
    Written { job_finished: bool },
    /// The lease was lost (another worker took the chunk) or the job was cancelled:
    /// nothing written.
    Discarded,
}

#[derive(Clone)]
pub struct Queue {
    store: Store,
}

impl Queue {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Enqueues a prepared job (job row and every chunk in one transaction).
    pub async fn enqueue(
        &self,
        key_id: &str,
        job: &PreparedJob,
        cipher: &Cipher,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let options =
            serde_json::to_string(&job.options).map_err(|e| StoreError::Encode(e.to_string()))?;
        let now = now_ms();
        let mut tx = self
            .store
            .pool()
            .begin()
            .await
            .map_err(q("begin enqueue"))?;
        sqlx::query(
            "INSERT INTO jobs (id, key_id, job_type, state, options, total_chunks, total_items, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(key_id)
        .bind(job.job_type.as_str())
        .bind(JobState::Queued.as_str())
        .bind(&options)
        .bind(job.chunks.len() as i64)
        .bind(job.total_items as i64)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(q("insert job"))?;
        for (seq, (items, input)) in job.chunks.iter().enumerate() {
            let plain = serde_json::to_vec(input).map_err(|e| StoreError::Encode(e.to_string()))?;
            sqlx::query(
                "INSERT INTO job_chunks (job_id, seq, state, items, input_enc, available_at) \
                 VALUES ($1, $2, 'pending', $3, $4, $5)",
            )
            .bind(&id)
            .bind(seq as i64)
            .bind(*items as i64)
            .bind(cipher.encrypt(&plain))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(q("insert chunk"))?;
        }
        tx.commit().await.map_err(q("commit enqueue"))?;
        metrics::counter!("kcmf_jobs_total", "type" => job.job_type.as_str(), "state" => "queued")
            .increment(1);
        Ok(id)
    }

    /// Leases the next claimable chunk for `owner` for `lease_ms`.
    pub async fn claim(&self, owner: &str, lease_ms: i64) -> Result<Option<Lease>, StoreError> {
        let now = now_ms();
        let lock = match self.store.backend() {
            Backend::Postgres => " FOR UPDATE OF c SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE job_chunks SET state = 'leased', lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE (job_id, seq) IN ( \
               SELECT c.job_id, c.seq FROM job_chunks c JOIN jobs j ON j.id = c.job_id \
               WHERE j.state IN ('queued', 'running') \
                 AND ((c.state = 'pending' AND c.available_at <= $3) OR (c.state = 'leased' AND c.lease_until < $4)) \
               ORDER BY c.available_at, c.job_id, c.seq LIMIT 1{lock}) \
             RETURNING job_id, seq, items, input_enc, attempts"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(now + lease_ms)
            .bind(now)
            .bind(now)
            .fetch_optional(self.store.pool())
            .await
            .map_err(q("claim chunk"))?;
        let Some(r) = row else { return Ok(None) };
        let lease = Lease {
            job_id: r.try_get("job_id").map_err(q("decode lease"))?,
            seq: r.try_get("seq").map_err(q("decode lease"))?,
            items: r.try_get("items").map_err(q("decode lease"))?,
            input_enc: r.try_get("input_enc").map_err(q("decode lease"))?,
            attempts: r.try_get("attempts").map_err(q("decode lease"))?,
            owner: owner.to_string(),
        };
        sqlx::query(
            "UPDATE jobs SET state = 'running', started_at = $1 WHERE id = $2 AND state = 'queued'",
        )
        .bind(now)
        .bind(&lease.job_id)
        .execute(self.store.pool())
        .await
        .map_err(q("start job"))?;
        Ok(Some(lease))
    }

    /// Extends a lease; false when it is no longer ours.
    pub async fn heartbeat(&self, l: &Lease, lease_ms: i64) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE job_chunks SET lease_until = $1 \
             WHERE job_id = $2 AND seq = $3 AND state = 'leased' AND lease_owner = $4",
        )
        .bind(now_ms() + lease_ms)
        .bind(&l.job_id)
        .bind(l.seq)
        .bind(&l.owner)
        .execute(self.store.pool())
        .await
        .map_err(q("heartbeat"))?;
        Ok(res.rows_affected() == 1)
    }

    /// Writes the chunk's results and its completion atomically.
    /// Writes a chunk's results and progress; `labels_used` (how many labelled examples
    /// decided pairs of the chunk) raises the job's `labels_used` to at least it.
    pub async fn complete(
        &self,
        l: &Lease,
        results: &[String],
        job_type: JobType,
        labels_used: i64,
    ) -> Result<Completed, StoreError> {
        let now = now_ms();
        let mut tx = self
            .store
            .pool()
            .begin()
            .await
            .map_err(q("begin complete"))?;
        let done = sqlx::query(
            "UPDATE job_chunks SET state = 'done', lease_owner = NULL, lease_until = NULL \
             WHERE job_id = $1 AND seq = $2 AND state = 'leased' AND lease_owner = $3",
        )
        .bind(&l.job_id)
        .bind(l.seq)
        .bind(&l.owner)
        .execute(&mut *tx)
        .await
        .map_err(q("finish chunk"))?;
        let bumped = sqlx::query(
            "UPDATE jobs SET done_chunks = done_chunks + 1, done_items = done_items + $1, \
             result_count = result_count + $2, \
             labels_used = CASE WHEN labels_used < $4 THEN $4 ELSE labels_used END \
             WHERE id = $3 AND state = 'running'",
        )
        .bind(l.items)
        .bind(results.len() as i64)
        .bind(&l.job_id)
        .bind(labels_used)
        .execute(&mut *tx)
        .await
        .map_err(q("bump progress"))?;
        if done.rows_affected() != 1 || bumped.rows_affected() != 1 {
            tx.rollback().await.map_err(q("rollback complete"))?;
            return Ok(Completed::Discarded);
        }
        for (idx, payload) in results.iter().enumerate() {
            sqlx::query(
                "INSERT INTO job_results (job_id, seq, idx, payload_enc) VALUES ($1, $2, $3, $4)",
            )
            .bind(&l.job_id)
            .bind(l.seq)
            .bind(idx as i64)
            .bind(payload)
            .execute(&mut *tx)
            .await
            .map_err(q("insert result"))?;
        }
        let finished = sqlx::query(
            "UPDATE jobs SET state = 'succeeded', finished_at = $1 \
             WHERE id = $2 AND state = 'running' AND done_chunks >= total_chunks",
        )
        .bind(now)
        .bind(&l.job_id)
        .execute(&mut *tx)
        .await
        .map_err(q("finish job"))?
        .rows_affected()
            == 1;
        tx.commit().await.map_err(q("commit complete"))?;
        if finished {
            metrics::counter!("kcmf_jobs_total", "type" => job_type.as_str(), "state" => "succeeded")
                .increment(1);
        }
        Ok(Completed::Written {
            job_finished: finished,
        })
    }

    /// Gives a chunk back after a transient failure, due again at `retry_at`.
    pub async fn retry_later(
        &self,
        l: &Lease,
        error: &str,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE job_chunks SET state = 'pending', lease_owner = NULL, lease_until = NULL, \
             available_at = $1, last_error = $2 \
             WHERE job_id = $3 AND seq = $4 AND state = 'leased' AND lease_owner = $5",
        )
        .bind(retry_at)
        .bind(error)
        .bind(&l.job_id)
        .bind(l.seq)
        .bind(&l.owner)
        .execute(self.store.pool())
        .await
        .map_err(q("retry chunk"))?;
        Ok(())
    }

    /// Fails the chunk and its job with a reason. `job_type` labels the metric (`None`:
    /// a type this build does not know, counted as `unknown`).
    pub async fn fail(
        &self,
        l: &Lease,
        error: &str,
        job_type: Option<JobType>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.store.pool().begin().await.map_err(q("begin fail"))?;
        sqlx::query(
            "UPDATE job_chunks SET state = 'failed', lease_owner = NULL, lease_until = NULL, last_error = $1 \
             WHERE job_id = $2 AND seq = $3 AND lease_owner = $4",
        )
        .bind(error)
        .bind(&l.job_id)
        .bind(l.seq)
        .bind(&l.owner)
        .execute(&mut *tx)
        .await
        .map_err(q("fail chunk"))?;
        let n = sqlx::query(
            "UPDATE jobs SET state = 'failed', error = $1, finished_at = $2 \
             WHERE id = $3 AND state IN ('queued', 'running')",
        )
        .bind(format!("chunk {}: {error}", l.seq))
        .bind(now)
        .bind(&l.job_id)
        .execute(&mut *tx)
        .await
        .map_err(q("fail job"))?
        .rows_affected();
        tx.commit().await.map_err(q("commit fail"))?;
        if n == 1 {
            let t = job_type.map_or("unknown", |t| t.as_str());
            metrics::counter!("kcmf_jobs_total", "type" => t, "state" => "failed").increment(1);
        }
        Ok(())
    }

    /// Cancels a job of `key_id`; `None` when no such job, else the state after.
    pub async fn cancel(&self, id: &str, key_id: &str) -> Result<Option<JobRow>, StoreError> {
        let Some(job) = self.get(id, key_id).await? else {
            return Ok(None);
        };
        let n = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $1 \
             WHERE id = $2 AND key_id = $3 AND state IN ('queued', 'running')",
        )
        .bind(now_ms())
        .bind(id)
        .bind(key_id)
        .execute(self.store.pool())
        .await
        .map_err(q("cancel job"))?
        .rows_affected();
        if n == 1 {
            metrics::counter!("kcmf_jobs_total", "type" => JobType::parse(&job.job_type).map(|t| t.as_str()).unwrap_or("unknown"), "state" => "cancelled")
                .increment(1);
        }
        self.get(id, key_id).await
    }

    /// The type and options of job `id` (any owner: the worker running one of its
    /// chunks); `None` when the job row is gone.
    pub async fn job_meta(&self, id: &str) -> Result<Option<JobMeta>, StoreError> {
        let row = sqlx::query("SELECT job_type, options, key_id FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(q("read job meta"))?;
        row.map(|r| {
            Ok(JobMeta {
                job_type: r.try_get("job_type")?,
                options: r.try_get("options")?,
                key_id: r.try_get("key_id")?,
            })
        })
        .transpose()
        .map_err(q("decode job meta"))
    }

    /// A job, only if it belongs to `key_id`.
    pub async fn get(&self, id: &str, key_id: &str) -> Result<Option<JobRow>, StoreError> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1 AND key_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(key_id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(q("get job"))?;
        row.as_ref()
            .map(job_row)
            .transpose()
            .map_err(q("decode job"))
    }

    /// Jobs of `key_id`, newest first, optionally in one state.
    pub async fn list(
        &self,
        key_id: &str,
        state: Option<JobState>,
        limit: i64,
    ) -> Result<Vec<JobRow>, StoreError> {
        let rows = match state {
            Some(s) => {
                let sql = format!(
                    "SELECT {JOB_COLS} FROM jobs WHERE key_id = $1 AND state = $2 ORDER BY created_at DESC, id LIMIT $3"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(key_id)
                    .bind(s.as_str())
                    .bind(limit)
                    .fetch_all(self.store.pool())
                    .await
            }
            None => {
                let sql = format!(
                    "SELECT {JOB_COLS} FROM jobs WHERE key_id = $1 ORDER BY created_at DESC, id LIMIT $2"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(key_id)
                    .bind(limit)
                    .fetch_all(self.store.pool())
                    .await
            }
        }
        .map_err(q("list jobs"))?;
        rows.iter()
            .map(job_row)
            .collect::<Result<_, _>>()
            .map_err(q("decode job"))
    }

    /// One page of a job's results (encrypted payloads), in order.
    pub async fn results(
        &self,
        job_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT payload_enc FROM job_results WHERE job_id = $1 ORDER BY seq, idx LIMIT $2 OFFSET $3",
        )
        .bind(job_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.store.pool())
        .await
        .map_err(q("read results"))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("payload_enc"))
            .collect::<Result<_, _>>()
            .map_err(q("decode result"))
    }

    /// The inputs of job `id`'s chunks (encrypted), in order, only if the job belongs to
    /// `key_id` (the review of a job reads the records it was given).
    pub async fn inputs(&self, id: &str, key_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.input_enc FROM job_chunks c JOIN jobs j ON j.id = c.job_id \
             WHERE c.job_id = $1 AND j.key_id = $2 ORDER BY c.seq",
        )
        .bind(id)
        .bind(key_id)
        .fetch_all(self.store.pool())
        .await
        .map_err(q("read job inputs"))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("input_enc"))
            .collect::<Result<_, _>>()
            .map_err(q("decode job input"))
    }

    /// Chunks waiting or in flight for active jobs.
    pub async fn depth(&self) -> Result<i64, StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM job_chunks c JOIN jobs j ON j.id = c.job_id \
             WHERE c.state IN ('pending', 'leased') AND j.state IN ('queued', 'running')",
        )
        .fetch_one(self.store.pool())
        .await
        .map_err(q("queue depth"))?;
        r.try_get::<i64, _>("n").map_err(q("decode depth"))
    }
}
