//! Registration, e-mail verification, password change and reset.

use chrono::Utc;
use puratan_core::ErrorKind;
use puratan_core::auth::password::check_policy;
use puratan_core::domain::{AccountStatus, Email, User, UserId};
use puratan_core::ports::{Notification, NotificationKind};
use serde::{Deserialize, Serialize};

use super::session::TokenPair;
use super::{
    Caller, ClientInfo, account_attempt, blocking, now, random_token, secs, security_event, slot,
};
use crate::http::error::{ApiError, ErrorCode};
use crate::state::App;

const VERIFY: &str = "verify";
const RESET: &str = "reset";

/// Creates an unverified customer and mails a verification link. The
/// answer is the same whether or not the address is already registered
/// (the owner of an existing account gets a notice instead), so the
/// endpoint cannot be used to find out who has an account.
pub async fn register(
    app: &App,
    email: &str,
    password: String,
    display_name: String,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    let email = Email::parse(email)?;
    check_policy(&password)?;
    let display_name =
        puratan_core::domain::text::clean("display_name", &display_name, 100, false)?;
    let hasher = app.auth.hasher.clone();
    let phc = blocking(move || hasher.hash(&password)).await??;
    let user = User::new_customer(email.clone(), display_name, Some(phc));
    match app.users.insert(user).await {
        Ok(user) => {
            send_verification(app, &user).await?;
            security_event(
                app,
                &user.id.to_string(),
                "auth.registered",
                Some(&user.id.to_string()),
                client,
                serde_json::Value::Null,
            )
            .await;
        }
        Err(e) if e.kind() == ErrorKind::Conflict => {
            notify(app, Notification {
                to: email,
                kind: NotificationKind::SecurityAlert,
                subject: "Someone tried to register with your address".into(),
                body: "An account with this e-mail address already exists. If this was you, log in or reset your password.".into(),
                token: None,
            })
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

async fn send_verification(app: &App, user: &User) -> Result<(), ApiError> {
    let token = random_token("ver_")?;
    app.sessions
        .put_one_time(
            &slot(VERIFY, &token),
            &user.id.to_string(),
            secs(app.auth.config.verify_email_ttl_secs),
        )
        .await?;
    let link = format!(
        "{}/verify-email?token={token}",
        app.auth.config.public_base_url
    );
    notify(
        app,
        Notification {
            to: user.email.clone(),
            kind: NotificationKind::VerifyEmail,
            subject: "Confirm your e-mail address".into(),
            body: format!("Welcome! Confirm your address: {link}"),
            token: Some(token),
        },
    )
    .await;
    Ok(())
}

/// Sends, logging failures: mail trouble must not turn into a different
/// HTTP answer (that would leak whether an account exists).
pub async fn notify(app: &App, message: Notification) {
    let kind = message.kind;
    if let Err(e) = app.auth.notifier.send(message).await {
        tracing::error!(error = %e, ?kind, "could not send notification");
    }
}

pub async fn verify_email(app: &App, token: &str, client: &ClientInfo) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidLinkToken,
            "the verification link is invalid or expired",
        )
    };
    if token.len() > 128 {
        return Err(invalid());
    }
    let id = app
        .sessions
        .take_one_time(&slot(VERIFY, token))
        .await?
        .ok_or_else(invalid)?;
    let id = UserId::parse(&id).map_err(ApiError::internal)?;
    let mut user = app.users.get(id).await?;
    user.email_verified_at = Some(Utc::now());
    if user.status == AccountStatus::PendingVerification {
        user.status = AccountStatus::Active;
    }
    app.users.update(user).await?;
    security_event(
        app,
        &id.to_string(),
        "auth.email_verified",
        Some(&id.to_string()),
        client,
        serde_json::Value::Null,
    )
    .await;
    Ok(())
}

/// Changes the caller's password; every session ends, this client gets a
/// fresh one.
pub async fn change_password(
    app: &App,
    caller: &Caller,
    current: String,
    new: String,
    client: &ClientInfo,
) -> Result<TokenPair, ApiError> {
    check_policy(&new)?;
    let mut user = app.users.get(caller.user).await?;
    let hasher = app.auth.hasher.clone();
    let phc = user.password_hash.clone();
    blocking(move || -> Result<String, ApiError> {
        match phc {
            Some(phc) => hasher.verify(&current, &phc)?,
            None => return Err(hasher.dummy_verify(&current).into()),
        }
        Ok(hasher.hash(&new)?)
    })
    .await?
    .map(|h| user.password_hash = Some(h))?;
    user.security.password_changed_at = Some(Utc::now());
    let user = app.users.update(user).await?;
    let tokens = super::second_factor::restart_sessions(app, &user, client).await?;
    security_event(
        app,
        &user.id.to_string(),
        "auth.password_changed",
        Some(&user.id.to_string()),
        client,
        serde_json::Value::Null,
    )
    .await;
    notify(app, Notification {
        to: user.email.clone(),
        kind: NotificationKind::SecurityAlert,
        subject: "Your password was changed".into(),
        body: "Your password was changed and every other session was logged out. If this was not you, reset your password now.".into(),
        token: None,
    })
    .await;
    Ok(tokens)
}

