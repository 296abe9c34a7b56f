//! Customer orders: checkout (`POST /api/v1/orders`, `Idempotency-Key`
//! required), my orders (paged), one order (owner or staff; anyone else
//! gets 404), and workflow transitions (`cancel`, …).
//!
//! Checkout verifies every line's signed quote here (the keys and the
//! catalogs live in the server) and re-prices its stored request on the
//! catalog version it was priced with; core's `OrderService` does the rest
//! (total, stock, coupon caps, idempotency, workflow, outbox).

use std::str::FromStr;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveTime, Utc};
use puratan_core::auth::rbac::{self, Permission};
use puratan_core::domain::{
    CartLine, Currency, Money, Order, OrderId, ProductId, ShippingAddress, UserId,
};
use puratan_core::orders::{
    CheckoutRequest, OrderError, PricedQuote, QuoteCheck, QuoteCoupon, TransitionRequest,
};
use puratan_core::ports::{Cursor, PageRequest};
use puratan_core::workflow::{Actor, Guard, GuardContext, WorkflowError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::routes::quotes::SignedQuote;
use crate::pricing::Verification;
use crate::state::App;

/// The header that makes checkout idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

// ---- request and response shapes --------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// Catalog product id (`business-card`).
    pub product_id: String,
    /// The configuration as quoted (a JSON object, ≤ 4 KiB).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: Value,
    pub quantity: u32,
    /// The `token` of `POST /api/v1/quotes` for exactly this line.
    pub quote_token: String,
    /// Artwork files (`/api/v1/files` ids), at most 20.
    #[serde(default)]
    pub file_ids: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    /// Decimal string, e.g. `"52.51"`.
    pub amount: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    pub lines: Vec<LineInput>,
    pub shipping_address: AddressInput,
    /// The total shown to the customer; must equal the sum of the quotes.
    pub expected_total: MoneyInput,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// A transition of the workflow, e.g. `cancel`.
    pub transition: String,
    /// Recorded in the history; some transitions require one.
    #[serde(default)]
    pub reason: Option<String>,
    /// The order's `version` as you read it (optimistic concurrency).
    pub version: u64,
}

/// An order as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub customer_id: String,
    pub status: String,
    pub priority: u8,
    pub due_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<Value>,
    #[schema(value_type = Object)]
    pub total: Value,
    #[schema(value_type = Option<Object>)]
    pub shipping_address: Option<Value>,
    /// Status changes, oldest first: `{from, to, actor, at, reason}`.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Value>,
    /// `{method, amount, captured_at}` once paid (the reference is never shown).
    #[schema(value_type = Option<Object>)]
    pub payment: Option<Value>,
    /// Proofs sent, oldest first: `{id, file_id, sent_at, note, decision}`.
    #[schema(value_type = Vec<Object>)]
    pub proofs: Vec<Value>,
    /// `{carrier, tracking_number, shipped_at, events: [{at, status, description, location}]}` once shipped.
    #[schema(value_type = Option<Object>)]
    pub shipment: Option<Value>,
    /// What the caller may fire now (guards not evaluated).
    pub allowed_transitions: Vec<String>,
    pub version: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub(crate) fn actor(caller: &Caller) -> Actor {
    Actor::user(caller.user, caller.roles().to_vec())
}

pub(crate) fn view(app: &App, order: &Order, actor: &Actor) -> OrderView {
    let money =
        |m: &Money| json!({ "amount": m.amount.to_string(), "currency": m.currency.as_str() });
    OrderView {
        id: order.id.to_string(),
        customer_id: order.customer_id.to_string(),
        status: order.status.to_string(),
        priority: order.priority.get(),
        due_at: order.due_at,
        submitted_at: order.submitted_at,
        lines: order
            .lines
            .iter()
            .map(|l| {
                json!({
                    "product_id": l.product_id.as_str(),
                    "quantity": l.quantity,
                    "description": l.description,
                    "amount": money(&l.amount),
                    "options": l.options,
                    "quote_id": l.quote_id,
                    "file_ids": l.file_ids,
                })
            })
            .collect(),
        total: money(&order.total),
        shipping_address: order
            .shipping_address
            .as_ref()
            .and_then(|a| serde_json::to_value(a).ok()),
        history: order
            .history
            .iter()
            .filter_map(|h| serde_json::to_value(h).ok())
            .collect(),
        payment: order.payment.as_ref().map(|p| {
            json!({ "method": p.method, "amount": money(&p.amount), "captured_at": p.captured_at })
        }),
        proofs: order
            .proofs
            .iter()
            .map(|p| {
                json!({ "id": p.id, "file_id": p.file_id, "sent_at": p.sent_at, "note": p.note,
                        "decision": p.decision.as_ref().map(|d| json!({
                            "approved": d.approved, "at": d.at, "comment": d.comment })) })
            })
            .collect(),
        shipment: order
            .shipment
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok()),
        allowed_transitions: app.order_service.engine().allowed_transitions(
            order,
            actor,
            &GuardContext::default(),
        ),
        version: order.version,
    }
}

