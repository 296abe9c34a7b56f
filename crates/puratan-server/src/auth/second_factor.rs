//! TOTP second factor: enrol (secret + otpauth URI + QR code), confirm
//! with a first code (which turns it on and hands out recovery codes),
//! disable, regenerate recovery codes. Every change re-authenticates with
//! the password, ends every other session and is audited.

use puratan_core::auth::AuthError;
use puratan_core::auth::totp::{Totp, TotpAlgorithm, TotpSecret, generate_recovery_codes};
use puratan_core::domain::{TotpEnrolment, User};
use puratan_core::protect::Sealed;
use serde::Serialize;
use utoipa::ToSchema;

use super::session::{self, TokenPair};
use super::{Caller, ClientInfo, blocking, now, security_event};
use crate::http::error::{ApiError, ErrorCode};
use crate::state::App;

pub(crate) fn context(user: &User) -> String {
    format!("user:{}:totp_secret", user.id)
}

fn totp_of(app: &App, user: &User) -> Result<Totp, ApiError> {
    let enrolment = user.security.totp.as_ref().ok_or_else(not_enabled)?;
    let sealed: Sealed = enrolment.secret.parse().map_err(ApiError::internal)?;
    let secret = app
        .auth
        .keyring
        .open(&sealed, &context(user))
        .map_err(ApiError::internal)?;
    let secret = TotpSecret::from_bytes(&secret).map_err(ApiError::internal)?;
    Totp::new(secret, app.auth.totp).map_err(ApiError::internal)
}

fn not_enabled() -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::Conflict,
        "two-factor authentication is not enabled",
    );
    e.specific_code = Some("totp_not_enabled");
    e
}

/// Checks `code` against the user's secret and records its step as used
/// (the caller persists `user`).
pub fn verify_totp(app: &App, user: &mut User, code: &str, now: u64) -> Result<(), ApiError> {
    let totp = totp_of(app, user)?;
    let last = user.security.totp.as_ref().and_then(|t| t.last_step);
    let step = totp.verify(code, now, last)?;
    if let Some(t) = user.security.totp.as_mut() {
        t.last_step = Some(step);
    }
    Ok(())
}

async fn check_password(app: &App, user: &User, password: String) -> Result<(), ApiError> {
    let hasher = app.auth.hasher.clone();
    let phc = user.password_hash.clone();
    blocking(move || match phc {
        Some(phc) => hasher.verify(&password, &phc),
        None => Err(hasher.dummy_verify(&password)),
    })
    .await?
    .map_err(ApiError::from)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    /// Base32 secret for manual entry.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

pub async fn enrol(app: &App, caller: &Caller, password: String) -> Result<Enrolment, ApiError> {
    let mut user = app.users.get(caller.user).await?;
    check_password(app, &user, password).await?;
    if user.has_totp() {
        let mut e = ApiError::new(
            ErrorCode::Conflict,
            "two-factor authentication is already enabled",
        );
        e.specific_code = Some("totp_already_enabled");
        return Err(e);
    }
    let secret = TotpSecret::generate(TotpAlgorithm::Sha1)?;
    let sealed = app
        .auth
        .keyring
        .seal(secret.expose_bytes(), &context(&user))
        .map_err(ApiError::internal)?;
    let totp = Totp::new(secret.clone(), app.auth.totp)?;
    let uri = totp.otpauth_uri(&app.auth.config.totp_issuer, user.email.as_str())?;
    user.security.totp = Some(TotpEnrolment {
        secret: sealed.into_string(),
        confirmed: false,
        last_step: None,
    });
    app.users.update(user).await?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(ApiError::internal)?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment {
        secret: secret.to_base32(),
        otpauth_uri: uri,
        qr_svg,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    /// Shown once: store them somewhere safe. Each works once.
    pub recovery_codes: Vec<String>,
    /// Every other session was ended; this one continues with new tokens.
    pub tokens: TokenPair,
}

pub async fn confirm(
    app: &App,
    caller: &Caller,
    code: &str,
    client: &ClientInfo,
) -> Result<Confirmed, ApiError> {
    let mut user = app.users.get(caller.user).await?;
    match &user.security.totp {
        Some(t) if !t.confirmed => {}
        Some(_) => {
            let mut e = ApiError::new(
                ErrorCode::Conflict,
                "two-factor authentication is already enabled",
            );
            e.specific_code = Some("totp_already_enabled");
            return Err(e);
        }
        None => return Err(not_enabled()),
    }
    verify_totp(app, &mut user, code, now())?;
    if let Some(t) = user.security.totp.as_mut() {
        t.confirmed = true;
    }
    let (codes, hashes) = generate_recovery_codes()?;
    user.security.recovery_codes = hashes;
    let user = app.users.update(user).await?;
    let tokens = restart_sessions(app, &user, client).await?;
    security_event(
        app,
        &user.id.to_string(),
        "auth.2fa_enabled",
        Some(&user.id.to_string()),
        client,
        serde_json::Value::Null,
    )
    .await;
    Ok(Confirmed {
        recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
        tokens,
    })
}

/// Turns 2FA off: needs the password and a current code (or a recovery code).
pub async fn disable(
    app: &App,
    caller: &Caller,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<TokenPair, ApiError> {
    let mut user = app.users.get(caller.user).await?;
    if !user.has_totp() {
        return Err(not_enabled());
    }
    check_password(app, &user, password).await?;
    verify_code_or_recovery(app, &mut user, code)?;
    user.security.totp = None;
    user.security.recovery_codes.clear();
    let user = app.users.update(user).await?;
    let tokens = restart_sessions(app, &user, client).await?;
    security_event(
        app,
        &user.id.to_string(),
        "auth.2fa_disabled",
        Some(&user.id.to_string()),
        client,
        serde_json::Value::Null,
    )
    .await;
    Ok(tokens)
}

/// New recovery codes (the old ones stop working).
pub async fn regenerate_recovery_codes(
    app: &App,
    caller: &Caller,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<Vec<String>, ApiError> {
    let mut user = app.users.get(caller.user).await?;
    if !user.has_totp() {
        return Err(not_enabled());
    }
    check_password(app, &user, password).await?;
    verify_totp(app, &mut user, code, now())?;
    let (codes, hashes) = generate_recovery_codes()?;
    user.security.recovery_codes = hashes;
    let user = app.users.update(user).await?;
    security_event(
        app,
        &user.id.to_string(),
        "auth.recovery_codes_regenerated",
        Some(&user.id.to_string()),
        client,
        serde_json::Value::Null,
    )
    .await;
    Ok(codes.iter().map(|c| c.expose().to_owned()).collect())
}

/// A TOTP code, or a recovery code (longer, with dashes).
pub fn verify_code_or_recovery(app: &App, user: &mut User, code: &str) -> Result<(), ApiError> {
    let digits = code.chars().filter(char::is_ascii_digit).count();
    if digits == code.chars().filter(|c| !c.is_whitespace()).count() && digits <= 8 {
        verify_totp(app, user, code, now())
    } else {
        puratan_core::auth::totp::consume_recovery_code(code, &mut user.security.recovery_codes)
            .map_err(|_| AuthError::InvalidRecoveryCode.into())
    }
}

/// Ends every session of `user` and opens a fresh one for this client.
pub async fn restart_sessions(
    app: &App,
    user: &User,
    client: &ClientInfo,
) -> Result<TokenPair, ApiError> {
    session::revoke_all(app, user.id).await?;
    session::start(app, user, client).await
}
