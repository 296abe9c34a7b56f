//! Redis adapter: [`Cache`], [`SessionStore`] and [`RateLimitStore`] shared
//! by every replica.
//!
//! One [`RedisBackend`] holds one multiplexed, auto-reconnecting connection
//! (`redis::aio::ConnectionManager`); the three ports are cheap views on it.
//! Every key is `{key_prefix}:{kind}:{key}` (`puratan:cache:product:abc`,
//! `puratan:session:…`, `puratan:user-sessions:…`, `puratan:deny:…`,
//! `puratan:one-time:…`, `puratan:ratelimit:…`).
//!
//! Needs Redis >= 7.0 (`GETDEL`, `PEXPIRE … NX|GT`).

mod cache;
mod config;
mod error;
mod ratelimit;
mod session;

use std::sync::Arc;
use std::time::Duration;

use puratan_core::ports::{Cache, RateLimitStore, SessionStore};
use puratan_core::{Error, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use config::RedisConfig;

use cache::RedisCache;
use ratelimit::RedisRateLimiter;
use session::RedisSessionStore;

/// A connection to Redis and the ports built on it. Clones share the
/// connection and the cache's hit/miss counters.
#[derive(Clone)]
pub struct RedisBackend {
    shared: Shared,
    cache: Arc<RedisCache>,
    sessions: Arc<RedisSessionStore>,
    rate_limiter: Arc<RedisRateLimiter>,
}

/// What every port needs: the connection and the key prefix.
#[derive(Clone)]
pub(crate) struct Shared {
    manager: ConnectionManager,
    prefix: Arc<str>,
}

impl Shared {
    /// A handle for one command (clones are cheap and share the socket).
    fn conn(&self) -> ConnectionManager {
        self.manager.clone()
    }

    fn key(&self, kind: &str, key: &str) -> String {
        format!("{}:{kind}:{key}", self.prefix)
    }
}

/// Longest TTL sent to Redis (100 years): it refuses expiry times that
/// overflow its clock.
const MAX_PX_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// A TTL as whole milliseconds for `PX`, rounded up so a sub-millisecond
/// TTL still expires, capped at [`MAX_PX_MS`]; `None` for zero (already
/// expired).
fn px(ttl: Duration) -> Option<u64> {
    if ttl.is_zero() {
        return None;
    }
    Some(u64::try_from(ttl.as_micros().div_ceil(1000)).map_or(MAX_PX_MS, |ms| ms.min(MAX_PX_MS)))
}

impl RedisBackend {
    /// Connects (within `connect_timeout_ms`) and checks the server answers.
    ///
    /// Fails with `Unavailable { retryable: true }` if Redis cannot be
    /// reached in time, `Invalid` for a malformed URL.
    pub async fn connect(config: &RedisConfig) -> Result<Self> {
        let timeout = config.connect_timeout();
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| Error::invalid("redis.url", format!("{e} ({})", config.redacted_url())))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            // Commands get at least 2 s: a busy server must not look down.
            .set_response_timeout(Some(timeout.max(Duration::from_secs(2))))
            // A lost connection is re-opened in the background; commands
            // meanwhile wait for at most two quick attempts (~100 ms, then
            // ~200 ms) and then fail with `Unavailable`, so a Redis outage
            // costs a request a fraction of a second, not a hang.
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = tokio::time::timeout(
            timeout,
            ConnectionManager::new_with_config(client, manager_config),
        )
        .await
        .map_err(|_| {
            Error::unavailable(
                error::BACKEND,
                format!(
                    "no connection to {} within {timeout:?}",
                    config.redacted_url()
                ),
                true,
            )
        })?
        .map_err(error::map)?;
        let shared = Shared {
            manager,
            prefix: Arc::from(config.key_prefix.as_str()),
        };
        let backend = Self {
            cache: Arc::new(RedisCache::new(shared.clone())),
            sessions: Arc::new(RedisSessionStore::new(shared.clone())),
            rate_limiter: Arc::new(RedisRateLimiter::new(shared.clone())),
            shared,
        };
        tokio::time::timeout(timeout, backend.ping())
            .await
            .map_err(|_| {
                Error::unavailable(error::BACKEND, "PING got no answer in time", true)
            })??;
        Ok(backend)
    }

    /// `PING`: is Redis answering right now?
    pub async fn ping(&self) -> Result<()> {
        let pong: String = redis::cmd("PING")
            .query_async(&mut self.shared.conn())
            .await
            .map_err(error::map)?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(error::corrupt("PING reply", pong))
        }
    }

    pub fn cache(&self) -> Arc<dyn Cache> {
        self.cache.clone()
    }

    pub fn sessions(&self) -> Arc<dyn SessionStore> {
        self.sessions.clone()
    }

    pub fn rate_limiter(&self) -> Arc<dyn RateLimitStore> {
        self.rate_limiter.clone()
    }

    /// The key prefix every key of this backend starts with.
    pub fn key_prefix(&self) -> &str {
        &self.shared.prefix
    }
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("key_prefix", &self.shared.prefix)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn px_rounds_up_and_treats_zero_as_expired() {
        assert_eq!(px(Duration::ZERO), None);
        assert_eq!(px(Duration::from_micros(1)), Some(1));
        assert_eq!(px(Duration::from_millis(300)), Some(300));
        assert_eq!(px(Duration::from_micros(300_001)), Some(301));
        assert_eq!(px(Duration::MAX), Some(MAX_PX_MS));
    }
}