// ---- errors -------------------------------------------------------------

/// The API form of an orders-service error.
pub(crate) fn order_error(e: OrderError) -> ApiError {
    let message = e.to_string();
    let quote = |code: &'static str, line: usize| {
        ApiError::new(ErrorCode::QuoteRejected, message.clone())
            .with_specific(code)
            .with_details(json!({ "line": line }))
    };
    match e {
        OrderError::QuoteTampered { line } => quote("quote_tampered", line),
        OrderError::QuoteExpired { line, .. } => quote("quote_expired", line),
        OrderError::QuoteMismatch { line, .. } => quote("quote_mismatch", line),
        OrderError::ProductUnavailable { line, .. } => quote("product_unavailable", line),
        OrderError::EmptyCart => {
            ApiError::new(ErrorCode::QuoteRejected, message).with_specific("cart_empty")
        }
        OrderError::TotalMismatch { actual, .. } => ApiError::new(ErrorCode::TotalMismatch, message)
            .with_details(json!({ "actual": { "amount": actual.amount.to_string(), "currency": actual.currency.as_str() } })),
        OrderError::OutOfStock { product_id } => ApiError::new(ErrorCode::OutOfStock, message)
            .with_details(json!({ "product_id": product_id })),
        OrderError::CouponExhausted { code } => {
            ApiError::new(ErrorCode::CouponExhausted, message)
                .with_details(json!({ "coupon": code }))
        }
        OrderError::InvalidIdempotencyKey { .. } => {
            ApiError::new(ErrorCode::IdempotencyKeyInvalid, message)
        }
        OrderError::IdempotencyKeyReused => ApiError::new(ErrorCode::IdempotencyKeyReused, message),
        OrderError::Workflow(w) => workflow_error(w),
        OrderError::Store(s) => s.into(),
        other => ApiError::internal(other),
    }
}

fn workflow_error(w: WorkflowError) -> ApiError {
    let message = w.to_string();
    let code = w.code();
    match w {
        WorkflowError::NotAllowed {
            from,
            transition,
            allowed,
        } => ApiError::new(ErrorCode::TransitionNotAllowed, message).with_details(json!({
            "current_state": from, "transition": transition, "allowed": allowed,
        })),
        WorkflowError::GuardFailed { transition, guard } => {
            ApiError::new(ErrorCode::TransitionNotAllowed, message)
                .with_specific(code)
                .with_details(json!({ "transition": transition, "guard": guard }))
        }
        WorkflowError::NoPreviousState { .. } => {
            ApiError::new(ErrorCode::TransitionNotAllowed, message).with_specific(code)
        }
        WorkflowError::Forbidden {
            from,
            transition,
            required,
        } => ApiError::new(ErrorCode::TransitionForbidden, message).with_details(json!({
            "current_state": from, "transition": transition,
            "required": required.iter().map(|r| format!("{r:?}").to_lowercase()).collect::<Vec<_>>(),
        })),
        // Customers only reach their own orders; anyone else's is "missing".
        WorkflowError::NotOwner { .. } => ApiError::not_found("order"),
        WorkflowError::ReasonRequired { .. } | WorkflowError::InvalidReason { .. } => {
            ApiError::new(ErrorCode::ValidationFailed, message)
                .with_specific(code)
                .with_details(json!([{ "field": "reason", "message": w_reason(code) }]))
        }
        other => ApiError::internal(other),
    }
}

fn w_reason(code: &str) -> &'static str {
    if code == "transition_reason_required" {
        "this transition needs a reason"
    } else {
        "invalid reason"
    }
}

// ---- quote verification --------------------------------------------------

#[derive(Deserialize)]
struct SignedTotals {
    total: String,
    currency: String,
    #[serde(default)]
    production: Option<Production>,
}

#[derive(Deserialize)]
struct Production {
    ship_date: chrono::NaiveDate,
}

