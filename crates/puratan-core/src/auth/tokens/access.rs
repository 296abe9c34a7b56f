//! Access-token JWTs (RFC 7519) validated per RFC 8725.
//!
//! Every key has exactly one algorithm; a token's `alg` header must equal
//! the algorithm of the key its `kid` names, so `alg: none`, algorithm
//! confusion (an HS256 token "signed" with an Ed25519 public key) and
//! unknown keys are rejected before any signature check. `jku`, `x5u`,
//! `jwk` and `x5c` headers are never looked at: keys come only from the
//! [`KeySet`]. A `crit` header is rejected (no extensions are understood).
//!
//! Claims: `iss`, `aud`, `sub`, `exp`, `iat`, `nbf`, `jti`, `typ = "access"`
//! and `roles`; all are required on validation. Time comes from the caller
//! (`now`, Unix seconds) with a small leeway for clock skew.
//!
//! Logout: put the token's `jti` on the denylist
//! ([`AccessTokens::revoke`]) for its remaining lifetime; middleware uses
//! [`AccessTokens::validate_not_denied`].

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::AuthError;
use crate::domain::Role;
use crate::ports::SessionStore;

/// The `typ` claim of access tokens.
pub const TOKEN_TYPE_ACCESS: &str = "access";
/// The JOSE `typ` header of access tokens (RFC 9068).
const HEADER_TYP: &str = "at+jwt";
/// Tokens longer than this are rejected unparsed.
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Shortest HS256 secret (RFC 7518 §3.2: at least the hash size).
pub const MIN_HMAC_SECRET_LEN: usize = 32;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410), followed by the
/// 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// One signing/verification key with its pinned algorithm and key id.
#[derive(Clone)]
pub struct JwtKey {
    kid: String,
    alg: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    public: Option<[u8; 32]>,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("can_sign", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

fn check_kid(kid: &str) -> Result<(), AuthError> {
    if kid.is_empty()
        || kid.len() > 64
        || !kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(AuthError::KeyConfig(
            "kid must be 1..=64 characters of [A-Za-z0-9._-]".into(),
        ));
    }
    Ok(())
}

impl JwtKey {
    /// An Ed25519 (EdDSA) signing key from its 32-byte seed.
    pub fn ed25519_from_seed(kid: &str, seed: &[u8; 32]) -> Result<Self, AuthError> {
        check_kid(kid)?;
        let signing = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = signing.verifying_key().to_bytes();
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&ED25519_PKCS8_PREFIX);
        der.extend_from_slice(seed);
        Ok(Self {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: Some(EncodingKey::from_ed_der(&der)),
            decoding: DecodingKey::from_ed_der(&public),
            public: Some(public),
        })
    }

    /// A fresh random Ed25519 signing key. Keep [`Self::expose_seed`]
    /// somewhere safe if tokens must survive a restart.
    pub fn ed25519_generate(kid: &str) -> Result<(Self, [u8; 32]), AuthError> {
        let mut seed = [0u8; 32];
        crate::auth::random_bytes(&mut seed)?;
        Ok((Self::ed25519_from_seed(kid, &seed)?, seed))
    }

    /// A verify-only Ed25519 key (e.g. an old key kept for rotation, or a
    /// key published by another replica).
    pub fn ed25519_public(kid: &str, public: &[u8; 32]) -> Result<Self, AuthError> {
        check_kid(kid)?;
        ed25519_dalek::VerifyingKey::from_bytes(public)
            .map_err(|_| AuthError::KeyConfig("not a valid Ed25519 public key".into()))?;
        Ok(Self {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: None,
            decoding: DecodingKey::from_ed_der(public),
            public: Some(*public),
        })
    }

    /// An HS256 key. The secret must have at least 32 bytes (256 bits).
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, AuthError> {
        check_kid(kid)?;
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(AuthError::KeyConfig(format!(
                "HS256 secret must have at least {MIN_HMAC_SECRET_LEN} bytes"
            )));
        }
        Ok(Self {
            kid: kid.to_owned(),
            alg: Algorithm::HS256,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public: None,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `"EdDSA"` or `"HS256"`.
    pub fn algorithm(&self) -> &'static str {
        alg_name(self.alg)
    }

    /// The Ed25519 public key (for a JWKS document); `None` for HS256.
    pub fn public_key(&self) -> Option<[u8; 32]> {
        self.public
    }

    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::HS256 => "HS256",
        // Only the two above are ever constructed.
        _ => "unsupported",
    }
}

