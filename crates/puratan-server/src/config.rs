//! Server configuration: defaults < `puratan.toml` < `PURATAN__SECTION__KEY`
//! environment variables (e.g. `PURATAN__SERVER__PORT=9000`,
//! `PURATAN__REDIS__URL=redis://…`). Library crates never read the
//! environment; this module is the only place that does.
//!
//! Loading fails fast with a message naming the offending key. Secrets
//! (passwords inside URLs, keys) are redacted by [`Config::redacted`],
//! which `puratan check-config` prints.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::adapters::localfs::LocalFsConfig;
use crate::adapters::mongo::MongoConfig;
use crate::adapters::rabbitmq::RabbitConfig;
use crate::adapters::redis::RedisConfig;
use crate::adapters::sqlite::SqliteConfig;
pub use crate::auth::config::{
    AuthConfig, JwtAlgorithm, NotifyBackend, NotifyConfig, OidcProviderConfig, ProtectConfig,
    SecretKeyConfig, SmtpConfig, SmtpSecurity,
};
use crate::redact::redact_url;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageBackend,
    pub cache: CacheBackend,
    pub events: EventsBackend,
    pub sqlite: SqliteConfig,
    pub mongodb: MongoConfig,
    pub redis: RedisConfig,
    pub rabbitmq: RabbitConfig,
    pub files: LocalFsConfig,
    pub rate_limits: RateLimitConfig,
    pub catalog: CatalogConfig,
    pub log: LogConfig,
    pub admin: AdminConfig,
    pub quotes: QuotesConfig,
    pub auth: AuthConfig,
    pub protect: ProtectConfig,
    pub notify: NotifyConfig,
    pub uploads: crate::uploads_config::UploadsConfig,
    pub processing: crate::processing::ProcessingConfig,
    pub live: crate::live::LiveConfig,
    pub notifications: crate::notifications::NotificationsConfig,
    pub system_events: crate::system_events::SystemEventsConfig,
}

/// Quote signing keys. With none configured the server generates one and
/// keeps it in the file store (fine for one process; replicas must share
/// configured keys so any replica verifies any quote).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotesConfig {
    /// Id of the key that signs new quotes (default: the first key).
    pub active_key: Option<String>,
    /// Every key that verifies; remove a key to retire it.
    pub keys: Vec<QuoteKeyConfig>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteKeyConfig {
    pub id: String,
    /// Standard base64 of at least 32 random bytes.
    pub secret: String,
}

impl std::fmt::Debug for QuoteKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuoteKeyConfig")
            .field("id", &self.id)
            .field("secret", &"***")
            .finish()
    }
}

