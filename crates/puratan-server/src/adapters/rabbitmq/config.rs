//! Configuration of the RabbitMQ adapter.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where and how to reach RabbitMQ.
///
/// `url` is an AMQP URI (`amqp://user:password@host:port/vhost`, the vhost
/// URL-encoded: `%2f` is `/`; `amqps://` for TLS). [`fmt::Debug`] prints
/// the password as `***`, so a config can be logged safely.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RabbitConfig {
    pub url: String,
    /// Un-acked deliveries a subscriber may hold at once (`basic.qos`;
    /// 0 means no limit).
    pub prefetch: u16,
    /// `x-expires` of durable queues: a queue without consumers for this
    /// long is deleted by the broker, so abandoned queues do not pile up.
    /// `None` keeps them until deleted by hand. Changing it for an existing
    /// queue makes its re-declaration fail (AMQP `PRECONDITION_FAILED`).
    pub queue_expires_ms: Option<u64>,
    /// Upper bound for connecting and declaring the topology.
    pub connect_timeout_ms: u64,
}

impl RabbitConfig {
    pub const DEFAULT_URL: &'static str = "amqp://guest:guest@127.0.0.1:5672/%2f";
    pub const DEFAULT_PREFETCH: u16 = 32;
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;

    /// Defaults with another URL (tests, the CLI).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The URL with its password (if any) replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }
}

impl Default for RabbitConfig {
    fn default() -> Self {
        Self {
            url: Self::DEFAULT_URL.to_owned(),
            prefetch: Self::DEFAULT_PREFETCH,
            queue_expires_ms: None,
            connect_timeout_ms: Self::DEFAULT_CONNECT_TIMEOUT_MS,
        }
    }
}

impl fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitConfig")
            .field("url", &self.redacted_url())
            .field("prefetch", &self.prefetch)
            .field("queue_expires_ms", &self.queue_expires_ms)
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
        let shown = format!("{:?}", RabbitConfig::default());
        assert!(
            shown.contains("amqp://guest:***@127.0.0.1:5672/%2f"),
            "{shown}"
        );
        let cfg = RabbitConfig::new("amqps://shop:t0p@s/cret@mq.internal:5671/prod");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("t0p") && !shown.contains("cret"), "{shown}");
        assert!(
            shown.contains("amqps://shop:***@mq.internal:5671/prod"),
            "{shown}"
        );
    }

    #[test]
    fn urls_without_password_are_shown() {
        assert_eq!(
            redact_url("amqp://127.0.0.1:5672/%2f"),
            "amqp://127.0.0.1:5672/%2f"
        );
        assert_eq!(redact_url("amqp://user@h"), "amqp://user@h");
        assert_eq!(redact_url("nonsense"), "***");
    }

    #[test]
    fn defaults_and_partial_config() {
        let cfg: RabbitConfig =
            serde_json::from_str(r#"{"queue_expires_ms":60000}"#).unwrap_or_default();
        assert_eq!(cfg.queue_expires_ms, Some(60_000));
        assert_eq!(cfg.prefetch, 32);
        assert_eq!(cfg.url, RabbitConfig::DEFAULT_URL);
        assert_eq!(cfg.connect_timeout_ms, 5_000);
    }
}
