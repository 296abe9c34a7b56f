//! Public quotes: priced from the in-memory active catalog (no database
//! round trip), signed so the price can be trusted later.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use puratan_pricing::{Catalog, QuoteRequest};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ApiJson;
use crate::pricing::Verification;
use crate::state::App;

/// What a signed quote token carries (the canonical JSON that is signed).
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedQuote {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub catalog_version: String,
    /// The request as priced (with the server's `at`), for re-pricing.
    pub request: QuoteRequest,
    /// The engine's output, byte for byte.
    pub quote: Box<RawValue>,
}

/// `POST /api/v1/quotes` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub catalog_version: String,
    /// The normative quote (lines, subtotal, discounts, net, tax, total,
    /// currency, unit_price, imposition, production, catalog_version,
    /// valid_until), amounts as decimal strings.
    #[schema(value_type = Object)]
    pub quote: Box<RawValue>,
    /// Signed token: present it to `POST /api/v1/quotes/verify` or at checkout.
    pub token: String,
}

/// The engine's `invalid_request`, for checks the server makes first.
fn invalid_request(field: &str, message: &str) -> ApiError {
    let mut e = ApiError::new(
        ErrorCode::PricingRejected,
        format!("invalid request: {field}: {message}"),
    )
    .with_details(serde_json::json!({ "field": field }));
    e.specific_code = Some("invalid_request");
    e
}

fn active(app: &App) -> Result<Arc<Catalog>, ApiError> {
    app.pricing.current().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "no pricing catalog has been imported yet",
        )
    })
}

/// The server sets the pricing instant: a client-chosen `at` could
/// resurrect expired coupons.
fn request_at(mut body: Map<String, Value>, at: DateTime<Utc>) -> Result<QuoteRequest, ApiError> {
    if body.contains_key("at") {
        return Err(invalid_request(
            "at",
            "the server sets the pricing instant; omit `at`",
        ));
    }
    body.insert(
        "at".into(),
        Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    Ok(QuoteRequest::from_value(Value::Object(body))?)
}

/// Price one configuration and sign the result.
#[utoipa::path(post, path = "/api/v1/quotes", tag = "quotes",
    request_body(content = Object, description = "A quote request without `at`, e.g. {\"product\": \"business-card\", \"quantity\": 500, \"paper\": \"silk-350\", \"color\": \"4/4\", \"turnaround\": \"standard\", \"region\": \"DE\"}"),
    responses((status = 201, body = QuoteResponse), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(app): State<App>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let catalog = active(&app)?;
    let now = Utc::now();
    let request = request_at(body, now)?;
    let quote = catalog.quote(&request)?;
    let quote_json = RawValue::from_string(quote.to_json()).map_err(ApiError::internal)?;
    let signed = SignedQuote {
        id: uuid::Uuid::now_v7().to_string(),
        created_at: now,
        valid_until: quote.valid_until,
        catalog_version: catalog.version().to_owned(),
        request,
        quote: quote_json,
    };
    let token = app.pricing.signer.sign(&signed);
    let body = QuoteResponse {
        id: signed.id,
        created_at: signed.created_at,
        valid_until: signed.valid_until,
        catalog_version: signed.catalog_version,
        quote: signed.quote,
        token,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TableRow {
    pub quantity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub quote: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TableResponse {
    pub catalog_version: String,
    pub rows: Vec<TableRow>,
}

/// Price up to 20 quantities of one configuration (unsigned: for display;
/// sign the chosen one with `POST /api/v1/quotes`).
#[utoipa::path(post, path = "/api/v1/quotes/table", tag = "quotes",
    request_body(content = Object, description = "A quote request without `at` and without `quantity`, plus `quantities`: [100, 250, 500]"),
    responses((status = 200, body = TableResponse), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn table(
    State(app): State<App>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> Result<Json<TableResponse>, ApiError> {
    let catalog = active(&app)?;
    let quantities: Vec<u32> = match body.remove("quantities") {
        Some(v) => serde_json::from_value(v)
            .map_err(|_| invalid_request("quantities", "expected an array of positive integers"))?,
        None => {
            return Err(invalid_request("quantities", "missing"));
        }
    };
    let first = *quantities.first().unwrap_or(&1);
    body.entry("quantity").or_insert(Value::from(first));
    let request = request_at(body, Utc::now())?;
    let rows = catalog
        .quote_table(&request, &quantities)?
        .into_iter()
        .zip(&quantities)
        .map(|(r, &quantity)| match r {
            Ok(q) => TableRow {
                quantity,
                quote: RawValue::from_string(q.to_json()).ok(),
                error: None,
            },
            Err(e) => TableRow {
                quantity,
                quote: None,
                error: serde_json::to_value(&e).ok(),
            },
        })
        .collect();
    Ok(Json(TableResponse {
        catalog_version: catalog.version().to_owned(),
        rows,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// `valid`, `expired` or `tampered`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub quote: Option<Box<RawValue>>,
}

/// Check a quote token: `valid`, `expired` (authentic but past
/// `valid_until`) or `tampered` (not issued by us, or altered).
#[utoipa::path(post, path = "/api/v1/quotes/verify", tag = "quotes", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse)))]
pub async fn verify(
    State(app): State<App>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Json<VerifyResponse> {
    let now = Utc::now();
    let answer = |status, q: Option<SignedQuote>| VerifyResponse {
        status,
        id: q.as_ref().map(|q| q.id.clone()),
        valid_until: q.as_ref().map(|q| q.valid_until),
        quote: q.map(|q| q.quote),
    };
    Json(
        match app
            .pricing
            .signer
            .verify::<SignedQuote>(&req.token, |q| q.valid_until <= now)
        {
            Verification::Valid(q) => answer("valid", Some(q)),
            Verification::Expired(q) => answer("expired", Some(q)),
            Verification::Tampered => answer("tampered", None),
        },
    )
}
