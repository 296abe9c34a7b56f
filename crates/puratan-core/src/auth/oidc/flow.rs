//! Starting a login, checking the callback, the token request and response.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::url::{decode_component, encode_pairs};
use super::{Discovery, ProviderConfig};
use crate::auth::AuthError;
use crate::domain::UserId;

/// How long a started login may take (seconds): the TTL for the stored
/// [`PendingLogin`], checked again at the callback.
pub const PENDING_LOGIN_TTL_SECS: u64 = 600;

/// Callback queries longer than this are rejected unparsed.
const MAX_CALLBACK_QUERY_LEN: usize = 8 * 1024;
/// Token responses larger than this are rejected unparsed.
const MAX_TOKEN_RESPONSE_LEN: usize = 256 * 1024;

/// 32 random bytes, base64url without padding (43 characters).
fn random_token() -> Result<String, AuthError> {
    let mut buf = [0u8; 32];
    crate::auth::random_bytes(&mut buf)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 §4.2).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// What the server keeps between sending the browser to the provider and
/// the callback: store it (as [`Self::to_json`]) in the session store's
/// one-time-token slot under [`Self::state`] for [`PENDING_LOGIN_TTL_SECS`].
///
/// Holds secrets (`nonce`, PKCE verifier): `Debug` redacts them, and it is
/// meant for server-side storage only, never for the browser.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    provider: String,
    issuer: String,
    state: String,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    #[serde(default)]
    link_user: Option<UserId>,
    created_at: u64,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("provider", &self.provider)
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field("link_user", &self.link_user)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl PendingLogin {
    /// The provider's configured name.
    pub fn provider(&self) -> &str {
        &self.provider
    }
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The `state` sent to the provider: the key to store this under.
    pub fn state(&self) -> &str {
        &self.state
    }
    /// The `nonce` the ID token must carry (for [`super::validate_id_token`]).
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
    /// The account to link the identity to (a linking flow started from a
    /// logged-in profile); `None` for a login. The server must check that
    /// the session at the callback is still this user's.
    pub fn link_user(&self) -> Option<UserId> {
        self.link_user
    }
    pub fn created_at(&self) -> u64 {
        self.created_at
    }
    /// Serialised for the session store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// Back from the session store. A corrupt value is a state mismatch.
    pub fn from_json(s: &str) -> Result<Self, AuthError> {
        serde_json::from_str(s).map_err(|_| AuthError::OidcStateMismatch)
    }
}

/// A started login: send the browser to [`Self::url`], keep
/// [`Self::pending`] on the server.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub url: String,
    pub pending: PendingLogin,
}

impl AuthorizationRequest {
    /// Draws `state`, `nonce` and the PKCE verifier and builds the
    /// authorization URL. `link_user` is the logged-in account for a
    /// linking flow, `None` for a login. Fails if the provider config is
    /// invalid, `discovery` belongs to another issuer, or the provider does
    /// not support our token endpoint authentication.
    pub fn new(
        provider: &ProviderConfig,
        discovery: &Discovery,
        link_user: Option<UserId>,
        now: u64,
    ) -> Result<Self, AuthError> {
        provider.validate()?;
        if discovery.issuer() != provider.issuer {
            return Err(AuthError::OidcIssuerMismatch);
        }
        let method = token_auth_method(provider);
        if let Some(methods) = discovery.token_endpoint_auth_methods_supported()
            && !methods.iter().any(|m| m == method)
        {
            return Err(AuthError::OidcDiscovery(format!(
                "the provider does not accept token endpoint authentication {method}"
            )));
        }
        let pending = PendingLogin {
            provider: provider.name.clone(),
            issuer: provider.issuer.clone(),
            state: random_token()?,
            nonce: random_token()?,
            pkce_verifier: random_token()?,
            redirect_uri: provider.redirect_uri.clone(),
            link_user,
            created_at: now,
        };
        let challenge = pkce_challenge(&pending.pkce_verifier);
        let scope = provider.scope_param();
        let endpoint = discovery.authorization_endpoint();
        let mut url = String::with_capacity(endpoint.len() + 512);
        url.push_str(endpoint);
        url.push(if endpoint.contains('?') { '&' } else { '?' });
        url.push_str(&encode_pairs([
            ("response_type", "code"),
            ("client_id", provider.client_id.as_str()),
            ("redirect_uri", provider.redirect_uri.as_str()),
            ("scope", scope.as_str()),
            ("state", pending.state.as_str()),
            ("nonce", pending.nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]));
        Ok(Self { url, pending })
    }
}

/// `client_secret_post` with a secret, `none` (public client) without.
fn token_auth_method(provider: &ProviderConfig) -> &'static str {
    if provider.client_secret.is_some() {
        "client_secret_post"
    } else {
        "none"
    }
}

/// The query parameters of the redirect back to our `redirect_uri`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207 issuer identification.
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

impl CallbackParams {
    /// Parses the query string (without `?`). Unknown parameters are
    /// ignored; a repeated known one (RFC 6749 §3.1) or a bad escape is a
    /// [`AuthError::OidcStateMismatch`] (the callback cannot be trusted).
    pub fn from_query(query: &str) -> Result<Self, AuthError> {
        if query.len() > MAX_CALLBACK_QUERY_LEN {
            return Err(AuthError::OidcStateMismatch);
        }
        let mut out = Self::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode_component(k).ok_or(AuthError::OidcStateMismatch)?;
            let slot = match k.as_str() {
                "code" => &mut out.code,
                "state" => &mut out.state,
                "iss" => &mut out.iss,
                "error" => &mut out.error,
                "error_description" => &mut out.error_description,
                _ => continue,
            };
            if slot.is_some() {
                return Err(AuthError::OidcStateMismatch);
            }
            *slot = Some(decode_component(v).ok_or(AuthError::OidcStateMismatch)?);
        }
        Ok(out)
    }
}

