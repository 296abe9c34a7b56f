//! The facts the workflow's guards read, recorded on the order:
//!
//! * payment capture (`POST /api/v1/staff/orders/{id}/payment`, staff —
//!   or a payment provider's callback through the same service): the
//!   amount must be the order's total; the provider reference is sealed
//!   with the data-protection keyring; then `accept` fires (paid orders go
//!   on to file checks);
//! * proofs (`POST /api/v1/staff/orders/{id}/proofs`, staff) and the
//!   customer's decision (`POST /api/v1/orders/{id}/proof-decision`), which
//!   fires `approve_proof` or `reject_proof`.
//!
//! Recording a fact and firing its transition are two version-checked
//! writes. If the process dies between them, the fact is stored and the
//! guard now holds, so firing the transition again (the same request, or
//! `POST …/transitions`) completes it; nothing is ever half-written.
//!
//! Events (docs/events.md): a fact written on its own carries
//! `order.updated` naming the changed fields, in the same transaction. A
//! fact that the same request follows with its transition carries none:
//! the transition's `order.status_changed` announces the order's change,
//! and one change should not notify twice. If that transition does not
//! happen (crash, concurrent write), the fact stays without an event of
//! its own until the transition fires.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{Order, Payment, Proof, ProofDecision, Shipment, TrackingEvent};
use puratan_core::orders::events;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use std::str::FromStr;
use utoipa::ToSchema;

use super::orders::{
    MoneyInput, OrderView, TransitionInput, actor, fire, invalid, view, visible_order,
};
use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::App;

const MAX_REFERENCE: usize = 200;
const MAX_NOTE_CHARS: usize = 1000;

