//! Account flows: registration, e-mail verification, login with an
//! optional second factor, refresh, logout, password change and reset,
//! TOTP management and sessions — composed from [`crate::auth`]'s logic and
//! the ports, so every front door (HTTP, CLI, a future gRPC API) runs the
//! same code. Nothing here speaks HTTP.
//!
//! * A session *is* a refresh-token family; its id travels in every access
//!   token (`sid`), so revoking a session revokes the family and denies
//!   `sid:<family>` for one access-token lifetime.
//! * Every security-relevant action is an [`AuditEvent`] and a
//!   `security.<action>` message on the topic exchange.
//! * Password hashing (tens of milliseconds) runs on tokio's blocking pool.
//! * Registration and reset answer the same whatever the address; unknown
//!   accounts cost one dummy argon2id verify.
//!
//! Failures are [`AuthError`]s with stable codes; the server maps them to
//! HTTP statuses.

pub mod account;
pub mod login;
pub mod second_factor;
pub mod session;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::auth::AuthError;
use crate::auth::password::PasswordHasher;
use crate::auth::tokens::{AccessTokens, RefreshPolicy, RefreshStore, RefreshTokens};
use crate::auth::totp::TotpConfig;
use crate::ports::{
    AuditEvent, AuditLog, EventBus, Exchange, Message, Notifier, Quota, RateLimitStore,
    SessionStore, UserRepo,
};
use crate::protect::Keyring;

/// Policy knobs of the flows (the server fills them from `[auth]`).
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    pub access_ttl_secs: u64,
    pub refresh: RefreshPolicy,
    /// Failed password logins before a temporary lockout.
    pub max_failed_logins: u32,
    pub lockout_secs: u64,
    /// Login / 2FA / reset attempts per account per minute (fails closed).
    pub attempts_per_account_per_minute: u32,
    /// Wrong codes allowed per 2FA challenge before it is discarded.
    pub max_otp_attempts: u32,
    /// Name shown in authenticator apps.
    pub totp_issuer: String,
    /// Base of links in e-mails.
    pub public_base_url: String,
    pub verify_email_ttl_secs: u64,
    pub password_reset_ttl_secs: u64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            refresh: RefreshPolicy::default(),
            max_failed_logins: 10,
            lockout_secs: 15 * 60,
            attempts_per_account_per_minute: 10,
            max_otp_attempts: 5,
            totp_issuer: "Puratan".into(),
            public_base_url: "http://127.0.0.1:8080".into(),
            verify_email_ttl_secs: 24 * 3600,
            password_reset_ttl_secs: 30 * 60,
        }
    }
}

/// The ports the flows use.
#[derive(Clone)]
pub struct AccountPorts {
    pub users: Arc<dyn UserRepo>,
    pub sessions: Arc<dyn SessionStore>,
    pub refresh_store: Arc<dyn RefreshStore>,
    pub audit: Arc<dyn AuditLog>,
    pub events: Arc<dyn EventBus>,
    /// Per-account attempt budgets (shared across replicas: Redis).
    pub rate_limiter: Arc<dyn RateLimitStore>,
    pub notifier: Arc<dyn Notifier>,
}

impl std::fmt::Debug for AccountPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountPorts").finish_non_exhaustive()
    }
}

/// Everything the flows need: ports, keys and policy.
pub struct Accounts {
    pub config: AccountsConfig,
    pub ports: AccountPorts,
    pub tokens: AccessTokens,
    pub refresh: RefreshTokens,
    pub hasher: PasswordHasher,
    pub keyring: Keyring,
    pub totp: TotpConfig,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(
        config: AccountsConfig,
        ports: AccountPorts,
        tokens: AccessTokens,
        hasher: PasswordHasher,
        keyring: Keyring,
    ) -> Self {
        Self {
            refresh: RefreshTokens::new(config.refresh),
            config,
            ports,
            tokens,
            hasher,
            keyring,
            totp: TotpConfig::default(),
        }
    }
}

/// Unix seconds now (the flows' clock; the pure logic below them takes
/// `now` as a parameter).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs CPU-heavy password work off the async executor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)
}

/// An unexpected failure (serialisation, a panicked task).
pub fn internal(e: impl std::fmt::Display) -> AuthError {
    AuthError::Store(crate::Error::Backend {
        backend: "accounts",
        message: e.to_string(),
        source: None,
    })
}

/// Where a request came from, for audit entries and session lists.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub device: String,
}

/// Records a security event: an audit entry and a `security.<action>`
/// message on the topic exchange. Failures are logged, never surfaced: the
/// user's action already happened.
pub async fn security_event(
    app: &Accounts,
    actor: &str,
    action: &str,
    target: Option<&str>,
    client: &ClientInfo,
    details: serde_json::Value,
) {
    let event = AuditEvent {
        at: chrono::Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.map(str::to_owned),
        ip: (!client.ip.is_empty()).then(|| client.ip.clone()),
        details,
    };
    let routing_key = format!("security.{}", action.trim_start_matches("auth."));
    let message = Message::json(&routing_key, &event);
    if let Err(e) = app.ports.audit.append(event).await {
        tracing::error!(error = %e, action, "could not write audit entry");
    }
    if let Err(e) = app
        .ports
        .events
        .publish(Exchange::Topic, &routing_key, message)
        .await
    {
        tracing::warn!(error = %e, action, "could not publish security event");
    }
}

/// A per-account budget for login, 2FA and reset attempts. Fails closed:
/// when the store is down the attempt is refused (`AttemptsUnavailable`).
pub async fn account_attempt(app: &Accounts, what: &str, account: &str) -> Result<(), AuthError> {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(account.as_bytes());
    let key = format!("acct:{what}:{}", crate::hex::encode(&digest[..12]));
    let quota = Quota::per_minute(app.config.attempts_per_account_per_minute);
    match app.ports.rate_limiter.check(&key, quota).await {
        Ok(d) if d.allowed => Ok(()),
        Ok(d) => Err(AuthError::TooManyAttempts {
            retry_after_secs: d.retry_after.as_secs().max(1),
        }),
        Err(e) => {
            tracing::error!(error = %e, "rate-limit store unavailable: refusing attempt");
            Err(AuthError::AttemptsUnavailable)
        }
    }
}

/// Random URL-safe token for links and challenges (256 bits).
pub fn random_token(prefix: &str) -> Result<String, AuthError> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    crate::auth::random_bytes(&mut bytes)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// One-time token slots, namespaced per purpose so a reset token can never
/// be presented as a verification token.
pub fn slot(purpose: &str, token: &str) -> String {
    format!("{purpose}:{token}")
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
