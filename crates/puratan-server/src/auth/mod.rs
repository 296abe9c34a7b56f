//! Accounts and authentication for the server: the flows (register, login,
//! 2FA, refresh, logout, password reset, sessions) composed from
//! `puratan_core::auth` logic and the App's ports.
//!
//! * Access tokens: JWT (`EdDSA` by default), 15 min, with `sid` = the
//!   login's refresh family so revoking a session also stops its access
//!   tokens (denylist entry `sid:<family>`).
//! * Refresh tokens: opaque, single use, rotating, stored (hashed) in the
//!   storage backend so they survive restarts; reuse revokes the family.
//! * Sessions (device, IP, last seen) live in the SessionStore under the
//!   family id; a refresh after a restart of an in-process store recreates
//!   the entry.
//! * Every security-relevant event is an audit entry and an event on the
//!   topic exchange (`security.<action>`).
//!
//! Password hashing (~25 ms) runs on the blocking pool.

pub mod account;
pub mod caller;
pub mod config;
pub mod keys;
pub mod login;
pub mod oidc;
pub mod second_factor;
pub mod session;
pub mod verified;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use puratan_core::auth::AuthError;
use puratan_core::auth::password::{PasswordHasher, PasswordParams};
use puratan_core::auth::tokens::{AccessTokens, RefreshPolicy, RefreshStore, RefreshTokens};
use puratan_core::auth::totp::TotpConfig;
use puratan_core::ports::{AuditEvent, Exchange, Message, Notifier, Quota};
use puratan_core::protect::Keyring;

pub use self::caller::Caller;
use self::config::AuthConfig;
use crate::http::error::{ApiError, ErrorCode};
use crate::state::App;

/// Everything auth needs beyond the App's ports.
pub struct AuthService {
    pub config: AuthConfig,
    pub tokens: AccessTokens,
    pub refresh: RefreshTokens,
    pub refresh_store: Arc<dyn RefreshStore>,
    pub hasher: PasswordHasher,
    pub keyring: Keyring,
    pub notifier: Arc<dyn Notifier>,
    pub totp: TotpConfig,
    pub oidc: oidc::Oidc,
    /// Tokens whose signature was verified (see `verified.rs`).
    pub verified: verified::VerifiedTokens,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    pub fn new(
        config: AuthConfig,
        tokens: AccessTokens,
        refresh_store: Arc<dyn RefreshStore>,
        keyring: Keyring,
        notifier: Arc<dyn Notifier>,
    ) -> anyhow::Result<Self> {
        let params = PasswordParams::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
        )
        .map_err(|e| anyhow::anyhow!("invalid configuration: auth.argon2_*: {e}"))?;
        let hasher = PasswordHasher::new(params)
            .map_err(|e| anyhow::anyhow!("invalid configuration: auth.argon2_*: {e}"))?;
        let refresh = RefreshTokens::new(RefreshPolicy {
            ttl_secs: config.refresh_ttl_secs,
            absolute_secs: config.refresh_absolute_secs,
        });
        let oidc = oidc::Oidc::new(&config.oidc)?;
        Ok(Self {
            verified: verified::VerifiedTokens::new(config.verified_token_cache),
            oidc,
            config,
            tokens,
            refresh,
            refresh_store,
            hasher,
            keyring,
            notifier,
            totp: TotpConfig::default(),
        })
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs CPU-heavy password work off the async executor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
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
    app: &App,
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
    if let Err(e) = app.audit.append(event).await {
        tracing::error!(error = %e, action, "could not write audit entry");
    }
    if let Err(e) = app
        .events
        .publish(Exchange::Topic, &routing_key, message)
        .await
    {
        tracing::warn!(error = %e, action, "could not publish security event");
    }
}

/// A per-account budget for login, 2FA and reset attempts. Fails closed:
/// when the shared store is down the attempt is refused with 503.
pub async fn account_attempt(app: &App, what: &str, account: &str) -> Result<(), ApiError> {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(account.as_bytes());
    let key = format!("acct:{what}:{}", hex(&digest[..12]));
    let quota = Quota::per_minute(app.auth.config.attempts_per_account_per_minute);
    match app.rate_limiter.check(&key, quota).await {
        Ok(d) if d.allowed => Ok(()),
        Ok(d) => {
            let mut err = ApiError::new(
                ErrorCode::RateLimited,
                "too many attempts for this account; wait and retry",
            );
            err.retry_after = Some(d.retry_after.as_secs().max(1));
            Err(err)
        }
        Err(e) => {
            tracing::error!(error = %e, "rate-limit store unavailable: refusing login attempt");
            let mut err = ApiError::new(
                ErrorCode::Unavailable,
                "temporarily unavailable; retry shortly",
            );
            err.retry_after = Some(5);
            Err(err)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Random URL-safe token for links and challenges (256 bits).
pub fn random_token(prefix: &str) -> Result<String, ApiError> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
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

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        use AuthError as A;
        let e = match e {
            A::Store(inner) => return inner.into(),
            other => other,
        };
        let code = e.code();
        let (general, message) = match &e {
            A::PasswordTooShort { .. } | A::PasswordTooLong { .. } | A::PasswordTooCommon => {
                (ErrorCode::WeakPassword, e.to_string())
            }
            A::InvalidCredentials => (ErrorCode::InvalidCredentials, e.to_string()),
            A::InvalidOtp | A::OtpReplay | A::InvalidRecoveryCode => {
                (ErrorCode::InvalidOtp, e.to_string())
            }
            A::TokenMalformed
            | A::TokenAlgorithm
            | A::TokenUnknownKey
            | A::TokenSignature
            | A::TokenMissingClaim(_)
            | A::TokenExpired
            | A::TokenNotYetValid
            | A::TokenIssuer
            | A::TokenAudience
            | A::TokenType
            | A::TokenRevoked => (ErrorCode::InvalidToken, e.to_string()),
            A::RefreshInvalid | A::RefreshExpired | A::RefreshRevoked | A::ReuseDetected { .. } => {
                (
                    ErrorCode::InvalidRefreshToken,
                    "refresh token is not valid".to_owned(),
                )
            }
            A::Forbidden { .. } => (ErrorCode::Forbidden, e.to_string()),
            A::OidcConfig(_)
            | A::OidcDiscovery(_)
            | A::OidcIssuerMismatch
            | A::OidcStateMismatch
            | A::OidcNonceMismatch
            | A::OidcInvalidIdToken(_)
            | A::OidcProvider { .. }
            | A::OidcEmailTaken
            | A::OidcEmailUnverified
            | A::OidcIdentityLinkedElsewhere => {
                tracing::info!(error = %e, "external login refused");
                (
                    ErrorCode::OidcFailed,
                    "login with the external provider failed".to_owned(),
                )
            }
            _ => return ApiError::internal(e),
        };
        let mut err = ApiError::new(general, message);
        if code != general.as_str() {
            err.specific_code = Some(code);
        }
        err
    }
}
