//! Configuration of the Redis adapter.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where and how to reach Redis.
///
/// `url` follows the `redis` crate's syntax
/// (`redis://[user][:password@]host[:port][/db]`, `rediss://` for TLS) and
/// may carry a password; [`fmt::Debug`] prints it as `***`, so a config can
/// be logged safely.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RedisConfig {
    pub url: String,
    /// First segment of every key (`{key_prefix}:{kind}:{key}`), so several
    /// deployments (or test runs) can share one Redis.
    pub key_prefix: String,
    /// Upper bound for connecting (and for one command's answer), so an
    /// unreachable Redis fails fast instead of hanging a request.
    pub connect_timeout_ms: u64,
}

impl RedisConfig {
    pub const DEFAULT_URL: &'static str = "redis://127.0.0.1:6379";
    pub const DEFAULT_KEY_PREFIX: &'static str = "puratan";
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2_000;

    /// Defaults with another URL (tests, the CLI).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The same config with another key prefix.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// The URL with its password (if any) replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            connect_timeout_ms: Self::DEFAULT_CONNECT_TIMEOUT_MS,
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .finish()
    }
}

pub(crate) use crate::redact::redact_url;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_password() {
        let cfg = RedisConfig::new("redis://:s3cret@cache.internal:6380/2");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("redis://:***@cache.internal:6380/2"),
            "{shown}"
        );
        let cfg = RedisConfig::new("rediss://app:p@ss/w@h:6379");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("ss/w"), "{shown}");
        assert!(shown.contains("rediss://app:***@h:6379"), "{shown}");
    }

    #[test]
    fn urls_without_password_are_shown() {
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_url("redis://user@h/0"), "redis://user@h/0");
        assert_eq!(redact_url("not a url"), "***");
    }

    #[test]
    fn defaults_and_partial_config() {
        let cfg: RedisConfig = serde_json::from_str(r#"{"key_prefix":"shop"}"#).unwrap_or_default();
        assert_eq!(cfg.key_prefix, "shop");
        assert_eq!(cfg.url, RedisConfig::DEFAULT_URL);
        assert_eq!(cfg.connect_timeout_ms, 2_000);
    }
}
