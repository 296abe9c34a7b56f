//! OpenID Connect login ("log in with …"): the relying-party logic, pure.
//!
//! The authorization code flow with PKCE, `state` and `nonce`, following
//! OpenID Connect Core 1.0 §3.1 and the OAuth 2.0 Security BCP (RFC 9700).
//! This module never touches the network: the server fetches the discovery
//! document, the JWKS and the token response with its own HTTP client and
//! hands the bytes in; time is passed in as Unix seconds.
//!
//! # The flow, and who does what
//!
//! 1. **Configuration.** One [`ProviderConfig`] per provider (any number;
//!    check the set with [`validate_provider_set`]). Each provider has its
//!    own redirect URI, so a callback names its provider (RFC 9700 §4.4.2).
//! 2. **Discovery.** The server GETs [`ProviderConfig::discovery_url`] and
//!    parses it with [`Discovery::from_json`], which requires the document's
//!    `issuer` to equal the configured issuer *byte for byte* (no
//!    normalisation, no trailing-slash forgiveness: OIDC Discovery §4.3) and
//!    `S256` among the PKCE methods when the provider lists them.
//! 3. **Start.** [`AuthorizationRequest::new`] draws `state`, `nonce` and a
//!    PKCE verifier (32 random bytes each, base64url) and builds the
//!    authorization URL (`response_type=code`, `scope` always containing
//!    `openid`, `code_challenge_method=S256`). The server stores the
//!    [`PendingLogin`] in the session store's one-time-token slot keyed by
//!    [`PendingLogin::state`] for [`PENDING_LOGIN_TTL_SECS`], **and binds it
//!    to the browser** (e.g. a short-lived `HttpOnly; SameSite=Lax` cookie
//!    holding a hash of the state, checked at the callback): a state that
//!    merely exists in the store does not stop login CSRF (RFC 9700 §4.7).
//!    To link a provider to the logged-in account, pass that account as
//!    `link_user`.
//! 4. **Callback.** The server takes the pending login out of the store
//!    (one-time: a replayed callback finds nothing), parses the query with
//!    [`CallbackParams::from_query`] and calls [`check_callback`]: `state`
//!    compared in constant time, the pending login's age and provider, the
//!    RFC 9207 `iss` parameter (required when the provider advertises it —
//!    mix-up defence), then an `error` answer, then the `code`.
//! 5. **Token.** [`token_request_form`] gives the form for the token endpoint
//!    (authentication `client_secret_post`, see below); the server POSTs it
//!    and parses any answer, 200 or 400, with [`TokenResponse::from_json`].
//! 6. **ID token.** The server GETs the JWKS (cache it; refetch once on
//!    `IdTokenRejection::UnknownKey` — providers rotate keys) and calls
//!    [`validate_id_token`] (OIDC Core §3.1.3.7, see its docs).
//! 7. **Account.** [`decide_link`] maps the identity to a local account.
//!
//! # Decisions
//!
//! * **Identity is `(issuer, subject)`**, never the e-mail address:
//!   providers let users change it, and an issuer vouches only for its own
//!   subjects.
//! * **No merge by e-mail.** An identity that is not linked yet, whose
//!   e-mail belongs to an existing account, does *not* log into that
//!   account ([`LinkDecision::RefuseEmailTaken`], code `oidc_email_taken`):
//!   the user logs in the usual way and links the provider from the
//!   profile (`link_user`). Otherwise anyone able to obtain an identity with
//!   someone's address at any configured provider would own their account.
//! * **New accounts need a verified e-mail** (`email_verified: true`):
//!   creating an account from an unverified address would let an attacker
//!   pre-register a victim's address and keep access through the linked
//!   identity after the victim "recovers" the account (account
//!   pre-hijacking). Code `oidc_email_unverified`.
//! * **An identity is linked to one account.** Linking an identity that
//!   already belongs to another account is refused
//!   (`oidc_identity_linked_elsewhere`), never moved silently.
//! * **Client authentication is `client_secret_post`** (the secret in the
//!   form body) for confidential clients, `none` (PKCE only) for public
//!   ones. `client_secret_basic` is the spec's default but its
//!   form-encode-then-base64 rule (RFC 6749 §2.3.1) is a well-known interop
//!   trap; every mainstream provider supports `client_secret_post`, and
//!   [`AuthorizationRequest::new`] refuses a provider whose metadata says
//!   otherwise before the user is sent there.
//! * **Signature algorithms**: RS256, ES256 and EdDSA (Ed25519) only —
//!   never `none`, never HS* (a client-secret MAC would make the secret a
//!   signing key). Keys come from the provider's JWKS only (`jku`, `x5u`,
//!   `jwk` headers are ignored); a key must suit the algorithm (family,
//!   curve, its own `alg`/`use` when given) and RSA keys have ≥ 2048 bits.
//! * **Encrypted ID tokens** (JWE) are not supported.
//! * Everything is compared exactly: issuer strings, audiences, `azp`;
//!   secrets (`state`, `nonce`) in constant time.

