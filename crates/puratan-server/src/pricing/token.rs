//! Signed quote tokens.
//!
//! `pq1.<key id>.<payload>.<signature>`: the payload is the base64url of
//! the quote's canonical JSON (the engine's fixed field order, plus id,
//! creation time and the request it answers); the signature is
//! HMAC-SHA256 over `pq1.<key id>.<payload>`. The key id lets keys rotate:
//! new tokens use the active key, older ones verify with any key still
//! listed, until that key is retired from configuration.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "pq1";
/// Hostile tokens are rejected before any decoding work.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

#[derive(Clone)]
pub struct SigningKey {
    pub id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("secret", &"***")
            .finish()
    }
}

impl SigningKey {
    /// At least 32 bytes of secret; the id is a short ASCII name.
    pub fn new(id: impl Into<String>, secret: Vec<u8>) -> Result<Self, String> {
        let id = id.into();
        if id.is_empty()
            || id.len() > 32
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("key id must be 1-32 characters from A-Z, a-z, 0-9, '-' and '_'".into());
        }
        if secret.len() < 32 {
            return Err("a signing secret needs at least 32 bytes".into());
        }
        Ok(Self { id, secret })
    }

    fn mac(&self, signed: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail.
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable_mac());
        mac.update(signed);
        mac
    }
}

#[cold]
fn unreachable_mac() -> HmacSha256 {
    // Only reachable if HMAC rejected a key, which it never does.
    <HmacSha256 as Mac>::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| std::process::abort())
}

/// The active key signs; every listed key verifies.
#[derive(Debug, Clone)]
pub struct QuoteSigner {
    active: SigningKey,
    verifying: Vec<SigningKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification<T> {
    Valid(T),
    /// Authentic but past `valid_until`.
    Expired(T),
    /// Not a token we issued, or altered since.
    Tampered,
}

impl QuoteSigner {
    pub fn new(active: SigningKey, mut others: Vec<SigningKey>) -> Self {
        others.retain(|k| k.id != active.id);
        let mut verifying = vec![active.clone()];
        verifying.extend(others);
        Self { active, verifying }
    }

    pub fn active_key_id(&self) -> &str {
        &self.active.id
    }

    pub fn sign<T: Serialize>(&self, payload: &T) -> String {
        self.sign_json(&serde_json::to_string(payload).unwrap_or_default())
    }

    /// Signs an already serialised JSON payload.
    pub fn sign_json(&self, json: &str) -> String {
        let head = format!(
            "{PREFIX}.{}.{}",
            self.active.id,
            URL_SAFE_NO_PAD.encode(json)
        );
        let tag = self.active.mac(head.as_bytes()).finalize().into_bytes();
        format!("{head}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks the signature (constant time), then decodes the payload;
    /// `expired` decides validity from the decoded payload.
    pub fn verify<T: for<'de> Deserialize<'de>>(
        &self,
        token: &str,
        expired: impl Fn(&T) -> bool,
    ) -> Verification<T> {
        if token.len() > MAX_TOKEN_LEN {
            return Verification::Tampered;
        }
        let Some((head, sig)) = token.rsplit_once('.') else {
            return Verification::Tampered;
        };
        let mut parts = head.splitn(3, '.');
        let (Some(PREFIX), Some(kid), Some(payload)) = (parts.next(), parts.next(), parts.next())
        else {
            return Verification::Tampered;
        };
        let Some(key) = self.verifying.iter().find(|k| k.id == kid) else {
            return Verification::Tampered;
        };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return Verification::Tampered;
        };
        if key.mac(head.as_bytes()).verify_slice(&sig).is_err() {
            return Verification::Tampered;
        }
        let Ok(json) = URL_SAFE_NO_PAD.decode(payload) else {
            return Verification::Tampered;
        };
        match serde_json::from_slice::<T>(&json) {
            Ok(v) if expired(&v) => Verification::Expired(v),
            Ok(v) => Verification::Valid(v),
            Err(_) => Verification::Tampered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct P {
        total: String,
        day: u32,
    }

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(id, vec![byte; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn round_trip_expiry_and_tampering() {
        let s = QuoteSigner::new(key("k1", 1), vec![]);
        let p = P {
            total: "52.51".into(),
            day: 3,
        };
        let t = s.sign(&p);
        assert!(t.starts_with("pq1.k1."));
        assert_eq!(
            s.verify::<P>(&t, |_| false),
            Verification::Valid(P {
                total: "52.51".into(),
                day: 3
            })
        );
        assert!(matches!(
            s.verify::<P>(&t, |p| p.day < 10),
            Verification::Expired(_)
        ));

        // Change the total inside the payload, keep the signature.
        let parts: Vec<&str> = t.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"total":"0.01","day":3}"#);
        let forged = format!("{}.{}.{}.{}", parts[0], parts[1], forged, parts[3]);
        assert_eq!(s.verify::<P>(&forged, |_| false), Verification::Tampered);
        for junk in [
            "",
            "pq1",
            "pq1.k1.x.y",
            "pq1.nope.e30.AAAA",
            &"a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert_eq!(
                s.verify::<P>(junk, |_| false),
                Verification::Tampered,
                "{junk:.20}"
            );
        }
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_until_the_key_is_retired() {
        let old = QuoteSigner::new(key("k1", 1), vec![]);
        let t = old.sign(&P {
            total: "1.00".into(),
            day: 1,
        });
        let rotated = QuoteSigner::new(key("k2", 2), vec![key("k1", 1)]);
        assert!(matches!(
            rotated.verify::<P>(&t, |_| false),
            Verification::Valid(_)
        ));
        assert!(
            rotated
                .sign(&P {
                    total: "1.00".into(),
                    day: 1
                })
                .starts_with("pq1.k2.")
        );
        let retired = QuoteSigner::new(key("k2", 2), vec![]);
        assert_eq!(retired.verify::<P>(&t, |_| false), Verification::Tampered);
        // Same id, different secret: forged.
        let impostor = QuoteSigner::new(key("k1", 9), vec![]);
        assert_eq!(impostor.verify::<P>(&t, |_| false), Verification::Tampered);
    }

    #[test]
    fn weak_keys_are_refused() {
        assert!(SigningKey::new("k", vec![0; 31]).is_err());
        assert!(SigningKey::new("bad id", vec![0; 32]).is_err());
    }
}