/// Keeps `[A-Za-z0-9._-]`, at most `max` characters: provider-supplied
/// text that ends up in our errors and logs.
fn sanitize(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(max)
        .collect()
}

/// Printable ASCII only, at most `max` characters.
fn sanitize_text(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(max)
        .collect()
}

fn provider_error(error: &str, description: Option<&str>) -> AuthError {
    AuthError::OidcProvider {
        error: sanitize(error, 64),
        description: description.map(|d| sanitize_text(d, 256)),
    }
}

/// Checks the callback against the pending login and returns the
/// authorization code. In order:
///
/// 1. `state` equals the pending login's (constant time), the pending login
///    is for `provider` (name and issuer, and `discovery` is that issuer's)
///    and is younger than [`PENDING_LOGIN_TTL_SECS`] →
///    [`AuthError::OidcStateMismatch`];
/// 2. RFC 9207: `iss`, when present, equals the issuer exactly, and is
///    required when the provider advertises
///    `authorization_response_iss_parameter_supported` →
///    [`AuthError::OidcIssuerMismatch`];
/// 3. an `error` answer (e.g. the user declined) →
///    [`AuthError::OidcProvider`];
/// 4. a non-empty `code` (else `OidcProvider { error: "invalid_response" }`).
///
/// The state is checked first so a forged error cannot be injected.
pub fn check_callback(
    pending: &PendingLogin,
    provider: &ProviderConfig,
    discovery: &Discovery,
    callback: &CallbackParams,
    now: u64,
) -> Result<String, AuthError> {
    let state_ok = callback
        .state
        .as_deref()
        .is_some_and(|s| ct_eq(s, &pending.state));
    if !state_ok
        || pending.provider != provider.name
        || pending.issuer != provider.issuer
        || discovery.issuer() != provider.issuer
        || now > pending.created_at.saturating_add(PENDING_LOGIN_TTL_SECS)
    {
        return Err(AuthError::OidcStateMismatch);
    }
    match callback.iss.as_deref() {
        Some(iss) if iss != discovery.issuer() => return Err(AuthError::OidcIssuerMismatch),
        None if discovery.authorization_response_iss_parameter_supported() => {
            return Err(AuthError::OidcIssuerMismatch);
        }
        _ => {}
    }
    if let Some(error) = &callback.error {
        return Err(provider_error(error, callback.error_description.as_deref()));
    }
    match callback.code.as_deref() {
        Some(code) if !code.is_empty() && code.len() <= 2048 => Ok(code.to_owned()),
        _ => Err(provider_error(
            "invalid_response",
            Some("no code in callback"),
        )),
    }
}

/// The form fields of the token request (RFC 6749 §4.1.3 + RFC 7636 §4.5):
/// `grant_type=authorization_code`, `code`, `redirect_uri` (the one the
/// login started with), `code_verifier`, `client_id`, and `client_secret`
/// when configured (`client_secret_post`; a public client sends no
/// secret). POST them as `application/x-www-form-urlencoded` (see
/// [`encode_form`]) to [`Discovery::token_endpoint`].
pub fn token_request_form(
    provider: &ProviderConfig,
    pending: &PendingLogin,
    code: &str,
) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", pending.redirect_uri.clone()),
        ("code_verifier", pending.pkce_verifier.clone()),
        ("client_id", provider.client_id.clone()),
    ];
    if let Some(secret) = &provider.client_secret {
        form.push(("client_secret", secret.expose().to_owned()));
    }
    form
}

/// Encodes form fields as an `application/x-www-form-urlencoded` body.
pub fn encode_form(fields: &[(&str, String)]) -> String {
    encode_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
}

/// A successful token response (RFC 6749 §5.1) of an OpenID login.
#[derive(Clone)]
pub struct TokenResponse {
    pub id_token: String,
    pub access_token: String,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RawTokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl TokenResponse {
    /// Parses the token endpoint's JSON body, whatever the HTTP status: an
    /// OAuth error body (RFC 6749 §5.2) becomes [`AuthError::OidcProvider`]
    /// with its `error` code. A success must be a `Bearer` token response
    /// with an `id_token`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, AuthError> {
        if bytes.len() > MAX_TOKEN_RESPONSE_LEN {
            return Err(provider_error("invalid_response", Some("too large")));
        }
        let raw: RawTokenResponse = serde_json::from_slice(bytes)
            .map_err(|_| provider_error("invalid_response", Some("not a JSON object")))?;
        if let Some(error) = raw.error {
            return Err(provider_error(&error, raw.error_description.as_deref()));
        }
        if !raw
            .token_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
        {
            return Err(provider_error(
                "invalid_response",
                Some("token_type is not Bearer"),
            ));
        }
        let id_token = raw
            .id_token
            .ok_or_else(|| provider_error("invalid_response", Some("no id_token")))?;
        let access_token = raw
            .access_token
            .ok_or_else(|| provider_error("invalid_response", Some("no access_token")))?;
        // Some providers send expires_in as a string.
        let expires_in = match raw.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok(Self {
            id_token,
            access_token,
            expires_in,
            scope: raw.scope,
        })
    }
}
