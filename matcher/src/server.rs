//! Start-up and serving: builds the [`AppState`] from the configuration (store + migrations,
//! secret ([`crate::secret`]), first admin key, cache, engine), then serves the router until
//! SIGTERM/SIGINT through [`crate::http::serve`] (connection cap, header-read and idle
//! timeouts), letting in-flight requests finish (graceful shutdown) and draining the
//! recorder.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderName;

use crate::api;
use crate::auth::{Authenticator, Role};
use crate::cache::Cache;
use crate::config::Config;
use crate::crypto::{Cipher, generate_key};
use crate::engine::Engine;
use crate::feedback::FeedbackStore;
use crate::ratelimit::{FailureLimiter, KeyLimiter};
use crate::recorder::Recorder;
use crate::state::{AppState, Shared};
use crate::store::{Store, StoreError};
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Telemetry(#[from] telemetry::TelemetryError),
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
    #[error("config: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Connects the store and applies migrations.
pub async fn open_store(cfg: &Config) -> Result<Store, StartError> {
    let store = Store::connect(&cfg.database).await?;
    store.migrate().await?;
    Ok(store)
}

/// [`open_store`] for `serve`: an unreachable PostgreSQL is tried again with backoff
/// (0.5 s doubling to 5 s) for up to `database.connect_wait_secs` in all, each try logged
/// (an embedded SQLite file that cannot be opened will not open later: no wait).
pub async fn open_store_waiting(cfg: &Config) -> Result<Store, StartError> {
    let remote = cfg
        .database
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"));
    if !remote {
        return open_store(cfg).await;
    }
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_secs(cfg.database.connect_wait_secs);
    let mut pause = std::time::Duration::from_millis(500);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let tried = tokio::time::timeout(left.max(pause), Store::connect(&cfg.database))
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(format!(
                    "connect: no connection within database.connect_wait_secs ({} s)",
                    cfg.database.connect_wait_secs
                )))
            });
        match tried {
            Ok(store) => {
                store.migrate().await?;
                return Ok(store);
            }
            Err(StoreError::Unavailable(e)) if tokio::time::Instant::now() + pause < deadline => {
                tracing::warn!(error = %e, retry_in = ?pause, "database not reachable yet: waiting (database.connect_wait_secs)");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// On first start with no key at all, creates an admin key and prints it once on stderr.
pub async fn bootstrap_key(cfg: &Config, store: &Store) -> Result<(), StartError> {
    if !cfg.app.valid_api_keys.is_empty() || store.count_active_keys().await? > 0 {
        return Ok(());
    }
    let k = generate_key();
    store
        .insert_key(&k.id, "bootstrap-admin", &k.hash, Role::Admin.as_str())
        .await?;
    eprintln!(
        "\nCreated the first admin API key (shown once, only its hash is stored):\n\n    {}\n\nSend it in the `{}` header.\n",
        k.plain, cfg.app.api_key_header
    );
    Ok(())
}

/// Builds the application state (everything but the HTTP listener).
pub async fn build_state(
    cfg: Config,
) -> Result<(AppState, tokio::task::JoinHandle<()>), StartError> {
    let metrics = telemetry::init_metrics()?;
    let store = open_store_waiting(&cfg).await?;
    let secret = crate::secret::resolve(&cfg, &store).await?;
    let cipher = Cipher::from_secret(&secret)?;
    bootstrap_key(&cfg, &store).await?;
    let cache = Cache::new(&cfg.cache)?;
    let engine =
        Engine::new(&cfg.llm, &cfg.matching)?.with_llm_cache(std::sync::Arc::new(cache.clone()));
    let header = HeaderName::from_bytes(cfg.app.api_key_header.as_bytes())
        .map_err(|e| StartError::Config(format!("app.api_key_header: {e}")))?;
    let auth = Authenticator::new(store.clone(), header, &cfg.app.valid_api_keys);
    let limiter = KeyLimiter::per_minute(cfg.app.rate_limit);
    let auth_failures = FailureLimiter::per_minute(cfg.app.auth_failure_limit);
    let (recorder, recorder_task) = Recorder::start(store.clone());
    let feedback = FeedbackStore::load(store.clone(), cipher.clone()).await?;
    Ok((
        AppState::new(Shared {
            cfg: Arc::new(cfg),
            store,
            cache,
            engine,
            auth,
            limiter,
            auth_failures,
            heavy: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(2)
                    .max(2),
            )),
            cipher,
            recorder,
            feedback,
            metrics,
            reviews: crate::state::review_cache(),
        }),
        recorder_task,
    ))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}

