use crate::Error;

/// Every failure of the auth module. Match on [`AuthError::code`] (stable,
/// safe to send to clients) rather than on the message.
///
/// Messages never contain secrets (passwords, codes, tokens).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    // ----- passwords -----
    #[error("password must have at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("password must have at most {max} characters")]
    PasswordTooLong { max: usize },
    #[error("password is too common")]
    PasswordTooCommon,
    /// Wrong password, wrong code or unknown account: deliberately one error.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("stored password hash is malformed or unsupported")]
    MalformedHash,
    #[error("invalid password hashing parameters: {0}")]
    InvalidParams(String),

    // ----- TOTP and recovery codes -----
    #[error("invalid one-time code")]
    InvalidOtp,
    #[error("one-time code was already used")]
    OtpReplay,
    #[error("invalid TOTP secret")]
    InvalidTotpSecret,
    #[error("invalid TOTP configuration: {0}")]
    InvalidTotpConfig(&'static str),
    #[error("invalid recovery code")]
    InvalidRecoveryCode,

    // ----- access tokens -----
    #[error("malformed token")]
    TokenMalformed,
    #[error("token algorithm not allowed")]
    TokenAlgorithm,
    #[error("token signed with an unknown key")]
    TokenUnknownKey,
    #[error("token signature is invalid")]
    TokenSignature,
    #[error("token is missing the {0} claim")]
    TokenMissingClaim(&'static str),
    #[error("token has expired")]
    TokenExpired,
    #[error("token is not valid yet")]
    TokenNotYetValid,
    #[error("token issuer is not accepted")]
    TokenIssuer,
    #[error("token audience is not accepted")]
    TokenAudience,
    #[error("token is not an access token")]
    TokenType,
    #[error("token has been revoked")]
    TokenRevoked,
    #[error("invalid signing key configuration: {0}")]
    KeyConfig(String),

    // ----- refresh tokens -----
    #[error("invalid refresh token")]
    RefreshInvalid,
    #[error("refresh token has expired")]
    RefreshExpired,
    #[error("refresh token has been revoked")]
    RefreshRevoked,
    /// A refresh token that had already been rotated was presented again:
    /// the whole family (including its newest token) is now revoked. Audit it.
    #[error("refresh token reuse detected; token family {family} revoked")]
    ReuseDetected { family: String },

    // ----- authorisation -----
    #[error("missing permission {permission}")]
    Forbidden { permission: &'static str },

    // ----- OpenID Connect login -----
    /// A provider entry in the configuration is unusable (operator error).
    #[error("invalid OpenID provider configuration: {0}")]
    OidcConfig(String),
    /// The provider's discovery document (or JWKS) is unusable.
    #[error("invalid OpenID provider metadata: {0}")]
    OidcDiscovery(String),
    /// The provider identified itself with another issuer than the one
    /// configured (discovery `issuer`, or the RFC 9207 `iss` callback
    /// parameter): a misconfiguration or a mix-up attack.
    #[error("OpenID provider issuer does not match the configured issuer")]
    OidcIssuerMismatch,
    /// The callback's `state` is not the one this login started with, or the
    /// pending login expired, was used already, or belongs to another
    /// provider.
    #[error("login state does not match; start the login again")]
    OidcStateMismatch,
    #[error("ID token nonce does not match")]
    OidcNonceMismatch,
    /// The ID token failed validation; the reason is for logs and tests,
    /// clients only see the code.
    #[error("invalid ID token: {0}")]
    OidcInvalidIdToken(crate::auth::oidc::IdTokenRejection),
    /// The provider answered with an OAuth error (`error` is sanitised to
    /// `[A-Za-z0-9._-]`, at most 64 characters).
    #[error("the OpenID provider returned an error: {error}")]
    OidcProvider {
        error: String,
        description: Option<String>,
    },
    /// The identity is not linked yet and its e-mail address belongs to an
    /// existing account: log in to that account and link the provider from
    /// the profile page. Accounts are never merged by e-mail.
    #[error(
        "an account with this e-mail address exists; log in to it and link this provider from your profile"
    )]
    OidcEmailTaken,
    /// The identity is not linked and the provider did not assert a
    /// verified e-mail address, so no account can be created from it.
    #[error("the provider did not confirm a verified e-mail address")]
    OidcEmailUnverified,
    /// The identity is already linked to another local account.
    #[error("this provider account is already linked to another account")]
    OidcIdentityLinkedElsewhere,

    // ----- account flows -----
    /// Locked after failed logins (`retry_after_secs` set) or by an admin.
    #[error("the account is locked")]
    AccountLocked { retry_after_secs: Option<u64> },
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("confirm your e-mail address first")]
    EmailNotVerified,
    /// A verification, reset or 2FA-challenge token that is unknown, used
    /// or expired.
    #[error("the link or challenge is invalid or expired")]
    LinkInvalid,
    #[error("too many attempts for this account; wait and retry")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The attempt-budget store is unreachable: refused, not guessed.
    #[error("temporarily unavailable; retry shortly")]
    AttemptsUnavailable,
    #[error("two-factor authentication is not enabled")]
    TotpNotEnabled,
    #[error("two-factor authentication is already enabled")]
    TotpAlreadyEnabled,
    #[error("this account has two-factor authentication: send a current code or a recovery code")]
    OtpRequired,
    #[error("send exactly one of `code` and `recovery_code`")]
    SecondFactorAmbiguous,

    // ----- infrastructure -----
    #[error("the system random number generator failed")]
    Random,
    #[error("cryptographic operation failed")]
    Crypto,
    #[error(transparent)]
    Store(#[from] Error),
}

