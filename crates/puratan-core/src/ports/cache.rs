use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::Result;

/// A byte cache with per-entry TTL. Values are opaque bytes so callers pick
/// their own encoding; keys are namespaced by the adapter.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Bytes>>;
    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<()>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Hit/miss counters of this process since start.
    fn stats(&self) -> CacheStats;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}
