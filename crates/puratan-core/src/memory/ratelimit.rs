use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::Result;
use crate::gcra;
use crate::ports::{Quota, RateLimitDecision, RateLimitStore};

/// Per-process GCRA limiter. Memory stays bounded: keys whose budget is
/// fully replenished carry no information and are pruned periodically.
#[derive(Debug)]
pub struct MemoryRateLimiter {
    epoch: Instant,
    tats: Mutex<HashMap<String, u64>>,
    checks: AtomicU64,
}

impl MemoryRateLimiter {
    const PRUNE_EVERY: u64 = 4096;

    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            tats: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }
    }

    fn now_us(&self) -> u64 {
        // Offset so "no history" (tat = now) never underflows.
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX) + 1_000_000_000
    }

    /// Synchronous check, for callers already on a hot path.
    pub fn check_now(&self, key: &str, quota: Quota) -> RateLimitDecision {
        let now = self.now_us();
        let mut tats = self.tats.lock();
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(Self::PRUNE_EVERY)
        {
            tats.retain(|_, tat| *tat > now);
        }
        let (decision, new_tat) = gcra::check(tats.get(key).copied(), now, quota);
        if let Some(t) = new_tat {
            // Known keys are updated in place: no allocation per request.
            match tats.get_mut(key) {
                Some(tat) => *tat = t,
                None => {
                    tats.insert(key.to_owned(), t);
                }
            }
        }
        decision
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl RateLimitStore for MemoryRateLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Result<RateLimitDecision> {
        Ok(self.check_now(key, quota))
    }
}
