//! Per-API-key rate limiting with `governor` (GCRA): `app.rate_limit` requests per minute
//! for each key, answered 429 with `Retry-After` past the quota. Counts per process.

use std::num::NonZeroU32;
use std::sync::Arc;

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
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
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
}