fn note(field: &str, text: Option<String>) -> Result<Option<String>, ApiError> {
    match text {
        None => Ok(None),
        Some(t) => puratan_core::domain::text::clean_optional(field, &t, MAX_NOTE_CHARS, true)
            .map(|t| (!t.is_empty()).then_some(t))
            .map_err(ApiError::from),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// `card`, `invoice`, `bank_transfer`, …
    pub method: String,
    /// The provider's reference (stored encrypted; never shown again).
    pub reference: String,
    /// Must equal the order total.
    pub amount: MoneyInput,
    /// The order's `version` as you read it.
    pub version: u64,
}

/// Record a captured payment and accept the order (`submitted →
/// awaiting_files`).
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/payment", tag = "orders", params(("id" = String, Path)),
    request_body = PaymentInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn capture_payment(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PaymentInput>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut order = visible_order(&app, &caller, &id).await?;
    Payment::validate_method(&input.method)?;
    let reference = input.reference.trim();
    if reference.is_empty()
        || reference.len() > MAX_REFERENCE
        || reference.chars().any(char::is_control)
    {
        return Err(invalid("reference", "1-200 printable characters"));
    }
    let amount = Decimal::from_str(&input.amount.amount)
        .ok()
        .filter(|a| {
            *a == order.total.amount && input.amount.currency == order.total.currency.as_str()
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::PaymentMismatch,
                "the payment must be the order total",
            )
            .with_details(json!({ "total": { "amount": order.total.amount.to_string(),
                                              "currency": order.total.currency.as_str() } }))
        })?;
    if order.payment.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a payment was already captured for this order",
        ));
    }
    let reference = app
        .auth
        .keyring
        .seal(reference.as_bytes(), &order.payment_context())
        .map_err(ApiError::internal)?;
    order.payment = Some(Payment {
        method: input.method,
        reference,
        amount: puratan_core::domain::Money::new(amount, order.total.currency),
        captured_at: Utc::now(),
        captured_by: Some(caller.user),
    });
    order.version = input.version;
    // Recording a payment changes no status, so whether `accept` follows
    // is known before the write.
    let accept_follows = app
        .order_service
        .engine()
        .workflow()
        .transition("accept")
        .is_some_and(|t| t.leaves(&order.status));
    let changed: &[&str] = &["payment"];
    let order = record(&app, &caller, order, (!accept_follows).then_some(changed)).await?;
    if accept_follows {
        return then_fire(&app, &caller, order, "accept", None).await;
    }
    Ok(Json(view(&app, &order, &actor(&caller))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofInput {
    /// The proof artwork: a file id from `/files/` (uploaded by staff).
    pub file_id: String,
    /// Shown to the customer with the proof.
    #[serde(default)]
    pub note: Option<String>,
    pub version: u64,
}

/// Send a proof to the customer (the order then waits in
/// `proof_pending` for their decision).
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/proofs", tag = "orders", params(("id" = String, Path)),
    request_body = ProofInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_proof(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ProofInput>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut order = visible_order(&app, &caller, &id).await?;
    let note = note("note", input.note)?;
    match app.file_records.get(&input.file_id).await {
        Ok(f) if f.status == puratan_core::ports::FileStatus::Ready => {}
        Ok(_) => {
            return Err(ApiError::new(
                ErrorCode::FileNotReady,
                "the proof file is not ready (scan pending, refused or quarantined)",
            ));
        }
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound || input.file_id.len() > 64 => {
            return Err(invalid("file_id", "no such file"));
        }
        Err(e) => return Err(e.into()),
    }
    if order.proofs.len() >= 50 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "at most 50 proofs per order",
        ));
    }
    order.proofs.push(Proof {
        id: uuid::Uuid::now_v7().simple().to_string(),
        file_id: input.file_id,
        sent_at: Utc::now(),
        sent_by: caller.user,
        note,
        decision: None,
    });
    order.version = input.version;
    let order = record(&app, &caller, order, Some(&["proofs"])).await?;
    Ok(Json(view(&app, &order, &actor(&caller))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofDecisionInput {
    pub approved: bool,
    /// Required when rejecting: what should change.
    #[serde(default)]
    pub comment: Option<String>,
    pub version: u64,
}

/// Approve or reject the newest proof of your order; fires
/// `approve_proof` or `reject_proof`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/proof-decision", tag = "orders", params(("id" = String, Path)),
    request_body = ProofDecisionInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_proof(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ProofDecisionInput>,
) -> Result<Json<OrderView>, ApiError> {
    let mut order = visible_order(&app, &caller, &id).await?;
    // The customer decides; staff only see the order.
    if order.customer_id != caller.user {
        return Err(ApiError::not_found("order"));
    }
    let comment = note("comment", input.comment)?;
    if !input.approved && comment.is_none() {
        return Err(invalid(
            "comment",
            "say what should change when rejecting a proof",
        ));
    }
    if order.status.as_str() != "proof_pending" {
        return Err(not_now(
            &order,
            "there is no proof waiting for your decision",
        ));
    }
    let transition = if input.approved {
        "approve_proof"
    } else {
        "reject_proof"
    };
    let undecided = order.proofs.last().is_some_and(|p| p.decision.is_none());
    let order = if undecided {
        if let Some(p) = order.proofs.last_mut() {
            p.decision = Some(ProofDecision {
                approved: input.approved,
                by: caller.user,
                at: Utc::now(),
                comment: comment.clone(),
            });
        }
        order.version = input.version;
        // `approve_proof` / `reject_proof` follows and announces it.
        record(&app, &caller, order, None).await?
    } else if decided_as(&order, input.approved) {
        // A retry after the decision was stored but before the transition.
        order
    } else {
        return Err(not_now(
            &order,
            "there is no proof waiting for your decision",
        ));
    };
    then_fire(&app, &caller, order, transition, comment).await
}

/// Writes a recorded fact (version-checked). `changed` names the changed
/// fields for `order.updated`, written in the same transaction; `None`
/// when this request fires a transition right after, whose events
/// announce the change (see the module docs).
pub(super) async fn record(
    app: &App,
    caller: &Caller,
    order: Order,
    changed: Option<&[&str]>,
) -> Result<Order, ApiError> {
    let Some(changed) = changed else {
        return Ok(app.orders.update(order).await?);
    };
    let event = events::updated(
        &order,
        changed,
        Some(caller.user),
        // The version comes from the client: a stale one (even u64::MAX)
        // fails the write, it must not overflow here.
        order.version.saturating_add(1),
        Utc::now(),
    );
    Ok(app.orders.update_with_outbox(order, vec![event]).await?)
}

/// Fires the transition a just-recorded fact enables, on the order's
/// current version.
async fn then_fire(
    app: &App,
    caller: &Caller,
    order: Order,
    transition: &str,
    reason: Option<String>,
) -> Result<Json<OrderView>, ApiError> {
    let version = order.version;
    let input = TransitionInput {
        transition: transition.to_owned(),
        reason,
        version,
    };
    fire(app, caller, order, input).await
}

/// 409 `transition_not_allowed` for a fact that does not fit the order's
/// state.
fn not_now(order: &Order, message: &'static str) -> ApiError {
    ApiError::new(ErrorCode::TransitionNotAllowed, message)
        .with_details(json!({ "current_state": order.status.as_str() }))
}

fn decided_as(order: &Order, approved: bool) -> bool {
    order
        .proofs
        .last()
        .and_then(|p| p.decision.as_ref())
        .is_some_and(|d| d.approved == approved)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInput {
    /// Carrier id, e.g. `dhl`.
    pub carrier: String,
    pub tracking_number: String,
    pub version: u64,
}

/// Hand a packed order to the carrier: records carrier and tracking
/// number and fires `ship`.
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/shipment", tag = "orders", params(("id" = String, Path)),
    request_body = ShipmentInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ship(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ShipmentInput>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut order = visible_order(&app, &caller, &id).await?;
    let tracking_number = input.tracking_number.trim().to_owned();
    Shipment::validate(&input.carrier, &tracking_number)?;
    let ship = app.order_service.engine().workflow().transition("ship");
    if !ship.is_some_and(|t| t.leaves(&order.status)) {
        return Err(not_now(&order, "only a packed order can be shipped"));
    }
    let order = match &order.shipment {
        // A retry after the shipment was stored but before `ship` fired.
        Some(s) if s.carrier == input.carrier && s.tracking_number == tracking_number => order,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "this order already has another shipment",
            ));
        }
        None => {
            order.shipment = Some(Shipment {
                carrier: input.carrier,
                tracking_number,
                shipped_at: Utc::now(),
                events: Vec::new(),
            });
            order.version = input.version;
            // `ship` follows and announces it.
            record(&app, &caller, order, None).await?
        }
    };
    then_fire(&app, &caller, order, "ship", None).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingEventInput {
    /// `in_transit`, `out_for_delivery`, `delivered` or `exception`.
    pub status: String,
    pub description: String,
    #[serde(default)]
    pub location: Option<String>,
    pub version: u64,
}

const TRACKING_STATUSES: [&str; 4] = ["in_transit", "out_for_delivery", "delivered", "exception"];

/// Record a carrier tracking event (from a carrier webhook or by hand); a
/// `delivered` event fires `deliver`.
#[utoipa::path(post, path = "/api/v1/staff/orders/{id}/tracking-events", tag = "orders", params(("id" = String, Path)),
    request_body = TrackingEventInput, security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn tracking_event(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<TrackingEventInput>,
) -> Result<Json<OrderView>, ApiError> {
    caller.require(Permission::OrdersUpdateStatus)?;
    let mut order = visible_order(&app, &caller, &id).await?;
    if !TRACKING_STATUSES.contains(&input.status.as_str()) {
        return Err(invalid(
            "status",
            "one of in_transit, out_for_delivery, delivered, exception",
        ));
    }
    let description = note("description", Some(input.description))?
        .ok_or_else(|| invalid("description", "must not be empty"))?;
    let location = note("location", input.location)?;
    let Some(shipment) = order.shipment.as_mut() else {
        return Err(not_now(&order, "the order has not been shipped"));
    };
    if shipment.events.len() >= Shipment::MAX_EVENTS {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "too many tracking events",
        ));
    }
    let delivered = input.status == "delivered";
    shipment.events.push(TrackingEvent {
        at: Utc::now(),
        status: input.status,
        description,
        location,
    });
    order.version = input.version;
    let deliver_follows = delivered && order.status.as_str() == "shipped";
    let changed: &[&str] = &["shipment.events"];
    let order = record(&app, &caller, order, (!deliver_follows).then_some(changed)).await?;
    if deliver_follows {
        return then_fire(&app, &caller, order, "deliver", None).await;
    }
    Ok(Json(view(&app, &order, &actor(&caller))))
}
