//! Job workers: each loop leases a chunk, renews the lease with heartbeats while the
//! engine works, and completes it (results + progress in one transaction). Transient
//! failures (the store unreachable, LLM 429/5xx) are retried with exponential backoff; a
//! chunk that keeps failing fails its job with the reason, and so, at once, does anything
//! retrying cannot mend: a query or decoding error, a job type this build does not know, a
//! chunk of another kind than its job. `kcmf-matcher worker` runs only these
//! loops; `serve` runs them in-process unless `app.inprocess_workers` is false.
//!
//! A dedup or link chunk uses the job's own examples and the stored feedback of the
//! submitting key's tenant, read from the store when the chunk runs (this process may not
//! be the one that took the feedback); the labels decide the pairs they name
//! ([`crate::engine::labels`]) and the job records how many did (`labels_used`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::queue::{Completed, Lease, Queue};
use super::{ChunkInput, JobOptions, JobType};
use crate::config::MatchingConfig;
use crate::crypto::Cipher;
use crate::engine::{Engine, EngineError, linkage};
use crate::store::{StoreError, now_ms};

/// Idle poll interval.
const POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error("chunk payload unreadable: {0}")]
    Payload(String),
    #[error("the job's row is gone")]
    JobGone,
    #[error(
        "unknown job type `{0}` (this worker runs schema_batch, entity_match, dedup and link): not run"
    )]
    UnknownJobType(String),
    #[error("a `{chunk}` chunk in a `{job_type}` job: not run")]
    ChunkKind {
        job_type: &'static str,
        chunk: &'static str,
    },
}

impl WorkError {
    /// Worth another attempt: the store could not be reached, or the LLM backbone failed
    /// (the input itself is fine). A query or decoding error would fail the same way again.
    fn transient(&self) -> bool {
        match self {
            WorkError::Store(StoreError::Unavailable(_)) => true,
            WorkError::Engine(EngineError::Backbone { .. }) => true,
            WorkError::Store(_)
            | WorkError::Engine(_)
            | WorkError::Payload(_)
            | WorkError::JobGone
            | WorkError::UnknownJobType(_)
            | WorkError::ChunkKind { .. } => false,
        }
    }
}

#[derive(Clone)]
pub struct WorkerCtx {
    /// While a restore holds the maintenance flag, no chunk is claimed.
    pub maintenance: crate::backup::maintenance::MaintenanceFlag,
    pub queue: Queue,
    pub engine: Engine,
    pub cipher: Cipher,
    pub matching: MatchingConfig,
}

/// Starts `n` worker loops; they stop claiming when `stop` turns true.
pub fn spawn(ctx: WorkerCtx, n: usize, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    let pid = std::process::id();
    let depth_ctx = ctx.clone();
    let mut stop_depth = stop.clone();
    let mut handles = vec![tokio::spawn(async move {
        loop {
            if let Ok(d) = depth_ctx.queue.depth().await {
                metrics::gauge!("kcmf_job_queue_depth").set(d as f64);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {},
                _ = stop_depth.wait_for(|s| *s) => break,
            }
        }
    })];
    for i in 0..n.max(1) {
        let owner = format!("{host}:{pid}:{i}:{}", uuid::Uuid::new_v4().simple());
        handles.push(tokio::spawn(run_loop(ctx.clone(), owner, stop.clone())));
    }
    handles
}

