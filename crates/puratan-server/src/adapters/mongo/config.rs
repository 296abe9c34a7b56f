//! Configuration of the MongoDB adapter.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where and how to reach MongoDB.
///
/// `uri` is a standard connection string (`mongodb://` or `mongodb+srv://`)
/// and may carry credentials; [`fmt::Debug`] prints it with the password
/// replaced by `***`, so a config can be logged safely.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MongoConfig {
    /// Connection string. The default talks to a local single node; keep
    /// `retryWrites=false` for SecantusDB (the test server), which slows
    /// down badly with retryable writes. A real replica set may drop it.
    pub uri: String,
    /// Database holding the `products`, `users`, `orders` and `audit`
    /// collections.
    pub database: String,
    /// Upper bound for opening a connection and for selecting a server, so
    /// an unreachable MongoDB fails an operation instead of hanging it.
    pub connect_timeout_ms: u64,
}

impl MongoConfig {
    pub const DEFAULT_URI: &'static str = "mongodb://127.0.0.1:27017/?retryWrites=false";
    pub const DEFAULT_DATABASE: &'static str = "puratan";
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;

    /// Defaults with another URI and database (tests, the CLI).
    pub fn new(uri: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            database: database.into(),
            ..Self::default()
        }
    }

    /// The URI with its password (if any) replaced by `***`.
    pub fn redacted_uri(&self) -> String {
        redact_uri(&self.uri)
    }
}

impl Default for MongoConfig {
    fn default() -> Self {
        Self {
            uri: Self::DEFAULT_URI.to_owned(),
            database: Self::DEFAULT_DATABASE.to_owned(),
            connect_timeout_ms: Self::DEFAULT_CONNECT_TIMEOUT_MS,
        }
    }
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("uri", &self.redacted_uri())
            .field("database", &self.database)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .finish()
    }
}

/// Replaces the password of `scheme://user:password@hosts/...` with `***`.
///
/// Errs on the safe side: the user info ends at the *last* `@`, so a
/// password with an unescaped `@`, `/` or `?` is still hidden entirely (an
/// `@` in the query merely over-redacts the hosts).
pub(crate) fn redact_uri(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        // Not a URI we understand: show nothing of it.
        return if uri.is_empty() {
            String::new()
        } else {
            "***".to_owned()
        };
    };
    let Some(at) = rest.rfind('@') else {
        return uri.to_owned();
    };
    let (userinfo, hosts) = rest.split_at(at);
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{hosts}"),
        None => uri.to_owned(),
    }
}

/// The password part of the URI's user info, as written (still
/// percent-encoded), for scrubbing it from messages.
pub(crate) fn password(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_password() {
        let cfg = MongoConfig::new(
            "mongodb://app:s3cr%40t@db1:27017,db2/?replicaSet=rs0",
            "shop",
        );
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(
            shown.contains("mongodb://app:***@db1:27017,db2/?replicaSet=rs0"),
            "{shown}"
        );
    }

    #[test]
    fn redaction_errs_on_the_safe_side() {
        assert_eq!(redact_uri("mongodb://h:1/db"), "mongodb://h:1/db");
        assert_eq!(
            redact_uri("mongodb+srv://u:p/w?d@x.example/"),
            "mongodb+srv://u:***@x.example/"
        );
        assert_eq!(redact_uri("mongodb://u:p@w@h/"), "mongodb://u:***@h/");
        assert_eq!(redact_uri("mongodb://onlyuser@h/"), "mongodb://onlyuser@h/");
        assert_eq!(redact_uri("garbage:pw"), "***");
        assert_eq!(password("mongodb://u:p%40ss@h/"), Some("p%40ss"));
        assert_eq!(password("mongodb://h/"), None);
    }

    #[test]
    fn defaults_and_partial_config() {
        let cfg: MongoConfig = serde_json::from_str(r#"{"database":"x"}"#).unwrap_or_default();
        assert_eq!(cfg.database, "x");
        assert_eq!(cfg.uri, MongoConfig::DEFAULT_URI);
        assert_eq!(cfg.connect_timeout_ms, 5_000);
    }
}
