//! Staff order processing: the production queue by status, workflow
//! transitions on any order, re-prioritising. Needs
//! `production:queue:read` / `orders:update_status` (staff, admin).

use axum::Json;
use axum::extract::State;
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{OrderStatus, Priority};
use puratan_core::ports::{Cursor, PageRequest};
use serde::{Deserialize, Serialize};
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

/// Most items in one bulk request.
pub const MAX_BULK_ITEMS: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    pub order_id: String,
    pub transition: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// The order's `version` as you read it.
    pub version: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    /// 1–100 transitions, applied in order, each on its own (one failing
    /// does not undo or stop the others).
    pub items: Vec<BulkItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub order_id: String,
    pub ok: bool,
    /// HTTP status this item would have had on its own.
    pub status: u16,
    /// The order's new state (when `ok`).
    pub state: Option<String>,
    /// The order's new version (when `ok`).
    pub version: Option<u64>,
    /// The error body (when not `ok`): `{code, message, details}`.
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReport {
    pub succeeded: usize,
    pub failed: usize,
    pub results: Vec<BulkResult>,
}

/// Fire transitions on many orders (e.g. `start_printing` for a press
/// run); the answer has one result per item, in request order.
#[utoipa::path(post, path = "/api/v1/staff/orders/bulk-transitions", tag = "orders", request_body = BulkInput,
    security(("bearer" = [])),
    responses((status = 200, body = BulkReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn bulk_transitions(
    State(app): State<App>,
    caller: Caller,
    ApiJson(input): ApiJson<BulkInput>,
) -> Result<Json<BulkReport>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    if input.items.is_empty() || input.items.len() > MAX_BULK_ITEMS {
        return Err(ApiError::new(
            crate::http::error::ErrorCode::ValidationFailed,
            "items: 1-100 transitions",
        )
        .with_details(serde_json::json!([{ "field": "items", "message": "1-100 transitions" }])));
    }
    let mut results = Vec::with_capacity(input.items.len());
    for item in input.items {
        let order_id = item.order_id.clone();
        let outcome = async {
            let order = visible_order(&app, &caller, &item.order_id).await?;
            fire(
                &app,
                &caller,
                order,
                TransitionInput {
                    transition: item.transition,
                    reason: item.reason,
                    version: item.version,
                },
            )
            .await
        }
        .await;
        results.push(match outcome {
            Ok(Json(view)) => BulkResult {
                order_id,
                ok: true,
                status: 200,
                state: Some(view.status),
                version: Some(view.version),
                error: None,
            },
            Err(e) => {
                let status = e.code.status().as_u16();
                // Internal details stay in the log, as for single requests.
                let body = serde_json::json!({
                    "code": e.specific_code.unwrap_or(e.code.as_str()),
                    "message": if status >= 500 { "internal error".to_owned() } else { e.message.clone() },
                    "details": if status >= 500 { None } else { e.details.as_deref().cloned() },
                });
                BulkResult {
                    order_id,
                    ok: false,
                    status,
                    state: None,
                    version: None,
                    error: Some(body),
                }
            }
        });
    }
    let succeeded = results.iter().filter(|r| r.ok).count();
    Ok(Json(BulkReport {
        succeeded,
        failed: results.len() - succeeded,
        results,
    }))
}
