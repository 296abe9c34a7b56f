//! `[auth]`, `[protect]` and `[notify]` configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Accounts, tokens and login policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `iss` of our access tokens (usually the public base URL).
    pub issuer: String,
    /// `aud` of our access tokens.
    pub audience: String,
    /// Access-token lifetime (RFC 8725 / OWASP: short).
    pub access_ttl_secs: u64,
    /// One refresh token's lifetime.
    pub refresh_ttl_secs: u64,
    /// A login's absolute lifetime: no refresh extends it.
    pub refresh_absolute_secs: u64,
    /// `EdDSA` (default, asymmetric: anyone with the JWKS verifies) or
    /// `HS256` (shared secret ≥ 32 bytes).
    pub algorithm: JwtAlgorithm,
    /// Signing keys; the first (or `active_key`) signs, all verify. With
    /// none configured an Ed25519 key is generated and kept in the file
    /// store (one process; replicas must share configured keys).
    pub keys: Vec<SecretKeyConfig>,
    pub active_key: Option<String>,
    /// argon2id cost (OWASP minimum: 19 MiB, t=2, p=1).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Failed password logins before a temporary lockout.
    pub max_failed_logins: u32,
    pub lockout_secs: u64,
    /// Login / 2FA / reset attempts per account per minute (fails closed).
    pub attempts_per_account_per_minute: u32,
    /// Login / 2FA / reset / register requests per IP per minute (fails closed).
    pub sensitive_per_ip_per_minute: u32,
    /// Wrong codes allowed per 2FA challenge before it is discarded.
    pub max_otp_attempts: u32,
    /// Name shown in authenticator apps.
    pub totp_issuer: String,
    /// Base of links in e-mails (`{base}/verify-email?token=…`).
    pub public_base_url: String,
    pub verify_email_ttl_secs: u64,
    pub password_reset_ttl_secs: u64,
    /// OpenID Connect providers for "log in with …".
    pub oidc: Vec<OidcProviderConfig>,
    /// Verified access tokens remembered to skip repeated signature checks
    /// (0 disables the cache).
    pub verified_token_cache: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            audience: "puratan-api".into(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 14 * 24 * 3600,
            refresh_absolute_secs: 30 * 24 * 3600,
            algorithm: JwtAlgorithm::EdDsa,
            keys: Vec::new(),
            active_key: None,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_failed_logins: 10,
            lockout_secs: 15 * 60,
            attempts_per_account_per_minute: 10,
            sensitive_per_ip_per_minute: 30,
            max_otp_attempts: 5,
            totp_issuer: "Puratan".into(),
            public_base_url: "http://127.0.0.1:8080".into(),
            verify_email_ttl_secs: 24 * 3600,
            password_reset_ttl_secs: 30 * 60,
            oidc: Vec::new(),
            verified_token_cache: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    #[default]
    #[serde(rename = "EdDSA")]
    EdDsa,
    #[serde(rename = "HS256")]
    Hs256,
}

/// A key id and its secret (standard base64): a 32-byte Ed25519 seed, an
/// HMAC secret of ≥ 32 bytes, or a 32-byte AES key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyConfig {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for SecretKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeyConfig")
            .field("id", &self.id)
            .field("secret", &"***")
            .finish()
    }
}

/// One "log in with …" provider.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Path segment: `/api/v1/auth/oauth/{name}/start`.
    pub name: String,
    /// Must equal the provider's discovery `issuer` exactly.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Our callback URL as registered at the provider.
    pub redirect_uri: String,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

impl std::fmt::Debug for OidcProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProviderConfig")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// Data-protection keys for sensitive fields (TOTP secrets, provider
/// tokens, payment references). Never stored in the database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtectConfig {
    /// 32-byte keys (standard base64). Without any, a key is generated
    /// into the file store (single process only; documented).
    pub keys: Vec<SecretKeyConfig>,
    /// Key that encrypts new data (default: the first).
    pub active_key: Option<String>,
}

/// Where outgoing mail goes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub backend: NotifyBackend,
    /// `file` backend: one JSON line per message in `{dir}/outbox.jsonl`.
    pub dir: Option<PathBuf>,
    pub smtp: Option<SmtpConfig>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyBackend {
    /// Log each message (without link tokens) — the development default.
    #[default]
    Log,
    File,
    Smtp,
    /// Keep messages in memory (tests, demos).
    Memory,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `From:` address.
    pub from: String,
    /// `starttls` (default), `tls` or `none` (local relays only).
    #[serde(default)]
    pub security: SmtpSecurity,
}

fn default_smtp_port() -> u16 {
    587
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("security", &self.security)
            .finish()
    }
}
