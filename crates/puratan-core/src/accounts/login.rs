//! Password login (with an optional second step), refresh and logout.

use crate::ErrorKind;
use crate::auth::AuthError;
use crate::domain::{AccountStatus, Email, User, UserId};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::session::{self, TokenPair};
use super::{
    Accounts, ClientInfo, account_attempt, blocking, internal, now, random_token, secs,
    security_event, slot,
};
use crate::auth::tokens::AccessClaims;

const CHALLENGE: &str = "2fa";
/// How long the second step may take.
const CHALLENGE_TTL_SECS: u64 = 5 * 60;

/// The answer to a correct password.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LoginOutcome {
    /// No second factor: the session is open.
    Tokens(TokenPair),
    /// A second factor is required: call `POST /api/v1/auth/login/2fa`.
    SecondFactor(SecondFactorChallenge),
}

#[derive(Debug, Serialize)]
pub struct SecondFactorChallenge {
    /// Always true.
    pub mfa_required: bool,
    pub challenge_token: String,
    /// `totp`, `recovery_code`.
    pub methods: Vec<&'static str>,
    pub expires_in: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Challenge {
    user: UserId,
    attempts: u32,
    expires_at: u64,
}

/// Step one: e-mail and password. Unknown accounts cost the same argon2id
/// work as a wrong password and get the same answer.
pub async fn login(
    app: &Accounts,
    email: &str,
    password: String,
    client: &ClientInfo,
) -> Result<LoginOutcome, AuthError> {
    account_attempt(app, "login", &email.trim().to_lowercase()).await?;
    let user = match Email::parse(email) {
        Ok(email) => match app.ports.users.get_by_email(&email).await {
            Ok(u) => Some(u),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let Some(mut user) = user else {
        let hasher = app.hasher.clone();
        blocking(move || hasher.dummy_verify(&password)).await?;
        security_event(
            app,
            "anonymous",
            "auth.login_failed",
            None,
            client,
            serde_json::json!({ "reason": "unknown_account" }),
        )
        .await;
        return Err(AuthError::InvalidCredentials);
    };
    if let Some(until) = user.security.locked_until
        && until > Utc::now()
    {
        return Err(AuthError::AccountLocked {
            retry_after_secs: Some(
                u64::try_from((until - Utc::now()).num_seconds())
                    .unwrap_or(1)
                    .max(1),
            ),
        });
    }
    let verified = match user.password_hash.clone() {
        Some(phc) => {
            let hasher = app.hasher.clone();
            let pw = password.clone();
            blocking(move || hasher.verify(&pw, &phc)).await?
        }
        None => {
            let hasher = app.hasher.clone();
            let pw = password.clone();
            Err(blocking(move || hasher.dummy_verify(&pw)).await?)
        }
    };
    if let Err(e) = verified {
        if !matches!(e, AuthError::InvalidCredentials) {
            return Err(internal(e));
        }
        record_failure(app, &mut user, client).await?;
        return Err(AuthError::InvalidCredentials);
    }
    check_status(&user)?;
    // Success: reset the failure counter, upgrade the hash if the policy
    // changed since it was made.
    let mut changed = user.security.failed_logins != 0 || user.security.locked_until.is_some();
    user.security.failed_logins = 0;
    user.security.locked_until = None;
    if user
        .password_hash
        .as_deref()
        .is_some_and(|h| app.hasher.needs_rehash(h))
    {
        let hasher = app.hasher.clone();
        let pw = password;
        user.password_hash = Some(blocking(move || hasher.hash(&pw)).await??);
        changed = true;
    }
    if changed {
        user = app.ports.users.update(user).await?;
    }
    if user.has_totp() {
        let token = random_token("chl_")?;
        let challenge = Challenge {
            user: user.id,
            attempts: 0,
            expires_at: now() + CHALLENGE_TTL_SECS,
        };
        app.ports
            .sessions
            .put_one_time(
                &slot(CHALLENGE, &token),
                &encode(&challenge)?,
                secs(CHALLENGE_TTL_SECS),
            )
            .await?;
        return Ok(LoginOutcome::SecondFactor(SecondFactorChallenge {
            mfa_required: true,
            challenge_token: token,
            methods: vec!["totp", "recovery_code"],
            expires_in: CHALLENGE_TTL_SECS,
        }));
    }
    let pair = session::login(
        app,
        &user,
        client,
        serde_json::json!({ "method": "password" }),
    )
    .await?;
    Ok(LoginOutcome::Tokens(pair))
}

/// Accounts that may not log in even with the right password.
pub fn check_status(user: &User) -> Result<(), AuthError> {
    match user.status {
        AccountStatus::Active => Ok(()),
        AccountStatus::PendingVerification => Err(AuthError::EmailNotVerified),
        AccountStatus::Locked => Err(AuthError::AccountLocked {
            retry_after_secs: None,
        }),
        AccountStatus::Disabled => Err(AuthError::AccountDisabled),
    }
}

async fn record_failure(
    app: &Accounts,
    user: &mut User,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let cfg = &app.config;
    user.security.failed_logins = user.security.failed_logins.saturating_add(1);
    let locked = user.security.failed_logins >= cfg.max_failed_logins;
    if locked {
        user.security.failed_logins = 0;
        user.security.locked_until = Some(
            Utc::now() + chrono::Duration::seconds(i64::try_from(cfg.lockout_secs).unwrap_or(900)),
        );
    }
    match app.ports.users.update(user.clone()).await {
        Ok(_) => {}
        // A concurrent login changed the record: the attempt still failed;
        // the counter is best effort (the per-account rate limit is the hard bound).
        Err(e) if e.kind() == ErrorKind::Conflict => {}
        Err(e) => return Err(e.into()),
    }
    let id = user.id.to_string();
    security_event(
        app,
        &id,
        "auth.login_failed",
        Some(&id),
        client,
        serde_json::json!({ "reason": "wrong_password" }),
    )
    .await;
    if locked {
        security_event(
            app,
            "system",
            "auth.locked",
            Some(&id),
            client,
            serde_json::json!({ "for_secs": cfg.lockout_secs }),
        )
        .await;
    }
    Ok(())
}

fn encode<T: Serialize>(v: &T) -> Result<String, AuthError> {
    serde_json::to_string(v).map_err(internal)
}

/// Step two: a TOTP code or a recovery code for the challenge.
pub async fn second_factor(
    app: &Accounts,
    challenge_token: &str,
    code: Option<&str>,
    recovery_code: Option<&str>,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    let invalid = || AuthError::LinkInvalid;
    if challenge_token.len() > 128 {
        return Err(invalid());
    }
    let key = slot(CHALLENGE, challenge_token);
    let raw = app
        .ports
        .sessions
        .take_one_time(&key)
        .await?
        .ok_or_else(invalid)?;
    let mut challenge: Challenge = serde_json::from_str(&raw).map_err(internal)?;
    let t = now();
    if t >= challenge.expires_at {
        return Err(invalid());
    }
    account_attempt(app, "2fa", &challenge.user.to_string()).await?;
    let mut user = app.ports.users.get(challenge.user).await?;
    let result = match (code, recovery_code) {
        (Some(code), None) => super::second_factor::verify_totp(app, &mut user, code, t),
        (None, Some(rc)) => {
            crate::auth::totp::consume_recovery_code(rc, &mut user.security.recovery_codes)
        }
        _ => {
            return Err(AuthError::SecondFactorAmbiguous);
        }
    };
    if let Err(e) = result {
        challenge.attempts += 1;
        if challenge.attempts < app.config.max_otp_attempts {
            app.ports
                .sessions
                .put_one_time(&key, &encode(&challenge)?, secs(challenge.expires_at - t))
                .await?;
        }
        let id = user.id.to_string();
        security_event(
            app,
            &id,
            "auth.2fa_failed",
            Some(&id),
            client,
            serde_json::json!({ "attempts": challenge.attempts }),
        )
        .await;
        return Err(e);
    }
    // Persisting the used step (or the consumed recovery code) with the
    // version check is what makes each code single-use under concurrency.
    let user = match app.ports.users.update(user).await {
        Ok(u) => u,
        Err(e) if e.kind() == ErrorKind::Conflict => return Err(AuthError::OtpReplay),
        Err(e) => return Err(e.into()),
    };
    check_status(&user)?;
    let method = if code.is_some() {
        "totp"
    } else {
        "recovery_code"
    };
    session::login(app, &user, client, serde_json::json!({ "method": method })).await
}

/// Rotates a refresh token. Reuse of a rotated token revokes the session
/// (all its tokens) and is audited.
pub async fn refresh(
    app: &Accounts,
    presented: &str,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    let auth = app;
    let t = now();
    let rotated = match auth
        .refresh
        .rotate(auth.ports.refresh_store.as_ref(), presented, t)
        .await
    {
        Ok(r) => r,
        Err(AuthError::ReuseDetected { family }) => {
            // Access tokens of the session stop too.
            auth.tokens
                .revoke_session(&family, app.ports.sessions.as_ref())
                .await?;
            app.ports.sessions.delete_session(&family).await?;
            security_event(
                app,
                "anonymous",
                "auth.refresh_reuse",
                Some(&family),
                client,
                serde_json::json!({ "session": family }),
            )
            .await;
            return Err(AuthError::ReuseDetected { family });
        }
        Err(e) => return Err(e),
    };
    let user_id = UserId::parse(&rotated.record.subject).map_err(internal)?;
    let user = app.ports.users.get(user_id).await?;
    if let Err(e) = check_status(&user) {
        session::revoke(app, &rotated.record.family.0).await?;
        return Err(e);
    }
    session::touch(
        app,
        &rotated.record.family.0,
        user.id,
        client,
        rotated.record.family_expires_at.saturating_sub(t),
    )
    .await?;
    session::tokens(app, &user, rotated.token, &rotated.record, t)
}

/// Ends the caller's session: the access token is denied for the rest of
/// its life, the refresh family revoked.
pub async fn logout(
    app: &Accounts,
    claims: &AccessClaims,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    app.tokens
        .revoke(claims, now(), app.ports.sessions.as_ref())
        .await?;
    if let Some(sid) = &claims.sid {
        session::revoke(app, sid).await?;
    }
    let id = claims.sub.clone();
    security_event(
        app,
        &id,
        "auth.logout",
        claims.sid.as_deref(),
        client,
        serde_json::Value::Null,
    )
    .await;
    Ok(())
}

/// Ends every session of the caller.
pub async fn logout_all(
    app: &Accounts,
    claims: &AccessClaims,
    client: &ClientInfo,
) -> Result<usize, AuthError> {
    app.tokens
        .revoke(claims, now(), app.ports.sessions.as_ref())
        .await?;
    let user = UserId::parse(&claims.sub)?;
    let n = session::revoke_all(app, user).await?;
    let id = claims.sub.clone();
    security_event(
        app,
        &id,
        "auth.logout_all",
        Some(&id),
        client,
        serde_json::json!({ "sessions": n }),
    )
    .await;
    Ok(n)
}