/// The keys tokens are signed and verified with: one current signing key
/// plus older (or other replicas') keys that are still accepted.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<JwtKey>,
    signing: usize,
}

impl KeySet {
    /// A key set whose signing key is `signing`.
    pub fn new(signing: JwtKey) -> Result<Self, AuthError> {
        if !signing.can_sign() {
            return Err(AuthError::KeyConfig(
                "the signing key has no private part".into(),
            ));
        }
        Ok(Self {
            keys: vec![signing],
            signing: 0,
        })
    }

    /// Also accept tokens signed with `key` (rotation). Key ids are unique.
    pub fn with_key(mut self, key: JwtKey) -> Result<Self, AuthError> {
        if self.keys.iter().any(|k| k.kid == key.kid) {
            return Err(AuthError::KeyConfig(format!("duplicate kid {:?}", key.kid)));
        }
        self.keys.push(key);
        Ok(self)
    }

    pub fn signing_key(&self) -> &JwtKey {
        &self.keys[self.signing]
    }

    pub fn get(&self, kid: &str) -> Option<&JwtKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    pub fn keys(&self) -> &[JwtKey] {
        &self.keys
    }

    /// The public JWK Set (RFC 7517) of the asymmetric keys, for
    /// `/.well-known/jwks.json`. HS256 keys are secret and never listed.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .filter_map(|k| {
                k.public.map(|public| {
                    serde_json::json!({
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "alg": "EdDSA",
                        "use": "sig",
                        "kid": k.kid,
                        "x": URL_SAFE_NO_PAD.encode(public),
                    })
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// Issuer, audience and lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenConfig {
    pub issuer: String,
    pub audience: String,
    /// Lifetime in seconds (900 = 15 minutes by default).
    pub ttl_secs: u64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
}

impl AccessTokenConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_secs: 15 * 60,
            leeway_secs: 30,
        }
    }
}

/// The validated claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub nbf: u64,
    pub jti: String,
    pub typ: String,
    pub roles: Vec<Role>,
    /// The login session (refresh-token family) this token belongs to, so
    /// revoking a session also stops its access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// A signed access token. `Debug` is redacted (it is a bearer secret).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

impl AccessToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// What a token's payload is parsed into before checking: every claim
/// optional so a missing one is reported by name, and typed so a string
/// `exp` or a float is malformed rather than "absent".
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    aud: Option<Audience>,
    sub: Option<String>,
    exp: Option<u64>,
    iat: Option<u64>,
    nbf: Option<u64>,
    jti: Option<String>,
    typ: Option<String>,
    roles: Option<Vec<Role>>,
    sid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

/// Denylist entry of a whole session (distinct from any `jti`, which is
/// base64url without `:`).
fn session_deny_key(sid: &str) -> String {
    format!("sid:{sid}")
}

/// Issues and validates access tokens.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    keys: KeySet,
    config: AccessTokenConfig,
}

impl AccessTokens {
    pub fn new(keys: KeySet, config: AccessTokenConfig) -> Result<Self, AuthError> {
        if config.issuer.is_empty() || config.audience.is_empty() {
            return Err(AuthError::KeyConfig(
                "issuer and audience are required".into(),
            ));
        }
        if config.ttl_secs == 0 || config.leeway_secs > 300 {
            return Err(AuthError::KeyConfig(
                "ttl must be positive and leeway at most 300 s".into(),
            ));
        }
        Ok(Self { keys, config })
    }

