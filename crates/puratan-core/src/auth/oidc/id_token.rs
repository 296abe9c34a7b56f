//! ID token validation (OpenID Connect Core 1.0 §3.1.3.7, RFC 8725).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::PublicKeyUse;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::flow::ct_eq;
use super::{Discovery, ExternalIdentity, ProviderConfig};
use crate::auth::AuthError;
use crate::domain::Email;

/// The ID token signature algorithms we accept. Never `none`, never HS*.
pub const ID_TOKEN_ALGORITHMS: [&str; 3] = ["RS256", "ES256", "EdDSA"];
/// Clock skew tolerated on `exp`, `iat` and `nbf` (seconds).
pub const ID_TOKEN_LEEWAY_SECS: u64 = 60;

/// ID tokens longer than this are rejected unparsed.
const MAX_ID_TOKEN_LEN: usize = 16 * 1024;
/// JWKS documents larger than this are rejected unparsed.
const MAX_JWKS_LEN: usize = 256 * 1024;
/// At most this many keys of a JWKS are looked at.
const MAX_JWKS_KEYS: usize = 100;
/// Shortest RSA modulus accepted (RFC 7518 §3.3).
const MIN_RSA_BITS: usize = 2048;
/// OIDC Core §2: `sub` is at most 255 ASCII characters.
const MAX_SUB_LEN: usize = 255;
/// Longest display name taken from a provider (characters).
const MAX_NAME_CHARS: usize = 100;

/// Why an ID token was rejected: for logs and tests. Clients see only the
/// code `oidc_invalid_id_token` (a nonce mismatch has its own code,
/// `oidc_nonce_mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenRejection {
    #[error("malformed token")]
    Malformed,
    #[error("encrypted ID tokens are not supported")]
    Encrypted,
    #[error("signature algorithm not allowed")]
    Algorithm,
    #[error("signed with a key that is not in the provider's JWKS")]
    UnknownKey,
    #[error("signature is invalid")]
    Signature,
    #[error("the {0} claim is missing")]
    MissingClaim(&'static str),
    #[error("issuer does not match the configured issuer")]
    Issuer,
    #[error("audience does not match the client id")]
    Audience,
    #[error("authorized party (azp) is not the client id")]
    AuthorizedParty,
    #[error("token has expired")]
    Expired,
    #[error("token was issued in the future")]
    IssuedInFuture,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token is not an ID token (typ header)")]
    Type,
}

fn reject(r: IdTokenRejection) -> AuthError {
    AuthError::OidcInvalidIdToken(r)
}

/// The validated claims of an ID token that matter for a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub issuer: String,
    pub subject: String,
    /// The `email` claim when it is a usable address (lower-cased);
    /// `None` when absent or not an address.
    pub email: Option<Email>,
    /// `email_verified` is `true` (a boolean, or the string `"true"` as some
    /// providers send it). `false` whenever `email` is `None`.
    pub email_verified: bool,
    /// The `name` claim, normalised (NFC, no controls, ≤ 100 characters).
    pub name: Option<String>,
    pub issued_at: u64,
    pub expires_at: u64,
}

impl IdTokenClaims {
    /// The `(issuer, subject)` key of this account.
    pub fn identity(&self) -> ExternalIdentity {
        ExternalIdentity {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
        }
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    azp: Option<String>,
    exp: Option<serde_json::Value>,
    iat: Option<serde_json::Value>,
    nbf: Option<serde_json::Value>,
    nonce: Option<String>,
    email: Option<serde_json::Value>,
    email_verified: Option<serde_json::Value>,
    name: Option<serde_json::Value>,
}

/// A NumericDate (RFC 7519 §2): seconds, possibly fractional.
fn numeric_date(v: Option<&serde_json::Value>) -> Result<Option<u64>, AuthError> {
    match v {
        None => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                Ok(Some(u))
            } else {
                match n.as_f64() {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Some(f) if (0.0..1e15).contains(&f) => Ok(Some(f as u64)),
                    _ => Err(reject(IdTokenRejection::Malformed)),
                }
            }
        }
        Some(_) => Err(reject(IdTokenRejection::Malformed)),
    }
}

fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

