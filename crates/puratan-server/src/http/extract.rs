//! Extractors that turn every malformed input into an [`ApiError`] with a
//! stable code and field-level details, instead of axum's plain-text
//! rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::error::{ApiError, ErrorCode};

/// JSON body: `Content-Type: application/json` required, size limited by
/// the route class's body limit, unknown fields rejected by the target
/// type's `#[serde(deny_unknown_fields)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The raw body of a JSON request (content type and size checked, not yet
/// parsed), for handlers that parse it themselves.
#[derive(Debug, Clone, Default)]
pub struct JsonBytes(pub Bytes);

impl<S> FromRequest<S> for JsonBytes
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || mime.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
            if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "request body is too large")
            } else {
                ApiError::new(ErrorCode::MalformedJson, "could not read the request body")
            }
        })?;
        Ok(JsonBytes(bytes))
    }
}

/// Parses JSON, naming the offending field path on schema errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // Hostile nesting is bounded by serde_json's recursion limit (128).
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // A schema error found before a later syntax error is still a
        // syntax problem first (checked only on this error path).
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
            return ApiError::new(ErrorCode::MalformedJson, "the body is not valid JSON");
        }
        schema_error(&path, &inner)
    })?;
    de.end().map_err(|_| {
        ApiError::new(
            ErrorCode::MalformedJson,
            "trailing characters after the JSON value",
        )
    })?;
    Ok(value)
}

fn schema_error(path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            ErrorCode::MalformedJson,
            format!("malformed JSON at line {} column {}", e.line(), e.column()),
        ),
        Category::Data => {
            // serde's message ("unknown field `x`, expected one of …") is
            // about the schema, never about server internals: safe to send.
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            let field = if path == "." {
                String::new()
            } else {
                path.to_owned()
            };
            ApiError::new(
                ErrorCode::ValidationFailed,
                format!("invalid request body: {message}"),
            )
            .with_details(json!([{ "field": field, "message": message }]))
        }
    }
}

/// Query string, with the same error model.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                ApiError::invalid_param(
                    &field,
                    format!("invalid query parameter: {}", e.into_inner()),
                )
            })
    }
}

/// Path parameters, with the same error model (e.g. invalid UTF-8 in a
/// percent-encoded segment).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|rej| ApiError::invalid_param("path", rej.body_text()))
    }
}

impl axum::extract::FromRequestParts<crate::state::App> for crate::auth::ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &crate::state::App,
    ) -> Result<Self, Self::Rejection> {
        use std::net::{IpAddr, SocketAddr};
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let ip =
            super::gateway::client_ip(peer, &parts.headers, &app.config.server.trusted_proxies);
        let device: String = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        Ok(Self {
            ip: ip.to_string(),
            device,
        })
    }
}
