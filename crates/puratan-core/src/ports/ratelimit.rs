use std::time::Duration;

use async_trait::async_trait;

use crate::Result;

/// `limit` requests per `period`, with bursts up to `limit` (GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
}

impl Quota {
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            period: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitDecision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// When the client may retry (zero if allowed).
    pub retry_after: Duration,
    /// Until the budget is fully replenished.
    pub reset_after: Duration,
}

/// One atomic check-and-count per call: under any concurrency exactly
/// `limit` calls in a burst are allowed, the next is refused, and budget
/// refills at `limit / period`.
#[async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    async fn check(&self, key: &str, quota: Quota) -> Result<RateLimitDecision>;
}