mod discovery;
mod flow;
mod id_token;
mod link;
mod url;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::auth::AuthError;

pub use discovery::Discovery;
pub use flow::{
    AuthorizationRequest, CallbackParams, PENDING_LOGIN_TTL_SECS, PendingLogin, TokenResponse,
    check_callback, encode_form, token_request_form,
};
pub use id_token::{
    ID_TOKEN_ALGORITHMS, ID_TOKEN_LEEWAY_SECS, IdTokenClaims, IdTokenRejection, validate_id_token,
};
pub use link::{LinkDecision, decide_link};

/// An account at an OpenID provider: the key of a link to a local user.
/// `issuer` is the provider's exact issuer string, `subject` its `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
}

/// A client secret: never printed by `Debug`, never serialised.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }
    /// The secret itself, for the token request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

/// One OpenID provider, as configured by the operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Short name used in routes and stored with pending logins:
    /// 1..=32 characters of `[a-z0-9_-]` (e.g. `google`).
    pub name: String,
    /// The issuer identifier, exactly as the provider spells it (`https://`;
    /// `http://` only for a loopback host, for tests).
    pub issuer: String,
    pub client_id: String,
    /// `None` for a public client (PKCE only, token auth method `none`).
    #[serde(default)]
    pub client_secret: Option<ClientSecret>,
    /// Requested scopes; `openid` is added when missing.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// This provider's callback URL on our side (registered at the provider).
    pub redirect_uri: String,
    /// Other audiences an ID token may carry besides our client id (OIDC
    /// Core §3.1.3.7 item 3: reject audiences the client does not trust).
    /// Empty (the default) rejects every multi-audience ID token.
    #[serde(default)]
    pub trusted_audiences: Vec<String>,
}

impl ProviderConfig {
    /// A provider with the default scopes (`openid email profile`).
    pub fn new(
        name: impl Into<String>,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Option<ClientSecret>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret,
            scopes: default_scopes(),
            redirect_uri: redirect_uri.into(),
            trusted_audiences: Vec::new(),
        }
    }

    /// Checks every field; the message names the bad one.
    pub fn validate(&self) -> Result<(), AuthError> {
        let bad = |field: &str, why: &str| {
            AuthError::OidcConfig(format!("provider {:?}: {field} {why}", self.name))
        };
        if self.name.is_empty()
            || self.name.len() > 32
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad("name", "must be 1..=32 characters of [a-z0-9_-]"));
        }
        url::check_url(&self.issuer, false).map_err(|why| bad("issuer", why))?;
        if !is_vschar_string(&self.client_id) {
            return Err(bad(
                "client_id",
                "must be 1..=255 printable ASCII characters",
            ));
        }
        if let Some(secret) = &self.client_secret
            && !is_vschar_string(secret.expose())
        {
            return Err(bad(
                "client_secret",
                "must be 1..=255 printable ASCII characters",
            ));
        }
        for scope in &self.scopes {
            let ok = !scope.is_empty()
                && scope.len() <= 128
                && scope
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !ok {
                return Err(bad("scopes", "must be scope tokens (RFC 6749 §3.3)"));
            }
        }
        url::check_url(&self.redirect_uri, true).map_err(|why| bad("redirect_uri", why))?;
        Ok(())
    }

    /// Where the discovery document lives (OIDC Discovery §4: the issuer,
    /// without a trailing `/`, plus `/.well-known/openid-configuration`).
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        )
    }

    /// The scopes to request: the configured ones, `openid` first.
    pub(crate) fn scope_param(&self) -> String {
        let mut out = vec!["openid"];
        for s in &self.scopes {
            if !out.contains(&s.as_str()) {
                out.push(s);
            }
        }
        out.join(" ")
    }
}

/// `client_id`/`client_secret` syntax: VSCHAR (RFC 6749 Appendix A).
fn is_vschar_string(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// Validates every provider and the set: names, issuers and redirect URIs
/// must be unique (a callback must identify exactly one provider).
pub fn validate_provider_set(providers: &[ProviderConfig]) -> Result<(), AuthError> {
    let mut names = HashSet::new();
    let mut issuers = HashSet::new();
    let mut redirects = HashSet::new();
    for p in providers {
        p.validate()?;
        if !names.insert(p.name.as_str()) {
            return Err(AuthError::OidcConfig(format!(
                "provider name {:?} is used twice",
                p.name
            )));
        }
        if !issuers.insert(p.issuer.as_str()) {
            return Err(AuthError::OidcConfig(format!(
                "issuer {:?} is configured twice",
                p.issuer
            )));
        }
        if !redirects.insert(p.redirect_uri.as_str()) {
            return Err(AuthError::OidcConfig(format!(
                "redirect_uri {:?} is shared by two providers",
                p.redirect_uri
            )));
        }
    }
    Ok(())
}
