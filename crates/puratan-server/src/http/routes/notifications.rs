//! `/api/v1/me/notifications`: the caller's in-app notifications
//! (written by the notification consumer, `crate::notifications`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use puratan_core::ports::{Cursor, InAppNotification, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::App;

/// One notification as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// Stable kind (`order.created`, `order.shipped`, …; docs/notifications.md).
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<&InAppNotification> for NotificationView {
    fn from(n: &InAppNotification) -> Self {
        Self {
            id: n.id.to_string(),
            kind: n.kind.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            order_id: n.order_id.map(|o| o.to_string()),
            created_at: n.created_at,
            read: n.read_at.is_some(),
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
    /// How many of the caller's notifications are unread (all pages).
    pub unread: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "account", params(NotificationQuery), security(("bearer" = [])),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let (page, unread) = tokio::try_join!(
        app.inbox.list(caller.user, &page),
        app.inbox.unread_count(caller.user)
    )?;
    Ok(Json(NotificationPage {
        items: page.items.iter().map(NotificationView::from).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
        unread,
    }))
}

/// Mark one of the caller's notifications read (idempotent: the first
/// read time stays). Anyone else's id is 404.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "account", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = NotificationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<NotificationView>, ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::not_found("notification"))?;
    let n = app.inbox.mark_read(caller.user, id, Utc::now()).await?;
    Ok(Json(NotificationView::from(&n)))
}