async fn run_loop(ctx: WorkerCtx, owner: String, mut stop: watch::Receiver<bool>) {
    let lease_ms = (ctx.matching.lease_secs * 1000) as i64;
    loop {
        if *stop.borrow() {
            break;
        }
        if ctx.maintenance.is_on() {
            tokio::select! {
                _ = tokio::time::sleep(POLL * 4) => continue,
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        match ctx.queue.claim(&owner, lease_ms).await {
            Ok(Some(lease)) => {
                process(&ctx, lease, lease_ms).await;
                if ctx.matching.chunk_pause_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(ctx.matching.chunk_pause_ms)).await;
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {},
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming a chunk failed");
                tokio::select! {
                    _ = tokio::time::sleep(POLL * 4) => {},
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        }
    }
}

/// What a chunk runs by: its job's type, options and submitting key.
struct Meta {
    job_type: JobType,
    options: JobOptions,
    key_id: String,
}

/// The chunk's job type, options and key; an unknown type is refused.
async fn job_meta(ctx: &WorkerCtx, job_id: &str) -> Result<Meta, WorkError> {
    let meta = ctx
        .queue
        .job_meta(job_id)
        .await?
        .ok_or(WorkError::JobGone)?;
    let t = JobType::parse(&meta.job_type).ok_or(WorkError::UnknownJobType(meta.job_type))?;
    let o = serde_json::from_str(&meta.options)
        .map_err(|e| WorkError::Payload(format!("job options: {e}")))?;
    Ok(Meta {
        job_type: t,
        options: o,
        key_id: meta.key_id,
    })
}

async fn process(ctx: &WorkerCtx, lease: Lease, lease_ms: i64) {
    let start = Instant::now();
    let meta = job_meta(ctx, &lease.job_id).await;
    let job_type = meta.as_ref().ok().map(|m| m.job_type);
    // Heartbeats keep the lease while the engine works.
    let hb_queue = ctx.queue.clone();
    let hb_lease = lease.clone();
    let heartbeat = tokio::spawn(async move {
        let every = Duration::from_millis((lease_ms / 3).max(500) as u64);
        loop {
            tokio::time::sleep(every).await;
            match hb_queue.heartbeat(&hb_lease, lease_ms).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(error = %e, "lease heartbeat failed"),
            }
        }
    });
    let outcome = match meta {
        Ok(m) => execute(ctx, &lease, &m)
            .await
            .map(|done| (m.job_type, done)),
        Err(e) => Err(e),
    };
    heartbeat.abort();
    let result = match outcome {
        Ok((t, done)) => ctx
            .queue
            .complete(&lease, &done.rows, t, done.labels_used as i64)
            .await
            .map(|c| {
                if c == Completed::Discarded {
                    tracing::info!(job = %lease.job_id, seq = lease.seq, "chunk discarded: lease lost or job cancelled");
                }
            }),
        Err(e) if e.transient() && lease.attempts < i64::from(ctx.matching.max_attempts) => {
            let backoff = 500i64 * 2i64.pow((lease.attempts.clamp(1, 10) - 1) as u32);
            tracing::warn!(job = %lease.job_id, seq = lease.seq, attempt = lease.attempts, error = %e, "chunk failed; retrying");
            ctx.queue
                .retry_later(&lease, &e.to_string(), now_ms() + backoff.min(60_000))
                .await
        }
        Err(e) => {
            tracing::error!(job = %lease.job_id, seq = lease.seq, error = %e, "chunk failed for good; failing the job");
            ctx.queue.fail(&lease, &e.to_string(), job_type).await
        }
    };
    if let Err(e) = result {
        // The lease will expire and another worker will take the chunk again.
        tracing::warn!(error = %e, "could not record the chunk's outcome");
    }
    let label = job_type.map_or("unknown", |t| t.as_str());
    metrics::histogram!("kcmf_job_chunk_duration_seconds", "type" => label)
        .record(start.elapsed().as_secs_f64());
}

fn to_payloads(ctx: &WorkerCtx, rows: Vec<serde_json::Value>) -> Result<Vec<String>, WorkError> {
    rows.into_iter()
        .map(|v| {
            serde_json::to_vec(&v)
                .map(|b| ctx.cipher.encrypt(&b))
                .map_err(|e| WorkError::Payload(e.to_string()))
        })
        .collect()
}

/// The job type a chunk belongs to.
/// Runs a chunk's matching on a blocking thread that drives the engine's future itself, so
/// the embedded backbone's CPU-bound work never holds a runtime worker (the API served by
/// the same process keeps answering).
async fn off_the_workers<T, F>(work: F) -> Result<T, WorkError>
where
    T: Send + 'static,
    F: FnOnce(&tokio::runtime::Handle) -> T + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || work(&handle))
        .await
        .map_err(|e| WorkError::Payload(format!("matching task: {e}")))
}

