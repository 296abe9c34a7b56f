//! Staff order processing: the production queue by status, workflow
//! transitions on any order, re-prioritising. Needs
//! `production:queue:read` / `orders:update_status` (staff, admin).

use axum::Json;
use axum::extract::State;
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{OrderStatus, Priority};
use puratan_core::ports::{Cursor, PageRequest};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::orders::{OrderPage, OrderView, TransitionInput, actor, fire, view, visible_order};
use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::App;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Workflow state, e.g. `queued` (default) or `submitted`.
    pub status: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Orders in one state in production order: priority descending, due
/// date ascending, submission ascending.
#[utoipa::path(get, path = "/api/v1/staff/queue", tag = "orders", params(QueueQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn queue(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    caller.require(Permission::ProductionQueueRead)?;
    let status = OrderStatus::parse(q.status.as_deref().unwrap_or("queued"))
        .map_err(|_| ApiError::invalid_param("status", "a workflow state such as queued"))?;
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let page = app.orders.list_by_status(&status, &page).await?;
    let me = actor(&caller);
    Ok(Json(OrderPage {
        items: page.items.iter().map(|o| view(&app, o, &me)).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}

/// Fire any transition the staff role allows (hold, release, enqueue,
/// start_printing, …) through the workflow engine.
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/transitions", tag = "orders", params(("id" = String, Path)),
    request_body = TransitionInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<TransitionInput>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let order = visible_order(&app, &caller, &id).await?;
    fire(&app, &caller, order, input).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityInput {
    /// 0–100; classes: rush 80, high 60, normal 50, low 30.
    pub priority: u8,
    /// The order's `version` as you read it.
    pub version: u64,
}

/// Re-prioritise an order in the production queue.
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/priority", tag = "orders", params(("id" = String, Path)),
    request_body = PriorityInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn priority(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PriorityInput>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut order = visible_order(&app, &caller, &id).await?;
    order.priority = Priority::new(input.priority)?;
    order.version = input.version;
    let order = app.orders.update(order).await?;
    Ok(Json(view(&app, &order, &actor(&caller))))
}
