//! Staff order processing: the production queue by status (filtered by
//! priority and due date), the order search, workflow transitions on any
//! order, re-prioritising. Needs `production:queue:read` /
//! `orders:read:any` / `orders:update_status` (staff, admin).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use puratan_core::ErrorKind;
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{Email, OrderStatus, Priority, UserId};
use puratan_core::ports::{Cursor, OrderSearch, PageRequest, QueueFilter, SearchText};
use puratan_core::workflow::PriorityClass;
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
    /// A priority class — `rush` (80–100), `high` (60–79), `normal`
    /// (50–59), `low` (0–49), the bands `PriorityClass::of` uses — or a
    /// number 0–100: that priority or higher.
    pub priority: Option<String>,
    /// RFC 3339; only orders due at or after this instant.
    pub due_after: Option<String>,
    /// RFC 3339; only orders due strictly before this instant.
    pub due_before: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Longest accepted date parameter (an RFC 3339 date-time is ~35 bytes).
const MAX_DATE_LEN: usize = 64;

/// An RFC 3339 date-time query parameter.
fn date_param(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|r| {
        if r.len() > MAX_DATE_LEN {
            return Err(ApiError::invalid_param(
                field,
                "an RFC 3339 date-time such as 2026-12-01T00:00:00Z",
            ));
        }
        DateTime::parse_from_rfc3339(r)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::invalid_param(field, "an RFC 3339 date-time such as 2026-12-01T00:00:00Z")
            })
    })
    .transpose()
}

/// `after < before` when both are given (the windows are half-open, so
/// equal bounds could match nothing).
fn date_window(
    after_field: &str,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
) -> Result<(), ApiError> {
    match (after, before) {
        (Some(a), Some(b)) if a >= b => Err(ApiError::invalid_param(
            after_field,
            "must be earlier than its `…_before` counterpart",
        )),
        _ => Ok(()),
    }
}

/// `priority`: a class name (its band) or a number (a minimum).
fn priority_param(raw: &str) -> Result<(Priority, Priority), ApiError> {
    if let Some(class) = PriorityClass::parse(raw) {
        return Ok(class.range());
    }
    raw.parse::<u8>()
        .ok()
        .filter(|_| raw.len() <= 3 && raw.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| Priority::new(n).ok())
        .map(|min| (min, Priority::MAX))
        .ok_or_else(|| {
            ApiError::invalid_param(
                "priority",
                "rush, high, normal, low or a minimum priority 0-100",
            )
        })
}

fn status_param(raw: &str) -> Result<OrderStatus, ApiError> {
    OrderStatus::parse(raw)
        .map_err(|_| ApiError::invalid_param("status", "a workflow state such as queued"))
}