/// Verifies a line's token and re-prices its stored request on the
/// catalog version it was priced with.
async fn check_quote(
    app: &App,
    line: usize,
    token: &str,
    now: DateTime<Utc>,
) -> Result<QuoteCheck, ApiError> {
    let signed = match app
        .pricing
        .signer
        .verify::<SignedQuote>(token, |q| q.valid_until <= now)
    {
        Verification::Tampered => return Ok(QuoteCheck::Tampered),
        Verification::Expired(q) => {
            return Ok(QuoteCheck::Expired {
                valid_until: q.valid_until,
            });
        }
        Verification::Valid(q) => q,
    };
    // Signed by us: anything odd inside is our bug, not the client's.
    let totals: SignedTotals =
        serde_json::from_str(signed.quote.get()).map_err(ApiError::internal)?;
    let signed_total = money(&totals.total, &totals.currency)
        .ok_or_else(|| ApiError::internal(format!("signed quote {} has a bad total", signed.id)))?;
    // The coupon (and its cap) come from the re-pricing, on the catalog
    // version the quote was priced with, like the price.
    let repriced = match app.pricing.version(&signed.catalog_version).await {
        Ok(catalog) => match catalog.quote(&signed.request) {
            Ok(q) => money(&q.total.to_string(), &q.currency).map(|total| {
                let coupon = q.coupon.map(|c| QuoteCoupon {
                    code: c.code.to_string(),
                    max_redemptions: c.max_redemptions.map(u64::from),
                });
                (total, coupon)
            }),
            Err(_) => None,
        },
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let Some((repriced_total, coupon)) = repriced else {
        return Err(order_error(OrderError::QuoteMismatch {
            line,
            reason: "the quote's catalog version can no longer price it".into(),
        }));
    };
    Ok(QuoteCheck::Valid(PricedQuote {
        quote_id: signed.id,
        product_id: signed.request.product.clone(),
        quantity: signed.request.quantity,
        signed_total,
        repriced_total,
        valid_until: signed.valid_until,
        ready_at: totals
            .production
            .map(|p| p.ship_date.and_time(NaiveTime::MIN).and_utc()),
        coupon,
    }))
}

fn money(amount: &str, currency: &str) -> Option<Money> {
    Some(Money::new(
        Decimal::from_str(amount).ok()?,
        Currency::parse(currency).ok()?,
    ))
}

/// 422 `validation_failed` naming one field: the shape every order, cart,
/// job and staff route uses for input its extractor cannot judge.
pub(crate) fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::new(ErrorCode::ValidationFailed, format!("{field}: {message}"))
        .with_details(json!([{ "field": field, "message": message }]))
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::IdempotencyKeyInvalid,
                "the Idempotency-Key header is required",
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::new(
                ErrorCode::IdempotencyKeyInvalid,
                "the Idempotency-Key header must be visible ASCII",
            )
        })?;
    puratan_core::orders::validate_key(key).map_err(order_error)?;
    Ok(key.to_owned())
}

// ---- handlers -------------------------------------------------------------

/// Check out: verify every line's signed quote, check the total, and
/// submit the order, taking its stock and counting its coupon redemptions
/// in the same transaction. A retry with the same `Idempotency-Key`
/// and body returns the same order (200, `Idempotent-Replayed: true`).
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = CheckoutInput,
    params(("Idempotency-Key" = String, Header, description = "1-255 visible ASCII characters; reuse it to retry safely")),
    security(("bearer" = [])),
    responses((status = 201, body = OrderView), (status = 200, body = OrderView, description = "replay of an earlier request with the same key"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn checkout(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CheckoutInput>,
) -> Result<Response, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let key = idempotency_key(&headers)?;
    let now = Utc::now();
    if input.lines.len() > puratan_core::domain::Cart::MAX_LINES {
        return Err(invalid("lines", "at most 50 lines"));
    }
    let expected_total = money(&input.expected_total.amount, &input.expected_total.currency)
        .ok_or_else(|| {
            invalid(
                "expected_total",
                "expected a decimal amount and an ISO 4217 code",
            )
        })?;
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, l) in input.lines.into_iter().enumerate() {
        let product_id = ProductId::parse(&l.product_id)
            .map_err(|_| invalid(&format!("lines[{i}].product_id"), "not a product id"))?;
        let line = CartLine {
            id: uuid::Uuid::now_v7().simple().to_string(),
            product_id,
            options: l.options,
            quantity: l.quantity,
            quote_token: l.quote_token,
            file_ids: l.file_ids,
        };
        line.validate(&format!("lines[{i}]"))?;
        for id in &line.file_ids {
            if !crate::processing::order_hook::attachable(&app, caller.user, id).await? {
                return Err(invalid(
                    &format!("lines[{i}].file_ids"),
                    "no such file of yours (or it was refused)",
                ));
            }
        }
        let check = check_quote(&app, i, &line.quote_token, now).await?;
        lines.push((line, check));
    }
    let a = input.shipping_address;
    let request = CheckoutRequest {
        customer: caller.user,
        actor: actor(&caller),
        idempotency_key: key,
        lines,
        expected_total,
        shipping_address: ShippingAddress {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            postal_code: a.postal_code,
            city: a.city,
            country: a.country,
        },
        now,
    };
    let out = app
        .order_service
        .checkout(request)
        .await
        .map_err(order_error)?;
    let body = Json(view(&app, &out.order, &actor(&caller)));
    Ok(if out.replayed {
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        r
    } else {
        (StatusCode::CREATED, body).into_response()
    })
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    caller.require(Permission::OrdersReadOwn)?;
    let page = PageRequest::first(q.limit.unwrap_or(PageRequest::DEFAULT_LIMIT))
        .after(q.cursor.map(Cursor::from_client));
    let page = app.orders.list_by_customer(caller.user, &page).await?;
    let me = actor(&caller);
    Ok(Json(OrderPage {
        items: page.items.iter().map(|o| view(&app, o, &me)).collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    }))
}

