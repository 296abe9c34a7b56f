//! Login sessions: one refresh-token family per login, listed with device,
//! IP and last use, revocable one by one or all at once.

use crate::auth::tokens::FamilyId;
use crate::domain::{User, UserId};
use crate::ports::Session;
use serde::Serialize;

use super::{Accounts, ClientInfo, now, secs};
use crate::auth::AuthError;
use crate::auth::tokens::{RefreshRecord, RefreshToken};

/// What a successful login or refresh returns.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
    /// Single use: each refresh returns a new one.
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    /// The login session (see `GET /api/v1/me/sessions`).
    pub session_id: String,
}

/// Starts a new login session for `user` and returns its first tokens.
pub async fn start(
    app: &Accounts,
    user: &User,
    client: &ClientInfo,
) -> Result<TokenPair, AuthError> {
    let t = now();
    let auth = app;
    let (refresh, record) = auth
        .refresh
        .issue(auth.ports.refresh_store.as_ref(), &user.id.to_string(), t)
        .await?;
    let sid = record.family.0.clone();
    let session = Session {
        id: sid.clone(),
        user_id: user.id,
        device: client.device.clone(),
        ip: client.ip.clone(),
        created_at: chrono::Utc::now(),
        last_seen: chrono::Utc::now(),
    };
    app.ports
        .sessions
        .put_session(&session, secs(record.family_expires_at.saturating_sub(t)))
        .await?;
    tokens(app, user, refresh, &record, t)
}

/// The pair handed to the client: a fresh access token for `user` in the
/// session of `record`, plus the refresh token just issued or rotated.
pub fn tokens(
    app: &Accounts,
    user: &User,
    refresh: RefreshToken,
    record: &RefreshRecord,
    now: u64,
) -> Result<TokenPair, AuthError> {
    let sid = record.family.0.clone();
    let (access, _) =
        app.tokens
            .issue_in_session(&user.id.to_string(), &user.roles, Some(&sid), now)?;
    Ok(TokenPair {
        access_token: access.into_string(),
        token_type: "Bearer",
        expires_in: app.config.access_ttl_secs,
        refresh_token: refresh.into_string(),
        refresh_expires_in: record.expires_at.saturating_sub(now),
        session_id: sid,
    })
}

/// Opens a session after a successful login and records it
/// (`auth.login` with `details`, e.g. the method).
pub async fn login(
    app: &Accounts,
    user: &User,
    client: &ClientInfo,
    details: serde_json::Value,
) -> Result<TokenPair, AuthError> {
    let pair = start(app, user, client).await?;
    super::security_event(
        app,
        &user.id.to_string(),
        "auth.login",
        Some(&pair.session_id),
        client,
        details,
    )
    .await;
    Ok(pair)
}

/// Ends one session: its refresh family, its access tokens, its listing.
pub async fn revoke(app: &Accounts, sid: &str) -> Result<(), AuthError> {
    app.ports
        .refresh_store
        .revoke_family(&FamilyId(sid.to_owned()))
        .await?;
    app.tokens
        .revoke_session(sid, app.ports.sessions.as_ref())
        .await?;
    app.ports.sessions.delete_session(sid).await?;
    Ok(())
}

/// Ends every session of `user` (password change, 2FA change, disable,
/// "log out everywhere").
pub async fn revoke_all(app: &Accounts, user: UserId) -> Result<usize, AuthError> {
    app.ports
        .refresh_store
        .revoke_subject(&user.to_string())
        .await?;
    let sessions = app.ports.sessions.list_sessions(user).await?;
    for s in &sessions {
        revoke(app, &s.id).await?;
    }
    Ok(sessions.len())
}

/// Records that session `sid` was used just now (re-creating the listing
/// if an in-process store lost it in a restart).
pub async fn touch(
    app: &Accounts,
    sid: &str,
    user: UserId,
    client: &ClientInfo,
    ttl_secs: u64,
) -> Result<(), AuthError> {
    let mut session = app
        .ports
        .sessions
        .get_session(sid)
        .await?
        .unwrap_or(Session {
            id: sid.to_owned(),
            user_id: user,
            device: client.device.clone(),
            ip: client.ip.clone(),
            created_at: chrono::Utc::now(),
            last_seen: chrono::Utc::now(),
        });
    session.last_seen = chrono::Utc::now();
    session.ip = client.ip.clone();
    app.ports
        .sessions
        .put_session(&session, secs(ttl_secs))
        .await?;
    Ok(())
}