async fn bind(host: &str, port: u16) -> Result<tokio::net::TcpListener, StartError> {
    let addr = format!("{host}:{port}");
    tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

/// Runs `serve` until a shutdown signal.
pub async fn serve(cfg: Config) -> Result<(), StartError> {
    let host = cfg.app.host.clone();
    let port = cfg.app.port;
    let metrics_port = cfg.monitoring.metrics_port;
    let limits = crate::http::Limits::from_config(&cfg.app);
    let (state, recorder_task) = build_state(cfg).await?;
    let listener = bind(&host, port).await?;
    let local: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(addr = ?local, store = state.store.backend().as_str(), cache = state.cache.kind(),
        backbone = %state.engine.backbone_name(), "kcmf-matcher listening");
    if let Some(mp) = metrics_port.filter(|p| *p != port) {
        let ml = bind(&host, mp).await?;
        let mr = api::metrics_router(state.clone());
        // Its connections end with the process; the cap is its own, so a flood of API
        // connections does not stop the scrapes.
        tokio::spawn(crate::http::serve(
            ml,
            mr,
            limits,
            "metrics",
            std::future::pending(),
        ));
    }
    let limiter = state.limiter.clone();
    let auth_failures = state.auth_failures.clone();
    let sweeper = tokio::spawn(async move {
        let mut t = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            t.tick().await;
            limiter.shrink();
            auth_failures.shrink();
        }
    });
    let maintenance = crate::backup::maintenance::MaintenanceFlag::watch(
        state.store.pool().clone(),
        &state.cfg.cache,
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = if state.cfg.app.inprocess_workers {
        let n = state.cfg.matching.max_parallel.min(4);
        tracing::info!(workers = n, "starting in-process job workers");
        crate::jobs::worker::spawn(worker_ctx(&state, maintenance.clone()), n, stop_rx)
    } else {
        Vec::new()
    };
    let store = state.store.clone();
    let app = api::router(state).layer(axum::middleware::from_fn_with_state(
        maintenance,
        crate::backup::maintenance::guard,
    ));
    crate::http::serve(listener, app, limits, "api", shutdown_signal()).await;
    sweeper.abort();
    let _ = stop_tx.send(true);
    for w in workers {
        // A chunk still running past this is picked up again when its lease expires.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), w).await;
    }
    // The router (and with it every Recorder clone) is gone: the writer drains and ends.
    if tokio::time::timeout(std::time::Duration::from_secs(10), recorder_task)
        .await
        .is_err()
    {
        tracing::warn!("request log did not drain within 10 s");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn worker_ctx(
    state: &AppState,
    maintenance: crate::backup::maintenance::MaintenanceFlag,
) -> crate::jobs::worker::WorkerCtx {
    crate::jobs::worker::WorkerCtx {
        maintenance,
        queue: crate::jobs::queue::Queue::new(state.store.clone()),
        engine: state.engine.clone(),
        cipher: state.cipher.clone(),
        matching: state.cfg.matching.clone(),
    }
}

/// Runs job workers only (`kcmf-matcher worker`) until a shutdown signal.
pub async fn work(cfg: Config) -> Result<(), StartError> {
    let (state, recorder_task) = build_state(cfg).await?;
    let n = state.cfg.matching.max_parallel;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tracing::info!(
        workers = n,
        store = state.store.backend().as_str(),
        "kcmf-matcher worker started"
    );
    let maintenance = crate::backup::maintenance::MaintenanceFlag::watch(
        state.store.pool().clone(),
        &state.cfg.cache,
    );
    let workers = crate::jobs::worker::spawn(worker_ctx(&state, maintenance), n, stop_rx);
    shutdown_signal().await;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), w).await;
    }
    let store = state.store.clone();
    drop(state);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), recorder_task).await;
    store.close().await;
    Ok(())
}