/// The order if the caller may see it: its owner, or staff with
/// `orders:read:any`. Anyone else gets 404, as for a missing id.
pub(crate) async fn visible_order(app: &App, caller: &Caller, id: &str) -> Result<Order, ApiError> {
    let may_read_any = rbac::require(caller.roles(), Permission::OrdersReadAny).is_ok();
    find_visible(app, caller.user, may_read_any, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))
}

/// The order `id` if `user` may see it: its owner, or anyone who may read
/// any order. `None` for a malformed id, a missing order and someone
/// else's alike, so ids cannot be probed (REST and live channels).
pub(crate) async fn find_visible(
    app: &App,
    user: UserId,
    may_read_any: bool,
    id: &str,
) -> puratan_core::Result<Option<Order>> {
    let Ok(id) = OrderId::parse(id) else {
        return Ok(None);
    };
    match app.orders.get(id).await {
        Ok(o) if o.customer_id == user || may_read_any => Ok(Some(o)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// One order with its status history (owner or staff).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = visible_order(&app, &caller, &id).await?;
    Ok(Json(view(&app, &order, &actor(&caller))))
}

/// Fires a transition through the workflow engine; `version` guards
/// against concurrent changes (409 `stale_version`).
pub(crate) async fn fire(
    app: &App,
    caller: &Caller,
    order: Order,
    input: TransitionInput,
) -> Result<Json<OrderView>, ApiError> {
    if input.transition.is_empty() || input.transition.len() > 64 {
        return Err(invalid("transition", "1-64 characters"));
    }
    if input
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > puratan_core::workflow::MAX_REASON_CHARS)
    {
        return Err(invalid("reason", "at most 1000 characters"));
    }
    let me = actor(caller);
    // Look up only the facts this firing can consult (reading every
    // attached file record, or every job of the run, is not free).
    let consulted = app
        .order_service
        .engine()
        .consulted_guards(&order.status, &input.transition);
    let files_passed_preflight = if consulted.contains(&Guard::FilesPassedPreflight) {
        crate::processing::order_hook::files_passed_preflight(app, &order).await?
    } else {
        false
    };
    let qc = if consulted
        .iter()
        .any(|g| matches!(g, Guard::QcChecklistComplete | Guard::QcFailed))
    {
        crate::production::qc_outcome(app, &order).await?
    } else {
        None
    };
    let order = app
        .order_service
        .transition(TransitionRequest {
            order_id: order.id,
            transition: input.transition,
            actor: me.clone(),
            context: GuardContext {
                reason: input.reason,
                files_passed_preflight,
                payment_captured: order.payment_captured(),
                proof_approved: order.proof_approved(),
                qc,
            },
            expected_version: Some(input.version),
            now: Utc::now(),
        })
        .await
        .map_err(order_error)?;
    Ok(Json(view(app, &order, &me)))
}

/// Fire a workflow transition on one of your orders, e.g.
/// `{"transition": "cancel", "reason": "…", "version": 1}`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/transitions", tag = "orders", params(("id" = String, Path)),
    request_body = TransitionInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<TransitionInput>,
) -> Result<Json<OrderView>, ApiError> {
    let order = visible_order(&app, &caller, &id).await?;
    fire(&app, &caller, order, input).await
}
