//! `/api/v1/admin/users`: customer management for staff (read) and admins
//! (lock, unlock, disable, roles, messages). Permission checks come from
//! core's RBAC table, so the CLI and any other front door agree.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{AccountStatus, Email, Role, UserId};
use puratan_core::ports::{AuditEvent, Cursor, Notification, NotificationKind, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::me::UserView;
use crate::auth::{Caller, ClientInfo, security_event, session};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::App;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Exact e-mail address (case-insensitive): returns at most one user.
    pub email: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

fn user_id(s: &str) -> Result<UserId, ApiError> {
    UserId::parse(s).map_err(|_| ApiError::not_found("user"))
}

/// List users (oldest first) or find one by e-mail.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(UserQuery), security(("bearer" = [])),
    responses((status = 200, body = UserPage), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Json<UserPage>, ApiError> {
    caller.require(Permission::UsersRead)?;
    if let Some(email) = q.email {
        let items = match Email::parse(&email) {
            Ok(e) => match app.users.get_by_email(&e).await {
                Ok(u) => vec![UserView::from(&u)],
                Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            Err(_) => Vec::new(),
        };
        return Ok(Json(UserPage {
            items,
            next_cursor: None,
        }));
    }
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let page = app.users.list(&page).await?;
    Ok(Json(UserPage {
        items: page.items.iter().map(UserView::from).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetail {
    pub user: UserView,
    /// Newest first: logins, failures, password and 2FA changes…
    #[schema(value_type = Vec<Object>)]
    pub audit: Vec<AuditEvent>,
    pub sessions: usize,
    /// The customer's most recent order ids.
    pub recent_orders: Vec<String>,
}

/// One user's profile and history.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = UserDetail), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<UserDetail>, ApiError> {
    caller.require(Permission::UsersRead)?;
    let user = app.users.get(user_id(&id)?).await?;
    let audit = app.audit.recent(Some(&user.id.to_string()), 100).await?;
    let sessions = app.sessions.list_sessions(user.id).await?.len();
    let orders = app
        .orders
        .list_by_customer(user.id, &PageRequest::first(20))
        .await?;
    Ok(Json(UserDetail {
        user: UserView::from(&user),
        audit,
        sessions,
        recent_orders: orders.items.iter().map(|o| o.id.to_string()).collect(),
    }))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    Lock,
    Unlock,
    Disable,
    Enable,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub action: StatusAction,
    /// Why (kept in the audit log).
    pub reason: Option<String>,
}

/// Lock, unlock, disable or re-enable an account. Locking or disabling
/// ends every session at once.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/status", tag = "admin", params(("id" = String, Path)), security(("bearer" = [])),
    request_body = StatusInput, responses((status = 200, body = UserView), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn set_status(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Permission::UsersManage)?;
    let mut user = app.users.get(user_id(&id)?).await?;
    user.status = match input.action {
        StatusAction::Lock => AccountStatus::Locked,
        StatusAction::Disable => AccountStatus::Disabled,
        StatusAction::Unlock | StatusAction::Enable => {
            user.security.locked_until = None;
            user.security.failed_logins = 0;
            if user.email_verified_at.is_some() {
                AccountStatus::Active
            } else {
                AccountStatus::PendingVerification
            }
        }
    };
    let user = app.users.update(user).await?;
    if matches!(input.action, StatusAction::Lock | StatusAction::Disable) {
        session::revoke_all(&app.auth, user.id).await?;
    }
    let action = match input.action {
        StatusAction::Lock => "admin.user_locked",
        StatusAction::Unlock => "admin.user_unlocked",
        StatusAction::Disable => "admin.user_disabled",
        StatusAction::Enable => "admin.user_enabled",
    };
    security_event(
        &app.auth,
        &caller.user.to_string(),
        action,
        Some(&user.id.to_string()),
        &client,
        serde_json::json!({ "reason": input.reason }),
    )
    .await;
    Ok(Json(UserView::from(&user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesInput {
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    /// The version you read (optimistic concurrency).
    pub version: u64,
}

/// Replace a user's roles. Their sessions end so new tokens carry the new
/// roles.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/roles", tag = "admin", params(("id" = String, Path)), security(("bearer" = [])),
    request_body = RolesInput, responses((status = 200, body = UserView), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn set_roles(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<RolesInput>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Permission::RolesAssign)?;
    if input.roles.is_empty() || input.roles.len() > 3 {
        return Err(puratan_core::Error::invalid("roles", "one to three roles").into());
    }
    let mut user = app.users.get(user_id(&id)?).await?;
    let before = user.roles.clone();
    user.roles = input.roles;
    user.roles.dedup();
    user.version = input.version;
    let user = app.users.update(user).await?;
    session::revoke_all(&app.auth, user.id).await?;
    security_event(
        &app.auth,
        &caller.user.to_string(),
        "admin.roles_changed",
        Some(&user.id.to_string()),
        &client,
        serde_json::json!({ "from": before, "to": user.roles }),
    )
    .await;
    Ok(Json(UserView::from(&user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    pub subject: String,
    pub body: String,
}

/// Send a message to a user (through the notifier).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/message", tag = "admin", params(("id" = String, Path)), security(("bearer" = [])),
    request_body = MessageInput, responses((status = 202), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn message(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<MessageInput>,
) -> Result<StatusCode, ApiError> {
    use puratan_core::domain::text::clean;
    caller.require(Permission::UsersManage)?;
    let user = app.users.get(user_id(&id)?).await?;
    let message = Notification {
        to: user.email.clone(),
        kind: NotificationKind::StaffMessage,
        subject: clean("subject", &input.subject, 200, false)?,
        body: clean("body", &input.body, 10_000, true)?,
        token: None,
    };
    app.auth.ports.notifier.send(message).await?;
    security_event(
        &app.auth,
        &caller.user.to_string(),
        "admin.message_sent",
        Some(&user.id.to_string()),
        &client,
        serde_json::json!({ "at": Utc::now() }),
    )
    .await;
    Ok(StatusCode::ACCEPTED)
}
