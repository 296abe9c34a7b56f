//! The provider's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414).

use serde::Deserialize;

use super::url::check_url;
use crate::auth::AuthError;

/// Discovery documents larger than this are rejected unparsed.
const MAX_DISCOVERY_LEN: usize = 64 * 1024;

/// The parts of a provider's discovery document the login flow uses,
/// validated. Only [`Discovery::from_json`] makes one, so a `Discovery`
/// always belongs to the issuer it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    authorization_response_iss_parameter_supported: bool,
}

#[derive(Deserialize)]
struct Raw {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    jwks_uri: Option<String>,
    userinfo_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    response_types_supported: Option<Vec<String>>,
    code_challenge_methods_supported: Option<Vec<String>>,
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    id_token_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

fn invalid(why: impl Into<String>) -> AuthError {
    AuthError::OidcDiscovery(why.into())
}

fn required_url(field: &'static str, value: Option<String>) -> Result<String, AuthError> {
    let value = value.ok_or_else(|| invalid(format!("{field} is missing")))?;
    // Endpoints may carry a query (RFC 6749 §3.1), never a fragment.
    check_url(&value, true).map_err(|why| invalid(format!("{field} {why}")))?;
    Ok(value)
}

fn optional_url(field: &'static str, value: Option<String>) -> Result<Option<String>, AuthError> {
    value.map(|v| required_url(field, Some(v))).transpose()
}

impl Discovery {
    /// Parses a discovery document fetched from
    /// [`ProviderConfig::discovery_url`](super::ProviderConfig::discovery_url).
    ///
    /// `issuer` must equal `expected_issuer` exactly
    /// ([`AuthError::OidcIssuerMismatch`] otherwise); the authorization,
    /// token and JWKS endpoints must be present (`https`, or `http` on a
    /// loopback host); `response_types_supported`, when present, must list
    /// `code`; `code_challenge_methods_supported`, when present, must list
    /// `S256`; `id_token_signing_alg_values_supported`, when present, must
    /// share an algorithm with [`ID_TOKEN_ALGORITHMS`](super::ID_TOKEN_ALGORITHMS).
    pub fn from_json(bytes: &[u8], expected_issuer: &str) -> Result<Self, AuthError> {
        if bytes.len() > MAX_DISCOVERY_LEN {
            return Err(invalid("document is too large"));
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
        let issuer = raw.issuer.ok_or_else(|| invalid("issuer is missing"))?;
        if issuer != expected_issuer {
            return Err(AuthError::OidcIssuerMismatch);
        }
        let authorization_endpoint =
            required_url("authorization_endpoint", raw.authorization_endpoint)?;
        let token_endpoint = required_url("token_endpoint", raw.token_endpoint)?;
        let jwks_uri = required_url("jwks_uri", raw.jwks_uri)?;
        let userinfo_endpoint = optional_url("userinfo_endpoint", raw.userinfo_endpoint)?;
        let end_session_endpoint = optional_url("end_session_endpoint", raw.end_session_endpoint)?;
        if let Some(types) = &raw.response_types_supported
            && !types.iter().any(|t| t == "code")
        {
            return Err(invalid("the provider does not support response_type=code"));
        }
        if let Some(methods) = &raw.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(invalid("the provider does not support PKCE with S256"));
        }
        if let Some(algs) = &raw.id_token_signing_alg_values_supported
            && !algs
                .iter()
                .any(|a| super::ID_TOKEN_ALGORITHMS.contains(&a.as_str()))
        {
            return Err(invalid(
                "the provider signs ID tokens with no algorithm we accept (RS256, ES256, EdDSA)",
            ));
        }
        Ok(Self {
            issuer,
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            userinfo_endpoint,
            end_session_endpoint,
            code_challenge_methods_supported: raw.code_challenge_methods_supported,
            token_endpoint_auth_methods_supported: raw.token_endpoint_auth_methods_supported,
            id_token_signing_alg_values_supported: raw.id_token_signing_alg_values_supported,
            authorization_response_iss_parameter_supported: raw
                .authorization_response_iss_parameter_supported,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    pub fn authorization_endpoint(&self) -> &str {
        &self.authorization_endpoint
    }
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }
    pub fn userinfo_endpoint(&self) -> Option<&str> {
        self.userinfo_endpoint.as_deref()
    }
    pub fn end_session_endpoint(&self) -> Option<&str> {
        self.end_session_endpoint.as_deref()
    }
    /// `None` when the provider did not say (then `S256` is used anyway).
    pub fn code_challenge_methods_supported(&self) -> Option<&[String]> {
        self.code_challenge_methods_supported.as_deref()
    }
    /// `None` when the provider did not say; the spec default is
    /// `client_secret_basic` only, but providers that omit the field accept
    /// `client_secret_post` in practice, so an absent list is not a refusal.
    pub fn token_endpoint_auth_methods_supported(&self) -> Option<&[String]> {
        self.token_endpoint_auth_methods_supported.as_deref()
    }
    pub fn id_token_signing_alg_values_supported(&self) -> Option<&[String]> {
        self.id_token_signing_alg_values_supported.as_deref()
    }
    /// RFC 9207: the provider adds `iss` to its authorization responses; a
    /// callback without it is then rejected.
    pub fn authorization_response_iss_parameter_supported(&self) -> bool {
        self.authorization_response_iss_parameter_supported
    }
}
