//! Public quotes: priced from the in-memory active catalog (no database
//! round trip), signed so the price can be trusted later.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use puratan_pricing::{Catalog, QuoteRequest};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::{ApiJson, JsonBytes};
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

pub(crate) fn active(app: &App) -> Result<Arc<Catalog>, ApiError> {
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
    JsonBytes(body): JsonBytes,
) -> Result<Response, ApiError> {
    let catalog = active(&app)?;
    let now = Utc::now();
    let request = parse_request_at(&body, now)?;
    let (response, _) = sign(&app, &catalog, &request, now)?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        response,
    )
        .into_response())
}

/// Prices `request` (its `at` already set by the server) on `catalog` and
/// signs it: (the `POST /api/v1/quotes` response body, the token).
pub(crate) fn sign(
    app: &App,
    catalog: &Catalog,
    request: &QuoteRequest,
    now: DateTime<Utc>,
) -> Result<(String, String), ApiError> {
    let quote = catalog.quote(request)?;
    let quote_json = quote.to_json();
    let id = uuid::Uuid::now_v7().to_string();
    let head = format!(
        r#""id":"{id}","created_at":{},"valid_until":{},"catalog_version":{}"#,
        json_string(&now)?,
        json_string(&quote.valid_until)?,
        json_string(catalog.version())?,
    );
    // The signed payload and the response share the head and the engine's
    // quote bytes; both are assembled once, without re-parsing the quote.
    let request_json = serde_json::to_string(request).map_err(ApiError::internal)?;
    let payload = format!(r#"{{{head},"request":{request_json},"quote":{quote_json}}}"#);
    let token = app.pricing.signer.sign_json(&payload);
    let response = format!(r#"{{{head},"quote":{quote_json},"token":"{token}"}}"#);
    Ok((response, token))
}

fn json_string<T: Serialize + ?Sized>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// Parses a request body, adding the server's `at`, in one pass: the
/// field is spliced in after the opening brace. A client-sent `at` then
/// shows up as a duplicate field and is refused.
fn parse_request_at(body: &[u8], at: DateTime<Utc>) -> Result<QuoteRequest, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::new(ErrorCode::MalformedJson, "the body is not UTF-8"))?;
    let trimmed = text.trim_start();
    let Some(rest) = trimmed.strip_prefix('{') else {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            return Err(ApiError::new(
                ErrorCode::MalformedJson,
                "the body is not valid JSON",
            ));
        }
        return Err(invalid_request("", "expected a JSON object"));
    };
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    let spliced = format!(r#"{{"at":"{at}"{sep}{rest}"#);
    QuoteRequest::from_json(&spliced).map_err(|e| {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            ApiError::new(ErrorCode::MalformedJson, "the body is not valid JSON")
        } else if e.to_string().contains("duplicate field `at`") {
            invalid_request("at", "the server sets the pricing instant; omit `at`")
        } else {
            e.into()
        }
    })
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
