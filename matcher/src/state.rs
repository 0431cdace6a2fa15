//! The shared application state handed to every handler: configuration, store, cache,
//! engine, authentication, rate limiter, cipher, the background recorder and stored
//! feedback. Built once by [`crate::server`] and cloned per request: the clone is one
//! reference-count increment (axum clones the state for every extractor and middleware
//! that asks for it, so a struct of a dozen `Arc`s cost measurably more on the hot path).

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::Authenticator;
use crate::cache::Cache;
use crate::config::Config;
use crate::crypto::Cipher;
use crate::engine::Engine;
use crate::feedback::FeedbackStore;
use crate::ratelimit::{FailureLimiter, KeyLimiter};
use crate::recorder::Recorder;
use crate::store::Store;

/// A dedup job's review fitted under one generation of its tenant's labels
/// ([`crate::engine::review`]): the job's records and the review of the most pairs a page
/// asks for (a smaller page is a prefix: pairs come nearest the threshold first).
pub struct FittedReview {
    pub ids: Vec<String>,
    pub records: Vec<crate::engine::Record>,
    pub threshold: f64,
    pub out: crate::engine::review::ReviewOutput,
}

/// Fitted reviews by (job id, label generation): paging through a review or labelling with
/// it open does not re-block and re-fit EM on each request, while a new label (a new
/// generation) does. Bounded by the records held (see [`review_cache`]).
pub type ReviewCache = moka::future::Cache<(String, u64), Arc<FittedReview>>;

/// Most records the fitted reviews hold together (a few jobs of tens of thousands); an
/// entry idle for ten minutes goes.
pub const REVIEW_CACHE_RECORDS: u64 = 200_000;

/// An empty [`ReviewCache`].
pub fn review_cache() -> ReviewCache {
    moka::future::Cache::builder()
        .max_capacity(REVIEW_CACHE_RECORDS)
        .weigher(|_, v: &Arc<FittedReview>| {
            u32::try_from(v.records.len().max(1)).unwrap_or(u32::MAX)
        })
        .time_to_idle(std::time::Duration::from_secs(600))
        .build()
}

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wraps the parts built at start-up.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler shares (reached through [`AppState`]'s `Deref`).
pub struct Shared {
    pub cfg: Arc<Config>,
    pub store: Store,
    pub cache: Cache,
    pub engine: Engine,
    pub auth: Authenticator,
    pub limiter: KeyLimiter,
    pub auth_failures: FailureLimiter,
    /// Slots for matching on blocking threads (see `api::matching`): one per core, two
    /// at least.
    pub heavy: std::sync::Arc<tokio::sync::Semaphore>,
    pub cipher: Cipher,
    pub recorder: Recorder,
    pub feedback: FeedbackStore,
    pub metrics: PrometheusHandle,
    /// Fitted job reviews ([`ReviewCache`]).
    pub reviews: ReviewCache,
}