impl AuthError {
    /// A stable, machine-readable code (snake_case, never reused).
    pub fn code(&self) -> &'static str {
        match self {
            Self::PasswordTooShort { .. } => "password_too_short",
            Self::PasswordTooLong { .. } => "password_too_long",
            Self::PasswordTooCommon => "password_too_common",
            Self::InvalidCredentials => "invalid_credentials",
            Self::MalformedHash => "malformed_password_hash",
            Self::InvalidParams(_) => "invalid_password_params",
            Self::InvalidOtp => "invalid_otp",
            Self::OtpReplay => "otp_replay",
            Self::InvalidTotpSecret => "invalid_totp_secret",
            Self::InvalidTotpConfig(_) => "invalid_totp_config",
            Self::InvalidRecoveryCode => "invalid_recovery_code",
            Self::TokenMalformed => "token_malformed",
            Self::TokenAlgorithm => "token_algorithm",
            Self::TokenUnknownKey => "token_unknown_key",
            Self::TokenSignature => "token_signature",
            Self::TokenMissingClaim(_) => "token_missing_claim",
            Self::TokenExpired => "token_expired",
            Self::TokenNotYetValid => "token_not_yet_valid",
            Self::TokenIssuer => "token_issuer",
            Self::TokenAudience => "token_audience",
            Self::TokenType => "token_type",
            Self::TokenRevoked => "token_revoked",
            Self::KeyConfig(_) => "key_config",
            Self::RefreshInvalid => "refresh_invalid",
            Self::RefreshExpired => "refresh_expired",
            Self::RefreshRevoked => "refresh_revoked",
            Self::ReuseDetected { .. } => "refresh_reuse_detected",
            Self::Forbidden { .. } => "forbidden",
            Self::OidcConfig(_) => "oidc_config",
            Self::OidcDiscovery(_) => "oidc_discovery",
            Self::OidcIssuerMismatch => "oidc_issuer_mismatch",
            Self::OidcStateMismatch => "oidc_state_mismatch",
            Self::OidcNonceMismatch => "oidc_nonce_mismatch",
            Self::OidcInvalidIdToken(_) => "oidc_invalid_id_token",
            Self::OidcProvider { .. } => "oidc_provider_error",
            Self::OidcEmailTaken => "oidc_email_taken",
            Self::OidcEmailUnverified => "oidc_email_unverified",
            Self::OidcIdentityLinkedElsewhere => "oidc_identity_linked_elsewhere",
            Self::AccountLocked { .. } => "account_locked",
            Self::AccountDisabled => "account_disabled",
            Self::EmailNotVerified => "email_not_verified",
            Self::LinkInvalid => "invalid_link_token",
            Self::TooManyAttempts { .. } => "rate_limited",
            Self::AttemptsUnavailable => "unavailable",
            Self::TotpNotEnabled => "totp_not_enabled",
            Self::TotpAlreadyEnabled => "totp_already_enabled",
            Self::OtpRequired => "otp_required",
            Self::SecondFactorAmbiguous => "validation_failed",
            Self::Random => "random_failure",
            Self::Crypto => "crypto_failure",
            Self::Store(_) => "store_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let all = [
            AuthError::PasswordTooShort { min: 8 },
            AuthError::PasswordTooLong { max: 128 },
            AuthError::PasswordTooCommon,
            AuthError::InvalidCredentials,
            AuthError::MalformedHash,
            AuthError::InvalidParams(String::new()),
            AuthError::InvalidOtp,
            AuthError::OtpReplay,
            AuthError::InvalidTotpSecret,
            AuthError::InvalidTotpConfig(""),
            AuthError::InvalidRecoveryCode,
            AuthError::TokenMalformed,
            AuthError::TokenAlgorithm,
            AuthError::TokenUnknownKey,
            AuthError::TokenSignature,
            AuthError::TokenMissingClaim("exp"),
            AuthError::TokenExpired,
            AuthError::TokenNotYetValid,
            AuthError::TokenIssuer,
            AuthError::TokenAudience,
            AuthError::TokenType,
            AuthError::TokenRevoked,
            AuthError::KeyConfig(String::new()),
            AuthError::RefreshInvalid,
            AuthError::RefreshExpired,
            AuthError::RefreshRevoked,
            AuthError::ReuseDetected {
                family: String::new(),
            },
            AuthError::Forbidden { permission: "x" },
            AuthError::OidcConfig(String::new()),
            AuthError::OidcDiscovery(String::new()),
            AuthError::OidcIssuerMismatch,
            AuthError::OidcStateMismatch,
            AuthError::OidcNonceMismatch,
            AuthError::OidcInvalidIdToken(crate::auth::oidc::IdTokenRejection::Signature),
            AuthError::OidcProvider {
                error: String::new(),
                description: None,
            },
            AuthError::OidcEmailTaken,
            AuthError::OidcEmailUnverified,
            AuthError::OidcIdentityLinkedElsewhere,
            AuthError::Random,
            AuthError::Crypto,
            AuthError::Store(Error::invalid("x", "y")),
        ];
        let mut seen = std::collections::HashSet::new();
        for e in &all {
            let c = e.code();
            assert!(seen.insert(c), "duplicate code {c}");
            assert!(
                c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
        }
    }
}
