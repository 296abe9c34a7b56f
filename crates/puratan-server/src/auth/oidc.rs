//! "Log in with …": the OpenID Connect relying party around
//! `puratan_core::auth::oidc` (which holds every check); this module does
//! the HTTP fetches, the browser binding and the account decision.
//!
//! * `start` stores the pending login (state, nonce, PKCE verifier) as a
//!   one-time token and binds it to the browser with an `HttpOnly`,
//!   `SameSite=Lax` cookie holding SHA-256(state): a callback carrying a
//!   valid state from another browser (login CSRF) fails.
//! * Discovery documents and JWKS are cached for 10 minutes; a JWKS is
//!   fetched again once when an ID token names an unknown key (rotation).
//! * Accounts are keyed by (issuer, subject) — see the core module for the
//!   no-merge-by-e-mail rule.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use puratan_core::ErrorKind;
use puratan_core::auth::AuthError;
use puratan_core::auth::oidc::{
    self, AuthorizationRequest, CallbackParams, ClientSecret, Discovery, IdTokenRejection,
    LinkDecision, PENDING_LOGIN_TTL_SECS, PendingLogin, ProviderConfig, TokenResponse,
};
use puratan_core::domain::{AccountStatus, ExternalIdentity, User, UserId};

use super::config::OidcProviderConfig;
use super::session::{self, TokenPair};
use super::{ClientInfo, now, security_event};
use crate::http::error::{ApiError, ErrorCode};
use crate::state::App;
use puratan_core::accounts::{secs, slot};

const PENDING: &str = "oidc";
const CACHE_TTL: Duration = Duration::from_secs(600);
/// Responses from providers are small; refuse anything larger.
const MAX_RESPONSE: usize = 256 * 1024;
pub const COOKIE: &str = "puratan_oidc";

/// Configured providers, an HTTP client and the metadata caches.
pub struct Oidc {
    providers: Vec<ProviderConfig>,
    http: reqwest::Client,
    discovery: Mutex<HashMap<String, (Discovery, Instant)>>,
    jwks: Mutex<HashMap<String, (bytes::Bytes, Instant)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field(
                "providers",
                &self.providers.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Oidc {
    pub fn new(configs: &[OidcProviderConfig]) -> anyhow::Result<Self> {
        let providers: Vec<ProviderConfig> = configs
            .iter()
            .map(|c| {
                let mut p = ProviderConfig::new(
                    c.name.clone(),
                    c.issuer.clone(),
                    c.client_id.clone(),
                    Some(ClientSecret::new(c.client_secret.clone())),
                    c.redirect_uri.clone(),
                );
                p.scopes = c.scopes.clone();
                p
            })
            .collect();
        oidc::validate_provider_set(&providers)
            .map_err(|e| anyhow::anyhow!("invalid configuration: auth.oidc: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            providers,
            http,
            discovery: Mutex::default(),
            jwks: Mutex::default(),
        })
    }

    fn provider(&self, name: &str) -> Result<&ProviderConfig, ApiError> {
        self.providers
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ApiError::not_found("provider"))
    }

    async fn fetch(&self, req: reqwest::RequestBuilder) -> Result<(u16, bytes::Bytes), ApiError> {
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, "identity provider unreachable");
            let mut err = ApiError::new(
                ErrorCode::Unavailable,
                "the identity provider is unreachable",
            );
            err.retry_after = Some(5);
            err
        };
        let resp = req.send().await.map_err(|e| unavailable(&e))?;
        let status = resp.status().as_u16();
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE as u64)
        {
            return Err(unavailable(&"response too large"));
        }
        let body = resp.bytes().await.map_err(|e| unavailable(&e))?;
        if body.len() > MAX_RESPONSE {
            return Err(unavailable(&"response too large"));
        }
        Ok((status, body))
    }

    async fn discovery(&self, p: &ProviderConfig) -> Result<Discovery, ApiError> {
        if let Some((d, at)) = self.discovery.lock().get(&p.name)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(d.clone());
        }
        let (_, body) = self.fetch(self.http.get(p.discovery_url())).await?;
        let d = Discovery::from_json(&body, &p.issuer)?;
        self.discovery
            .lock()
            .insert(p.name.clone(), (d.clone(), Instant::now()));
        Ok(d)
    }

    async fn jwks(&self, d: &Discovery, fresh: bool) -> Result<bytes::Bytes, ApiError> {
        let url = d.jwks_uri().to_owned();
        if !fresh
            && let Some((j, at)) = self.jwks.lock().get(&url)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(j.clone());
        }
        let (_, body) = self.fetch(self.http.get(&url)).await?;
        self.jwks.lock().insert(url, (body.clone(), Instant::now()));
        Ok(body)
    }
}

fn state_hash(state: &str) -> String {
    puratan_core::hex::sha256(state.as_bytes())
}

