//! `/api/v1/me`: the caller's profile, sessions and history.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{AccountStatus, Role, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, ClientInfo, security_event, session};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::App;

/// A user as shown to themselves and to staff. Secrets (password hash,
/// TOTP secret, recovery codes) never leave the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    #[schema(value_type = String)]
    pub status: AccountStatus,
    pub email_verified: bool,
    pub two_factor_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub preferences: BTreeMap<String, String>,
    /// Issuers of linked external accounts.
    pub linked_providers: Vec<String>,
    pub version: u64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.to_string(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            status: u.status,
            email_verified: u.email_verified_at.is_some(),
            two_factor_enabled: u.has_totp(),
            created_at: u.created_at,
            preferences: u.preferences.clone(),
            linked_providers: u.identities.iter().map(|i| i.issuer.clone()).collect(),
            version: u.version,
        }
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn get_me(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    use crate::profile_cache;
    let body = match profile_cache::get(app.cache.as_ref(), caller.user).await {
        Some(body) => body,
        None => {
            let user = app.users.get(caller.user).await?;
            let body = Bytes::from(
                serde_json::to_vec(&UserView::from(&user)).map_err(ApiError::internal)?,
            );
            profile_cache::put(app.cache.as_ref(), caller.user, body.clone()).await;
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// What a customer may change about themselves. Anything else (role,
/// status, e-mail) is an unknown field and rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    /// Replaces the preferences map (≤ 32 entries, keys ≤ 64, values ≤ 256
    /// characters). Keys under `notify.` are notification settings
    /// (docs/notifications.md): only the known ones, with `on` or `off`.
    pub preferences: Option<BTreeMap<String, String>>,
    /// The version you read (optimistic concurrency).
    pub version: u64,
}

/// Update the caller's profile.
#[utoipa::path(patch, path = "/api/v1/me", tag = "account", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, body = UserView), (status = 409, body = crate::http::error::ErrorBody), (status = 422, description = "validation_failed, preference_invalid", body = crate::http::error::ErrorBody)))]
pub async fn patch_me(
    State(app): State<App>,
    caller: Caller,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<Json<UserView>, ApiError> {
    use puratan_core::domain::text::clean;
    caller.require(Permission::ProfileManageOwn)?;
    let mut user = app.users.get(caller.user).await?;
    user.version = patch.version;
    if let Some(name) = patch.display_name {
        user.display_name = clean("display_name", &name, 100, false)?;
    }
    if let Some(prefs) = patch.preferences {
        if prefs.len() > 32 {
            return Err(puratan_core::Error::invalid("preferences", "at most 32 entries").into());
        }
        let mut cleaned = BTreeMap::new();
        for (k, v) in prefs {
            cleaned.insert(
                clean("preferences.key", &k, 64, false)?,
                clean("preferences.value", &v, 256, false)?,
            );
        }
        if let Some((key, value)) = crate::notifications::prefs::invalid(&cleaned) {
            use crate::notifications::prefs;
            return Err(ApiError::new(
                crate::http::error::ErrorCode::PreferenceInvalid,
                format!("preference {key} cannot be {value:?}"),
            )
            .with_details(serde_json::json!({
                "key": key,
                "allowed_keys": prefs::KEYS,
                "allowed_values": prefs::VALUES,
            })));
        }
        user.preferences = cleaned;
    }
    let user = app.users.update(user).await?;
    Ok(Json(UserView::from(&user)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The session this request was made with.
    pub current: bool,
}

/// The caller's active sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>)))]
pub async fn list_sessions(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let sessions = app.sessions.list_sessions(caller.user).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: caller.claims.sid.as_deref() == Some(s.id.as_str()),
                id: s.id,
                device: s.device,
                ip: s.ip,
                created_at: s.created_at,
                last_seen: s.last_seen,
            })
            .collect(),
    ))
}

/// End one of the caller's sessions. Someone else's session id is 404.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn revoke_session(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let owned = app
        .sessions
        .get_session(&id)
        .await?
        .is_some_and(|s| s.user_id == caller.user);
    if !owned {
        return Err(ApiError::not_found("session"));
    }
    session::revoke(&app.auth, &id).await?;
    security_event(
        &app.auth,
        &caller.user.to_string(),
        "auth.session_revoked",
        Some(&id),
        &client,
        serde_json::Value::Null,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub ip: Option<String>,
}

/// The caller's recent security history (logins, password and 2FA
/// changes), newest first.
#[utoipa::path(get, path = "/api/v1/me/history", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<HistoryEntry>)))]
pub async fn history(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let events = app.audit.recent(Some(&caller.user.to_string()), 50).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| HistoryEntry {
                at: e.at,
                action: e.action,
                ip: e.ip,
            })
            .collect(),
    ))
}
