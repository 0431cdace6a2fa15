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
}