/// Begins a login (or, with `link_user`, links a provider to that account).
/// Returns the provider URL and the browser-binding cookie value.
pub async fn start(
    app: &App,
    provider: &str,
    link_user: Option<UserId>,
) -> Result<(String, String), ApiError> {
    let oidc = &app.auth.oidc;
    let p = oidc.provider(provider)?;
    let d = oidc.discovery(p).await?;
    let req = AuthorizationRequest::new(p, &d, link_user, now())?;
    let state = req.pending.state().to_owned();
    app.sessions
        .put_one_time(
            &slot(PENDING, &state),
            &req.pending.to_json(),
            secs(PENDING_LOGIN_TTL_SECS),
        )
        .await?;
    Ok((req.url, state_hash(&state)))
}

/// Completes a login at the callback: checks, token exchange, ID token,
/// account decision, session.
pub async fn callback(
    app: &App,
    provider: &str,
    query: &str,
    cookie: Option<&str>,
    client: &ClientInfo,
) -> Result<TokenPair, ApiError> {
    let oidc = &app.auth.oidc;
    let p = oidc.provider(provider)?;
    let params = CallbackParams::from_query(query)?;
    let state = params.state.clone().unwrap_or_default();
    // The browser that started the login must be the one finishing it.
    let bound = cookie.is_some_and(|c| {
        let expected = state_hash(&state);
        c.len() == expected.len()
            && puratan_core::hex::constant_time_eq(c.as_bytes(), expected.as_bytes())
    });
    if !bound || state.is_empty() || state.len() > 256 {
        return Err(AuthError::OidcStateMismatch.into());
    }
    let raw = app
        .sessions
        .take_one_time(&slot(PENDING, &state))
        .await?
        .ok_or(AuthError::OidcStateMismatch)?;
    let pending = PendingLogin::from_json(&raw)?;
    let d = oidc.discovery(p).await?;
    let t = now();
    let code = oidc::check_callback(&pending, p, &d, &params, t)?;
    let form = oidc::token_request_form(p, &pending, &code);
    let (_, body) = oidc
        .fetch(
            oidc.http
                .post(d.token_endpoint())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(oidc::encode_form(&form)),
        )
        .await?;
    let tokens = TokenResponse::from_json(&body)?;
    let jwks = oidc.jwks(&d, false).await?;
    let claims = match oidc::validate_id_token(&tokens.id_token, &jwks, p, &d, pending.nonce(), t) {
        Err(AuthError::OidcInvalidIdToken(IdTokenRejection::UnknownKey)) => {
            let jwks = oidc.jwks(&d, true).await?;
            oidc::validate_id_token(&tokens.id_token, &jwks, p, &d, pending.nonce(), t)?
        }
        other => other?,
    };
    let identity = ExternalIdentity {
        issuer: claims.issuer.clone(),
        subject: claims.subject.clone(),
    };
    let linked = match app
        .users
        .get_by_identity(&identity.issuer, &identity.subject)
        .await
    {
        Ok(u) => Some(u.id),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let email_owner = match &claims.email {
        Some(email) => match app.users.get_by_email(email).await {
            Ok(u) => Some(u.id),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let decision = oidc::decide_link(&claims, linked, pending.link_user(), email_owner);
    if let Some(refusal) = decision.refusal() {
        security_event(
            &app.auth,
            "anonymous",
            "auth.oidc_refused",
            None,
            client,
            serde_json::json!({ "provider": provider, "code": refusal.code() }),
        )
        .await;
        return Err(refusal.into());
    }
    let user: User = match decision {
        LinkDecision::LoginExisting(id) => app.users.get(id).await?,
        LinkDecision::LinkToCurrent(id) => {
            let mut u = app.users.get(id).await?;
            if !u.identities.contains(&identity) {
                u.identities.push(identity.clone());
            }
            let u = app.users.update(u).await?;
            security_event(
                &app.auth,
                &id.to_string(),
                "auth.oidc_linked",
                Some(&id.to_string()),
                client,
                serde_json::json!({ "issuer": identity.issuer }),
            )
            .await;
            u
        }
        LinkDecision::CreateNew { email, name } => {
            let mut u = User::new_customer(email, name.unwrap_or_else(|| "Customer".into()), None);
            u.status = AccountStatus::Active;
            u.email_verified_at = Some(chrono::Utc::now());
            u.identities.push(identity.clone());
            let u = app.users.insert(u).await?;
            security_event(
                &app.auth,
                &u.id.to_string(),
                "auth.registered",
                Some(&u.id.to_string()),
                client,
                serde_json::json!({ "provider": provider }),
            )
            .await;
            u
        }
        _ => return Err(ApiError::internal("unhandled link decision")),
    };
    super::login::check_status(&user)?;
    Ok(session::login(
        &app.auth,
        &user,
        client,
        serde_json::json!({ "method": "oidc", "provider": provider }),
    )
    .await?)
}