/// Orders in one state in production order: priority descending, due
/// date ascending, submission ascending; optionally only a priority class
/// (or a minimum priority) and a due-date window. The store filters
/// before it pages, so every page but the last is full.
#[utoipa::path(get, path = "/api/v1/staff/queue", tag = "orders", params(QueueQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn queue(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    caller.require(Permission::ProductionQueueRead)?;
    let status = status_param(q.status.as_deref().unwrap_or("queued"))?;
    let priority = q.priority.as_deref().map(priority_param).transpose()?;
    let due_after = date_param("due_after", q.due_after.as_deref())?;
    let due_before = date_param("due_before", q.due_before.as_deref())?;
    date_window("due_after", due_after, due_before)?;
    let filter = QueueFilter {
        status,
        min_priority: priority.map(|p| p.0),
        max_priority: priority.map(|p| p.1),
        due_after,
        due_before,
    };
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let page = app.orders.list_queue(&filter, &page).await?;
    let me = actor(&caller);
    Ok(Json(OrderPage {
        items: page.items.iter().map(|o| view(&app, o, &me)).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Free text, 1–100 characters: a complete order id (exactly that
    /// order), a customer's e-mail address (their orders), or text that
    /// the start of an order id (at least 4 of `0-9a-f-`) or the shipping
    /// name, city or postal code contains, ignoring case. Always literal
    /// text, never a pattern.
    pub q: Option<String>,
    /// Workflow state, e.g. `on_hold`.
    pub status: Option<String>,
    /// A customer: user id or e-mail address.
    pub customer: Option<String>,
    /// RFC 3339; orders created at or after this instant.
    pub created_after: Option<String>,
    /// RFC 3339; orders created strictly before this instant.
    pub created_before: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Longest accepted `customer` parameter (an e-mail address).
const MAX_CUSTOMER_LEN: usize = 320;

/// The customer an e-mail address belongs to; `None` when nobody has it.
async fn customer_by_email(app: &App, email: &Email) -> Result<Option<UserId>, ApiError> {
    match app.users.get_by_email(email).await {
        Ok(u) => Ok(Some(u.id)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Find orders: by id or id prefix, customer e-mail, shipping name, city
/// or postal code (`q`), and by state, customer and creation time
/// (an order's creation time is its id's UUIDv7 timestamp). Newest
/// first. Needs `orders:read:any`. Bad parameters are 400
/// `invalid_parameter` naming the parameter.
///
/// Free text examines at most 10 000 orders (those matching the other
/// filters, newest first) per request: when that runs out before the
/// page is full, the page comes back short — possibly empty — with a
/// `next_cursor` that continues the scan. Follow `next_cursor` until it
/// is absent; a short page does not mean the end.
#[utoipa::path(get, path = "/api/v1/staff/orders", tag = "orders", params(SearchQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    caller.require(Permission::OrdersReadAny)?;
    let status = q.status.as_deref().map(status_param).transpose()?;
    let created_after = date_param("created_after", q.created_after.as_deref())?;
    let created_before = date_param("created_before", q.created_before.as_deref())?;
    date_window("created_after", created_after, created_before)?;
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let empty = || {
        Json(OrderPage {
            items: Vec::new(),
            next_cursor: None,
        })
    };
    // Customers named by id or e-mail, in `customer` and in `q`: all must
    // be the same one.
    let mut customers: Vec<Option<UserId>> = Vec::new();
    if let Some(raw) = q.customer.as_deref() {
        let bad = || ApiError::invalid_param("customer", "a user id or an e-mail address");
        if raw.len() > MAX_CUSTOMER_LEN {
            return Err(bad());
        }
        if let Ok(id) = UserId::parse(raw) {
            customers.push(Some(id));
        } else {
            let email = Email::parse(raw).map_err(|_| bad())?;
            customers.push(customer_by_email(&app, &email).await?);
        }
    }
    let mut text = None;
    if let Some(raw) = q.q.as_deref() {
        let email = raw
            .contains('@')
            .then(|| Email::parse(raw.trim()).ok())
            .flatten();
        match email {
            Some(email) if raw.len() <= MAX_CUSTOMER_LEN => {
                customers.push(customer_by_email(&app, &email).await?);
            }
            _ => {
                text = SearchText::parse(raw).map_err(|e| {
                    let reason = match e {
                        puratan_core::Error::Invalid { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    ApiError::invalid_param("q", reason)
                })?;
            }
        }
    }
    let customer = match customers.split_first() {
        None => None,
        Some((first, rest)) => {
            if first.is_none() || rest.iter().any(|c| c != first) {
                // An unknown address, or two different customers.
                return Ok(empty());
            }
            *first
        }
    };
    let search = OrderSearch {
        text,
        customer,
        status,
        created_after,
        created_before,
        max_scanned: None,
    };
    let page = app.orders.search(&search, &page).await?;
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
    // `order.updated` in the same transaction (docs/events.md).
    let order = super::order_facts::record(&app, &caller, order, Some(&["priority"])).await?;
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
        return Err(super::orders::invalid("items", "1-100 transitions"));
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
