//! The one error type of the HTTP API.
//!
//! Every error response has the same JSON shape:
//! `{"code": "...", "message": "...", "details": ..., "request_id": "..."}`.
//! `code` is stable and documented (docs/error-codes.md is generated from
//! [`ErrorCode::ALL`] and a test fails if it drifts); `message` is for
//! humans; internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::request_id;

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:ident, $doc:literal;)*) => {
        /// Stable, machine-readable error codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }
        }
    };
}

error_codes! {
    MalformedJson = "malformed_json", BAD_REQUEST, "The body is not syntactically valid JSON.";
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "The body is JSON but does not match the schema (unknown, missing or mistyped fields, out-of-range values); `details` lists each field and why.";
    InvalidParameter = "invalid_parameter", BAD_REQUEST, "A path or query parameter is invalid; `details.field` names it.";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The body must be sent with `Content-Type: application/json`.";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "The body exceeds the limit for this route class (see docs/rate-limits.md).";
    Unauthorized = "unauthorized", UNAUTHORIZED, "Missing credentials: send `Authorization: Bearer <access token>`.";
    InvalidToken = "invalid_token", UNAUTHORIZED, "The access token is not valid. Specific codes: `token_expired`, `token_revoked` (logged out or session revoked), `token_signature`, `token_algorithm`, `token_unknown_key`, `token_issuer`, `token_audience`, `token_type`, `token_not_yet_valid`, `token_missing_claim`, `token_malformed`. Refresh or log in again.";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "Wrong e-mail or password (deliberately not saying which).";
    InvalidOtp = "invalid_otp", UNAUTHORIZED, "Wrong, expired or already used one-time code (specific: `otp_replay`, `invalid_recovery_code`; `otp_required` when a password reset of a 2FA account omits `code`).";
    InvalidRefreshToken = "invalid_refresh_token", UNAUTHORIZED, "The refresh token is unknown, expired or revoked (specific: `refresh_expired`, `refresh_revoked`, `refresh_reuse_detected` — a rotated token was used again and its whole session was revoked). Log in again.";
    InvalidLinkToken = "invalid_link_token", BAD_REQUEST, "The e-mail verification, password reset or 2FA challenge token is unknown, used or expired.";
    Forbidden = "forbidden", FORBIDDEN, "Authenticated, but your roles lack the permission this route needs (`details.permission`).";
    AccountLocked = "account_locked", LOCKED, "Too many failed logins: the account is locked for a while (`Retry-After`), or an administrator locked it.";
    AccountDisabled = "account_disabled", FORBIDDEN, "The account is disabled.";
    EmailNotVerified = "email_not_verified", FORBIDDEN, "Confirm your e-mail address first (see the verification e-mail).";
    WeakPassword = "weak_password", UNPROCESSABLE_ENTITY, "The new password does not meet the policy (specific: `password_too_short` (< 8), `password_too_long` (> 128), `password_too_common`).";
    OidcFailed = "oidc_failed", BAD_REQUEST, "Login with an external provider failed (specific codes name the check: state, nonce, issuer, audience, …).";
    InvalidTicket = "invalid_ticket", UNAUTHORIZED, "Live connections (`/api/v1/ws`, `/api/v1/live/events`) need a `ticket` from `POST /api/v1/live/tickets`; it is single use and expires after `live.ticket_ttl_secs`.";
    PreferenceInvalid = "preference_invalid", UNPROCESSABLE_ENTITY, "`PATCH /api/v1/me`: a `notify.*` preference has an unknown key or a value other than `on`/`off` (docs/notifications.md); `details.key` names it, `details.allowed_keys` and `details.allowed_values` list what is accepted.";
    OriginForbidden = "origin_forbidden", FORBIDDEN, "The `Origin` of this WebSocket/SSE request is neither the server's own nor listed in `live.allowed_origins` or `server.cors_origins`.";
    UpgradeRequired = "upgrade_required", UPGRADE_REQUIRED, "`/api/v1/ws` only accepts WebSocket handshakes (for a plain HTTP stream use `/api/v1/live/events`).";
    NotFound = "not_found", NOT_FOUND, "No such resource (or no such route).";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "The route exists but not with this HTTP method.";
    Conflict = "conflict", CONFLICT, "The request conflicts with the current state (duplicate unique field, not enough stock).";
    FileNotReady = "file_not_ready", CONFLICT, "The file is not ready for this: it waits for a virus scan, was refused or quarantined, or its processing (preflight, previews) has not finished; see the file's `status` and `processing.state`.";
    StaleVersion = "stale_version", CONFLICT, "The resource changed since you read it; re-read and retry.";
    PricingRejected = "pricing_rejected", UNPROCESSABLE_ENTITY, "The pricing engine rejected the request. The body's `code` is then the engine's own stable code (e.g. `unknown_product`, `option_not_allowed`, `quantity_step`, `coupon_expired`, `invalid_request`; see crates/puratan-pricing) and `details.field` names the offending field when there is one.";
    QuoteRejected = "quote_rejected", UNPROCESSABLE_ENTITY, "Checkout: a line's quote cannot be honoured; `details.line` is the line index. Specific codes: `quote_tampered` (not issued here or altered), `quote_expired` (request a new quote), `quote_mismatch` (the quote prices another product or quantity, or re-pricing it no longer gives the signed total), `product_unavailable`, `cart_empty`.";
    PaymentMismatch = "payment_mismatch", UNPROCESSABLE_ENTITY, "A recorded payment must be exactly the order total; `details.total` is the amount due.";
    TotalMismatch = "total_mismatch", UNPROCESSABLE_ENTITY, "Checkout: `expected_total` is not the sum of the verified quotes; `details.actual` is the correct total.";
    OutOfStock = "out_of_stock", CONFLICT, "Checkout: a stock-controlled product has fewer units left than ordered (`details.product_id`).";
    CouponExhausted = "coupon_exhausted", CONFLICT, "Checkout: a coupon of the order has been used by as many orders as its `max_redemptions` allows (`details.coupon`, the code in lower case); quote again without it. Redemptions are counted per order and not given back when an order is cancelled.";
    IdempotencyKeyInvalid = "idempotency_key_invalid", BAD_REQUEST, "`POST /api/v1/orders` needs an `Idempotency-Key` header of 1-255 visible ASCII characters (a UUID is a good choice).";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "This `Idempotency-Key` was already used for a different request; a retry must send the same body.";
    TransitionNotAllowed = "transition_not_allowed", CONFLICT, "The workflow does not allow this transition now; `details.current_state` and `details.allowed` (the transitions you may fire) say what is possible. Specific codes: `transition_guard_failed` (`details.guard`), `transition_no_previous_state`.";
    QueueEmpty = "queue_empty", NOT_FOUND, "`POST /api/v1/staff/jobs/claim`: no job is waiting in the production queue; try again later.";
    JobStateInvalid = "job_state_invalid", CONFLICT, "The job's status does not allow this: release and complete need a `claimed` job, a quality check a `done` one; `details.status` is the job's status.";
    JobNotYours = "job_not_yours", FORBIDDEN, "Only the operator who claimed the job (or an admin) may release or complete it; `details.claimed_by` says who did.";
    TransitionForbidden = "transition_forbidden", FORBIDDEN, "Your role may not fire this transition from the order's current state (`details.required` lists the roles that may).";
    InvalidCatalog = "invalid_catalog", UNPROCESSABLE_ENTITY, "A catalog file failed validation; `details.path` is the JSON path of the first bad field.";
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, "Too many requests for this client and route class; see the `Retry-After` and `RateLimit` headers.";
    Timeout = "timeout", SERVICE_UNAVAILABLE, "The request took longer than the server's time limit.";
    Unavailable = "unavailable", SERVICE_UNAVAILABLE, "A backend the request needs is unavailable; retry later.";
    Internal = "internal", INTERNAL_SERVER_ERROR, "An unexpected error. It is logged with the request id; the response carries no details.";
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Box<Value>>,
    /// Seconds, for 429 and 503 responses.
    pub retry_after: Option<u64>,
    /// A more specific code from a library (the pricing engine's codes).
    pub specific_code: Option<&'static str>,
}

