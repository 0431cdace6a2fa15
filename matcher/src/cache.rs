//! The result cache: Redis when `REDIS_URL` is set, an in-process LRU otherwise. Values are
//! strings (JSON) with a per-entry TTL. A Redis failure is never an error for the caller:
//! it is logged, counted (`kcmf_cache_errors_total`) and treated as a miss.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::CacheConfig;

/// Bound on one Redis round trip; past it the request goes on uncached.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
const KEY_NAMESPACE: &str = "kcmf:";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("invalid REDIS_URL: {0}")]
    Url(String),
    #[error("redis: {0}")]
    Redis(String),
}

#[derive(Clone)]
struct MemEntry {
    value: Arc<str>,
    expires: Instant,
}

#[derive(Clone)]
enum Backend {
    Disabled,
    Memory(moka::future::Cache<String, MemEntry>),
    Redis(ConnectionManager),
}

#[derive(Clone)]
pub struct Cache {
    backend: Backend,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
}

impl Cache {
    /// Builds the cache. Redis is connected lazily, so start-up does not need it up.
    pub fn new(cfg: &CacheConfig) -> Result<Self, CacheError> {
        let backend = if !cfg.enabled {
            Backend::Disabled
        } else if let Some(url) = &cfg.redis_url {
            let client =
                redis::Client::open(url.as_str()).map_err(|e| CacheError::Url(e.to_string()))?;
            let mcfg = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(REDIS_TIMEOUT))
                .set_response_timeout(Some(REDIS_TIMEOUT))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(2));
            let cm = client
                .get_connection_manager_lazy(mcfg)
                .map_err(|e| CacheError::Redis(e.to_string()))?;
            Backend::Redis(cm)
        } else {
            Backend::Memory(
                moka::future::Cache::builder()
                    .max_capacity(cfg.max_size)
                    .time_to_live(Duration::from_secs(24 * 3600))
                    .build(),
            )
        };
        Ok(Self {
            backend,
            hits: Arc::new(AtomicU64::new(0)),
            misses: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Disabled => "disabled",
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Values live in this process (written by it), not in a shared Redis.
    pub fn is_in_process(&self) -> bool {
        matches!(self.backend, Backend::Memory(_))
    }

    fn record(&self, hit: bool, kind: &'static str) {
        if hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("kcmf_cache_hits_total", "kind" => kind).increment(1);
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("kcmf_cache_misses_total", "kind" => kind).increment(1);
        }
        let h = self.hits.load(Ordering::Relaxed) as f64;
        let m = self.misses.load(Ordering::Relaxed) as f64;
        metrics::gauge!("kcmf_cache_hit_rate").set(if h + m > 0.0 { h / (h + m) } else { 0.0 });
    }

    fn redis_failed(op: &'static str, err: &str) {
        tracing::warn!(op, error = err, "redis cache failed; answering uncached");
        metrics::counter!("kcmf_cache_errors_total", "op" => op).increment(1);
    }

    /// Looks a value up; `kind` labels the metrics (e.g. `entity`, `schema`, `llm`).
    pub async fn get(&self, kind: &'static str, key: &str) -> Option<Arc<str>> {
        let found = match &self.backend {
            Backend::Disabled => return None,
            Backend::Memory(c) => match c.get(key).await {
                Some(e) if e.expires > Instant::now() => Some(e.value),
                Some(_) => {
                    c.invalidate(key).await;
                    None
                }
                None => None,
            },
            Backend::Redis(cm) => {
                let mut cm = cm.clone();
                let k = format!("{KEY_NAMESPACE}{key}");
                match tokio::time::timeout(REDIS_TIMEOUT, cm.get::<_, Option<String>>(k)).await {
                    Ok(Ok(v)) => v.map(Arc::from),
                    Ok(Err(e)) => {
                        Self::redis_failed("get", &e.to_string());
                        None
                    }
                    Err(_) => {
                        Self::redis_failed("get", "timed out");
                        None
                    }
                }
            }
        };
        self.record(found.is_some(), kind);
        found
    }

    /// Stores a value with a TTL in seconds. Failures are logged and counted only.
    pub async fn set(&self, key: &str, value: &str, ttl_secs: u64) {
        match &self.backend {
            Backend::Disabled => {}
            Backend::Memory(c) => {
                c.insert(
                    key.to_string(),
                    MemEntry {
                        value: Arc::from(value),
                        expires: Instant::now() + Duration::from_secs(ttl_secs.max(1)),
                    },
                )
                .await;
            }
            Backend::Redis(cm) => {
                let mut cm = cm.clone();
                let k = format!("{KEY_NAMESPACE}{key}");
                let fut = cm.set_ex::<_, _, ()>(k, value, ttl_secs.max(1));
                match tokio::time::timeout(REDIS_TIMEOUT, fut).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => Self::redis_failed("set", &e.to_string()),
                    Err(_) => Self::redis_failed("set", "timed out"),
                }
            }
        }
    }

    /// Readiness: Redis answers PING (always true for the in-process cache).
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &self.backend {
            Backend::Redis(cm) => {
                let mut cm = cm.clone();
                let cmd = redis::cmd("PING");
                let fut = cmd.query_async::<String>(&mut cm);
                match tokio::time::timeout(REDIS_TIMEOUT, fut).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(CacheError::Redis(e.to_string())),
                    Err(_) => Err(CacheError::Redis("ping timed out".into())),
                }
            }
            _ => Ok(()),
        }
    }
}

/// The same cache serves the engine's LLM responses (`kind` label `llm`).
#[async_trait::async_trait]
impl crate::engine::llm::LlmCache for Cache {
    async fn get(&self, key: &str) -> Option<String> {
        Cache::get(self, "llm", &format!("llm:{key}"))
            .await
            .map(|v| v.to_string())
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) {
        Cache::set(self, &format!("llm:{key}"), value, ttl.as_secs().max(1)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_cache_hits_and_expires() {
        let c = Cache::new(&CacheConfig::default()).unwrap();
        assert!(c.get("t", "k").await.is_none());
        c.set("k", "v", 60).await;
        assert_eq!(c.get("t", "k").await.as_deref(), Some("v"));
        c.set("short", "v", 1).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(c.get("t", "short").await.is_none());
    }

    #[tokio::test]
    async fn unreachable_redis_is_a_miss_not_an_error() {
        let cfg = CacheConfig {
            redis_url: Some("redis://127.0.0.1:1/0".into()),
            ..CacheConfig::default()
        };
        let c = Cache::new(&cfg).unwrap();
        c.set("k", "v", 60).await;
        assert!(c.get("t", "k").await.is_none());
        assert!(c.ping().await.is_err());
    }

    #[test]
    fn bad_url_rejected() {
        let cfg = CacheConfig {
            redis_url: Some("http://nope".into()),
            ..CacheConfig::default()
        };
        assert!(Cache::new(&cfg).is_err());
    }
}