    pub fn config(&self) -> &AccessTokenConfig {
        &self.config
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Issues a token for `sub` with `roles`, valid from `now` for the
    /// configured lifetime, signed with the current signing key.
    pub fn issue(
        &self,
        sub: &str,
        roles: &[Role],
        now: u64,
    ) -> Result<(AccessToken, AccessClaims), AuthError> {
        self.issue_in_session(sub, roles, None, now)
    }

    /// [`Self::issue`] for a token tied to login session `sid` (see
    /// [`AccessClaims::sid`]).
    pub fn issue_in_session(
        &self,
        sub: &str,
        roles: &[Role],
        sid: Option<&str>,
        now: u64,
    ) -> Result<(AccessToken, AccessClaims), AuthError> {
        let mut jti = [0u8; 16];
        crate::auth::random_bytes(&mut jti)?;
        let claims = AccessClaims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: sub.to_owned(),
            exp: now.saturating_add(self.config.ttl_secs),
            iat: now,
            nbf: now,
            jti: URL_SAFE_NO_PAD.encode(jti),
            typ: TOKEN_TYPE_ACCESS.to_owned(),
            roles: roles.to_vec(),
            sid: sid.map(str::to_owned),
        };
        let token = self.sign(&claims)?;
        Ok((token, claims))
    }

    fn sign<T: Serialize>(&self, claims: &T) -> Result<AccessToken, AuthError> {
        let key = self.keys.signing_key();
        let encoding = key.encoding.as_ref().ok_or(AuthError::Crypto)?;
        let mut header = Header::new(key.alg);
        header.kid = Some(key.kid.clone());
        header.typ = Some(HEADER_TYP.to_owned());
        jsonwebtoken::encode(&header, claims, encoding)
            .map(AccessToken)
            .map_err(|_| AuthError::Crypto)
    }

