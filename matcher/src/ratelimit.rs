//! Per-API-key rate limiting with `governor` (GCRA): `app.rate_limit` requests per minute
//! for each key, answered 429 with `Retry-After` past the quota; and [`FailureLimiter`],
//! `app.auth_failure_limit` failed authentications per minute per client address and per
//! key id, past which that address or key id is answered 429 without a store lookup until
//! its bucket refills. Counts per process.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

#[derive(Clone)]
pub struct KeyLimiter {
    inner: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl KeyLimiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: Arc::new(RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request for `key`; `Err(RateLimited)` when over quota.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        match self.inner.check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                metrics::counter!("kcmf_rate_limited_total").increment(1);
                Err(ApiError::RateLimited {
                    retry_after_secs: ceil_secs(wait),
                })
            }
        }
    }

    /// Forgets keys whose buckets are full again (bounded memory).
    pub fn shrink(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

/// Most blocked clients remembered at once (oldest dropped first past it).
const MAX_BLOCKED: usize = 100_000;

/// Failed authentications per client address and per key id (see the module docs).
#[derive(Clone)]
pub struct FailureLimiter {
    inner: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    blocked: Arc<Mutex<HashMap<String, Instant>>>,
}

/// Whole seconds, rounded up (`Retry-After`).
fn ceil_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// [`ceil_secs`], at least one: a blocked client always waits.
fn retry_secs(wait: Duration) -> u64 {
    ceil_secs(wait).max(1)
}

impl FailureLimiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: Arc::new(RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            blocked: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// `Err(RateLimited)` when one of `who` (`ip:…`, `id:…`) is blocked now.
    pub fn check(&self, who: &[String]) -> Result<(), ApiError> {
        let Ok(blocked) = self.blocked.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let wait = who
            .iter()
            .filter_map(|w| blocked.get(w))
            .filter(|until| **until > now)
            .map(|until| *until - now)
            .max();
        match wait {
            Some(w) => {
                metrics::counter!("kcmf_auth_failures_total", "result" => "blocked").increment(1);
                Err(ApiError::RateLimited {
                    retry_after_secs: retry_secs(w),
                })
            }
            None => Ok(()),
        }
    }

    /// Counts one failed authentication for each of `who`; the answer: 401, or 429 for
    /// those now past their quota (blocked until their bucket refills).
    pub fn failed(&self, who: &[String]) -> ApiError {
        metrics::counter!("kcmf_auth_failures_total", "result" => "unauthorized").increment(1);
        let mut worst: Option<Duration> = None;
        for w in who {
            if let Err(not_until) = self.inner.check_key(w) {
                let wait = not_until.wait_time_from(self.clock.now());
                if let Ok(mut blocked) = self.blocked.lock() {
                    if blocked.len() >= MAX_BLOCKED {
                        let now = Instant::now();
                        blocked.retain(|_, until| *until > now);
                    }
                    if blocked.len() < MAX_BLOCKED {
                        blocked.insert(w.clone(), Instant::now() + wait);
                    }
                }
                worst = worst.max(Some(wait));
            }
        }
        match worst {
            Some(w) => ApiError::RateLimited {
                retry_after_secs: retry_secs(w),
            },
            None => ApiError::Unauthorized,
        }
    }

    /// Forgets refilled buckets and expired blocks (bounded memory).
    pub fn shrink(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
        if let Ok(mut blocked) = self.blocked.lock() {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_per_key() {
        let l = KeyLimiter::per_minute(3);
        for _ in 0..3 {
            l.check("a").unwrap();
        }
        match l.check("a") {
            Err(ApiError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        l.check("b").unwrap();
    }

    #[test]
    fn failed_authentications_block_the_address_and_the_key_id() {
        let l = FailureLimiter::per_minute(3);
        let who = vec!["ip:10.0.0.1".to_string(), "id:abc".to_string()];
        for _ in 0..3 {
            assert!(l.check(&who).is_ok());
            assert!(matches!(l.failed(&who), ApiError::Unauthorized));
        }
        assert!(matches!(l.failed(&who), ApiError::RateLimited { .. }));
        // blocked now: no lookup for either the address or the key id
        assert!(l.check(&["ip:10.0.0.1".to_string()]).is_err());
        assert!(
            l.check(&["ip:10.0.0.9".to_string(), "id:abc".to_string()])
                .is_err()
        );
        // another address with another key id is not affected
        assert!(
            l.check(&["ip:10.0.0.2".to_string(), "id:xyz".to_string()])
                .is_ok()
        );
    }
}
