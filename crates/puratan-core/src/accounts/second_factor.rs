//! TOTP second factor: enrol (secret + otpauth URI + QR code), confirm
//! with a first code (which turns it on and hands out recovery codes),
//! disable, regenerate recovery codes. Every change re-authenticates with
//! the password, ends every other session and is audited.

use crate::auth::AuthError;
use crate::auth::totp::{Totp, TotpAlgorithm, TotpSecret, generate_recovery_codes};
use crate::domain::{TotpEnrolment, User, UserId};
use crate::protect::Sealed;
use serde::Serialize;

use super::session::{self, TokenPair};
use super::{Accounts, ClientInfo, blocking, internal, now, security_event};

pub fn context(user: &User) -> String {
    format!("user:{}:totp_secret", user.id)
}

fn totp_of(app: &Accounts, user: &User) -> Result<Totp, AuthError> {
    let enrolment = user.security.totp.as_ref().ok_or_else(not_enabled)?;
    let sealed: Sealed = enrolment.secret.parse().map_err(internal)?;
    let secret = app
        .keyring
        .open(&sealed, &context(user))
        .map_err(internal)?;
    let secret = TotpSecret::from_bytes(&secret).map_err(internal)?;
    Totp::new(secret, app.totp).map_err(internal)
}

fn not_enabled() -> AuthError {
    AuthError::TotpNotEnabled
}

/// Checks `code` against the user's secret and records its step as used
/// (the caller persists `user`).
pub fn verify_totp(app: &Accounts, user: &mut User, code: &str, now: u64) -> Result<(), AuthError> {
    let totp = totp_of(app, user)?;
    let last = user.security.totp.as_ref().and_then(|t| t.last_step);
    let step = totp.verify(code, now, last)?;
    if let Some(t) = user.security.totp.as_mut() {
        t.last_step = Some(step);
    }
    Ok(())
}

async fn check_password(app: &Accounts, user: &User, password: String) -> Result<(), AuthError> {
    let hasher = app.hasher.clone();
    let phc = user.password_hash.clone();
    blocking(move || match phc {
        Some(phc) => hasher.verify(&password, &phc),
        None => Err(hasher.dummy_verify(&password)),
    })
    .await?
}

#[derive(Debug, Serialize)]
pub struct Enrolment {
    /// Base32 secret for manual entry.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

pub async fn enrol(
    app: &Accounts,
    user_id: UserId,
    password: String,
) -> Result<Enrolment, AuthError> {
    let mut user = app.ports.users.get(user_id).await?;
    check_password(app, &user, password).await?;
    if user.has_totp() {
        return Err(AuthError::TotpAlreadyEnabled);
    }
    let secret = TotpSecret::generate(TotpAlgorithm::Sha1)?;
    let sealed = app
        .keyring
        .seal(secret.expose_bytes(), &context(&user))
        .map_err(internal)?;
    let totp = Totp::new(secret.clone(), app.totp)?;
    let uri = totp.otpauth_uri(&app.config.totp_issuer, user.email.as_str())?;
    user.security.totp = Some(TotpEnrolment {
        secret: sealed.into_string(),
        confirmed: false,
        last_step: None,
    });
    app.ports.users.update(user).await?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(internal)?;
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

#[derive(Debug, Serialize)]
pub struct Confirmed {
    /// Shown once: store them somewhere safe. Each works once.
    pub recovery_codes: Vec<String>,
    /// Every other session was ended; this one continues with new tokens.
    pub tokens: TokenPair,
}

pub async fn confirm(
    app: &Accounts,
    user_id: UserId,
    code: &str,
    client: &ClientInfo,
) -> Result<Confirmed, AuthError> {
    let mut user = app.ports.users.get(user_id).await?;
    match &user.security.totp {
        Some(t) if !t.confirmed => {}
        Some(_) => {
            return Err(AuthError::TotpAlreadyEnabled);
        }
        None => return Err(not_enabled()),
    }
    verify_totp(app, &mut user, code, now())?;
    if let Some(t) = user.security.totp.as_mut() {
        t.confirmed = true;
    }
    let (codes, hashes) = generate_recovery_codes()?;
    user.security.recovery_codes = hashes;
    let user = app.ports.users.update(user).await?;
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
    app: &Accounts,
    user_id: UserId,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    let mut user = app.ports.users.get(user_id).await?;
    if !user.has_totp() {
        return Err(not_enabled());
    }
    check_password(app, &user, password).await?;
    verify_code_or_recovery(app, &mut user, code)?;
    user.security.totp = None;
    user.security.recovery_codes.clear();
    let user = app.ports.users.update(user).await?;
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
    app: &Accounts,
    user_id: UserId,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<Vec<String>, AuthError> {
    let mut user = app.ports.users.get(user_id).await?;
    if !user.has_totp() {
        return Err(not_enabled());
    }
    check_password(app, &user, password).await?;
    verify_totp(app, &mut user, code, now())?;
    let (codes, hashes) = generate_recovery_codes()?;
    user.security.recovery_codes = hashes;
    let user = app.ports.users.update(user).await?;
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
pub fn verify_code_or_recovery(
    app: &Accounts,
    user: &mut User,
    code: &str,
) -> Result<(), AuthError> {
    let digits = code.chars().filter(char::is_ascii_digit).count();
    if digits == code.chars().filter(|c| !c.is_whitespace()).count() && digits <= 8 {
        verify_totp(app, user, code, now())
    } else {
        crate::auth::totp::consume_recovery_code(code, &mut user.security.recovery_codes)
            .map_err(|_| AuthError::InvalidRecoveryCode)
    }
}

/// Ends every session of `user` and opens a fresh one for this client.
pub async fn restart_sessions(
    app: &Accounts,
    user: &User,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    session::revoke_all(app, user.id).await?;
    session::start(app, user, client).await
}