/// Interim admin access until the auth issue brings users and roles.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Bearer token for `/api/v1/admin/*`; unset = admin routes disabled.
    pub token: Option<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// SQLite file under `sqlite.path` (the default).
    #[default]
    Embedded,
    Mongodb,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackend {
    /// In-process cache, session store and rate limiter.
    #[default]
    Memory,
    /// Redis: shared by every replica.
    Redis,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventsBackend {
    #[default]
    Memory,
    Rabbitmq,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub host: IpAddr,
    pub port: u16,
    /// Whole-request time limit.
    pub request_timeout_ms: u64,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_ms: u64,
    /// Body limit for ordinary JSON routes.
    pub json_body_limit: usize,
    /// Body limit for admin imports (catalog files).
    pub admin_body_limit: usize,
    /// Origins allowed by CORS; empty = no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` is believed. Empty = the socket
    /// address is the client, always.
    pub trusted_proxies: Vec<IpNet>,
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            request_timeout_ms: 15_000,
            shutdown_grace_ms: 20_000,
            json_body_limit: 64 * 1024,
            admin_body_limit: 8 * 1024 * 1024,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// Requests per minute per client, by route class (see docs/rate-limits.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub public_per_minute: u32,
    pub authenticated_per_minute: u32,
    pub admin_per_minute: u32,
    pub upload_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            public_per_minute: 100,
            authenticated_per_minute: 1000,
            admin_per_minute: 5000,
            upload_per_minute: 50,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// How long a product stays in the cache. Invalidation events normally
    /// evict earlier; the TTL bounds staleness when they cannot arrive
    /// (e.g. a CLI import against an embedded server).
    pub cache_ttl_secs: u64,
    /// Catalog imported on first start when the product table is empty.
    pub seed_file: Option<PathBuf>,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            cache_ttl_secs: 60,
            seed_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `json` (one object per line) or `pretty`.
    pub format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info,puratan_server=debug`.
    pub filter: String,
    /// One line per request (method, route, status, duration, request id).
    pub access_log: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            filter: "info".into(),
            access_log: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults, then `file` (if it exists — or fails if it was given
    /// explicitly and does not), then `PURATAN__…` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        explicit: bool,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if path.exists() {
                fig = fig.merge(Toml::file_exact(path));
            } else if explicit {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
        }
        // Env-style parsing (`9000` is an integer, `[a, b]` an array), but
        // from the iterator we are given, so tests need not touch the
        // process environment.
        for (k, v) in env.into_iter() {
            let Some(rest) = k.strip_prefix("PURATAN__") else {
                continue;
            };
            let key = rest.to_ascii_lowercase().replace("__", ".");
            let value: figment::value::Value =
                v.parse().unwrap_or_else(|_| figment::value::Value::from(v));
            fig = fig.merge((key, value));
        }
        let config: Config = fig.extract().map_err(|e| ConfigError(describe(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if self.server.request_timeout_ms == 0 {
            return bad("server.request_timeout_ms", "must be greater than 0");
        }
        if self.server.json_body_limit < 1024 {
            return bad("server.json_body_limit", "must be at least 1024 bytes");
        }
        let rl = &self.rate_limits;
        for (key, v) in [
            ("rate_limits.public_per_minute", rl.public_per_minute),
            (
                "rate_limits.authenticated_per_minute",
                rl.authenticated_per_minute,
            ),
            ("rate_limits.admin_per_minute", rl.admin_per_minute),
            ("rate_limits.upload_per_minute", rl.upload_per_minute),
        ] {
            if v == 0 {
                return bad(
                    key,
                    "must be greater than 0 (set rate_limits.enabled = false to disable)",
                );
            }
        }
        let a = &self.auth;
        for (key, v) in [
            ("auth.access_ttl_secs", a.access_ttl_secs),
            ("auth.refresh_ttl_secs", a.refresh_ttl_secs),
            ("auth.refresh_absolute_secs", a.refresh_absolute_secs),
            (
                "auth.attempts_per_account_per_minute",
                u64::from(a.attempts_per_account_per_minute),
            ),
            (
                "auth.sensitive_per_ip_per_minute",
                u64::from(a.sensitive_per_ip_per_minute),
            ),
            ("auth.max_failed_logins", u64::from(a.max_failed_logins)),
            ("auth.max_otp_attempts", u64::from(a.max_otp_attempts)),
        ] {
            if v == 0 {
                return bad(key, "must be greater than 0");
            }
        }
        if self.notify.backend == NotifyBackend::File && self.notify.dir.is_none() {
            return bad("notify.dir", "is required with notify.backend = \"file\"");
        }
        if self.notify.backend == NotifyBackend::Smtp && self.notify.smtp.is_none() {
            return bad("notify.smtp", "is required with notify.backend = \"smtp\"");
        }
        let mut names = std::collections::HashSet::new();
        for (i, p) in a.oidc.iter().enumerate() {
            if p.name.is_empty()
                || !p
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return bad(&format!("auth.oidc[{i}].name"), "must be [A-Za-z0-9_-]+");
            }
            if !names.insert(p.name.as_str()) {
                return bad(&format!("auth.oidc[{i}].name"), "is used twice");
            }
        }
        if let Err((key, why)) = self.uploads.validate() {
            return bad(key, why);
        }
        if let Err((key, why)) = self.live.validate() {
            return bad(key, why);
        }
        if let Err((key, why)) = self.processing.validate() {
            return bad(key, why);
        }
        if let Err((key, why)) = self.notifications.validate() {
            return bad(key, why);
        }
        if let Err((key, why)) = self.system_events.validate() {
            return bad(key, why);
        }
        if self.processing.workers == 0 && self.events == EventsBackend::Memory {
            return bad(
                "processing.workers",
                "0 needs events = \"rabbitmq\": with the in-process bus no `puratan worker` can reach the jobs",
            );
        }
        if self.admin.token.as_ref().is_some_and(|t| t.len() < 32) {
            return bad("admin.token", "must be at least 32 characters");
        }
        if let Some(tls) = &self.server.tls {
            for (key, p) in [
                ("server.tls.cert_path", &tls.cert_path),
                ("server.tls.key_path", &tls.key_path),
            ] {
                if !p.exists() {
                    return bad(key, &format!("{} does not exist", p.display()));
                }
            }
        }
        Ok(())
    }

    /// The effective configuration as TOML, with secrets replaced by `***`.
    pub fn redacted(&self) -> String {
        let mut value =
            toml::Value::try_from(self).unwrap_or(toml::Value::Table(Default::default()));
        redact(&mut value);
        toml::to_string_pretty(&value).unwrap_or_default()
    }
}

fn describe(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|err| {
            let key = err.path.join(".");
            let what = err.kind.to_string();
            if key.is_empty() {
                what
            } else {
                format!("{key}: {what}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Redacts the password part of URLs and any key that looks secret.
fn redact(v: &mut toml::Value) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                let secret = ["password", "secret", "token", "api_key", "key_material"]
                    .iter()
                    .any(|s| k.contains(s));
                if secret {
                    *v = toml::Value::String("***".into());
                } else {
                    redact(v);
                }
            }
        }
        toml::Value::Array(a) => a.iter_mut().for_each(redact),
        toml::Value::String(s) if s.contains("://") => *s = redact_url(s),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_defaults_file_env() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("puratan.toml");
        std::fs::write(
            &file,
            "storage = \"mongodb\"\n[server]\nport = 9000\nrequest_timeout_ms = 5000\n",
        )
        .expect("write");
        let c = Config::load(
            Some(&file),
            true,
            env(&[("PURATAN__SERVER__PORT", "9100"), ("OTHER", "x")]),
        )
        .expect("load");
        assert_eq!(c.server.port, 9100, "env beats file");
        assert_eq!(c.server.request_timeout_ms, 5000, "file beats default");
        assert_eq!(c.storage, StorageBackend::Mongodb);
        assert_eq!(c.rate_limits.public_per_minute, 100, "default kept");
    }

    #[test]
    fn invalid_values_name_the_key() {
        let e = Config::load(None, false, env(&[("PURATAN__SERVER__PORT", "eighty")]))
            .expect_err("bad port");
        assert!(e.to_string().contains("server.port"), "{e}");
        let e = Config::load(None, false, env(&[("PURATAN__CACHE", "memcached")]))
            .expect_err("bad backend");
        assert!(e.to_string().contains("cache"), "{e}");
        let e = Config::load(
            None,
            false,
            env(&[("PURATAN__RATE_LIMITS__PUBLIC_PER_MINUTE", "0")]),
        )
        .expect_err("zero");
        assert!(
            e.to_string().contains("rate_limits.public_per_minute"),
            "{e}"
        );
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("p.toml");
        std::fs::write(&file, "[server]\nprot = 1\n").expect("write");
        let e = Config::load(Some(&file), true, env(&[])).expect_err("typo");
        assert!(e.to_string().contains("prot"), "{e}");
        let e = Config::load(Some(&dir.path().join("missing.toml")), true, env(&[]))
            .expect_err("missing");
        assert!(e.to_string().contains("missing.toml"), "{e}");
    }

    #[test]
    fn redaction_hides_passwords() {
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            redact_url("mongodb://u:p@h1,h2/db?x=1"),
            "mongodb://u:***@h1,h2/db?x=1"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        let c = Config::load(
            None,
            false,
            env(&[("PURATAN__REDIS__URL", "redis://:hunter2@cache:6379")]),
        )
        .expect("load");
        let out = c.redacted();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("***"));
    }
}
