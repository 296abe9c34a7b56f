//! Registration, e-mail verification, password change and reset.

use crate::ErrorKind;
use crate::auth::password::check_policy;
use crate::domain::{AccountStatus, Email, User, UserId};
use crate::ports::{Notification, NotificationKind};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::session::TokenPair;
use super::{
    Accounts, ClientInfo, account_attempt, blocking, internal, now, random_token, secs,
    security_event, slot,
};
use crate::auth::AuthError;

const VERIFY: &str = "verify";
const RESET: &str = "reset";

/// Creates an unverified customer and mails a verification link. The
/// answer is the same whether or not the address is already registered
/// (the owner of an existing account gets a notice instead), so the
/// endpoint cannot be used to find out who has an account.
pub async fn register(
    app: &Accounts,
    email: &str,
    password: String,
    display_name: String,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let email = Email::parse(email)?;
    check_policy(&password)?;
    let display_name = crate::domain::text::clean("display_name", &display_name, 100, false)?;
    let hasher = app.hasher.clone();
    let phc = blocking(move || hasher.hash(&password)).await??;
    let user = User::new_customer(email.clone(), display_name, Some(phc));
    match app.ports.users.insert(user).await {
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

async fn send_verification(app: &Accounts, user: &User) -> Result<(), AuthError> {
    let token = random_token("ver_")?;
    app.ports
        .sessions
        .put_one_time(
            &slot(VERIFY, &token),
            &user.id.to_string(),
            secs(app.config.verify_email_ttl_secs),
        )
        .await?;
    let link = format!("{}/verify-email?token={token}", app.config.public_base_url);
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
pub async fn notify(app: &Accounts, message: Notification) {
    let kind = message.kind;
    if let Err(e) = app.ports.notifier.send(message).await {
        tracing::error!(error = %e, ?kind, "could not send notification");
    }
}

pub async fn verify_email(
    app: &Accounts,
    token: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let invalid = || AuthError::LinkInvalid;
    if token.len() > 128 {
        return Err(invalid());
    }
    let id = app
        .ports
        .sessions
        .take_one_time(&slot(VERIFY, token))
        .await?
        .ok_or_else(invalid)?;
    let id = UserId::parse(&id).map_err(internal)?;
    let mut user = app.ports.users.get(id).await?;
    user.email_verified_at = Some(Utc::now());
    if user.status == AccountStatus::PendingVerification {
        user.status = AccountStatus::Active;
    }
    app.ports.users.update(user).await?;
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
    app: &Accounts,
    user_id: UserId,
    current: String,
    new: String,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    check_policy(&new)?;
    let mut user = app.ports.users.get(user_id).await?;
    let hasher = app.hasher.clone();
    let phc = user.password_hash.clone();
    blocking(move || -> Result<String, AuthError> {
        match phc {
            Some(phc) => hasher.verify(&current, &phc)?,
            None => return Err(hasher.dummy_verify(&current)),
        }
        hasher.hash(&new)
    })
    .await?
    .map(|h| user.password_hash = Some(h))?;
    user.security.password_changed_at = Some(Utc::now());
    let user = app.ports.users.update(user).await?;
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
pub async fn request_reset(
    app: &Accounts,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    account_attempt(app, "reset", &email.trim().to_lowercase()).await?;
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    match app.ports.users.get_by_email(&email).await {
        Ok(user) if user.status != AccountStatus::Disabled => {
            let token = random_token("rst_")?;
            let ttl = app.config.password_reset_ttl_secs;
            let ticket = ResetTicket {
                user: user.id,
                expires_at: now() + ttl,
            };
            let value = serde_json::to_string(&ticket).map_err(internal)?;
            app.ports
                .sessions
                .put_one_time(&slot(RESET, &token), &value, secs(ttl))
                .await?;
            let link = format!(
                "{}/reset-password?token={token}",
                app.config.public_base_url
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
    app: &Accounts,
    token: &str,
    new_password: String,
    code: Option<&str>,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let invalid = || AuthError::LinkInvalid;
    if token.len() > 128 {
        return Err(invalid());
    }
    check_policy(&new_password)?;
    let key = slot(RESET, token);
    let raw = app
        .ports
        .sessions
        .take_one_time(&key)
        .await?
        .ok_or_else(invalid)?;
    let ticket: ResetTicket = serde_json::from_str(&raw).map_err(internal)?;
    let t = now();
    if t >= ticket.expires_at {
        return Err(invalid());
    }
    account_attempt(app, "reset_confirm", &ticket.user.to_string()).await?;
    let mut user = app.ports.users.get(ticket.user).await?;
    if user.has_totp() {
        let checked = match code {
            Some(code) => super::second_factor::verify_code_or_recovery(app, &mut user, code),
            None => Err(AuthError::OtpRequired),
        };
        if let Err(e) = checked {
            app.ports
                .sessions
                .put_one_time(&key, &raw, secs(ticket.expires_at - t))
                .await?;
            return Err(e);
        }
    }
    let hasher = app.hasher.clone();
    user.password_hash = Some(blocking(move || hasher.hash(&new_password)).await??);
    user.security.password_changed_at = Some(Utc::now());
    user.security.failed_logins = 0;
    user.security.locked_until = None;
    let user = app.ports.users.update(user).await?;
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