/// The error body, as documented in the OpenAPI spec.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    pub request_id: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            specific_code: None,
        }
    }

    /// A more specific stable code for the body (the general one still
    /// decides the HTTP status).
    pub fn with_specific(mut self, code: &'static str) -> Self {
        self.specific_code = Some(code);
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn invalid_param(field: &str, reason: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameter, reason)
            .with_details(serde_json::json!({ "field": field }))
    }

    /// An unexpected failure: log everything, tell the client nothing.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, request_id = %request_id::current(), "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<puratan_pricing::PricingError> for ApiError {
    fn from(e: puratan_pricing::PricingError) -> Self {
        let details = e
            .field()
            .map(|f| Box::new(serde_json::json!({ "field": f })));
        let mut err = Self::new(ErrorCode::PricingRejected, e.to_string());
        err.details = details;
        err.specific_code = Some(e.code());
        err
    }
}

impl From<puratan_core::Error> for ApiError {
    fn from(e: puratan_core::Error) -> Self {
        use puratan_core::{ConflictReason, Error};
        match e {
            Error::NotFound { entity } => Self::not_found(entity),
            Error::Conflict {
                reason: ConflictReason::StaleVersion,
                entity,
            } => Self::new(
                ErrorCode::StaleVersion,
                format!("{entity} was modified concurrently"),
            ),
            Error::Conflict { entity, reason } => {
                Self::new(ErrorCode::Conflict, format!("{entity}: {reason}"))
            }
            Error::Invalid { field, reason } => {
                Self::new(ErrorCode::ValidationFailed, format!("{field}: {reason}"))
                    .with_details(serde_json::json!([{ "field": field, "message": reason }]))
            }
            Error::Unavailable { backend, .. } => {
                tracing::warn!(backend, request_id = %request_id::current(), "backend unavailable");
                let mut err = Self::new(
                    ErrorCode::Unavailable,
                    "a backend is temporarily unavailable",
                );
                err.retry_after = Some(1);
                err
            }
            other => Self::internal(other),
        }
    }
}

