//! The shared application state handed to every handler: configuration, store, cache,
//! engine, authentication, rate limiter, cipher, the background recorder and stored
//! feedback. Built once by [`crate::server`] and cloned (cheaply) per request.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::Authenticator;
use crate::cache::Cache;
use crate::config::Config;
use crate::crypto::Cipher;
use crate::engine::Engine;
use crate::feedback::FeedbackStore;
use crate::ratelimit::KeyLimiter;
use crate::recorder::Recorder;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub cfg: Arc<Config>,
    pub store: Store,
    pub cache: Cache,
    pub engine: Engine,
    pub auth: Authenticator,
    pub limiter: KeyLimiter,
    pub cipher: Cipher,
    pub recorder: Recorder,
    pub feedback: FeedbackStore,
    pub metrics: PrometheusHandle,
}
