//! The customer's cart: lines priced by signed quotes, kept between
//! visits (one per customer, version-checked like every record), checked
//! out into an order, and re-filled from a past order ("reorder").
//!
//! A line's quote is verified when it is added (a tampered token or one
//! pricing another product/quantity is refused at once) and again at
//! checkout, where the whole line list goes through the same path as
//! `POST /api/v1/orders`. Expired quotes stay in the cart, flagged, so the
//! storefront can re-quote them.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use puratan_core::auth::rbac::Permission;
use puratan_core::domain::{Cart, CartLine, Currency, Money, ProductId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::orders::{AddressInput, CheckoutInput, LineInput, MoneyInput, invalid, visible_order};
use super::quotes::SignedQuote;
use crate::auth::Caller;
use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pricing::Verification;
use crate::state::App;

#[derive(Debug, Serialize, ToSchema)]
pub struct CartView {
    /// `{id, product_id, options, quantity, file_ids, quote: {id, total,
    /// currency, valid_until, expired}}` per line.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<Value>,
    /// Sum of the lines' quotes (`null` when empty or in mixed currencies).
    #[schema(value_type = Option<Object>)]
    pub total: Option<Value>,
    /// Some line's quote expired: re-quote it before checking out.
    pub has_expired_quotes: bool,
    pub version: u64,
}

#[derive(Deserialize)]
struct SignedTotals {
    total: String,
    currency: String,
}

struct LineQuote {
    id: String,
    total: Money,
    valid_until: chrono::DateTime<Utc>,
    expired: bool,
}

/// The line's quote if it is ours and prices exactly this line.
fn line_quote(app: &App, line: &CartLine) -> Option<LineQuote> {
    let now = Utc::now();
    let (signed, expired) = match app
        .pricing
        .signer
        .verify::<SignedQuote>(&line.quote_token, |q| q.valid_until <= now)
    {
        Verification::Valid(q) => (q, false),
        Verification::Expired(q) => (q, true),
        Verification::Tampered => return None,
    };
    if signed.request.product != line.product_id.as_str()
        || signed.request.quantity != line.quantity
    {
        return None;
    }
    let totals: SignedTotals = serde_json::from_str(signed.quote.get()).ok()?;
    let total = Money::new(
        totals.total.parse().ok()?,
        Currency::parse(&totals.currency).ok()?,
    );
    Some(LineQuote {
        id: signed.id,
        total,
        valid_until: signed.valid_until,
        expired,
    })
}

fn money_json(m: &Money) -> Value {
    json!({ "amount": m.amount.to_string(), "currency": m.currency.as_str() })
}

fn view(app: &App, cart: &Cart) -> CartView {
    let mut total: Option<Money> = None;
    let mut mixed = false;
    let mut has_expired = false;
    let lines = cart
        .lines
        .iter()
        .map(|l| {
            let q = line_quote(app, l);
            if let Some(q) = &q {
                has_expired |= q.expired;
                total = match total {
                    None => Some(q.total),
                    Some(t) if t.currency == q.total.currency => {
                        Some(Money::new(t.amount + q.total.amount, t.currency))
                    }
                    Some(t) => {
                        mixed = true;
                        Some(t)
                    }
                };
            }
            json!({
                "id": l.id, "product_id": l.product_id.as_str(), "options": l.options,
                "quantity": l.quantity, "file_ids": l.file_ids,
                "quote": q.map(|q| json!({ "id": q.id, "total": money_json(&q.total),
                    "valid_until": q.valid_until, "expired": q.expired })),
            })
        })
        .collect();
    CartView {
        lines,
        total: if mixed {
            None
        } else {
            total.as_ref().map(money_json)
        },
        has_expired_quotes: has_expired,
        version: cart.version,
    }
}

/// Turns input into a checked cart line: limits, the caller's own files,
/// and a quote issued here for exactly this product and quantity.
async fn cart_line(app: &App, caller: &Caller, input: LineInput) -> Result<CartLine, ApiError> {
    let product_id = ProductId::parse(&input.product_id)
        .map_err(|_| invalid("product_id", "not a product id"))?;
    let line = CartLine {
        id: uuid::Uuid::now_v7().simple().to_string(),
        product_id,
        options: input.options,
        quantity: input.quantity,
        quote_token: input.quote_token,
        file_ids: input.file_ids,
    };
    line.validate("line")?;
    for id in &line.file_ids {
        if !crate::processing::order_hook::attachable(app, caller.user, id).await? {
            return Err(invalid(
                "line.file_ids",
                "no such file of yours (or it was refused)",
            ));
        }
    }
    if line_quote(app, &line).is_none() {
        return Err(ApiError::new(
            ErrorCode::QuoteRejected,
            "the quote was not issued here or does not price this product and quantity",
        )
        .with_specific("quote_mismatch"));
    }
    Ok(line)
}

async fn save(app: &App, mut cart: Cart, version: u64) -> Result<Cart, ApiError> {
    cart.version = version;
    cart.updated_at = Utc::now();
    cart.validate()?;
    Ok(app.carts.put(cart).await?)
}

/// Your cart.
#[utoipa::path(get, path = "/api/v1/cart", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = ErrorBody)))]
pub async fn get(State(app): State<App>, caller: Caller) -> Result<Json<CartView>, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let cart = app.carts.get(caller.user).await?;
    Ok(Json(view(&app, &cart)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLineInput {
    pub line: LineInput,
    /// The cart's `version` as you read it (0 for a new cart).
    pub version: u64,
}

/// Add a line (with its signed quote) to your cart.
#[utoipa::path(post, path = "/api/v1/cart/lines", tag = "orders", request_body = AddLineInput, security(("bearer" = [])),
    responses((status = 201, body = CartView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_line(
    State(app): State<App>,
    caller: Caller,
    ApiJson(input): ApiJson<AddLineInput>,
) -> Result<(StatusCode, Json<CartView>), ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let line = cart_line(&app, &caller, input.line).await?;
    let mut cart = app.carts.get(caller.user).await?;
    if cart.lines.len() >= Cart::MAX_LINES {
        return Err(invalid("lines", "a cart holds at most 50 lines"));
    }
    cart.lines.push(line);
    let cart = save(&app, cart, input.version).await?;
    Ok((StatusCode::CREATED, Json(view(&app, &cart))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLineInput {
    /// A new quantity needs the new quote that prices it.
    pub quantity: Option<u32>,
    pub quote_token: Option<String>,
    /// Replaces the line's artwork.
    pub file_ids: Option<Vec<String>>,
    pub version: u64,
}

/// Change a line's quantity (with its new quote) or its artwork.
#[utoipa::path(patch, path = "/api/v1/cart/lines/{line_id}", tag = "orders", params(("line_id" = String, Path)),
    request_body = UpdateLineInput, security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_line(
    State(app): State<App>,
    caller: Caller,
    ApiPath(line_id): ApiPath<String>,
    ApiJson(input): ApiJson<UpdateLineInput>,
) -> Result<Json<CartView>, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let mut cart = app.carts.get(caller.user).await?;
    let i = cart
        .lines
        .iter()
        .position(|l| l.id == line_id)
        .ok_or_else(|| ApiError::not_found("cart line"))?;
    let old = cart.lines[i].clone();
    if input.quantity.is_some() != input.quote_token.is_some() {
        return Err(invalid(
            "quote_token",
            "send quantity and the quote that prices it together",
        ));
    }
    let updated = cart_line(
        &app,
        &caller,
        LineInput {
            product_id: old.product_id.as_str().to_owned(),
            options: old.options.clone(),
            quantity: input.quantity.unwrap_or(old.quantity),
            quote_token: input.quote_token.unwrap_or(old.quote_token),
            file_ids: input.file_ids.unwrap_or(old.file_ids),
        },
    )
    .await?;
    cart.lines[i] = CartLine {
        id: old.id,
        ..updated
    };
    let cart = save(&app, cart, input.version).await?;
    Ok(Json(view(&app, &cart)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// The cart's `version` as you read it.
    pub version: u64,
}

/// Remove a line.
#[utoipa::path(delete, path = "/api/v1/cart/lines/{line_id}", tag = "orders",
    params(("line_id" = String, Path), VersionQuery), security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn remove_line(
    State(app): State<App>,
    caller: Caller,
    ApiPath(line_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<Json<CartView>, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let mut cart = app.carts.get(caller.user).await?;
    let before = cart.lines.len();
    cart.lines.retain(|l| l.id != line_id);
    if cart.lines.len() == before {
        return Err(ApiError::not_found("cart line"));
    }
    let cart = save(&app, cart, q.version).await?;
    Ok(Json(view(&app, &cart)))
}

/// Empty the cart.
#[utoipa::path(delete, path = "/api/v1/cart", tag = "orders", params(VersionQuery), security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn clear(
    State(app): State<App>,
    caller: Caller,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<Json<CartView>, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let mut cart = app.carts.get(caller.user).await?;
    cart.lines.clear();
    let cart = save(&app, cart, q.version).await?;
    Ok(Json(view(&app, &cart)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartCheckoutInput {
    pub shipping_address: AddressInput,
    /// The total shown to the customer.
    pub expected_total: MoneyInput,
    /// The cart's `version` as shown: a cart changed in another tab is
    /// not checked out blindly.
    pub version: u64,
}

/// Check the cart out (same rules and `Idempotency-Key` as
/// `POST /api/v1/orders`); the cart is emptied once the order exists.
#[utoipa::path(post, path = "/api/v1/cart/checkout", tag = "orders", request_body = CartCheckoutInput,
    params(("Idempotency-Key" = String, Header, description = "1-255 visible ASCII characters; reuse it to retry safely")),
    security(("bearer" = [])),
    responses((status = 201, body = super::orders::OrderView), (status = 200, body = super::orders::OrderView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn checkout(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CartCheckoutInput>,
) -> Result<Response, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    // A retry after success finds the cart emptied (or changed since): the
    // key alone identifies the order, so it is replayed as it was.
    if let Some(key) = headers
        .get(super::orders::IDEMPOTENCY_KEY)
        .and_then(|k| k.to_str().ok())
        .filter(|k| puratan_core::orders::validate_key(k).is_ok())
    {
        match app.orders.get_by_idempotency_key(caller.user, key).await {
            Ok(order) => {
                let body = Json(super::orders::view(
                    &app,
                    &order,
                    &super::orders::actor(&caller),
                ));
                let mut r = (StatusCode::OK, body).into_response();
                r.headers_mut().insert(
                    "idempotent-replayed",
                    axum::http::HeaderValue::from_static("true"),
                );
                return Ok(r);
            }
            Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    let cart = app.carts.get(caller.user).await?;
    if cart.version != input.version {
        return Err(puratan_core::Error::stale("cart").into());
    }
    let lines = cart
        .lines
        .iter()
        .map(|l| LineInput {
            product_id: l.product_id.as_str().to_owned(),
            options: l.options.clone(),
            quantity: l.quantity,
            quote_token: l.quote_token.clone(),
            file_ids: l.file_ids.clone(),
        })
        .collect();
    let response = super::orders::checkout(
        State(app.clone()),
        caller.clone(),
        headers,
        ApiJson(CheckoutInput {
            lines,
            shipping_address: input.shipping_address,
            expected_total: input.expected_total,
        }),
    )
    .await?;
    if response.status() == StatusCode::CREATED {
        let mut emptied = cart;
        emptied.lines.clear();
        let version = emptied.version;
        if let Err(e) = save(&app, emptied, version).await {
            // The order stands; a cart edited meanwhile keeps its lines.
            tracing::info!(error = ?e.code, "cart not emptied after checkout");
        }
    }
    Ok(response.into_response())
}

/// Put a past order's lines back in your cart, re-quoted at today's
/// prices (options, quantities and artwork as ordered).
#[utoipa::path(post, path = "/api/v1/orders/{id}/reorder", tag = "orders", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reorder(
    State(app): State<App>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CartView>, ApiError> {
    caller.require(Permission::OrdersCreate)?;
    let order = visible_order(&app, &caller, &id).await?;
    if order.customer_id != caller.user {
        return Err(ApiError::not_found("order"));
    }
    let catalog = super::quotes::active(&app)?;
    let now = Utc::now();
    let mut cart = app.carts.get(caller.user).await?;
    for (i, l) in order.lines.iter().enumerate() {
        let signed = l.quote_token.as_deref().and_then(|t| {
            match app.pricing.signer.verify::<SignedQuote>(t, |_| false) {
                Verification::Valid(q) | Verification::Expired(q) => Some(q),
                Verification::Tampered => None,
            }
        });
        let Some(signed) = signed else {
            return Err(ApiError::new(
                ErrorCode::QuoteRejected,
                format!("line {i} has no quote this server can re-price"),
            )
            .with_specific("quote_mismatch")
            .with_details(json!({ "line": i })));
        };
        let mut request = signed.request;
        request.at = now;
        let (_, token) = super::quotes::sign(&app, &catalog, &request, now).map_err(|e| {
            // The product or an option is gone from today's catalog.
            e.with_details(json!({ "line": i }))
        })?;
        if cart.lines.len() >= Cart::MAX_LINES {
            return Err(invalid("lines", "a cart holds at most 50 lines"));
        }
        let mut file_ids = Vec::new();
        for f in &l.file_ids {
            if crate::processing::order_hook::attachable(&app, caller.user, f).await? {
                file_ids.push(f.clone());
            }
        }
        cart.lines.push(CartLine {
            id: uuid::Uuid::now_v7().simple().to_string(),
            product_id: l.product_id.clone(),
            options: l.options.clone(),
            quantity: l.quantity,
            quote_token: token,
            file_ids,
        });
    }
    let version = cart.version;
    let cart = save(&app, cart, version).await?;
    Ok(Json(view(&app, &cart)))
}