/// The stable code of a 5xx response, in its extensions: the gateway
/// names it in the `system.error` alert without parsing the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let code = self.specific_code.unwrap_or(self.code.as_str());
        let body = ErrorBody {
            code,
            message: self.message,
            details: self.details.map(|d| *d),
            request_id: request_id::current(),
        };
        let mut resp = (status, Json(body)).into_response();
        // Only 5xx: the extension map costs an allocation, and only the
        // 5xx alert reads it.
        if status.is_server_error() {
            resp.extensions_mut().insert(ServerErrorCode(code));
        }
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// The error-code reference in Markdown (docs/error-codes.md).
pub fn error_code_reference() -> String {
    let mut out = String::from(
        "# Error codes\n\n<!-- Generated by `puratan docs error-codes` from crates/puratan-server/src/http/error.rs. Do not edit. -->\n\n\
         Every error response is JSON: `{\"code\", \"message\", \"details\", \"request_id\"}`. Match on `code`; it is stable.\n\
         Quote `request_id` when reporting a problem: the server log has the details.\n\n\
         | code | HTTP status | meaning |\n|---|---|---|\n",
    );
    for c in ErrorCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.as_str(),
            c.status().as_u16(),
            c.description()
        ));
    }
    out.push_str("\nPricing errors (`POST /api/v1/quotes`, `puratan quote`) use the pricing engine's own codes, listed in crates/puratan-pricing's documentation, with HTTP status 422.\n");
    out.push_str("\nUpload errors (`/files/`, tus) keep the tus protocol's HTTP statuses (404, 409, 410, 412, 413, 415, 460) and use puratan-files' codes: `tus_unsupported_version`, `tus_missing_header`, `tus_invalid_header`, `tus_wrong_content_type`, `tus_offset_mismatch`, `tus_unsupported_checksum`, `tus_checksum_mismatch`, `upload_too_large`, `upload_quota_exceeded` (`details.quota`, `details.reserved`), `upload_not_found`, `upload_expired`, `upload_too_many_chunks`.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/error-codes.md is generated; this fails when it drifts.
    /// Regenerate with `cargo run -p puratan-server -- docs error-codes > docs/error-codes.md`.
    #[test]
    fn error_code_reference_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/error-codes.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            on_disk.trim_end(),
            error_code_reference().trim_end(),
            "docs/error-codes.md is stale"
        );
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
    }
}
