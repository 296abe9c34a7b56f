//! Who is calling: resolved once per request by the gateway (which needs
//! the role to pick the rate-limit tier) and read by handlers through the
//! [`Caller`] extractor and [`require`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use puratan_core::auth::AuthError;
use puratan_core::auth::rbac::{self, Permission};
use puratan_core::auth::tokens::AccessClaims;
use puratan_core::domain::{Role, UserId};

use crate::http::error::{ApiError, ErrorCode};
use crate::state::App;

/// An authenticated caller: a valid, non-revoked access token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserId,
    pub claims: Arc<AccessClaims>,
}

impl Caller {
    pub fn roles(&self) -> &[Role] {
        &self.claims.roles
    }

    /// Staff or admin: gets the larger rate-limit budget.
    pub fn is_staff(&self) -> bool {
        self.roles()
            .iter()
            .any(|r| matches!(r, Role::Staff | Role::Admin))
    }

    /// `Forbidden` unless one of the caller's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        rbac::require(self.roles(), permission).map_err(|e| {
            ApiError::from(e).with_details(serde_json::json!({ "permission": permission.as_str() }))
        })
    }
}

/// The outcome of looking at the `Authorization` header, stored in the
/// request extensions by the gateway.
#[derive(Debug, Clone)]
pub enum Authentication {
    Anonymous,
    Authenticated(Caller),
    /// A token was presented and rejected; handlers that need a caller
    /// report this code rather than "missing credentials".
    Rejected(&'static str),
}

/// The bearer token of `headers`, if any (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Validates the bearer token of `headers` (signature, claims, denylist).
/// A denylist store failure rejects the request (fail closed).
pub async fn authenticate(app: &App, headers: &HeaderMap) -> Authentication {
    let Some(token) = bearer(headers) else {
        return Authentication::Anonymous;
    };
    match validate(app, token).await {
        Ok(claims) => match UserId::parse(&claims.sub) {
            Ok(user) => Authentication::Authenticated(Caller { user, claims }),
            Err(_) => Authentication::Rejected("token_malformed"),
        },
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "denylist unavailable: rejecting token");
            Authentication::Rejected("unavailable")
        }
        Err(e) => Authentication::Rejected(e.code()),
    }
}

/// Signature and claims (or a cached verdict for this exact token, with
/// its lifetime re-checked), then the denylist — always.
async fn validate(app: &App, token: &str) -> Result<Arc<AccessClaims>, AuthError> {
    let auth = &app.auth;
    let now = super::now();
    let claims = match auth.verified.get(token) {
        Some(c) if auth.tokens.still_valid(&c, now) => c,
        _ => {
            let c = Arc::new(auth.tokens.validate(token, now)?);
            auth.verified.insert(token, c.clone());
            c
        }
    };
    auth.tokens
        .check_denylist(&claims, app.sessions.as_ref())
        .await?;
    Ok(claims)
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let auth = match parts.extensions.get::<Authentication>() {
            Some(a) => a.clone(),
            // Routes outside the gateway (tests of bare routers).
            None => authenticate(app, &parts.headers).await,
        };
        match auth {
            Authentication::Authenticated(c) => Ok(c),
            Authentication::Anonymous => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "this route needs an access token",
            )),
            Authentication::Rejected("unavailable") => {
                let mut err = ApiError::new(
                    ErrorCode::Unavailable,
                    "temporarily unavailable; retry shortly",
                );
                err.retry_after = Some(5);
                Err(err)
            }
            Authentication::Rejected(code) => {
                let mut err =
                    ApiError::new(ErrorCode::InvalidToken, "the access token is not valid");
                if code != ErrorCode::InvalidToken.as_str() {
                    err.specific_code = Some(code);
                }
                Err(err)
            }
        }
    }
}