    /// Validates `token` at `now`. Checks, in order: shape and size, header
    /// (`alg` allowed for the key named by `kid`, no `crit`), signature,
    /// then every claim. Never panics on hostile input.
    pub fn validate(&self, token: &str, now: u64) -> Result<AccessClaims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenMalformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::TokenMalformed);
        };
        let header_json = URL_SAFE_NO_PAD
            .decode(h)
            .map_err(|_| AuthError::TokenMalformed)?;
        let header: RawHeader =
            serde_json::from_slice(&header_json).map_err(|_| AuthError::TokenMalformed)?;

        // The algorithm must be one we use at all (rejects "none", RS*, …)…
        if !self.keys.keys.iter().any(|k| alg_name(k.alg) == header.alg) {
            return Err(AuthError::TokenAlgorithm);
        }
        // …the key must be known…
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(AuthError::TokenUnknownKey)?;
        // …and the algorithm must be that key's one.
        if alg_name(key.alg) != header.alg {
            return Err(AuthError::TokenAlgorithm);
        }
        if header.crit.is_some() {
            return Err(AuthError::TokenMalformed);
        }
        // Explicit typing (RFC 8725 §3.11, RFC 9068): if a `typ` header is
        // present it must say access token; the `typ` claim is checked too.
        if let Some(typ) = &header.typ {
            let typ = typ.to_ascii_lowercase();
            if typ != HEADER_TYP && typ != "application/at+jwt" {
                return Err(AuthError::TokenType);
            }
        }

        let mut validation = Validation::new(key.alg);
        validation.algorithms = vec![key.alg];
        // Claims are checked below against the caller's `now`; the crate
        // would read the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data =
            jsonwebtoken::decode::<RawClaims>(token, &key.decoding, &validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => AuthError::TokenSignature,
                    jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
                    | jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName
                    | jsonwebtoken::errors::ErrorKind::UnsupportedAlgorithm => {
                        AuthError::TokenAlgorithm
                    }
                    _ => AuthError::TokenMalformed,
                }
            })?;
        self.check_claims(data.claims, now)
    }

    fn check_claims(&self, c: RawClaims, now: u64) -> Result<AccessClaims, AuthError> {
        let leeway = self.config.leeway_secs;
        let typ = c.typ.ok_or(AuthError::TokenMissingClaim("typ"))?;
        if typ != TOKEN_TYPE_ACCESS {
            return Err(AuthError::TokenType);
        }
        let exp = c.exp.ok_or(AuthError::TokenMissingClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(AuthError::TokenExpired);
        }
        let nbf = c.nbf.ok_or(AuthError::TokenMissingClaim("nbf"))?;
        if nbf > now.saturating_add(leeway) {
            return Err(AuthError::TokenNotYetValid);
        }
        let iat = c.iat.ok_or(AuthError::TokenMissingClaim("iat"))?;
        if iat > now.saturating_add(leeway) {
            return Err(AuthError::TokenNotYetValid);
        }
        let iss = c.iss.ok_or(AuthError::TokenMissingClaim("iss"))?;
        if iss != self.config.issuer {
            return Err(AuthError::TokenIssuer);
        }
        let aud_ok = match c.aud.as_ref().ok_or(AuthError::TokenMissingClaim("aud"))? {
            Audience::One(a) => *a == self.config.audience,
            Audience::Many(v) => v.contains(&self.config.audience),
        };
        if !aud_ok {
            return Err(AuthError::TokenAudience);
        }
        let sub = c.sub.ok_or(AuthError::TokenMissingClaim("sub"))?;
        let jti = c.jti.ok_or(AuthError::TokenMissingClaim("jti"))?;
        if sub.is_empty() || jti.is_empty() {
            return Err(AuthError::TokenMalformed);
        }
        let roles = c.roles.ok_or(AuthError::TokenMissingClaim("roles"))?;
        Ok(AccessClaims {
            iss,
            aud: self.config.audience.clone(),
            sub,
            exp,
            iat,
            nbf,
            jti,
            typ,
            roles,
            sid: c.sid,
        })
    }

    /// [`Self::validate`], then the denylist (`TokenRevoked` if the `jti`
    /// was revoked by a logout, or its session by a session revocation).
    /// A store failure is an error: fail closed.
    pub async fn validate_not_denied(
        &self,
        token: &str,
        now: u64,
        denylist: &dyn SessionStore,
    ) -> Result<AccessClaims, AuthError> {
        let claims = self.validate(token, now)?;
        self.check_denylist(&claims, denylist).await?;
        Ok(claims)
    }

    /// `TokenRevoked` if the token's `jti` or its session is on the
    /// denylist (one round trip); a store failure is an error (fail
    /// closed). For callers that validated the signature earlier (a cache
    /// of verified tokens) and must still consult the denylist each time.
    pub async fn check_denylist(
        &self,
        claims: &AccessClaims,
        denylist: &dyn SessionStore,
    ) -> Result<(), AuthError> {
        let denied = match &claims.sid {
            Some(sid) => {
                denylist
                    .any_denied(&[&claims.jti, &session_deny_key(sid)])
                    .await?
            }
            None => denylist.is_denied(&claims.jti).await?,
        };
        if denied {
            return Err(AuthError::TokenRevoked);
        }
        Ok(())
    }

    /// Whether already-validated `claims` are still within their lifetime
    /// at `now` (with the configured leeway).
    pub fn still_valid(&self, claims: &AccessClaims, now: u64) -> bool {
        let leeway = self.config.leeway_secs;
        now < claims.exp.saturating_add(leeway) && claims.nbf <= now.saturating_add(leeway)
    }

    /// Puts the token's `jti` on the denylist for its remaining lifetime
    /// (plus leeway). Nothing to do for an already expired token.
    pub async fn revoke(
        &self,
        claims: &AccessClaims,
        now: u64,
        denylist: &dyn SessionStore,
    ) -> Result<(), AuthError> {
        let ttl = self.remaining_lifetime(claims, now);
        if !ttl.is_zero() {
            denylist.deny(&claims.jti, ttl).await?;
        }
        Ok(())
    }

    /// Stops every access token of session `sid` (its refresh family was
    /// revoked) for one access-token lifetime — after that none of them is
    /// valid anyway.
    pub async fn revoke_session(
        &self,
        sid: &str,
        denylist: &dyn SessionStore,
    ) -> Result<(), AuthError> {
        let ttl = Duration::from_secs(self.config.ttl_secs + self.config.leeway_secs);
        denylist.deny(&session_deny_key(sid), ttl).await?;
        Ok(())
    }

    /// How long the token would still be accepted (including leeway).
    pub fn remaining_lifetime(&self, claims: &AccessClaims, now: u64) -> Duration {
        Duration::from_secs(
            claims
                .exp
                .saturating_add(self.config.leeway_secs)
                .saturating_sub(now),
        )
    }
}

#[cfg(test)]
mod tests;