fn chunk_kind(input: &ChunkInput) -> JobType {
    match input {
        ChunkInput::EntityMatch { .. } => JobType::EntityMatch,
        ChunkInput::SchemaBatch { .. } => JobType::SchemaBatch,
        ChunkInput::Dedup { .. } => JobType::Dedup,
        ChunkInput::Link { .. } => JobType::Link,
    }
}

/// A chunk's outcome: its result rows (encrypted JSON) and how many labelled examples
/// decided pairs of it.
struct Done {
    rows: Vec<String>,
    labels_used: usize,
}

/// The examples a dedup or link chunk uses: the job's own (`options.examples`, first:
/// they win over stored ones naming the same pair), then the stored examples of the
/// job's key's tenant, newest first. Another tenant's never enter.
async fn chunk_examples(
    ctx: &WorkerCtx,
    key_id: &str,
    mut own: Vec<crate::engine::EntityExample>,
) -> Result<Vec<crate::engine::EntityExample>, WorkError> {
    let stored =
        crate::feedback::entity_examples_of_key(ctx.queue.store(), &ctx.cipher, key_id).await?;
    own.extend(stored);
    Ok(own)
}

/// Runs one chunk of a job through the engine. A chunk of another kind than its job is
/// refused.
async fn execute(ctx: &WorkerCtx, lease: &Lease, meta: &Meta) -> Result<Done, WorkError> {
    let (job_type, opts) = (meta.job_type, &meta.options);
    let plain = ctx
        .cipher
        .decrypt(&lease.input_enc)
        .map_err(|e| WorkError::Payload(e.to_string()))?;
    let input: ChunkInput =
        serde_json::from_slice(&plain).map_err(|e| WorkError::Payload(e.to_string()))?;
    let chunk = chunk_kind(&input);
    if chunk != job_type {
        return Err(WorkError::ChunkKind {
            job_type: job_type.as_str(),
            chunk: chunk.as_str(),
        });
    }
    let bad = |e: crate::requests::RequestError| WorkError::Payload(e.to_string());
    let mut labels_used = 0;
    let rows = match input {
        ChunkInput::EntityMatch { offset, pairs } => {
            let eopts = opts.entity().map_err(bad)?;
            let engine = ctx.engine.clone();
            let res = off_the_workers(move |h| h.block_on(engine.match_entities(&pairs, &eopts)))
                .await??;
            res.into_iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({"index": offset + i, "match": r.is_match, "score": r.score, "rule": r.rule, "reasoning": r.reasoning})
                })
                .collect()
        }
        ChunkInput::SchemaBatch { offset, pairs } => {
            let sopts = opts.schema().map_err(bad)?;
            let engine = ctx.engine.clone();
            off_the_workers(move |h| {
                let mut rows = Vec::with_capacity(pairs.len());
                for (i, p) in pairs.iter().enumerate() {
                    let m = h.block_on(engine.match_schema(&p.source, &p.target, &sopts))?;
                    rows.push(json!({"index": offset + i, "source": p.source.name, "target": p.target.name, "matches": m}));
                }
                Ok::<_, EngineError>(rows)
            })
            .await??
        }
        ChunkInput::Dedup { ids, records } => {
            let own = opts.entity().map_err(bad)?.examples;
            let dopts = crate::engine::DedupOptions {
                threshold: opts.threshold,
                split_threshold: opts.split_threshold,
                examples: chunk_examples(ctx, &meta.key_id, own).await?,
            };
            let engine = ctx.engine.clone();
            let r =
                off_the_workers(move |h| h.block_on(engine.dedup(&ids, &records, dopts))).await??;
            labels_used = r.labels_used as usize;
            r.clusters
                .into_iter()
                .enumerate()
                .map(|(k, ids)| json!({"cluster": k, "ids": ids}))
                .collect()
        }
        ChunkInput::Link {
            left_ids,
            left,
            right_ids,
            right,
        } => {
            let eopts = opts.entity().map_err(bad)?;
            let lopts = linkage::LinkOptions {
                threshold: opts.threshold.unwrap_or(ctx.matching.entity_threshold),
                column_map: opts
                    .column_map
                    .as_ref()
                    .map(|m| m.iter().map(|(l, r)| (l.clone(), r.clone())).collect()),
                ..linkage::LinkOptions::default()
            };
            let examples = Arc::new(chunk_examples(ctx, &meta.key_id, eopts.examples).await?);
            let (rows, used) = tokio::task::spawn_blocking(move || {
                let o = linkage::link(&left, &right, &examples, &lopts)?;
                Ok::<_, EngineError>((
                    o.matches()
                        .map(|p| {
                            json!({"left": left_ids[p.left], "right": right_ids[p.right], "score": p.probability, "rule": p.rule})
                        })
                        .collect::<Vec<_>>(),
                    o.labels_used,
                ))
            })
            .await
            .map_err(|e| WorkError::Payload(format!("link task: {e}")))??;
            labels_used = used;
            rows
        }
    };
    Ok(Done {
        rows: to_payloads(ctx, rows)?,
        labels_used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DatabaseConfig, LlmConfig};
    use crate::jobs::queue::JobRow;
    use crate::jobs::{JobRequest, prepare};
    use crate::store::{Store, q};

    #[test]
    fn only_connectivity_errors_are_retried() {
        let store = |e| WorkError::Store(q("job meta")(e));
        assert!(store(sqlx::Error::PoolTimedOut).transient());
        assert!(store(sqlx::Error::Io(std::io::Error::other("reset"))).transient());
        assert!(!store(sqlx::Error::RowNotFound).transient());
        assert!(!store(sqlx::Error::ColumnNotFound("options".into())).transient());
        assert!(!store(sqlx::Error::Decode("not a string".into())).transient());
    }

    async fn ctx(dir: &std::path::Path) -> WorkerCtx {
        let store = Store::connect(&DatabaseConfig {
            data_dir: dir.to_path_buf(),
            ..DatabaseConfig::default()
        })
        .await
        .expect("store");
        store.migrate().await.expect("migrate");
        WorkerCtx {
            maintenance: Default::default(),
            queue: Queue::new(store),
            engine: Engine::new(&LlmConfig::default(), &MatchingConfig::default()).expect("engine"),
            cipher: Cipher::from_secret("worker-test").expect("cipher"),
            matching: MatchingConfig::default(),
        }
    }

    /// Queues a one-chunk entity job, gives its row the type `job_type`, runs the chunk
    /// once; returns the job row after.
    async fn run_as(job_type: &str) -> JobRow {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ctx = ctx(tmp.path()).await;
        let req: JobRequest = serde_json::from_value(json!({
            "type": "entity_match",
            "input": {"pairs": [{"left": {"name": "Asahi Ramen"}, "right": {"name": "Asahi Ramen"}}]}
        }))
        .expect("request");
        let job = prepare(req, 10).expect("prepared");
        let id = ctx
            .queue
            .enqueue("k", &job, &ctx.cipher)
            .await
            .expect("enqueue");
        sqlx::query("UPDATE jobs SET job_type = $1 WHERE id = $2")
            .bind(job_type)
            .bind(&id)
            .execute(ctx.queue.store().pool())
            .await
            .expect("relabel");
        let lease = ctx
            .queue
            .claim("test", 60_000)
            .await
            .expect("claim")
            .expect("a chunk");
        process(&ctx, lease, 60_000).await;
        ctx.queue
            .get(&id, "k")
            .await
            .expect("get")
            .expect("the job")
    }

    #[tokio::test]
    async fn the_chunk_runs_as_its_job_type() {
        let j = run_as("entity_match").await;
        assert_eq!(
            (j.state.as_str(), j.result_count),
            ("succeeded", 1),
            "{j:?}"
        );
    }

    #[tokio::test]
    async fn an_unknown_job_type_fails_the_job_without_running_it() {
        let j = run_as("bogus").await;
        assert_eq!((j.state.as_str(), j.result_count), ("failed", 0), "{j:?}");
        let error = j.error.unwrap_or_default();
        assert!(error.contains("unknown job type `bogus`"), "{error}");
    }

    #[tokio::test]
    async fn a_chunk_of_another_kind_than_its_job_is_refused() {
        let j = run_as("schema_batch").await;
        assert_eq!((j.state.as_str(), j.result_count), ("failed", 0), "{j:?}");
        let error = j.error.unwrap_or_default();
        assert!(
            error.contains("schema_batch") && error.contains("entity_match"),
            "{error}"
        );
    }
}