fn rsa_bits(n_b64: &str) -> usize {
    let Ok(n) = URL_SAFE_NO_PAD.decode(n_b64.trim_end_matches('=')) else {
        return 0;
    };
    let n = match n.iter().position(|&b| b != 0) {
        Some(i) => &n[i..],
        None => return 0,
    };
    (n.len() - 1) * 8 + (8 - n[0].leading_zeros() as usize)
}

/// Whether `jwk` may verify an `alg` signature: its type and curve fit the
/// algorithm, and its own `alg`, `use` and `key_ops`, when given, allow it.
fn key_suits(jwk: &Jwk, alg: Algorithm) -> bool {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return false;
    }
    if jwk
        .common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return false;
    }
    let alg_ok = matches!(
        (jwk.common.key_algorithm, alg),
        (None, _)
            | (Some(KeyAlgorithm::RS256), Algorithm::RS256)
            | (Some(KeyAlgorithm::ES256), Algorithm::ES256)
            | (Some(KeyAlgorithm::EdDSA), Algorithm::EdDSA)
    );
    alg_ok
        && match (&jwk.algorithm, alg) {
            (AlgorithmParameters::RSA(p), Algorithm::RS256) => rsa_bits(&p.n) >= MIN_RSA_BITS,
            (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => {
                p.curve == EllipticCurve::P256
            }
            (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
                p.curve == EllipticCurve::Ed25519
            }
            _ => false,
        }
}

/// The keys of a JWKS document. Keys this crate cannot represent (other
/// types, encryption keys with unknown parameters…) are skipped rather than
/// failing the whole set.
fn parse_jwks(bytes: &[u8]) -> Result<Vec<Jwk>, AuthError> {
    let bad = |why: &str| AuthError::OidcDiscovery(format!("JWKS {why}"));
    if bytes.len() > MAX_JWKS_LEN {
        return Err(bad("is too large"));
    }
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| bad("is not JSON"))?;
    let keys = doc
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("has no keys array"))?;
    Ok(keys
        .iter()
        .take(MAX_JWKS_KEYS)
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect())
}

