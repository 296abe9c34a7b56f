//! `/api/v1/auth/*`: registration, login (with 2FA), tokens, passwords.
//!
//! Bodies reject unknown fields, so nobody can slip `role` or `status`
//! into a registration.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::session::TokenPair;
use crate::auth::{Caller, ClientInfo, account, login, second_factor};
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::App;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    pub email: String,
    /// 8..=128 characters, not a common password. No composition rules.
    pub password: String,
    pub display_name: String,
}

/// Register a customer account.
///
/// Always 202: a verification e-mail is sent (or, if the address already
/// has an account, a notice to its owner) — the answer does not reveal
/// which.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterInput,
    responses((status = 202, description = "Check your e-mail"), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn register(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<RegisterInput>,
) -> Result<Response, ApiError> {
    account::register(
        &app.auth,
        &input.email,
        input.password,
        input.display_name,
        &client,
    )
    .await?;
    Ok(accepted("verification_sent"))
}

fn accepted(status: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": status })),
    )
        .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub token: String,
}

/// Confirm an e-mail address with the token from the verification e-mail.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = TokenInput,
    responses((status = 204), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn verify_email(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<StatusCode, ApiError> {
    account::verify_email(&app.auth, &input.token, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

/// Log in with e-mail and password.
///
/// Returns tokens, or — with 2FA on — `{mfa_required, challenge_token}`
/// for `POST /api/v1/auth/login/2fa`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = super::auth_schema::TokenPair), (status = 401, body = crate::http::error::ErrorBody), (status = 423, body = crate::http::error::ErrorBody)))]
pub async fn login(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Json<login::LoginOutcome>, ApiError> {
    Ok(Json(
        login::login(&app.auth, &input.email, input.password, &client).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorInput {
    pub challenge_token: String,
    /// The 6-digit code from the authenticator app…
    pub code: Option<String>,
    /// …or one of the recovery codes.
    pub recovery_code: Option<String>,
}

/// Second login step: a TOTP code or a recovery code.
#[utoipa::path(post, path = "/api/v1/auth/login/2fa", tag = "auth", request_body = SecondFactorInput,
    responses((status = 200, body = super::auth_schema::TokenPair), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn login_2fa(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<SecondFactorInput>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(
        login::second_factor(
            &app.auth,
            &input.challenge_token,
            input.code.as_deref(),
            input.recovery_code.as_deref(),
            &client,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    pub refresh_token: String,
}

/// Exchange a refresh token for a new pair (the old one stops working;
/// presenting it again ends the session).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshInput,
    responses((status = 200, body = super::auth_schema::TokenPair), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn refresh(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(
        login::refresh(&app.auth, &input.refresh_token, &client).await?,
    ))
}

/// End this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn logout(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
) -> Result<StatusCode, ApiError> {
    login::logout(&app.auth, &caller.claims, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of this account.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "`{sessions_ended}`"), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn logout_all(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
) -> Result<Json<serde_json::Value>, ApiError> {
    let n = login::logout_all(&app.auth, &caller.claims, &client).await?;
    Ok(Json(serde_json::json!({ "sessions_ended": n })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeInput {
    pub current_password: String,
    pub new_password: String,
}

/// Change the password. Every session ends; this client gets new tokens.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = PasswordChangeInput,
    responses((status = 200, body = super::auth_schema::TokenPair), (status = 401, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn change_password(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiJson(input): ApiJson<PasswordChangeInput>,
) -> Result<Json<TokenPair>, ApiError> {
    caller.require(puratan_core::auth::rbac::Permission::ProfileManageOwn)?;
    Ok(Json(
        account::change_password(
            &app.auth,
            caller.user,
            input.current_password,
            input.new_password,
            &client,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestInput {
    pub email: String,
}

/// Ask for a password-reset e-mail. Always 202.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = ResetRequestInput,
    responses((status = 202)))]
pub async fn request_reset(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<ResetRequestInput>,
) -> Result<Response, ApiError> {
    account::request_reset(&app.auth, &input.email, &client).await?;
    Ok(accepted("reset_requested"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmInput {
    pub token: String,
    pub new_password: String,
    /// Required when the account has 2FA: a current code or a recovery code.
    pub code: Option<String>,
}

/// Set a new password with the token from the reset e-mail.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth", request_body = ResetConfirmInput,
    responses((status = 204), (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn confirm_reset(
    State(app): State<App>,
    client: ClientInfo,
    ApiJson(input): ApiJson<ResetConfirmInput>,
) -> Result<StatusCode, ApiError> {
    account::confirm_reset(
        &app.auth,
        &input.token,
        input.new_password,
        input.code.as_deref(),
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub password: String,
}

/// Start 2FA enrolment: a secret, its `otpauth://` URI and a QR code.
#[utoipa::path(post, path = "/api/v1/auth/2fa/enrol", tag = "auth", security(("bearer" = [])), request_body = PasswordInput,
    responses((status = 200, body = super::auth_schema::Enrolment), (status = 401, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn totp_enrol(
    State(app): State<App>,
    caller: Caller,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Json<second_factor::Enrolment>, ApiError> {
    caller.require(puratan_core::auth::rbac::Permission::ProfileManageOwn)?;
    Ok(Json(
        second_factor::enrol(&app.auth, caller.user, input.password).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    pub code: String,
}

/// Turn 2FA on with a first code; returns recovery codes (shown once).
#[utoipa::path(post, path = "/api/v1/auth/2fa/confirm", tag = "auth", security(("bearer" = [])), request_body = CodeInput,
    responses((status = 200, body = super::auth_schema::Confirmed), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn totp_confirm(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiJson(input): ApiJson<CodeInput>,
) -> Result<Json<second_factor::Confirmed>, ApiError> {
    caller.require(puratan_core::auth::rbac::Permission::ProfileManageOwn)?;
    Ok(Json(
        second_factor::confirm(&app.auth, caller.user, &input.code, &client).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordAndCodeInput {
    pub password: String,
    /// A current TOTP code (or, to disable, a recovery code).
    pub code: String,
}

/// Turn 2FA off (password and a code required).
#[utoipa::path(post, path = "/api/v1/auth/2fa/disable", tag = "auth", security(("bearer" = [])), request_body = PasswordAndCodeInput,
    responses((status = 200, body = super::auth_schema::TokenPair), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn totp_disable(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiJson(input): ApiJson<PasswordAndCodeInput>,
) -> Result<Json<TokenPair>, ApiError> {
    caller.require(puratan_core::auth::rbac::Permission::ProfileManageOwn)?;
    Ok(Json(
        second_factor::disable(&app.auth, caller.user, input.password, &input.code, &client)
            .await?,
    ))
}

/// Replace the recovery codes (the old ones stop working).
#[utoipa::path(post, path = "/api/v1/auth/2fa/recovery-codes", tag = "auth", security(("bearer" = [])), request_body = PasswordAndCodeInput,
    responses((status = 200, description = "`{recovery_codes}`"), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn recovery_codes(
    State(app): State<App>,
    caller: Caller,
    client: ClientInfo,
    ApiJson(input): ApiJson<PasswordAndCodeInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(puratan_core::auth::rbac::Permission::ProfileManageOwn)?;
    let codes = second_factor::regenerate_recovery_codes(
        &app.auth,
        caller.user,
        input.password,
        &input.code,
        &client,
    )
    .await?;
    Ok(Json(serde_json::json!({ "recovery_codes": codes })))
}

/// The public keys that verify our access tokens (RFC 7517).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", responses((status = 200, description = "JWK set")))]
pub async fn jwks(State(app): State<App>) -> Json<serde_json::Value> {
    Json(app.auth.tokens.keys().jwks())
}

/// Start "log in with {provider}": redirects to the provider. With a valid
/// access token the provider is linked to that account instead.
#[utoipa::path(get, path = "/api/v1/auth/oauth/{provider}/start", tag = "auth", params(("provider" = String, Path)),
    responses((status = 302, description = "To the provider"), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn oauth_start(
    State(app): State<App>,
    crate::http::extract::ApiPath(provider): crate::http::extract::ApiPath<String>,
    req: axum::http::request::Parts,
) -> Result<Response, ApiError> {
    use crate::auth::caller::Authentication;
    let link = match req.extensions.get::<Authentication>() {
        Some(Authentication::Authenticated(c)) => Some(c.user),
        _ => None,
    };
    let (url, binding) = crate::auth::oidc::start(&app, &provider, link).await?;
    let cookie = format!(
        "{}={binding}; HttpOnly; SameSite=Lax; Path=/api/v1/auth/oauth/; Max-Age={}{}",
        crate::auth::oidc::COOKIE,
        puratan_core::auth::oidc::PENDING_LOGIN_TTL_SECS,
        if app.config.server.tls.is_some() {
            "; Secure"
        } else {
            ""
        }
    );
    Ok((
        StatusCode::FOUND,
        [
            (axum::http::header::LOCATION, url),
            (axum::http::header::SET_COOKIE, cookie),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}

/// The provider sends the browser back here; answers with our tokens.
#[utoipa::path(get, path = "/api/v1/auth/oauth/{provider}/callback", tag = "auth", params(("provider" = String, Path)),
    responses((status = 200, body = super::auth_schema::TokenPair), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn oauth_callback(
    State(app): State<App>,
    client: ClientInfo,
    crate::http::extract::ApiPath(provider): crate::http::extract::ApiPath<String>,
    req: axum::http::request::Parts,
) -> Result<Json<TokenPair>, ApiError> {
    let query = req.uri.query().unwrap_or("");
    let cookie = req
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == crate::auth::oidc::COOKIE)
        .map(|(_, v)| v.to_owned());
    Ok(Json(
        crate::auth::oidc::callback(&app, &provider, query, cookie.as_deref(), &client).await?,
    ))
}
