//! The server side of accounts: configuration, keys, the HTTP caller
//! (`caller.rs`: the gateway authenticates once per request), the cache of
//! verified tokens, and the HTTP half of "log in with …" (`oidc.rs`). The
//! account flows themselves live in `puratan_core::accounts`, shared by
//! every front door; [`AuthService`] derefs to them.

pub mod caller;
pub mod config;
pub mod keys;
pub mod oidc;
pub mod verified;

use puratan_core::accounts::{AccountPorts, Accounts, AccountsConfig};
use puratan_core::auth::AuthError;
use puratan_core::auth::password::{PasswordHasher, PasswordParams};
use puratan_core::auth::tokens::{AccessTokens, RefreshPolicy};
use puratan_core::protect::Keyring;

pub use puratan_core::accounts::{
    ClientInfo, account, login, now, second_factor, security_event, session,
};

pub use self::caller::Caller;
use self::config::AuthConfig;
use crate::http::error::{ApiError, ErrorCode};

/// The account flows plus what only the server needs.
pub struct AuthService {
    pub config: AuthConfig,
    pub accounts: Accounts,
    pub oidc: oidc::Oidc,
    /// Tokens whose signature was verified (see `verified.rs`).
    pub verified: verified::VerifiedTokens,
}

impl std::ops::Deref for AuthService {
    type Target = Accounts;
    fn deref(&self) -> &Accounts {
        &self.accounts
    }
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
        ports: AccountPorts,
        tokens: AccessTokens,
        keyring: Keyring,
    ) -> anyhow::Result<Self> {
        let params = PasswordParams::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
        )
        .map_err(|e| anyhow::anyhow!("invalid configuration: auth.argon2_*: {e}"))?;
        let hasher = PasswordHasher::new(params)
            .map_err(|e| anyhow::anyhow!("invalid configuration: auth.argon2_*: {e}"))?;
        let policy = AccountsConfig {
            access_ttl_secs: config.access_ttl_secs,
            refresh: RefreshPolicy {
                ttl_secs: config.refresh_ttl_secs,
                absolute_secs: config.refresh_absolute_secs,
            },
            max_failed_logins: config.max_failed_logins,
            lockout_secs: config.lockout_secs,
            attempts_per_account_per_minute: config.attempts_per_account_per_minute,
            max_otp_attempts: config.max_otp_attempts,
            totp_issuer: config.totp_issuer.clone(),
            public_base_url: config.public_base_url.clone(),
            verify_email_ttl_secs: config.verify_email_ttl_secs,
            password_reset_ttl_secs: config.password_reset_ttl_secs,
        };
        let oidc = oidc::Oidc::new(&config.oidc)?;
        Ok(Self {
            accounts: Accounts::new(policy, ports, tokens, hasher, keyring),
            verified: verified::VerifiedTokens::new(config.verified_token_cache),
            oidc,
            config,
        })
    }
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
            A::AccountLocked { retry_after_secs } => {
                let mut err = ApiError::new(ErrorCode::AccountLocked, e.to_string());
                err.retry_after = *retry_after_secs;
                return err;
            }
            A::AccountDisabled => (ErrorCode::AccountDisabled, e.to_string()),
            A::EmailNotVerified => (ErrorCode::EmailNotVerified, e.to_string()),
            A::LinkInvalid => (ErrorCode::InvalidLinkToken, e.to_string()),
            A::TooManyAttempts { retry_after_secs } => {
                let mut err = ApiError::new(ErrorCode::RateLimited, e.to_string());
                err.retry_after = Some(*retry_after_secs);
                return err;
            }
            A::AttemptsUnavailable => {
                let mut err = ApiError::new(ErrorCode::Unavailable, e.to_string());
                err.retry_after = Some(5);
                return err;
            }
            A::TotpNotEnabled | A::TotpAlreadyEnabled => (ErrorCode::Conflict, e.to_string()),
            A::OtpRequired => {
                return ApiError::new(ErrorCode::InvalidOtp, e.to_string())
                    .with_specific(e.code())
                    .with_details(serde_json::json!({ "field": "code" }));
            }
            A::SecondFactorAmbiguous => (ErrorCode::ValidationFailed, e.to_string()),
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