/// Validates an ID token from the token response and returns its claims.
///
/// `jwks` is the body of [`Discovery::jwks_uri`]; `expected_nonce` is
/// [`PendingLogin::nonce`](super::PendingLogin::nonce). Checks, in order:
///
/// 1. shape and size (a JWE is [`IdTokenRejection::Encrypted`]);
/// 2. header: `alg` in [`ID_TOKEN_ALGORITHMS`], no `crit`, `typ` (when
///    present) `JWT`;
/// 3. key: the JWKS key named by `kid` that suits `alg` (without `kid`,
///    the only suitable key); none → `UnknownKey` (refetch the JWKS once
///    and retry: the provider may have rotated), a `kid` whose keys all
///    misfit `alg` → `Algorithm`;
/// 4. signature;
/// 5. `iss` equals the configured issuer exactly (and the discovery's);
/// 6. `aud` contains our `client_id`; other audiences must be in
///    [`ProviderConfig::trusted_audiences`], and then `azp` is required;
///    `azp`, when present, must be our `client_id`;
/// 7. `exp` after `now`, `iat` and `nbf` (if present) not after `now`,
///    each with [`ID_TOKEN_LEEWAY_SECS`];
/// 8. `nonce` equals `expected_nonce` (constant time) →
///    [`AuthError::OidcNonceMismatch`] otherwise, also when missing;
/// 9. `sub` present, 1..=255 characters.
///
/// `at_hash` is not checked: the access token came over TLS from the token
/// endpoint together with the ID token and is not used for anything.
pub fn validate_id_token(
    id_token: &str,
    jwks: &[u8],
    provider: &ProviderConfig,
    discovery: &Discovery,
    expected_nonce: &str,
    now: u64,
) -> Result<IdTokenClaims, AuthError> {
    use IdTokenRejection as R;

    if id_token.len() > MAX_ID_TOKEN_LEN {
        return Err(reject(R::Malformed));
    }
    let parts: Vec<&str> = id_token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(reject(R::Encrypted)),
        _ => return Err(reject(R::Malformed)),
    }
    let header_json = URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| reject(R::Malformed))?;
    let header: RawHeader =
        serde_json::from_slice(&header_json).map_err(|_| reject(R::Malformed))?;
    let alg = algorithm(&header.alg).ok_or(reject(R::Algorithm))?;
    if header.crit.is_some() {
        return Err(reject(R::Malformed));
    }
    if let Some(typ) = &header.typ
        && !typ.eq_ignore_ascii_case("JWT")
        && !typ.eq_ignore_ascii_case("application/jwt")
    {
        return Err(reject(R::Type));
    }

    let keys = parse_jwks(jwks)?;
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys
                .iter()
                .filter(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
                .collect();
            if named.is_empty() {
                return Err(reject(R::UnknownKey));
            }
            let fit: Vec<&Jwk> = named.into_iter().filter(|k| key_suits(k, alg)).collect();
            if fit.is_empty() {
                return Err(reject(R::Algorithm));
            }
            fit
        }
        None => {
            // OIDC Core §10.1: `kid` may be omitted when the JWKS holds a
            // single key for the purpose.
            let fit: Vec<&Jwk> = keys.iter().filter(|k| key_suits(k, alg)).collect();
            if fit.len() != 1 {
                return Err(reject(R::UnknownKey));
            }
            fit
        }
    };

    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    // Every claim is checked below against the caller's `now`; the crate
    // would read the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut claims = None;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match jsonwebtoken::decode::<RawClaims>(id_token, &key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {}
                jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
                | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
                | jsonwebtoken::errors::ErrorKind::InvalidEddsaKey
                | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => {}
                _ => return Err(reject(R::Malformed)),
            },
        }
    }
    let c = claims.ok_or(reject(R::Signature))?;

    let iss = c.iss.ok_or(reject(R::MissingClaim("iss")))?;
    if iss != provider.issuer || iss != discovery.issuer() {
        return Err(reject(R::Issuer));
    }
    let auds: Vec<String> = match c.aud.ok_or(reject(R::MissingClaim("aud")))? {
        Audience::One(a) => vec![a],
        Audience::Many(v) => v,
    };
    if !auds.contains(&provider.client_id) {
        return Err(reject(R::Audience));
    }
    if auds.len() > 1 {
        let all_trusted = auds
            .iter()
            .all(|a| *a == provider.client_id || provider.trusted_audiences.contains(a));
        if !all_trusted {
            return Err(reject(R::Audience));
        }
        if c.azp.is_none() {
            return Err(reject(R::AuthorizedParty));
        }
    }
    if c.azp.as_ref().is_some_and(|azp| *azp != provider.client_id) {
        return Err(reject(R::AuthorizedParty));
    }
    let exp = numeric_date(c.exp.as_ref())?.ok_or(reject(R::MissingClaim("exp")))?;
    if now >= exp.saturating_add(ID_TOKEN_LEEWAY_SECS) {
        return Err(reject(R::Expired));
    }
    let iat = numeric_date(c.iat.as_ref())?.ok_or(reject(R::MissingClaim("iat")))?;
    if iat > now.saturating_add(ID_TOKEN_LEEWAY_SECS) {
        return Err(reject(R::IssuedInFuture));
    }
    if let Some(nbf) = numeric_date(c.nbf.as_ref())?
        && nbf > now.saturating_add(ID_TOKEN_LEEWAY_SECS)
    {
        return Err(reject(R::NotYetValid));
    }
    if !c.nonce.is_some_and(|n| ct_eq(&n, expected_nonce)) || expected_nonce.is_empty() {
        return Err(AuthError::OidcNonceMismatch);
    }
    let sub = c.sub.ok_or(reject(R::MissingClaim("sub")))?;
    if sub.is_empty() || sub.len() > MAX_SUB_LEN {
        return Err(reject(R::Malformed));
    }

    let email = c
        .email
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|e| Email::parse(e).ok());
    let email_verified = email.is_some()
        && match &c.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
    let name = c
        .name
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|n| crate::domain::text::clean("name", n, MAX_NAME_CHARS, false).ok());
    Ok(IdTokenClaims {
        issuer: iss,
        subject: sub,
        email,
        email_verified,
        name,
        issued_at: iat,
        expires_at: exp,
    })
}