#[derive(Debug, Serialize, Deserialize)]
struct ResetTicket {
    user: UserId,
    expires_at: u64,
}

/// Always succeeds (202): whether the address has an account is not
/// revealed, by the answer or by its timing (both branches send one
/// message).
pub async fn request_reset(app: &App, email: &str, client: &ClientInfo) -> Result<(), ApiError> {
    account_attempt(app, "reset", &email.trim().to_lowercase()).await?;
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    match app.users.get_by_email(&email).await {
        Ok(user) if user.status != AccountStatus::Disabled => {
            let token = random_token("rst_")?;
            let ttl = app.auth.config.password_reset_ttl_secs;
            let ticket = ResetTicket {
                user: user.id,
                expires_at: now() + ttl,
            };
            let value = serde_json::to_string(&ticket).map_err(ApiError::internal)?;
            app.sessions
                .put_one_time(&slot(RESET, &token), &value, secs(ttl))
                .await?;
            let link = format!(
                "{}/reset-password?token={token}",
                app.auth.config.public_base_url
            );
            notify(
                app,
                Notification {
                    to: email,
                    kind: NotificationKind::PasswordReset,
                    subject: "Reset your password".into(),
                    body: format!(
                        "Choose a new password: {link} (valid for {} minutes)",
                        ttl / 60
                    ),
                    token: Some(token),
                },
            )
            .await;
            security_event(
                app,
                &user.id.to_string(),
                "auth.password_reset_requested",
                Some(&user.id.to_string()),
                client,
                serde_json::Value::Null,
            )
            .await;
        }
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            notify(app, Notification {
                to: email,
                kind: NotificationKind::PasswordResetUnknown,
                subject: "Password reset".into(),
                body: "Someone asked to reset the password of an account with this address, but there is none.".into(),
                token: None,
            })
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Sets a new password from a reset link. With 2FA on, a current code (or
/// a recovery code) is required too: a mailbox alone is not enough. A
/// wrong code puts the ticket back (attempts are rate limited per account).
pub async fn confirm_reset(
    app: &App,
    token: &str,
    new_password: String,
    code: Option<&str>,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidLinkToken,
            "the reset link is invalid or expired",
        )
    };
    if token.len() > 128 {
        return Err(invalid());
    }
    check_policy(&new_password)?;
    let key = slot(RESET, token);
    let raw = app
        .sessions
        .take_one_time(&key)
        .await?
        .ok_or_else(invalid)?;
    let ticket: ResetTicket = serde_json::from_str(&raw).map_err(ApiError::internal)?;
    let t = now();
    if t >= ticket.expires_at {
        return Err(invalid());
    }
    account_attempt(app, "reset_confirm", &ticket.user.to_string()).await?;
    let mut user = app.users.get(ticket.user).await?;
    if user.has_totp() {
        let checked = match code {
            Some(code) => super::second_factor::verify_code_or_recovery(app, &mut user, code),
            None => Err(ApiError::new(
                ErrorCode::InvalidOtp,
                "this account has two-factor authentication: send `code`",
            )
            .with_details(serde_json::json!({ "field": "code" }))),
        };
        if let Err(e) = checked {
            app.sessions
                .put_one_time(&key, &raw, secs(ticket.expires_at - t))
                .await?;
            return Err(e);
        }
    }
    let hasher = app.auth.hasher.clone();
    user.password_hash = Some(blocking(move || hasher.hash(&new_password)).await??);
    user.security.password_changed_at = Some(Utc::now());
    user.security.failed_logins = 0;
    user.security.locked_until = None;
    let user = app.users.update(user).await?;
    super::session::revoke_all(app, user.id).await?;
    security_event(
        app,
        &user.id.to_string(),
        "auth.password_reset",
        Some(&user.id.to_string()),
        client,
        serde_json::Value::Null,
    )
    .await;
    notify(
        app,
        Notification {
            to: user.email.clone(),
            kind: NotificationKind::SecurityAlert,
            subject: "Your password was reset".into(),
            body: "Your password was reset and every session was logged out.".into(),
            token: None,
        },
    )
    .await;
    Ok(())
}
